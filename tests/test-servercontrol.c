/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <string.h>

#include "sonde-engine-private.h"
#include "servercontrol-test-util.h"

/* The servercontrol format at /ws/servercontrol and on its compatibility
 * listener, as docs/formats/servercontrol.md documents it. */

#define MIB (1024 * 1024)

/* The raw text of @member's value in a compact JSON frame. */
static char *
raw_value (GBytes     *raw,
           const char *member)
{
  g_autofree char *text = g_strndup (g_bytes_get_data (raw, NULL), g_bytes_get_size (raw));
  g_autofree char *key = g_strdup_printf ("\"%s\":", member);
  const char *start = strstr (text, key);
  gsize length;

  g_assert_nonnull (start);
  start += strlen (key);
  length = strcspn (start, ",}");
  return g_strndup (start, length);
}

static guint64
meminfo_total_bytes (void)
{
  g_autofree char *meminfo = NULL;
  const char *line;

  g_assert_true (g_file_get_contents ("/proc/meminfo", &meminfo, NULL, NULL));
  line = strstr (meminfo, "MemTotal:");
  g_assert_nonnull (line);
  return g_ascii_strtoull (line + strlen ("MemTotal:"), NULL, 10) * 1024;
}

static void
test_servercontrol_stats (void)
{
  SondeTestServer *server = servercontrol_server_new (TRUE, NULL);
  SondeTestClient *client, *second;
  gint64 previous = 0;
  guint n_shared = 0;

  if (server == NULL)
    return;

  client = sonde_test_client_new_for_path (server, SERVERCONTROL_PATH);
  second = sonde_test_client_new_for_path (server, SERVERCONTROL_PATH);

  for (guint i = 0; i < 3; i++)
    {
      SondeTestFrame *frame = sonde_test_client_next_frame (client, "stats_update", NULL);
      JsonObject *stats = frame->object;
      g_autofree char *cpu_text = raw_value (frame->raw, "cpu");
      g_autofree char *used_text = raw_value (frame->raw, "ram_used");
      gint64 timestamp = json_object_get_int_member (stats, "timestamp");
      gint64 used = json_object_get_int_member (stats, "ram_used");
      gint64 total = json_object_get_int_member (stats, "ram_total");
      double cpu = json_object_get_double_member (stats, "cpu");

      sonde_test_assert_members (stats, "cpu,ram_total,ram_used,timestamp,type");

      /* cpu: a float to one decimal, as psutil gives it. */
      g_assert_nonnull (strchr (cpu_text, '.'));
      g_assert_cmpfloat (cpu, >=, 0.0);
      g_assert_cmpfloat (cpu, <=, 100.0);
      g_assert_cmpfloat_with_epsilon (cpu * 10.0, (double) (gint64) (cpu * 10.0 + 0.5), 1e-6);

      /* RAM: whole MiB. */
      g_assert_null (strchr (used_text, '.'));
      g_assert_cmpint (total, ==, (gint64) (meminfo_total_bytes () / MIB));
      g_assert_cmpint (used, >, 0);
      g_assert_cmpint (used, <, total);

      /* Epoch milliseconds, on whole wall-clock seconds, one a second. */
      g_assert_cmpint (llabs (timestamp - g_get_real_time () / 1000), <, 5000);
      g_assert_cmpint (timestamp % 1000, ==, 0);
      if (i > 0)
        g_assert_cmpint (timestamp - previous, ==, 1000);
      previous = timestamp;

      /* Every client gets the same bytes for the same second (the
       * second client may have joined after the first's first tick). */
      for (guint j = 0; ; j++)
        {
          SondeTestFrame *other;
          gint64 other_timestamp;

          sonde_test_client_frame_at (second, j);
          other = g_ptr_array_index (second->frames, j);
          other_timestamp = json_object_get_int_member_with_default (other->object, "timestamp", 0);
          if (other_timestamp == timestamp)
            {
              g_assert_true (g_bytes_equal (other->raw, frame->raw));
              n_shared++;
            }
          if (other_timestamp >= timestamp)
            break;
        }
    }
  g_assert_cmpuint (n_shared, >=, 2);

  /* One group for every client, one encoding a tick. */
  g_assert_cmpuint (_sonde_server_get_n_groups (server->server), ==, 1);

  sonde_test_client_free (second);
  sonde_test_client_free (client);
  sonde_test_server_free (server);
}

