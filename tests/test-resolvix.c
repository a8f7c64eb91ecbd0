/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>
#include <unistd.h>

#include "sonde-test-util.h"

/* The resolvix dialect, as seeds/resolvix-telemetry-guide.md documents
 * it: the telemetry stream and its compatibility listener. POST /control,
 * GET /status and the live logs are in test-resolvix-control.c. */

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

/* Tests -------------------------------------------------------------------- */

static void
test_telemetry_document (void)
{
  SondeTestServer *server = server_with_plugins ();
  SondeTestClient *client;
  gint64 start;

  if (server == NULL)
    return;

  g_assert_cmpuint (sonde_server_get_telemetry_interval (server->server), ==, 60);
  g_assert_cmpstr (sonde_server_get_node_id (server->server), ==, g_get_host_name ());

  /* At once, not after the 60 s interval. */
  start = g_get_monotonic_time ();
  client = sonde_test_client_new_for_path (server, TELEMETRY_PATH);
  assert_telemetry_document (server->engine, frame_at (client, 0), g_get_host_name ());
  g_assert_cmpint (g_get_monotonic_time () - start, <, 5 * G_USEC_PER_SEC);

  /* The node id is configurable, from the next document on. */
  sonde_server_set_node_id (server->server, "192.168.1.100");
  g_assert_cmpstr (sonde_server_get_node_id (server->server), ==, "192.168.1.100");
  sonde_test_client_free (client);
  client = sonde_test_client_new_for_path (server, TELEMETRY_PATH);
  assert_telemetry_document (server->engine, frame_at (client, 0), "192.168.1.100");
  sonde_server_set_node_id (server->server, NULL);
  g_assert_cmpstr (sonde_server_get_node_id (server->server), ==, g_get_host_name ());

  sonde_test_client_free (client);
  sonde_test_server_free (server);
}

static const char *
frame_timestamp (SondeTestFrame *frame)
{
  return json_object_get_string_member (frame->object, "timestamp");
}

/* The last frame of @client stamped @timestamp. */
static SondeTestFrame *
frame_stamped (SondeTestClient *client,
               const char      *timestamp)
{
  for (guint i = client->frames->len; i > 0; i--)
    {
      SondeTestFrame *frame = g_ptr_array_index (client->frames, i - 1);

      if (g_str_equal (frame_timestamp (frame), timestamp))
        return frame;
    }

  g_assert_not_reached ();
}

static void
test_telemetry_cadence (void)
{
  SondeTestServer *server = server_with_plugins ();
  SondeTestClient *clients[3];
  g_autofree char *common = NULL;
  GBytes *reference;

  if (server == NULL)
    return;

  sonde_server_set_telemetry_interval (server->server, 1);
  for (guint i = 0; i < G_N_ELEMENTS (clients); i++)
    clients[i] = sonde_test_client_new_for_path (server, TELEMETRY_PATH);

  /* All of them are one group. */
  g_assert_cmpuint (_sonde_server_get_n_groups (server->server), ==, 1);

  for (guint i = 0; i < G_N_ELEMENTS (clients); i++)
    sonde_test_wait_until (clients[i]->frames->len >= 5);

  /* One a second, on the second. The one sent at connection may come
   * just before or after a tick's: the comparisons start past it. */
  for (guint i = 3; i < clients[0]->frames->len; i++)
    {
      gint64 previous = parse_timestamp (((SondeTestFrame *) g_ptr_array_index (clients[0]->frames, i - 1))->object);
      gint64 current = parse_timestamp (((SondeTestFrame *) g_ptr_array_index (clients[0]->frames, i))->object);

      g_assert_cmpint (current - previous, ==, 1);
    }
  assert_telemetry_document (server->engine, frame_at (clients[0], 3), g_get_host_name ());

  /* The same bytes for everybody: the latest second all have. */
  for (guint i = 0; i < G_N_ELEMENTS (clients); i++)
    {
      SondeTestFrame *last = g_ptr_array_index (clients[i]->frames, clients[i]->frames->len - 1);

      if (common == NULL || strcmp (frame_timestamp (last), common) < 0)
        {
          g_free (common);
          common = g_strdup (frame_timestamp (last));
        }
    }
  reference = frame_stamped (clients[0], common)->raw;
  for (guint i = 1; i < G_N_ELEMENTS (clients); i++)
    g_assert_true (g_bytes_equal (frame_stamped (clients[i], common)->raw, reference));

  for (guint i = 0; i < G_N_ELEMENTS (clients); i++)
    sonde_test_client_free (clients[i]);
  sonde_test_wait_until (_sonde_server_get_n_groups (server->server) == 0);
  sonde_test_server_free (server);
}

