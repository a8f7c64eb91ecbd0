/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "sonde-test-util.h"

/*
 * The native protocol's error paths at /ws/v1 (bad messages, sizes,
 * nesting, floods), spoken by libsoup's WebSocket client to a SondeServer
 * in the same process, with fake collectors "fake" and "other".
 */

/* Errors ------------------------------------------------------------------ */

typedef struct
{
  const char *message;
  const char *code;
  const char *subscription;  /* expected "subscription" of the error */
} ErrorCase;

static const ErrorCase error_cases[] = {
  { "{not json", "bad_json", NULL },
  { "", "bad_json", NULL },
  { "[1,2,3]", "bad_json", NULL },
  { "\"subscribe\"", "bad_json", NULL },
  { "{\"id\":\"x\"}", "bad_json", NULL },
  { "{\"type\":42}", "bad_json", NULL },
  { "{\"type\":\"subscribe\",\"metrics\":[\"nope.x\"]}", "unknown_metric", "default" },
  { "{\"type\":\"subscribe\",\"id\":\"s1\",\"metrics\":[\"fake.nope\"]}", "unknown_metric", "s1" },
  { "{\"type\":\"subscribe\",\"id\":\"s1\",\"metrics\":[\"fake.value\"],\"interval_ms\":50}", "interval_out_of_range", "s1" },
  { "{\"type\":\"subscribe\",\"id\":\"s1\",\"metrics\":[\"fake.value\"],\"interval_ms\":70000}", "interval_out_of_range", "s1" },
  { "{\"type\":\"subscribe\",\"metrics\":[\"fake.value\"],\"interval_ms\":-1}", "interval_out_of_range", "default" },
  { "{\"type\":\"subscribe\",\"id\":\"s1\",\"metrics\":[\"fake.value\"],\"interval_ms\":\"fast\"}", "invalid_subscription", "s1" },
  { "{\"type\":\"subscribe\",\"metrics\":[\"fake.value\"],\"interval_ms\":250.5}", "invalid_subscription", "default" },
  { "{\"type\":\"subscribe\",\"id\":\"s1\",\"metrics\":[]}", "invalid_subscription", "s1" },
  { "{\"type\":\"subscribe\",\"id\":\"s1\",\"metrics\":\"cpu\"}", "invalid_subscription", "s1" },
  { "{\"type\":\"subscribe\",\"metrics\":[1]}", "invalid_subscription", "default" },
  { "{\"type\":\"subscribe\",\"metrics\":[\"fa ke\"]}", "invalid_subscription", "default" },
  { "{\"type\":\"subscribe\",\"metrics\":[\"fake.value\"],\"events\":[\"nope\"]}", "invalid_subscription", "default" },
  { "{\"type\":\"subscribe\",\"metrics\":[\"fake.value\"],\"events\":\"alert\"}", "invalid_subscription", "default" },
  { "{\"type\":\"subscribe\",\"metrics\":[\"fake.value\"],\"history_seconds\":4000}", "invalid_subscription", "default" },
  { "{\"type\":\"subscribe\",\"id\":\"\",\"metrics\":[\"fake.value\"]}", "invalid_subscription", NULL },
  { "{\"type\":\"subscribe\",\"id\":7,\"metrics\":[\"fake.value\"]}", "invalid_subscription", NULL },
  { "{\"type\":\"unsubscribe\",\"id\":\"never\"}", "invalid_subscription", NULL },
};

static void
check_error_subscription (JsonObject *error,
                          const char *subscription)
{
  JsonNode *node = json_object_get_member (error, "subscription");

  g_assert_nonnull (node);
  if (subscription == NULL)
    g_assert_true (JSON_NODE_HOLDS_NULL (node));
  else
    g_assert_cmpstr (json_node_get_string (node), ==, subscription);
}

