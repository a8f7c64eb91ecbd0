/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "sonde-json-private.h"
#include "sonde-kairos-private.h"

/*
 * serde's words for the kairos dialect's bad subscriptions. The Rust
 * original parses a message into a JSON value, then into its
 * subscription struct, and answers "Invalid subscription: " and serde's
 * message. Syntax errors say where, as serde_json does ("expected value at
 * line 1 column 1"); type errors do not ("missing field `metrics`").
 */

/* Deeper JSON than this is refused, as _sonde_json_parse_bounded() does. */
#define KAIROS_MAX_DEPTH 64

/* Syntax: serde_json's first error and where ----------------------------- */

typedef struct
{
  const char *text;
  gsize       length;
  gsize       pos;
  const char *error;       /* serde_json's description of the first error */
  gsize       error_pos;   /* the offending byte, or length at the end */
} Scanner;

static gboolean
scan_fail (Scanner    *scanner,
           const char *error,
           gsize       pos)
{
  scanner->error = error;
  scanner->error_pos = pos;
  return FALSE;
}

static gboolean
scan_at_end (Scanner *scanner)
{
  return scanner->pos >= scanner->length;
}

static char
scan_peek (Scanner *scanner)
{
  return scanner->text[scanner->pos];
}

static void
scan_whitespace (Scanner *scanner)
{
  while (!scan_at_end (scanner) && strchr (" \t\n\r", scan_peek (scanner)) != NULL &&
         scan_peek (scanner) != '\0')
    scanner->pos++;
}

static gboolean scan_value (Scanner *scanner, guint depth);

static gboolean
scan_ident (Scanner    *scanner,
            const char *word)
{
  for (const char *p = word; *p; p++, scanner->pos++)
    {
      if (scan_at_end (scanner))
        return scan_fail (scanner, "EOF while parsing a value", scanner->length);
      if (scan_peek (scanner) != *p)
        return scan_fail (scanner, "expected ident", scanner->pos);
    }
  return TRUE;
}

static gboolean
scan_digits (Scanner *scanner)
{
  if (scan_at_end (scanner))
    return scan_fail (scanner, "EOF while parsing a value", scanner->length);
  if (!g_ascii_isdigit (scan_peek (scanner)))
    return scan_fail (scanner, "invalid number", scanner->pos);
  while (!scan_at_end (scanner) && g_ascii_isdigit (scan_peek (scanner)))
    scanner->pos++;
  return TRUE;
}

static gboolean
scan_number (Scanner *scanner)
{
  if (scan_peek (scanner) == '-')
    scanner->pos++;

  if (scan_at_end (scanner))
    return scan_fail (scanner, "EOF while parsing a value", scanner->length);

  if (scan_peek (scanner) == '0')
    {
      scanner->pos++;
      if (!scan_at_end (scanner) && g_ascii_isdigit (scan_peek (scanner)))
        return scan_fail (scanner, "invalid number", scanner->pos);
    }
  else if (!scan_digits (scanner))
    return FALSE;

  if (!scan_at_end (scanner) && scan_peek (scanner) == '.')
    {
      scanner->pos++;
      if (!scan_digits (scanner))
        return FALSE;
    }

  if (!scan_at_end (scanner) && (scan_peek (scanner) == 'e' || scan_peek (scanner) == 'E'))
    {
      scanner->pos++;
      if (!scan_at_end (scanner) && (scan_peek (scanner) == '+' || scan_peek (scanner) == '-'))
        scanner->pos++;
      if (!scan_digits (scanner))
        return FALSE;
    }

  return TRUE;
}

static gboolean
scan_string (Scanner *scanner)
{
  scanner->pos++;   /* the opening quote */

  for (;;)
    {
      guchar c;

      if (scan_at_end (scanner))
        return scan_fail (scanner, "EOF while parsing a string", scanner->length);

      c = scan_peek (scanner);
      if (c == '"')
        {
          scanner->pos++;
          return TRUE;
        }
      if (c < 0x20)
        return scan_fail (scanner, "control character (\\u0000-\\u001F) found while parsing a string",
                          scanner->pos);
      scanner->pos++;
      if (c != '\\')
        continue;

      if (scan_at_end (scanner))
        return scan_fail (scanner, "EOF while parsing a string", scanner->length);
      c = scan_peek (scanner);
      if (c == 'u')
        {
          /* serde_json reads the four digits, then complains. */
          scanner->pos++;
          if (scanner->length - scanner->pos < 4)
            return scan_fail (scanner, "EOF while parsing a string", scanner->length);
          for (guint i = 0; i < 4; i++)
            if (!g_ascii_isxdigit (scanner->text[scanner->pos + i]))
              return scan_fail (scanner, "invalid escape", scanner->pos + 3);
          scanner->pos += 4;
        }
      else if (c != '\0' && strchr ("\"\\/bfnrt", c) != NULL)
        scanner->pos++;
      else
        return scan_fail (scanner, "invalid escape", scanner->pos);
    }
}

static gboolean
scan_array (Scanner *scanner,
            guint    depth)
{
  gboolean first = TRUE;

  scanner->pos++;   /* [ */
  for (;;)
    {
      scan_whitespace (scanner);
      if (scan_at_end (scanner))
        return scan_fail (scanner, "EOF while parsing a list", scanner->length);
      if (scan_peek (scanner) == ']')
        {
          scanner->pos++;
          return TRUE;
        }
      if (!first)
        {
          if (scan_peek (scanner) != ',')
            return scan_fail (scanner, "expected `,` or `]`", scanner->pos);
          scanner->pos++;
          scan_whitespace (scanner);
          if (!scan_at_end (scanner) && scan_peek (scanner) == ']')
            return scan_fail (scanner, "trailing comma", scanner->pos);
        }
      first = FALSE;

      if (!scan_value (scanner, depth))
        return FALSE;
    }
}

