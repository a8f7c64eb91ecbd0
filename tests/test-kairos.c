/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <string.h>

#include "sonde-engine-private.h"
#include "kairos-test-util.h"

/* The kairos stream at /ws/metrics, as docs/formats/kairos.md
 * documents it, field for field: Snapshots and their cadence, TimeSeries,
 * Heartbeats, shared frames, the compatibility listener and the real
 * plugins. Subscription messages and their errors are in
 * test-kairos-subscriptions.c. */

/* Timing tolerances grow under valgrind, which runs everything slower. */
static double
slowness (void)
{
  const char *preload = g_getenv ("LD_PRELOAD");

  return preload != NULL && strstr (preload, "vgpreload") != NULL ? 5.0 : 1.0;
}

/* Tests -------------------------------------------------------------------- */

static void
test_kairos_snapshot_on_connect (void)
{
  SondeTestServer *server = kairos_server_new (0);
  g_autoptr(SondeTestResponse) response = NULL;
  SondeTestClient *client;
  JsonObject *snapshot;
  gint64 started, elapsed_ms;

  /* The engine has sampled nothing yet: the Snapshot still comes at once. */
  started = g_get_monotonic_time ();
  client = kairos_client_new (server);
  snapshot = kairos_next_snapshot (client);
  elapsed_ms = (g_get_monotonic_time () - started) / 1000;
  g_test_message ("first Snapshot after %" G_GINT64_FORMAT " ms", elapsed_ms);
  g_assert_cmpint (elapsed_ms, <, 500 * slowness ());

  kairos_assert_snapshot (snapshot);
  /* This very connection is one. */
  g_assert_cmpint (json_object_get_int_member (snapshot, "active_connections"), >=, 1);
  g_assert_cmpint (ABS (kairos_parse_timestamp (json_object_get_string_member (snapshot, "timestamp")) -
                        g_get_real_time () / G_USEC_PER_SEC), <=, 2);

  /* The periodic ones carry the same fields, with the server's traffic:
   * one request answered. */
  response = sonde_test_http (server, "GET", "/status");
  g_assert_cmpuint (response->status, ==, 200);
  sonde_test_client_take_all (client);
  snapshot = kairos_next_snapshot (client);
  kairos_assert_snapshot (snapshot);
  g_assert_cmpint (json_object_get_int_member (snapshot, "requests_total"), >=, 1);
  g_assert_cmpint (json_object_get_int_member (snapshot, "requests_success"), >=, 1);
  g_assert_cmpint (json_object_get_int_member (snapshot, "active_connections"), >=, 1);
  g_assert_cmpuint (client->n_binary, ==, 0);

  sonde_test_client_free (client);
  sonde_test_server_free (server);
}

static void
refreshed_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  gboolean *done = user_data;

  g_assert_true (sonde_engine_refresh_finish (SONDE_ENGINE (source), result, NULL));
  *done = TRUE;
}

/* The gateway was sampled before the client came, as in a daemon that
 * has been running: the first Snapshot must not say the client is not
 * there. */
static void
test_kairos_snapshot_counts_new_connection (void)
{
  SondeTestServer *server = kairos_server_new (0);
  const char * const gateway[] = { "gateway", NULL };
  SondeTestClient *client;
  JsonObject *snapshot;
  SondeSample *latest;
  gboolean done = FALSE;

  sonde_engine_refresh_async (server->engine, gateway, NULL, refreshed_cb, &done);
  sonde_test_wait_until (done);
  latest = sonde_engine_get_latest (server->engine, "gateway");
  g_assert_nonnull (latest);
  g_assert_cmpint (json_object_get_int_member (sonde_sample_get_data (latest), "active_connections"), ==, 0);

  client = kairos_client_new (server);
  snapshot = kairos_next_snapshot (client);
  kairos_assert_snapshot (snapshot);
  g_assert_cmpint (json_object_get_int_member (snapshot, "active_connections"), ==, 1);

  sonde_test_client_free (client);
  sonde_test_server_free (server);
}

/* Waits for @n Snapshots; checks their timestamps are @interval seconds
 * apart and aligned, and that they arrived about as often. */
static void
assert_cadence (SondeTestClient *client,
                guint            interval,
                guint            n)
{
  gint64 previous_second = 0, previous_arrival = 0;

  for (guint i = 0; i < n; i++)
    {
      JsonObject *snapshot = kairos_next_snapshot (client);
      gint64 arrival = g_get_monotonic_time ();
      gint64 second = kairos_parse_timestamp (json_object_get_string_member (snapshot, "timestamp"));

      g_assert_cmpint (second % interval, ==, 0);
      if (i > 0)
        {
          double gap = (arrival - previous_arrival) / (double) G_USEC_PER_SEC;

          g_test_message ("Snapshot %u: %" G_GINT64_FORMAT " s after the previous, received %.3f s later",
                          i, second - previous_second, gap);
          g_assert_cmpint (second - previous_second, ==, interval);
          g_assert_cmpfloat (gap, >=, interval - 0.5);
          g_assert_cmpfloat (gap, <=, interval + 0.5 * slowness ());
        }
      previous_second = second;
      previous_arrival = arrival;
    }
}

