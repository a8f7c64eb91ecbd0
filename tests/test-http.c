/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "sonde-test-util.h"

/*
 * The plain HTTP routes of SondeServer (/status, /api/v1/catalog,
 * /api/v1/snapshot, and what is not there), requested in process with a
 * SoupSession.
 */

/* A 200 with a JSON object, not to be cached. */
static JsonObject *
check_ok_json (SondeTestResponse *response)
{
  g_assert_cmpuint (response->status, ==, SOUP_STATUS_OK);
  g_assert_cmpstr (response->content_type, ==, "application/json");
  g_assert_cmpstr (response->cache_control, ==, "no-store");
  g_assert_nonnull (response->json);
  return response->json;
}

static void
check_error (SondeTestResponse   *response,
             guint       status,
             const char *code)
{
  g_assert_cmpuint (response->status, ==, status);
  g_assert_cmpstr (response->content_type, ==, "application/json");
  g_assert_nonnull (response->json);
  g_assert_cmpstr (json_object_get_string_member (response->json, "type"), ==, "error");
  g_assert_cmpstr (json_object_get_string_member (response->json, "code"), ==, code);
  g_assert_cmpstr (json_object_get_string_member (response->json, "message"), !=, "");
}

static void
test_status (void)
{
  SondeTestServer *server = sonde_test_server_new (TRUE);
  g_autoptr(SondeTestResponse) response = sonde_test_http (server, "GET", "/status");
  JsonObject *status = check_ok_json (response);
  JsonArray *collectors;

  g_assert_cmpstr (json_object_get_string_member (status, "status"), ==, "ok");
  g_assert_cmpstr (json_object_get_string_member (status, "server"), ==, "sonde");
  g_assert_cmpstr (json_object_get_string_member (status, "version"), ==, SONDE_VERSION_S);
  g_assert_cmpint (json_object_get_int_member (status, "protocol"), ==, SONDE_PROTOCOL_VERSION);
  g_assert_cmpstr (json_object_get_string_member (status, "hostname"), ==, g_get_host_name ());
  g_assert_cmpint (json_object_get_int_member (status, "clients"), ==, 0);
  g_assert_nonnull (json_object_get_object_member (status, "gateway"));

  collectors = json_object_get_array_member (status, "collectors");
  g_assert_nonnull (collectors);
  g_assert_cmpuint (json_array_get_length (collectors), ==, 2);
  for (guint i = 0; i < 2; i++)
    {
      JsonObject *entry = json_array_get_object_element (collectors, i);

      g_assert_cmpstr (json_object_get_string_member (entry, "name"), ==, i == 0 ? "fake" : "other");
      /* Nobody asked for anything yet. */
      g_assert_false (json_object_get_boolean_member (entry, "running"));
      g_assert_false (json_object_get_boolean_member (entry, "stale"));
      g_assert_true (json_object_get_null_member (entry, "last_sample"));
    }

  sonde_test_server_free (server);
}

static void
test_status_counts_clients (void)
{
  SondeTestServer *server = sonde_test_server_new (TRUE);
  SondeTestClient *client = sonde_test_client_new (server, NULL);
  g_autoptr(SondeTestResponse) response = NULL;
  JsonObject *status, *fake;

  /* Once the WebSocket client has had data, /status shows it. */
  sonde_test_client_next (client, "snapshot", "default");
  response = sonde_test_http (server, "GET", "/status");
  status = check_ok_json (response);
  g_assert_cmpint (json_object_get_int_member (status, "clients"), ==, 1);
  g_assert_cmpint (json_object_get_int_member (status, "subscription_groups"), ==, 1);

  fake = json_array_get_object_element (json_object_get_array_member (status, "collectors"), 0);
  g_assert_true (json_object_get_boolean_member (fake, "running"));
  sonde_test_parse_timestamp (json_object_get_string_member (fake, "last_sample"));

  sonde_test_client_free (client);
  sonde_test_server_free (server);
}

