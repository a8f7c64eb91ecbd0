/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* These tests drive the deprecated sonde_server_set_node_id() and
 * sonde_server_set_telemetry_interval() on purpose: they still work. */
#define SONDE_DISABLE_DEPRECATION_WARNINGS
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "resolvix-test-util.h"

/* The resolvix dialect, as docs/formats/resolvix.md documents
 * it: POST /control, GET /status and the live logs. The telemetry stream
 * is in test-resolvix.c. */

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
  sonde_test_assert_members (response->json, "error");
  g_assert_cmpint (resolvix_value_type (response->json, "error"), ==, G_TYPE_STRING);
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
  sonde_test_assert_members (response->json, interval > 0 ? "interval,pid,status,ws_port" : "pid,status,ws_port");
  g_assert_cmpstr (json_object_get_string_member (response->json, "status"), ==, status);
  /* A string, as in the guide. */
  g_assert_cmpint (resolvix_value_type (response->json, "pid"), ==, G_TYPE_STRING);
  g_assert_cmpstr (json_object_get_string_member (response->json, "pid"), ==, pid);
  g_assert_cmpint (resolvix_get_integer (response->json, "ws_port"), ==, ws_port);
  if (interval > 0)
    g_assert_cmpint (resolvix_get_integer (response->json, "interval"), ==, interval);
}

static void
assert_stopped (SondeTestResponse *response,
                const char        *status)
{
  g_assert_cmpuint (response->status, ==, SOUP_STATUS_OK);
  sonde_test_assert_members (response->json, "status");
  g_assert_cmpstr (json_object_get_string_member (response->json, "status"), ==, status);
}

/* POSTs {"command": @command} to /control at @port; the answer must be
 * that of a started stream (see assert_started()). */
static void
control_starts (guint       port,
                const char *command,
                const char *status,
                guint       ws_port,
                gint64      interval)
{
  g_autofree char *body = g_strdup_printf ("{\"command\": \"%s\"}", command);
  g_autoptr(SondeTestResponse) response = control (port, body);

  assert_started (response, status, ws_port, interval);
}

/* The same, for a stopped stream. */
static void
control_stops (guint       port,
               const char *command,
               const char *status)
{
  g_autofree char *body = g_strdup_printf ("{\"command\": \"%s\"}", command);
  g_autoptr(SondeTestResponse) response = control (port, body);

  assert_stopped (response, status);
}

/* Tests -------------------------------------------------------------------- */

static void
test_control_stop_start (void)
{
  SondeTestServer *server = sonde_test_server_new_with_plugins ("cpu", NULL);
  guint port;
  SondeTestClient *client;
  guint n;

  if (server == NULL)
    return;

  port = sonde_server_get_port (server->server);
  sonde_server_set_telemetry_interval (server->server, 1);
  client = sonde_test_client_new_for_path (server, TELEMETRY_PATH);
  sonde_test_wait_until (client->frames->len >= 2);

  /* Running from the start. */
  control_starts (port, "start_telemetry", "already_running", port, 1);

  control_stops (port, "stop_telemetry", "stopped");
  g_assert_cmpuint (_sonde_server_get_n_groups (server->server), ==, 0);

  /* Nothing while stopped, and the connection stays. */
  sonde_test_spin_for (200);
  n = client->frames->len;
  sonde_test_spin_for (2500);
  g_assert_cmpuint (client->frames->len, ==, n);
  g_assert_false (client->closed);

  control_stops (port, "stop_telemetry", "not_running");

  /* Started again: a document at once, then every second. */
  control_starts (port, "start_telemetry", "started", port, 1);
  sonde_test_wait_until (client->frames->len >= n + 3);
  resolvix_assert_telemetry_document (server->engine, sonde_test_client_frame_at (client, n + 2), g_get_host_name ());

  sonde_test_client_free (client);
  sonde_test_server_free (server);
}

