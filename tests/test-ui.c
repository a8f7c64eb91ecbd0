/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "sonde-test-util.h"

/*
 * The web dashboard as HTTP sees it: the page at /, its assets at /ui/NAME,
 * their types, caching and security headers, methods, and what must stay
 * out of reach: paths outside the resource (traversals, encodings, NUL),
 * and any route's data without the token. The page in a browser is
 * tests/browser/.
 */

typedef struct
{
  SoupMessage       *msg;
  SondeTestResponse *response;
} Exchange;

static void
exchange_free (Exchange *exchange)
{
  g_clear_object (&exchange->msg);
  g_clear_pointer (&exchange->response, sonde_test_response_free);
  g_free (exchange);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Exchange, exchange_free)

/* @method @path, with @header: @value when non-NULL. */
static Exchange *
request (SondeTestServer *server,
         const char      *method,
         const char      *path,
         const char      *header,
         const char      *value)
{
  g_autofree char *uri = sonde_test_server_http_uri (server, path);
  Exchange *exchange = g_new0 (Exchange, 1);

  exchange->msg = soup_message_new (method, uri);
  g_assert_nonnull (exchange->msg);
  if (header != NULL)
    soup_message_headers_replace (soup_message_get_request_headers (exchange->msg), header, value);
  exchange->response = sonde_test_http_send (exchange->msg);
  return exchange;
}

static const char *
response_header (Exchange   *exchange,
                 const char *name)
{
  return soup_message_headers_get_one (soup_message_get_response_headers (exchange->msg), name);
}

static void
assert_security_headers (Exchange *exchange,
                         guint     port)
{
  const char *policy = response_header (exchange, "Content-Security-Policy");
  g_autofree char *websocket = g_strdup_printf ("connect-src 'self' ws://127.0.0.1:%u;", port);

  g_assert_nonnull (policy);
  g_assert_true (g_str_has_prefix (policy, "default-src 'none';"));
  g_assert_nonnull (strstr (policy, "script-src 'self';"));
  g_assert_nonnull (strstr (policy, "style-src 'self';"));
  g_assert_nonnull (strstr (policy, websocket));
  g_assert_nonnull (strstr (policy, "frame-ancestors 'none'"));
  g_assert_null (strstr (policy, "unsafe"));
  g_assert_cmpstr (response_header (exchange, "X-Content-Type-Options"), ==, "nosniff");
  g_assert_cmpstr (response_header (exchange, "X-Frame-Options"), ==, "DENY");
  g_assert_cmpstr (response_header (exchange, "Referrer-Policy"), ==, "no-referrer");
}

static char *
body_text (Exchange *exchange)
{
  gsize length;
  const char *data = g_bytes_get_data (exchange->response->body, &length);

  return g_strndup (data, length);
}

static guint
port_of (SondeTestServer *server)
{
  return sonde_server_get_port (server->server);
}

/* The versioned asset links of the page: "/ui/NAME?v=HASH", in order. */
static GPtrArray *
page_asset_links (const char *html)
{
  g_autoptr(GRegex) regex = g_regex_new ("\"(/ui/[A-Za-z0-9._-]+)\\?v=([0-9a-f]{16})\"", 0, 0, NULL);
  g_autoptr(GMatchInfo) match = NULL;
  GPtrArray *links = g_ptr_array_new_with_free_func (g_free);

  g_regex_match (regex, html, 0, &match);
  while (g_match_info_matches (match))
    {
      g_ptr_array_add (links, g_match_info_fetch (match, 0));
      g_match_info_next (match, NULL);
    }
  return links;
}

static const char *
expected_content_type (const char *path)
{
  if (g_str_has_suffix (path, ".js"))
    return "application/javascript; charset=utf-8";
  if (g_str_has_suffix (path, ".css"))
    return "text/css; charset=utf-8";
  if (g_str_has_suffix (path, ".svg"))
    return "image/svg+xml";
  g_assert_not_reached ();
}

