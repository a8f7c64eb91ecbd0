/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <sys/socket.h>

#include "sonde-budget-stream-private.h"
#include "sonde-connection-private.h"
#include "sonde-server-private.h"

/* Token bucket against floods: a burst of 50 messages, then 20 per second. */
#define RATE_BURST       50.0
#define RATE_PER_SECOND  20.0
/* The longest header of a client frame (with a 64-bit length and a mask):
 * a frame of SONDE_MAX_INCOMING_PAYLOAD bytes is still whole. */
#define MAX_FRAME_HEADER 14
/* See _sonde_connection_limit_send_buffer(). */
#define CLIENT_SEND_BUFFER (256 * 1024)

struct _SondeConnection
{
  SondeServer                    *server;
  SoupWebsocketConnection        *websocket;
  char                           *route;
  const SondeConnectionCallbacks *callbacks;
  gpointer                        owner;
  gint64                          stalled_since_us;
  double                          tokens;
  gint64                          tokens_updated_us;
  gint64                          last_rate_report_us;
  SondeTimerEntry                 heartbeat;   /* queued when the format has heartbeats */
  /* A bulk reply (history) produced one frame at a time, as fast as the
   * client reads it. */
  SondeBulkProducer               bulk_produce;
  gpointer                        bulk_data;
  GDestroyNotify                  bulk_destroy;
  GSource                        *bulk_source;
  SondeBudgetStream              *budget;   /* unowned: under the websocket */
  SondeFrameOutputStream         *direct;   /* unowned, the budget's; NULL with TLS */
  gulong                          message_handler;
  gulong                          closed_handler;
  gboolean                        closing;
};

static SondeGatewayStats *
stats (SondeConnection *self)
{
  return sonde_engine_get_gateway_stats (sonde_server_get_engine (self->server));
}

gboolean
_sonde_connection_is_open (SondeConnection *self)
{
  return !self->closing &&
         soup_websocket_connection_get_state (self->websocket) == SOUP_WEBSOCKET_STATE_OPEN;
}

static gboolean
stream_can_poll (SondeConnection *self)
{
  GIOStream *stream = soup_websocket_connection_get_io_stream (self->websocket);
  GOutputStream *output = g_io_stream_get_output_stream (stream);

  return G_IS_POLLABLE_OUTPUT_STREAM (output) &&
         g_pollable_output_stream_can_poll (G_POLLABLE_OUTPUT_STREAM (output));
}

/* Whether the kernel would take more bytes now. When it would not, libsoup
 * would queue the frame in memory without bound; so it is not handed one. */
static gboolean
socket_is_writable (SondeConnection *self)
{
  GIOStream *stream = soup_websocket_connection_get_io_stream (self->websocket);
  GOutputStream *output = g_io_stream_get_output_stream (stream);

  if (stream_can_poll (self))
    return g_pollable_output_stream_is_writable (G_POLLABLE_OUTPUT_STREAM (output));

  return TRUE;
}

static void
frame_sent (SondeConnection *self)
{
  self->stalled_since_us = 0;
  _sonde_timer_queue_touch (_sonde_server_get_heartbeats (self->server), &self->heartbeat,
                            g_get_monotonic_time ());
  sonde_gateway_stats_add_messages_sent (stats (self), 1);
}

static void
send_bytes (SondeConnection *self,
            GBytes          *frame)
{
  soup_websocket_connection_send_message (self->websocket, SOUP_WEBSOCKET_DATA_TEXT, frame);
  frame_sent (self);
}

/* A stream frame goes to every client of a group: on a plain connection,
 * the server frames it once and each client costs one send(), whose
 * EAGAIN says the client is behind (sonde-frame-output-stream.c). */
static gboolean
try_send_stream (SondeConnection *self,
                 GBytes          *frame)
{
  if (self->direct != NULL)
    {
      if (!_sonde_frame_output_stream_send (self->direct, _sonde_server_get_framed (self->server, frame)))
        return FALSE;
      frame_sent (self);
      return TRUE;
    }

  if (!socket_is_writable (self))
    return FALSE;
  send_bytes (self, frame);
  return TRUE;
}

/* A client whose socket stays full too long is disconnected. */
static void
note_stall (SondeConnection *self)
{
  gint64 now = g_get_monotonic_time ();

  if (self->stalled_since_us == 0)
    self->stalled_since_us = now;
  else if (now - self->stalled_since_us > SONDE_STALL_TIMEOUT_SECONDS * G_USEC_PER_SEC)
    _sonde_connection_close (self, SOUP_WEBSOCKET_CLOSE_GOING_AWAY, "client too slow");
}

/* Control replies (errors, pongs, catalogs) answer the client's own
 * requests. A client that does not read them gets none: queueing them
 * would let it grow the daemon's memory by asking without reading. */
