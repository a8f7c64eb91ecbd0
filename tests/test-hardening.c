/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <string.h>

#include "sonde-test-util.h"
#include "sonde-json-private.h"
#include "sonde-server-private.h"

/* What a request may send before anything reads it (body sizes), which
 * browser pages may talk to the server by default (Origin), and JSON the
 * depth check must not be blind to. */

/* An answer from the headers alone takes milliseconds; a server that waits
 * for a body the client never sends does not answer at all. */
#define ANSWER_BOUND_US (2 * G_USEC_PER_SEC)
#define BIG_BODY        G_GUINT64_CONSTANT (300000000)

/* Raw HTTP ---------------------------------------------------------------- */

/* One request on its own connection, by hand: libsoup's client would send
 * the body it announces, and these tests must not. The client runs in a
 * thread while the main thread spins the server's main context. */
typedef struct
{
  guint       port;
  char       *head;         /* request line and headers, without the blank line */
  gsize       body_length;  /* bytes of body sent after the head */

  guint       status;
  GHashTable *headers;      /* lower-case name -> value */
  char       *body;
  gboolean    closed;       /* the server closed the connection */
  gint64      elapsed_us;   /* until the response was complete */
  GThread    *thread;
  gint        done;
} Exchange;

static void
exchange_free (Exchange *ex)
{
  g_free (ex->head);
  g_clear_pointer (&ex->headers, g_hash_table_unref);
  g_free (ex->body);
  g_free (ex);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Exchange, exchange_free)

/* Parses what was read; TRUE once a whole response is there. */
static gboolean
parse_response (Exchange *ex,
                GString  *data)
{
  const char *end = strstr (data->str, "\r\n\r\n");
  g_auto(GStrv) lines = NULL;
  g_auto(GStrv) status_line = NULL;
  const char *length_text;
  gsize body_offset;

  if (end == NULL)
    return FALSE;

  g_clear_pointer (&ex->headers, g_hash_table_unref);
  ex->headers = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  {
    g_autofree char *head = g_strndup (data->str, end - data->str);

    lines = g_strsplit (head, "\r\n", -1);
  }
  status_line = g_strsplit (lines[0], " ", 3);
  g_assert_nonnull (status_line[1]);
  ex->status = g_ascii_strtoull (status_line[1], NULL, 10);
  for (guint i = 1; lines[i] != NULL; i++)
    {
      const char *colon = strchr (lines[i], ':');

      if (colon != NULL)
        g_hash_table_replace (ex->headers, g_ascii_strdown (lines[i], colon - lines[i]),
                              g_strstrip (g_strdup (colon + 1)));
    }

  body_offset = end + 4 - data->str;
  length_text = g_hash_table_lookup (ex->headers, "content-length");
  if (length_text == NULL || data->len - body_offset < (gsize) g_ascii_strtoull (length_text, NULL, 10))
    return FALSE;

  g_free (ex->body);
  ex->body = g_strndup (data->str + body_offset, data->len - body_offset);
  return TRUE;
}

