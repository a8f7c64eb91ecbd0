/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

#include "sonde-fd-watch-private.h"

G_BEGIN_DECLS

/*
 * Where the connections of servers on the global default context run:
 * spread over a few contexts nested in it (sonde-nested-context-private.h).
 *
 * GLib walks every source of a context at each of its iterations, and a
 * connection keeps a source or two. In one nested context, each of a
 * handshake's iterations walked the sources of every connection already
 * there: connecting 10,000 clients one after another was quadratic. Over
 * N contexts an iteration walks a connection's share only.
 *
 * The contexts are made with the first listener, one per 256 descriptors
 * of RLIMIT_NOFILE up to a maximum, and kept for the life of the process,
 * as the global default context is; connections take them round robin.
 * Each has one epoll set (sonde-fd-watch-private.h) for the sockets of its
 * plain connections.
 */

/* With N contexts, an iteration walks about connections / N sources in
 * its context, and N in the main one; each context costs two fds (its
 * wake-up and its epoll set), taken from the 256 the connection cap leaves
 * to the process (sonde-admission.c). Connecting 10,000 clients cost the
 * daemon half the CPU of one context with 64, and no less with 128 to 512
 * (tests/bench/README.md, "Connections over 64 contexts; alerts only when
 * heard"). */
#define SONDE_CONNECTION_CONTEXTS_MAX 64

/* The context for the next connection, and its epoll set, both owned by
 * the pool. From any thread. */
GMainContext *_sonde_connection_contexts_next      (SondeFdWatch **fd_watch);
/* How many there are (0 before the first call of the above). */
guint         _sonde_connection_contexts_get_count (void);

G_END_DECLS