static void
test_error_case (gconstpointer data)
{
  const ErrorCase *error_case = data;
  SondeTestServer *server = sonde_test_server_new (TRUE);
  SondeTestClient *client = sonde_test_client_new (server, NULL);
  JsonObject *error;

  sonde_test_client_send (client, "%s", error_case->message);
  error = sonde_test_client_expect_error (client, error_case->code);
  check_error_subscription (error, error_case->subscription);
  g_test_message ("%s -> %s", error_case->message, json_object_get_string_member (error, "message"));

  /* Exactly one error, and the connection lives on. */
  sonde_test_client_ping (client);
  g_assert_cmpuint (sonde_test_client_count (client, "error", NULL), ==, 0);
  g_assert_false (client->closed);
  g_assert_cmpuint (sonde_server_get_n_clients (server->server), ==, 1);

  sonde_test_client_free (client);
  sonde_test_server_free (server);
}

static void
test_error_too_large (void)
{
  SondeTestServer *server = sonde_test_server_new (TRUE);
  SondeTestClient *client = sonde_test_client_new (server, NULL);
  g_autofree char *big = g_strnfill (70 * 1024, 'x');
  g_autofree char *fits = g_strnfill (60 * 1024, 'x');
  JsonObject *pong;

  /* 70 KiB: refused, connection kept. */
  sonde_test_client_send (client, "{\"type\":\"ping\",\"id\":\"big\",\"pad\":\"%s\"}", big);
  check_error_subscription (sonde_test_client_expect_error (client, "too_large"), NULL);
  sonde_test_client_ping (client);
  g_assert_cmpuint (sonde_test_client_count (client, "pong", NULL), ==, 0);

  /* 60 KiB is under the limit. */
  sonde_test_client_send (client, "{\"type\":\"ping\",\"id\":\"fits\",\"pad\":\"%s\"}", fits);
  pong = sonde_test_client_next (client, "pong", NULL);
  g_assert_cmpstr (json_object_get_string_member (pong, "id"), ==, "fits");

  sonde_test_client_free (client);
  sonde_test_server_free (server);
}

static void
test_error_hard_cap (void)
{
  SondeTestServer *server = sonde_test_server_new (TRUE);
  SondeTestClient *client = sonde_test_client_new (server, NULL);
  SondeTestClient *bystander = sonde_test_client_new (server, NULL);
  gsize length = SONDE_MAX_INCOMING_PAYLOAD + 1024;
  g_autofree char *huge = g_malloc (length);

  /* Beyond libsoup's incoming limit the connection is closed with 1009;
   * the server and its other clients carry on. */
  memset (huge, ' ', length);
  huge[0] = '{';
  huge[length - 1] = '}';
  sonde_test_client_send_bytes (client, SOUP_WEBSOCKET_DATA_TEXT, huge, length);
  sonde_test_wait_until (client->closed);
  /* The server answers the frame header with a 1009 close and drops the
   * connection without reading the payload, so the kernel may reset it
   * before the close frame is read: then there is no code (0). */
  g_test_message ("close code %u", soup_websocket_connection_get_close_code (client->connection));
  g_assert_true (soup_websocket_connection_get_close_code (client->connection) == SOUP_WEBSOCKET_CLOSE_TOO_BIG ||
                 soup_websocket_connection_get_close_code (client->connection) == 0);
  sonde_test_wait_until (sonde_server_get_n_clients (server->server) == 1);

  sonde_test_client_ping (bystander);
  sonde_test_client_sync (bystander);
  sonde_test_check_snapshot (sonde_test_client_next (bystander, "snapshot", NULL), "default");

  sonde_test_client_free (client);
  sonde_test_client_free (bystander);
  sonde_test_server_free (server);
}

static void
test_error_binary (void)
{
  SondeTestServer *server = sonde_test_server_new (TRUE);
  SondeTestClient *client = sonde_test_client_new (server, NULL);
  static const char json[] = "{\"type\":\"ping\",\"id\":\"binary\"}";

  /* Even valid JSON is refused in a binary frame. */
  sonde_test_client_send_bytes (client, SOUP_WEBSOCKET_DATA_BINARY, json, strlen (json));
  check_error_subscription (sonde_test_client_expect_error (client, "bad_json"), NULL);
  sonde_test_client_send_bytes (client, SOUP_WEBSOCKET_DATA_BINARY, "\x00\xff\x80", 3);
  sonde_test_client_expect_error (client, "bad_json");

  sonde_test_client_ping (client);
  g_assert_cmpuint (sonde_test_client_count (client, "pong", NULL), ==, 0);
  g_assert_cmpuint (client->n_binary, ==, 0);

  sonde_test_client_free (client);
  sonde_test_server_free (server);
}