static gpointer
exchange_thread (gpointer user_data)
{
  Exchange *ex = user_data;
  g_autoptr(GSocket) socket = NULL;
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new (loopback, ex->port);
  g_autoptr(GString) data = g_string_new (NULL);
  g_autoptr(GError) error = NULL;
  g_autofree char *request = g_strdup_printf ("%s\r\n\r\n", ex->head);
  gint64 started;
  gboolean complete = FALSE;
  char buffer[16384];

  socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, &error);
  g_assert_no_error (error);
  g_socket_set_timeout (socket, 5);
  g_assert_true (g_socket_connect (socket, address, NULL, &error));
  g_assert_no_error (error);

  started = g_get_monotonic_time ();
  for (gsize sent = 0; sent < strlen (request); )
    {
      gssize n = g_socket_send (socket, request + sent, strlen (request) - sent, NULL, &error);

      g_assert_no_error (error);
      sent += n;
    }

  /* The body, which fits the socket buffers: sent whole before reading. */
  memset (buffer, 'x', sizeof buffer);
  for (gsize sent = 0; sent < ex->body_length; )
    {
      gssize n = g_socket_send (socket, buffer, MIN (sizeof buffer, ex->body_length - sent), NULL, &error);

      g_assert_no_error (error);
      sent += n;
    }

  for (;;)
    {
      gssize n = g_socket_receive (socket, buffer, sizeof buffer, NULL, &error);

      if (n < 0)
        {
          /* A timeout: the server neither answered nor closed. */
          g_assert_true (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT) ||
                         g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED));
          ex->closed = !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
          g_clear_error (&error);
          break;
        }
      if (n == 0)
        {
          ex->closed = TRUE;
          break;
        }
      g_string_append_len (data, buffer, n);
      if (!complete && parse_response (ex, data))
        {
          complete = TRUE;
          ex->elapsed_us = g_get_monotonic_time () - started;
          /* Go on reading: does the server close the connection? */
          if (g_strcmp0 (g_hash_table_lookup (ex->headers, "connection"), "close") != 0)
            break;
        }
    }

  g_atomic_int_set (&ex->done, TRUE);
  g_main_context_wakeup (NULL);
  return NULL;
}

static void
exchange_wait (Exchange *ex)
{
  sonde_test_wait_until (g_atomic_int_get (&ex->done));
  g_thread_join (g_steal_pointer (&ex->thread));
}

static Exchange *
exchange_start_va (guint       port,
                   gsize       body_length,
                   const char *format,
                   va_list     args)
{
  Exchange *ex = g_new0 (Exchange, 1);
  g_autoptr(GString) head = g_string_new (NULL);
  g_autofree char *text = g_strdup_vprintf (format, args);
  g_auto(GStrv) lines = g_strsplit (text, "\n", -1);

  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_string_append_printf (head, "%s%s", i > 0 ? "\r\n" : "", lines[i]);
      if (i == 0)
        g_string_append_printf (head, "\r\nHost: 127.0.0.1:%u", port);
    }

  ex->port = port;
  ex->head = g_string_free (g_steal_pointer (&head), FALSE);
  ex->body_length = body_length;
  ex->thread = g_thread_new ("exchange", exchange_thread, ex);
  return ex;
}

static Exchange *
exchange_start (guint       port,
                gsize       body_length,
                const char *format,
                ...) G_GNUC_PRINTF (3, 4);

static Exchange *
exchange_start (guint       port,
                gsize       body_length,
                const char *format,
                ...)
{
  Exchange *ex;
  va_list args;

  va_start (args, format);
  ex = exchange_start_va (port, body_length, format, args);
  va_end (args);
  return ex;
}

static Exchange *
exchange (guint       port,
          gsize       body_length,
          const char *format,
          ...) G_GNUC_PRINTF (3, 4);

/* @format: the request line and headers, '\n'-separated; Host is added. */
static Exchange *
exchange (guint       port,
          gsize       body_length,
          const char *format,
          ...)
{
  Exchange *ex;
  va_list args;

  va_start (args, format);
  ex = exchange_start_va (port, body_length, format, args);
  va_end (args);
  exchange_wait (ex);
  return ex;
}

static const char *
error_code (Exchange *ex)
{
  static char code[64];
  g_autoptr(JsonParser) parser = json_parser_new ();
  JsonObject *object;

  g_assert_nonnull (ex->body);
  g_assert_true (json_parser_load_from_data (parser, ex->body, -1, NULL));
  object = json_node_get_object (json_parser_get_root (parser));
  g_assert_cmpstr (json_object_get_string_member_with_default (object, "type", NULL), ==, "error");
  g_assert_cmpstr (json_object_get_string_member_with_default (object, "message", ""), !=, "");
  g_strlcpy (code, json_object_get_string_member_with_default (object, "code", ""), sizeof code);
  return code;
}

