/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "sonde-json-private.h"
#include "sonde-rest-private.h"
#include "sonde-server-private.h"
#include "sonde-servercontrol-private.h"

/*
 * POST /exec starts a command task; GET /exec lists the running and
 * recent tasks; GET /exec/TASK_ID tells one task's status and the end of
 * its output, so that a client that connects late can catch up. Served
 * on the main listener and on the servercontrol compatibility listener
 * (docs/formats/servercontrol.md).
 *
 *   POST /exec  Content-Type: application/json
 *     {"command": "python3 -u app.py"}   split with shell quoting rules,
 *                                         never run by a shell
 *     {"argv": ["python3", "-u", "app.py"]}
 *   202 {"task_id": "1", "command": "python3 -u app.py"}
 *
 * The token is checked before this (the access checks of every route
 * answer 401 without it), and exec is only ever enabled with a token.
 * JSON alone is accepted: a web page can POST text/plain or a form to
 * any site without asking first, but not application/json, for which
 * the browser asks (CORS preflight), and sonded grants no such request.
 */

#define EXEC_PATH "/exec"
/* RFC 6585; libsoup 3.2 names no such status. */
#define STATUS_TOO_MANY_REQUESTS 429

static gboolean
is_json_request (SoupServerMessage *msg)
{
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  const char *type = soup_message_headers_get_content_type (headers, NULL);

  return type != NULL && g_ascii_strcasecmp (type, "application/json") == 0;
}

/* The argv and the command text of a POST /exec body. */
static char **
parse_request (SoupServerMessage  *msg,
               char              **command,
               GError            **error)
{
  g_autoptr(GBytes) body = soup_message_body_flatten (soup_server_message_get_request_body (msg));
  gsize length;
  const char *text = g_bytes_get_data (body, &length);

  return _sonde_servercontrol_parse_exec (text, length, command, error);
}

static void
start_task (SondeExec         *exec,
            SoupServerMessage *msg)
{
  g_autoptr(JsonObject) answer = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *command = NULL;
  g_autofree char *location = NULL;
  g_auto(GStrv) argv = NULL;
  SondeExecTask *task;

  if (!is_json_request (msg))
    {
      _sonde_rest_respond_error (msg, SOUP_STATUS_UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type",
                                 "POST /exec takes a JSON body (Content-Type: application/json)");
      return;
    }

  argv = parse_request (msg, &command, &error);
  if (argv == NULL)
    {
      _sonde_rest_respond_error (msg, SOUP_STATUS_BAD_REQUEST, "invalid_request", error->message);
      return;
    }

  task = _sonde_exec_start (exec, (const char * const *) argv, command,
                            soup_server_message_get_remote_host (msg), &error);
  if (task == NULL)
    {
      static const struct { SondeExecError code; guint status; const char *name; } map[] = {
        { SONDE_EXEC_ERROR_DISABLED, SOUP_STATUS_NOT_FOUND, "exec_disabled" },
        { SONDE_EXEC_ERROR_NOT_ALLOWED, SOUP_STATUS_FORBIDDEN, "program_not_allowed" },
        { SONDE_EXEC_ERROR_TOO_MANY, STATUS_TOO_MANY_REQUESTS, "too_many_tasks" },
        { SONDE_EXEC_ERROR_SPAWN, SOUP_STATUS_INTERNAL_SERVER_ERROR, "spawn_failed" },
      };
      guint status = SOUP_STATUS_INTERNAL_SERVER_ERROR;
      const char *name = "spawn_failed";

      for (guint i = 0; i < G_N_ELEMENTS (map); i++)
        if (g_error_matches (error, SONDE_EXEC_ERROR, map[i].code))
          {
            status = map[i].status;
            name = map[i].name;
          }

      _sonde_rest_respond_error (msg, status, name, error->message);
      return;
    }

  location = g_strdup_printf (EXEC_PATH "/%s", _sonde_exec_task_get_id (task));
  soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Location", location);

  answer = json_object_new ();
  json_object_set_string_member (answer, "task_id", _sonde_exec_task_get_id (task));
  json_object_set_string_member (answer, "command", _sonde_exec_task_get_command (task));
  _sonde_rest_respond_json (msg, SOUP_STATUS_ACCEPTED, answer);
}

static void
list_tasks (SondeExec         *exec,
            SoupServerMessage *msg)
{
  g_autoptr(GPtrArray) tasks = _sonde_exec_list_tasks (exec);
  g_autoptr(JsonObject) answer = json_object_new ();
  JsonArray *array = json_array_new ();

  for (guint i = 0; i < tasks->len; i++)
    json_array_add_object_element (array, _sonde_exec_task_to_json (g_ptr_array_index (tasks, i), FALSE));

  json_object_set_array_member (answer, "tasks", array);
  json_object_set_int_member (answer, "running", _sonde_exec_get_n_running (exec));
  json_object_set_int_member (answer, "max_concurrent", _sonde_exec_get_max_concurrent (exec));
  _sonde_rest_respond_json (msg, SOUP_STATUS_OK, answer);
}

static gboolean
allow_only (SoupServerMessage *msg,
            const char        *allowed)
{
  const char *method = soup_server_message_get_method (msg);
  g_auto(GStrv) methods = g_strsplit (allowed, ", ", -1);
  g_autofree char *message = NULL;

  if (g_strv_contains ((const char * const *) methods, method))
    return TRUE;

  soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Allow", allowed);
  message = g_strdup_printf ("Only %s is allowed here", allowed);
  _sonde_rest_respond_error (msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "method_not_allowed", message);
  return FALSE;
}

static void
exec_cb (SoupServer        *soup_server,
         SoupServerMessage *msg,
         const char        *path,
         GHashTable        *query,
         gpointer           user_data)
{
  SondeServercontrol *self = user_data;
  SondeExec *exec = self->exec;
  const char *method = soup_server_message_get_method (msg);
  const char *rest = path + strlen (EXEC_PATH);
  g_autoptr(JsonObject) answer = NULL;
  SondeExecTask *task;

  /* As if the route did not exist, whatever the method. */
  if (!_sonde_exec_is_enabled (exec))
    {
      _sonde_rest_respond_error (msg, SOUP_STATUS_NOT_FOUND, "exec_disabled",
                                 "Command execution is disabled on this server ([exec] enabled, with a token)");
      return;
    }

  if (*rest == '\0' || g_str_equal (rest, "/"))
    {
      if (!allow_only (msg, "GET, HEAD, POST"))
        return;
      if (g_str_equal (method, "POST"))
        start_task (exec, msg);
      else
        list_tasks (exec, msg);
      return;
    }

  if (!allow_only (msg, "GET, HEAD"))
    return;

  task = _sonde_exec_lookup (exec, rest + 1);
  if (task == NULL)
    {
      g_autofree char *message = g_strdup_printf ("No task '%s' (running, or among the last %d finished)",
                                                  rest + 1, SONDE_EXEC_MAX_FINISHED);
      _sonde_rest_respond_error (msg, SOUP_STATUS_NOT_FOUND, "unknown_task", message);
      return;
    }

  answer = _sonde_exec_task_to_json (task, TRUE);
  _sonde_rest_respond_json (msg, SOUP_STATUS_OK, answer);
}

void
_sonde_servercontrol_routes_register (SondeServercontrol *self,
                                      SoupServer         *soup_server)
{
  soup_server_add_handler (soup_server, EXEC_PATH, exec_cb, self, NULL);
  /* Commands and their output: the token, whenever there is one. */
  _sonde_server_guard_sensitive_path (self->server, soup_server, EXEC_PATH);
}