static void
test_kairos_cadence (void)
{
  SondeTestServer *server = kairos_server_new (0);
  SondeTestClient *client = kairos_client_new (server);
  JsonObject *snapshot;

  /* Default: every second. */
  kairos_next_snapshot (client);
  assert_cadence (client, 1, 4);

  /* Every two seconds: a Snapshot of the new subscription at once, then
   * on even seconds. */
  sonde_test_client_send (client, "{\"metrics\":[\"requests_total\"],\"interval_seconds\":2}");
  do
    snapshot = kairos_next_snapshot (client);
  while (!json_object_has_member (snapshot, "requests_total") ||
         json_object_has_member (snapshot, "success_rate"));
  kairos_assert_snapshot_metrics (snapshot, "requests_total");
  assert_cadence (client, 2, 3);

  sonde_test_client_free (client);
  sonde_test_server_free (server);
}

/* The points of a TimeSeries are the history's own, oldest first; the
 * history may have gained a point since it was sent. */
static void
assert_series_matches (JsonObject   *series,
                       SondeHistory *history,
                       const char   *metric)
{
  JsonArray *points = json_object_get_array_member (series, "data_points");
  g_autoptr(GArray) timestamps = NULL;
  g_autoptr(GArray) values = NULL;
  guint n_points = sonde_history_get_points (history, metric, 3600, &timestamps, &values);
  guint n_sent = json_array_get_length (points);

  g_test_message ("%s: %u points sent, %u in the history", metric, n_sent, n_points);
  g_assert_cmpuint (n_sent, >=, 2);
  g_assert_cmpuint (n_points, >=, n_sent);
  g_assert_cmpuint (n_points - n_sent, <=, 2);

  for (guint i = 0; i < n_sent; i++)
    {
      JsonObject *point = json_array_get_object_element (points, i);
      g_autofree char *members = kairos_ordered_members (point);
      gint64 second = kairos_parse_timestamp (json_object_get_string_member (point, "timestamp"));

      g_assert_cmpstr (members, ==, "timestamp,value");
      g_assert_true (kairos_value_type (point, "value") == G_TYPE_DOUBLE);
      g_assert_cmpint (second * 1000, ==, g_array_index (timestamps, gint64, i));
      g_assert_cmpfloat (json_object_get_double_member (point, "value"), ==, g_array_index (values, double, i));
    }
}

static JsonObject *
next_series (SondeTestClient *client,
             const char      *metric_name)
{
  JsonObject *series = sonde_test_client_next (client, "TimeSeries", NULL);
  g_autofree char *members = kairos_ordered_members (series);

  g_assert_cmpstr (members, ==, "type,metric_name,data_points");
  g_assert_cmpstr (json_object_get_string_member (series, "metric_name"), ==, metric_name);
  return series;
}

static void
test_kairos_history (void)
{
  SondeTestServer *server = kairos_server_new (120);
  SondeHistory *history = sonde_engine_get_history (server->engine);
  SondeTestClient *client;
  guint first_series = G_MAXUINT;

  g_assert_nonnull (history);
  /* A few seconds of samples. */
  sonde_test_wait_until (sonde_history_get_points (history, "fake.value", 3600, NULL, NULL) >= 3 &&
                         sonde_history_get_points (history, "gateway.requests_total", 3600, NULL, NULL) >= 3);

  client = kairos_client_new (server);
  kairos_next_snapshot (client);
  sonde_test_client_take_all (client);

  sonde_test_client_send (client, "{\"metrics\":[\"requests_total\",\"response_time_avg\",\"fake.value\","
                                  "\"fake.text\",\"other.*\"],\"interval_seconds\":1,\"include_history\":true}");

  /* One per numeric metric, named as asked for; a pattern's by their full
   * names; none for text. */
  assert_series_matches (next_series (client, "requests_total"), history, "gateway.requests_total");
  assert_series_matches (next_series (client, "response_time_avg"), history, "gateway.avg_response_time");
  assert_series_matches (next_series (client, "fake.value"), history, "fake.value");
  assert_series_matches (next_series (client, "other.value"), history, "other.value");

  /* All together, then the subscription's Snapshot. */
  for (guint i = 0; i < client->frames->len && first_series == G_MAXUINT; i++)
    if (g_str_equal (json_object_get_string_member (((SondeTestFrame *) g_ptr_array_index (client->frames, i))->object,
                                                    "type"), "TimeSeries"))
      first_series = i;
  sonde_test_wait_until (client->frames->len > first_series + 4);
  for (guint i = first_series; i <= first_series + 4; i++)
    {
      JsonObject *frame = ((SondeTestFrame *) g_ptr_array_index (client->frames, i))->object;

      g_assert_cmpstr (json_object_get_string_member (frame, "type"), ==, i < first_series + 4 ? "TimeSeries" : "Snapshot");
    }
  kairos_assert_snapshot_metrics (kairos_next_snapshot (client),
                                  "requests_total,response_time_avg,fake.value,fake.text,other.value,other.text,other.items");
  g_assert_cmpuint (sonde_test_client_count (client, "TimeSeries", NULL), ==, 0);
  g_assert_cmpuint (sonde_test_client_count (client, "Error", NULL), ==, 0);

  sonde_test_client_free (client);
  sonde_test_server_free (server);
}