/* Answered from the headers, at once, and the connection closed. */
static void
assert_refused_unread (Exchange   *ex,
                       guint       status,
                       const char *code)
{
  g_assert_cmpuint (ex->status, ==, status);
  g_assert_cmpstr (error_code (ex), ==, code);
  g_assert_cmpstr (g_hash_table_lookup (ex->headers, "connection"), ==, "close");
  g_assert_cmpstr (g_hash_table_lookup (ex->headers, "content-type"), ==, "application/json");
  g_assert_cmpint (ex->elapsed_us, <, ANSWER_BOUND_US);
  g_assert_true (ex->closed);
}

/* Bodies ------------------------------------------------------------------ */

static void
test_body_too_large (void)
{
  SondeTestServer *server = sonde_test_server_new (TRUE);
  guint port = sonde_server_get_port (server->server);
  static const char * const requests[] = {
    "POST /control", "POST /status", "PUT /api/v1/snapshot", "POST /no/such/route",
    "DELETE /api/v1/catalog",
  };

  /* 300 MB announced, none sent: only a refusal from the headers answers. */
  for (guint i = 0; i < G_N_ELEMENTS (requests); i++)
    {
      g_autoptr(Exchange) ex = exchange (port, 0, "%s HTTP/1.1\nContent-Type: application/json\n"
                                         "Content-Length: %" G_GUINT64_FORMAT, requests[i], BIG_BODY);

      g_test_message ("%s", requests[i]);
      assert_refused_unread (ex, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE, "too_large");
    }

  sonde_test_server_free (server);
}

/* GET, HEAD and OPTIONS take no body at all. */
static void
test_body_on_get (void)
{
  SondeTestServer *server = sonde_test_server_new (TRUE);
  guint port = sonde_server_get_port (server->server);
  g_autoptr(Exchange) ok = NULL;
  g_autoptr(Exchange) head = NULL;
  static const char * const requests[] = {
    "GET /status", "GET /api/v1/catalog", "OPTIONS /status", "GET /ws/v1",
  };

  for (guint i = 0; i < G_N_ELEMENTS (requests); i++)
    {
      g_autoptr(Exchange) one = exchange (port, 0, "%s HTTP/1.1\nContent-Length: 1", requests[i]);
      g_autoptr(Exchange) chunked = exchange (port, 0, "%s HTTP/1.1\nTransfer-Encoding: chunked", requests[i]);

      g_test_message ("%s", requests[i]);
      assert_refused_unread (one, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE, "too_large");
      assert_refused_unread (chunked, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE, "too_large");
    }

  /* HEAD: the same refusal, without the body. */
  head = exchange (port, 0, "HEAD /status HTTP/1.1\nContent-Length: 10");
  g_assert_cmpuint (head->status, ==, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE);
  g_assert_true (head->closed);

  ok = exchange (port, 0, "GET /status HTTP/1.1\nContent-Length: 0");
  g_assert_cmpuint (ok->status, ==, SOUP_STATUS_OK);

  sonde_test_server_free (server);
}

static void
test_body_chunked (void)
{
  SondeTestServer *server = sonde_test_server_new (TRUE);
  guint port = sonde_server_get_port (server->server);
  static const char * const requests[] = { "POST /control", "POST /status", "PUT /nowhere" };

  for (guint i = 0; i < G_N_ELEMENTS (requests); i++)
    {
      g_autoptr(Exchange) ex = exchange (port, 0, "%s HTTP/1.1\nContent-Type: application/json\n"
                                         "Transfer-Encoding: chunked", requests[i]);

      g_test_message ("%s", requests[i]);
      assert_refused_unread (ex, SOUP_STATUS_LENGTH_REQUIRED, "length_required");
    }

  sonde_test_server_free (server);
}

/* Up to 64 KiB, POST /control works; a byte more is refused, and a client
 * that sent it all before reading still gets the answer. */
