/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <unistd.h>

#include "sonde-json-private.h"
#include "sonde-resolvix-private.h"
#include "sonde-rest-private.h"
#include "sonde-server-private.h"

/*
 * The resolvix control API: POST /control with {"command": C}, where C is
 * start_telemetry, stop_telemetry, start_livelogs or stop_livelogs,
 * answered as the guide shows:
 *   {"status": "started", "pid": "12345", "ws_port": 8756, "interval": 60}
 *   {"status": "stopped"}
 * and, where the guide says nothing, {"status": "already_running", ...}
 * (with the same members as "started") or {"status": "not_running"}.
 * A bad request gets 400 and {"error": "..."}.
 *
 * Both streams run from the start; the commands pause and resume them
 * without disconnecting anybody. Sonde has no child process per stream as
 * resolvix had: "pid" is sonded's own. ws_port is the port of the
 * stream's compatibility listener when one is open, else the main one
 * (where the stream is at /ws/telemetry or /ws/logs).
 *
 * On the main listener, POST /control sits next to the native routes and
 * GET /status carries the guide's members among the native ones. The
 * compatibility listener on 8754 serves POST /control and a GET /status
 * with exactly the guide's members.
 */

/* The server's early handler already refuses larger bodies (and chunked
 * ones) from their headers, before libsoup reads them; this is the same
 * bound, checked again where the body is used. */
#define MAX_CONTROL_BODY (64 * 1024)

static const char * const known_commands =
  "start_telemetry, stop_telemetry, start_livelogs, stop_livelogs";

static void
respond_error (SoupServerMessage *msg,
               guint              status,
               const char        *message)
{
  g_autoptr(JsonObject) object = json_object_new ();

  json_object_set_string_member (object, "error", message);
  _sonde_rest_respond_json (msg, status, object);
}

static char *
pid_string (void)
{
  return g_strdup_printf ("%d", (int) getpid ());
}

static JsonObject *
start_telemetry (SondeResolvix *self)
{
  JsonObject *answer = json_object_new ();
  g_autofree char *pid = pid_string ();

  json_object_set_string_member (answer, "status", self->telemetry_running ? "already_running" : "started");
  json_object_set_string_member (answer, "pid", pid);
  json_object_set_int_member (answer, "ws_port", _sonde_resolvix_get_ws_port (self, self->telemetry_listeners));
  json_object_set_int_member (answer, "interval", self->interval);

  _sonde_resolvix_set_telemetry_running (self, TRUE);
  return answer;
}

static JsonObject *
start_livelogs (SondeResolvix *self)
{
  JsonObject *answer = json_object_new ();
  g_autofree char *pid = pid_string ();

  json_object_set_string_member (answer, "status", self->livelogs_running ? "already_running" : "started");
  json_object_set_string_member (answer, "pid", pid);
  json_object_set_int_member (answer, "ws_port", _sonde_resolvix_get_ws_port (self, self->logs_listeners));

  _sonde_resolvix_set_livelogs_running (self, TRUE);
  return answer;
}

static JsonObject *
stopped (gboolean was_running)
{
  JsonObject *answer = json_object_new ();

  json_object_set_string_member (answer, "status", was_running ? "stopped" : "not_running");
  return answer;
}

static JsonObject *
error_answer (char *message)
{
  JsonObject *object = json_object_new ();

  json_object_set_string_member (object, "error", message);
  g_free (message);
  return object;
}

/* What a POST /control body gets: 200 and the command's answer (the
 * command is carried out), or 400 and {"error": "..."}. The body has
 * been bounded by MAX_CONTROL_BODY. */
JsonObject *
_sonde_resolvix_control_answer (SondeResolvix *self,
                                const char    *text,
                                gsize          length,
                                guint         *status)
{
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(GError) error = NULL;
  JsonObject *answer;
  JsonNode *command_node;
  const char *command;

  *status = SOUP_STATUS_BAD_REQUEST;

  root = _sonde_json_parse_bounded (text != NULL ? text : "", length, &error);
  if (root == NULL)
    return error_answer (g_strdup_printf ("Invalid JSON: %s", error->message));

  if (!JSON_NODE_HOLDS_OBJECT (root))
    return error_answer (g_strdup ("The request body must be a JSON object"));

  command_node = json_object_get_member (json_node_get_object (root), "command");
  if (command_node == NULL || !JSON_NODE_HOLDS_VALUE (command_node) ||
      json_node_get_value_type (command_node) != G_TYPE_STRING)
    return error_answer (g_strdup_printf ("Missing 'command' (one of %s)", known_commands));

  command = json_node_get_string (command_node);
  if (g_str_equal (command, "start_telemetry"))
    answer = start_telemetry (self);
  else if (g_str_equal (command, "stop_telemetry"))
    {
      answer = stopped (self->telemetry_running);
      _sonde_resolvix_set_telemetry_running (self, FALSE);
    }
  else if (g_str_equal (command, "start_livelogs"))
    answer = start_livelogs (self);
  else if (g_str_equal (command, "stop_livelogs"))
    {
      answer = stopped (self->livelogs_running);
      _sonde_resolvix_set_livelogs_running (self, FALSE);
    }
  else
    return error_answer (g_strdup_printf ("Unknown command '%s' (known: %s)", command, known_commands));

  *status = SOUP_STATUS_OK;
  return answer;
}