static void
test_kairos_no_history (void)
{
  SondeTestServer *server = kairos_server_new (0);
  SondeTestClient *client = kairos_client_new (server);

  g_assert_null (sonde_engine_get_history (server->engine));
  kairos_next_snapshot (client);

  /* Rather than nothing; the subscription is taken all the same. */
  sonde_test_client_send (client, "{\"metrics\":[\"requests_total\"],\"include_history\":true}");
  kairos_expect_error (client, "History is not available");
  kairos_assert_snapshot_metrics (kairos_next_snapshot (client), "requests_total");
  g_assert_cmpuint (sonde_test_client_count (client, "TimeSeries", NULL), ==, 0);

  sonde_test_client_free (client);
  sonde_test_server_free (server);
}

static void
test_kairos_heartbeat (void)
{
  SondeTestServer *server = kairos_server_new (0);
  SondeTestClient *client;
  JsonObject *heartbeat;
  g_autofree char *members = NULL;

  sonde_server_set_heartbeat_interval (server->server, 1);
  client = kairos_client_new (server);
  kairos_next_snapshot (client);

  /* A minute between Snapshots: silence, filled by heartbeats. */
  kairos_subscribe (client, "{\"metrics\":[\"requests_total\"],\"interval_seconds\":60}", "requests_total");
  heartbeat = sonde_test_client_next (client, "Heartbeat", NULL);
  members = kairos_ordered_members (heartbeat);
  g_assert_cmpstr (members, ==, "type,timestamp");
  g_assert_cmpint (ABS (kairos_parse_timestamp (json_object_get_string_member (heartbeat, "timestamp")) -
                        g_get_real_time () / G_USEC_PER_SEC), <=, 2);
  sonde_test_client_next (client, "Heartbeat", NULL);

  sonde_test_client_free (client);
  sonde_test_server_free (server);
}

/* The next Snapshots of @a and @b of the same tick. */
static void
same_tick_snapshots (SondeTestClient  *a,
                     SondeTestClient  *b,
                     SondeTestFrame  **frame_a,
                     SondeTestFrame  **frame_b)
{
  *frame_a = sonde_test_client_next_frame (a, "Snapshot", NULL);
  *frame_b = sonde_test_client_next_frame (b, "Snapshot", NULL);

  for (;;)
    {
      int order = g_strcmp0 (json_object_get_string_member ((*frame_a)->object, "timestamp"),
                             json_object_get_string_member ((*frame_b)->object, "timestamp"));

      if (order == 0)
        return;
      if (order < 0)
        *frame_a = sonde_test_client_next_frame (a, "Snapshot", NULL);
      else
        *frame_b = sonde_test_client_next_frame (b, "Snapshot", NULL);
    }
}

static void
test_kairos_shared_frames (void)
{
  SondeTestServer *server = kairos_server_new (0);
  SondeHub *hub = _sonde_engine_get_hub (server->engine);
  SondeTestClient *a = kairos_client_new (server);
  SondeTestClient *b = kairos_client_new (server);
  SondeTestFrame *frame_a, *frame_b;
  guint64 encoded;

  kairos_next_snapshot (a);
  kairos_next_snapshot (b);

  /* The default subscription of both: one group. */
  g_assert_cmpuint (_sonde_hub_get_n_groups (hub), ==, 1);
  same_tick_snapshots (a, b, &frame_a, &frame_b);
  g_assert_true (g_bytes_equal (frame_a->raw, frame_b->raw));

  /* Equal subscriptions share their group, and each tick's frame is
   * encoded once for both. */
  kairos_subscribe (a, "{\"metrics\":[\"requests_total\",\"fake.value\"],\"interval_seconds\":1}", "requests_total,fake.value");
  g_assert_cmpuint (_sonde_hub_get_n_groups (hub), ==, 2);
  kairos_subscribe (b, "{\"metrics\":[\"requests_total\",\"fake.value\"],\"include_history\":false}", "requests_total,fake.value");
  g_assert_cmpuint (_sonde_hub_get_n_groups (hub), ==, 1);

  sonde_test_client_take_all (a);
  sonde_test_client_take_all (b);
  encoded = _sonde_hub_get_n_encoded (hub);
  same_tick_snapshots (a, b, &frame_a, &frame_b);
  g_assert_true (g_bytes_equal (frame_a->raw, frame_b->raw));
  g_assert_cmpuint (_sonde_hub_get_n_encoded (hub) - encoded, ==, 1);

  /* Another order is another Snapshot, so another group. */
  kairos_subscribe (b, "{\"metrics\":[\"fake.value\",\"requests_total\"]}", "fake.value,requests_total");
  g_assert_cmpuint (_sonde_hub_get_n_groups (hub), ==, 2);

  sonde_test_client_free (a);
  sonde_test_client_free (b);
  sonde_test_server_free (server);
}