static void
test_body_limit (void)
{
  SondeTestServer *server = sonde_test_server_new (TRUE);
  guint port = sonde_server_get_port (server->server);
  g_autoptr(Exchange) at_limit = NULL;
  g_autoptr(Exchange) over = NULL;
  g_autoptr(SoupMessage) msg = NULL;
  g_autoptr(SondeTestResponse) response = NULL;
  g_autoptr(GString) body = g_string_new ("{\"command\":\"stop_telemetry\"}");
  g_autoptr(GBytes) bytes = NULL;
  g_autofree char *uri = sonde_test_server_http_uri (server, "/control");

  /* Through libsoup's own client, which sends its body with the headers. */
  while (body->len < 64 * 1024)
    g_string_append_c (body, ' ');
  msg = soup_message_new ("POST", uri);
  bytes = g_bytes_new (body->str, body->len);
  soup_message_set_request_body_from_bytes (msg, "application/json", bytes);
  response = sonde_test_http_send (msg);
  g_assert_cmpuint (response->status, ==, SOUP_STATUS_OK);
  g_assert_cmpstr (json_object_get_string_member (response->json, "status"), ==, "stopped");

  /* At the limit, the body is read and reaches the route ('x' is no JSON). */
  at_limit = exchange (port, 64 * 1024, "POST /control HTTP/1.1\nContent-Type: application/json\n"
                       "Content-Length: %d", 64 * 1024);
  g_assert_cmpuint (at_limit->status, ==, SOUP_STATUS_BAD_REQUEST);

  over = exchange (port, 64 * 1024 + 1, "POST /control HTTP/1.1\nContent-Type: application/json\n"
                   "Content-Length: %d", 64 * 1024 + 1);
  assert_refused_unread (over, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE, "too_large");

  sonde_test_server_free (server);
}

/* A compatibility listener serves a path or two; the others must not read
 * bodies either, and still answer 404. */
static void
test_body_compat_listener (void)
{
  SondeTestServer *server = sonde_test_server_new (TRUE);
  g_autoptr(GError) error = NULL;
  static const char * const dialects[] = { "kairos", "ziggie", "resolvix-control" };

  for (guint i = 0; i < G_N_ELEMENTS (dialects); i++)
    {
      guint port = sonde_server_listen_compat (server->server, dialects[i], "127.0.0.1", 0, &error);
      g_autoptr(Exchange) big = NULL;
      g_autoptr(Exchange) missing = NULL;

      g_assert_no_error (error);
      g_assert_cmpuint (port, >, 0);
      g_test_message ("%s", dialects[i]);

      big = exchange (port, 0, "POST /elsewhere HTTP/1.1\nContent-Length: %" G_GUINT64_FORMAT, BIG_BODY);
      assert_refused_unread (big, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE, "too_large");

      missing = exchange (port, 0, "GET /elsewhere HTTP/1.1");
      g_assert_cmpuint (missing->status, ==, SOUP_STATUS_NOT_FOUND);
    }

  sonde_test_server_free (server);
}

/* A refusal is a failed request in the gateway's statistics, as others are. */
static void
test_body_counted (void)
{
  SondeTestServer *server = sonde_test_server_new (TRUE);
  SondeGatewayStats *stats = sonde_engine_get_gateway_stats (server->engine);
  g_autoptr(JsonObject) before = sonde_gateway_stats_to_json (stats);
  g_autoptr(JsonObject) after = NULL;
  g_autoptr(Exchange) ex = NULL;

  ex = exchange (sonde_server_get_port (server->server), 0,
                 "POST /control HTTP/1.1\nContent-Length: %" G_GUINT64_FORMAT, BIG_BODY);
  assert_refused_unread (ex, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE, "too_large");

  after = sonde_gateway_stats_to_json (stats);
  g_assert_cmpint (json_object_get_int_member (after, "requests_error"), ==,
                   json_object_get_int_member (before, "requests_error") + 1);

  sonde_test_server_free (server);
}

