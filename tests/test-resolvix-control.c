/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>
#include <unistd.h>

#include "sonde-test-util.h"

/* The resolvix dialect, as seeds/resolvix-telemetry-guide.md documents
 * it: POST /control, GET /status and the live logs. The telemetry stream
 * is in test-resolvix.c. */

#define TELEMETRY_PATH "/ws/telemetry"
#define LOGS_PATH      "/ws/logs"

static SondeTestServer *
server_with_plugins (void)
{
  SondeTestServer *server = sonde_test_server_new (FALSE);

  if (g_getenv ("SONDE_PLUGIN_PATH") != NULL)
    sonde_engine_load_plugins (server->engine, NULL);

  if (sonde_engine_get_collector (server->engine, "cpu") == NULL)
    {
      g_test_skip ("The collector plugins are not available (SONDE_PLUGIN_PATH)");
      sonde_test_server_free (server);
      return NULL;
    }

  return server;
}

static JsonObject *
frame_at (SondeTestClient *client,
          guint            index)
{
  sonde_test_wait_until (client->frames->len > index);
  return ((SondeTestFrame *) g_ptr_array_index (client->frames, index))->object;
}

static JsonObject *
member_object (JsonObject *object,
               const char *member)
{
  JsonNode *node = json_object_get_member (object, member);

  g_assert_nonnull (node);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (node));
  return json_node_get_object (node);
}

static void
assert_members (JsonObject *object,
                const char *expected)
{
  g_autofree char *members = sonde_test_members (object);

  g_assert_cmpstr (members, ==, expected);
}

static GType
value_type (JsonObject *object,
            const char *member)
{
  JsonNode *node = json_object_get_member (object, member);

  g_assert_nonnull (node);
  if (JSON_NODE_HOLDS_NULL (node))
    return G_TYPE_NONE;
  g_assert_true (JSON_NODE_HOLDS_VALUE (node));
  return json_node_get_value_type (node);
}

/* A double on the wire ("16.0", never "16"), rounded to @decimals. */
static double
get_rounded (JsonObject *object,
             const char *member,
             int         decimals)
{
  double value, scaled;

  g_assert_cmpint (value_type (object, member), ==, G_TYPE_DOUBLE);
  value = json_object_get_double_member (object, member);
  scaled = value * pow (10, decimals);
  g_assert_cmpfloat_with_epsilon (scaled, round (scaled), 1e-6);
  return value;
}

static double
get_percent (JsonObject *object,
             const char *member)
{
  double value = get_rounded (object, member, 1);

  g_assert_cmpfloat (value, >=, 0.0);
  g_assert_cmpfloat (value, <=, 100.0);
  return value;
}

static gint64
get_integer (JsonObject *object,
             const char *member)
{
  g_assert_cmpint (value_type (object, member), ==, G_TYPE_INT64);
  return json_object_get_int_member (object, member);
}

static double
bytes_to_gb (gint64 bytes)
{
  return round (bytes / (1024.0 * 1024.0 * 1024.0) * 100.0) / 100.0;
}

/* "2024-01-15T10:30:45Z", in seconds since the epoch. */
static gint64
parse_timestamp (JsonObject *object)
{
  const char *timestamp = json_object_get_string_member (object, "timestamp");
  g_autoptr(GDateTime) parsed = NULL;

  g_assert_true (g_regex_match_simple ("^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ$", timestamp, 0, 0));
  parsed = g_date_time_new_from_iso8601 (timestamp, NULL);
  g_assert_nonnull (parsed);
  return g_date_time_to_unix (parsed);
}

/* Checks every key of the guide's "Sample Telemetry Data", with its type
 * and unit, against what the collectors sampled. */
