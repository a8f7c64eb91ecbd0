/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "sonde-error.h"
#include "sonde-json-private.h"
#include "sonde-server-private.h"
#include "sonde-servercontrol-private.h"

/*
 * What servercontrol clients send, read from text alone (no server, no
 * connection), so that tests/fuzz can feed it anything: the body of a
 * POST /exec, and the WebSocket messages.
 */

#define MAX_ARGUMENTS 4096

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

static char **
argv_from_command (JsonNode  *command_node,
                   char     **command,
                   GError   **error)
{
  g_autoptr(GError) local_error = NULL;
  char **argv = NULL;
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
  return argv;
}

static char **
argv_from_array (JsonNode  *argv_node,
                 char     **command,
                 GError   **error)
{
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
  JsonArray *array = JSON_NODE_HOLDS_ARRAY (argv_node) ? json_node_get_array (argv_node) : NULL;
  guint n = array != NULL ? json_array_get_length (array) : 0;
  char **argv;

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
  return argv;
}

char **
_sonde_servercontrol_parse_exec (const char  *text,
                                 gsize        length,
                                 char       **command,
                                 GError     **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autoptr(JsonNode) root = NULL;
  JsonObject *object;
  JsonNode *command_node, *argv_node;

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
    return argv_from_command (command_node, command, error);
  if (argv_node != NULL)
    return argv_from_array (argv_node, command, error);

  g_set_error_literal (error, SONDE_ERROR, SONDE_ERROR_INVALID_ARGUMENT,
                       "Missing 'command' (a string) or 'argv' (an array of strings)");
  return NULL;
}

#define ONLY_PING "the only message is {\"type\": \"ping\"}"

char *
_sonde_servercontrol_parse_message (SoupWebsocketDataType  type,
                                    const char            *text,
                                    gsize                  length)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) root = NULL;
  const char *message_type;

  if (type != SOUP_WEBSOCKET_DATA_TEXT)
    return g_strdup ("Binary messages are not supported: send JSON text; " ONLY_PING);

  if (length > SONDE_MAX_CLIENT_MESSAGE)
    return g_strdup_printf ("Message of %" G_GSIZE_FORMAT " bytes exceeds the limit of %d bytes",
                            length, SONDE_MAX_CLIENT_MESSAGE);

  root = _sonde_json_parse_bounded (text != NULL ? text : "", length, &error);
  if (root == NULL)
    return g_strdup_printf ("Invalid JSON: %s", error->message);

  message_type = JSON_NODE_HOLDS_OBJECT (root) ? _sonde_json_get_string_member (json_node_get_object (root), "type") : NULL;
  if (message_type == NULL)
    return g_strdup ("Missing \"type\": " ONLY_PING);

  if (!g_str_equal (message_type, "ping"))
    return g_strdup_printf ("Unknown message type '%s': " ONLY_PING, message_type);

  return NULL;
}
