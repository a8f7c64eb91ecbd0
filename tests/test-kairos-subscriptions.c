/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "sonde-engine-private.h"
#include "sonde-test-util.h"

/* The kairos stream's subscription messages at /ws/metrics, as
 * seeds/kairos-ws-metrics-guide.md documents them: the metrics they select,
 * and the Errors they get, in the words of the Rust original's serde. */

#define KAIROS_PATH "/ws/metrics"

static const char * const kairos_metrics[] = {
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

static void
test_kairos_selection (void)
{
  SondeTestServer *server = kairos_server_new (0);
  SondeTestClient *client = kairos_client_new (server);
  JsonObject *snapshot;
  JsonArray *items;

  next_snapshot (client);

  /* The guide's own example, with its response_time_avg: under the name
   * asked for, with the avg_response_time value. */
  snapshot = subscribe (client,
                        "{\"metrics\":[\"requests_total\",\"active_connections\",\"response_time_avg\"],"
                        "\"interval_seconds\":2,\"include_history\":false}",
                        "requests_total,active_connections,response_time_avg");
  g_assert_true (value_type (snapshot, "requests_total") == G_TYPE_INT64);
  g_assert_true (value_type (snapshot, "active_connections") == G_TYPE_INT64);
  g_assert_true (value_type (snapshot, "response_time_avg") == G_TYPE_DOUBLE);
  snapshot = next_snapshot (client);
  assert_snapshot_metrics (snapshot, "requests_total,active_connections,response_time_avg");

  /* The order asked for, not the catalog's. */
  subscribe (client, "{\"metrics\":[\"success_rate\",\"requests_error\"]}", "success_rate,requests_error");

  /* Native names and patterns, flattened under their full names; arrays
   * and strings as their JSON values; a name asked twice is one member. */
  snapshot = subscribe (client,
                        "{\"metrics\":[\"fake.value\",\"other.*\",\"success_rate\",\"fake.items\",\"fak?.text\",\"fake.value\"]}",
                        "fake.value,other.value,other.text,other.items,success_rate,fake.items,fake.text");
  g_assert_true (value_type (snapshot, "fake.value") == G_TYPE_INT64);
  g_assert_cmpint (json_object_get_int_member (snapshot, "fake.value"), >=, 1);
  g_assert_cmpstr (json_object_get_string_member (snapshot, "other.text"), ==, "hello from other");
  g_assert_cmpstr (json_object_get_string_member (snapshot, "fake.text"), ==, "hello from fake");
  items = json_object_get_array_member (snapshot, "fake.items");
  g_assert_cmpuint (json_array_get_length (items), ==, 2);
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (items, 0), "name"), ==, "item1");
  g_assert_true (value_type (snapshot, "success_rate") == G_TYPE_DOUBLE);

  /* A whole collector by its name. */
  subscribe (client, "{\"metrics\":[\"other\"]}", "other.value,other.text,other.items");

  /* Empty: the six kairos metrics. */
  snapshot = subscribe (client, "{\"metrics\":[],\"interval_seconds\":1}",
                        "requests_total,requests_success,requests_error,"
                        "active_connections,avg_response_time,success_rate");
  assert_kairos_snapshot (snapshot);
  assert_kairos_snapshot (next_snapshot (client));

  sonde_test_client_free (client);
  sonde_test_server_free (server);
}

