/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "sonde-connection-private.h"
#include "sonde-dialects-private.h"
#include "sonde-engine-private.h"
#include "sonde-filter-private.h"
#include "sonde-json-private.h"
#include "sonde-server-private.h"

/*
 * The kairos gateway's metrics stream (seeds/kairos-ws-metrics-guide.md)
 * at /ws/metrics:
 *
 *   {"type":"Snapshot","timestamp":"2024-11-07T10:30:00Z","requests_total":1547,...}
 *
 * at once on connect and then once per interval;
 *
 *   {"metrics":[...],"interval_seconds":2,"include_history":true}
 *
 * from the client replaces its subscription; TimeSeries messages answer
 * include_history, Error messages (in the words of the Rust original's
 * serde errors) answer bad input, and Heartbeat fills silences.
 *
 * The kairos names are the gateway collector's fields (response_time_avg,
 * which the guide's own examples use, stands for avg_response_time); any
 * native metric name or pattern is accepted too, and its metrics appear
 * flattened as top-level members named "collector.field".
 *
 * Clients with the same metric list and interval share one hub group: the
 * group's subscription id is the list itself, so that its encoder knows
 * the names and their order, and the frame is built once per tick.
 */

#define KAIROS_MIN_INTERVAL_SECONDS 1
#define KAIROS_MAX_INTERVAL_SECONDS 60
/* TimeSeries cover the last hour at most. */
#define KAIROS_HISTORY_SECONDS      3600
/* Deeper JSON than this is refused, as _sonde_json_parse_bounded() does. */
#define KAIROS_MAX_DEPTH            64

static const char * const kairos_metrics[] = {
  "requests_total", "requests_success", "requests_error",
  "active_connections", "avg_response_time", "success_rate",
  NULL
};

typedef struct
{
  SondeServer     *server;
  SondeConnection *connection;
  SondeHubGroup   *group;
  GCancellable    *refresh;           /* while the first Snapshot waits for samples */
  gboolean         snapshot_pending;  /* no Snapshot sent since the subscription */
} KairosClient;

typedef struct
{
  GStrv        names;            /* as requested, without duplicates, in order */
  char        *id;               /* the names joined by ',' */
  SondeFilter *filter;
  guint        interval_seconds;
  gboolean     include_history;
} KairosSubscription;

static void
kairos_subscription_clear (KairosSubscription *sub)
{
  g_clear_pointer (&sub->names, g_strfreev);
  g_clear_pointer (&sub->id, g_free);
  g_clear_pointer (&sub->filter, _sonde_filter_free);
}

/* Names ------------------------------------------------------------------ */

/* The gateway field that a kairos name stands for, or NULL for a native
 * name. */
static const char *
kairos_field (const char *name)
{
  if (g_str_equal (name, "response_time_avg"))
    return "avg_response_time";

  for (guint i = 0; kairos_metrics[i] != NULL; i++)
    if (g_str_equal (name, kairos_metrics[i]))
      return kairos_metrics[i];

  return NULL;
}

/* A native pattern as SondeFilter reads it: "cpu.usage_percent", "cpu.*",
 * "cpu" (every field), "*", with ? and * globs in either part. */
typedef struct
{
  char         *collector;       /* exact collector, or NULL */
  char         *field;           /* exact field, or NULL */
  GPatternSpec *collector_spec;  /* when not exact; NULL: any */
  GPatternSpec *field_spec;      /* when not exact; NULL: any */
} NativePattern;

static gboolean
has_glob (const char *text)
{
  return strpbrk (text, "*?") != NULL;
}

static void
native_pattern_init (NativePattern *pattern,
                     const char    *text)
{
  const char *dot = strchr (text, '.');
  g_autofree char *collector = dot ? g_strndup (text, dot - text) : g_strdup (text);
  const char *field = dot ? dot + 1 : "*";

  memset (pattern, 0, sizeof *pattern);

  if (has_glob (collector))
    pattern->collector_spec = g_str_equal (collector, "*") ? NULL : g_pattern_spec_new (collector);
  else
    pattern->collector = g_steal_pointer (&collector);

  if (has_glob (field))
    pattern->field_spec = g_str_equal (field, "*") ? NULL : g_pattern_spec_new (field);
  else
    pattern->field = g_strdup (field);
}

