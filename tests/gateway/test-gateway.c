/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "sonde.h"
#include "sonde-collector-private.h"
#include "sonde-gateway-collector.h"

static const char * const fields[] = {
  "requests_total", "requests_success", "requests_error", "active_connections",
  "avg_response_time", "success_rate", "messages_sent", "frames_dropped", "clients_by_route",
};

static JsonObject *
routes_of (JsonObject *object)
{
  JsonObject *routes = json_object_get_object_member (object, "clients_by_route");

  g_assert_nonnull (routes);
  return routes;
}

static void
assert_zeroed (JsonObject *object)
{
  g_assert_cmpuint (json_object_get_size (object), ==, G_N_ELEMENTS (fields));
  for (guint i = 0; i < G_N_ELEMENTS (fields); i++)
    g_assert_true (json_object_has_member (object, fields[i]));

  g_assert_cmpint (json_object_get_int_member (object, "requests_total"), ==, 0);
  g_assert_cmpint (json_object_get_int_member (object, "requests_success"), ==, 0);
  g_assert_cmpint (json_object_get_int_member (object, "requests_error"), ==, 0);
  g_assert_cmpint (json_object_get_int_member (object, "active_connections"), ==, 0);
  g_assert_cmpfloat (json_object_get_double_member (object, "avg_response_time"), ==, 0.0);
  /* Nothing has failed yet, so nothing is wrong: 100, not 0 or NaN. */
  g_assert_cmpfloat (json_object_get_double_member (object, "success_rate"), ==, 100.0);
  g_assert_cmpint (json_object_get_int_member (object, "messages_sent"), ==, 0);
  g_assert_cmpint (json_object_get_int_member (object, "frames_dropped"), ==, 0);
  g_assert_cmpuint (json_object_get_size (routes_of (object)), ==, 0);
}

/* Traffic with hand-computable statistics; see check_traffic(). */
static void
record_traffic (SondeGatewayStats *stats)
{
  sonde_gateway_stats_record_request (stats, TRUE, 1000);
  sonde_gateway_stats_record_request (stats, TRUE, 2000);
  sonde_gateway_stats_record_request (stats, TRUE, 3500);
  sonde_gateway_stats_record_request (stats, FALSE, 9500);
  sonde_gateway_stats_record_request (stats, TRUE, 0);

  sonde_gateway_stats_connection_opened (stats, "/ws/v1");
  sonde_gateway_stats_connection_opened (stats, "/ws/v1");
  sonde_gateway_stats_connection_opened (stats, "/ws/v1");
  sonde_gateway_stats_connection_opened (stats, "/ws/metrics");
  sonde_gateway_stats_connection_opened (stats, "/ws");
  sonde_gateway_stats_connection_closed (stats, "/ws/v1");
  sonde_gateway_stats_connection_closed (stats, "/ws");

  sonde_gateway_stats_add_messages_sent (stats, 40);
  sonde_gateway_stats_add_messages_sent (stats, 2);
  sonde_gateway_stats_add_frames_dropped (stats, 7);
}

static void
check_traffic (JsonObject *object)
{
  JsonObject *routes = routes_of (object);

  g_assert_cmpuint (json_object_get_size (object), ==, G_N_ELEMENTS (fields));
  g_assert_cmpint (json_object_get_int_member (object, "requests_total"), ==, 5);
  g_assert_cmpint (json_object_get_int_member (object, "requests_success"), ==, 4);
  g_assert_cmpint (json_object_get_int_member (object, "requests_error"), ==, 1);
  g_assert_cmpint (json_object_get_int_member (object, "active_connections"), ==, 3);
  /* (1000 + 2000 + 3500 + 9500 + 0) µs / 5 = 3200 µs = 3.2 ms */
  g_assert_cmpfloat_with_epsilon (json_object_get_double_member (object, "avg_response_time"), 3.2, 1e-9);
  g_assert_cmpfloat_with_epsilon (json_object_get_double_member (object, "success_rate"), 80.0, 1e-9);
  g_assert_cmpint (json_object_get_int_member (object, "messages_sent"), ==, 42);
  g_assert_cmpint (json_object_get_int_member (object, "frames_dropped"), ==, 7);

  /* "/ws" went back to zero and so is gone, not reported as 0. */
  g_assert_cmpuint (json_object_get_size (routes), ==, 2);
  g_assert_cmpint (json_object_get_int_member (routes, "/ws/v1"), ==, 2);
  g_assert_cmpint (json_object_get_int_member (routes, "/ws/metrics"), ==, 1);
  g_assert_false (json_object_has_member (routes, "/ws"));
}