static void
test_servercontrol_ping (void)
{
  SondeTestServer *server = servercontrol_server_new (FALSE, NULL);
  SondeTestClient *client = sonde_test_client_new_for_path (server, SERVERCONTROL_PATH);
  gint64 before = g_get_real_time () / 1000;
  JsonObject *pong = servercontrol_ping (client);

  sonde_test_assert_members (pong, "timestamp,type");
  g_assert_cmpint (json_object_get_int_member (pong, "timestamp"), >=, before);
  g_assert_cmpint (json_object_get_int_member (pong, "timestamp"), <=, g_get_real_time () / 1000);

  sonde_test_client_free (client);
  sonde_test_server_free (server);
}

static void
expect_error (SondeTestClient *client,
              const char      *prefix)
{
  JsonObject *error;
  const char *message;

  /* Without collectors, each second brings its own error: skipped. */
  do
    {
      error = sonde_test_client_next (client, "error", NULL);
      message = json_object_get_string_member (error, "message");
      sonde_test_assert_members (error, "message,timestamp,type");
    }
  while (!g_str_has_prefix (prefix, "Metric collection failed") &&
         g_str_has_prefix (message, "Metric collection failed"));

  if (!g_str_has_prefix (message, prefix))
    g_error ("error message %s does not start with %s", message, prefix);

  /* The connection stays open and keeps answering. */
  servercontrol_ping (client);
}

static void
test_servercontrol_errors (void)
{
  SondeTestServer *server = servercontrol_server_new (FALSE, NULL);
  SondeTestClient *client = sonde_test_client_new_for_path (server, SERVERCONTROL_PATH);
  g_autofree char *large = g_strnfill (70 * 1024, ' ');
  static const guchar binary[] = { 0x00, 0xff, 0x10 };

  /* No cpu or memory collector: said at once, the stream goes on. */
  expect_error (client, "Metric collection failed: Unknown metric 'cpu.usage_percent'");

  sonde_test_client_send (client, "garbage");
  expect_error (client, "Invalid JSON: ");
  sonde_test_client_send (client, "{\"type\": \"subscribe\"}");
  expect_error (client, "Unknown message type 'subscribe': the only message is {\"type\": \"ping\"}");
  sonde_test_client_send (client, "{}");
  expect_error (client, "Missing \"type\"");
  sonde_test_client_send (client, "[\"ping\"]");
  expect_error (client, "Missing \"type\"");
  sonde_test_client_send (client, "{\"type\": 1}");
  expect_error (client, "Missing \"type\"");
  sonde_test_client_send_bytes (client, SOUP_WEBSOCKET_DATA_BINARY, binary, sizeof binary);
  expect_error (client, "Binary messages are not supported");
  sonde_test_client_send (client, "%s", large);
  expect_error (client, "Message of 71680 bytes exceeds the limit of 65536 bytes");

  g_assert_false (client->closed);
  sonde_test_client_free (client);
  sonde_test_server_free (server);
}