static void
test_kairos_errors (void)
{
  static const struct
  {
    const char *message;
    const char *error;
  } cases[] = {
    /* The guide's own. */
    { "{\"interval_seconds\":2,\"include_history\":false}", "Invalid subscription: missing field `metrics`" },
    { "{}", "Invalid subscription: missing field `metrics`" },
    /* Types, in serde's words. */
    { "{\"metrics\":\"x\"}", "Invalid subscription: invalid type: string \"x\", expected a sequence" },
    { "{\"metrics\":null}", "Invalid subscription: invalid type: null, expected a sequence" },
    { "{\"metrics\":{}}", "Invalid subscription: invalid type: map, expected a sequence" },
    { "{\"metrics\":[\"requests_total\",7]}", "Invalid subscription: invalid type: integer `7`, expected a string" },
    { "{\"metrics\":[],\"interval_seconds\":\"2\"}", "Invalid subscription: invalid type: string \"2\", expected u64" },
    { "{\"metrics\":[],\"interval_seconds\":1.5}", "Invalid subscription: invalid type: floating point `1.5`, expected u64" },
    { "{\"metrics\":[],\"interval_seconds\":-1}", "Invalid subscription: invalid value: integer `-1`, expected u64" },
    { "{\"metrics\":[],\"include_history\":\"yes\"}", "Invalid subscription: invalid type: string \"yes\", expected a boolean" },
    { "[\"requests_total\"]", "Invalid subscription: invalid type: sequence, expected struct MetricsSubscription" },
    { "42", "Invalid subscription: invalid type: integer `42`, expected struct MetricsSubscription" },
    /* Ranges and names. */
    { "{\"metrics\":[],\"interval_seconds\":0}", "Invalid subscription: interval_seconds must be between 1 and 60" },
    { "{\"metrics\":[],\"interval_seconds\":61}", "Invalid subscription: interval_seconds must be between 1 and 60" },
    { "{\"metrics\":[\"foo\"]}", "Invalid subscription: unknown metric `foo`" },
    { "{\"metrics\":[\"requests_total\",\"fake.nope\"]}", "Invalid subscription: unknown metric `fake.nope`" },
    { "{\"metrics\":[\"a,b\"]}", "Invalid subscription: unknown metric `a,b`" },
    /* Syntax, where serde_json says it. */
    { "hello", "Invalid subscription: expected value at line 1 column 1" },
    { "", "Invalid subscription: EOF while parsing a value at line 1 column 0" },
    { "{\"metrics\": [", "Invalid subscription: EOF while parsing a list at line 1 column 13" },
    { "{\"metrics\":[]} x", "Invalid subscription: trailing characters at line 1 column 16" },
    { "{\"metrics\":[],}", "Invalid subscription: trailing comma at line 1 column 15" },
    { "{metrics:[]}", "Invalid subscription: key must be a string at line 1 column 2" },
    { "{\n  \"metrics\": [tru]\n}", "Invalid subscription: expected ident at line 2 column 18" },
  };
  SondeTestServer *server = kairos_server_new (0);
  SondeTestClient *client = kairos_client_new (server);
  g_autofree char *huge = NULL;
  gsize huge_length = 70 * 1024;

  next_snapshot (client);
  subscribe (client, "{\"metrics\":[\"requests_total\",\"fake.value\"]}", "requests_total,fake.value");

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_test_message ("sending %s", cases[i].message);
      sonde_test_client_take_all (client);
      sonde_test_client_send (client, "%s", cases[i].message);
      expect_error (client, cases[i].error);

      /* The connection lives on, with its previous subscription. */
      assert_snapshot_metrics (next_snapshot (client), "requests_total,fake.value");
      g_assert_false (client->closed);
    }

  /* A binary frame. */
  sonde_test_client_take_all (client);
  sonde_test_client_send_bytes (client, SOUP_WEBSOCKET_DATA_BINARY, "{\"metrics\":[]}", 14);
  expect_error (client, "Invalid subscription: binary messages are not supported; send JSON text");
  assert_snapshot_metrics (next_snapshot (client), "requests_total,fake.value");

  /* Over 64 KiB. */
  huge = g_malloc (huge_length + 1);
  memset (huge, ' ', huge_length);
  memcpy (huge, "{\"metrics\":[]}", 14);
  huge[huge_length] = '\0';
  sonde_test_client_take_all (client);
  sonde_test_client_send (client, "%s", huge);
  expect_error (client, "Invalid subscription: message of 71680 bytes exceeds the limit of 65536 bytes");
  assert_snapshot_metrics (next_snapshot (client), "requests_total,fake.value");

  /* And a good subscription is still taken. */
  subscribe (client, "{\"metrics\":[\"success_rate\"]}", "success_rate");
  g_assert_false (client->closed);

  sonde_test_client_free (client);
  sonde_test_server_free (server);
}

/* serde_json's own test vectors (its tests/test.rs): the words and the
 * place of each syntax error. */
