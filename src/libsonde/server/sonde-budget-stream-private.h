/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gio/gio.h>

#include "sonde-fd-watch-private.h"
#include "sonde-frame-output-stream-private.h"

G_BEGIN_DECLS

/*
 * Every accepted connection is read through a byte budget: a token bucket
 * (a burst, then a sustained rate), and no reading at all while the peer
 * does not read what it is sent. libsoup 3.2 reads whatever a client
 * sends: pings each queue a pong without bound, continuation frames
 * accumulate without a total limit, and a flood keeps the main loop busy;
 * a monitoring client sends little, so one budget bounds them all before
 * libsoup sees a byte. It also counts what was read, for the WebSocket
 * layer's "bytes without a complete message" limit, and lingers on close
 * (write side shut, input drained briefly) so that a peer still sending
 * gets the last frame and a FIN rather than a reset.
 */
#define SONDE_TYPE_BUDGET_STREAM (sonde_budget_stream_get_type ())
G_DECLARE_FINAL_TYPE (SondeBudgetStream, sonde_budget_stream, SONDE, BUDGET_STREAM, GIOStream)

/* Called once, from the main context, when the stream closes. */
typedef void (*SondeBudgetClosedFunc) (gpointer data);

/* @watch (nullable): wakes the sources of connections in the main
 * context, rather than a poll record each. */
SondeBudgetStream *_sonde_budget_stream_new              (GIOStream             *base,
                                                          SondeFdWatch          *watch,
                                                          gsize                  burst_bytes,
                                                          gsize                  bytes_per_second);
GIOStream         *_sonde_budget_stream_get_base         (SondeBudgetStream     *self);
guint64            _sonde_budget_stream_get_bytes_read   (SondeBudgetStream     *self);
void               _sonde_budget_stream_set_closed_func  (SondeBudgetStream     *self,
                                                          SondeBudgetClosedFunc  func,
                                                          gpointer               data,
                                                          GDestroyNotify         destroy);

void               _sonde_budget_stream_set_message_limit (SondeBudgetStream *self,
                                                           guint64            limit,
                                                           GSourceFunc        func,
                                                           gpointer           data);
void               _sonde_budget_stream_mark             (SondeBudgetStream     *self);
guint64            _sonde_budget_stream_get_unmarked     (SondeBudgetStream     *self);

/* The budget stream under @stream (a TLS connection or libsoup's wrapper
 * of it), or NULL. */
SondeBudgetStream *_sonde_budget_stream_find             (GIOStream             *stream);
/* Its output for frames sent straight to the socket, or NULL (TLS). */
SondeFrameOutputStream *_sonde_budget_stream_find_frame_output (GIOStream        *stream);
/* The socket under @stream, or NULL. */
GSocket           *_sonde_stream_find_socket             (GIOStream             *stream);

G_END_DECLS