static void
test_telemetry_long_interval (void)
{
  SondeTestServer *server = server_with_plugins ();
  SondeTestClient *client;

  if (server == NULL)
    return;

  /* Beyond what the engine samples at (60 s): still one document at
   * connection, and no complaint. */
  sonde_server_set_telemetry_interval (server->server, 3600);
  g_assert_cmpuint (sonde_server_get_telemetry_interval (server->server), ==, 3600);
  client = sonde_test_client_new_for_path (server, TELEMETRY_PATH);
  assert_telemetry_document (server->engine, frame_at (client, 0), g_get_host_name ());
  sonde_server_set_telemetry_interval (server->server, 61);
  sonde_test_spin_for (1200);
  /* Nothing more within the interval. */
  g_assert_cmpuint (client->frames->len, ==, 1);
  g_assert_cmpuint (_sonde_server_get_n_groups (server->server), ==, 1);

  if (g_test_undefined ())
    {
      g_test_expect_message ("Sonde", G_LOG_LEVEL_CRITICAL, "*seconds >= *");
      sonde_server_set_telemetry_interval (server->server, 0);
      g_test_assert_expected_messages ();
    }
  g_assert_cmpuint (sonde_server_get_telemetry_interval (server->server), ==, 61);

  sonde_test_client_free (client);
  sonde_test_server_free (server);
}

static void
test_telemetry_bad_message (void)
{
  SondeTestServer *server = server_with_plugins ();
  SondeTestClient *client;
  JsonObject *error;
  guint n;

  if (server == NULL)
    return;

  sonde_server_set_telemetry_interval (server->server, 1);
  client = sonde_test_client_new_for_path (server, TELEMETRY_PATH);
  frame_at (client, 0);

  sonde_test_client_send (client, "{\"type\": \"subscribe\"}");
  sonde_test_client_send_bytes (client, SOUP_WEBSOCKET_DATA_BINARY, "\x00\x01", 2);
  sonde_test_client_send (client, "not json at all");

  /* Each gets the error object; the stream goes on. */
  for (guint found = 0, index = 1; found < 3; index++)
    {
      error = frame_at (client, index);
      if (json_object_has_member (error, "error"))
        {
          assert_members (error, "error");
          g_assert_cmpstr (json_object_get_string_member (error, "error"), !=, "");
          found++;
        }
      else
        g_assert_true (json_object_has_member (error, "metrics"));
    }

  n = client->frames->len;
  sonde_test_wait_until (client->frames->len > n);
  g_assert_true (json_object_has_member (frame_at (client, n), "metrics"));
  g_assert_false (client->closed);

  sonde_test_client_free (client);
  sonde_test_server_free (server);
}

static void
test_compat_listeners (void)
{
  SondeTestServer *server = server_with_plugins ();
  g_autoptr(GError) error = NULL;
  CompatClient *client;
  guint telemetry_port;

  if (server == NULL)
    return;

  /* The seed's URL: ws://NODE:8756, no path. */
  telemetry_port = sonde_server_listen_compat (server->server, "resolvix-telemetry", "127.0.0.1", 0, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (telemetry_port, >, 0);
  g_assert_cmpuint (telemetry_port, !=, sonde_server_get_port (server->server));

  client = compat_client_new (telemetry_port);
  sonde_test_wait_until (client->frames->len >= 1);
  assert_telemetry_document (server->engine, g_ptr_array_index (client->frames, 0), g_get_host_name ());
  compat_client_free (client);

  sonde_test_server_free (server);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/resolvix/telemetry/document", test_telemetry_document);
  g_test_add_func ("/resolvix/telemetry/cadence", test_telemetry_cadence);
  g_test_add_func ("/resolvix/telemetry/long-interval", test_telemetry_long_interval);
  g_test_add_func ("/resolvix/telemetry/bad-message", test_telemetry_bad_message);
  g_test_add_func ("/resolvix/compat-listeners", test_compat_listeners);

  return g_test_run ();
}
