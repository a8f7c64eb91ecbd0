/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <signal.h>
#include <string.h>

/* The runner's bounds and its UTF-8 helper. */
#include "compat/servercontrol/sonde-servercontrol-private.h"
#include "servercontrol-test-util.h"

/* Command tasks (POST /exec): off unless configured, token required,
 * allowlisted programs only, never a shell, bounded in time, output and
 * number, streamed as they run. */

static void
assert_error (SondeTestResponse *response,
              guint              status,
              const char        *code)
{
  if (response->status != status)
    g_error ("expected %u %s, got %u %.*s", status, code, response->status,
             (int) g_bytes_get_size (response->body), (const char *) g_bytes_get_data (response->body, NULL));
  g_assert_nonnull (response->json);
  sonde_test_assert_members (response->json, "code,message,type");
  g_assert_cmpstr (json_object_get_string_member (response->json, "type"), ==, "error");
  g_assert_cmpstr (json_object_get_string_member (response->json, "code"), ==, code);
}

static void
test_exec_disabled_by_default (void)
{
  SondeTestServer *server = servercontrol_server_new (FALSE, NULL);
  SondeTestResponse *response;
  guint port = sonde_server_get_port (server->server);

  response = exec_post (server, "{\"command\": \"printf hello\"}");
  assert_error (response, 404, "exec_disabled");
  sonde_test_response_free (response);

  response = exec_get (server, "/exec");
  assert_error (response, 404, "exec_disabled");
  sonde_test_response_free (response);

  /* Without a token the route is still there, and still disabled. */
  sonde_server_set_token (server->server, NULL);
  response = exec_post_full (port, NULL, "application/json", "{\"command\": \"printf hello\"}");
  assert_error (response, 404, "exec_disabled");
  sonde_test_response_free (response);

  sonde_test_server_free (server);
}

static void
assert_configure_fails (const char *keys,
                        gboolean    with_token,
                        const char *message)
{
  SondeTestServer *server = sonde_test_server_new (FALSE);
  g_autoptr(GKeyFile) keyfile = g_key_file_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *text = g_strdup_printf ("[exec]\n%s", keys);
  SondeTestResponse *response;

  if (with_token)
    sonde_server_set_token (server->server, TEST_TOKEN);

  g_assert_true (g_key_file_load_from_data (keyfile, text, -1, G_KEY_FILE_NONE, NULL));
  g_assert_false (sonde_server_configure (server->server, keyfile, &error));
  g_assert_error (error, SONDE_ERROR, SONDE_ERROR_INVALID_ARGUMENT);
  g_assert_cmpstr (error->message, ==, message);

  /* Nothing of the group applied. */
  sonde_server_set_token (server->server, TEST_TOKEN);
  response = exec_post (server, "{\"command\": \"printf hello\"}");
  assert_error (response, 404, "exec_disabled");
  sonde_test_response_free (response);

  sonde_test_server_free (server);
}

static void
test_exec_configure_errors (void)
{
  assert_configure_fails ("enabled=true\nallowed-programs=/usr/bin/printf\n", FALSE,
                          "[exec] enabled: command execution needs a token: set [server] token");
  assert_configure_fails ("enabled=true\nallowed-programs=no-such-program-sonde\n", TRUE,
                          "[exec] allowed-programs: no program named 'no-such-program-sonde' in PATH");
  assert_configure_fails ("enabled=true\nallowed-programs=/nonexistent/printf\n", TRUE,
                          "[exec] allowed-programs: /nonexistent/printf is not an executable file");
  assert_configure_fails ("enabled=true\nallowed-programs=bin/printf\n", TRUE,
                          "[exec] allowed-programs: bin/printf: give a program name (looked up in PATH) "
                          "or an absolute path");
  assert_configure_fails ("enabled=true\n", TRUE,
                          "[exec] allowed-programs: missing: enabled=true needs at least one program");
  assert_configure_fails ("enabled=yes\n", TRUE, "[exec] enabled: yes is not true or false");
  assert_configure_fails ("timeout-seconds=0\n", TRUE,
                          "[exec] timeout-seconds: 0 is not an integer between 1 and 86400");
  assert_configure_fails ("max-concurrent=many\n", TRUE,
                          "[exec] max-concurrent: many is not an integer between 1 and 256");
  assert_configure_fails ("working-directory=relative/dir\n", TRUE,
                          "[exec] working-directory: relative/dir is not an absolute path to a directory");
  assert_configure_fails ("shell=/bin/sh\n", TRUE, "[exec] shell: unknown key");
  assert_configure_fails ("max-output-bytes=lots\n", TRUE,
                          "[exec] max-output-bytes: lots is not an integer between 1 and 2147483647");
}