static void
test_stats_empty (void)
{
  g_autoptr(SondeGatewayStats) stats = sonde_gateway_stats_new ();
  g_autoptr(JsonObject) object = sonde_gateway_stats_to_json (stats);

  assert_zeroed (object);
  g_assert_cmpuint (sonde_gateway_stats_get_active_connections (stats), ==, 0);
}

static void
test_stats_requests (void)
{
  g_autoptr(SondeGatewayStats) stats = sonde_gateway_stats_new ();
  g_autoptr(JsonObject) first = NULL;
  g_autoptr(JsonObject) second = NULL;
  g_autoptr(JsonObject) third = NULL;

  sonde_gateway_stats_record_request (stats, FALSE, 4000);
  first = sonde_gateway_stats_to_json (stats);
  g_assert_cmpfloat (json_object_get_double_member (first, "success_rate"), ==, 0.0);
  g_assert_cmpfloat (json_object_get_double_member (first, "avg_response_time"), ==, 4.0);

  sonde_gateway_stats_record_request (stats, TRUE, 1000);
  sonde_gateway_stats_record_request (stats, TRUE, 1000);
  sonde_gateway_stats_record_request (stats, TRUE, 2000);
  second = sonde_gateway_stats_to_json (stats);
  g_assert_cmpint (json_object_get_int_member (second, "requests_total"), ==, 4);
  g_assert_cmpint (json_object_get_int_member (second, "requests_success"), ==, 3);
  g_assert_cmpint (json_object_get_int_member (second, "requests_error"), ==, 1);
  g_assert_cmpfloat (json_object_get_double_member (second, "success_rate"), ==, 75.0);
  g_assert_cmpfloat (json_object_get_double_member (second, "avg_response_time"), ==, 2.0);

  /* A negative duration (a clock step) counts as instantaneous, never subtracts. */
  sonde_gateway_stats_record_request (stats, TRUE, -1000000);
  third = sonde_gateway_stats_to_json (stats);
  g_assert_cmpfloat (json_object_get_double_member (third, "avg_response_time"), ==, 1.6);
  g_assert_cmpfloat (json_object_get_double_member (third, "success_rate"), ==, 80.0);
}

static void
test_stats_routes (void)
{
  g_autoptr(SondeGatewayStats) stats = sonde_gateway_stats_new ();
  g_autoptr(JsonObject) open = NULL;
  g_autoptr(JsonObject) closing = NULL;
  g_autoptr(JsonObject) closed = NULL;

  sonde_gateway_stats_connection_opened (stats, "/ws/v1");
  sonde_gateway_stats_connection_opened (stats, "/ws/v1");
  sonde_gateway_stats_connection_opened (stats, "/ws/metrics");
  g_assert_cmpuint (sonde_gateway_stats_get_active_connections (stats), ==, 3);
  open = sonde_gateway_stats_to_json (stats);
  g_assert_cmpint (json_object_get_int_member (open, "active_connections"), ==, 3);
  g_assert_cmpint (json_object_get_int_member (routes_of (open), "/ws/v1"), ==, 2);
  g_assert_cmpint (json_object_get_int_member (routes_of (open), "/ws/metrics"), ==, 1);

  sonde_gateway_stats_connection_closed (stats, "/ws/v1");
  sonde_gateway_stats_connection_closed (stats, "/ws/metrics");
  closing = sonde_gateway_stats_to_json (stats);
  g_assert_cmpint (json_object_get_int_member (closing, "active_connections"), ==, 1);
  g_assert_cmpuint (json_object_get_size (routes_of (closing)), ==, 1);
  g_assert_cmpint (json_object_get_int_member (routes_of (closing), "/ws/v1"), ==, 1);

  sonde_gateway_stats_connection_closed (stats, "/ws/v1");
  closed = sonde_gateway_stats_to_json (stats);
  assert_zeroed (closed);

  /* The copy taken earlier is not affected by later changes. */
  g_assert_cmpint (json_object_get_int_member (routes_of (open), "/ws/v1"), ==, 2);
}

