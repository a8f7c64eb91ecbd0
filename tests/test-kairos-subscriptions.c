/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "kairos-test-util.h"

/* The kairos stream's subscription messages at /ws/metrics, as
 * docs/formats/kairos.md documents them: the metrics they select,
 * and the Errors they get, in the words of the Rust original's serde. */

/* Tests -------------------------------------------------------------------- */

static void
test_kairos_selection (void)
{
  SondeTestServer *server = kairos_server_new (0);
  SondeTestClient *client = kairos_client_new (server);
  JsonObject *snapshot;
  JsonArray *items;

  kairos_next_snapshot (client);

  /* The guide's own example, with its response_time_avg: under the name
   * asked for, with the avg_response_time value. */
  snapshot = kairos_subscribe (client,
                               "{\"metrics\":[\"requests_total\",\"active_connections\",\"response_time_avg\"],"
                               "\"interval_seconds\":2,\"include_history\":false}",
                               "requests_total,active_connections,response_time_avg");
  g_assert_true (kairos_value_type (snapshot, "requests_total") == G_TYPE_INT64);
  g_assert_true (kairos_value_type (snapshot, "active_connections") == G_TYPE_INT64);
  g_assert_true (kairos_value_type (snapshot, "response_time_avg") == G_TYPE_DOUBLE);
  snapshot = kairos_next_snapshot (client);
  kairos_assert_snapshot_metrics (snapshot, "requests_total,active_connections,response_time_avg");

  /* The order asked for, not the catalog's. */
  kairos_subscribe (client, "{\"metrics\":[\"success_rate\",\"requests_error\"]}", "success_rate,requests_error");

  /* Native names and patterns, flattened under their full names; arrays
   * and strings as their JSON values; a name asked twice is one member. */
  snapshot = kairos_subscribe (client,
                               "{\"metrics\":[\"fake.value\",\"other.*\",\"success_rate\",\"fake.items\",\"fak?.text\",\"fake.value\"]}",
                               "fake.value,other.value,other.text,other.items,success_rate,fake.items,fake.text");
  g_assert_true (kairos_value_type (snapshot, "fake.value") == G_TYPE_INT64);
  g_assert_cmpint (json_object_get_int_member (snapshot, "fake.value"), >=, 1);
  g_assert_cmpstr (json_object_get_string_member (snapshot, "other.text"), ==, "hello from other");
  g_assert_cmpstr (json_object_get_string_member (snapshot, "fake.text"), ==, "hello from fake");
  items = json_object_get_array_member (snapshot, "fake.items");
  g_assert_cmpuint (json_array_get_length (items), ==, 2);
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (items, 0), "name"), ==, "item1");
  g_assert_true (kairos_value_type (snapshot, "success_rate") == G_TYPE_DOUBLE);

  /* A whole collector by its name. */
  kairos_subscribe (client, "{\"metrics\":[\"other\"]}", "other.value,other.text,other.items");

  /* Empty: the six kairos metrics. */
  snapshot = kairos_subscribe (client, "{\"metrics\":[],\"interval_seconds\":1}",
                               "requests_total,requests_success,requests_error,"
                               "active_connections,avg_response_time,success_rate");
  kairos_assert_snapshot (snapshot);
  kairos_assert_snapshot (kairos_next_snapshot (client));

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

  kairos_next_snapshot (client);
  kairos_subscribe (client, "{\"metrics\":[\"requests_total\",\"fake.value\"]}", "requests_total,fake.value");

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_test_message ("sending %s", cases[i].message);
      sonde_test_client_take_all (client);
      sonde_test_client_send (client, "%s", cases[i].message);
      kairos_expect_error (client, cases[i].error);

      /* The connection lives on, with its previous subscription. */
      kairos_assert_snapshot_metrics (kairos_next_snapshot (client), "requests_total,fake.value");
      g_assert_false (client->closed);
    }

  /* A binary frame. */
  sonde_test_client_take_all (client);
  sonde_test_client_send_bytes (client, SOUP_WEBSOCKET_DATA_BINARY, "{\"metrics\":[]}", 14);
  kairos_expect_error (client, "Invalid subscription: binary messages are not supported; send JSON text");
  kairos_assert_snapshot_metrics (kairos_next_snapshot (client), "requests_total,fake.value");

  /* Over 64 KiB. */
  huge = g_malloc (huge_length + 1);
  memset (huge, ' ', huge_length);
  memcpy (huge, "{\"metrics\":[]}", 14);
  huge[huge_length] = '\0';
  sonde_test_client_take_all (client);
  sonde_test_client_send (client, "%s", huge);
  kairos_expect_error (client, "Invalid subscription: message of 71680 bytes exceeds the limit of 65536 bytes");
  kairos_assert_snapshot_metrics (kairos_next_snapshot (client), "requests_total,fake.value");

  /* And a good subscription is still taken. */
  kairos_subscribe (client, "{\"metrics\":[\"success_rate\"]}", "success_rate");
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

  kairos_next_snapshot (client);
  kairos_subscribe (client, "{\"metrics\":[\"fake.value\"]}", "fake.value");

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *expected = g_strconcat ("Invalid subscription: ", cases[i][1], NULL);

      sonde_test_client_send (client, "%s", cases[i][0]);
      kairos_expect_error (client, expected);
    }

  /* Deeper than 64 levels. */
  sonde_test_client_send (client, "{\"metrics\":%s", "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[");
  kairos_expect_error (client, "Invalid subscription: recursion limit exceeded at line 1 column 75");

  sonde_test_client_take_all (client);
  kairos_assert_snapshot_metrics (kairos_next_snapshot (client), "fake.value");
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
  JsonObject *snapshot = kairos_next_snapshot (client);

  kairos_assert_snapshot_metrics (snapshot, "requests_total,requests_success,requests_error,"
                                            "active_connections,avg_response_time,success_rate");
  for (guint i = 0; kairos_metrics[i] != NULL; i++)
    g_assert_true (json_node_is_null (json_object_get_member (snapshot, kairos_metrics[i])));

  snapshot = kairos_subscribe (client, "{\"metrics\":[\"response_time_avg\",\"fake.value\"]}",
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