static void
test_exec_token (void)
{
  g_autofree char *keys = exec_keys_enabled (NULL);
  SondeTestServer *server = servercontrol_server_new (FALSE, keys);
  guint port = sonde_server_get_port (server->server);
  const char *body = "{\"command\": \"printf hello\"}";
  g_autofree char *query_uri = g_strdup_printf ("http://127.0.0.1:%u/exec?token=" TEST_TOKEN, port);
  g_autoptr(SoupMessage) msg = soup_message_new ("POST", query_uri);
  g_autoptr(GBytes) bytes = g_bytes_new_static (body, strlen (body));
  SondeTestResponse *response;

  response = exec_post_full (port, NULL, "application/json", body);
  assert_error (response, 401, "unauthorized");
  sonde_test_response_free (response);

  response = exec_post_full (port, "wrong", "application/json", body);
  assert_error (response, 401, "unauthorized");
  sonde_test_response_free (response);

  /* Not in the query: only WebSocket handshakes take ?token= (a token in
   * a URL ends up in logs and histories). */
  soup_message_set_request_body_from_bytes (msg, "application/json", bytes);
  response = sonde_test_http_send (msg);
  assert_error (response, 401, "unauthorized");
  sonde_test_response_free (response);

  response = exec_post_full (port, TEST_TOKEN, "application/json", body);
  g_assert_cmpuint (response->status, ==, 202);
  sonde_test_response_free (response);

  sonde_test_server_free (server);
}

static void
test_exec_not_allowed (void)
{
  static const char * const refused[] = {
    "{\"command\": \"sh -c id\"}",
    "{\"argv\": [\"/bin/sh\", \"-c\", \"id\"]}",
    "{\"argv\": [\"./printf\", \"x\"]}",
    "{\"argv\": [\"usr/bin/printf\", \"x\"]}",
    "{\"argv\": [\"/usr/bin/../bin/printf\", \"x\"]}",
    "{\"argv\": [\"/usr/local/bin/printf\", \"x\"]}",
    "{\"argv\": [\"\", \"x\"]}",
    "{\"command\": \"id\"}",
  };
  g_autofree char *keys = exec_keys_enabled (NULL);
  SondeTestServer *server = servercontrol_server_new (FALSE, keys);
  g_autofree char *by_name = NULL;
  g_autofree char *by_path = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (refused); i++)
    {
      g_autoptr(SondeTestResponse) response = exec_post (server, refused[i]);

      assert_error (response, 403, "program_not_allowed");
      g_assert_true (g_str_has_prefix (json_object_get_string_member (response->json, "message"), "Program '"));
    }

  /* An allowed program by its name or its configured path. */
  by_name = exec_start (server, "{\"command\": \"printf x\"}");
  by_path = exec_start (server, "{\"argv\": [\"/usr/bin/printf\", \"x\"]}");
  g_assert_cmpstr (by_name, !=, by_path);

  sonde_test_server_free (server);
}