static void
test_stats_traffic (void)
{
  g_autoptr(SondeGatewayStats) stats = sonde_gateway_stats_new ();
  g_autoptr(JsonObject) object = NULL;

  record_traffic (stats);
  object = sonde_gateway_stats_to_json (stats);
  check_traffic (object);
}

static gpointer
record_thread (gpointer data)
{
  SondeGatewayStats *stats = data;

  for (guint i = 0; i < 10000; i++)
    {
      sonde_gateway_stats_record_request (stats, i % 4 != 0, 100);
      sonde_gateway_stats_connection_opened (stats, "/ws/v1");
      sonde_gateway_stats_add_messages_sent (stats, 1);
      sonde_gateway_stats_connection_closed (stats, "/ws/v1");
    }
  return NULL;
}

/* The server records on the main thread while the collector reads on a worker. */
static void
test_stats_threads (void)
{
  g_autoptr(SondeGatewayStats) stats = sonde_gateway_stats_new ();
  g_autoptr(JsonObject) object = NULL;
  GThread *threads[4];

  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    threads[i] = g_thread_new ("record", record_thread, stats);
  for (guint i = 0; i < 100; i++)
    json_object_unref (sonde_gateway_stats_to_json (stats));
  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    g_thread_join (threads[i]);

  object = sonde_gateway_stats_to_json (stats);
  g_assert_cmpint (json_object_get_int_member (object, "requests_total"), ==, 40000);
  g_assert_cmpint (json_object_get_int_member (object, "requests_success"), ==, 30000);
  g_assert_cmpint (json_object_get_int_member (object, "messages_sent"), ==, 40000);
  g_assert_cmpfloat_with_epsilon (json_object_get_double_member (object, "avg_response_time"), 0.1, 1e-9);
  g_assert_cmpfloat_with_epsilon (json_object_get_double_member (object, "success_rate"), 75.0, 1e-9);
  g_assert_cmpint (json_object_get_int_member (object, "active_connections"), ==, 0);
  g_assert_cmpuint (json_object_get_size (routes_of (object)), ==, 0);
}

static void
test_collector_catalog (void)
{
  g_autoptr(SondeCollector) collector = sonde_gateway_collector_new ();
  g_autoptr(GPtrArray) metrics = sonde_collector_get_metrics (collector);

  g_assert_cmpstr (sonde_collector_get_name (collector), ==, "gateway");
  g_assert_cmpuint (metrics->len, ==, G_N_ELEMENTS (fields));
  for (guint i = 0; i < G_N_ELEMENTS (fields); i++)
    g_assert_nonnull (sonde_collector_lookup_metric (collector, fields[i]));

  g_assert_cmpstr (sonde_metric_get_unit (sonde_collector_lookup_metric (collector, "avg_response_time")),
                   ==, "ms");
  g_assert_cmpstr (sonde_metric_get_unit (sonde_collector_lookup_metric (collector, "success_rate")),
                   ==, "percent");
  g_assert_cmpint (sonde_metric_get_kind (sonde_collector_lookup_metric (collector, "requests_total")),
                   ==, SONDE_METRIC_KIND_COUNTER);
  g_assert_cmpint (sonde_metric_get_kind (sonde_collector_lookup_metric (collector, "active_connections")),
                   ==, SONDE_METRIC_KIND_GAUGE);
  g_assert_cmpint (sonde_metric_get_kind (sonde_collector_lookup_metric (collector, "clients_by_route")),
                   ==, SONDE_METRIC_KIND_TABLE);
}

static void
test_collector_detached (void)
{
  g_autoptr(SondeCollector) collector = sonde_gateway_collector_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(SondeSample) sample = NULL;

  g_assert_null (sonde_collector_get_engine (collector));
  sample = sonde_collector_collect (collector, &error);
  g_assert_no_error (error);
  g_assert_nonnull (sample);
  g_assert_cmpstr (sonde_sample_get_collector (sample), ==, "gateway");
  assert_zeroed (sonde_sample_get_data (sample));
}

