/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <libsoup/soup.h>

#include "sonde-server.h"
#include "sonde-timer-queue-private.h"

G_BEGIN_DECLS

/*
 * What every WebSocket client of every dialect shares: sending with
 * backpressure, a flood limit on incoming messages, heartbeats after
 * silence, and the gateway statistics. The dialect owns the connection
 * and gets its messages and its close through callbacks.
 */
typedef struct _SondeConnection SondeConnection;

typedef struct
{
  /* A message that passed the flood limit (text or binary, any size up
   * to the transport limit): the dialect parses it. */
  void    (*message)        (gpointer               owner,
                             SoupWebsocketDataType  type,
                             GBytes                *message);
  /* The client sent more than the flood limit allows; called at most
   * once a second, the messages themselves are dropped. */
  void    (*rate_limited)   (gpointer               owner);
  /* The frame to send after a heartbeat interval of silence, or NULL for
   * none. */
  GBytes *(*heartbeat)      (gpointer               owner);
  void    (*closed)         (gpointer               owner);
} SondeConnectionCallbacks;

/* The SondeTimerFunc of a server's heartbeats, a SondeTimerQueue of its
 * clients touched by each frame sent: sends the format's heartbeat frame. */
void _sonde_connection_heartbeat (SondeTimerEntry *entry);

/* The next frame of a bulk reply, or NULL when it is complete. */
typedef GBytes *(*SondeBulkProducer) (gpointer data);

SondeConnection *_sonde_connection_new          (SondeServer                    *server,
                                                 SoupWebsocketConnection        *websocket,
                                                 const char                     *route,
                                                 const SondeConnectionCallbacks *callbacks,
                                                 gpointer                        owner);
void             _sonde_connection_free         (SondeConnection                *self);
SondeServer     *_sonde_connection_get_server   (SondeConnection                *self);
gboolean         _sonde_connection_is_open      (SondeConnection                *self);
gboolean         _sonde_connection_send_stream  (SondeConnection                *self,
                                                 GBytes                         *frame);
void             _sonde_connection_send_control (SondeConnection                *self,
                                                 GBytes                         *frame);
void             _sonde_connection_limit_send_buffer (SoupWebsocketConnection *websocket);
void             _sonde_connection_send_bulk    (SondeConnection                *self,
                                                 SondeBulkProducer               produce,
                                                 gpointer                        data,
                                                 GDestroyNotify                  destroy);
void             _sonde_connection_close        (SondeConnection                *self,
                                                 gushort                         code,
                                                 const char                     *reason);

G_END_DECLS