void
_sonde_connection_send_control (SondeConnection *self,
                                GBytes          *frame)
{
  if (!_sonde_connection_is_open (self))
    return;

  if (!socket_is_writable (self))
    {
      note_stall (self);
      return;
    }

  send_bytes (self, frame);
}

/* Returns FALSE when the frame could not be sent now because the client is
 * not keeping up; a client stuck for too long is disconnected. */
gboolean
_sonde_connection_send_stream (SondeConnection *self,
                               GBytes          *frame)
{
  if (!_sonde_connection_is_open (self))
    return FALSE;

  /* A bulk reply in progress goes first: history before the live stream. */
  if (self->bulk_produce != NULL || !try_send_stream (self, frame))
    {
      note_stall (self);
      sonde_gateway_stats_add_frames_dropped (stats (self), 1);
      return FALSE;
    }

  return TRUE;
}

static void
clear_bulk (SondeConnection *self)
{
  if (self->bulk_source != NULL)
    {
      g_source_destroy (self->bulk_source);
      g_clear_pointer (&self->bulk_source, g_source_unref);
    }
  if (self->bulk_destroy != NULL && self->bulk_data != NULL)
    self->bulk_destroy (self->bulk_data);
  self->bulk_produce = NULL;
  self->bulk_data = NULL;
  self->bulk_destroy = NULL;
}

static gboolean bulk_writable_cb (GObject *stream, gpointer data);

/* Sends the bulk reply's frames while the socket takes them; then waits
 * for it to be writable again. Memory stays that of one frame. */
static void
drain_bulk (SondeConnection *self)
{
  GOutputStream *output;

  while (self->bulk_produce != NULL)
    {
      g_autoptr(GBytes) frame = NULL;

      if (!_sonde_connection_is_open (self))
        {
          clear_bulk (self);
          return;
        }

      if (!socket_is_writable (self))
        break;

      frame = self->bulk_produce (self->bulk_data);
      if (frame == NULL)
        {
          clear_bulk (self);
          return;
        }

      send_bytes (self, frame);
    }

  if (self->bulk_produce == NULL || self->bulk_source != NULL)
    return;

  note_stall (self);
  output = g_io_stream_get_output_stream (soup_websocket_connection_get_io_stream (self->websocket));
  self->bulk_source = g_pollable_output_stream_create_source (G_POLLABLE_OUTPUT_STREAM (output), NULL);
  g_source_set_callback (self->bulk_source, G_SOURCE_FUNC (bulk_writable_cb), self, NULL);
  g_source_set_name (self->bulk_source, "[sonde] bulk reply");
  g_source_attach (self->bulk_source, NULL);
}

static gboolean
bulk_writable_cb (GObject  *stream,
                  gpointer  data)
{
  SondeConnection *self = data;

  g_clear_pointer (&self->bulk_source, g_source_unref);
  drain_bulk (self);
  return G_SOURCE_REMOVE;
}

/* Sends a long reply (a subscription's history) frame by frame, each made
 * by @produce only when the client has read the previous ones, until it
 * returns NULL. Stream frames wait meanwhile (they are counted as
 * dropped), so the reply comes before the live stream. A new bulk reply
 * replaces one in progress. */
void
_sonde_connection_send_bulk (SondeConnection   *self,
                             SondeBulkProducer  produce,
                             gpointer           data,
                             GDestroyNotify     destroy)
{
  clear_bulk (self);

  self->bulk_produce = produce;
  self->bulk_data = data;
  self->bulk_destroy = destroy;

  /* Without a pollable stream there is no way to wait: send it all. */
  if (!stream_can_poll (self))
    {
      g_autoptr(GBytes) frame = NULL;

      while ((frame = produce (data)) != NULL)
        {
          send_bytes (self, frame);
          g_clear_pointer (&frame, g_bytes_unref);
        }
      clear_bulk (self);
      return;
    }

  drain_bulk (self);
}

void
_sonde_connection_close (SondeConnection *self,
                         gushort          code,
                         const char      *reason)
{
  if (!_sonde_connection_is_open (self))
    return;

  self->closing = TRUE;
  soup_websocket_connection_close (self->websocket, code, reason);
}

static gboolean
take_token (SondeConnection *self)
{
  gint64 now = g_get_monotonic_time ();

  self->tokens = MIN (RATE_BURST, self->tokens + (now - self->tokens_updated_us) * RATE_PER_SECOND / G_USEC_PER_SEC);
  self->tokens_updated_us = now;

  if (self->tokens < 1.0)
    return FALSE;

  self->tokens -= 1.0;
  return TRUE;
}

static void
message_cb (SoupWebsocketConnection *websocket,
            int                      type,
            GBytes                  *message,
            SondeConnection         *self)
{
  if (self->budget != NULL)
    _sonde_budget_stream_mark (self->budget);

  if (!take_token (self))
    {
      gint64 now = g_get_monotonic_time ();

      if (now - self->last_rate_report_us > G_USEC_PER_SEC)
        {
          self->last_rate_report_us = now;
          if (self->callbacks->rate_limited != NULL)
            self->callbacks->rate_limited (self->owner);
        }
      return;
    }

  self->callbacks->message (self->owner, type, message);
}

