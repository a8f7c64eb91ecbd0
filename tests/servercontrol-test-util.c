/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <string.h>

#include "servercontrol-test-util.h"

SondeTestServer *
servercontrol_server_new (gboolean    with_plugins,
                          const char *exec_keys)
{
  SondeTestServer *server = with_plugins
                            ? sonde_test_server_new_with_plugins ("cpu", "memory", NULL)
                            : sonde_test_server_new (FALSE);

  if (server == NULL)
    return NULL;

  sonde_server_set_token (server->server, TEST_TOKEN);

  if (exec_keys != NULL)
    {
      g_autoptr(GKeyFile) keyfile = g_key_file_new ();
      g_autoptr(GError) error = NULL;
      g_autofree char *text = g_strdup_printf ("[exec]\n%s", exec_keys);

      g_assert_true (g_key_file_load_from_data (keyfile, text, -1, G_KEY_FILE_NONE, &error));
      g_assert_no_error (error);
      g_assert_true (sonde_server_configure (server->server, keyfile, &error));
      g_assert_no_error (error);
    }

  return server;
}

char *
exec_keys_enabled (const char *extra_keys)
{
  return g_strdup_printf ("enabled=true\nallowed-programs=" TEST_PROGRAMS "\n%s",
                          extra_keys != NULL ? extra_keys : "");
}

SondeTestResponse *
exec_post_full (guint       port,
                const char *token,
                const char *content_type,
                const char *body)
{
  g_autofree char *uri = g_strdup_printf ("http://127.0.0.1:%u/exec", port);
  g_autoptr(SoupMessage) msg = soup_message_new ("POST", uri);
  g_autoptr(GBytes) bytes = g_bytes_new (body, strlen (body));
  SoupMessageHeaders *headers = soup_message_get_request_headers (msg);

  /* libsoup sets no type when given NULL; the header is removed after. */
  soup_message_set_request_body_from_bytes (msg, content_type ? content_type : "application/json", bytes);
  if (content_type == NULL)
    soup_message_headers_remove (headers, "Content-Type");
  if (token != NULL)
    {
      g_autofree char *authorization = g_strdup_printf ("Bearer %s", token);
      soup_message_headers_replace (headers, "Authorization", authorization);
    }

  return sonde_test_http_send (msg);
}

SondeTestResponse *
exec_post (SondeTestServer *server,
           const char      *body)
{
  return exec_post_full (sonde_server_get_port (server->server), TEST_TOKEN, "application/json", body);
}

char *
exec_start (SondeTestServer *server,
            const char      *body)
{
  g_autoptr(SondeTestResponse) response = exec_post (server, body);

  if (response->status != 202)
    g_error ("POST /exec %s: %u %.*s", body, response->status,
             (int) g_bytes_get_size (response->body), (const char *) g_bytes_get_data (response->body, NULL));

  sonde_test_assert_members (response->json, "command,task_id");
  return g_strdup (json_object_get_string_member (response->json, "task_id"));
}

SondeTestResponse *
exec_get (SondeTestServer *server,
          const char      *path)
{
  g_autofree char *uri = sonde_test_server_http_uri (server, path);
  g_autoptr(SoupMessage) msg = soup_message_new ("GET", uri);

  soup_message_headers_replace (soup_message_get_request_headers (msg), "Authorization", "Bearer " TEST_TOKEN);
  return sonde_test_http_send (msg);
}

static gboolean
frame_is (SondeTestFrame *frame,
          const char     *type,
          const char     *task_id)
{
  return g_strcmp0 (json_object_get_string_member_with_default (frame->object, "type", NULL), type) == 0 &&
         g_strcmp0 (json_object_get_string_member_with_default (frame->object, "task_id", NULL), task_id) == 0;
}

static gboolean
has_completed (SondeTestClient *client,
               const char      *task_id)
{
  for (guint i = 0; i < client->frames->len; i++)
    if (frame_is (g_ptr_array_index (client->frames, i), "task_complete", task_id))
      return TRUE;

  return FALSE;
}

TaskRun *
task_run_wait (SondeTestClient *client,
               const char      *task_id,
               guint            timeout_ms)
{
  TaskRun *run = g_new0 (TaskRun, 1);
  GString *output = g_string_new (NULL);

  sonde_test_wait_until_full (has_completed (client, task_id), timeout_ms);

  run->chunks = g_ptr_array_new_with_free_func ((GDestroyNotify) json_object_unref);
  run->raw_chunks = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  for (guint i = 0; i < client->frames->len; i++)
    {
      SondeTestFrame *frame = g_ptr_array_index (client->frames, i);

      if (frame_is (frame, "task_start", task_id))
        {
          g_assert_null (run->start);
          run->start = json_object_ref (frame->object);
        }
      else if (frame_is (frame, "task_output", task_id))
        {
          /* Every chunk between the start and the end. */
          g_assert_nonnull (run->start);
          g_assert_null (run->complete);
          g_ptr_array_add (run->chunks, json_object_ref (frame->object));
          g_ptr_array_add (run->raw_chunks, g_bytes_ref (frame->raw));
          g_string_append (output, json_object_get_string_member (frame->object, "output"));
        }
      else if (frame_is (frame, "task_complete", task_id))
        {
          g_assert_nonnull (run->start);
          run->complete = json_object_ref (frame->object);
        }
      else
        continue;

      frame->taken = TRUE;
    }

  g_assert_nonnull (run->complete);
  run->exit_code = json_object_get_int_member (run->complete, "exit_code");
  run->output = g_string_free (output, FALSE);
  return run;
}

void
task_run_free (TaskRun *run)
{
  g_clear_pointer (&run->start, json_object_unref);
  g_clear_pointer (&run->complete, json_object_unref);
  g_clear_pointer (&run->chunks, g_ptr_array_unref);
  g_clear_pointer (&run->raw_chunks, g_ptr_array_unref);
  g_free (run->output);
  g_free (run);
}

JsonObject *
servercontrol_ping (SondeTestClient *client)
{
  sonde_test_client_send (client, "{\"type\": \"ping\"}");
  return sonde_test_client_next (client, "pong", NULL);
}