static void
test_page (void)
{
  SondeTestServer *server = sonde_test_server_new (TRUE);
  g_autoptr(Exchange) page = request (server, "GET", "/", NULL, NULL);
  g_autofree char *html = NULL;
  g_autoptr(GPtrArray) links = NULL;
  g_autoptr(GRegex) inline_script = g_regex_new ("<script(?![^>]*\\ssrc=)[^>]*>", G_REGEX_CASELESS, 0, NULL);
  g_autoptr(GRegex) handler_attribute = g_regex_new ("\\son[a-z]+\\s*=", G_REGEX_CASELESS, 0, NULL);
  guint n_scripts = 0, n_styles = 0;

  g_assert_cmpuint (page->response->status, ==, SOUP_STATUS_OK);
  g_assert_cmpstr (response_header (page, "Content-Type"), ==, "text/html; charset=utf-8");
  g_assert_cmpstr (page->response->cache_control, ==, "no-cache");
  g_assert_nonnull (response_header (page, "ETag"));
  assert_security_headers (page, port_of (server));

  html = body_text (page);
  g_assert_true (g_str_has_prefix (html, "<!doctype html>"));
  g_assert_nonnull (strstr (html, "<main"));

  /* Nothing the policy would have to allow inline. */
  g_assert_false (g_regex_match (inline_script, html, 0, NULL));
  g_assert_false (g_regex_match (handler_attribute, html, 0, NULL));
  g_assert_null (strstr (html, "<style"));
  g_assert_null (strstr (html, " style="));
  g_assert_null (strstr (html, "javascript:"));

  /* Every asset is linked by a versioned URL that may be cached for good. */
  links = page_asset_links (html);
  g_assert_cmpuint (links->len, >=, 6);
  for (guint i = 0; i < links->len; i++)
    {
      g_autofree char *link = g_strndup ((char *) links->pdata[i] + 1, strlen (links->pdata[i]) - 2);
      g_autofree char *path = g_strndup (link, strchr (link, '?') - link);
      const char *version = strchr (link, '=') + 1;
      g_autofree char *etag = g_strdup_printf ("\"%s\"", version);
      g_autoptr(Exchange) asset = request (server, "GET", link, NULL, NULL);

      g_assert_cmpuint (asset->response->status, ==, SOUP_STATUS_OK);
      g_assert_cmpstr (response_header (asset, "Content-Type"), ==, expected_content_type (path));
      g_assert_cmpstr (asset->response->cache_control, ==, "public, max-age=31536000, immutable");
      g_assert_cmpstr (response_header (asset, "ETag"), ==, etag);
      g_assert_cmpuint (g_bytes_get_size (asset->response->body), >, 0);
      assert_security_headers (asset, port_of (server));
      n_scripts += g_str_has_suffix (path, ".js");
      n_styles += g_str_has_suffix (path, ".css");
    }
  g_assert_cmpuint (n_scripts, >=, 1);
  g_assert_cmpuint (n_styles, >=, 1);

  sonde_test_server_free (server);
}

static void
test_conditional (void)
{
  SondeTestServer *server = sonde_test_server_new (TRUE);
  g_autoptr(Exchange) page = request (server, "GET", "/", NULL, NULL);
  g_autofree char *etag = g_strdup (response_header (page, "ETag"));
  g_autofree char *weak = g_strdup_printf ("W/%s", etag);
  g_autofree char *listed = g_strdup_printf ("\"0000000000000000\", %s", etag);

  const char * const matching[] = { etag, weak, listed, "*" };

  for (guint i = 0; i < G_N_ELEMENTS (matching); i++)
    {
      g_autoptr(Exchange) again = request (server, "GET", "/", "If-None-Match", matching[i]);

      g_assert_cmpuint (again->response->status, ==, SOUP_STATUS_NOT_MODIFIED);
      g_assert_cmpuint (g_bytes_get_size (again->response->body), ==, 0);
      g_assert_cmpstr (response_header (again, "ETag"), ==, etag);
      g_assert_cmpstr (again->response->cache_control, ==, "no-cache");
      assert_security_headers (again, port_of (server));
    }

  {
    g_autoptr(Exchange) changed = request (server, "GET", "/", "If-None-Match", "\"0000000000000000\"");
    g_assert_cmpuint (changed->response->status, ==, SOUP_STATUS_OK);
    g_assert_cmpuint (g_bytes_get_size (changed->response->body), ==, g_bytes_get_size (page->response->body));
  }

  /* An asset asked for without its version, or with another build's,
   * must be revalidated: it may not be what that page expects. */
  {
    g_autoptr(Exchange) plain = request (server, "GET", "/ui/dashboard.js", NULL, NULL);
    g_autoptr(Exchange) other = request (server, "GET", "/ui/dashboard.js?v=0000000000000000", NULL, NULL);
    g_autoptr(Exchange) revalidated = NULL;

    g_assert_cmpuint (plain->response->status, ==, SOUP_STATUS_OK);
    g_assert_cmpstr (plain->response->cache_control, ==, "no-cache");
    g_assert_cmpuint (other->response->status, ==, SOUP_STATUS_OK);
    g_assert_cmpstr (other->response->cache_control, ==, "no-cache");

    revalidated = request (server, "GET", "/ui/dashboard.js", "If-None-Match", response_header (plain, "ETag"));
    g_assert_cmpuint (revalidated->response->status, ==, SOUP_STATUS_NOT_MODIFIED);
  }

  sonde_test_server_free (server);
}