static void
test_catalog (void)
{
  SondeTestServer *server = sonde_test_server_new (TRUE);
  g_autoptr(SondeTestResponse) response = sonde_test_http (server, "GET", "/api/v1/catalog");
  JsonObject *catalog = check_ok_json (response);
  JsonArray *metrics = json_object_get_array_member (catalog, "metrics");
  gboolean found = FALSE;

  g_assert_nonnull (metrics);
  g_assert_cmpuint (json_array_get_length (metrics), ==, 6);
  for (guint i = 0; i < json_array_get_length (metrics); i++)
    {
      JsonObject *metric = json_array_get_object_element (metrics, i);

      if (!g_str_equal (json_object_get_string_member (metric, "name"), "fake.value"))
        continue;

      found = TRUE;
      g_assert_cmpstr (json_object_get_string_member (metric, "collector"), ==, "fake");
      g_assert_cmpstr (json_object_get_string_member (metric, "field"), ==, "value");
      g_assert_cmpstr (json_object_get_string_member (metric, "unit"), ==, "count");
      g_assert_cmpstr (json_object_get_string_member (metric, "kind"), ==, "counter");
      g_assert_cmpstr (json_object_get_string_member (metric, "description"), ==,
                       "How many times the fake collector was collected");
    }
  g_assert_true (found);

  sonde_test_server_free (server);
}

static void
test_snapshot (void)
{
  SondeTestServer *server = sonde_test_server_new (TRUE);
  g_autoptr(SondeTestResponse) response = sonde_test_http (server, "GET", "/api/v1/snapshot");
  JsonObject *snapshot = check_ok_json (response);
  JsonObject *data = json_object_get_object_member (snapshot, "data");
  JsonObject *fake;
  g_autofree char *metrics = NULL;

  sonde_test_parse_timestamp (json_object_get_string_member (snapshot, "timestamp"));
  g_assert_nonnull (data);
  metrics = sonde_test_metrics_of (data);
  g_assert_cmpstr (metrics, ==, "fake.items,fake.text,fake.value,other.items,other.text,other.value");

  /* Collected for the request, although nobody was subscribed. */
  fake = json_object_get_object_member (data, "fake");
  g_assert_cmpint (json_object_get_int_member (fake, "value"), >=, 1);
  g_assert_cmpstr (json_object_get_string_member (fake, "text"), ==, "hello from fake");
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (fake, "items")), ==, 2);
  g_assert_false (json_object_has_member (snapshot, "stale"));

  sonde_test_server_free (server);
}

typedef struct
{
  const char *query;
  const char *expected;
} FilterCase;

static const FilterCase filter_cases[] = {
  { "metrics=fake.value", "fake.value" },
  { "metrics=fake.*", "fake.items,fake.text,fake.value" },
  { "metrics=other", "other.items,other.text,other.value" },
  { "metrics=*.text,fake.value", "fake.text,fake.value,other.text" },
  { "metrics=f%3Fke.val*", "fake.value" },
};