static void
test_collector_engine (void)
{
  g_autoptr(SondeEngine) engine = sonde_engine_new ();
  g_autoptr(SondeCollector) collector = sonde_gateway_collector_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(SondeSample) before = NULL;
  g_autoptr(SondeSample) after = NULL;
  SondeGatewayStats *stats;

  g_assert_true (sonde_engine_add_collector (engine, collector, &error));
  g_assert_no_error (error);
  g_assert_true (sonde_collector_get_engine (collector) == engine);

  stats = sonde_engine_get_gateway_stats (engine);
  g_assert_nonnull (stats);

  /* As the engine does before collecting. */
  g_assert_true (sonde_collector_start (collector, &error));
  g_assert_no_error (error);

  before = sonde_collector_collect (collector, &error);
  g_assert_no_error (error);
  assert_zeroed (sonde_sample_get_data (before));

  /* What the engine's server records is what the collector reports. */
  record_traffic (stats);
  after = sonde_collector_collect (collector, &error);
  g_assert_no_error (error);
  check_traffic (sonde_sample_get_data (after));

  /* The sample is a copy: later traffic does not change it. */
  sonde_gateway_stats_add_frames_dropped (stats, 1);
  g_assert_cmpint (sonde_sample_get_int (after, "frames_dropped"), ==, 7);

  sonde_collector_stop (collector);
}

/* collect() runs on a worker thread, where the engine may go at any
 * moment: it uses the statistics start() took a reference to, never the
 * borrowed engine. */
static void
test_collector_engine_gone (void)
{
  g_autoptr(SondeEngine) engine = sonde_engine_new ();
  g_autoptr(SondeCollector) collector = sonde_gateway_collector_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(SondeSample) running = NULL;
  g_autoptr(SondeSample) stopped = NULL;

  g_assert_true (sonde_engine_add_collector (engine, collector, &error));
  g_assert_no_error (error);
  record_traffic (sonde_engine_get_gateway_stats (engine));
  g_assert_true (sonde_collector_start (collector, &error));
  g_assert_no_error (error);

  /* What a worker sees once the engine's weak reference is cleared. */
  _sonde_collector_set_engine (collector, NULL);
  running = sonde_collector_collect (collector, &error);
  g_assert_no_error (error);
  check_traffic (sonde_sample_get_data (running));

  /* stop() drops the reference. */
  sonde_collector_stop (collector);
  stopped = sonde_collector_collect (collector, &error);
  g_assert_no_error (error);
  assert_zeroed (sonde_sample_get_data (stopped));
}

static void
refresh_cb (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  gboolean *done = user_data;
  g_autoptr(GError) error = NULL;

  g_assert_true (sonde_engine_refresh_finish (SONDE_ENGINE (object), result, &error));
  g_assert_no_error (error);
  *done = TRUE;
}

/* The same numbers when the engine samples the collector itself, on its worker thread. */
static void
test_collector_engine_refresh (void)
{
  g_autoptr(SondeEngine) engine = sonde_engine_new ();
  g_autoptr(SondeCollector) collector = sonde_gateway_collector_new ();
  g_autoptr(GError) error = NULL;
  SondeSample *latest;   /* transfer none */
  const char * const names[] = { "gateway", NULL };
  gboolean done = FALSE;

  g_assert_true (sonde_engine_add_collector (engine, collector, &error));
  g_assert_no_error (error);
  record_traffic (sonde_engine_get_gateway_stats (engine));

  sonde_engine_refresh_async (engine, names, NULL, refresh_cb, &done);
  while (!done)
    g_main_context_iteration (NULL, TRUE);

  latest = sonde_engine_get_latest (engine, "gateway");
  g_assert_nonnull (latest);
  check_traffic (sonde_sample_get_data (latest));
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/gateway/stats/empty", test_stats_empty);
  g_test_add_func ("/gateway/stats/requests", test_stats_requests);
  g_test_add_func ("/gateway/stats/routes", test_stats_routes);
  g_test_add_func ("/gateway/stats/traffic", test_stats_traffic);
  g_test_add_func ("/gateway/stats/threads", test_stats_threads);
  g_test_add_func ("/gateway/collector/catalog", test_collector_catalog);
  g_test_add_func ("/gateway/collector/detached", test_collector_detached);
  g_test_add_func ("/gateway/collector/engine", test_collector_engine);
  g_test_add_func ("/gateway/collector/engine-gone", test_collector_engine_gone);
  g_test_add_func ("/gateway/collector/engine-refresh", test_collector_engine_refresh);

  return g_test_run ();
}