static void
test_head_and_methods (void)
{
  SondeTestServer *server = sonde_test_server_new (TRUE);
  g_autoptr(Exchange) get = request (server, "GET", "/ui/sonde.css", NULL, NULL);
  g_autoptr(Exchange) head = request (server, "HEAD", "/ui/sonde.css", NULL, NULL);
  g_autofree char *length = g_strdup_printf ("%" G_GSIZE_FORMAT, g_bytes_get_size (get->response->body));
  static const char * const paths[] = { "/", "/ui/sonde.css" };
  static const char * const methods[] = { "POST", "PUT", "DELETE", "PATCH" };

  g_assert_cmpuint (head->response->status, ==, SOUP_STATUS_OK);
  g_assert_cmpuint (g_bytes_get_size (head->response->body), ==, 0);
  g_assert_cmpstr (response_header (head, "Content-Length"), ==, length);
  g_assert_cmpstr (response_header (head, "Content-Type"), ==, "text/css; charset=utf-8");
  g_assert_cmpstr (response_header (head, "ETag"), ==, response_header (get, "ETag"));

  for (guint i = 0; i < G_N_ELEMENTS (paths); i++)
    for (guint j = 0; j < G_N_ELEMENTS (methods); j++)
      {
        g_autoptr(Exchange) refused = request (server, methods[j], paths[i], NULL, NULL);

        g_assert_cmpuint (refused->response->status, ==, SOUP_STATUS_METHOD_NOT_ALLOWED);
        g_assert_cmpstr (refused->response->allow, ==, "GET, HEAD");
        g_assert_cmpstr (sonde_test_response_get_code (refused->response), ==, "method_not_allowed");
        assert_security_headers (refused, port_of (server));
      }

  sonde_test_server_free (server);
}

static void
test_not_found (void)
{
  SondeTestServer *server = sonde_test_server_new (TRUE);
  /* Only "/" is the page, and only the resource's exact names are assets. */
  static const char * const paths[] = {
    "/ui", "/ui/", "/ui/nope.js", "/ui/index.html", "/index.html", "/ui/SONDE.CSS",
    "/ui/sonde.css/", "/ui/sonde.css.map", "/ui/sonde.css.", "/ui/-sonde.css",
    "/ui/sonde-ui.gresource.xml", "/org/sonde/Sonde/ui/sonde.css", "/ui/ui/sonde.css",
    "/nope", "/favicon.ico",
  };

  for (guint i = 0; i < G_N_ELEMENTS (paths); i++)
    {
      g_autoptr(Exchange) missing = request (server, "GET", paths[i], NULL, NULL);
      const char *message;

      g_assert_cmpuint (missing->response->status, ==, SOUP_STATUS_NOT_FOUND);
      g_assert_cmpstr (sonde_test_response_get_code (missing->response), ==, "not_found");
      message = json_object_get_string_member (missing->response->json, "message");
      g_assert_true (g_str_has_prefix (message, "No such route: "));
    }

  /* Percent-encoded unreserved characters are the characters themselves
   * (RFC 3986, 6.2.2.2): libsoup decodes them before routing. */
  {
    g_autoptr(Exchange) plain = request (server, "GET", "/ui/sonde.css", NULL, NULL);
    g_autoptr(Exchange) encoded = request (server, "GET", "/ui/%73onde%2ecss", NULL, NULL);

    g_assert_cmpuint (encoded->response->status, ==, SOUP_STATUS_OK);
    g_assert_true (g_bytes_equal (plain->response->body, encoded->response->body));
  }

  sonde_test_server_free (server);
}