static void
test_exec_bad_requests (void)
{
  static const char * const invalid[] = {
    "not json", "[\"printf\"]", "{}", "{\"command\": 42}", "{\"command\": \"\"}",
    "{\"command\": \"printf 'unbalanced\"}", "{\"argv\": []}", "{\"argv\": \"printf\"}",
    "{\"argv\": [\"printf\", 1]}", "{\"command\": \"printf\", \"argv\": [\"printf\"]}",
    "{\"command\": \"printf \\q\"}", "{\"argv\": [\"printf\", \"\\222\"]}",
  };
  g_autofree char *keys = exec_keys_enabled (NULL);
  SondeTestServer *server = servercontrol_server_new (FALSE, keys);
  guint port = sonde_server_get_port (server->server);
  SondeTestResponse *response;

  for (guint i = 0; i < G_N_ELEMENTS (invalid); i++)
    {
      response = exec_post (server, invalid[i]);
      assert_error (response, 400, "invalid_request");
      sonde_test_response_free (response);
    }

  /* A "simple" request a web page may send anywhere without asking. */
  response = exec_post_full (port, TEST_TOKEN, "text/plain", "{\"command\": \"printf x\"}");
  assert_error (response, 415, "unsupported_media_type");
  sonde_test_response_free (response);
  response = exec_post_full (port, TEST_TOKEN, "application/x-www-form-urlencoded", "command=printf");
  assert_error (response, 415, "unsupported_media_type");
  sonde_test_response_free (response);
  response = exec_post_full (port, TEST_TOKEN, NULL, "{\"command\": \"printf x\"}");
  assert_error (response, 415, "unsupported_media_type");
  sonde_test_response_free (response);
  /* With parameters, it is still JSON. */
  response = exec_post_full (port, TEST_TOKEN, "application/json; charset=utf-8", "{\"command\": \"printf x\"}");
  g_assert_cmpuint (response->status, ==, 202);
  sonde_test_response_free (response);

  {
    g_autofree char *uri = sonde_test_server_http_uri (server, "/exec");
    g_autoptr(SoupMessage) msg = soup_message_new ("PUT", uri);

    soup_message_headers_replace (soup_message_get_request_headers (msg), "Authorization", "Bearer " TEST_TOKEN);
    response = sonde_test_http_send (msg);
    assert_error (response, 405, "method_not_allowed");
    g_assert_cmpstr (response->allow, ==, "GET, HEAD, POST");
    sonde_test_response_free (response);
  }

  response = exec_get (server, "/exec/999");
  assert_error (response, 404, "unknown_task");
  sonde_test_response_free (response);

  sonde_test_server_free (server);
}

static void
test_exec_literal_arguments (void)
{
  g_autofree char *keys = exec_keys_enabled (NULL);
  SondeTestServer *server = servercontrol_server_new (FALSE, keys);
  SondeTestClient *client = sonde_test_client_new_for_path (server, SERVERCONTROL_PATH);
  g_autofree char *first = NULL;
  g_autofree char *second = NULL;
  g_autoptr(TaskRun) run = NULL;
  g_autoptr(TaskRun) argv_run = NULL;

  /* Quoted as a shell would, run by none: nothing is substituted. */
  first = exec_start (server, "{\"command\": \"printf '%s' '$(id); rm -rf /'\"}");
  run = task_run_wait (client, first, SONDE_TEST_TIMEOUT_MS);
  g_assert_cmpstr (run->output, ==, "$(id); rm -rf /");
  g_assert_cmpint (run->exit_code, ==, 0);
  g_assert_cmpstr (json_object_get_string_member (run->start, "command"), ==, "printf '%s' '$(id); rm -rf /'");

  /* Separators, pipes, globs, variables and backquotes, as argv. */
  second = exec_start (server, "{\"argv\": [\"printf\", \"[%s]\", \"a;b\", \"|\", \"*\", \"$HOME\", \"`id`\", \"&&\", \">x\"]}");
  argv_run = task_run_wait (client, second, SONDE_TEST_TIMEOUT_MS);
  g_assert_cmpstr (argv_run->output, ==, "[a;b][|][*][$HOME][`id`][&&][>x]");
  /* The command shown splits back into the same argv. */
  g_assert_cmpstr (json_object_get_string_member (argv_run->start, "command"), ==,
                   "printf '[%s]' 'a;b' '|' '*' '$HOME' '`id`' '&&' '>x'");

  sonde_test_client_free (client);
  sonde_test_server_free (server);
}