static void
assert_telemetry_document (SondeEngine *engine,
                           JsonObject  *document,
                           const char  *node_id)
{
  JsonObject *metrics, *cpu, *memory, *disk, *usage, *io, *network, *processes;
  SondeSample *sample;
  JsonArray *array;
  gint64 seconds;

  assert_members (document, "metrics,node_id,timestamp");
  seconds = parse_timestamp (document);
  g_assert_cmpint (ABS (seconds - g_get_real_time () / G_USEC_PER_SEC), <=, 30);
  g_assert_cmpstr (json_object_get_string_member (document, "node_id"), ==, node_id);

  metrics = member_object (document, "metrics");
  assert_members (metrics, "cpu,disk,memory,network,processes");

  cpu = member_object (metrics, "cpu");
  assert_members (cpu, "cpu_per_core_percent,cpu_usage_percent,load_avg_15min,load_avg_1min,load_avg_5min");
  get_percent (cpu, "cpu_usage_percent");
  array = json_object_get_array_member (cpu, "cpu_per_core_percent");
  sample = sonde_engine_get_latest (engine, "cpu");
  g_assert_nonnull (sample);
  g_assert_cmpuint (json_array_get_length (array), ==,
                    json_array_get_length (json_object_get_array_member (sonde_sample_get_data (sample),
                                                                         "per_core_percent")));
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      double value = json_array_get_double_element (array, i);

      g_assert_cmpint (json_node_get_value_type (json_array_get_element (array, i)), ==, G_TYPE_DOUBLE);
      g_assert_cmpfloat (value, >=, 0.0);
      g_assert_cmpfloat (value, <=, 100.0);
    }
  g_assert_cmpfloat (get_rounded (cpu, "load_avg_1min", 2), >=, 0.0);
  g_assert_cmpfloat (get_rounded (cpu, "load_avg_5min", 2), >=, 0.0);
  g_assert_cmpfloat (get_rounded (cpu, "load_avg_15min", 2), >=, 0.0);

  /* GB are 1024³ bytes, to two decimals. */
  memory = member_object (metrics, "memory");
  assert_members (memory, "memory_available_gb,memory_total_gb,memory_usage_percent,memory_used_gb,"
                          "swap_total_gb,swap_usage_percent,swap_used_gb");
  sample = sonde_engine_get_latest (engine, "memory");
  g_assert_nonnull (sample);
  g_assert_cmpfloat (get_rounded (memory, "memory_total_gb", 2), ==,
                     bytes_to_gb (sonde_sample_get_int (sample, "total_bytes")));
  g_assert_cmpfloat (get_rounded (memory, "swap_total_gb", 2), ==,
                     bytes_to_gb (sonde_sample_get_int (sample, "swap_total_bytes")));
  g_assert_cmpfloat (get_rounded (memory, "memory_total_gb", 2), >, 0.0);
  g_assert_cmpfloat (get_rounded (memory, "memory_used_gb", 2), <=, get_rounded (memory, "memory_total_gb", 2));
  g_assert_cmpfloat (get_rounded (memory, "memory_available_gb", 2), <=,
                     get_rounded (memory, "memory_total_gb", 2));
  g_assert_cmpfloat (get_rounded (memory, "swap_used_gb", 2), <=, get_rounded (memory, "swap_total_gb", 2));
  get_percent (memory, "memory_usage_percent");
  get_percent (memory, "swap_usage_percent");

  /* One entry per partition the disk collector reports, by mount point. */
  disk = member_object (metrics, "disk");
  assert_members (disk, "disk_io,disk_usage");
  usage = member_object (disk, "disk_usage");
  sample = sonde_engine_get_latest (engine, "disk");
  g_assert_nonnull (sample);
  array = json_object_get_array_member (sonde_sample_get_data (sample), "partitions");
  g_assert_cmpuint (json_object_get_size (usage), ==, json_array_get_length (array));
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonObject *partition = json_array_get_object_element (array, i);
      JsonObject *entry = member_object (usage, json_object_get_string_member (partition, "mount"));

      assert_members (entry, "free_gb,total_gb,usage_percent,used_gb");
      g_assert_cmpfloat (get_rounded (entry, "total_gb", 2), ==,
                         bytes_to_gb (json_object_get_int_member (partition, "total_bytes")));
      g_assert_cmpfloat (get_rounded (entry, "used_gb", 2), <=, get_rounded (entry, "total_gb", 2));
      g_assert_cmpfloat (get_rounded (entry, "free_gb", 2), <=, get_rounded (entry, "total_gb", 2));
      get_percent (entry, "usage_percent");
    }
  io = member_object (disk, "disk_io");
  assert_members (io, "read_mb_per_sec,write_mb_per_sec");
  g_assert_cmpfloat (get_rounded (io, "read_mb_per_sec", 2), >=, 0.0);
  g_assert_cmpfloat (get_rounded (io, "write_mb_per_sec", 2), >=, 0.0);

  network = member_object (metrics, "network");
  assert_members (network, "active_connections,bytes_recv_mb_per_sec,bytes_sent_mb_per_sec,"
                           "packets_recv,packets_sent");
  g_assert_cmpfloat (get_rounded (network, "bytes_sent_mb_per_sec", 2), >=, 0.0);
  g_assert_cmpfloat (get_rounded (network, "bytes_recv_mb_per_sec", 2), >=, 0.0);
  g_assert_cmpint (get_integer (network, "packets_sent"), >=, 0);
  g_assert_cmpint (get_integer (network, "packets_recv"), >=, 0);
  g_assert_cmpint (get_integer (network, "active_connections"), >=, 0);

  processes = member_object (metrics, "processes");
  assert_members (processes, "process_count,top_memory_processes");
  g_assert_cmpint (get_integer (processes, "process_count"), >, 0);
  array = json_object_get_array_member (processes, "top_memory_processes");
  /* The guide's "top 5 memory consumers". */
  g_assert_cmpuint (json_array_get_length (array), >, 0);
  g_assert_cmpuint (json_array_get_length (array), <=, 5);
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonObject *process = json_array_get_object_element (array, i);

      assert_members (process, "memory_percent,name,pid");
      g_assert_cmpint (get_integer (process, "pid"), >, 0);
      g_assert_cmpint (value_type (process, "name"), ==, G_TYPE_STRING);
      get_percent (process, "memory_percent");
    }
}