/* Raw requests: the request-target exactly as written, which no HTTP
 * client library would send unnormalised. On a thread, while the main
 * context serves. */
typedef struct
{
  guint    port;
  GBytes  *request;
  GString *answer;
  gint     done;
} RawRequest;

static gpointer
raw_request_thread (gpointer data)
{
  RawRequest *raw = data;
  g_autoptr(GSocketClient) client = g_socket_client_new ();
  g_autoptr(GSocketConnection) connection = NULL;
  g_autoptr(GError) error = NULL;
  char buffer[4096];
  gssize n;

  g_socket_client_set_timeout (client, 10);
  g_socket_client_set_enable_proxy (client, FALSE);
  connection = g_socket_client_connect_to_host (client, "127.0.0.1", raw->port, NULL, &error);
  g_assert_no_error (error);
  g_output_stream_write_all (g_io_stream_get_output_stream (G_IO_STREAM (connection)),
                             g_bytes_get_data (raw->request, NULL), g_bytes_get_size (raw->request),
                             NULL, NULL, &error);
  g_assert_no_error (error);

  while ((n = g_input_stream_read (g_io_stream_get_input_stream (G_IO_STREAM (connection)),
                                   buffer, sizeof buffer, NULL, NULL)) > 0)
    g_string_append_len (raw->answer, buffer, n);

  g_atomic_int_set (&raw->done, TRUE);
  /* The main context may be idle, waiting for nothing else. */
  g_main_context_wakeup (NULL);
  return NULL;
}

/* Sends @request (@length bytes) as it is; returns the status and, in
 * @headers_out and @body_out, the answer's head and what followed it. */
static guint
raw_exchange (SondeTestServer *server,
              const char      *request,
              gsize            length,
              char           **headers_out,
              char           **body_out)
{
  RawRequest raw = { port_of (server), g_bytes_new (request, length), g_string_new (NULL), FALSE };
  GThread *thread;
  const char *end;
  guint status = 0;

  thread = g_thread_new ("raw-request", raw_request_thread, &raw);
  sonde_test_wait_until (g_atomic_int_get (&raw.done));
  g_thread_join (thread);

  if (sscanf (raw.answer->str, "HTTP/1.%*d %u", &status) != 1)
    g_error ("no status line in the answer to %s: %s", request, raw.answer->str);
  end = strstr (raw.answer->str, "\r\n\r\n");
  if (headers_out != NULL)
    *headers_out = end ? g_strndup (raw.answer->str, end - raw.answer->str) : g_strdup (raw.answer->str);
  if (body_out != NULL)
    *body_out = g_strdup (end ? end + 4 : "");

  g_bytes_unref (raw.request);
  g_string_free (raw.answer, TRUE);
  return status;
}

/* GET @target (the request-target exactly as given) with @host, or the
 * server's own address when NULL. */
static guint
raw_get (SondeTestServer *server,
         const char      *target,
         const char      *host,
         char           **headers_out,
         char           **body_out)
{
  g_autofree char *default_host = g_strdup_printf ("127.0.0.1:%u", port_of (server));
  g_autofree char *request = g_strdup_printf ("GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n",
                                              target, host ? host : default_host);

  return raw_exchange (server, request, strlen (request), headers_out, body_out);
}