static void
test_exec_child_environment (void)
{
  g_autofree char *keys = exec_keys_enabled ("working-directory=/tmp\n");
  SondeTestServer *server = servercontrol_server_new (FALSE, keys);
  SondeTestClient *client = sonde_test_client_new_for_path (server, SERVERCONTROL_PATH);
  g_autofree char *id = NULL;
  g_autoptr(TaskRun) run = NULL;
  g_auto(GStrv) lines = NULL;

  g_setenv ("SONDE_TEST_SECRET", "must-not-leak", TRUE);

  /* What the program sees: a terminal as stdout and stderr, /dev/null as
   * stdin, its own session, the configured directory, a minimal
   * environment. */
  id = exec_start (server, "{\"argv\": [\"/usr/bin/python3\", \"-c\", "
                           "\"import os, sys\\n"
                           "print(os.isatty(1), os.isatty(2), os.isatty(0))\\n"
                           "print(repr(sys.stdin.read()))\\n"
                           "print(os.getsid(0) == os.getpid(), os.getpgid(0) == os.getpid())\\n"
                           "print(os.getcwd())\\n"
                           "print(','.join(sorted(k for k in os.environ if k not in ('LANG', 'LC_ALL', 'LC_CTYPE'))))\\n"
                           "print(os.environ['TERM'])\\n"
                           "sys.stderr.write('to stderr\\\\n')\"]}");
  run = task_run_wait (client, id, SONDE_TEST_TIMEOUT_MS);
  g_assert_cmpint (run->exit_code, ==, 0);

  lines = g_strsplit (run->output, "\n", -1);
  g_assert_cmpuint (g_strv_length (lines), ==, 8);
  g_assert_cmpstr (lines[0], ==, "True True False");
  g_assert_cmpstr (lines[1], ==, "''");
  g_assert_cmpstr (lines[2], ==, "True True");
  g_assert_cmpstr (lines[3], ==, "/tmp");
  g_assert_cmpstr (lines[4], ==, "HOME,PATH,TERM");
  g_assert_cmpstr (lines[5], ==, "dumb");
  /* stderr on the same terminal, with no "\r\n" translation. */
  g_assert_cmpstr (lines[6], ==, "to stderr");
  g_assert_cmpstr (lines[7], ==, "");

  g_unsetenv ("SONDE_TEST_SECRET");
  sonde_test_client_free (client);
  sonde_test_server_free (server);
}

