/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "sonde-error.h"
#include "sonde-json-private.h"

/* ISO 8601 UTC with milliseconds, as every native message carries:
 * 2026-11-22T10:30:00.123Z */
char *
_sonde_format_timestamp (gint64 timestamp_us)
{
  g_autoptr(GDateTime) dt = NULL;
  gint64 seconds = timestamp_us / G_USEC_PER_SEC;
  int millis = (int) ((timestamp_us % G_USEC_PER_SEC) / 1000);
  g_autofree char *base = NULL;

  if (millis < 0)
    {
      seconds -= 1;
      millis += 1000;
    }

  dt = g_date_time_new_from_unix_utc (seconds);
  if (dt == NULL)
    return g_strdup ("1970-01-01T00:00:00.000Z");

  base = g_date_time_format (dt, "%Y-%m-%dT%H:%M:%S");
  return g_strdup_printf ("%s.%03dZ", base, millis);
}

GBytes *
_sonde_json_node_to_bytes (JsonNode *node)
{
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  gsize length = 0;
  char *text;

  json_generator_set_root (generator, node);
  text = json_generator_to_data (generator, &length);
  return g_bytes_new_take (text, length);
}

GBytes *
_sonde_json_object_to_bytes (JsonObject *object)
{
  g_autoptr(JsonNode) node = json_node_new (JSON_NODE_OBJECT);

  json_node_set_object (node, object);
  return _sonde_json_node_to_bytes (node);
}

GBytes *
_sonde_error_frame_new (const char *code,
                        const char *message,
                        const char *subscription)
{
  g_autoptr(JsonObject) object = json_object_new ();

  json_object_set_string_member (object, "type", "error");
  json_object_set_string_member (object, "code", code);
  json_object_set_string_member (object, "message", message);
  if (subscription != NULL)
    json_object_set_string_member (object, "subscription", subscription);
  else
    json_object_set_null_member (object, "subscription");

  return _sonde_json_object_to_bytes (object);
}

/* Parses text from the network. json-glib has no depth limit, and its
 * recursive parser would overflow the stack on "[[[[...": refuse deep
 * nesting before parsing. Text must be valid UTF-8. */
#define MAX_JSON_DEPTH 64

JsonNode *
_sonde_json_parse_bounded (const char  *text,
                           gsize        length,
                           GError     **error)
{
  g_autoptr(JsonParser) parser = NULL;
  int depth = 0;
  gboolean in_string = FALSE;

  if (!g_utf8_validate (text, length, NULL))
    {
      g_set_error (error, SONDE_ERROR, SONDE_ERROR_INVALID_ARGUMENT,
                   "Message is not valid UTF-8");
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
          if (++depth > MAX_JSON_DEPTH)
            {
              g_set_error (error, SONDE_ERROR, SONDE_ERROR_INVALID_ARGUMENT,
                           "JSON nested deeper than %d levels", MAX_JSON_DEPTH);
              return NULL;
            }
        }
      else if (c == '}' || c == ']')
        depth--;
    }

  parser = json_parser_new_immutable ();
  if (!json_parser_load_from_data (parser, text, length, error))
    return NULL;

  if (json_parser_get_root (parser) == NULL)
    {
      g_set_error (error, SONDE_ERROR, SONDE_ERROR_INVALID_ARGUMENT, "Empty message");
      return NULL;
    }

  return json_node_ref (json_parser_get_root (parser));
}
