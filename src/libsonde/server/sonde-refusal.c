/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "sonde-budget-stream-private.h"
#include "sonde-refusal-private.h"
#include "sonde-rest-private.h"

/* How long, and how much, a refused request's unread body is read and
 * thrown away after the answer, so that a client that sent it all before
 * reading gets the answer rather than a reset connection. */
#define LINGER_TIMEOUT_MS 2000
#define LINGER_MAX_BYTES  (1024 * 1024)

/* Refusing without reading the body -------------------------------------- */

/* libsoup 3.2 reads a request's whole body into memory before it writes
 * any response, even when an early handler has set the status (and
 * "Connection: close" only takes effect after that): a 300 MB POST grew
 * the process by 300 MB, 600 MB once /control had flattened it. So a
 * refused body is never left to libsoup: the message is paused right
 * after its headers and, from the main loop, the connection is taken from
 * libsoup, the response written by hand, and the connection closed. */
typedef struct
{
  GIOStream    *stream;
  GSocket      *socket;       /* to half-close and drain */
  GBytes       *response;
  GCancellable *cancellable;  /* cancelled when the linger time is up */
  GSource      *socket_source;
  GSource      *timeout;
  gsize         drained;
  char          buffer[16 * 1024];
} Refusal;

static void
refusal_closed_cb (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  Refusal *refusal = user_data;

  g_io_stream_close_finish (G_IO_STREAM (source), result, NULL);
  g_clear_object (&refusal->stream);
  g_clear_object (&refusal->socket);
  g_clear_object (&refusal->cancellable);
  g_clear_pointer (&refusal->response, g_bytes_unref);
  g_free (refusal);
}

static void
refusal_finish (Refusal *refusal)
{
  if (refusal->timeout != NULL)
    {
      g_source_destroy (refusal->timeout);
      g_clear_pointer (&refusal->timeout, g_source_unref);
    }
  if (refusal->socket_source != NULL)
    {
      g_source_destroy (refusal->socket_source);
      g_clear_pointer (&refusal->socket_source, g_source_unref);
    }
  g_io_stream_close_async (refusal->stream, G_PRIORITY_DEFAULT, NULL, refusal_closed_cb, refusal);
}

static gboolean
refusal_timeout_cb (gpointer user_data)
{
  Refusal *refusal = user_data;

  g_clear_pointer (&refusal->timeout, g_source_unref);
  g_cancellable_cancel (refusal->cancellable);
  return G_SOURCE_REMOVE;
}

/* Reads what the client still sends and throws it away, until it closes,
 * the linger time is up or enough was read. */