static void
test_error_deep_nesting (void)
{
  SondeTestServer *server = sonde_test_server_new (TRUE);
  SondeTestClient *client = sonde_test_client_new (server, NULL);
  GString *text = g_string_new (NULL);
  g_autofree char *arrays = NULL;

  for (int i = 0; i < 10000; i++)
    g_string_append_c (text, '[');
  for (int i = 0; i < 10000; i++)
    g_string_append_c (text, ']');
  arrays = g_string_free (text, FALSE);

  sonde_test_client_send (client, "%s", arrays);
  sonde_test_client_expect_error (client, "bad_json");

  /* Objects, inside a valid message, and unbalanced. */
  text = g_string_new ("{\"type\":\"ping\",\"id\":");
  for (int i = 0; i < 10000; i++)
    g_string_append (text, "{\"a\":");
  g_string_append (text, "1");
  for (int i = 0; i < 10000; i++)
    g_string_append_c (text, '}');
  g_string_append_c (text, '}');
  sonde_test_client_send (client, "%s", text->str);
  sonde_test_client_expect_error (client, "bad_json");
  g_string_free (text, TRUE);

  sonde_test_client_send (client, "%.*s", 10000, arrays);
  sonde_test_client_expect_error (client, "bad_json");

  /* Nesting that is only deep inside a string is fine. */
  sonde_test_client_send (client, "{\"type\":\"ping\",\"id\":\"%.*s\"}", 5000, arrays);
  g_assert_cmpuint (strlen (json_object_get_string_member (sonde_test_client_next (client, "pong", NULL), "id")), ==, 5000);

  sonde_test_client_ping (client);
  g_assert_cmpuint (sonde_test_client_count (client, "error", NULL), ==, 0);

  sonde_test_client_free (client);
  sonde_test_server_free (server);
}

static void
test_flood (void)
{
  SondeTestServer *server = sonde_test_server_new (TRUE);
  SondeTestClient *client = sonde_test_client_new (server, NULL);
  guint n_pongs;

  for (int i = 0; i < 200; i++)
    sonde_test_client_send (client, "{\"type\":\"ping\",\"id\":\"flood-%d\"}", i);

  check_error_subscription (sonde_test_client_expect_error (client, "rate_limited"), NULL);

  /* Let the remaining messages be handled (and dropped) and the bucket
   * refill a little; then the connection works again. */
  sonde_test_spin_for (500);
  n_pongs = sonde_test_client_count (client, "pong", NULL);
  g_test_message ("%u of 200 pings answered", n_pongs);
  g_assert_cmpuint (n_pongs, >=, 50);
  g_assert_cmpuint (n_pongs, <, 200);
  /* The first ones were answered, in order. */
  g_assert_cmpstr (json_object_get_string_member (sonde_test_client_next (client, "pong", NULL), "id"), ==, "flood-0");

  sonde_test_client_ping (client);
  g_assert_false (client->closed);
  sonde_test_client_sync (client);
  sonde_test_check_snapshot (sonde_test_client_next (client, "snapshot", NULL), "default");

  sonde_test_client_free (client);
  sonde_test_server_free (server);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  for (guint i = 0; i < G_N_ELEMENTS (error_cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/ws/native/errors/%02u-%s", i, error_cases[i].code);
      g_test_add_data_func (path, &error_cases[i], test_error_case);
    }
  g_test_add_func ("/ws/native/errors/too-large", test_error_too_large);
  g_test_add_func ("/ws/native/errors/hard-cap", test_error_hard_cap);
  g_test_add_func ("/ws/native/errors/binary", test_error_binary);
  g_test_add_func ("/ws/native/errors/deep-nesting", test_error_deep_nesting);
  g_test_add_func ("/ws/native/errors/flood", test_flood);

  return g_test_run ();
}