static void
got_headers_cb (SoupServerMessage *msg,
                gpointer           user_data)
{
  gboolean *got_headers = user_data;

  *got_headers = TRUE;
}

static void
request_started_cb (SoupServer        *soup_server,
                    SoupServerMessage *msg,
                    gpointer           user_data)
{
  g_signal_connect_after (msg, "got-headers", G_CALLBACK (got_headers_cb), user_data);
}

/* The server stops between the refusal and the moment the connection is
 * taken over: nothing is left to take, and nothing breaks. */
static void
test_body_server_stopped (void)
{
  SondeTestServer *server = sonde_test_server_new (TRUE);
  gboolean got_headers = FALSE;
  g_autoptr(Exchange) ex = NULL;

  g_signal_connect (_sonde_server_get_soup_server (server->server), "request-started", G_CALLBACK (request_started_cb),
                    &got_headers);
  ex = exchange_start (sonde_server_get_port (server->server), 0,
                       "POST /control HTTP/1.1\nContent-Length: %" G_GUINT64_FORMAT, BIG_BODY);
  sonde_test_wait_until (got_headers);
  sonde_server_disconnect (server->server);
  exchange_wait (ex);

  g_assert_cmpuint (ex->status, ==, 0);
  g_assert_true (ex->closed);
  sonde_test_spin_for (50);
  sonde_test_server_free (server);
}

/* Origins ----------------------------------------------------------------- */

static guint
get_with_origin (SondeTestServer  *server,
                 const char       *method,
                 const char       *path,
                 const char       *origin,
                 char            **code)
{
  g_autofree char *uri = sonde_test_server_http_uri (server, path);
  g_autoptr(SoupMessage) msg = soup_message_new (method, uri);
  g_autoptr(SondeTestResponse) response = NULL;

  if (origin != NULL)
    soup_message_headers_replace (soup_message_get_request_headers (msg), "Origin", origin);
  if (g_str_equal (method, "POST"))
    {
      static const char command[] = "{\"command\":\"stop_telemetry\"}";
      g_autoptr(GBytes) body = g_bytes_new_static (command, sizeof command - 1);

      soup_message_set_request_body_from_bytes (msg, "application/json", body);
    }

  response = sonde_test_http_send (msg);
  if (code != NULL)
    *code = g_strdup (sonde_test_response_get_code (response));
  return response->status;
}

static gboolean
ws_connects (SondeTestServer *server,
             const char      *origin)
{
  guint status = sonde_test_websocket_handshake (server, "/ws/v1", origin);

  if (status != SOUP_STATUS_SWITCHING_PROTOCOLS)
    g_assert_cmpuint (status, ==, SOUP_STATUS_FORBIDDEN);
  return status == SOUP_STATUS_SWITCHING_PROTOCOLS;
}

/* Pages of this machine, but not of the daemon: any local web page (a
 * development server, a page that a browser extension opened) could read
 * the metrics and send commands if these were allowed. */
static const char * const other_local_origins[] = {
  "http://127.0.0.1", "http://127.0.0.1:8080", "https://127.0.0.1:54112",
  "http://localhost", "https://localhost:3000", "http://LOCALHOST:80",
  "http://[::1]", "https://[::1]:9000",
};

static const char * const foreign_origins[] = {
  "https://evil.example", "http://evil.example:54112", "null", "",
  "http://localhost.evil.example", "http://127.0.0.1.evil.example", "http://evil.example#127.0.0.1",
  "http://127.0.0.2", "http://[::2]", "http://0.0.0.0", "http://[::ffff:127.0.0.1]",
  "ws://127.0.0.1", "file://", "file:///home/me/page.html", "chrome-extension://abcdef",
  "http://user@localhost", "http://localhost/path", "http://localhost?q", "http://localhost:99999",
  "http://[::1%25lo]",
};

