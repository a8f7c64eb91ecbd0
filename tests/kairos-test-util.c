/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "sonde-engine-private.h"
#include "kairos-test-util.h"

const char * const kairos_metrics[] = {
  "requests_total", "requests_success", "requests_error",
  "active_connections", "avg_response_time", "success_rate",
  NULL
};

/* A gateway collector ------------------------------------------------------ */

/* What the gateway plugin reports (the engine's SondeGatewayStats), without
 * loading the plugin: the plugins link the shared library, the tests the
 * static one. */
#define TEST_TYPE_GATEWAY (test_gateway_get_type ())
G_DECLARE_FINAL_TYPE (TestGateway, test_gateway, TEST, GATEWAY, SondeCollector)

struct _TestGateway
{
  SondeCollector     parent_instance;
  /* From start() to stop(): collect() runs on a worker thread, where the
   * engine may be going away (the base class keeps the calls apart). */
  SondeGatewayStats *stats;
};

G_DEFINE_FINAL_TYPE (TestGateway, test_gateway, SONDE_TYPE_COLLECTOR)

static gboolean
test_gateway_start (SondeCollector  *collector,
                    GError         **error)
{
  TestGateway *self = TEST_GATEWAY (collector);
  SondeEngine *engine = sonde_collector_get_engine (collector);

  g_assert_nonnull (engine);
  g_set_object (&self->stats, sonde_engine_get_gateway_stats (engine));
  return TRUE;
}

static void
test_gateway_stop (SondeCollector *collector)
{
  g_clear_object (&TEST_GATEWAY (collector)->stats);
}

static SondeSample *
test_gateway_collect (SondeCollector  *collector,
                      GError         **error)
{
  TestGateway *self = TEST_GATEWAY (collector);
  g_autoptr(JsonObject) data = NULL;

  if (self->stats == NULL)
    {
      g_set_error (error, SONDE_ERROR, SONDE_ERROR_COLLECTOR_FAILED, "Not started");
      return NULL;
    }

  data = sonde_gateway_stats_to_json (self->stats);
  return sonde_sample_new ("gateway", g_get_real_time (), data);
}

static void
test_gateway_finalize (GObject *object)
{
  g_clear_object (&TEST_GATEWAY (object)->stats);
  G_OBJECT_CLASS (test_gateway_parent_class)->finalize (object);
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
  G_OBJECT_CLASS (klass)->finalize = test_gateway_finalize;
  SONDE_COLLECTOR_CLASS (klass)->start = test_gateway_start;
  SONDE_COLLECTOR_CLASS (klass)->stop = test_gateway_stop;
  SONDE_COLLECTOR_CLASS (klass)->collect = test_gateway_collect;
}

static void
test_gateway_init (TestGateway *self)
{
}

/* Servers and clients ------------------------------------------------------ */

SondeTestServer *
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

SondeTestClient *
kairos_client_new (SondeTestServer *server)
{
  return sonde_test_client_new_for_path (server, KAIROS_PATH);
}

/* Frames ------------------------------------------------------------------- */

char *
kairos_ordered_members (JsonObject *object)
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

gint64
kairos_parse_timestamp (const char *timestamp)
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

GType
kairos_value_type (JsonObject *object,
                   const char *member)
{
  JsonNode *node = json_object_get_member (object, member);

  g_assert_nonnull (node);
  g_assert_true (JSON_NODE_HOLDS_VALUE (node));
  return json_node_get_value_type (node);
}

JsonObject *
kairos_next_snapshot (SondeTestClient *client)
{
  return sonde_test_client_next (client, "Snapshot", NULL);
}

void
kairos_expect_error (SondeTestClient *client,
                     const char      *message)
{
  JsonObject *error = sonde_test_client_next (client, "Error", NULL);
  g_autofree char *members = kairos_ordered_members (error);

  g_assert_cmpstr (members, ==, "type,message");
  g_assert_cmpstr (json_object_get_string_member (error, "message"), ==, message);
}

JsonObject *
kairos_subscribe (SondeTestClient *client,
                  const char      *subscription,
                  const char      *expected)
{
  g_autofree char *full = g_strconcat ("type,timestamp,", expected, NULL);
  SondeTestDeadline *deadline = sonde_test_deadline_new (SONDE_TEST_TIMEOUT_MS);

  sonde_test_client_send (client, "%s", subscription);
  for (;;)
    {
      JsonObject *snapshot = kairos_next_snapshot (client);
      g_autofree char *members = kairos_ordered_members (snapshot);

      if (g_str_equal (members, full))
        {
          sonde_test_deadline_free (deadline);
          return snapshot;
        }
      g_assert_false (sonde_test_deadline_passed (deadline));
    }
}

void
kairos_assert_snapshot_metrics (JsonObject *snapshot,
                                const char *expected)
{
  g_autofree char *members = kairos_ordered_members (snapshot);
  g_autofree char *full = g_strconcat ("type,timestamp,", expected, NULL);

  g_assert_cmpstr (members, ==, full);
  kairos_parse_timestamp (json_object_get_string_member (snapshot, "timestamp"));
}

void
kairos_assert_snapshot (JsonObject *snapshot)
{
  kairos_assert_snapshot_metrics (snapshot, "requests_total,requests_success,requests_error,"
                                            "active_connections,avg_response_time,success_rate");
  g_assert_cmpstr (json_object_get_string_member (snapshot, "type"), ==, "Snapshot");

  for (guint i = 0; i < 4; i++)
    {
      g_assert_true (kairos_value_type (snapshot, kairos_metrics[i]) == G_TYPE_INT64);
      g_assert_cmpint (json_object_get_int_member (snapshot, kairos_metrics[i]), >=, 0);
    }
  g_assert_true (kairos_value_type (snapshot, "avg_response_time") == G_TYPE_DOUBLE);
  g_assert_cmpfloat (json_object_get_double_member (snapshot, "avg_response_time"), >=, 0.0);
  g_assert_true (kairos_value_type (snapshot, "success_rate") == G_TYPE_DOUBLE);
  g_assert_cmpfloat (json_object_get_double_member (snapshot, "success_rate"), >=, 0.0);
  g_assert_cmpfloat (json_object_get_double_member (snapshot, "success_rate"), <=, 100.0);

  /* Successes and errors add up. */
  g_assert_cmpint (json_object_get_int_member (snapshot, "requests_success") +
                   json_object_get_int_member (snapshot, "requests_error"), ==,
                   json_object_get_int_member (snapshot, "requests_total"));
}
