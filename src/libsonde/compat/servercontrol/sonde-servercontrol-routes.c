/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "sonde-error.h"
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
#define MAX_ARGUMENTS 4096
/* RFC 6585; libsoup 3.2 names no such status. */
#define STATUS_TOO_MANY_REQUESTS 429

static gboolean
is_json_request (SoupServerMessage *msg)
{
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  const char *type = soup_message_headers_get_content_type (headers, NULL);

  return type != NULL && g_ascii_strcasecmp (type, "application/json") == 0;
}

static gboolean
needs_quoting (const char *argument)
{
  if (*argument == '\0')
    return TRUE;

  for (const char *p = argument; *p != '\0'; p++)
    if (!g_ascii_isalnum (*p) && strchr ("-_./=:,+@%", *p) == NULL)
      return TRUE;

  return FALSE;
}

/* The argv as a command line that g_shell_parse_argv() splits back into
 * the same argv: what task_start shows. */
static char *
argv_to_command (const char * const *argv)
{
  GString *command = g_string_new (NULL);

  for (guint i = 0; argv[i] != NULL; i++)
    {
      if (i > 0)
        g_string_append_c (command, ' ');
      if (needs_quoting (argv[i]))
        {
          g_autofree char *quoted = g_shell_quote (argv[i]);
          g_string_append (command, quoted);
        }
      else
        g_string_append (command, argv[i]);
    }

  return g_string_free (command, FALSE);
}

static gboolean
node_is_string (JsonNode *node)
{
  return node != NULL && JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_STRING;
}

/* The argv and the command text of a POST /exec body. */
static char **
parse_request (SoupServerMessage  *msg,
               char              **command,
               GError            **error)
{
  g_autoptr(GBytes) body = soup_message_body_flatten (soup_server_message_get_request_body (msg));
  g_autoptr(GError) local_error = NULL;
  g_autoptr(JsonNode) root = NULL;
  g_auto(GStrv) argv = NULL;
  JsonObject *object;
  JsonNode *command_node, *argv_node;
  gsize length;
  const char *text = g_bytes_get_data (body, &length);

  root = _sonde_json_parse_bounded (text != NULL ? text : "", length, &local_error);
  if (root == NULL)
    {
      g_set_error (error, SONDE_ERROR, SONDE_ERROR_INVALID_ARGUMENT,
                   "Invalid JSON: %s", local_error->message);
      return NULL;
    }

  if (!JSON_NODE_HOLDS_OBJECT (root))
    {
      g_set_error_literal (error, SONDE_ERROR, SONDE_ERROR_INVALID_ARGUMENT,
                           "The request body must be a JSON object such as {\"command\": \"uptime\"}");
      return NULL;
    }

  object = json_node_get_object (root);
  command_node = json_object_get_member (object, "command");
  argv_node = json_object_get_member (object, "argv");

  if (command_node != NULL && argv_node != NULL)
    {
      g_set_error_literal (error, SONDE_ERROR, SONDE_ERROR_INVALID_ARGUMENT,
                           "Give either 'command' or 'argv', not both");
      return NULL;
    }

  if (command_node != NULL)
    {
      int argc;

      if (!node_is_string (command_node))
        {
          g_set_error_literal (error, SONDE_ERROR, SONDE_ERROR_INVALID_ARGUMENT,
                               "'command' must be a string");
          return NULL;
        }

      /* Quotes and backslashes as a shell reads them, nothing more: no
       * variables, substitutions, globs, pipes or separators. */
      if (!g_shell_parse_argv (json_node_get_string (command_node), &argc, &argv, &local_error))
        {
          g_set_error (error, SONDE_ERROR, SONDE_ERROR_INVALID_ARGUMENT,
                       "Cannot split 'command' into arguments: %s", local_error->message);
          return NULL;
        }

      *command = g_strdup (json_node_get_string (command_node));
      return g_steal_pointer (&argv);
    }

  if (argv_node != NULL)
    {
      g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
      JsonArray *array = JSON_NODE_HOLDS_ARRAY (argv_node) ? json_node_get_array (argv_node) : NULL;
      guint n = array != NULL ? json_array_get_length (array) : 0;

      if (n == 0 || n > MAX_ARGUMENTS)
        {
          g_set_error (error, SONDE_ERROR, SONDE_ERROR_INVALID_ARGUMENT,
                       "'argv' must be an array of 1 to %d strings, the program first", MAX_ARGUMENTS);
          return NULL;
        }

      for (guint i = 0; i < n; i++)
        {
          JsonNode *element = json_array_get_element (array, i);

          if (!node_is_string (element))
            {
              g_set_error (error, SONDE_ERROR, SONDE_ERROR_INVALID_ARGUMENT,
                           "'argv' element %u is not a string", i);
              return NULL;
            }
          g_strv_builder_add (builder, json_node_get_string (element));
        }

      argv = g_strv_builder_end (builder);
      *command = argv_to_command ((const char * const *) argv);
      return g_steal_pointer (&argv);
    }

  g_set_error_literal (error, SONDE_ERROR, SONDE_ERROR_INVALID_ARGUMENT,
                       "Missing 'command' (a string) or 'argv' (an array of strings)");
  return NULL;
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