static void
test_snapshot_filtered (void)
{
  SondeTestServer *server = sonde_test_server_new (TRUE);

  for (guint i = 0; i < G_N_ELEMENTS (filter_cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/api/v1/snapshot?%s", filter_cases[i].query);
      g_autoptr(SondeTestResponse) response = sonde_test_http (server, "GET", path);
      JsonObject *data = json_object_get_object_member (check_ok_json (response), "data");
      g_autofree char *metrics = sonde_test_metrics_of (data);

      g_test_message ("%s -> %s", path, metrics);
      g_assert_cmpstr (metrics, ==, filter_cases[i].expected);
    }

  /* Exactly {"fake":{"value":N}}. */
  {
    g_autoptr(SondeTestResponse) response = sonde_test_http (server, "GET", "/api/v1/snapshot?metrics=fake.value");
    JsonObject *data = json_object_get_object_member (check_ok_json (response), "data");

    g_assert_cmpuint (json_object_get_size (data), ==, 1);
    g_assert_cmpuint (json_object_get_size (json_object_get_object_member (data, "fake")), ==, 1);
    g_assert_cmpint (json_object_get_int_member (json_object_get_object_member (data, "fake"), "value"), >=, 1);
  }

  sonde_test_server_free (server);
}

static void
test_snapshot_unknown_metric (void)
{
  SondeTestServer *server = sonde_test_server_new (TRUE);
  static const char * const paths[] = {
    "/api/v1/snapshot?metrics=nope.x",
    "/api/v1/snapshot?metrics=fake.nope",
    "/api/v1/snapshot?metrics=fake.value,nope",
  };

  for (guint i = 0; i < G_N_ELEMENTS (paths); i++)
    {
      g_autoptr(SondeTestResponse) response = sonde_test_http (server, "GET", paths[i]);

      check_error (response, SOUP_STATUS_BAD_REQUEST, "unknown_metric");
    }

  {
    g_autoptr(SondeTestResponse) response = sonde_test_http (server, "GET", "/api/v1/snapshot?metrics=fa%20ke");

    check_error (response, SOUP_STATUS_BAD_REQUEST, "invalid_subscription");
  }

  /* Refused requests collect nothing. */
  g_assert_cmpuint (sonde_fake_collector_get_n_collected (server->fake), ==, 0);

  sonde_test_server_free (server);
}

static void
test_method_not_allowed (void)
{
  SondeTestServer *server = sonde_test_server_new (TRUE);
  static const char * const paths[] = { "/status", "/api/v1/catalog", "/api/v1/snapshot" };

  for (guint i = 0; i < G_N_ELEMENTS (paths); i++)
    {
      g_autoptr(SondeTestResponse) response = sonde_test_http (server, "POST", paths[i]);

      check_error (response, SOUP_STATUS_METHOD_NOT_ALLOWED, "method_not_allowed");
      g_assert_nonnull (response->allow);
      g_assert_nonnull (strstr (response->allow, "GET"));
    }

  {
    g_autoptr(SondeTestResponse) response = sonde_test_http (server, "DELETE", "/status");
    check_error (response, SOUP_STATUS_METHOD_NOT_ALLOWED, "method_not_allowed");
  }

  sonde_test_server_free (server);
}

static void
test_not_found (void)
{
  SondeTestServer *server = sonde_test_server_new (TRUE);
  static const char * const paths[] = { "/nope", "/api/v1/nope", "/api/v2/snapshot", "/ws/v2" };

  for (guint i = 0; i < G_N_ELEMENTS (paths); i++)
    {
      g_autoptr(SondeTestResponse) response = sonde_test_http (server, "GET", paths[i]);

      check_error (response, SOUP_STATUS_NOT_FOUND, "not_found");
      g_assert_nonnull (strstr (json_object_get_string_member (response->json, "message"), paths[i]));
    }

  /* A plain GET of the WebSocket route is not an upgrade. */
  {
    g_autoptr(SondeTestResponse) response = sonde_test_http (server, "GET", "/ws/v1");
    g_assert_cmpuint (response->status, >=, 400);
    g_assert_cmpuint (response->status, <, 500);
  }

  /* The server took all that without harm. */
  {
    g_autoptr(SondeTestResponse) response = sonde_test_http (server, "GET", "/status");
    check_ok_json (response);
  }

  sonde_test_server_free (server);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/http/status", test_status);
  g_test_add_func ("/http/status/clients", test_status_counts_clients);
  g_test_add_func ("/http/catalog", test_catalog);
  g_test_add_func ("/http/snapshot", test_snapshot);
  g_test_add_func ("/http/snapshot/filtered", test_snapshot_filtered);
  g_test_add_func ("/http/snapshot/unknown-metric", test_snapshot_unknown_metric);
  g_test_add_func ("/http/method-not-allowed", test_method_not_allowed);
  g_test_add_func ("/http/not-found", test_not_found);

  return g_test_run ();
}
