/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <libsoup/soup.h>

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

/* The connections of one server, across its listeners. */
typedef struct _SondeAdmission SondeAdmission;

SondeAdmission *_sonde_admission_new               (void);
SondeAdmission *_sonde_admission_ref               (SondeAdmission *self);
void            _sonde_admission_unref             (SondeAdmission *self);
void            _sonde_admission_set_limits        (SondeAdmission *self,
                                                    guint           max_connections,
                                                    guint           max_per_peer);
guint           _sonde_admission_get_max_connections (SondeAdmission *self);
guint           _sonde_admission_get_n_connections (SondeAdmission *self);
guint64         _sonde_admission_get_n_refused     (SondeAdmission *self);
/* The request of the connection from @remote was read: no request
 * deadline any more; a WebSocket (@upgraded) has none at all. */
void            _sonde_admission_request_read      (SondeAdmission *self,
                                                    GSocketAddress *remote,
                                                    gboolean        upgraded);

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