static void
test_kairos_compat_listener (void)
{
  SondeTestServer *server = kairos_server_new (0);
  g_autoptr(GError) error = NULL;
  SondeTestClient *client;
  guint port;

  g_assert_cmpuint (sonde_server_get_compat_port ("kairos"), ==, 5900);

  port = sonde_server_listen_compat (server->server, "kairos", "127.0.0.1", 0, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (port, >, 0);
  g_assert_cmpuint (port, !=, sonde_server_get_port (server->server));

  client = sonde_test_client_new_for_port (port, KAIROS_PATH);
  kairos_assert_snapshot (kairos_next_snapshot (client));

  sonde_test_client_send (client, "{\"interval_seconds\":2}");
  kairos_expect_error (client, "Invalid subscription: missing field `metrics`");
  kairos_subscribe (client, "{\"metrics\":[\"requests_total\",\"success_rate\"],\"interval_seconds\":1}",
                    "requests_total,success_rate");
  kairos_assert_snapshot_metrics (kairos_next_snapshot (client), "requests_total,success_rate");
  /* Text frames only. */
  g_assert_cmpuint (client->n_binary, ==, 0);

  sonde_test_client_free (client);
  sonde_test_server_free (server);
}

/* The real collectors: the gateway plugin's fields, and native names. */
static void
test_kairos_plugins (void)
{
  SondeTestServer *server = sonde_test_server_new_with_plugins ("gateway", "memory", "cpu", NULL);
  SondeTestClient *client;
  JsonObject *snapshot;
  g_autofree char *members = NULL;

  if (server == NULL)
    return;

  client = kairos_client_new (server);
  kairos_assert_snapshot (kairos_next_snapshot (client));

  sonde_test_client_take_all (client);
  sonde_test_client_send (client, "{\"metrics\":[\"cpu.usage_percent\",\"memory.*\",\"requests_total\"]}");
  do
    {
      g_clear_pointer (&members, g_free);
      snapshot = kairos_next_snapshot (client);
      members = kairos_ordered_members (snapshot);
    }
  while (!g_str_has_suffix (members, ",requests_total"));

  /* Flattened, in the order asked for; the pattern's members in the
   * collector's order. */
  g_assert_true (g_str_has_prefix (members, "type,timestamp,cpu.usage_percent,memory."));
  g_assert_nonnull (strstr (members, ",memory.total_bytes,"));
  g_assert_nonnull (strstr (members, ",memory.usage_percent,"));
  g_assert_true (kairos_value_type (snapshot, "cpu.usage_percent") == G_TYPE_DOUBLE ||
                 json_node_is_null (json_object_get_member (snapshot, "cpu.usage_percent")));
  g_assert_cmpint (json_object_get_int_member (snapshot, "memory.total_bytes"), >, 0);
  g_assert_cmpfloat (json_object_get_double_member (snapshot, "memory.usage_percent"), >, 0.0);
  g_assert_cmpfloat (json_object_get_double_member (snapshot, "memory.usage_percent"), <=, 100.0);

  sonde_test_client_free (client);
  sonde_test_server_free (server);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/kairos/snapshot-on-connect", test_kairos_snapshot_on_connect);
  g_test_add_func ("/kairos/snapshot-counts-new-connection", test_kairos_snapshot_counts_new_connection);
  g_test_add_func ("/kairos/cadence", test_kairos_cadence);
  g_test_add_func ("/kairos/history", test_kairos_history);
  g_test_add_func ("/kairos/no-history", test_kairos_no_history);
  g_test_add_func ("/kairos/heartbeat", test_kairos_heartbeat);
  g_test_add_func ("/kairos/shared-frames", test_kairos_shared_frames);
  g_test_add_func ("/kairos/compat-listener", test_kairos_compat_listener);
  g_test_add_func ("/kairos/plugins", test_kairos_plugins);

  return g_test_run ();
}
