/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <string.h>

#include "sonde-engine-private.h"
#include "sonde-test-util.h"

/* The kairos stream at /ws/metrics, as seeds/kairos-ws-metrics-guide.md
 * documents it, field for field: Snapshots and their cadence, TimeSeries,
 * Heartbeats, shared frames, the compatibility listener and the real
 * plugins. Subscription messages and their errors are in
 * test-kairos-subscriptions.c. */

#define KAIROS_PATH "/ws/metrics"

static const char * const kairos_metrics[] = {
  "requests_total", "requests_success", "requests_error",
  "active_connections", "avg_response_time", "success_rate",
  NULL
};

/* Timing tolerances grow under valgrind, which runs everything slower. */
static double
slowness (void)
{
  const char *preload = g_getenv ("LD_PRELOAD");

  return preload != NULL && strstr (preload, "vgpreload") != NULL ? 5.0 : 1.0;
}

/* A gateway collector ------------------------------------------------------ */

/* What the gateway plugin reports (the engine's SondeGatewayStats), without
 * loading the plugin: the plugins link the shared library, the tests the
 * static one. */
#define TEST_TYPE_GATEWAY (test_gateway_get_type ())
G_DECLARE_FINAL_TYPE (TestGateway, test_gateway, TEST, GATEWAY, SondeCollector)

struct _TestGateway
{
  SondeCollector parent_instance;
};

G_DEFINE_FINAL_TYPE (TestGateway, test_gateway, SONDE_TYPE_COLLECTOR)

static SondeSample *
test_gateway_collect (SondeCollector  *collector,
                      GError         **error)
{
  SondeEngine *engine = sonde_collector_get_engine (collector);
  g_autoptr(SondeGatewayStats) stats = NULL;
  g_autoptr(JsonObject) data = NULL;

  g_assert_nonnull (engine);
  stats = g_object_ref (sonde_engine_get_gateway_stats (engine));
  data = sonde_gateway_stats_to_json (stats);
  return sonde_sample_new ("gateway", g_get_real_time (), data);
}

static void
test_gateway_constructed (GObject *object)
{
  SondeCollector *collector = SONDE_COLLECTOR (object);

  G_OBJECT_CLASS (test_gateway_parent_class)->constructed (object);

  sonde_collector_add_metric (collector, "requests_total", "count", SONDE_METRIC_KIND_COUNTER, "Requests");
  sonde_collector_add_metric (collector, "requests_success", "count", SONDE_METRIC_KIND_COUNTER, "Successes");
  sonde_collector_add_metric (collector, "requests_error", "count", SONDE_METRIC_KIND_COUNTER, "Errors");
  sonde_collector_add_metric (collector, "active_connections", "count", SONDE_METRIC_KIND_GAUGE, "Open");
  sonde_collector_add_metric (collector, "avg_response_time", "ms", SONDE_METRIC_KIND_GAUGE, "Mean time");
  sonde_collector_add_metric (collector, "success_rate", "percent", SONDE_METRIC_KIND_GAUGE, "Share");
  sonde_collector_add_metric (collector, "messages_sent", "count", SONDE_METRIC_KIND_COUNTER, "Sent");
  sonde_collector_add_metric (collector, "frames_dropped", "count", SONDE_METRIC_KIND_COUNTER, "Dropped");
  sonde_collector_add_metric (collector, "clients_by_route", "count", SONDE_METRIC_KIND_TABLE, "Routes");
}

static void
test_gateway_class_init (TestGatewayClass *klass)
{
  G_OBJECT_CLASS (klass)->constructed = test_gateway_constructed;
  SONDE_COLLECTOR_CLASS (klass)->collect = test_gateway_collect;
}

static void
test_gateway_init (TestGateway *self)
{
}

/* Servers and clients ------------------------------------------------------ */

/* The fake and other collectors, and a gateway; @history_seconds of
 * history (0: none). */