static void
native_pattern_clear (NativePattern *pattern)
{
  g_clear_pointer (&pattern->collector, g_free);
  g_clear_pointer (&pattern->field, g_free);
  g_clear_pointer (&pattern->collector_spec, g_pattern_spec_free);
  g_clear_pointer (&pattern->field_spec, g_pattern_spec_free);
}

static gboolean
native_pattern_is_exact (NativePattern *pattern)
{
  return pattern->collector != NULL && pattern->field != NULL;
}

static gboolean
native_pattern_wants_collector (NativePattern *pattern,
                                const char    *collector)
{
  if (pattern->collector != NULL)
    return g_str_equal (pattern->collector, collector);
  return pattern->collector_spec == NULL ||
         g_pattern_spec_match_string (pattern->collector_spec, collector);
}

static gboolean
native_pattern_matches (NativePattern *pattern,
                        const char    *collector,
                        const char    *field)
{
  if (!native_pattern_wants_collector (pattern, collector))
    return FALSE;
  if (pattern->field != NULL)
    return g_str_equal (pattern->field, field);
  return pattern->field_spec == NULL || g_pattern_spec_match_string (pattern->field_spec, field);
}

/* Frames ----------------------------------------------------------------- */

/* ISO 8601 UTC to the second, as chrono's serde output in the guide:
 * 2024-11-07T10:30:00Z */
static char *
format_kairos_timestamp (gint64 timestamp_us)
{
  g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc (timestamp_us / G_USEC_PER_SEC);

  if (dt == NULL)
    return g_strdup ("1970-01-01T00:00:00Z");
  return g_date_time_format (dt, "%Y-%m-%dT%H:%M:%SZ");
}

static GBytes *
encode_error (const char *message)
{
  g_autoptr(JsonObject) frame = json_object_new ();

  json_object_set_string_member (frame, "type", "Error");
  json_object_set_string_member (frame, "message", message);
  return _sonde_json_object_to_bytes (frame);
}

static void
set_value (JsonObject *frame,
           const char *member,
           JsonNode   *value)
{
  json_object_set_member (frame, member, value ? json_node_copy (value) : json_node_new (JSON_NODE_NULL));
}

static JsonNode *
latest_value (SondeEngine *engine,
              const char  *collector,
              const char  *field)
{
  SondeSample *sample = sonde_engine_get_latest (engine, collector);

  return sample ? json_object_get_member (sonde_sample_get_data (sample), field) : NULL;
}

/* Every metric a native pattern matches, as "collector.field" members. An
 * exact name is always present (null until sampled), so that clients find
 * the key they asked for. */
static void
add_native (JsonObject  *frame,
            SondeEngine *engine,
            const char  *name)
{
  g_autoptr(GPtrArray) collectors = NULL;
  NativePattern pattern;

  native_pattern_init (&pattern, name);

  if (native_pattern_is_exact (&pattern))
    {
      set_value (frame, name, latest_value (engine, pattern.collector, pattern.field));
      native_pattern_clear (&pattern);
      return;
    }

  collectors = sonde_engine_list_collectors (engine);
  for (guint i = 0; i < collectors->len; i++)
    {
      const char *collector = sonde_collector_get_name (g_ptr_array_index (collectors, i));
      SondeSample *sample;
      JsonObjectIter iter;
      const char *field;
      JsonNode *node;

      if (!native_pattern_wants_collector (&pattern, collector))
        continue;

      sample = sonde_engine_get_latest (engine, collector);
      if (sample == NULL)
        continue;

      json_object_iter_init_ordered (&iter, sonde_sample_get_data (sample));
      while (json_object_iter_next_ordered (&iter, &field, &node))
        {
          g_autofree char *member = NULL;

          if (!native_pattern_matches (&pattern, collector, field))
            continue;
          member = g_strconcat (collector, ".", field, NULL);
          set_value (frame, member, node);
        }
    }

  native_pattern_clear (&pattern);
}

