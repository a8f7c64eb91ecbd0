/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gio/gio.h>

#include "sonde-budget-stream-private.h"

G_BEGIN_DECLS

/*
 * What connections a server holds: a global cap below the descriptor
 * budget and one per remote peer (loopback peers share the global one),
 * and a deadline for each connection's request (and TLS handshake), after
 * which it is closed.
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

/* A connection counted against the caps, until its stream closes. */
typedef struct _SondeAdmitted SondeAdmitted;

/* Counts the connection from @remote, or refuses it (NULL; logged at
 * most every 10 s). */
SondeAdmitted  *_sonde_admission_admit             (SondeAdmission    *self,
                                                    GSocketAddress    *remote);
/* @stream carries the connection and owns @admitted from now on: the
 * connection leaves the counts when the stream closes, and the stream is
 * closed if no request was read in time. */
void            _sonde_admitted_attach             (SondeAdmitted     *admitted,
                                                    SondeBudgetStream *stream);
/* For a TLS handshake, which the deadline cancels. */
GCancellable   *_sonde_admitted_new_handshake      (SondeAdmitted     *admitted);

G_END_DECLS
