/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <math.h>
#include <string.h>

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

void
_sonde_append_json_string (GString    *out,
                           const char *text)
{
  g_autofree char *valid = NULL;

  /* Collected text (a process name, a mount point) may hold any bytes;
   * the wire must be UTF-8. */
  if (!g_utf8_validate (text, -1, NULL))
    text = valid = g_utf8_make_valid (text, -1);

  g_string_append_c (out, '"');
  for (const char *p = text; *p; p++)
    {
      guchar c = *p;

      switch (c)
        {
        case '"': g_string_append (out, "\\\""); break;
        case '\\': g_string_append (out, "\\\\"); break;
        case '\n': g_string_append (out, "\\n"); break;
        case '\r': g_string_append (out, "\\r"); break;
        case '\t': g_string_append (out, "\\t"); break;
        case '\b': g_string_append (out, "\\b"); break;
        case '\f': g_string_append (out, "\\f"); break;
        default:
          if (c < 0x20)
            g_string_append_printf (out, "\\u%04x", c);
          else
            g_string_append_c (out, c);
        }
    }
  g_string_append_c (out, '"');
}

/* The shortest text that reads back as the same double, with a decimal
 * point or exponent so that it stays a double (100.0, not 100): json-glib
 * 1.6 writes %.17g, which turns 0.39 into 0.39000000000000001. */
void
_sonde_append_double (GString *out,
                      double   value)
{
  static const char * const formats[] = { "%.15g", "%.16g", "%.17g" };
  char buffer[G_ASCII_DTOSTR_BUF_SIZE];

  for (guint i = 0; i < G_N_ELEMENTS (formats); i++)
    {
      g_ascii_formatd (buffer, sizeof buffer, formats[i], value);
      if (g_ascii_strtod (buffer, NULL) == value)
        break;
    }

  g_string_append (out, buffer);
  if (strpbrk (buffer, ".eEn") == NULL)
    g_string_append (out, ".0");
}

static void
write_double (GString *out,
              double   value)
{
  if (!isfinite (value))
    g_string_append (out, "null");
  else
    _sonde_append_double (out, value);
}

static void
write_value (GString  *out,
             JsonNode *node)
{
  switch (json_node_get_value_type (node))
    {
    case G_TYPE_INT64:
      g_string_append_printf (out, "%" G_GINT64_FORMAT, json_node_get_int (node));
      break;

    case G_TYPE_DOUBLE:
      write_double (out, json_node_get_double (node));
      break;

    case G_TYPE_BOOLEAN:
      g_string_append (out, json_node_get_boolean (node) ? "true" : "false");
      break;

    case G_TYPE_STRING:
      _sonde_append_json_string (out, json_node_get_string (node));
      break;

    default:
      g_string_append (out, "null");
    }
}

/* Compact JSON, the members of objects in the order they were set. */
void
_sonde_json_append_node (GString  *out,
                         JsonNode *node)
{
  switch (json_node_get_node_type (node))
    {
    case JSON_NODE_OBJECT:
      {
        JsonObjectIter iter;
        const char *member;
        JsonNode *child;
        gboolean first = TRUE;

        g_string_append_c (out, '{');
        json_object_iter_init_ordered (&iter, json_node_get_object (node));
        while (json_object_iter_next_ordered (&iter, &member, &child))
          {
            if (!first)
              g_string_append_c (out, ',');
            first = FALSE;
            _sonde_append_json_string (out, member);
            g_string_append_c (out, ':');
            _sonde_json_append_node (out, child);
          }
        g_string_append_c (out, '}');
      }
      break;

    case JSON_NODE_ARRAY:
      {
        JsonArray *array = json_node_get_array (node);
        guint length = json_array_get_length (array);

        g_string_append_c (out, '[');
        for (guint i = 0; i < length; i++)
          {
            if (i > 0)
              g_string_append_c (out, ',');
            _sonde_json_append_node (out, json_array_get_element (array, i));
          }
        g_string_append_c (out, ']');
      }
      break;

    case JSON_NODE_VALUE:
      write_value (out, node);
      break;

    case JSON_NODE_NULL:
    default:
      g_string_append (out, "null");
      break;
    }
}

/* ISO 8601 UTC to the second, as some replaced products' formats write
 * it: 2024-01-15T10:30:45Z */
char *
_sonde_format_timestamp_seconds (gint64 timestamp_us)
{
  g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc (timestamp_us / G_USEC_PER_SEC);

  if (dt == NULL)
    return g_strdup ("1970-01-01T00:00:00Z");
  return g_date_time_format (dt, "%Y-%m-%dT%H:%M:%SZ");
}