static void
test_traversal (void)
{
  SondeTestServer *server = sonde_test_server_new (TRUE);
  /* Each reaches for a file beside or above the resource; none may get
   * anything but an error. */
  static const char * const targets[] = {
    "/ui/../../../../etc/passwd",
    "/ui/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
    "/ui/%2E%2E/%2E%2E/etc/passwd",
    "/ui/..%2f..%2f..%2fetc%2fpasswd",
    "/ui/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    "/ui/%252e%252e/%252e%252e/etc/passwd",
    "/ui/%252e%252e%252fsonde.css",
    "/ui/..%5c..%5cetc%5cpasswd",
    "/ui/..\\..\\etc\\passwd",
    "/ui/%5csonde.css",
    "/ui/sonde.css%00",
    "/ui/sonde.css%00.js",
    "/ui/%00",
    "/ui/....//....//etc/passwd",
    "/ui/.%2e/.%2e/etc/passwd",
    "/ui//etc/passwd",
    "//etc/passwd",
    "/ui/.sonde.css",
    "/ui/%2fetc%2fpasswd",
    "/ui/%c0%ae%c0%ae/etc/passwd",
    "/..%2f..%2fetc/passwd",
    "/ui/index.html%3f",
  };

  for (guint i = 0; i < G_N_ELEMENTS (targets); i++)
    {
      g_autofree char *body = NULL;
      guint status = raw_get (server, targets[i], NULL, NULL, &body);

      if (status != SOUP_STATUS_NOT_FOUND && status != SOUP_STATUS_BAD_REQUEST)
        g_error ("GET %s answered %u, not 404 or 400", targets[i], status);
      g_assert_null (strstr (body, "root:"));
      g_assert_null (strstr (body, "<html"));
    }

  /* A NUL, and a control character, in the request line itself. */
  {
    static const char nul[] = "GET /ui/sonde.css\0.js HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    static const char control[] = "GET /ui/sonde.css\x01 HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";

    g_assert_cmpuint (raw_exchange (server, nul, sizeof nul - 1, NULL, NULL), ==, SOUP_STATUS_BAD_REQUEST);
    g_assert_cmpuint (raw_exchange (server, control, sizeof control - 1, NULL, NULL), >=, 400);
  }

  sonde_test_server_free (server);
}

/* The policy names the WebSocket origin the page was loaded from, and only
 * a Host fit to be written there. */
static void
test_policy_host (void)
{
  SondeTestServer *server = sonde_test_server_new (TRUE);
  g_autofree char *localhost = g_strdup_printf ("localhost:%u", port_of (server));
  g_autofree char *ipv6 = g_strdup_printf ("[::1]:%u", port_of (server));
  static const char * const unfit[] = { "a;b", "a'b", "a b:1", "-" , ":80", "[::1", "x:y" };

  {
    g_autofree char *headers = NULL;
    g_autofree char *expected = g_strdup_printf ("connect-src 'self' ws://%s;", localhost);

    g_assert_cmpuint (raw_get (server, "/", localhost, &headers, NULL), ==, SOUP_STATUS_OK);
    g_assert_nonnull (strstr (headers, expected));
  }
  {
    g_autofree char *headers = NULL;
    g_autofree char *expected = g_strdup_printf ("connect-src 'self' ws://%s;", ipv6);

    g_assert_cmpuint (raw_get (server, "/", ipv6, &headers, NULL), ==, SOUP_STATUS_OK);
    g_assert_nonnull (strstr (headers, expected));
  }

  for (guint i = 0; i < G_N_ELEMENTS (unfit); i++)
    {
      g_autofree char *headers = NULL;
      guint status = raw_get (server, "/", unfit[i], &headers, NULL);

      /* libsoup may refuse the Host itself (400), and the access checks
       * refuse a Host that does not name this server (421); if it
       * serves, nothing of it is in the policy. */
      if (status == SOUP_STATUS_OK)
        g_assert_nonnull (strstr (headers, "connect-src 'self'; "));
      else if (status != SOUP_STATUS_BAD_REQUEST && status != SOUP_STATUS_MISDIRECTED_REQUEST)
        g_error ("GET / with Host %s answered %u, not 400 or 421", unfit[i], status);
    }

  sonde_test_server_free (server);
}

/* The page and its assets hold no data: they load without the token, so
 * that the page can ask for it. Nothing else does. */
