/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "sonde-test-util.h"

/* SondeHistory and how the native protocol and the REST API serve it. */

static void
test_history_records_numeric_fields (void)
{
  g_autoptr(SondeEngine) engine = sonde_engine_new ();
  g_autoptr(SondeFakeCollector) fake = sonde_fake_collector_new ("fake");
  g_autoptr(GArray) timestamps = NULL;
  g_autoptr(GArray) values = NULL;
  SondeHistory *history;
  guint n_points;

  sonde_engine_add_collector (engine, SONDE_COLLECTOR (fake), NULL);
  g_assert_null (sonde_engine_get_history (engine));

  sonde_engine_set_history_length (engine, 60);
  history = sonde_engine_get_history (engine);
  g_assert_nonnull (history);
  g_assert_cmpuint (sonde_history_get_length (history), ==, 60);

  /* History is a consumer: it keeps the collector sampled at 1 s. */
  sonde_test_wait_until_full (sonde_fake_collector_get_n_collected (fake) >= 3, 6000);

  g_assert_true (sonde_history_has_metric (history, "fake.value"));
  g_assert_false (sonde_history_has_metric (history, "fake.text"));
  g_assert_false (sonde_history_has_metric (history, "fake.items"));
  g_assert_cmpuint (sonde_history_get_n_metrics (history), ==, 1);
  /* 12 bytes per point, a point per second of the length. */
  g_assert_cmpuint (sonde_history_get_memory_size (history), ==, 60 * 12);

  n_points = sonde_history_get_points (history, "fake.value", 60, &timestamps, &values);
  g_assert_cmpuint (n_points, >=, 2);
  g_assert_cmpuint (timestamps->len, ==, n_points);
  for (guint i = 0; i < n_points; i++)
    {
      /* The fake counts its collections: 1, 2, 3... one a second. */
      g_assert_cmpfloat (g_array_index (values, double, i), ==, i + 1);
      g_assert_cmpint (g_array_index (timestamps, gint64, i) % 1000, ==, 0);
      if (i > 0)
        g_assert_cmpint (g_array_index (timestamps, gint64, i) - g_array_index (timestamps, gint64, i - 1), ==, 1000);
    }

  /* Only the last second. */
  g_assert_cmpuint (sonde_history_get_points (history, "fake.value", 1, NULL, NULL), <=, 1);
  g_assert_cmpuint (sonde_history_get_points (history, "fake.nope", 60, NULL, NULL), ==, 0);

  /* Stopping the history stops the sampling it asked for. */
  sonde_engine_set_history_length (engine, 0);
  g_assert_null (sonde_engine_get_history (engine));
  sonde_test_wait_until (!sonde_collector_get_running (SONDE_COLLECTOR (fake)));
}

/* An hour's history takes its memory as the points come, not at once. */
static void
test_history_memory_grows_with_points (void)
{
  g_autoptr(SondeEngine) engine = sonde_engine_new ();
  g_autoptr(SondeFakeCollector) fake = sonde_fake_collector_new ("fake");
  SondeHistory *history;

  sonde_engine_add_collector (engine, SONDE_COLLECTOR (fake), NULL);
  sonde_engine_set_history_length (engine, 3600);
  history = sonde_engine_get_history (engine);
  sonde_test_wait_until_full (sonde_fake_collector_get_n_collected (fake) >= 2, 6000);

  g_assert_cmpuint (sonde_history_get_n_metrics (history), ==, 1);
  /* A block of 256 seconds, two if the points straddle blocks. */
  g_assert_cmpuint (sonde_history_get_memory_size (history), >=, 256 * 12);
  g_assert_cmpuint (sonde_history_get_memory_size (history), <=, 2 * 256 * 12);
  g_assert_cmpuint (sonde_history_get_points (history, "fake.value", 3600, NULL, NULL), >=, 2);
}

static void
test_history_native_and_rest (void)
{
  SondeTestServer *server = sonde_test_server_new (TRUE);
  SondeTestClient *client;
  JsonObject *history, *snapshot, *frame;
  JsonArray *points;
  g_autoptr(SondeTestResponse) response = NULL;

  sonde_engine_set_history_length (server->engine, 120);
  sonde_test_wait_until_full (sonde_fake_collector_get_n_collected (server->fake) >= 3, 6000);

  client = sonde_test_client_new (server, NULL);
  sonde_test_client_send (client, "{\"type\":\"subscribe\",\"id\":\"h\",\"metrics\":[\"fake.*\"],\"history_seconds\":60}");

  history = sonde_test_client_next (client, "history", "h");
  g_assert_cmpstr (json_object_get_string_member (history, "metric"), ==, "fake.value");
  g_assert_cmpint (json_object_get_int_member (history, "interval_ms"), ==, 1000);
  points = json_object_get_array_member (history, "points");
  g_assert_cmpuint (json_array_get_length (points), >=, 2);
  g_assert_cmpuint (json_array_get_length (json_array_get_array_element (points, 0)), ==, 2);

  /* The live stream comes after the history. */
  snapshot = sonde_test_client_next (client, "snapshot", "h");
  g_assert_true (json_object_has_member (json_object_get_object_member (snapshot, "data"), "fake"));
  g_assert_cmpuint (sonde_test_client_count (client, "history", "h"), ==, 0);

  sonde_test_client_send (client, "{\"type\":\"subscribe\",\"id\":\"bad\",\"metrics\":[\"fake\"],\"history_seconds\":3601}");
  frame = sonde_test_client_expect_error (client, "invalid_subscription");
  g_assert_cmpstr (json_object_get_string_member (frame, "subscription"), ==, "bad");
  sonde_test_client_free (client);

  response = sonde_test_http (server, "GET", "/api/v1/history?metric=fake.value&seconds=60");
  g_assert_cmpuint (response->status, ==, SOUP_STATUS_OK);
  g_assert_cmpstr (json_object_get_string_member (response->json, "metric"), ==, "fake.value");
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (response->json, "points")), >=, 2);

  sonde_test_server_free (server);
}

static guint
http_status (SondeTestServer *server,
             const char      *path)
{
  g_autoptr(SondeTestResponse) response = sonde_test_http (server, "GET", path);

  return response->status;
}

static void
test_history_rest_errors (void)
{
  SondeTestServer *server = sonde_test_server_new (TRUE);

  /* No history kept. */
  g_assert_cmpuint (http_status (server, "/api/v1/history?metric=fake.value"), ==, SOUP_STATUS_NOT_FOUND);

  sonde_engine_set_history_length (server->engine, 30);
  g_assert_cmpuint (http_status (server, "/api/v1/history"), ==, SOUP_STATUS_BAD_REQUEST);
  g_assert_cmpuint (http_status (server, "/api/v1/history?metric=nope.x"), ==, SOUP_STATUS_NOT_FOUND);
  g_assert_cmpuint (http_status (server, "/api/v1/history?metric=fake.value&seconds=31"), ==, SOUP_STATUS_BAD_REQUEST);
  g_assert_cmpuint (http_status (server, "/api/v1/history?metric=fake.value&seconds=x"), ==, SOUP_STATUS_BAD_REQUEST);
  g_assert_cmpuint (http_status (server, "/api/v1/history?metric=fake.value&seconds=30"), ==, SOUP_STATUS_OK);

  sonde_test_server_free (server);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/history/records-numeric-fields", test_history_records_numeric_fields);
  g_test_add_func ("/history/memory-grows-with-points", test_history_memory_grows_with_points);
  g_test_add_func ("/history/native-and-rest", test_history_native_and_rest);
  g_test_add_func ("/history/rest-errors", test_history_rest_errors);

  return g_test_run ();
}