/* Compact JSON. Frames are written once per group per tick, then shared. */
GBytes *
_sonde_json_node_to_bytes (JsonNode *node)
{
  GString *out = g_string_sized_new (1024);

  _sonde_json_append_node (out, node);
  return g_string_free_to_bytes (out);
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
 * nesting before parsing. Text must be valid UTF-8.
 *
 * The scan must see the brackets the parser sees. json-glib 1.6 also
 * accepts 'single-quoted' strings and comments, which the scan does not
 * model: ['"',[[[... would hide its nesting inside what the scan takes
 * for a string. Neither is JSON, so a ' or / outside a double-quoted
 * string is refused here.
 *
 * The text must also hold one value and nothing after it but
 * whitespace: json-glib 1.6 reads a value after a scalar ("2[]", "1{}")
 * or after a "var x = ..." statement, keeps the first and leaks the
 * others, so that a client could make the server leak memory with every
 * message. The scan finds where the first value ends, and refuses what
 * follows. For the same reason \u escapes are checked: json-glib leaks
 * on a broken surrogate pair. */
#define MAX_JSON_DEPTH 64

static inline gboolean
is_json_space (char c)
{
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* The code unit of the \uXXXX escape at @pos, or -1 if it is not one. */
static int
read_unicode_escape (const char *text,
                     gsize       length,
                     gsize       pos)
{
  int unit = 0;

  if (pos > length || length - pos < 6 || text[pos] != '\\' || text[pos + 1] != 'u')
    return -1;

  for (gsize i = pos + 2; i < pos + 6; i++)
    {
      if (!g_ascii_isxdigit (text[i]))
        return -1;
      unit = unit * 16 + g_ascii_xdigit_value (text[i]);
    }

  return unit;
}

/* Checks the \u escape at @pos and returns where it ends (its last
 * byte), or 0 if it is not valid: four hex digits, and a surrogate only
 * as the first of a pair. json-glib 1.6 leaks the string read so far on
 * a high surrogate followed by another \u escape than a low surrogate. */
static gsize
check_unicode_escape (const char *text,
                      gsize       length,
                      gsize       pos)
{
  int unit = read_unicode_escape (text, length, pos);
  int low;

  if (unit < 0 || (unit >= 0xDC00 && unit <= 0xDFFF))
    return 0;
  if (unit < 0xD800 || unit > 0xDBFF)
    return pos + 5;

  low = read_unicode_escape (text, length, pos + 6);
  if (low < 0xDC00 || low > 0xDFFF)
    return 0;
  return pos + 11;
}

JsonNode *
_sonde_json_parse_bounded (const char  *text,
                           gsize        length,
                           GError     **error)
{
  g_autoptr(JsonParser) parser = NULL;
  int depth = 0;
  gboolean in_string = FALSE;
  gboolean in_scalar = FALSE;   /* in a number, true, false or null at the top */
  gboolean value_ended = FALSE; /* the top-level value is complete */

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
          if (c == '\\' && i + 1 < length && text[i + 1] == 'u')
            {
              gsize end = check_unicode_escape (text, length, i);

              if (end == 0)
                {
                  g_set_error (error, SONDE_ERROR, SONDE_ERROR_INVALID_ARGUMENT,
                               "Invalid \\u escape at offset %" G_GSIZE_FORMAT
                               ": four hex digits, and surrogates only in pairs", i);
                  return NULL;
                }
              i = end;
            }
          else if (c == '\\')
            {
              /* json-glib 1.6 also reads \q as q, \x41 as x41 and octal
               * escapes: \222 makes a string that is not UTF-8. */
              if (i + 1 >= length || text[i + 1] == '\0' || strchr ("\"\\/bfnrt", text[i + 1]) == NULL)
                {
                  g_set_error (error, SONDE_ERROR, SONDE_ERROR_INVALID_ARGUMENT,
                               "Invalid escape at offset %" G_GSIZE_FORMAT
                               ": JSON has \\\", \\\\, \\/, \\b, \\f, \\n, \\r, \\t and \\u", i);
                  return NULL;
                }
              i++;
            }
          else if (c == '"')
            {
              in_string = FALSE;
              if (depth == 0)
                value_ended = TRUE;
            }
          continue;
        }

      if (depth == 0 && in_scalar && (is_json_space (c) || strchr ("{}[]\"", c) != NULL))
        {
          in_scalar = FALSE;
          value_ended = TRUE;
        }

      if (is_json_space (c))
        continue;

      if (value_ended)
        {
          g_set_error (error, SONDE_ERROR, SONDE_ERROR_INVALID_ARGUMENT,
                       "Unexpected text at offset %" G_GSIZE_FORMAT ", after the JSON value", i);
          return NULL;
        }

      if (c == '"')
        in_string = TRUE;
      else if (c == '\'')
        {
          g_set_error (error, SONDE_ERROR, SONDE_ERROR_INVALID_ARGUMENT,
                       "Unexpected ' at offset %" G_GSIZE_FORMAT ": JSON strings take double quotes", i);
          return NULL;
        }
      else if (c == '/')
        {
          g_set_error (error, SONDE_ERROR, SONDE_ERROR_INVALID_ARGUMENT,
                       "Unexpected / at offset %" G_GSIZE_FORMAT ": JSON has no comments", i);
          return NULL;
        }
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
        {
          /* An unmatched one is json-glib's to report. */
          if (--depth == 0)
            value_ended = TRUE;
        }
      else if (depth == 0)
        in_scalar = TRUE;
    }

  parser = json_parser_new_immutable ();
  if (!json_parser_load_from_data (parser, text, length, error))
    {
      /* json-glib's message may quote a byte of a multi-byte character. */
      if (error != NULL && !g_utf8_validate ((*error)->message, -1, NULL))
        {
          char *valid = g_utf8_make_valid ((*error)->message, -1);

          g_free ((*error)->message);
          (*error)->message = valid;
        }
      return NULL;
    }

  if (json_parser_get_root (parser) == NULL)
    {
      g_set_error (error, SONDE_ERROR, SONDE_ERROR_INVALID_ARGUMENT, "Empty message");
      return NULL;
    }

  return json_node_ref (json_parser_get_root (parser));
}

const char *
_sonde_json_get_string_member (JsonObject *object,
                               const char *member)
{
  JsonNode *node = json_object_get_member (object, member);

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (node);
}
