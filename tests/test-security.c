/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "sonde-test-util.h"

/* Token, Origin allowlist and interval bounds of SondeServer. */

/* GET @path with optional Authorization and Origin headers; returns the
 * status and, in @code, the error code of a JSON error body. */
static guint
http_get (SondeTestServer  *server,
          const char       *path,
          const char       *authorization,
          const char       *origin,
          char            **code)
{
  g_autofree char *uri = sonde_test_server_http_uri (server, path);
  g_autoptr(SoupMessage) msg = soup_message_new ("GET", uri);
  g_autoptr(SondeTestResponse) response = NULL;

  if (authorization != NULL)
    soup_message_headers_replace (soup_message_get_request_headers (msg), "Authorization", authorization);
  if (origin != NULL)
    soup_message_headers_replace (soup_message_get_request_headers (msg), "Origin", origin);

  response = sonde_test_http_send (msg);
  if (code != NULL)
    *code = g_strdup (sonde_test_response_get_code (response));
  return response->status;
}

static gboolean
ws_connects (SondeTestServer *server,
             const char      *query,
             const char      *origin)
{
  g_autofree char *path = g_strdup_printf ("/ws/v1%s%s", query ? "?" : "", query ? query : "");

  return sonde_test_websocket_handshake (server, path, origin) == SOUP_STATUS_SWITCHING_PROTOCOLS;
}

static void
test_security_token (void)
{
  SondeTestServer *server = sonde_test_server_new (TRUE);
  g_autofree char *code = NULL;

  sonde_server_set_token (server->server, "s3cret-token");

  g_assert_cmpuint (http_get (server, "/status", NULL, NULL, &code), ==, SOUP_STATUS_UNAUTHORIZED);
  g_assert_cmpstr (code, ==, "unauthorized");
  g_clear_pointer (&code, g_free);

  /* Same length, one character off. */
  g_assert_cmpuint (http_get (server, "/status", "Bearer s3cret-tokeN", NULL, NULL), ==, SOUP_STATUS_UNAUTHORIZED);
  g_assert_cmpuint (http_get (server, "/status", "Bearer s3cret", NULL, NULL), ==, SOUP_STATUS_UNAUTHORIZED);
  g_assert_cmpuint (http_get (server, "/status?token=", NULL, NULL, NULL), ==, SOUP_STATUS_UNAUTHORIZED);
  g_assert_cmpuint (http_get (server, "/status", "Bearer s3cret-token", NULL, NULL), ==, SOUP_STATUS_OK);
  g_assert_cmpuint (http_get (server, "/api/v1/catalog", "Bearer s3cret-token", NULL, NULL), ==, SOUP_STATUS_OK);
  /* In the query, only on WebSocket handshakes: elsewhere a token in the
   * URL ends up in logs and histories. */
  g_assert_cmpuint (http_get (server, "/api/v1/catalog?token=s3cret-token", NULL, NULL, NULL), ==,
                    SOUP_STATUS_UNAUTHORIZED);

  /* The WebSocket handshake itself is refused without the token. */
  g_assert_false (ws_connects (server, NULL, NULL));
  g_assert_false (ws_connects (server, "token=wrong", NULL));
  g_assert_true (ws_connects (server, "token=s3cret-token", NULL));

  sonde_test_server_free (server);
}

static void
test_security_origin (void)
{
  SondeTestServer *server = sonde_test_server_new (TRUE);
  const char *allowed[] = { "https://dash.example", NULL };
  g_autofree char *code = NULL;

  sonde_server_set_allowed_origins (server->server, allowed);

  g_assert_cmpuint (http_get (server, "/status", NULL, "https://evil.example", &code), ==, SOUP_STATUS_FORBIDDEN);
  g_assert_cmpstr (code, ==, "forbidden_origin");
  g_assert_cmpuint (http_get (server, "/status", NULL, "https://dash.example", NULL), ==, SOUP_STATUS_OK);
  /* Not a browser: no Origin header at all. */
  g_assert_cmpuint (http_get (server, "/status", NULL, NULL, NULL), ==, SOUP_STATUS_OK);

  g_assert_false (ws_connects (server, NULL, "https://evil.example"));
  g_assert_true (ws_connects (server, NULL, "https://dash.example"));

  sonde_test_server_free (server);
}

static void
test_security_interval_bounds (void)
{
  SondeTestServer *server = sonde_test_server_new (TRUE);
  g_autoptr(GError) error = NULL;
  SondeTestClient *client;
  JsonObject *hello, *snapshot;

  g_assert_false (sonde_server_set_interval_bounds (server->server, 50, 1000, &error));
  g_assert_error (error, SONDE_ERROR, SONDE_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (sonde_server_set_interval_bounds (server->server, 2000, 1000, &error));
  g_assert_error (error, SONDE_ERROR, SONDE_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  g_assert_true (sonde_server_set_interval_bounds (server->server, 500, 5000, &error));
  g_assert_no_error (error);

  client = sonde_test_client_new (server, NULL);
  hello = sonde_test_client_next (client, "hello", NULL);
  g_assert_cmpint (json_object_get_int_member (hello, "interval_min_ms"), ==, 500);
  g_assert_cmpint (json_object_get_int_member (hello, "interval_max_ms"), ==, 5000);

  sonde_test_client_send (client, "{\"type\":\"subscribe\",\"id\":\"fast\",\"metrics\":[\"fake\"],\"interval_ms\":200}");
  sonde_test_client_expect_error (client, "interval_out_of_range");
  sonde_test_client_send (client, "{\"type\":\"subscribe\",\"id\":\"ok\",\"metrics\":[\"fake\"],\"interval_ms\":500}");
  snapshot = sonde_test_client_next (client, "snapshot", "ok");
  g_assert_true (json_object_has_member (snapshot, "data"));

  sonde_test_client_free (client);
  sonde_test_server_free (server);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/security/token", test_security_token);
  g_test_add_func ("/security/origin", test_security_origin);
  g_test_add_func ("/security/interval-bounds", test_security_interval_bounds);

  return g_test_run ();
}