static void
test_exec_streaming (void)
{
  g_autofree char *keys = exec_keys_enabled (NULL);
  SondeTestServer *server = servercontrol_server_new (FALSE, keys);
  SondeTestClient *client = sonde_test_client_new_for_path (server, SERVERCONTROL_PATH);
  SondeTestClient *native = sonde_test_client_new (server, "token=" TEST_TOKEN);
  g_autofree char *id = NULL;
  g_autofree char *path = NULL;
  g_autoptr(TaskRun) run = NULL;
  g_autoptr(SondeTestResponse) status = NULL;
  gint64 previous = 0;
  JsonObject *event;

  sonde_test_client_send (native, "{\"type\": \"subscribe\", \"id\": \"tasks\", \"metrics\": [\"*\"], "
                                  "\"interval_ms\": 60000, "
                                  "\"events\": [\"task_start\", \"task_output\", \"task_complete\"]}");
  sonde_test_client_sync (native);

  /* No newline at the end of a chunk: it comes anyway, in order. */
  id = exec_start (server, "{\"command\": \"python3 -u -c 'import time\\n"
                           "for i in range(3):\\n"
                           "    print(f\\\"Processing item {i}...\\\", end=\\\"\\\", flush=True)\\n"
                           "    time.sleep(0.3)'\"}");
  run = task_run_wait (client, id, SONDE_TEST_TIMEOUT_MS);

  g_assert_cmpint (run->exit_code, ==, 0);
  g_assert_cmpstr (run->output, ==, "Processing item 0...Processing item 1...Processing item 2...");
  /* Each write arrived on its own, 300 ms apart, stamped to the ms. */
  g_assert_cmpuint (run->chunks->len, ==, 3);
  for (guint i = 0; i < run->chunks->len; i++)
    {
      JsonObject *chunk = g_ptr_array_index (run->chunks, i);
      gint64 timestamp = json_object_get_int_member (chunk, "timestamp");

      g_assert_cmpint (llabs (timestamp - g_get_real_time () / 1000), <, 60000);
      if (i > 0)
        g_assert_cmpint (timestamp - previous, >=, 200);
      previous = timestamp;
    }

  /* The native protocol's clients get the same, as events. */
  event = sonde_test_client_next (native, "event", NULL);
  g_assert_cmpstr (json_object_get_string_member (event, "event"), ==, "task_start");
  g_assert_cmpstr (json_object_get_string_member (sonde_test_member_object (event, "data"), "task_id"), ==, id);
  for (guint i = 0; i < 3; i++)
    {
      g_autofree char *expected = g_strdup_printf ("Processing item %u...", i);
      JsonObject *data;

      event = sonde_test_client_next (native, "event", NULL);
      g_assert_cmpstr (json_object_get_string_member (event, "event"), ==, "task_output");
      data = sonde_test_member_object (event, "data");
      sonde_test_assert_members (data, "output,task_id");
      g_assert_cmpstr (json_object_get_string_member (data, "output"), ==, expected);
    }
  event = sonde_test_client_next (native, "event", NULL);
  g_assert_cmpstr (json_object_get_string_member (event, "event"), ==, "task_complete");
  sonde_test_assert_members (sonde_test_member_object (event, "data"),
                             "exit_code,output_bytes,output_truncated,task_id,timed_out");
  g_assert_cmpint (json_object_get_int_member (sonde_test_member_object (event, "data"), "output_bytes"), ==, 60);

  /* A client that connects late catches up. */
  path = g_strdup_printf ("/exec/%s", id);
  status = exec_get (server, path);
  g_assert_cmpuint (status->status, ==, 200);
  sonde_test_assert_members (status->json, "command,exit_code,finished,output,output_bytes,output_offset,"
                                           "output_truncated,program,started,status,task_id,timed_out");
  g_assert_cmpstr (json_object_get_string_member (status->json, "status"), ==, "finished");
  g_assert_cmpstr (json_object_get_string_member (status->json, "program"), ==, "/usr/bin/python3");
  g_assert_cmpint (json_object_get_int_member (status->json, "exit_code"), ==, 0);
  g_assert_cmpstr (json_object_get_string_member (status->json, "output"), ==, run->output);
  g_assert_cmpint (json_object_get_int_member (status->json, "output_offset"), ==, 0);
  g_assert_cmpint (json_object_get_int_member (status->json, "finished") -
                   json_object_get_int_member (status->json, "started"), >=, 800);

  sonde_test_client_free (native);
  sonde_test_client_free (client);
  sonde_test_server_free (server);
}

static void
test_exec_utf8 (void)
{
  g_autofree char *keys = exec_keys_enabled (NULL);
  SondeTestServer *server = servercontrol_server_new (FALSE, keys);
  SondeTestClient *client = sonde_test_client_new_for_path (server, SERVERCONTROL_PATH);
  g_autofree char *id = NULL;
  g_autoptr(TaskRun) run = NULL;

  /* Multi-byte characters written a byte at a time, then a byte that is
   * not UTF-8 and a NUL. */
  id = exec_start (server, "{\"argv\": [\"python3\", \"-c\", \"import os, time\\n"
                           "for b in 'é€😀'.encode() + b'\\\\xff!\\\\x00.':\\n"
                           "    os.write(1, bytes([b]))\\n"
                           "    time.sleep(0.02)\"]}");
  run = task_run_wait (client, id, SONDE_TEST_TIMEOUT_MS);
  g_assert_cmpint (run->exit_code, ==, 0);
  g_assert_cmpstr (run->output, ==, "é€😀\xef\xbf\xbd!\xef\xbf\xbd.");

  /* Never a chunk that is a piece of a character. */
  for (guint i = 0; i < run->chunks->len; i++)
    g_assert_true (g_utf8_validate (json_object_get_string_member (g_ptr_array_index (run->chunks, i), "output"), -1, NULL));

  g_assert_cmpuint (_sonde_exec_utf8_complete_prefix ("a\xc3", 2), ==, 1);
  g_assert_cmpuint (_sonde_exec_utf8_complete_prefix ("a\xc3\xa9", 3), ==, 3);
  g_assert_cmpuint (_sonde_exec_utf8_complete_prefix ("\xf0\x9f\x98", 3), ==, 0);
  g_assert_cmpuint (_sonde_exec_utf8_complete_prefix ("\xf0\x9f\x98\x80", 4), ==, 4);
  g_assert_cmpuint (_sonde_exec_utf8_complete_prefix ("\xff", 1), ==, 1);

  sonde_test_client_free (client);
  sonde_test_server_free (server);
}