static gboolean
scan_object (Scanner *scanner,
             guint    depth)
{
  gboolean first = TRUE;

  scanner->pos++;   /* { */
  for (;;)
    {
      scan_whitespace (scanner);
      if (scan_at_end (scanner))
        return scan_fail (scanner, "EOF while parsing an object", scanner->length);
      if (scan_peek (scanner) == '}')
        {
          scanner->pos++;
          return TRUE;
        }
      if (!first)
        {
          if (scan_peek (scanner) != ',')
            return scan_fail (scanner, "expected `,` or `}`", scanner->pos);
          scanner->pos++;
          scan_whitespace (scanner);
        }
      first = FALSE;

      if (scan_at_end (scanner))
        return scan_fail (scanner, "EOF while parsing a value", scanner->length);
      if (scan_peek (scanner) == '}')
        return scan_fail (scanner, "trailing comma", scanner->pos);
      if (scan_peek (scanner) != '"')
        return scan_fail (scanner, "key must be a string", scanner->pos);
      if (!scan_string (scanner))
        return FALSE;

      scan_whitespace (scanner);
      if (scan_at_end (scanner))
        return scan_fail (scanner, "EOF while parsing an object", scanner->length);
      if (scan_peek (scanner) != ':')
        return scan_fail (scanner, "expected `:`", scanner->pos);
      scanner->pos++;

      if (!scan_value (scanner, depth))
        return FALSE;
    }
}

static gboolean
scan_value (Scanner *scanner,
            guint    depth)
{
  char c;

  scan_whitespace (scanner);
  if (scan_at_end (scanner))
    return scan_fail (scanner, "EOF while parsing a value", scanner->length);

  c = scan_peek (scanner);
  switch (c)
    {
    case '{':
    case '[':
      if (depth + 1 > KAIROS_MAX_DEPTH)
        return scan_fail (scanner, "recursion limit exceeded", scanner->pos);
      return c == '{' ? scan_object (scanner, depth + 1) : scan_array (scanner, depth + 1);

    case '"':
      return scan_string (scanner);

    case 't':
      return scan_ident (scanner, "true");

    case 'f':
      return scan_ident (scanner, "false");

    case 'n':
      return scan_ident (scanner, "null");

    default:
      if (c == '-' || g_ascii_isdigit (c))
        return scan_number (scanner);
      return scan_fail (scanner, "expected value", scanner->pos);
    }
}

/* serde_json's "DESCRIPTION at line L column C" of the first syntax error
 * in @text, or NULL when it is well-formed JSON. */
char *
_sonde_kairos_check_syntax (const char *text,
                            gsize       length)
{
  Scanner scanner = { text, length, 0, NULL, 0 };
  gsize line = 1, line_start = 0, end;

  if (scan_value (&scanner, 0))
    {
      scan_whitespace (&scanner);
      if (scan_at_end (&scanner))
        return NULL;
      scan_fail (&scanner, "trailing characters", scanner.pos);
    }

  /* Where serde_json stands once it has read the offending byte (or
   * everything, at the end): a newline read is column 0 of the next line. */
  end = MIN (scanner.error_pos + 1, length);
  for (gsize i = 0; i < end; i++)
    if (text[i] == '\n')
      {
        line++;
        line_start = i + 1;
      }

  return g_strdup_printf ("%s at line %" G_GSIZE_FORMAT " column %" G_GSIZE_FORMAT,
                          scanner.error, line, end - line_start);
}

/* Types: serde's "invalid type" ------------------------------------------ */

/* Rust's Debug form of a string: "a \"b\"\n". */
static void
append_rust_debug_string (GString    *out,
                          const char *text)
{
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
        default:
          if (c < 0x20 || c == 0x7f)
            g_string_append_printf (out, "\\u{%x}", c);
          else
            g_string_append_c (out, c);
        }
    }
  g_string_append_c (out, '"');
}

/* serde's Unexpected: what a value is, in "invalid type: X, expected Y". */
static char *
describe_unexpected (JsonNode *node)
{
  GString *out = g_string_new (NULL);

  switch (json_node_get_node_type (node))
    {
    case JSON_NODE_OBJECT:
      g_string_append (out, "map");
      break;

    case JSON_NODE_ARRAY:
      g_string_append (out, "sequence");
      break;

    case JSON_NODE_NULL:
      g_string_append (out, "null");
      break;

    case JSON_NODE_VALUE:
    default:
      switch (json_node_get_value_type (node))
        {
        case G_TYPE_BOOLEAN:
          g_string_append_printf (out, "boolean `%s`", json_node_get_boolean (node) ? "true" : "false");
          break;

        case G_TYPE_INT64:
          g_string_append_printf (out, "integer `%" G_GINT64_FORMAT "`", json_node_get_int (node));
          break;

        case G_TYPE_DOUBLE:
          /* The shortest text that reads back as the value, as Rust
           * prints it, with a decimal point, as serde does. */
          g_string_append (out, "floating point `");
          _sonde_append_double (out, json_node_get_double (node));
          g_string_append_c (out, '`');
          break;

        case G_TYPE_STRING:
          g_string_append (out, "string ");
          append_rust_debug_string (out, json_node_get_string (node));
          break;

        default:
          g_string_append (out, "null");
        }
    }

  return g_string_free (out, FALSE);
}

char *
_sonde_kairos_invalid_type (JsonNode   *node,
                            const char *expected)
{
  g_autofree char *unexpected = describe_unexpected (node);

  return g_strdup_printf ("invalid type: %s, expected %s", unexpected, expected);
}