static void
test_servercontrol_task_events (void)
{
  g_autofree char *keys = exec_keys_enabled (NULL);
  SondeTestServer *server = servercontrol_server_new (FALSE, keys);
  SondeTestClient *client = sonde_test_client_new_for_path (server, SERVERCONTROL_PATH);
  SondeTestClient *second = sonde_test_client_new_for_path (server, SERVERCONTROL_PATH);
  g_autofree char *id = NULL;
  g_autoptr(TaskRun) run = NULL;
  g_autoptr(TaskRun) other = NULL;

  id = exec_start (server, "{\"command\": \"printf 'line 1\\\\nline 2\\\\n'\"}");
  run = task_run_wait (client, id, SONDE_TEST_TIMEOUT_MS);
  other = task_run_wait (second, id, SONDE_TEST_TIMEOUT_MS);

  /* The product's members, nothing more. */
  sonde_test_assert_members (run->start, "command,task_id,type");
  g_assert_cmpstr (json_object_get_string_member (run->start, "command"), ==, "printf 'line 1\\nline 2\\n'");
  g_assert_cmpuint (run->chunks->len, >=, 1);
  for (guint i = 0; i < run->chunks->len; i++)
    sonde_test_assert_members (g_ptr_array_index (run->chunks, i), "output,task_id,timestamp,type");
  g_assert_cmpstr (run->output, ==, "line 1\nline 2\n");
  sonde_test_assert_members (run->complete, "exit_code,task_id,type");
  g_assert_cmpint (run->exit_code, ==, 0);

  /* Encoded once: the same bytes for every client. */
  g_assert_cmpuint (other->chunks->len, ==, run->chunks->len);
  for (guint i = 0; i < run->chunks->len; i++)
    g_assert_true (g_bytes_equal (g_ptr_array_index (run->raw_chunks, i), g_ptr_array_index (other->raw_chunks, i)));

  /* A failing program's exit code. */
  {
    g_autofree char *failing = exec_start (server, "{\"argv\": [\"python3\", \"-c\", \"raise SystemExit(3)\"]}");
    g_autoptr(TaskRun) failed = task_run_wait (client, failing, SONDE_TEST_TIMEOUT_MS);

    g_assert_cmpint (failed->exit_code, ==, 3);
  }

  sonde_test_client_free (second);
  sonde_test_client_free (client);
  sonde_test_server_free (server);
}

static void
emit_alert (SondeTestServer *server,
            const char      *metric,
            const char      *comparison,
            double           value,
            double           threshold,
            gint64           timestamp_us)
{
  g_autoptr(JsonObject) data = json_object_new ();
  g_autoptr(SondeEvent) event = NULL;

  /* What the alert engine raises. */
  json_object_set_string_member (data, "rule", "cpu-high");
  json_object_set_string_member (data, "metric", metric);
  json_object_set_double_member (data, "value", value);
  json_object_set_double_member (data, "threshold", threshold);
  json_object_set_string_member (data, "comparison", comparison);
  json_object_set_string_member (data, "hostname", "server01");
  json_object_set_string_member (data, "message", "cpu.usage_percent above its threshold");
  event = sonde_event_new ("alert", "alerts", timestamp_us, data);
  _sonde_engine_emit_event (server->engine, event);
}

static void
test_servercontrol_cpu_alert (void)
{
  SondeTestServer *server = servercontrol_server_new (FALSE, NULL);
  SondeTestClient *client = sonde_test_client_new_for_path (server, SERVERCONTROL_PATH);
  gint64 now_us = g_get_real_time ();
  JsonObject *alert;

  emit_alert (server, "memory.usage_percent", "above", 95.0, 90.0, now_us);
  emit_alert (server, "cpu.usage_percent", "above", 94.53, 90.0, now_us);
  emit_alert (server, "cpu.usage_percent", "above", 88.0, 87.5, now_us);
  emit_alert (server, "cpu.usage_percent", "below", 2.0, 5.0, now_us);
  servercontrol_ping (client);

  alert = sonde_test_client_next (client, "cpu_alert", NULL);
  sonde_test_assert_members (alert, "cpu,hostname,message,timestamp,type");
  g_assert_cmpfloat (json_object_get_double_member (alert, "cpu"), ==, 94.5);
  g_assert_cmpstr (json_object_get_string_member (alert, "hostname"), ==, "server01");
  g_assert_cmpstr (json_object_get_string_member (alert, "message"), ==, "CPU usage exceeded 90%!");
  g_assert_cmpint (json_object_get_int_member (alert, "timestamp"), ==, now_us / 1000);

  alert = sonde_test_client_next (client, "cpu_alert", NULL);
  g_assert_cmpstr (json_object_get_string_member (alert, "message"), ==, "CPU usage exceeded 87.5%!");

  alert = sonde_test_client_next (client, "cpu_alert", NULL);
  g_assert_cmpfloat (json_object_get_double_member (alert, "cpu"), ==, 2.0);
  g_assert_cmpstr (json_object_get_string_member (alert, "message"), ==, "CPU usage fell below 5%!");

  /* The memory alert has no servercontrol form. */
  g_assert_cmpuint (sonde_test_client_count (client, "cpu_alert", NULL), ==, 0);

  sonde_test_client_free (client);
  sonde_test_server_free (server);
}