/* More than a whole message's worth of bytes and no message: a
 * fragmented message that never ends, or a flood of control frames. */
static gboolean
message_too_big_cb (gpointer data)
{
  SondeConnection *self = data;

  _sonde_connection_close (self, SOUP_WEBSOCKET_CLOSE_TOO_BIG, "message too big");
  return G_SOURCE_REMOVE;
}

/* Heartbeats: after each interval of silence, due exactly an interval
 * after the last frame sent (sonde-timer-queue.c keeps the time). */
void
_sonde_connection_heartbeat (SondeTimerEntry *entry)
{
  SondeConnection *self = (SondeConnection *) ((char *) entry - G_STRUCT_OFFSET (SondeConnection, heartbeat));
  g_autoptr(GBytes) frame = self->callbacks->heartbeat (self->owner);

  /* Not sent (a full socket): an interval later. Sending may close the
   * connection, and free it. */
  if (frame != NULL)
    _sonde_connection_send_stream (self, frame);
}

static void
closed_cb (SoupWebsocketConnection *websocket,
           SondeConnection         *self)
{
  self->callbacks->closed (self->owner);
}

/* The kernel grows a silent client's send buffer up to 4 MiB, seconds of
 * stale frames; a fixed buffer bounds both the memory and the lag before
 * backpressure drops frames. */
void
_sonde_connection_limit_send_buffer (SoupWebsocketConnection *connection)
{
  GSocket *socket = _sonde_stream_find_socket (soup_websocket_connection_get_io_stream (connection));

  if (socket != NULL)
    g_socket_set_option (socket, SOL_SOCKET, SO_SNDBUF, CLIENT_SEND_BUFFER, NULL);
}

SondeConnection *
_sonde_connection_new (SondeServer                    *server,
                       SoupWebsocketConnection        *websocket,
                       const char                     *route,
                       const SondeConnectionCallbacks *callbacks,
                       gpointer                        owner)
{
  SondeConnection *self = g_new0 (SondeConnection, 1);

  self->server = server;
  self->websocket = g_object_ref (websocket);
  self->route = g_strdup (route);
  self->callbacks = callbacks;
  self->owner = owner;
  self->tokens = RATE_BURST;
  self->tokens_updated_us = g_get_monotonic_time ();

  /* libsoup would drop the connection (no close frame, a reset) at its
   * limit, and keeps an unfinished fragmented message without any: the
   * byte budget's limit comes first and closes with 1009. */
  soup_websocket_connection_set_max_incoming_payload_size (websocket, 2 * SONDE_MAX_INCOMING_PAYLOAD);
  self->budget = _sonde_budget_stream_find (soup_websocket_connection_get_io_stream (websocket));
  if (self->budget != NULL)
    _sonde_budget_stream_set_message_limit (self->budget, SONDE_MAX_INCOMING_PAYLOAD + MAX_FRAME_HEADER,
                                            message_too_big_cb, self);
  /* Without extensions: a frame of ours is what libsoup would send. */
  if (soup_websocket_connection_get_extensions (websocket) == NULL)
    self->direct = _sonde_budget_stream_find_frame_output (soup_websocket_connection_get_io_stream (websocket));
  self->message_handler = g_signal_connect (websocket, "message", G_CALLBACK (message_cb), self);
  self->closed_handler = g_signal_connect (websocket, "closed", G_CALLBACK (closed_cb), self);

  if (callbacks->heartbeat != NULL)
    _sonde_timer_queue_add (_sonde_server_get_heartbeats (server), &self->heartbeat, g_get_monotonic_time ());

  sonde_gateway_stats_connection_opened (stats (self), route);
  return self;
}

void
_sonde_connection_free (SondeConnection *self)
{
  if (self == NULL)
    return;

  if (self->budget != NULL)
    _sonde_budget_stream_set_message_limit (self->budget, 0, NULL, NULL);

  _sonde_timer_queue_remove (_sonde_server_get_heartbeats (self->server), &self->heartbeat);
  clear_bulk (self);
  g_clear_signal_handler (&self->message_handler, self->websocket);
  g_clear_signal_handler (&self->closed_handler, self->websocket);

  if (soup_websocket_connection_get_state (self->websocket) == SOUP_WEBSOCKET_STATE_OPEN)
    soup_websocket_connection_close (self->websocket, SOUP_WEBSOCKET_CLOSE_GOING_AWAY, NULL);

  sonde_gateway_stats_connection_closed (stats (self), self->route);
  g_clear_object (&self->websocket);
  g_free (self->route);
  g_free (self);
}

SondeServer *
_sonde_connection_get_server (SondeConnection *self)
{
  return self->server;
}