static void
control_cb (SoupServer        *soup_server,
            SoupServerMessage *msg,
            const char        *path,
            GHashTable        *query,
            gpointer           user_data)
{
  SondeResolvix *state = user_data;
  SoupMessageBody *request_body = soup_server_message_get_request_body (msg);
  g_autoptr(GBytes) body = NULL;
  g_autoptr(JsonObject) answer = NULL;
  const char *text;
  gsize length;
  guint status;

  if (!g_str_equal (soup_server_message_get_method (msg), "POST"))
    {
      soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Allow", "POST");
      respond_error (msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "Only POST is allowed here");
      return;
    }

  /* A JSON body only: a web page can send text/plain to any origin
   * without asking (a "simple" request), never application/json. */
  if (!soup_message_headers_get_content_type (soup_server_message_get_request_headers (msg), NULL) ||
      g_ascii_strcasecmp (soup_message_headers_get_content_type (soup_server_message_get_request_headers (msg), NULL),
                          "application/json") != 0)
    {
      respond_error (msg, SOUP_STATUS_UNSUPPORTED_MEDIA_TYPE, "The request body must be application/json");
      return;
    }

  /* Before flattening, which copies the body. */
  if (request_body->length > MAX_CONTROL_BODY)
    {
      respond_error (msg, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE, "The request body is too large");
      return;
    }

  body = soup_message_body_flatten (request_body);
  text = g_bytes_get_data (body, &length);
  answer = _sonde_resolvix_control_answer (state, text, length, &status);
  _sonde_rest_respond_json (msg, status, answer);
}

/* Status ------------------------------------------------------------------- */

/* The first file the logs collector follows, or NULL. */
static char *
get_log_file (SondeServer *server)
{
  SondeCollector *collector = sonde_engine_get_collector (sonde_server_get_engine (server), "logs");
  g_auto(GStrv) files = NULL;
  GParamSpec *pspec;

  if (collector == NULL)
    return NULL;

  pspec = g_object_class_find_property (G_OBJECT_GET_CLASS (collector), "files");
  if (pspec == NULL || pspec->value_type != G_TYPE_STRV)
    return NULL;

  g_object_get (collector, "files", &files, NULL);
  return files != NULL && files[0] != NULL ? g_strdup (files[0]) : NULL;
}

static void
set_pid (JsonObject *object,
         gboolean    running)
{
  if (running)
    json_object_set_int_member (object, "pid", getpid ());
  else
    json_object_set_null_member (object, "pid");
}

void
_sonde_resolvix_add_status_members (gpointer    state,
                                    JsonObject *object)
{
  SondeResolvix *self = state;
  g_autofree char *log_file = get_log_file (self->server);
  JsonObject *livelogs = json_object_new ();
  JsonObject *telemetry = json_object_new ();

  json_object_set_boolean_member (livelogs, "running", self->livelogs_running);
  set_pid (livelogs, self->livelogs_running);
  json_object_set_int_member (livelogs, "ws_port", _sonde_resolvix_get_ws_port (self, self->logs_listeners));

  json_object_set_boolean_member (telemetry, "running", self->telemetry_running);
  set_pid (telemetry, self->telemetry_running);
  json_object_set_int_member (telemetry, "ws_port", _sonde_resolvix_get_ws_port (self, self->telemetry_listeners));
  json_object_set_int_member (telemetry, "interval", self->interval);

  json_object_set_string_member (object, "node_id", _sonde_resolvix_get_node_id (self));
  if (log_file != NULL)
    json_object_set_string_member (object, "log_file", log_file);
  else
    json_object_set_null_member (object, "log_file");
  json_object_set_object_member (object, "livelogs", livelogs);
  json_object_set_object_member (object, "telemetry", telemetry);
}

/* The compatibility listener: the whole port is resolvix's. */
static void
compat_cb (SoupServer        *soup_server,
           SoupServerMessage *msg,
           const char        *path,
           GHashTable        *query,
           gpointer           user_data)
{
  SondeResolvix *state = user_data;
  const char *method = soup_server_message_get_method (msg);
  g_autoptr(JsonObject) object = NULL;

  if (g_str_equal (path, "/control"))
    {
      control_cb (soup_server, msg, path, query, user_data);
      return;
    }

  if (!g_str_equal (path, "/status"))
    {
      g_autofree char *message = g_strdup_printf ("No such route: %s", path);
      respond_error (msg, SOUP_STATUS_NOT_FOUND, message);
      return;
    }

  if (!g_str_equal (method, "GET") && !g_str_equal (method, "HEAD"))
    {
      soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Allow", "GET, HEAD");
      respond_error (msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "Only GET is allowed here");
      return;
    }

  object = json_object_new ();
  _sonde_resolvix_add_status_members (state, object);
  _sonde_rest_respond_json (msg, SOUP_STATUS_OK, object);
}

/* @path is "/control" on the main listener, "/" (everything) on the
 * compatibility listener. */
void
_sonde_resolvix_control_register (SondeServer *server,
                                  gpointer     state,
                                  SoupServer  *soup_server,
                                  const char  *path)
{
  soup_server_add_handler (soup_server, path, g_str_equal (path, "/") ? compat_cb : control_cb,
                           state, NULL);
  /* /control changes what everybody is sent. On the compatibility
   * listener "/" also answers GET /status; a POST needs the token there
   * as anywhere. */
  if (g_str_equal (path, "/"))
    _sonde_server_guard_path (server, soup_server, path);
  else
    _sonde_server_guard_sensitive_path (server, soup_server, path);
}