/* End to end: a rule of the engine's own alert engine on the real cpu
 * collector (one that holds at once) reaches the clients as cpu_alert. */
static void
test_servercontrol_cpu_alert_from_rule (void)
{
  SondeTestServer *server = servercontrol_server_new (TRUE, NULL);
  g_autoptr(SondeAlertRule) rule = NULL;
  g_autoptr(GError) error = NULL;
  SondeTestClient *client;
  JsonObject *alert;
  double cpu;

  if (server == NULL)
    return;

  client = sonde_test_client_new_for_path (server, SERVERCONTROL_PATH);
  rule = sonde_alert_rule_new_full ("cpu-any", "cpu.usage_percent", SONDE_ALERT_COMPARISON_BELOW,
                                    101.0, 0.0, 60.0, TRUE, NULL);
  g_assert_true (sonde_engine_add_alert_rule (server->engine, rule, &error));
  g_assert_no_error (error);

  alert = sonde_test_client_next (client, "cpu_alert", NULL);
  sonde_test_assert_members (alert, "cpu,hostname,message,timestamp,type");
  cpu = json_object_get_double_member (alert, "cpu");
  g_assert_cmpfloat (cpu, >=, 0.0);
  g_assert_cmpfloat (cpu, <=, 100.0);
  g_assert_cmpstr (json_object_get_string_member (alert, "hostname"), ==, g_get_host_name ());
  g_assert_cmpstr (json_object_get_string_member (alert, "message"), ==, "CPU usage fell below 101%!");
  g_assert_cmpint (llabs (json_object_get_int_member (alert, "timestamp") - g_get_real_time () / 1000), <, 10000);

  sonde_test_client_free (client);
  sonde_test_server_free (server);
}

static void
test_servercontrol_compat_listener (void)
{
  g_autofree char *keys = exec_keys_enabled (NULL);
  SondeTestServer *server = servercontrol_server_new (TRUE, keys);
  g_autoptr(GError) error = NULL;
  SondeTestClient *client;
  SondeTestResponse *response;
  g_autoptr(TaskRun) run = NULL;
  guint port;

  if (server == NULL)
    return;

  g_assert_cmpuint (sonde_server_get_compat_port ("servercontrol"), ==, 8082);
  port = sonde_server_listen_compat (server->server, "servercontrol", "127.0.0.1", 0, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (port, >, 0);

  /* ws://HOST:PORT, the product's URL, and POST /exec on the same port. */
  client = sonde_test_client_new_for_port (port, "/?token=" TEST_TOKEN);
  sonde_test_assert_members (sonde_test_client_next (client, "stats_update", NULL),
                             "cpu,ram_total,ram_used,timestamp,type");

  response = exec_post_full (port, TEST_TOKEN, "application/json", "{\"command\": \"printf compat\"}");
  g_assert_cmpuint (response->status, ==, 202);
  run = task_run_wait (client, json_object_get_string_member (response->json, "task_id"), SONDE_TEST_TIMEOUT_MS);
  g_assert_cmpstr (run->output, ==, "compat");
  sonde_test_response_free (response);

  /* The token is required there too. */
  response = exec_post_full (port, NULL, "application/json", "{\"command\": \"printf compat\"}");
  g_assert_cmpuint (response->status, ==, 401);
  sonde_test_response_free (response);

  sonde_test_client_free (client);
  sonde_test_server_free (server);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/servercontrol/stats", test_servercontrol_stats);
  g_test_add_func ("/servercontrol/ping", test_servercontrol_ping);
  g_test_add_func ("/servercontrol/errors", test_servercontrol_errors);
  g_test_add_func ("/servercontrol/task-events", test_servercontrol_task_events);
  g_test_add_func ("/servercontrol/cpu-alert", test_servercontrol_cpu_alert);
  g_test_add_func ("/servercontrol/cpu-alert-from-rule", test_servercontrol_cpu_alert_from_rule);
  g_test_add_func ("/servercontrol/compat-listener", test_servercontrol_compat_listener);

  return g_test_run ();
}