static void
test_exec_timeout (void)
{
  g_autofree char *keys = exec_keys_enabled ("timeout-seconds=1\n");
  SondeTestServer *server = servercontrol_server_new (FALSE, keys);
  SondeTestClient *client = sonde_test_client_new_for_path (server, SERVERCONTROL_PATH);
  gint64 started = g_get_monotonic_time ();
  g_autofree char *id = NULL;
  g_autofree char *path = NULL;
  g_autoptr(TaskRun) run = NULL;
  g_autoptr(SondeTestResponse) status = NULL;
  gint64 elapsed_ms;

  id = exec_start (server, "{\"command\": \"sleep 1000\"}");
  run = task_run_wait (client, id, 5000);
  elapsed_ms = (g_get_monotonic_time () - started) / 1000;

  /* SIGTERM at its limit: 128 + 15. */
  g_assert_cmpint (run->exit_code, ==, 143);
  g_assert_cmpint (elapsed_ms, >=, 900);
  g_assert_cmpint (elapsed_ms, <, 4000);

  path = g_strdup_printf ("/exec/%s", id);
  status = exec_get (server, path);
  g_assert_true (json_object_get_boolean_member (status->json, "timed_out"));

  sonde_test_client_free (client);
  sonde_test_server_free (server);
}

static void
test_exec_timeout_kill (void)
{
  g_autofree char *keys = exec_keys_enabled ("timeout-seconds=1\n");
  SondeTestServer *server = servercontrol_server_new (FALSE, keys);
  SondeTestClient *client = sonde_test_client_new_for_path (server, SERVERCONTROL_PATH);
  gint64 started = g_get_monotonic_time ();
  g_autofree char *id = NULL;
  g_autoptr(TaskRun) run = NULL;
  gint64 elapsed_ms;

  /* A program that ignores SIGTERM gets SIGKILL 5 s later. */
  id = exec_start (server, "{\"argv\": [\"python3\", \"-c\", \"import signal, time\\n"
                           "signal.signal(signal.SIGTERM, signal.SIG_IGN)\\n"
                           "print('ignoring', flush=True)\\n"
                           "time.sleep(1000)\"]}");
  run = task_run_wait (client, id, 15000);
  elapsed_ms = (g_get_monotonic_time () - started) / 1000;

  g_assert_cmpstr (run->output, ==, "ignoring\n");
  g_assert_cmpint (run->exit_code, ==, 137);
  g_assert_cmpint (elapsed_ms, >=, 5900);

  sonde_test_client_free (client);
  sonde_test_server_free (server);
}

static void
test_exec_output_cap (void)
{
  g_autofree char *keys = exec_keys_enabled ("max-output-bytes=65536\n");
  SondeTestServer *server = servercontrol_server_new (FALSE, keys);
  SondeTestClient *client = sonde_test_client_new_for_path (server, SERVERCONTROL_PATH);
  g_autofree char *id = NULL;
  g_autofree char *path = NULL;
  g_autoptr(TaskRun) run = NULL;
  g_autoptr(SondeTestResponse) status = NULL;
  gsize before_note = 0;
  const char *note;

  /* 10 MB: the program is never blocked by the cap, it is read to its end. */
  id = exec_start (server, "{\"argv\": [\"python3\", \"-c\", \"import sys\\n"
                           "sys.stdout.write('x' * 10000000)\\n"
                           "sys.stdout.flush()\\n"
                           "print('done', file=sys.stderr)\"]}");
  run = task_run_wait (client, id, 60000);
  g_assert_cmpint (run->exit_code, ==, 0);

  g_assert_cmpuint (run->chunks->len, >=, 2);
  for (guint i = 0; i + 1 < run->chunks->len; i++)
    {
      const char *output = json_object_get_string_member (g_ptr_array_index (run->chunks, i), "output");

      for (const char *p = output; *p; p++)
        g_assert_cmpint (*p, ==, 'x');
      before_note += strlen (output);
    }
  g_assert_cmpuint (before_note, ==, 65536);
  note = json_object_get_string_member (g_ptr_array_index (run->chunks, run->chunks->len - 1), "output");
  g_assert_cmpstr (note, ==, "\n[sonde: output truncated at 65536 bytes (max-output-bytes); the rest is dropped]\n");

  path = g_strdup_printf ("/exec/%s", id);
  status = exec_get (server, path);
  g_assert_cmpint (json_object_get_int_member (status->json, "output_bytes"), ==, 10000000 + strlen ("done\n"));
  g_assert_true (json_object_get_boolean_member (status->json, "output_truncated"));
  /* The end that is kept is the end that was sent. */
  g_assert_true (g_str_has_suffix (json_object_get_string_member (status->json, "output"), note));
  g_assert_cmpint (json_object_get_int_member (status->json, "output_offset") +
                   strlen (json_object_get_string_member (status->json, "output")), ==, 65536 + strlen (note));

  sonde_test_client_free (client);
  sonde_test_server_free (server);
}