/* No allowlist: the daemon's own pages and clients without Origin only. */
static void
test_origin_default (void)
{
  SondeTestServer *server = sonde_test_server_new (TRUE);
  g_autofree char *own = g_strdup_printf ("http://127.0.0.1:%u", sonde_server_get_port (server->server));

  g_assert_null (sonde_server_get_allowed_origins (server->server));

  /* Not a browser. */
  g_assert_cmpuint (get_with_origin (server, "GET", "/status", NULL, NULL), ==, SOUP_STATUS_OK);
  g_assert_true (ws_connects (server, NULL));

  /* A page the daemon served itself (its dashboard). */
  g_assert_cmpuint (get_with_origin (server, "GET", "/status", own, NULL), ==, SOUP_STATUS_OK);
  g_assert_true (ws_connects (server, own));

  for (guint i = 0; i < G_N_ELEMENTS (other_local_origins); i++)
    {
      g_test_message ("refused: %s", other_local_origins[i]);
      g_assert_cmpuint (get_with_origin (server, "GET", "/status", other_local_origins[i], NULL), ==,
                        SOUP_STATUS_FORBIDDEN);
    }
  g_assert_false (ws_connects (server, "http://localhost:8080"));

  for (guint i = 0; i < G_N_ELEMENTS (foreign_origins); i++)
    {
      g_autofree char *code = NULL;

      g_test_message ("refused: '%s'", foreign_origins[i]);
      g_assert_cmpuint (get_with_origin (server, "GET", "/status", foreign_origins[i], &code), ==,
                        SOUP_STATUS_FORBIDDEN);
      g_assert_cmpstr (code, ==, "forbidden_origin");
    }

  /* Neither the stream nor the commands, across sites. */
  g_assert_false (ws_connects (server, "https://evil.example"));
  g_assert_cmpuint (get_with_origin (server, "POST", "/control", "https://evil.example", NULL), ==,
                    SOUP_STATUS_FORBIDDEN);
  g_assert_cmpuint (get_with_origin (server, "POST", "/control", "http://127.0.0.1:8000", NULL), ==,
                    SOUP_STATUS_FORBIDDEN);
  g_assert_cmpuint (get_with_origin (server, "POST", "/control", own, NULL), ==, SOUP_STATUS_OK);

  sonde_test_server_free (server);
}

/* With an allowlist: exactly the list, and the daemon's own pages. */
static void
test_origin_allowlist (void)
{
  SondeTestServer *server = sonde_test_server_new (TRUE);
  const char *allowed[] = { "https://dash.example", "http://localhost:8080", NULL };
  g_autofree char *own = g_strdup_printf ("http://127.0.0.1:%u", sonde_server_get_port (server->server));

  sonde_server_set_allowed_origins (server->server, allowed);

  g_assert_cmpuint (get_with_origin (server, "GET", "/status", "https://dash.example", NULL), ==, SOUP_STATUS_OK);
  g_assert_cmpuint (get_with_origin (server, "GET", "/status", "http://localhost:8080", NULL), ==, SOUP_STATUS_OK);
  g_assert_cmpuint (get_with_origin (server, "GET", "/status", "http://localhost:8081", NULL), ==,
                    SOUP_STATUS_FORBIDDEN);
  g_assert_cmpuint (get_with_origin (server, "GET", "/status", "http://127.0.0.1", NULL), ==,
                    SOUP_STATUS_FORBIDDEN);
  g_assert_cmpuint (get_with_origin (server, "GET", "/status", NULL, NULL), ==, SOUP_STATUS_OK);

  /* The daemon's own pages, with or without a list. */
  g_assert_cmpuint (get_with_origin (server, "GET", "/status", own, NULL), ==, SOUP_STATUS_OK);

  /* Back to the default. */
  sonde_server_set_allowed_origins (server->server, NULL);
  g_assert_cmpuint (get_with_origin (server, "GET", "/status", "http://127.0.0.1", NULL), ==,
                    SOUP_STATUS_FORBIDDEN);
  g_assert_cmpuint (get_with_origin (server, "GET", "/status", own, NULL), ==, SOUP_STATUS_OK);
  g_assert_cmpuint (get_with_origin (server, "GET", "/status", "https://dash.example", NULL), ==,
                    SOUP_STATUS_FORBIDDEN);

  sonde_test_server_free (server);
}

