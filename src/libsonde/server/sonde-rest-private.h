/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

#include "sonde-server.h"

G_BEGIN_DECLS

/* The plain HTTP routes of the main listener, and the JSON answers every
 * route gives. */
void _sonde_rest_register      (SondeServer       *self,
                                SoupServer        *soup_server);
void _sonde_rest_respond_json  (SoupServerMessage *msg,
                                guint              status,
                                JsonObject        *object);
void _sonde_rest_respond_error (SoupServerMessage *msg,
                                guint              status,
                                const char        *code,
                                const char        *message);

/* For handlers that pause a message: whether its connection went away
 * meanwhile (then it must not be unpaused). Watch before pausing. */
void     _sonde_rest_watch_disconnection (SoupServerMessage *msg);
gboolean _sonde_rest_is_disconnected     (SoupServerMessage *msg);

G_END_DECLS
