/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "sonde-rest-private.h"
#include "sonde-server-access-private.h"

/* Who may talk to the server, and what they may send: the size of request
 * bodies, the token every request must carry, and the browser origins
 * allowed to read this machine's metrics. The checks run before any route,
 * WebSocket handshakes included. */

/* No route takes more: POST /control's commands are a few dozen bytes. */
#define MAX_REQUEST_BODY (64 * 1024)

/* How long, and how much, a refused request's unread body is read and
 * thrown away after the answer, so that a client that sent it all before
 * reading gets the answer rather than a reset connection. */
#define LINGER_TIMEOUT_MS 2000
#define LINGER_MAX_BYTES  (1024 * 1024)

struct _SondeAccess
{
  SondeGatewayStats *stats;            /* where refused requests are counted */
  char              *token;
  GStrv              allowed_origins;
};

/* Constant time in the length of @expected, so that timing does not
 * reveal how much of a guess was right. */
static gboolean
tokens_equal (const char *expected,
              const char *given)
{
  gsize expected_length = strlen (expected);
  gsize given_length = strlen (given);
  guchar diff = expected_length != given_length;

  for (gsize i = 0; i < expected_length; i++)
    diff |= (guchar) expected[i] ^ (guchar) (i < given_length ? given[i] : 0);

  return diff == 0;
}

static gboolean
request_has_token (SondeAccess       *self,
                   SoupServerMessage *msg,
                   GHashTable        *query)
{
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  const char *authorization = soup_message_headers_get_one (headers, "Authorization");
  const char *given = query ? g_hash_table_lookup (query, "token") : NULL;

  if (authorization != NULL && g_ascii_strncasecmp (authorization, "Bearer ", 7) == 0)
    given = authorization + 7;

  return given != NULL && tokens_equal (self->token, given);
}

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
  GSocket *socket = soup_server_message_get_socket (msg);
  Refusal *refusal;

  /* The server disconnected its clients meanwhile (it was stopped): the
   * connection is gone, and stealing it would signal its end twice. */
  if (socket == NULL)
    return G_SOURCE_REMOVE;

  /* No request-finished will come: count the refusal here. */
  if (stats != NULL)
    sonde_gateway_stats_record_request (stats, FALSE,
                                        started ? g_get_monotonic_time () - *started : 0);

  refusal = g_new0 (Refusal, 1);
  refusal->socket = g_object_ref (socket);
  refusal->response = serialize_response (msg);
  refusal->stream = soup_server_message_steal_connection (msg);
  if (refusal->stream == NULL)
    {
      g_clear_object (&refusal->socket);
      g_bytes_unref (refusal->response);
      g_free (refusal);
      return G_SOURCE_REMOVE;
    }

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
static void
refuse_unread (SondeAccess       *self,
               SoupServerMessage *msg,
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
   * bounds what the peer can send unasked. A connection without a socket
   * (soup_server_accept_iostream(); sonde only listens) is left to
   * libsoup too. */
  if (soup_server_message_get_http_version (msg) >= SOUP_HTTP_2_0 ||
      soup_server_message_get_socket (msg) == NULL)
    return;

  soup_server_message_pause (msg);

  takeover = g_new0 (Takeover, 1);
  takeover->msg = g_object_ref (msg);
  g_weak_ref_init (&takeover->stats, self->stats);

  source = g_idle_source_new ();
  g_source_set_priority (source, G_PRIORITY_DEFAULT);
  g_source_set_callback (source, takeover_cb, takeover, takeover_free);
  g_source_attach (source, g_main_context_get_thread_default ());
}

/* GET, HEAD and OPTIONS take no body; the other methods up to
 * MAX_REQUEST_BODY, with a Content-Length: a chunked body's size is known
 * only once it has been read. Returns TRUE when the request was refused. */
static gboolean
refuse_body (SondeAccess       *self,
             SoupServerMessage *msg)
{
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  const char *method = soup_server_message_get_method (msg);
  gboolean takes_body = method != SOUP_METHOD_GET && method != SOUP_METHOD_HEAD &&
                        method != SOUP_METHOD_OPTIONS;
  goffset limit = takes_body ? MAX_REQUEST_BODY : 0;
  g_autofree char *message = NULL;

  switch (soup_message_headers_get_encoding (headers))
    {
    case SOUP_ENCODING_CHUNKED:
      if (takes_body)
        {
          refuse_unread (self, msg, SOUP_STATUS_LENGTH_REQUIRED, "length_required",
                         "A request body needs a Content-Length (chunked bodies are not accepted)");
          return TRUE;
        }
      break;

    case SOUP_ENCODING_CONTENT_LENGTH:
      if (soup_message_headers_get_content_length (headers) > limit)
        break;
      return FALSE;

    default:
      return FALSE;
    }

  if (takes_body)
    message = g_strdup_printf ("The request body is larger than %d bytes", MAX_REQUEST_BODY);
  else
    message = g_strdup_printf ("%s requests take no body", method);
  refuse_unread (self, msg, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE, "too_large", message);
  return TRUE;
}

/* Origins ----------------------------------------------------------------- */

/* http or https on 127.0.0.1, localhost or [::1], any port: a page served
 * from this machine. An origin is scheme://host[:port], nothing more. */