/* Raw clients of the compatibility listeners ------------------------------ */

typedef struct
{
  SoupSession             *session;
  SoupWebsocketConnection *connection;
  GPtrArray               *frames;   /* JsonObject */
  gboolean                 done;
  GError                  *error;
} CompatClient;

static void
compat_message_cb (SoupWebsocketConnection *connection,
                   int                      type,
                   GBytes                  *bytes,
                   CompatClient            *self)
{
  gsize length;
  const char *text = g_bytes_get_data (bytes, &length);
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;

  g_assert_cmpint (type, ==, SOUP_WEBSOCKET_DATA_TEXT);
  json_parser_load_from_data (parser, text, length, &error);
  g_assert_no_error (error);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)));
  g_ptr_array_add (self->frames, json_object_ref (json_node_get_object (json_parser_get_root (parser))));
}

static void
compat_connected_cb (GObject      *source,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  CompatClient *self = user_data;

  self->connection = soup_session_websocket_connect_finish (SOUP_SESSION (source), result, &self->error);
  if (self->connection != NULL)
    g_signal_connect (self->connection, "message", G_CALLBACK (compat_message_cb), self);
  self->done = TRUE;
}

/* ws://127.0.0.1:PORT, the seed's own URL form: no path. */
static CompatClient *
compat_client_new (guint port)
{
  CompatClient *self = g_new0 (CompatClient, 1);
  g_autofree char *uri = g_strdup_printf ("ws://127.0.0.1:%u", port);
  g_autoptr(SoupMessage) msg = soup_message_new ("GET", uri);

  self->frames = g_ptr_array_new_with_free_func ((GDestroyNotify) json_object_unref);
  self->session = sonde_test_session_new ();
  soup_session_websocket_connect_async (self->session, msg, NULL, NULL, G_PRIORITY_DEFAULT, NULL,
                                        compat_connected_cb, self);
  sonde_test_wait_until (self->done);
  g_assert_no_error (self->error);
  return self;
}