static SondeTestServer *
kairos_server_new (guint history_seconds)
{
  SondeTestServer *server = sonde_test_server_new (TRUE);
  g_autoptr(SondeCollector) gateway = g_object_new (TEST_TYPE_GATEWAY, "name", "gateway", NULL);
  g_autoptr(GError) error = NULL;

  g_assert_true (sonde_engine_add_collector (server->engine, gateway, &error));
  g_assert_no_error (error);

  if (history_seconds > 0)
    sonde_engine_set_history_length (server->engine, history_seconds);

  return server;
}

static SondeTestClient *
kairos_client_new (SondeTestServer *server)
{
  return sonde_test_client_new_for_path (server, KAIROS_PATH);
}

/* A client of another listener (a compatibility port), kept in the same
 * SondeTestClient so that the util's waiting functions apply. */
static void
local_frame_free (SondeTestFrame *frame)
{
  g_clear_pointer (&frame->object, json_object_unref);
  g_clear_pointer (&frame->raw, g_bytes_unref);
  g_free (frame);
}

static void
local_message_cb (SoupWebsocketConnection *connection,
                  int                      type,
                  GBytes                  *bytes,
                  SondeTestClient         *self)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  SondeTestFrame *frame;
  gsize length;
  const char *text = g_bytes_get_data (bytes, &length);

  g_assert_cmpint (type, ==, SOUP_WEBSOCKET_DATA_TEXT);
  json_parser_load_from_data (parser, text, length, &error);
  g_assert_no_error (error);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)));

  frame = g_new0 (SondeTestFrame, 1);
  frame->object = json_object_ref (json_node_get_object (json_parser_get_root (parser)));
  frame->raw = g_bytes_ref (bytes);
  g_ptr_array_add (self->frames, frame);
}

static void
local_closed_cb (SoupWebsocketConnection *connection,
                 SondeTestClient         *self)
{
  self->closed = TRUE;
}

typedef struct
{
  SondeTestClient *client;
  GError          *error;
  gboolean         done;
} LocalConnect;

static void
local_connected_cb (GObject      *source,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  LocalConnect *data = user_data;

  data->client->connection = soup_session_websocket_connect_finish (SOUP_SESSION (source), result,
                                                                    &data->error);
  if (data->client->connection != NULL)
    {
      g_signal_connect (data->client->connection, "message", G_CALLBACK (local_message_cb), data->client);
      g_signal_connect (data->client->connection, "closed", G_CALLBACK (local_closed_cb), data->client);
    }
  data->done = TRUE;
}

static SondeTestClient *
client_new_for_port (guint       port,
                     const char *path)
{
  SondeTestClient *self = g_new0 (SondeTestClient, 1);
  g_autofree char *uri = g_strdup_printf ("ws://127.0.0.1:%u%s", port, path);
  g_autoptr(SoupMessage) msg = soup_message_new ("GET", uri);
  LocalConnect data = { self, NULL, FALSE };

  self->frames = g_ptr_array_new_with_free_func ((GDestroyNotify) local_frame_free);
  self->session = sonde_test_session_new ();
  soup_session_websocket_connect_async (self->session, msg, NULL, NULL, G_PRIORITY_DEFAULT, NULL,
                                        local_connected_cb, &data);
  sonde_test_wait_until (data.done);
  g_assert_no_error (data.error);
  g_assert_nonnull (self->connection);
  return self;
}

/* Frames ------------------------------------------------------------------- */

/* Member names in their order, joined with ','. */
static char *
ordered_members (JsonObject *object)
{
  g_autoptr(GString) text = g_string_new (NULL);
  JsonObjectIter iter;
  const char *member;
  JsonNode *node;

  json_object_iter_init_ordered (&iter, object);
  while (json_object_iter_next_ordered (&iter, &member, &node))
    {
      if (text->len > 0)
        g_string_append_c (text, ',');
      g_string_append (text, member);
    }

  return g_string_free (g_steal_pointer (&text), FALSE);
}

/* "2024-11-07T10:30:00Z": ISO 8601 UTC to the second. Returns epoch
 * seconds. */
