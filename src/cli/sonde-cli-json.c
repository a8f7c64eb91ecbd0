/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "sonde-cli.h"

/*
 * What the CLI reads from a server, whoever answers at the address it was
 * given, is untrusted: it is parsed with bounds (json-glib recurses once
 * per level of nesting, and builds a node per value), and everything of it
 * that reaches the terminal is escaped, so that no control character or
 * escape sequence it holds is interpreted (moving the cursor, rewriting
 * the title, faking earlier output). The same idea as libsonde's
 * _sonde_json_parse_bounded(), which the CLI does not link.
 */

/* Is @c (a code point) one a terminal would act on, or that would make
 * text read other than it is? C0 and C1 controls, DEL, and the
 * bidirectional overrides and isolates. */
static gboolean
is_unsafe (gunichar c)
{
  return c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0) ||
         (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069);
}

char *
sonde_cli_escape (const char *text)
{
  g_autofree char *valid = NULL;
  GString *escaped;

  if (text == NULL)
    return NULL;

  if (!g_utf8_validate (text, -1, NULL))
    text = valid = g_utf8_make_valid (text, -1);

  escaped = g_string_sized_new (strlen (text));
  for (const char *p = text; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      if (c < 0x80 && is_unsafe (c))
        g_string_append_printf (escaped, "\\x%02x", c);
      else if (is_unsafe (c))
        g_string_append_printf (escaped, "\\u%04x", c);
      else
        g_string_append_unichar (escaped, c);
    }

  return g_string_free (escaped, FALSE);
}

char *
sonde_cli_escape_json_output (const char *json)
{
  GString *escaped = g_string_sized_new (strlen (json));

  /* json-glib escapes C0 controls within strings; DEL, C1 and the bidi
   * controls it leaves raw can only be within strings, where \uXXXX
   * means the same to a JSON reader and nothing to a terminal. */
  for (const char *p = json; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      if (is_unsafe (c) && c != '\n')
        g_string_append_printf (escaped, "\\u%04x", c);
      else
        g_string_append_unichar (escaped, c);
    }

  return g_string_free (escaped, FALSE);
}

/* Rebuilds @node with every string and member name escaped. Its depth was
 * checked before parsing, so the recursion is bounded. */
static JsonNode *
escape_node (JsonNode *node)
{
  switch (JSON_NODE_TYPE (node))
    {
    case JSON_NODE_OBJECT:
      {
        JsonObject *object = json_object_new ();
        JsonObjectIter iter;
        const char *name;
        JsonNode *member;

        json_object_iter_init_ordered (&iter, json_node_get_object (node));
        while (json_object_iter_next_ordered (&iter, &name, &member))
          {
            g_autofree char *escaped = sonde_cli_escape (name);

            json_object_set_member (object, escaped, escape_node (member));
          }
        return json_node_init_object (json_node_alloc (), object);
      }

    case JSON_NODE_ARRAY:
      {
        JsonArray *array = json_node_get_array (node);
        JsonArray *copy = json_array_sized_new (json_array_get_length (array));

        for (guint i = 0; i < json_array_get_length (array); i++)
          json_array_add_element (copy, escape_node (json_array_get_element (array, i)));
        return json_node_init_array (json_node_alloc (), copy);
      }

    case JSON_NODE_VALUE:
      if (json_node_get_value_type (node) == G_TYPE_STRING)
        {
          g_autofree char *escaped = sonde_cli_escape (json_node_get_string (node));

          return json_node_init_string (json_node_alloc (), escaped);
        }
      return json_node_copy (node);

    case JSON_NODE_NULL:
    default:
      return json_node_copy (node);
    }
}

JsonNode *
sonde_cli_parse_json (const char  *text,
                      gsize        length,
                      gboolean     escape,
                      GError     **error)
{
  g_autoptr(JsonParser) parser = NULL;
  g_autoptr(GError) local_error = NULL;
  JsonNode *root;
  int depth = 0;
  gboolean in_string = FALSE;

  if (length > SONDE_CLI_MAX_JSON_SIZE)
    {
      g_set_error (error, SONDE_CLI_ERROR, SONDE_CLI_ERROR_PROTOCOL,
                   _("the answer is larger than %d MiB"), SONDE_CLI_MAX_JSON_SIZE / (1024 * 1024));
      return NULL;
    }

  for (gsize i = 0; i < length; i++)
    {
      char c = text[i];

      if (in_string)
        {
          if (c == '\\')
            i++;
          else if (c == '"')
            in_string = FALSE;
        }
      else if (c == '"')
        in_string = TRUE;
      else if (c == '{' || c == '[')
        {
          if (++depth > SONDE_CLI_MAX_JSON_DEPTH)
            {
              g_set_error (error, SONDE_CLI_ERROR, SONDE_CLI_ERROR_PROTOCOL,
                           _("the answer is nested deeper than %d levels"), SONDE_CLI_MAX_JSON_DEPTH);
              return NULL;
            }
        }
      else if (c == '}' || c == ']')
        depth--;
    }

  parser = json_parser_new_immutable ();
  if (!json_parser_load_from_data (parser, text, length, &local_error))
    {
      /* json-glib may quote the offending text. */
      g_autofree char *message = sonde_cli_escape (local_error->message);

      g_set_error_literal (error, SONDE_CLI_ERROR, SONDE_CLI_ERROR_PROTOCOL, message);
      return NULL;
    }

  root = json_parser_get_root (parser);
  if (root == NULL)
    {
      g_set_error (error, SONDE_CLI_ERROR, SONDE_CLI_ERROR_PROTOCOL, _("the answer is empty"));
      return NULL;
    }

  return escape ? escape_node (root) : json_node_copy (root);
}

/* Readers that take whatever the server sent: a member of another type
 * than expected is missing, never a critical warning or a NULL string. */

static JsonNode *
member (JsonObject *object,
        const char *name)
{
  return object != NULL ? json_object_get_member (object, name) : NULL;
}

const char *
sonde_cli_string (JsonObject *object,
                  const char *name,
                  const char *fallback)
{
  JsonNode *node = member (object, name);

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
    return fallback;
  return json_node_get_string (node);
}

gint64
sonde_cli_int (JsonObject *object,
               const char *name,
               gint64      fallback)
{
  JsonNode *node = member (object, name);

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node))
    return fallback;
  if (json_node_get_value_type (node) == G_TYPE_INT64)
    return json_node_get_int (node);
  return fallback;
}

gboolean
sonde_cli_bool (JsonObject *object,
                const char *name,
                gboolean    fallback)
{
  JsonNode *node = member (object, name);

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_BOOLEAN)
    return fallback;
  return json_node_get_boolean (node);
}

JsonObject *
sonde_cli_object (JsonObject *object,
                  const char *name)
{
  JsonNode *node = member (object, name);

  return node != NULL && JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
}

JsonArray *
sonde_cli_array (JsonObject *object,
                 const char *name)
{
  JsonNode *node = member (object, name);

  return node != NULL && JSON_NODE_HOLDS_ARRAY (node) ? json_node_get_array (node) : NULL;
}

JsonObject *
sonde_cli_object_at (JsonArray *array,
                     guint      index)
{
  JsonNode *node = array != NULL && index < json_array_get_length (array)
                   ? json_array_get_element (array, index) : NULL;

  return node != NULL && JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
}