static void
test_token (void)
{
  SondeTestServer *server = sonde_test_server_new (TRUE);
  g_autoptr(Exchange) page = NULL;
  g_autoptr(GPtrArray) links = NULL;
  g_autofree char *html = NULL;
  static const char * const guarded[] = {
    "/status", "/api/v1/snapshot", "/api/v1/catalog", "/api/v1/history?metric=fake.value",
    "/ui/nope.js", "/ui/index.html", "/nope",
  };

  sonde_server_set_token (server->server, "s3cret-token");

  page = request (server, "GET", "/", NULL, NULL);
  g_assert_cmpuint (page->response->status, ==, SOUP_STATUS_OK);
  html = body_text (page);
  g_assert_null (strstr (html, "s3cret-token"));

  links = page_asset_links (html);
  g_assert_cmpuint (links->len, >, 0);
  for (guint i = 0; i < links->len; i++)
    {
      g_autofree char *link = g_strndup ((char *) links->pdata[i] + 1, strlen (links->pdata[i]) - 2);
      g_autoptr(Exchange) asset = request (server, "GET", link, NULL, NULL);
      g_autoptr(Exchange) head = request (server, "HEAD", link, NULL, NULL);

      g_assert_cmpuint (asset->response->status, ==, SOUP_STATUS_OK);
      g_assert_cmpuint (head->response->status, ==, SOUP_STATUS_OK);
    }

  for (guint i = 0; i < G_N_ELEMENTS (guarded); i++)
    {
      g_autoptr(Exchange) refused = request (server, "GET", guarded[i], NULL, NULL);

      g_assert_cmpuint (refused->response->status, ==, SOUP_STATUS_UNAUTHORIZED);
      g_assert_cmpstr (sonde_test_response_get_code (refused->response), ==, "unauthorized");
    }

  /* Only reading is exempt. */
  {
    g_autoptr(Exchange) post = request (server, "POST", "/", NULL, NULL);
    g_assert_cmpuint (post->response->status, ==, SOUP_STATUS_UNAUTHORIZED);
  }

  /* Paths that libsoup resolves to another route (RFC 3986 removes the
   * dot segments, decoded or not) are that route, token and all. */
  {
    static const char * const aliases[] = { "/ui/../status", "/ui/%2e%2e/status", "/ui/%2E%2E/api/v1/snapshot" };

    for (guint i = 0; i < G_N_ELEMENTS (aliases); i++)
      {
        g_autofree char *body = NULL;

        g_assert_cmpuint (raw_get (server, aliases[i], NULL, NULL, &body), ==, SOUP_STATUS_UNAUTHORIZED);
        g_assert_nonnull (strstr (body, "\"unauthorized\""));
      }
  }

  /* The WebSocket the page opens: with the token in its own URL. */
  g_assert_cmpuint (sonde_test_websocket_handshake (server, "/ws/v1", NULL), ==, SOUP_STATUS_UNAUTHORIZED);
  g_assert_cmpuint (sonde_test_websocket_handshake (server, "/ws/v1?token=s3cret-token", NULL), ==,
                    SOUP_STATUS_SWITCHING_PROTOCOLS);
  {
    g_autoptr(Exchange) authorised = request (server, "GET", "/status", "Authorization", "Bearer s3cret-token");
    g_assert_cmpuint (authorised->response->status, ==, SOUP_STATUS_OK);
  }

  sonde_test_server_free (server);
}

/* The Origin check is not lifted for the page: another site's page gets
 * nothing from here, its WebSocket above all. */
static void
test_origin (void)
{
  SondeTestServer *server = sonde_test_server_new (TRUE);
  g_autofree char *self_origin = g_strdup_printf ("http://127.0.0.1:%u", port_of (server));

  {
    g_autoptr(Exchange) foreign = request (server, "GET", "/ui/sonde.css", "Origin", "http://evil.example");
    g_assert_cmpuint (foreign->response->status, ==, SOUP_STATUS_FORBIDDEN);
  }
  {
    g_autoptr(Exchange) own = request (server, "GET", "/ui/sonde.css", "Origin", self_origin);
    g_assert_cmpuint (own->response->status, ==, SOUP_STATUS_OK);
  }
  g_assert_cmpuint (sonde_test_websocket_handshake (server, "/ws/v1", "http://evil.example"), ==,
                    SOUP_STATUS_FORBIDDEN);
  g_assert_cmpuint (sonde_test_websocket_handshake (server, "/ws/v1", self_origin), ==,
                    SOUP_STATUS_SWITCHING_PROTOCOLS);

  sonde_test_server_free (server);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/ui/page", test_page);
  g_test_add_func ("/ui/conditional", test_conditional);
  g_test_add_func ("/ui/head-and-methods", test_head_and_methods);
  g_test_add_func ("/ui/not-found", test_not_found);
  g_test_add_func ("/ui/traversal", test_traversal);
  g_test_add_func ("/ui/policy-host", test_policy_host);
  g_test_add_func ("/ui/token", test_token);
  g_test_add_func ("/ui/origin", test_origin);

  return g_test_run ();
}