static gint64
parse_kairos_timestamp (const char *timestamp)
{
  g_autoptr(GDateTime) dt = NULL;

  g_assert_nonnull (timestamp);
  if (!g_regex_match_simple ("^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ$", timestamp, 0, 0))
    {
      g_autofree char *message = g_strdup_printf ("'%s' is not like 2024-11-07T10:30:00Z", timestamp);
      g_assertion_message (G_LOG_DOMAIN, __FILE__, __LINE__, G_STRFUNC, message);
    }

  dt = g_date_time_new_from_iso8601 (timestamp, NULL);
  g_assert_nonnull (dt);
  return g_date_time_to_unix (dt);
}

static GType
value_type (JsonObject *object,
            const char *member)
{
  JsonNode *node = json_object_get_member (object, member);

  g_assert_nonnull (node);
  g_assert_true (JSON_NODE_HOLDS_VALUE (node));
  return json_node_get_value_type (node);
}

static JsonObject *
next_snapshot (SondeTestClient *client)
{
  return sonde_test_client_next (client, "Snapshot", NULL);
}

static void
expect_error (SondeTestClient *client,
              const char      *message)
{
  JsonObject *error = sonde_test_client_next (client, "Error", NULL);
  g_autofree char *members = ordered_members (error);

  g_assert_cmpstr (members, ==, "type,message");
  g_assert_cmpstr (json_object_get_string_member (error, "message"), ==, message);
}

/* The members of a Snapshot after type and timestamp. */
static void
assert_snapshot_metrics (JsonObject *snapshot,
                         const char *expected)
{
  g_autofree char *members = ordered_members (snapshot);
  g_autofree char *full = g_strconcat ("type,timestamp,", expected, NULL);

  g_assert_cmpstr (members, ==, full);
  parse_kairos_timestamp (json_object_get_string_member (snapshot, "timestamp"));
}

/* Every documented Snapshot field, with its type. */
static void
assert_kairos_snapshot (JsonObject *snapshot)
{
  assert_snapshot_metrics (snapshot, "requests_total,requests_success,requests_error,"
                                     "active_connections,avg_response_time,success_rate");
  g_assert_cmpstr (json_object_get_string_member (snapshot, "type"), ==, "Snapshot");

  for (guint i = 0; i < 4; i++)
    {
      g_assert_true (value_type (snapshot, kairos_metrics[i]) == G_TYPE_INT64);
      g_assert_cmpint (json_object_get_int_member (snapshot, kairos_metrics[i]), >=, 0);
    }
  g_assert_true (value_type (snapshot, "avg_response_time") == G_TYPE_DOUBLE);
  g_assert_cmpfloat (json_object_get_double_member (snapshot, "avg_response_time"), >=, 0.0);
  g_assert_true (value_type (snapshot, "success_rate") == G_TYPE_DOUBLE);
  g_assert_cmpfloat (json_object_get_double_member (snapshot, "success_rate"), >=, 0.0);
  g_assert_cmpfloat (json_object_get_double_member (snapshot, "success_rate"), <=, 100.0);

  /* Successes and errors add up. */
  g_assert_cmpint (json_object_get_int_member (snapshot, "requests_success") +
                   json_object_get_int_member (snapshot, "requests_error"), ==,
                   json_object_get_int_member (snapshot, "requests_total"));
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
  snapshot = next_snapshot (client);
  elapsed_ms = (g_get_monotonic_time () - started) / 1000;
  g_test_message ("first Snapshot after %" G_GINT64_FORMAT " ms", elapsed_ms);
  g_assert_cmpint (elapsed_ms, <, 500 * slowness ());

  assert_kairos_snapshot (snapshot);
  /* This very connection is one. */
  g_assert_cmpint (json_object_get_int_member (snapshot, "active_connections"), >=, 1);
  g_assert_cmpint (ABS (parse_kairos_timestamp (json_object_get_string_member (snapshot, "timestamp")) -
                        g_get_real_time () / G_USEC_PER_SEC), <=, 2);

  /* The periodic ones carry the same fields, with the server's traffic:
   * one request answered. */
  response = sonde_test_http (server, "GET", "/status");
  g_assert_cmpuint (response->status, ==, 200);
  sonde_test_client_take_all (client);
  snapshot = next_snapshot (client);
  assert_kairos_snapshot (snapshot);
  g_assert_cmpint (json_object_get_int_member (snapshot, "requests_total"), >=, 1);
  g_assert_cmpint (json_object_get_int_member (snapshot, "requests_success"), >=, 1);
  g_assert_cmpint (json_object_get_int_member (snapshot, "active_connections"), >=, 1);
  g_assert_cmpuint (client->n_binary, ==, 0);

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
      JsonObject *snapshot = next_snapshot (client);
      gint64 arrival = g_get_monotonic_time ();
      gint64 second = parse_kairos_timestamp (json_object_get_string_member (snapshot, "timestamp"));

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
  next_snapshot (client);
  assert_cadence (client, 1, 4);

  /* Every two seconds: a Snapshot of the new subscription at once, then
   * on even seconds. */
  sonde_test_client_send (client, "{\"metrics\":[\"requests_total\"],\"interval_seconds\":2}");
  do
    snapshot = next_snapshot (client);
  while (!json_object_has_member (snapshot, "requests_total") ||
         json_object_has_member (snapshot, "success_rate"));
  assert_snapshot_metrics (snapshot, "requests_total");
  assert_cadence (client, 2, 3);

  sonde_test_client_free (client);
  sonde_test_server_free (server);
}

