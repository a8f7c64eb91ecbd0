/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/*
 * The output side of a plain (not TLS) accepted connection. libsoup's
 * writes pass through it unchanged; beside them, the same WebSocket frame
 * made once for every client of a group is sent with one non-blocking
 * send() per client, where libsoup would copy it into a frame of its own,
 * queue it and write it through three layers of streams after a poll().
 *
 * libsoup writes one frame at a time and, while any frame is left in its
 * queue, keeps an output source made by this stream: with no such source
 * alive, libsoup is between frames and a frame of ours cannot cut one of
 * its own. When the kernel takes only part of our frame, the rest goes
 * before any byte of libsoup's.
 */
#define SONDE_TYPE_FRAME_OUTPUT_STREAM (sonde_frame_output_stream_get_type ())
G_DECLARE_FINAL_TYPE (SondeFrameOutputStream, sonde_frame_output_stream, SONDE, FRAME_OUTPUT_STREAM, GOutputStream)

SondeFrameOutputStream *_sonde_frame_output_stream_new     (GOutputStream          *base,
                                                            GSocket                *socket);
gboolean                _sonde_frame_output_stream_send    (SondeFrameOutputStream *self,
                                                            GBytes                 *frame);
void                    _sonde_frame_output_stream_discard (SondeFrameOutputStream *self);

/* A server's unmasked text frame of @payload, header and all. */
GBytes                 *_sonde_websocket_text_frame_new    (GBytes                 *payload);

G_END_DECLS