static void
compat_client_free (CompatClient *self)
{
  if (soup_websocket_connection_get_state (self->connection) == SOUP_WEBSOCKET_STATE_OPEN)
    {
      soup_websocket_connection_close (self->connection, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
      sonde_test_wait_until (soup_websocket_connection_get_state (self->connection) == SOUP_WEBSOCKET_STATE_CLOSED);
    }
  g_signal_handlers_disconnect_by_data (self->connection, self);
  g_object_unref (self->connection);
  g_object_unref (self->session);
  g_ptr_array_unref (self->frames);
  g_free (self);
}

/* HTTP ------------------------------------------------------------------- */

static SondeTestResponse *
http_at (guint       port,
         const char *method,
         const char *path,
         const char *body)
{
  g_autofree char *uri = g_strdup_printf ("http://127.0.0.1:%u%s", port, path);
  g_autoptr(SoupMessage) msg = soup_message_new (method, uri);

  g_assert_nonnull (msg);
  if (body != NULL)
    {
      g_autoptr(GBytes) bytes = g_bytes_new (body, strlen (body));
      soup_message_set_request_body_from_bytes (msg, "application/json", bytes);
    }
  return sonde_test_http_send (msg);
}

static SondeTestResponse *
control (guint       port,
         const char *body)
{
  return http_at (port, "POST", "/control", body);
}

static void
assert_error_response (SondeTestResponse *response,
                       guint              status)
{
  g_assert_cmpuint (response->status, ==, status);
  g_assert_nonnull (response->json);
  assert_members (response->json, "error");
  g_assert_cmpint (value_type (response->json, "error"), ==, G_TYPE_STRING);
  g_assert_cmpstr (json_object_get_string_member (response->json, "error"), !=, "");
}

static void
assert_started (SondeTestResponse *response,
                const char        *status,
                guint              ws_port,
                gint64             interval)
{
  g_autofree char *pid = g_strdup_printf ("%d", (int) getpid ());

  g_assert_cmpuint (response->status, ==, SOUP_STATUS_OK);
  assert_members (response->json, interval > 0 ? "interval,pid,status,ws_port" : "pid,status,ws_port");
  g_assert_cmpstr (json_object_get_string_member (response->json, "status"), ==, status);
  /* A string, as in the guide. */
  g_assert_cmpint (value_type (response->json, "pid"), ==, G_TYPE_STRING);
  g_assert_cmpstr (json_object_get_string_member (response->json, "pid"), ==, pid);
  g_assert_cmpint (get_integer (response->json, "ws_port"), ==, ws_port);
  if (interval > 0)
    g_assert_cmpint (get_integer (response->json, "interval"), ==, interval);
}

static void
assert_stopped (SondeTestResponse *response,
                const char        *status)
{
  g_assert_cmpuint (response->status, ==, SOUP_STATUS_OK);
  assert_members (response->json, "status");
  g_assert_cmpstr (json_object_get_string_member (response->json, "status"), ==, status);
}

/* Tests -------------------------------------------------------------------- */

static void
test_control_stop_start (void)
{
  SondeTestServer *server = server_with_plugins ();
  guint port;
  SondeTestClient *client;
  g_autoptr(SondeTestResponse) response = NULL;
  guint n;

  if (server == NULL)
    return;

  port = sonde_server_get_port (server->server);
  sonde_server_set_telemetry_interval (server->server, 1);
  client = sonde_test_client_new_for_path (server, TELEMETRY_PATH);
  sonde_test_wait_until (client->frames->len >= 2);

  /* Running from the start. */
  response = control (port, "{\"command\": \"start_telemetry\"}");
  assert_started (response, "already_running", port, 1);
  g_clear_pointer (&response, sonde_test_response_free);

  response = control (port, "{\"command\": \"stop_telemetry\"}");
  assert_stopped (response, "stopped");
  g_clear_pointer (&response, sonde_test_response_free);
  g_assert_cmpuint (_sonde_server_get_n_groups (server->server), ==, 0);

  /* Nothing while stopped, and the connection stays. */
  sonde_test_spin_for (200);
  n = client->frames->len;
  sonde_test_spin_for (2500);
  g_assert_cmpuint (client->frames->len, ==, n);
  g_assert_false (client->closed);

  response = control (port, "{\"command\": \"stop_telemetry\"}");
  assert_stopped (response, "not_running");
  g_clear_pointer (&response, sonde_test_response_free);

  /* Started again: a document at once, then every second. */
  response = control (port, "{\"command\": \"start_telemetry\"}");
  assert_started (response, "started", port, 1);
  g_clear_pointer (&response, sonde_test_response_free);
  sonde_test_wait_until (client->frames->len >= n + 3);
  assert_telemetry_document (server->engine, frame_at (client, n + 2), g_get_host_name ());

  sonde_test_client_free (client);
  sonde_test_server_free (server);
}

static void
test_control_answers (void)
{
  SondeTestServer *server = server_with_plugins ();
  guint port, telemetry_port, logs_port;
  g_autoptr(SondeTestResponse) response = NULL;
  g_autoptr(GError) error = NULL;
  static const char * const bad_bodies[] = {
    "", "{\"command\": ", "[\"start_telemetry\"]", "\"start_telemetry\"", "{}",
    "{\"command\": 5}", "{\"command\": null}", "{\"command\": \"reboot\"}", "{\"cmd\": \"start_telemetry\"}",
  };

  if (server == NULL)
    return;

  port = sonde_server_get_port (server->server);

  /* Without compatibility listeners, the streams are on the main port. */
  response = control (port, "{\"command\": \"start_livelogs\"}");
  assert_started (response, "already_running", port, 0);
  g_clear_pointer (&response, sonde_test_response_free);

  /* With them, on theirs. */
  telemetry_port = sonde_server_listen_compat (server->server, "resolvix-telemetry", "127.0.0.1", 0, &error);
  g_assert_no_error (error);
  logs_port = sonde_server_listen_compat (server->server, "resolvix-logs", "127.0.0.1", 0, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (telemetry_port, >, 0);
  g_assert_cmpuint (logs_port, >, 0);

  response = control (port, "{\"command\": \"start_telemetry\"}");
  assert_started (response, "already_running", telemetry_port, 60);
  g_clear_pointer (&response, sonde_test_response_free);
  response = control (port, "{\"command\": \"stop_telemetry\"}");
  assert_stopped (response, "stopped");
  g_clear_pointer (&response, sonde_test_response_free);
  response = control (port, "{\"command\": \"stop_telemetry\"}");
  assert_stopped (response, "not_running");
  g_clear_pointer (&response, sonde_test_response_free);
  response = control (port, "{\"command\": \"start_telemetry\"}");
  assert_started (response, "started", telemetry_port, 60);
  g_clear_pointer (&response, sonde_test_response_free);

  response = control (port, "{\"command\": \"stop_livelogs\"}");
  assert_stopped (response, "stopped");
  g_clear_pointer (&response, sonde_test_response_free);
  response = control (port, "{\"command\": \"stop_livelogs\"}");
  assert_stopped (response, "not_running");
  g_clear_pointer (&response, sonde_test_response_free);
  response = control (port, "{\"command\": \"start_livelogs\"}");
  assert_started (response, "started", logs_port, 0);
  g_clear_pointer (&response, sonde_test_response_free);
  response = control (port, "{\"command\": \"start_livelogs\"}");
  assert_started (response, "already_running", logs_port, 0);
  g_clear_pointer (&response, sonde_test_response_free);

  for (guint i = 0; i < G_N_ELEMENTS (bad_bodies); i++)
    {
      response = control (port, bad_bodies[i]);
      assert_error_response (response, SOUP_STATUS_BAD_REQUEST);
      g_clear_pointer (&response, sonde_test_response_free);
    }

  response = http_at (port, "GET", "/control", NULL);
  assert_error_response (response, SOUP_STATUS_METHOD_NOT_ALLOWED);
  g_assert_cmpstr (response->allow, ==, "POST");
  g_clear_pointer (&response, sonde_test_response_free);

  /* Nothing was changed by the bad requests. */
  response = control (port, "{\"command\": \"start_telemetry\", \"extra\": true}");
  assert_started (response, "already_running", telemetry_port, 60);
  g_clear_pointer (&response, sonde_test_response_free);

  sonde_test_server_free (server);
}

static void
assert_status_members (JsonObject *status,
                       const char *node_id,
                       gboolean    livelogs_running,
                       guint       logs_port,
                       guint       telemetry_port,
                       gint64      interval)
{
  JsonObject *livelogs = member_object (status, "livelogs");
  JsonObject *telemetry = member_object (status, "telemetry");

  g_assert_cmpstr (json_object_get_string_member (status, "node_id"), ==, node_id);
  g_assert_true (value_type (status, "log_file") == G_TYPE_STRING ||
                 value_type (status, "log_file") == G_TYPE_NONE);

  assert_members (livelogs, "pid,running,ws_port");
  g_assert_cmpint (value_type (livelogs, "running"), ==, G_TYPE_BOOLEAN);
  g_assert_cmpint (json_object_get_boolean_member (livelogs, "running"), ==, livelogs_running);
  /* An integer here, null when not running, as in the guide. */
  if (livelogs_running)
    g_assert_cmpint (get_integer (livelogs, "pid"), ==, getpid ());
  else
    g_assert_cmpint (value_type (livelogs, "pid"), ==, G_TYPE_NONE);
  g_assert_cmpint (get_integer (livelogs, "ws_port"), ==, logs_port);

  assert_members (telemetry, "interval,pid,running,ws_port");
  g_assert_true (json_object_get_boolean_member (telemetry, "running"));
  g_assert_cmpint (get_integer (telemetry, "pid"), ==, getpid ());
  g_assert_cmpint (get_integer (telemetry, "ws_port"), ==, telemetry_port);
  g_assert_cmpint (get_integer (telemetry, "interval"), ==, interval);
}

static void
test_status (void)
{
  SondeTestServer *server = server_with_plugins ();
  g_autoptr(SondeTestResponse) response = NULL;
  g_autoptr(GError) error = NULL;
  guint port, control_port;

  if (server == NULL)
    return;

  port = sonde_server_get_port (server->server);
  g_assert_cmpuint (sonde_server_get_compat_port ("resolvix-telemetry"), ==, 8756);
  g_assert_cmpuint (sonde_server_get_compat_port ("resolvix-logs"), ==, 8755);
  g_assert_cmpuint (sonde_server_get_compat_port ("resolvix-control"), ==, 8754);

  control_port = sonde_server_listen_compat (server->server, "resolvix-control", "127.0.0.1", 0, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (control_port, >, 0);
  sonde_server_set_node_id (server->server, "192.168.1.100");
  sonde_server_set_telemetry_interval (server->server, 30);

  /* On the compatibility listener: the guide's structure, exactly. */
  response = http_at (control_port, "GET", "/status", NULL);
  g_assert_cmpuint (response->status, ==, SOUP_STATUS_OK);
  g_assert_cmpstr (response->content_type, ==, "application/json");
  assert_members (response->json, "livelogs,log_file,node_id,telemetry");
  assert_status_members (response->json, "192.168.1.100", TRUE, port, port, 30);
  g_clear_pointer (&response, sonde_test_response_free);

  /* Its POST /control is the same. */
  response = control (control_port, "{\"command\": \"stop_livelogs\"}");
  assert_stopped (response, "stopped");
  g_clear_pointer (&response, sonde_test_response_free);
  response = http_at (control_port, "GET", "/status", NULL);
  assert_status_members (response->json, "192.168.1.100", FALSE, port, port, 30);
  g_clear_pointer (&response, sonde_test_response_free);

  response = http_at (control_port, "GET", "/nowhere", NULL);
  assert_error_response (response, SOUP_STATUS_NOT_FOUND);
  g_clear_pointer (&response, sonde_test_response_free);
  response = http_at (control_port, "POST", "/status", "{}");
  assert_error_response (response, SOUP_STATUS_METHOD_NOT_ALLOWED);
  g_clear_pointer (&response, sonde_test_response_free);

  /* On the main listener, one object serves both kinds of client. */
  response = http_at (port, "GET", "/status", NULL);
  g_assert_cmpuint (response->status, ==, SOUP_STATUS_OK);
  g_assert_cmpstr (json_object_get_string_member (response->json, "status"), ==, "ok");
  g_assert_true (json_object_has_member (response->json, "collectors"));
  assert_status_members (response->json, "192.168.1.100", FALSE, port, port, 30);

  sonde_test_server_free (server);
}

typedef struct
{
  char *dir;
  char *path;
} LogDir;

static void
log_dir_free (LogDir *dir)
{
  g_unlink (dir->path);
  g_rmdir (dir->dir);
  g_free (dir->path);
  g_free (dir->dir);
  g_free (dir);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (LogDir, log_dir_free)

static void
append_line (const char *path,
             const char *line)
{
  FILE *file = fopen (path, "a");

  g_assert_nonnull (file);
  fprintf (file, "%s\n", line);
  g_assert_cmpint (fclose (file), ==, 0);
}

static JsonObject *
next_log_line (GPtrArray *frames,
               guint     *index)
{
  sonde_test_wait_until (frames->len > *index);
  return ((SondeTestFrame *) g_ptr_array_index (frames, (*index)++))->object;
}

static void
assert_log_line (JsonObject *frame,
                 const char *path,
                 const char *line)
{
  assert_members (frame, "line,log_file,node_id,timestamp");
  parse_timestamp (frame);
  g_assert_cmpstr (json_object_get_string_member (frame, "node_id"), ==, g_get_host_name ());
  g_assert_cmpstr (json_object_get_string_member (frame, "log_file"), ==, path);
  g_assert_cmpstr (json_object_get_string_member (frame, "line"), ==, line);
}

static void
test_logs (void)
{
  SondeTestServer *server = server_with_plugins ();
  g_autoptr(LogDir) dir = g_new0 (LogDir, 1);
  g_autoptr(GError) error = NULL;
  g_autoptr(SondeTestResponse) response = NULL;
  SondeCollector *collector;
  SondeTestClient *client;
  CompatClient *compat;
  guint index = 0, logs_port;

  if (server == NULL)
    return;

  collector = sonde_engine_get_collector (server->engine, "logs");
  if (collector == NULL)
    {
      g_test_skip ("The logs plugin is not available");
      sonde_test_server_free (server);
      return;
    }

  dir->dir = g_dir_make_tmp ("sonde-resolvix-XXXXXX", &error);
  g_assert_no_error (error);
  dir->path = g_build_filename (dir->dir, "app.log", NULL);
  append_line (dir->path, "before anybody listened");
  g_object_set (collector,
                "files", (const char * const []) { dir->path, NULL },
                "allowed-paths", (const char * const []) { dir->dir, NULL },
                NULL);

  /* The status names the followed file. */
  response = sonde_test_http (server, "GET", "/status");
  g_assert_cmpstr (json_object_get_string_member (response->json, "log_file"), ==, dir->path);

  logs_port = sonde_server_listen_compat (server->server, "resolvix-logs", "127.0.0.1", 0, &error);
  g_assert_no_error (error);

  client = sonde_test_client_new_for_path (server, LOGS_PATH);
  compat = compat_client_new (logs_port);
  /* Followed from the moment the collector starts. */
  sonde_test_wait_until (sonde_collector_get_running (collector));

  append_line (dir->path, "hello from the test");
  assert_log_line (next_log_line (client->frames, &index), dir->path, "hello from the test");
  sonde_test_wait_until (compat->frames->len >= 1);
  assert_log_line (g_ptr_array_index (compat->frames, 0), dir->path, "hello from the test");

  /* A message gets the error object, and the stream goes on. */
  sonde_test_client_send (client, "{\"follow\": \"/etc/shadow\"}");
  {
    JsonObject *reply = next_log_line (client->frames, &index);

    assert_members (reply, "error");
  }
  append_line (dir->path, "still there");
  assert_log_line (next_log_line (client->frames, &index), dir->path, "still there");

  /* Stopped, nothing; started again, lines written from then on. */
  g_clear_pointer (&response, sonde_test_response_free);
  response = control (sonde_server_get_port (server->server), "{\"command\": \"stop_livelogs\"}");
  assert_stopped (response, "stopped");
  append_line (dir->path, "while stopped");
  sonde_test_spin_for (1500);
  g_assert_cmpuint (client->frames->len, ==, index);

  g_clear_pointer (&response, sonde_test_response_free);
  response = control (sonde_server_get_port (server->server), "{\"command\": \"start_livelogs\"}");
  assert_started (response, "started", logs_port, 0);
  sonde_test_wait_until (sonde_collector_get_running (collector));
  append_line (dir->path, "after start");
  assert_log_line (next_log_line (client->frames, &index), dir->path, "after start");

  sonde_test_client_free (client);
  compat_client_free (compat);

  /* Nobody listens: the collector is let go. */
  sonde_test_wait_until (!sonde_collector_get_running (collector));

  sonde_test_server_free (server);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/resolvix/control/stop-start", test_control_stop_start);
  g_test_add_func ("/resolvix/control/answers", test_control_answers);
  g_test_add_func ("/resolvix/status", test_status);
  g_test_add_func ("/resolvix/logs", test_logs);

  return g_test_run ();
}