/* Sends @subscription and returns the first Snapshot that has the
 * members of @expected (the one right after the subscription). */
static JsonObject *
subscribe (SondeTestClient *client,
           const char      *subscription,
           const char      *expected)
{
  g_autofree char *full = g_strconcat ("type,timestamp,", expected, NULL);
  SondeTestDeadline *deadline = sonde_test_deadline_new (SONDE_TEST_TIMEOUT_MS);

  sonde_test_client_send (client, "%s", subscription);
  for (;;)
    {
      JsonObject *snapshot = next_snapshot (client);
      g_autofree char *members = ordered_members (snapshot);

      if (g_str_equal (members, full))
        {
          sonde_test_deadline_free (deadline);
          return snapshot;
        }
      g_assert_false (sonde_test_deadline_passed (deadline));
    }
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
      g_autofree char *members = ordered_members (point);
      gint64 second = parse_kairos_timestamp (json_object_get_string_member (point, "timestamp"));

      g_assert_cmpstr (members, ==, "timestamp,value");
      g_assert_true (value_type (point, "value") == G_TYPE_DOUBLE);
      g_assert_cmpint (second * 1000, ==, g_array_index (timestamps, gint64, i));
      g_assert_cmpfloat (json_object_get_double_member (point, "value"), ==, g_array_index (values, double, i));
    }
}