static void
test_kairos_syntax_errors (void)
{
  static const char * const cases[][2] = {
    { "n", "EOF while parsing a value at line 1 column 1" },
    { "nul", "EOF while parsing a value at line 1 column 3" },
    { "nulla", "trailing characters at line 1 column 5" },
    { "truz", "expected ident at line 1 column 4" },
    { "faz", "expected ident at line 1 column 3" },
    { "+", "expected value at line 1 column 1" },
    { ".0", "expected value at line 1 column 1" },
    { "-", "EOF while parsing a value at line 1 column 1" },
    { "00", "invalid number at line 1 column 2" },
    { "0x80", "trailing characters at line 1 column 2" },
    { "1.", "EOF while parsing a value at line 1 column 2" },
    { "1.a", "invalid number at line 1 column 3" },
    { "1.e1", "invalid number at line 1 column 3" },
    { "1e+", "EOF while parsing a value at line 1 column 3" },
    { " ", "EOF while parsing a value at line 1 column 1" },
    { "\"lol", "EOF while parsing a string at line 1 column 4" },
    { "\"\n\"", "control character (\\u0000-\\u001F) found while parsing a string at line 2 column 0" },
    { "\"\x1f\"", "control character (\\u0000-\\u001F) found while parsing a string at line 1 column 2" },
    { "\"\\u003", "EOF while parsing a string at line 1 column 6" },
    { "\"\\u0z30\"", "invalid escape at line 1 column 7" },
    { "\"\\q\"", "invalid escape at line 1 column 3" },
    { "[", "EOF while parsing a list at line 1 column 1" },
    { "[ ", "EOF while parsing a list at line 1 column 2" },
    { "[1,", "EOF while parsing a value at line 1 column 3" },
    { "[1,]", "trailing comma at line 1 column 4" },
    { "[1 2]", "expected `,` or `]` at line 1 column 4" },
    { "[]a", "trailing characters at line 1 column 3" },
    { "{", "EOF while parsing an object at line 1 column 1" },
    { "{1", "key must be a string at line 1 column 2" },
    { "{ \"a\"", "EOF while parsing an object at line 1 column 5" },
    { "{\"a\" 1", "expected `:` at line 1 column 6" },
    { "{\"a\":", "EOF while parsing a value at line 1 column 5" },
    { "{\"a\":1", "EOF while parsing an object at line 1 column 6" },
    { "{\"a\":1 1", "expected `,` or `}` at line 1 column 8" },
    { "{\"a\":1,", "EOF while parsing a value at line 1 column 7" },
    { "{}a", "trailing characters at line 1 column 3" },
  };
  SondeTestServer *server = kairos_server_new (0);
  SondeTestClient *client = kairos_client_new (server);

  next_snapshot (client);
  subscribe (client, "{\"metrics\":[\"fake.value\"]}", "fake.value");

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *expected = g_strconcat ("Invalid subscription: ", cases[i][1], NULL);

      sonde_test_client_send (client, "%s", cases[i][0]);
      expect_error (client, expected);
    }

  /* Deeper than 64 levels. */
  sonde_test_client_send (client, "{\"metrics\":%s", "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[");
  expect_error (client, "Invalid subscription: recursion limit exceeded at line 1 column 75");

  sonde_test_client_take_all (client);
  assert_snapshot_metrics (next_snapshot (client), "fake.value");
  g_assert_false (client->closed);

  sonde_test_client_free (client);
  sonde_test_server_free (server);
}

/* Without a gateway collector (disabled), the kairos names stay valid and
 * null, and native names still work. */
static void
test_kairos_no_gateway (void)
{
  SondeTestServer *server = sonde_test_server_new (TRUE);
  SondeTestClient *client = kairos_client_new (server);
  JsonObject *snapshot = next_snapshot (client);

  assert_snapshot_metrics (snapshot, "requests_total,requests_success,requests_error,"
                                     "active_connections,avg_response_time,success_rate");
  for (guint i = 0; kairos_metrics[i] != NULL; i++)
    g_assert_true (json_node_is_null (json_object_get_member (snapshot, kairos_metrics[i])));

  snapshot = subscribe (client, "{\"metrics\":[\"response_time_avg\",\"fake.value\"]}",
                        "response_time_avg,fake.value");
  g_assert_true (json_node_is_null (json_object_get_member (snapshot, "response_time_avg")));
  g_assert_cmpint (json_object_get_int_member (snapshot, "fake.value"), >=, 1);

  sonde_test_client_free (client);
  sonde_test_server_free (server);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/kairos/selection", test_kairos_selection);
  g_test_add_func ("/kairos/errors", test_kairos_errors);
  g_test_add_func ("/kairos/syntax-errors", test_kairos_syntax_errors);
  g_test_add_func ("/kairos/no-gateway", test_kairos_no_gateway);

  return g_test_run ();
}