static void
test_control_answers (void)
{
  SondeTestServer *server = sonde_test_server_new_with_plugins ("cpu", NULL);
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
  control_starts (port, "start_livelogs", "already_running", port, 0);

  /* With them, on theirs. */
  telemetry_port = sonde_server_listen_compat (server->server, "resolvix-telemetry", "127.0.0.1", 0, &error);
  g_assert_no_error (error);
  logs_port = sonde_server_listen_compat (server->server, "resolvix-logs", "127.0.0.1", 0, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (telemetry_port, >, 0);
  g_assert_cmpuint (logs_port, >, 0);

  control_starts (port, "start_telemetry", "already_running", telemetry_port, 60);
  control_stops (port, "stop_telemetry", "stopped");
  control_stops (port, "stop_telemetry", "not_running");
  control_starts (port, "start_telemetry", "started", telemetry_port, 60);

  control_stops (port, "stop_livelogs", "stopped");
  control_stops (port, "stop_livelogs", "not_running");
  control_starts (port, "start_livelogs", "started", logs_port, 0);
  control_starts (port, "start_livelogs", "already_running", logs_port, 0);

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
  JsonObject *livelogs = sonde_test_member_object (status, "livelogs");
  JsonObject *telemetry = sonde_test_member_object (status, "telemetry");

  g_assert_cmpstr (json_object_get_string_member (status, "node_id"), ==, node_id);
  g_assert_true (resolvix_value_type (status, "log_file") == G_TYPE_STRING ||
                 resolvix_value_type (status, "log_file") == G_TYPE_NONE);

  sonde_test_assert_members (livelogs, "pid,running,ws_port");
  g_assert_cmpint (resolvix_value_type (livelogs, "running"), ==, G_TYPE_BOOLEAN);
  g_assert_cmpint (json_object_get_boolean_member (livelogs, "running"), ==, livelogs_running);
  /* An integer here, null when not running, as in the guide. */
  if (livelogs_running)
    g_assert_cmpint (resolvix_get_integer (livelogs, "pid"), ==, getpid ());
  else
    g_assert_cmpint (resolvix_value_type (livelogs, "pid"), ==, G_TYPE_NONE);
  g_assert_cmpint (resolvix_get_integer (livelogs, "ws_port"), ==, logs_port);

  sonde_test_assert_members (telemetry, "interval,pid,running,ws_port");
  g_assert_true (json_object_get_boolean_member (telemetry, "running"));
  g_assert_cmpint (resolvix_get_integer (telemetry, "pid"), ==, getpid ());
  g_assert_cmpint (resolvix_get_integer (telemetry, "ws_port"), ==, telemetry_port);
  g_assert_cmpint (resolvix_get_integer (telemetry, "interval"), ==, interval);
}

static void
test_status (void)
{
  SondeTestServer *server = sonde_test_server_new_with_plugins ("cpu", NULL);
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
  sonde_test_assert_members (response->json, "livelogs,log_file,node_id,telemetry");
  assert_status_members (response->json, "192.168.1.100", TRUE, port, port, 30);
  g_clear_pointer (&response, sonde_test_response_free);

  /* Its POST /control is the same. */
  control_stops (control_port, "stop_livelogs", "stopped");
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

static void
assert_log_line (JsonObject *frame,
                 const char *path,
                 const char *line)
{
  sonde_test_assert_members (frame, "line,log_file,node_id,timestamp");
  resolvix_parse_timestamp (frame);
  g_assert_cmpstr (json_object_get_string_member (frame, "node_id"), ==, g_get_host_name ());
  g_assert_cmpstr (json_object_get_string_member (frame, "log_file"), ==, path);
  g_assert_cmpstr (json_object_get_string_member (frame, "line"), ==, line);
}

static void
test_logs (void)
{
  SondeTestServer *server = sonde_test_server_new_with_plugins ("cpu", NULL);
  g_autoptr(LogDir) dir = g_new0 (LogDir, 1);
  g_autoptr(GError) error = NULL;
  g_autoptr(SondeTestResponse) response = NULL;
  SondeCollector *collector;
  SondeTestClient *client, *compat;
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
  compat = sonde_test_client_new_for_port (logs_port, "");
  /* Followed from the moment the collector starts. */
  sonde_test_wait_until (sonde_collector_get_running (collector));

  append_line (dir->path, "hello from the test");
  assert_log_line (sonde_test_client_frame_at (client, index++), dir->path, "hello from the test");
  assert_log_line (sonde_test_client_frame_at (compat, 0), dir->path, "hello from the test");

  /* A message gets the error object, and the stream goes on. */
  sonde_test_client_send (client, "{\"follow\": \"/etc/shadow\"}");
  {
    JsonObject *reply = sonde_test_client_frame_at (client, index++);

    sonde_test_assert_members (reply, "error");
  }
  append_line (dir->path, "still there");
  assert_log_line (sonde_test_client_frame_at (client, index++), dir->path, "still there");

  /* Stopped, nothing; started again, lines written from then on. */
  control_stops (sonde_server_get_port (server->server), "stop_livelogs", "stopped");
  append_line (dir->path, "while stopped");
  sonde_test_spin_for (1500);
  g_assert_cmpuint (client->frames->len, ==, index);

  control_starts (sonde_server_get_port (server->server), "start_livelogs", "started", logs_port, 0);
  sonde_test_wait_until (sonde_collector_get_running (collector));
  append_line (dir->path, "after start");
  assert_log_line (sonde_test_client_frame_at (client, index++), dir->path, "after start");

  /* Text frames only. */
  g_assert_cmpuint (compat->n_binary, ==, 0);
  sonde_test_client_free (client);
  sonde_test_client_free (compat);

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