/* Gone, or dead and waiting to be reaped: an orphan's reaper is init,
 * which the test does not control. */
static gboolean
process_is_gone (GPid pid)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/stat", (int) pid);
  g_autofree char *stat = NULL;
  const char *end;

  if (kill (pid, 0) < 0 && errno == ESRCH)
    return TRUE;
  if (!g_file_get_contents (path, &stat, NULL, NULL))
    return TRUE;
  end = strrchr (stat, ')');
  return end != NULL && end[1] == ' ' && end[2] == 'Z';
}

static gboolean
wake_cb (gpointer data)
{
  return G_SOURCE_CONTINUE;
}

/* Nothing in the main context hears of a death: it is polled. */
static void
wait_until_gone (GPid pid)
{
  guint wake = g_timeout_add (20, wake_cb, NULL);

  sonde_test_wait_until (process_is_gone (pid));
  g_source_remove (wake);
}

static GPid
start_pid_printer (SondeTestServer *server,
                   SondeTestClient *client,
                   char           **id)
{
  g_autofree char *path = NULL;
  SondeTestResponse *status;
  GPid pid = 0;

  *id = exec_start (server, "{\"argv\": [\"python3\", \"-u\", \"-c\", \"import os, time\\n"
                            "print(os.getpid())\\n"
                            "time.sleep(1000)\"]}");
  path = g_strdup_printf ("/exec/%s", *id);

  sonde_test_wait_until (client->frames->len > 0 &&
                         sonde_test_client_count (client, "task_output", NULL) > 0);
  status = exec_get (server, path);
  pid = (GPid) g_ascii_strtoll (json_object_get_string_member (status->json, "output"), NULL, 10);
  sonde_test_response_free (status);
  g_assert_cmpint (pid, >, 1);
  return pid;
}

static void
test_exec_max_concurrent (void)
{
  g_autofree char *keys = exec_keys_enabled ("max-concurrent=1\n");
  SondeTestServer *server = servercontrol_server_new (FALSE, keys);
  SondeTestClient *client = sonde_test_client_new_for_path (server, SERVERCONTROL_PATH);
  g_autofree char *id = NULL;
  SondeTestResponse *response;
  JsonObject *task;
  GPid pid;

  pid = start_pid_printer (server, client, &id);

  response = exec_post (server, "{\"command\": \"printf x\"}");
  assert_error (response, 429, "too_many_tasks");
  sonde_test_response_free (response);

  response = exec_get (server, "/exec");
  g_assert_cmpint (json_object_get_int_member (response->json, "running"), ==, 1);
  g_assert_cmpint (json_object_get_int_member (response->json, "max_concurrent"), ==, 1);
  task = json_array_get_object_element (json_object_get_array_member (response->json, "tasks"), 0);
  g_assert_cmpstr (json_object_get_string_member (task, "status"), ==, "running");
  g_assert_true (json_object_get_null_member (task, "exit_code"));
  g_assert_false (json_object_has_member (task, "output"));
  sonde_test_response_free (response);

  /* A server that goes away kills its tasks. */
  g_assert_false (process_is_gone (pid));
  sonde_test_client_free (client);
  sonde_test_server_free (server);
  wait_until_gone (pid);
}