static gboolean
is_loopback_origin (const char *origin)
{
  g_autoptr(GUri) uri = g_uri_parse (origin, G_URI_FLAGS_NONE, NULL);
  const char *scheme;
  const char *host;

  if (uri == NULL)
    return FALSE;

  scheme = g_uri_get_scheme (uri);
  if (g_ascii_strcasecmp (scheme, "http") != 0 && g_ascii_strcasecmp (scheme, "https") != 0)
    return FALSE;
  if (g_uri_get_userinfo (uri) != NULL || *g_uri_get_path (uri) != '\0' ||
      g_uri_get_query (uri) != NULL || g_uri_get_fragment (uri) != NULL)
    return FALSE;

  host = g_uri_get_host (uri);
  return host != NULL &&
         (g_ascii_strcasecmp (host, "localhost") == 0 ||
          g_str_equal (host, "127.0.0.1") ||
          g_str_equal (host, "::1"));
}

static gboolean
origin_allowed (SondeAccess *self,
                const char  *origin)
{
  /* Clients that send no Origin are not browsers. */
  if (origin == NULL)
    return TRUE;
  if (self->allowed_origins != NULL)
    return g_strv_contains ((const char * const *) self->allowed_origins, origin);
  return is_loopback_origin (origin);
}

#define SKIP_TOKEN_KEY "sonde-skip-token-paths"

/* Paths whose routes check tokens of their own, on this listener. */
static gboolean
skips_token (SoupServer *soup_server,
             const char *path)
{
  GHashTable *paths = g_object_get_data (G_OBJECT (soup_server), SKIP_TOKEN_KEY);

  return paths != NULL && g_hash_table_contains (paths, path);
}

void
_sonde_access_skip_token (SondeAccess *self,
                          SoupServer  *soup_server,
                          const char  *path)
{
  GHashTable *paths = g_object_get_data (G_OBJECT (soup_server), SKIP_TOKEN_KEY);

  if (paths == NULL)
    {
      paths = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
      g_object_set_data_full (G_OBJECT (soup_server), SKIP_TOKEN_KEY, paths,
                              (GDestroyNotify) g_hash_table_unref);
    }
  g_hash_table_add (paths, g_strdup (path));
}

/* Runs once the headers are read, before any route (a WebSocket handshake
 * included) and before the body: refused requests never reach a handler. */
static void
early_cb (SoupServer        *soup_server,
          SoupServerMessage *msg,
          const char        *path,
          GHashTable        *query,
          gpointer           user_data)
{
  SondeAccess *self = user_data;
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  const char *origin = soup_message_headers_get_one (headers, "Origin");

  /* First, so that nothing is read of a body too large, whoever sends it. */
  if (refuse_body (self, msg))
    return;

  /* Browsers send Origin; a page from another site must not read the
   * metrics of this machine, nor send commands. */
  if (!origin_allowed (self, origin))
    {
      g_autofree char *message = g_strdup_printf ("Origin %s is not allowed", origin);
      _sonde_rest_respond_error (msg, SOUP_STATUS_FORBIDDEN, "forbidden_origin", message);
      return;
    }

  if (self->token != NULL && !skips_token (soup_server, path) && !request_has_token (self, msg, query))
    {
      soup_message_headers_replace (soup_server_message_get_response_headers (msg),
                                    "WWW-Authenticate", "Bearer");
      _sonde_rest_respond_error (msg, SOUP_STATUS_UNAUTHORIZED, "unauthorized",
                                 "A valid token is required (Authorization: Bearer TOKEN or ?token=TOKEN)");
    }
}

/* What libsoup answers on a path without a route. */
static void
unrouted_cb (SoupServer        *soup_server,
             SoupServerMessage *msg,
             const char        *path,
             GHashTable        *query,
             gpointer           user_data)
{
  soup_server_message_set_status (msg, SOUP_STATUS_NOT_FOUND, NULL);
}

#define ROOT_GUARDED_KEY "sonde-root-guarded"

/* libsoup runs the early handler of the route a request resolves to, not
 * one for the whole server: every route gets the access checks. A path
 * with no route at all gets no early handler either, and libsoup would
 * read its body whole before answering 404: so "/" is guarded too, with a
 * 404 route unless someone registers their own there (before or after). */
void
_sonde_access_guard_path (SondeAccess *self,
                          SoupServer  *soup_server,
                          const char  *path)
{
  soup_server_add_early_handler (soup_server, path, early_cb, self, NULL);

  if (g_object_get_data (G_OBJECT (soup_server), ROOT_GUARDED_KEY) != NULL)
    return;
  g_object_set_data (G_OBJECT (soup_server), ROOT_GUARDED_KEY, GINT_TO_POINTER (TRUE));

  if (!g_str_equal (path, "/"))
    {
      soup_server_add_handler (soup_server, "/", unrouted_cb, NULL, NULL);
      soup_server_add_early_handler (soup_server, "/", early_cb, self, NULL);
    }
}

SondeAccess *
_sonde_access_new (SondeGatewayStats *stats)
{
  SondeAccess *self = g_new0 (SondeAccess, 1);

  self->stats = g_object_ref (stats);
  return self;
}

void
_sonde_access_free (SondeAccess *self)
{
  if (self == NULL)
    return;

  g_clear_object (&self->stats);
  g_free (self->token);
  g_strfreev (self->allowed_origins);
  g_free (self);
}

const char *
_sonde_access_get_token (SondeAccess *self)
{
  return self->token;
}

/* Tokens are compared in constant time; "" means none. */
void
_sonde_access_set_token (SondeAccess *self,
                         const char  *token)
{
  g_free (self->token);
  self->token = (token != NULL && *token != '\0') ? g_strdup (token) : NULL;
}

const char * const *
_sonde_access_get_allowed_origins (SondeAccess *self)
{
  return (const char * const *) self->allowed_origins;
}

void
_sonde_access_set_allowed_origins (SondeAccess        *self,
                                   const char * const *origins)
{
  g_strfreev (self->allowed_origins);
  self->allowed_origins = g_strdupv ((char **) origins);
}