/* JSON -------------------------------------------------------------------- */

static char *
nested (const char *prefix,
        guint       depth,
        const char *suffix)
{
  GString *text = g_string_new (prefix);

  for (guint i = 0; i < depth; i++)
    g_string_append_c (text, '[');
  for (guint i = 0; i < depth; i++)
    g_string_append_c (text, ']');
  g_string_append (text, suffix);
  return g_string_free (text, FALSE);
}

/* json-glib 1.6 accepts 'strings' and comments: a '"' inside either made
 * the depth scan take the rest for a string, and miss its nesting. */
static void
test_json_hidden_nesting (void)
{
  g_autofree char *single_quoted = nested ("['\"',", 200, "]");
  g_autofree char *block_comment = nested ("[/* \" */", 200, "]");
  g_autofree char *line_comment = nested ("[// \"\n", 200, "]");
  g_autofree char *shallow_sq = nested ("['a',", 2, "]");
  const char *texts[] = { single_quoted, block_comment, line_comment, shallow_sq, "{'type':'ping'}",
                          "{\"type\":\"ping\"} // done", "/**/{}" };
  const char *valid = "{\"path\":\"/var/log/it's/*here*/ // too\",\"q\":\"\\\"'/\"}";
  g_autoptr(JsonNode) node = NULL;
  g_autoptr(GError) error = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (texts); i++)
    {
      g_test_message ("%.40s", texts[i]);
      node = _sonde_json_parse_bounded (texts[i], strlen (texts[i]), &error);
      g_assert_null (node);
      g_assert_error (error, SONDE_ERROR, SONDE_ERROR_INVALID_ARGUMENT);
      g_assert_nonnull (strstr (error->message, "at offset"));
      g_clear_error (&error);
    }

  /* Inside double-quoted strings, ' and / are plain characters. */
  node = _sonde_json_parse_bounded (valid, strlen (valid), &error);
  g_assert_no_error (error);
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (node), "path"), ==,
                   "/var/log/it's/*here*/ // too");
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (node), "q"), ==, "\"'/");
}

/* Over the wire: a ping carrying hidden nesting is refused as bad JSON
 * (json-glib used to parse it, 200 deep, and answer the ping), and the
 * connection lives on. */
static void
test_json_hidden_nesting_ws (void)
{
  SondeTestServer *server = sonde_test_server_new (TRUE);
  SondeTestClient *client = sonde_test_client_new (server, NULL);
  g_autofree char *text = nested ("{\"type\":\"ping\",\"id\":\"deep\",\"pad\":['\"',", 200, "]}");

  sonde_test_client_next (client, "hello", NULL);
  sonde_test_client_send (client, "%s", text);
  sonde_test_client_expect_error (client, "bad_json");
  sonde_test_client_ping (client);

  sonde_test_client_free (client);
  sonde_test_server_free (server);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/hardening/body/too-large", test_body_too_large);
  g_test_add_func ("/hardening/body/on-get", test_body_on_get);
  g_test_add_func ("/hardening/body/chunked", test_body_chunked);
  g_test_add_func ("/hardening/body/limit", test_body_limit);
  g_test_add_func ("/hardening/body/compat-listener", test_body_compat_listener);
  g_test_add_func ("/hardening/body/counted", test_body_counted);
  g_test_add_func ("/hardening/body/server-stopped", test_body_server_stopped);
  g_test_add_func ("/hardening/origin/default", test_origin_default);
  g_test_add_func ("/hardening/origin/allowlist", test_origin_allowlist);
  g_test_add_func ("/hardening/json/hidden-nesting", test_json_hidden_nesting);
  g_test_add_func ("/hardening/json/hidden-nesting-ws", test_json_hidden_nesting_ws);

  return g_test_run ();
}