static JsonObject *
next_series (SondeTestClient *client,
             const char      *metric_name)
{
  JsonObject *series = sonde_test_client_next (client, "TimeSeries", NULL);
  g_autofree char *members = ordered_members (series);

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
  next_snapshot (client);
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
  assert_snapshot_metrics (next_snapshot (client),
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
  next_snapshot (client);

  /* Rather than nothing; the subscription is taken all the same. */
  sonde_test_client_send (client, "{\"metrics\":[\"requests_total\"],\"include_history\":true}");
  expect_error (client, "History is not available");
  assert_snapshot_metrics (next_snapshot (client), "requests_total");
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
  next_snapshot (client);

  /* A minute between Snapshots: silence, filled by heartbeats. */
  subscribe (client, "{\"metrics\":[\"requests_total\"],\"interval_seconds\":60}", "requests_total");
  heartbeat = sonde_test_client_next (client, "Heartbeat", NULL);
  members = ordered_members (heartbeat);
  g_assert_cmpstr (members, ==, "type,timestamp");
  g_assert_cmpint (ABS (parse_kairos_timestamp (json_object_get_string_member (heartbeat, "timestamp")) -
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

  next_snapshot (a);
  next_snapshot (b);

  /* The default subscription of both: one group. */
  g_assert_cmpuint (_sonde_hub_get_n_groups (hub), ==, 1);
  same_tick_snapshots (a, b, &frame_a, &frame_b);
  g_assert_true (g_bytes_equal (frame_a->raw, frame_b->raw));

  /* Equal subscriptions share their group, and each tick's frame is
   * encoded once for both. */
  subscribe (a, "{\"metrics\":[\"requests_total\",\"fake.value\"],\"interval_seconds\":1}", "requests_total,fake.value");
  g_assert_cmpuint (_sonde_hub_get_n_groups (hub), ==, 2);
  subscribe (b, "{\"metrics\":[\"requests_total\",\"fake.value\"],\"include_history\":false}", "requests_total,fake.value");
  g_assert_cmpuint (_sonde_hub_get_n_groups (hub), ==, 1);

  sonde_test_client_take_all (a);
  sonde_test_client_take_all (b);
  encoded = _sonde_hub_get_n_encoded (hub);
  same_tick_snapshots (a, b, &frame_a, &frame_b);
  g_assert_true (g_bytes_equal (frame_a->raw, frame_b->raw));
  g_assert_cmpuint (_sonde_hub_get_n_encoded (hub) - encoded, ==, 1);

  /* Another order is another Snapshot, so another group. */
  subscribe (b, "{\"metrics\":[\"fake.value\",\"requests_total\"]}", "fake.value,requests_total");
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

  client = client_new_for_port (port, KAIROS_PATH);
  assert_kairos_snapshot (next_snapshot (client));

  sonde_test_client_send (client, "{\"interval_seconds\":2}");
  expect_error (client, "Invalid subscription: missing field `metrics`");
  subscribe (client, "{\"metrics\":[\"requests_total\",\"success_rate\"],\"interval_seconds\":1}",
             "requests_total,success_rate");
  assert_snapshot_metrics (next_snapshot (client), "requests_total,success_rate");

  sonde_test_client_free (client);
  sonde_test_server_free (server);
}

/* The real collectors: the gateway plugin's fields, and native names. */
static void
test_kairos_plugins (void)
{
  SondeTestServer *server = sonde_test_server_new (FALSE);
  SondeTestClient *client;
  JsonObject *snapshot;
  g_autofree char *members = NULL;

  if (g_getenv ("SONDE_PLUGIN_PATH") != NULL)
    sonde_engine_load_plugins (server->engine, NULL);

  if (sonde_engine_get_collector (server->engine, "gateway") == NULL ||
      sonde_engine_get_collector (server->engine, "memory") == NULL ||
      sonde_engine_get_collector (server->engine, "cpu") == NULL)
    {
      g_test_skip ("The collector plugins are not available (SONDE_PLUGIN_PATH)");
      sonde_test_server_free (server);
      return;
    }

  client = kairos_client_new (server);
  assert_kairos_snapshot (next_snapshot (client));

  sonde_test_client_take_all (client);
  sonde_test_client_send (client, "{\"metrics\":[\"cpu.usage_percent\",\"memory.*\",\"requests_total\"]}");
  do
    {
      g_clear_pointer (&members, g_free);
      snapshot = next_snapshot (client);
      members = ordered_members (snapshot);
    }
  while (!g_str_has_suffix (members, ",requests_total"));

  /* Flattened, in the order asked for; the pattern's members in the
   * collector's order. */
  g_assert_true (g_str_has_prefix (members, "type,timestamp,cpu.usage_percent,memory."));
  g_assert_nonnull (strstr (members, ",memory.total_bytes,"));
  g_assert_nonnull (strstr (members, ",memory.usage_percent,"));
  g_assert_true (value_type (snapshot, "cpu.usage_percent") == G_TYPE_DOUBLE ||
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
  g_test_add_func ("/kairos/cadence", test_kairos_cadence);
  g_test_add_func ("/kairos/history", test_kairos_history);
  g_test_add_func ("/kairos/no-history", test_kairos_no_history);
  g_test_add_func ("/kairos/heartbeat", test_kairos_heartbeat);
  g_test_add_func ("/kairos/shared-frames", test_kairos_shared_frames);
  g_test_add_func ("/kairos/compat-listener", test_kairos_compat_listener);
  g_test_add_func ("/kairos/plugins", test_kairos_plugins);

  return g_test_run ();
}