static GBytes *
encode_snapshot (SondeEngine        *engine,
                 const char * const *names,
                 gint64              timestamp_us)
{
  g_autoptr(JsonObject) frame = json_object_new ();
  g_autofree char *timestamp = format_kairos_timestamp (timestamp_us);

  json_object_set_string_member (frame, "type", "Snapshot");
  json_object_set_string_member (frame, "timestamp", timestamp);

  for (guint i = 0; names[i] != NULL; i++)
    {
      const char *field = kairos_field (names[i]);

      if (field != NULL)
        set_value (frame, names[i], latest_value (engine, "gateway", field));
      else
        add_native (frame, engine, names[i]);
    }

  return _sonde_json_object_to_bytes (frame);
}

/* Once per tick for the whole group. */
static GBytes *
kairos_encode (SondeHubGroup *group,
               SondeEngine   *engine,
               gint64         tick_us)
{
  g_auto(GStrv) names = g_strsplit (_sonde_hub_group_get_subscription_id (group), ",", -1);

  return encode_snapshot (engine, (const char * const *) names, tick_us);
}

/* Client messages: serde's words ------------------------------------------ */

/*
 * The Rust original parses a message into a JSON value, then into its
 * subscription struct, and answers "Invalid subscription: " and serde's
 * message. Syntax errors say where, as serde_json does ("expected value at
 * line 1 column 1"); type errors do not ("missing field `metrics`").
 */

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
static char *
check_syntax (const char *text,
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
          {
            static const char * const formats[] = { "%.15g", "%.16g", "%.17g" };
            double value = json_node_get_double (node);
            char buffer[G_ASCII_DTOSTR_BUF_SIZE];

            /* The shortest text that reads back as the value, as Rust
             * prints it, and with a decimal point, as serde does. */
            for (guint i = 0; i < G_N_ELEMENTS (formats); i++)
              {
                g_ascii_formatd (buffer, sizeof buffer, formats[i], value);
                if (g_ascii_strtod (buffer, NULL) == value)
                  break;
              }
            g_string_append_printf (out, "floating point `%s%s`", buffer,
                                    strpbrk (buffer, ".eEn") ? "" : ".0");
          }
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

static char *
invalid_type (JsonNode   *node,
              const char *expected)
{
  g_autofree char *unexpected = describe_unexpected (node);

  return g_strdup_printf ("invalid type: %s, expected %s", unexpected, expected);
}

static gboolean
is_string (JsonNode *node)
{
  return JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_STRING;
}

/* Vec<String> */
static char *
read_metrics (JsonNode *node,
              GStrv    *out)
{
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
  g_autoptr(GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  JsonArray *array;

  if (!JSON_NODE_HOLDS_ARRAY (node))
    return invalid_type (node, "a sequence");

  array = json_node_get_array (node);
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonNode *element = json_array_get_element (array, i);

      if (!is_string (element))
        return invalid_type (element, "a string");

      /* A name asked twice is one member of the Snapshot. */
      if (g_hash_table_add (seen, (gpointer) json_node_get_string (element)))
        g_strv_builder_add (builder, json_node_get_string (element));
    }

  *out = g_strv_builder_end (builder);
  return NULL;
}

/* u64 */
static char *
read_interval (JsonNode *node,
               gint64   *out)
{
  if (JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_INT64)
    {
      *out = json_node_get_int (node);
      if (*out < 0)
        return g_strdup_printf ("invalid value: integer `%" G_GINT64_FORMAT "`, expected u64", *out);
      return NULL;
    }

  return invalid_type (node, "u64");
}

/* bool */
static char *
read_bool (JsonNode *node,
           gboolean *out)
{
  if (JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_BOOLEAN)
    {
      *out = json_node_get_boolean (node);
      return NULL;
    }

  return invalid_type (node, "a boolean");
}

/* The interval bounds in whole seconds: the guide's 1-60 within the
 * server's own bounds. */
static void
interval_bounds (SondeServer *server,
                 guint       *min_seconds,
                 guint       *max_seconds)
{
  guint min_ms = sonde_server_get_interval_min (server);
  guint max_ms = sonde_server_get_interval_max (server);

  *min_seconds = MAX (KAIROS_MIN_INTERVAL_SECONDS, (min_ms + 999) / 1000);
  *max_seconds = MIN (KAIROS_MAX_INTERVAL_SECONDS, max_ms / 1000);
  if (*max_seconds < *min_seconds)
    *max_seconds = *min_seconds;
}

static guint
default_interval (SondeServer *server)
{
  guint min_seconds, max_seconds;

  interval_bounds (server, &min_seconds, &max_seconds);
  return CLAMP (1, min_seconds, max_seconds);
}

/* Resolves the names into the group's filter. Returns an error message,
 * or NULL when every name is known. */
static char *
resolve_names (SondeEngine        *engine,
               KairosSubscription *sub)
{
  g_autoptr(GPtrArray) patterns = g_ptr_array_new_with_free_func (g_free);
  gboolean has_gateway = sonde_engine_get_collector (engine, "gateway") != NULL;
  g_autoptr(GError) error = NULL;

  if (g_strv_length (sub->names) > SONDE_FILTER_MAX_PATTERNS)
    return g_strdup_printf ("at most %d metrics", SONDE_FILTER_MAX_PATTERNS);

  for (guint i = 0; sub->names[i] != NULL; i++)
    {
      const char *name = sub->names[i];
      const char *field = kairos_field (name);

      if (field != NULL)
        {
          /* Without a gateway collector (disabled), its names stay valid
           * and null; the glob lets it join once it is added. */
          g_ptr_array_add (patterns, g_strconcat (has_gateway ? "gateway." : "gateway*.", field, NULL));
        }
      else
        {
          const char * const single[] = { name, NULL };
          g_autoptr(SondeFilter) check = NULL;

          /* Also refuses what could not be a group key: ',' is not a
           * valid character of a pattern. */
          check = _sonde_filter_new (engine, single, NULL);
          if (check == NULL)
            return g_strdup_printf ("unknown metric `%s`", name);
          g_ptr_array_add (patterns, g_strdup (name));
        }
    }

  g_ptr_array_add (patterns, NULL);
  sub->filter = _sonde_filter_new (engine, (const char * const *) patterns->pdata, &error);
  if (sub->filter == NULL)
    return g_strdup (error->message);

  sub->id = g_strjoinv (",", sub->names);
  return NULL;
}

/* Parses a subscription message. Returns the Error's message, or NULL
 * when @sub is ready. */
static char *
parse_subscription (KairosClient       *self,
                    const char         *text,
                    gsize               length,
                    KairosSubscription *sub)
{
  SondeEngine *engine = sonde_server_get_engine (self->server);
  g_autoptr(JsonNode) root = NULL;
  g_autofree char *syntax = NULL;
  g_autofree char *detail = NULL;
  JsonObjectIter iter;
  const char *member;
  JsonNode *node;
  gint64 interval = default_interval (self->server);
  guint min_seconds, max_seconds;

  syntax = check_syntax (text, length);
  if (syntax != NULL)
    return g_strdup_printf ("Invalid subscription: %s", syntax);

  root = _sonde_json_parse_bounded (text, length, NULL);
  if (root == NULL)
    return g_strdup ("Invalid subscription: expected value at line 1 column 1");

  if (!JSON_NODE_HOLDS_OBJECT (root))
    {
      detail = invalid_type (root, "struct MetricsSubscription");
      return g_strdup_printf ("Invalid subscription: %s", detail);
    }

  /* In the message's order, as serde meets them; other members are
   * ignored, as serde does by default. */
  json_object_iter_init_ordered (&iter, json_node_get_object (root));
  while (detail == NULL && json_object_iter_next_ordered (&iter, &member, &node))
    {
      if (g_str_equal (member, "metrics"))
        {
          g_clear_pointer (&sub->names, g_strfreev);
          detail = read_metrics (node, &sub->names);
        }
      else if (g_str_equal (member, "interval_seconds"))
        detail = read_interval (node, &interval);
      else if (g_str_equal (member, "include_history"))
        detail = read_bool (node, &sub->include_history);
    }

  if (detail == NULL && sub->names == NULL)
    detail = g_strdup ("missing field `metrics`");

  interval_bounds (self->server, &min_seconds, &max_seconds);
  if (detail == NULL && (interval < min_seconds || interval > max_seconds))
    detail = g_strdup_printf ("interval_seconds must be between %u and %u", min_seconds, max_seconds);

  if (detail == NULL)
    {
      sub->interval_seconds = (guint) interval;

      /* Empty means all: the six kairos metrics. */
      if (sub->names[0] == NULL)
        {
          g_strfreev (sub->names);
          sub->names = g_strdupv ((char **) kairos_metrics);
        }

      detail = resolve_names (engine, sub);
    }

  if (detail != NULL)
    return g_strdup_printf ("Invalid subscription: %s", detail);

  return NULL;
}

/* The client -------------------------------------------------------------- */

static void
send_error (KairosClient *self,
            const char   *message)
{
  g_autoptr(GBytes) frame = encode_error (message);

  _sonde_connection_send_control (self->connection, frame);
}

static void
kairos_send_cb (gpointer       member,
                SondeHubGroup *group,
                GBytes        *frame)
{
  KairosClient *self = member;

  /* A slow client misses Snapshots; each is complete, so nothing says
   * how many (the seed's format has no place for it). */
  if (_sonde_connection_send_stream (self->connection, frame))
    self->snapshot_pending = FALSE;
}

static void
send_snapshot_now (KairosClient *self)
{
  SondeEngine *engine = sonde_server_get_engine (self->server);
  g_auto(GStrv) names = g_strsplit (_sonde_hub_group_get_subscription_id (self->group), ",", -1);
  g_autoptr(GBytes) frame = encode_snapshot (engine, (const char * const *) names, g_get_real_time ());

  self->snapshot_pending = FALSE;
  _sonde_connection_send_control (self->connection, frame);
}

static void
refresh_cb (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(GError) error = NULL;
  KairosClient *self;

  /* Cancelled when the client went away or subscribed again: then
   * @user_data must not be touched. */
  if (!sonde_engine_refresh_finish (SONDE_ENGINE (source), result, &error) &&
      g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  self = user_data;
  g_clear_object (&self->refresh);
  if (self->snapshot_pending)
    send_snapshot_now (self);
}

/* A Snapshot at once: from the latest samples, or as soon as collectors
 * that were never sampled have been (or a tick came first). */
static void
send_first_snapshot (KairosClient *self)
{
  SondeEngine *engine = sonde_server_get_engine (self->server);
  SondeFilter *filter = _sonde_hub_group_get_filter (self->group);
  g_autoptr(GPtrArray) collectors = sonde_engine_list_collectors (engine);
  g_autoptr(GStrvBuilder) unsampled = g_strv_builder_new ();
  g_auto(GStrv) names = NULL;

  if (self->refresh != NULL)
    {
      g_cancellable_cancel (self->refresh);
      g_clear_object (&self->refresh);
    }

  self->snapshot_pending = TRUE;

  for (guint i = 0; i < collectors->len; i++)
    {
      const char *name = sonde_collector_get_name (g_ptr_array_index (collectors, i));

      if (_sonde_filter_wants_collector (filter, name) && sonde_engine_get_latest (engine, name) == NULL)
        g_strv_builder_add (unsampled, name);
    }

  names = g_strv_builder_end (unsampled);
  if (names[0] == NULL)
    {
      send_snapshot_now (self);
      return;
    }

  self->refresh = g_cancellable_new ();
  sonde_engine_refresh_async (engine, (const char * const *) names, self->refresh, refresh_cb, self);
}

static GBytes *
encode_time_series (SondeHistory *history,
                    const char   *requested,
                    const char   *metric,
                    guint         seconds)
{
  g_autoptr(JsonObject) frame = json_object_new ();
  g_autoptr(GArray) timestamps = NULL;
  g_autoptr(GArray) values = NULL;
  JsonArray *points;
  guint n_points;

  n_points = sonde_history_get_points (history, metric, seconds, &timestamps, &values);
  points = json_array_sized_new (n_points);
  for (guint i = 0; i < n_points; i++)
    {
      JsonObject *point = json_object_new ();
      g_autofree char *timestamp =
        format_kairos_timestamp (g_array_index (timestamps, gint64, i) * 1000);

      json_object_set_string_member (point, "timestamp", timestamp);
      json_object_set_double_member (point, "value", g_array_index (values, double, i));
      json_array_add_object_element (points, point);
    }

  json_object_set_string_member (frame, "type", "TimeSeries");
  json_object_set_string_member (frame, "metric_name", requested);
  json_object_set_array_member (frame, "data_points", points);
  return _sonde_json_object_to_bytes (frame);
}

static gboolean
is_numeric_metric (SondeEngine *engine,
                   const char  *name)
{
  SondeMetric *metric = sonde_engine_lookup_metric (engine, name);

  if (metric == NULL)
    return FALSE;

  switch (sonde_metric_get_kind (metric))
    {
    case SONDE_METRIC_KIND_GAUGE:
    case SONDE_METRIC_KIND_COUNTER:
    case SONDE_METRIC_KIND_RATE:
      return TRUE;
    default:
      return FALSE;
    }
}

/* Sends one series; the first of a batch goes as a stream frame, so that
 * a client that does not read gets no more history queued for it. */
static gboolean
send_series (KairosClient *self,
             SondeHistory *history,
             const char   *requested,
             const char   *metric,
             guint         seconds,
             gboolean      first)
{
  g_autoptr(GBytes) frame = encode_time_series (history, requested, metric, seconds);

  if (first)
    return _sonde_connection_send_stream (self->connection, frame);

  _sonde_connection_send_control (self->connection, frame);
  return TRUE;
}

/* One TimeSeries per numeric metric of the subscription, named as asked
 * for; a pattern's metrics by their full names. */
static void
send_history (KairosClient       *self,
              KairosSubscription *sub)
{
  SondeEngine *engine = sonde_server_get_engine (self->server);
  SondeHistory *history = sonde_engine_get_history (engine);
  g_autoptr(GPtrArray) metrics = NULL;
  gboolean first = TRUE;
  guint seconds;

  if (history == NULL)
    {
      send_error (self, "History is not available");
      return;
    }

  seconds = MIN (KAIROS_HISTORY_SECONDS, sonde_history_get_length (history));
  metrics = sonde_engine_list_metrics (engine);

  for (guint i = 0; sub->names[i] != NULL; i++)
    {
      const char *name = sub->names[i];
      const char *field = kairos_field (name);
      NativePattern pattern;

      if (field != NULL)
        {
          g_autofree char *metric = g_strconcat ("gateway.", field, NULL);

          if (!send_series (self, history, name, metric, seconds, first))
            return;
          first = FALSE;
          continue;
        }

      native_pattern_init (&pattern, name);
      if (native_pattern_is_exact (&pattern))
        {
          if (sonde_history_has_metric (history, name) || is_numeric_metric (engine, name))
            {
              if (!send_series (self, history, name, name, seconds, first))
                {
                  native_pattern_clear (&pattern);
                  return;
                }
              first = FALSE;
            }
        }
      else
        {
          for (guint j = 0; j < metrics->len; j++)
            {
              SondeMetric *metric = g_ptr_array_index (metrics, j);
              const char *full = sonde_metric_get_name (metric);

              if (!native_pattern_matches (&pattern, sonde_metric_get_collector (metric),
                                           sonde_metric_get_field (metric)) ||
                  !sonde_history_has_metric (history, full))
                continue;

              if (!send_series (self, history, full, full, seconds, first))
                {
                  native_pattern_clear (&pattern);
                  return;
                }
              first = FALSE;
            }
        }
      native_pattern_clear (&pattern);
    }
}

/* Joins the subscription's group, then leaves the previous one: a client
 * that subscribes to what it had keeps its group and its samples. */
static void
subscribe (KairosClient       *self,
           KairosSubscription *sub)
{
  SondeHub *hub = _sonde_server_get_hub (self->server);
  SondeHubGroup *previous = self->group;

  self->group = _sonde_hub_join (hub, "kairos", sub->id, g_steal_pointer (&sub->filter),
                                 sub->interval_seconds * 1000, kairos_encode, kairos_send_cb, self);
  if (previous != NULL)
    _sonde_hub_leave (hub, previous, self);

  if (sub->include_history)
    send_history (self, sub);

  send_first_snapshot (self);
}

static void
kairos_message (gpointer               owner,
                SoupWebsocketDataType  type,
                GBytes                *bytes)
{
  KairosClient *self = owner;
  KairosSubscription sub = { NULL, NULL, NULL, 0, FALSE };
  g_autofree char *error = NULL;
  const char *text;
  gsize length;

  if (type != SOUP_WEBSOCKET_DATA_TEXT)
    {
      send_error (self, "Invalid subscription: binary messages are not supported; send JSON text");
      return;
    }

  text = g_bytes_get_data (bytes, &length);
  if (length > SONDE_MAX_CLIENT_MESSAGE)
    {
      g_autofree char *message =
        g_strdup_printf ("Invalid subscription: message of %" G_GSIZE_FORMAT " bytes exceeds the limit of %d bytes",
                         length, SONDE_MAX_CLIENT_MESSAGE);
      send_error (self, message);
      return;
    }

  /* A bad message changes nothing: the previous subscription stays. */
  error = parse_subscription (self, text, length, &sub);
  if (error != NULL)
    send_error (self, error);
  else
    subscribe (self, &sub);

  kairos_subscription_clear (&sub);
}

static void
kairos_rate_limited (gpointer owner)
{
  send_error (owner, "Rate limit exceeded: too many messages");
}

static GBytes *
kairos_heartbeat (gpointer owner)
{
  g_autoptr(JsonObject) frame = json_object_new ();
  g_autofree char *timestamp = format_kairos_timestamp (g_get_real_time ());

  json_object_set_string_member (frame, "type", "Heartbeat");
  json_object_set_string_member (frame, "timestamp", timestamp);
  return _sonde_json_object_to_bytes (frame);
}

static void
kairos_closed (gpointer owner)
{
  KairosClient *self = owner;

  _sonde_server_client_closed (self->server, self);
}

static const SondeConnectionCallbacks kairos_callbacks = {
  .message = kairos_message,
  .rate_limited = kairos_rate_limited,
  .heartbeat = kairos_heartbeat,
  .closed = kairos_closed,
};

static gpointer
kairos_accept (SondeServer             *server,
               SoupWebsocketConnection *websocket,
               const char              *route,
               GHashTable              *query)
{
  SondeEngine *engine = sonde_server_get_engine (server);
  KairosClient *self = g_new0 (KairosClient, 1);
  KairosSubscription sub = { NULL, NULL, NULL, 0, FALSE };
  g_autofree char *error = NULL;

  self->server = server;
  self->connection = _sonde_connection_new (server, websocket, route, &kairos_callbacks, self);

  /* All six kairos metrics at 1 s; they always resolve. */
  sub.names = g_strdupv ((char **) kairos_metrics);
  sub.interval_seconds = default_interval (server);
  error = resolve_names (engine, &sub);
  g_assert (error == NULL);

  subscribe (self, &sub);
  kairos_subscription_clear (&sub);
  return self;
}

static void
kairos_free (gpointer client)
{
  KairosClient *self = client;

  if (self->refresh != NULL)
    {
      g_cancellable_cancel (self->refresh);
      g_clear_object (&self->refresh);
    }

  _sonde_hub_leave (_sonde_server_get_hub (self->server), self->group, self);
  _sonde_connection_free (self->connection);
  g_free (self);
}

static const SondeDialect kairos_dialect = {
  .name = "kairos",
  .accept = kairos_accept,
  .free = kairos_free,
};

void
_sonde_kairos_register (SondeServer *server,
                        SoupServer  *soup_server,
                        const char  *path)
{
  _sonde_server_add_websocket_route (server, soup_server, path, &kairos_dialect);
}