static void
test_exec_background_child (void)
{
  g_autofree char *keys = exec_keys_enabled (NULL);
  SondeTestServer *server = servercontrol_server_new (FALSE, keys);
  SondeTestClient *client = sonde_test_client_new_for_path (server, SERVERCONTROL_PATH);
  gint64 started = g_get_monotonic_time ();
  g_autofree char *id = NULL;
  g_autoptr(TaskRun) run = NULL;
  g_auto(GStrv) lines = NULL;
  GPid pid;

  /* The program leaves a process behind that keeps the terminal open:
   * the task still completes, and the leftover is killed. */
  id = exec_start (server, "{\"argv\": [\"python3\", \"-c\", \"import subprocess\\n"
                           "child = subprocess.Popen(['/bin/sleep', '1000'])\\n"
                           "print(child.pid, flush=True)\"]}");
  run = task_run_wait (client, id, 10000);
  g_assert_cmpint (run->exit_code, ==, 0);
  g_assert_cmpint ((g_get_monotonic_time () - started) / 1000, <, 6000);

  lines = g_strsplit (run->output, "\n", -1);
  pid = (GPid) g_ascii_strtoll (lines[0], NULL, 10);
  g_assert_cmpint (pid, >, 1);
  wait_until_gone (pid);

  sonde_test_client_free (client);
  sonde_test_server_free (server);
}

static void
test_exec_recent_tasks_bounded (void)
{
  g_autofree char *keys = exec_keys_enabled (NULL);
  SondeTestServer *server = servercontrol_server_new (FALSE, keys);
  SondeTestClient *client = sonde_test_client_new_for_path (server, SERVERCONTROL_PATH);
  g_autofree char *last = NULL;
  SondeTestResponse *response;
  JsonArray *tasks;

  for (guint i = 0; i < SONDE_EXEC_MAX_FINISHED + 3; i++)
    {
      g_autofree char *body = g_strdup_printf ("{\"argv\": [\"printf\", \"%u\"]}", i);
      g_autoptr(TaskRun) run = NULL;

      g_free (last);
      last = exec_start (server, body);
      run = task_run_wait (client, last, SONDE_TEST_TIMEOUT_MS);
    }

  response = exec_get (server, "/exec");
  tasks = json_object_get_array_member (response->json, "tasks");
  g_assert_cmpuint (json_array_get_length (tasks), ==, SONDE_EXEC_MAX_FINISHED);
  /* Newest first. */
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (tasks, 0), "task_id"), ==, last);
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (tasks, SONDE_EXEC_MAX_FINISHED - 1), "task_id"), ==, "4");
  sonde_test_response_free (response);

  response = exec_get (server, "/exec/3");
  assert_error (response, 404, "unknown_task");
  sonde_test_response_free (response);

  sonde_test_client_free (client);
  sonde_test_server_free (server);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/exec/disabled-by-default", test_exec_disabled_by_default);
  g_test_add_func ("/exec/configure-errors", test_exec_configure_errors);
  g_test_add_func ("/exec/token", test_exec_token);
  g_test_add_func ("/exec/not-allowed", test_exec_not_allowed);
  g_test_add_func ("/exec/bad-requests", test_exec_bad_requests);
  g_test_add_func ("/exec/literal-arguments", test_exec_literal_arguments);
  g_test_add_func ("/exec/child-environment", test_exec_child_environment);
  g_test_add_func ("/exec/streaming", test_exec_streaming);
  g_test_add_func ("/exec/utf8", test_exec_utf8);
  g_test_add_func ("/exec/timeout", test_exec_timeout);
  g_test_add_func ("/exec/timeout-kill", test_exec_timeout_kill);
  g_test_add_func ("/exec/output-cap", test_exec_output_cap);
  g_test_add_func ("/exec/max-concurrent", test_exec_max_concurrent);
  g_test_add_func ("/exec/background-child", test_exec_background_child);
  g_test_add_func ("/exec/recent-tasks-bounded", test_exec_recent_tasks_bounded);

  return g_test_run ();
}
