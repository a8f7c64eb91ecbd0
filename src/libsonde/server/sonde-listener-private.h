/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <libsoup/soup.h>

#include "sonde-admission-private.h"

G_BEGIN_DECLS

/*
 * Sonde accepts its own connections and hands them to libsoup
 * (soup_server_accept_iostream()): libsoup 3.2's listener stops accepting
 * for good at the first EMFILE, and admits any number of connections.
 * Here every connection is admitted against a global and a per-peer cap
 * below the descriptor budget, read through a byte budget
 * (sonde-budget-stream-private.h), handed over after its TLS handshake,
 * and closed if it does not finish a request in time; an accept that
 * fails for want of descriptors pauses accepting briefly, then retries.
 */

typedef struct _SondeListener SondeListener;

/* Accepts connections on @socket (listening) for @soup_server; with
 * @certificate, over TLS. */
SondeListener  *_sonde_listener_new                (GSocket         *socket,
                                                    SoupServer      *soup_server,
                                                    GTlsCertificate *certificate,
                                                    SondeAdmission  *admission);
void            _sonde_listener_free               (SondeListener   *self);
SoupServer     *_sonde_listener_get_soup_server    (SondeListener   *self);
/* The address listened on. */
GInetSocketAddress *_sonde_listener_get_address    (SondeListener   *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SondeListener, _sonde_listener_free)

G_END_DECLS