static gboolean
refusal_drain_cb (GSocket      *socket,
                  GIOCondition  condition,
                  gpointer      user_data)
{
  Refusal *refusal = user_data;
  g_autoptr(GError) error = NULL;
  gssize n;

  if (g_cancellable_is_cancelled (refusal->cancellable))
    goto done;

  n = g_socket_receive_with_blocking (socket, refusal->buffer, sizeof refusal->buffer,
                                      FALSE, NULL, &error);
  if (n < 0 && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
    return G_SOURCE_CONTINUE;
  if (n > 0)
    {
      refusal->drained += n;
      if (refusal->drained < LINGER_MAX_BYTES)
        return G_SOURCE_CONTINUE;
    }

done:
  g_clear_pointer (&refusal->socket_source, g_source_unref);
  refusal_finish (refusal);
  return G_SOURCE_REMOVE;
}

static void
refusal_written_cb (GObject      *source,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  Refusal *refusal = user_data;

  if (!g_output_stream_write_all_finish (G_OUTPUT_STREAM (source), result, NULL, NULL) ||
      !g_socket_shutdown (refusal->socket, FALSE, TRUE, NULL))
    {
      refusal_finish (refusal);
      return;
    }

  /* Half-closed: the client has the whole answer and sees the end of it.
   * (With TLS this skips close_notify; the answer has a Content-Length.) */
  refusal->socket_source = g_socket_create_source (refusal->socket, G_IO_IN | G_IO_HUP | G_IO_ERR,
                                                   refusal->cancellable);
  g_source_set_callback (refusal->socket_source, G_SOURCE_FUNC (refusal_drain_cb), refusal, NULL);
  g_source_attach (refusal->socket_source, g_main_context_get_thread_default ());
}

/* The status line, headers and body libsoup would have written. */
static GBytes *
serialize_response (SoupServerMessage *msg)
{
  SoupMessageHeaders *headers = soup_server_message_get_response_headers (msg);
  g_autoptr(GBytes) body = soup_message_body_flatten (soup_server_message_get_response_body (msg));
  GString *out = g_string_new (NULL);
  SoupMessageHeadersIter iter;
  const char *name, *value;

  g_string_append_printf (out, "HTTP/1.%c %u %s\r\n",
                          soup_server_message_get_http_version (msg) == SOUP_HTTP_1_0 ? '0' : '1',
                          soup_server_message_get_status (msg),
                          soup_server_message_get_reason_phrase (msg));
  soup_message_headers_iter_init (&iter, headers);
  while (soup_message_headers_iter_next (&iter, &name, &value))
    if (g_ascii_strcasecmp (name, "Content-Length") != 0)
      g_string_append_printf (out, "%s: %s\r\n", name, value);
  g_string_append_printf (out, "Content-Length: %" G_GSIZE_FORMAT "\r\n\r\n", g_bytes_get_size (body));
  if (soup_server_message_get_method (msg) != SOUP_METHOD_HEAD)
    g_string_append_len (out, g_bytes_get_data (body, NULL), g_bytes_get_size (body));

  return g_string_free_to_bytes (out);
}

typedef struct
{
  SoupServerMessage *msg;
  GWeakRef           stats;
} Takeover;

static void
takeover_free (gpointer data)
{
  Takeover *takeover = data;

  g_object_unref (takeover->msg);
  g_weak_ref_clear (&takeover->stats);
  g_free (takeover);
}

/* Out of libsoup's I/O: stealing the connection from within its
 * got-headers signal would free the I/O state it is running on. */
static gboolean
takeover_cb (gpointer user_data)
{
  Takeover *takeover = user_data;
  SoupServerMessage *msg = takeover->msg;
  g_autoptr(SondeGatewayStats) stats = g_weak_ref_get (&takeover->stats);
  gint64 *started = g_object_get_data (G_OBJECT (msg), "sonde-start-time");
  g_autoptr(GIOStream) stream = NULL;
  GSocket *socket;
  Refusal *refusal;

  /* The server disconnected its clients meanwhile (it was stopped): the
   * connection is gone, and stealing it would signal its end twice. */
  if (_sonde_rest_is_disconnected (msg))
    return G_SOURCE_REMOVE;

  /* The socket is under Sonde's own streams (sonde-listener.c): libsoup
   * got the connection as a stream, not as a socket. */
  stream = soup_server_message_steal_connection (msg);
  socket = stream != NULL ? _sonde_stream_find_socket (stream) : NULL;
  if (socket == NULL)
    {
      if (stream != NULL)
        g_io_stream_close_async (stream, G_PRIORITY_DEFAULT, NULL, NULL, NULL);
      return G_SOURCE_REMOVE;
    }

  /* No request-finished will come: count the refusal here. */
  if (stats != NULL)
    sonde_gateway_stats_record_request (stats, FALSE,
                                        started ? g_get_monotonic_time () - *started : 0);

  refusal = g_new0 (Refusal, 1);
  refusal->socket = g_object_ref (socket);
  refusal->response = serialize_response (msg);
  refusal->stream = g_steal_pointer (&stream);

  refusal->cancellable = g_cancellable_new ();
  refusal->timeout = g_timeout_source_new (LINGER_TIMEOUT_MS);
  g_source_set_callback (refusal->timeout, refusal_timeout_cb, refusal, NULL);
  g_source_attach (refusal->timeout, g_main_context_get_thread_default ());
  g_output_stream_write_all_async (g_io_stream_get_output_stream (refusal->stream),
                                   g_bytes_get_data (refusal->response, NULL),
                                   g_bytes_get_size (refusal->response),
                                   G_PRIORITY_DEFAULT, refusal->cancellable,
                                   refusal_written_cb, refusal);
  return G_SOURCE_REMOVE;
}

/* Answers with @status and a JSON error, then closes the connection
 * without reading the request's body. */
void
_sonde_refuse_unread (SoupServerMessage *msg,
                      SondeGatewayStats *stats,
                      guint              status,
                      const char        *code,
                      const char        *message)
{
  g_autoptr(GSource) source = NULL;
  Takeover *takeover;

  soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Connection", "close");
  _sonde_rest_respond_error (msg, status, code, message);

  /* HTTP/2 (only with SOUP_SERVER_HTTP2 set, over TLS) multiplexes
   * requests on one connection: no taking it over; its flow control
   * bounds what the peer can send unasked. */
  if (soup_server_message_get_http_version (msg) >= SOUP_HTTP_2_0)
    return;

  _sonde_rest_watch_disconnection (msg);
  soup_server_message_pause (msg);

  takeover = g_new0 (Takeover, 1);
  takeover->msg = g_object_ref (msg);
  g_weak_ref_init (&takeover->stats, stats);

  source = g_idle_source_new ();
  g_source_set_priority (source, G_PRIORITY_DEFAULT);
  g_source_set_callback (source, takeover_cb, takeover, takeover_free);
  g_source_attach (source, g_main_context_get_thread_default ());
}

