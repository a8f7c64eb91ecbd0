/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <libsoup/soup.h>

#include "sonde-server.h"

G_BEGIN_DECLS

/* The web dashboard: GET / serves the page, GET /ui/NAME its assets, all
 * compiled into the library as a GResource (data/ui/). Every other path
 * below "/" without a route of its own answers 404 `not_found`. */
void     _sonde_ui_register  (SondeServer       *self,
                              SoupServer        *soup_server);

/* Whether @msg is a GET or HEAD of the page or of one of its assets: they
 * hold no data (the page reads it over /ws/v1), so the access checks let
 * them through without a token, for the page to be able to ask for it. */
gboolean _sonde_ui_is_public (SoupServerMessage *msg,
                              const char        *path);

G_END_DECLS
