/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <math.h>
#include <string.h>

#include "sonde-engine-private.h"
#include "sonde-json-private.h"
#include "sonde-prometheus-private.h"
#include "sonde-server-private.h"

/*
 * GET /metrics for Prometheus.
 *
 * Naming: `sonde_<collector>_<field>` in base units. A unit the catalog
 * states is spelled once, as a suffix (`_bytes`, `_seconds`, `_hertz`,
 * `_percent`, `_per_second` for rates), replacing the field's own
 * spelling of it (`frequency_mhz` becomes `frequency_hertz`, times 1e6).
 * Percentages stay percentages (0-100 `_percent` gauges), as everywhere
 * else in Sonde. Counters end in `_total` (once: `requests_total` stays,
 * `total_rx_bytes` becomes `rx_bytes_total`); rates computed by the
 * collectors are gauges. Instances are labels on a family named after the
 * table (`sonde_disk_partition_used_bytes{mountpoint,device,fstype}`), and
 * text fields are the labels of one `sonde_<collector>_info` series.
 *
 * Every family is written once with all its samples together, whatever
 * the number of sources: samples are gathered per family first, and a
 * name that would clash with another family (in either format) is
 * dropped rather than written twice.
 */

/* A generic table (a collector this file knows nothing about) exports at
 * most this many rows: a table is bounded by its collector, but a bug
 * there must not explode the scraper's series. */
#define GENERIC_TABLE_MAX_ROWS 256

/* Units ------------------------------------------------------------------ */

typedef struct
{
  const char *unit;          /* as a catalog spells it, compared without case */
  const char *suffix;        /* the base-unit suffix, or NULL for none */
  const char *om_unit;       /* OpenMetrics' # UNIT, or NULL */
  double      multiply;      /* base value = native value * multiply / divide */
  double      divide;
  const char *spellings[4];  /* field endings that already name the unit */
} UnitRule;

static const UnitRule unit_rules[] = {
  { "bytes",   "_bytes",   "bytes",   1,          1,    { "_bytes", NULL } },
  { "B",       "_bytes",   "bytes",   1,          1,    { "_bytes", NULL } },
  { "KiB",     "_bytes",   "bytes",   1024,       1,    { "_kib", "_kb", NULL } },
  { "MiB",     "_bytes",   "bytes",   1048576,    1,    { "_mib", "_mb", NULL } },
  { "seconds", "_seconds", "seconds", 1,          1,    { "_seconds", "_secs", "_sec", NULL } },
  { "s",       "_seconds", "seconds", 1,          1,    { "_seconds", "_secs", "_sec", NULL } },
  { "ms",      "_seconds", "seconds", 1,          1e3,  { "_ms", "_milliseconds", "_millis", NULL } },
  { "us",      "_seconds", "seconds", 1,          1e6,  { "_us", "_microseconds", NULL } },
  { "Hz",      "_hertz",   "hertz",   1,          1,    { "_hz", "_hertz", NULL } },
  { "kHz",     "_hertz",   "hertz",   1e3,        1,    { "_khz", NULL } },
  { "MHz",     "_hertz",   "hertz",   1e6,        1,    { "_mhz", NULL } },
  { "GHz",     "_hertz",   "hertz",   1e9,        1,    { "_ghz", NULL } },
  { "percent", "_percent", NULL,      1,          1,    { "_percent", "_pct", NULL } },
  { "%",       "_percent", NULL,      1,          1,    { "_percent", "_pct", NULL } },
  { "count",   NULL,       NULL,      1,          1,    { NULL } },
  { "",        NULL,       NULL,      1,          1,    { NULL } },
};

static const UnitRule *
find_unit_rule (const char *unit)
{
  for (guint i = 0; i < G_N_ELEMENTS (unit_rules); i++)
    {
      /* "ms" and "MS" differ by a factor of 1e9, but nobody means megaseconds. */
      if (g_ascii_strcasecmp (unit_rules[i].unit, unit) == 0)
        return &unit_rules[i];
    }
  return NULL;
}

static gboolean
strip_suffix (GString    *stem,
              const char *suffix)
{
  gsize length = strlen (suffix);

  if (stem->len > length && g_str_has_suffix (stem->str, suffix))
    {
      g_string_truncate (stem, stem->len - length);
      return TRUE;
    }
  /* The whole field is the unit ("bytes"): the stem is then empty. */
  if (suffix[0] == '_' && g_str_equal (stem->str, suffix + 1))
    {
      g_string_truncate (stem, 0);
      return TRUE;
    }
  return FALSE;
}

/* Letters, digits and underscores; anything else becomes an underscore. */
static void
append_sanitized (GString    *out,
                  const char *text)
{
  for (const char *p = text; *p != '\0'; p++)
    g_string_append_c (out, g_ascii_isalnum (*p) ? *p : '_');
}

typedef enum
{
  FAMILY_GAUGE,
  FAMILY_COUNTER,
  FAMILY_INFO,
} FamilyType;

/* How one numeric value is exported: its sample name, its family name in
 * OpenMetrics (without `_total`), and the factor to its base unit. */
typedef struct
{
  GString    *name;
  GString    *om_name;
  FamilyType  type;
  const char *om_unit;
  double      multiply;
  double      divide;
  char       *unit_note;   /* a unit this file does not know, for the HELP */
} ExportName;

static void
export_name_clear (ExportName *export)
{
  g_string_free (export->name, TRUE);
  g_string_free (export->om_name, TRUE);
  g_free (export->unit_note);
}

/* @prefix is "sonde_<collector>" or "sonde_<collector>_<table>". */
static void
export_name_init (ExportName      *export,
                  const char      *prefix,
                  const char      *field,
                  const char      *unit,
                  SondeMetricKind  kind)
{
  g_autoptr(GString) stem = g_string_new (NULL);
  g_autofree char *base_unit = NULL;
  const UnitRule *rule;
  gboolean per_second = FALSE;

  append_sanitized (stem, field);
  unit = unit ? unit : "";

  memset (export, 0, sizeof *export);
  export->type = kind == SONDE_METRIC_KIND_COUNTER ? FAMILY_COUNTER : FAMILY_GAUGE;
  export->multiply = export->divide = 1;

  /* `_total` is the counter's suffix, and said once. */
  if (export->type == FAMILY_COUNTER)
    {
      strip_suffix (stem, "_total");
      if (g_str_has_prefix (stem->str, "total_") && stem->len > strlen ("total_"))
        g_string_erase (stem, 0, strlen ("total_"));
    }

  /* "bytes/s", "/s": a rate, in the base unit per second. */
  if (g_str_has_suffix (unit, "/s") || g_str_has_suffix (unit, "/sec"))
    {
      per_second = TRUE;
      base_unit = g_strndup (unit, strrchr (unit, '/') - unit);
      if (!strip_suffix (stem, "_per_second") && !strip_suffix (stem, "_per_sec"))
        strip_suffix (stem, "_per_s");
    }
  else
    base_unit = g_strdup (unit);

  rule = find_unit_rule (base_unit);
  if (rule == NULL && per_second && g_str_equal (base_unit, "1"))
    rule = find_unit_rule ("");
  if (rule != NULL)
    {
      export->multiply = rule->multiply;
      export->divide = rule->divide;
      if (rule->suffix != NULL)
        {
          for (guint i = 0; rule->spellings[i] != NULL; i++)
            if (strip_suffix (stem, rule->spellings[i]))
              break;
          g_string_append (stem, rule->suffix);
        }
      if (!per_second)
        export->om_unit = rule->om_unit;
    }
  else
    export->unit_note = g_strdup (unit);

  if (per_second)
    g_string_append (stem, "_per_second");

  export->om_name = g_string_new (prefix);
  if (stem->len > 0 && stem->str[0] != '_')
    g_string_append_c (export->om_name, '_');
  g_string_append_len (export->om_name, stem->str, stem->len);

  /* Suffixes that mean another type (promtool's lint, OpenMetrics'
   * reserved sample names) are dropped from the family name, a table's
   * prefix included: `processes.count` is `sonde_processes`. */
  for (gboolean stripped = TRUE; stripped; )
    {
      static const char * const reserved[] = { "_total", "_count", "_sum", "_bucket", "_created", "_info" };

      stripped = FALSE;
      for (guint i = 0; i < G_N_ELEMENTS (reserved) && !stripped; i++)
        stripped = strip_suffix (export->om_name, reserved[i]);
    }

  export->name = g_string_new (export->om_name->str);
  if (export->type == FAMILY_COUNTER)
    g_string_append (export->name, "_total");
}

/* Tables the collectors report, and how their rows become series ---------- */

typedef enum
{
  SHAPE_OBJECTS,   /* [{label: "...", value: 1}, ...] */
  SHAPE_NUMBERS,   /* [1, 2, ...]: the index is the label */
  SHAPE_MAP,       /* {"key": 1, ...}: the key is the label */
} TableShape;

typedef struct
{
  const char      *member;   /* the row's member, or NULL for the row itself */
  const char      *field;    /* the name given to it, if not the member's */
  const char      *unit;
  SondeMetricKind  kind;
  const char      *help;
} TableColumn;

typedef struct
{
  const char *member;
  const char *label;
} TableLabel;

typedef struct
{
  const char  *collector;
  const char  *field;
  const char  *prefix;      /* after "sonde_<collector>_" */
  TableShape   shape;
  const char  *key_label;   /* SHAPE_NUMBERS and SHAPE_MAP */
  TableLabel   labels[4];
  TableColumn  columns[8];
} TableSchema;

/* DESIGN.md's tables. Only what the collectors report is exported: the
 * processes are their top lists, never every process. */
static const TableSchema table_schemas[] = {
  { "cpu", "per_core_percent", "core", SHAPE_NUMBERS, "cpu", { { NULL } },
    { { NULL, "usage", "percent", SONDE_METRIC_KIND_GAUGE,
        "Busy time of each online logical CPU; cpu is its index among the online CPUs" } } },
  { "disk", "partitions", "partition", SHAPE_OBJECTS, NULL,
    { { "mount", "mountpoint" }, { "device", "device" }, { "fs_type", "fstype" } },
    { { "total_bytes", NULL, "bytes", SONDE_METRIC_KIND_GAUGE, "Size of the filesystem" },
      { "used_bytes", NULL, "bytes", SONDE_METRIC_KIND_GAUGE, "Space in use on the filesystem" },
      { "free_bytes", NULL, "bytes", SONDE_METRIC_KIND_GAUGE,
        "Space available to unprivileged users on the filesystem" },
      { "usage_percent", NULL, "percent", SONDE_METRIC_KIND_GAUGE,
        "Used space of the filesystem, of the space usable by non-root users" } } },
  { "disk", "devices", "device", SHAPE_OBJECTS, NULL, { { "name", "device" } },
    { { "read_bytes_per_sec", NULL, "bytes/s", SONDE_METRIC_KIND_RATE, "Bytes read per second from the disk" },
      { "write_bytes_per_sec", NULL, "bytes/s", SONDE_METRIC_KIND_RATE, "Bytes written per second to the disk" },
      { "reads_per_sec", NULL, "/s", SONDE_METRIC_KIND_RATE, "Reads completed per second on the disk" },
      { "writes_per_sec", NULL, "/s", SONDE_METRIC_KIND_RATE, "Writes completed per second on the disk" } } },
  { "network", "interfaces", "interface", SHAPE_OBJECTS, NULL, { { "name", "interface" } },
    { { "rx_bytes", NULL, "bytes", SONDE_METRIC_KIND_COUNTER, "Bytes received by the interface" },
      { "tx_bytes", NULL, "bytes", SONDE_METRIC_KIND_COUNTER, "Bytes sent by the interface" },
      { "rx_bytes_per_sec", NULL, "bytes/s", SONDE_METRIC_KIND_RATE, "Bytes received per second by the interface" },
      { "tx_bytes_per_sec", NULL, "bytes/s", SONDE_METRIC_KIND_RATE, "Bytes sent per second by the interface" },
      { "rx_packets", NULL, "count", SONDE_METRIC_KIND_COUNTER, "Packets received by the interface" },
      { "tx_packets", NULL, "count", SONDE_METRIC_KIND_COUNTER, "Packets sent by the interface" } } },
  { "processes", "top_cpu", "top_cpu", SHAPE_OBJECTS, NULL, { { "pid", "pid" }, { "name", "name" } },
    { { "cpu_percent", "usage", "percent", SONDE_METRIC_KIND_GAUGE,
        "CPU use since the previous sample of the processes using the most (100 = one full core)" } } },
  { "processes", "top_memory", "top_memory", SHAPE_OBJECTS, NULL, { { "pid", "pid" }, { "name", "name" } },
    { { "memory_percent", "usage", "percent", SONDE_METRIC_KIND_GAUGE,
        "Resident memory, as a share of RAM, of the processes using the most" },
      { "rss_bytes", NULL, "bytes", SONDE_METRIC_KIND_GAUGE,
        "Resident memory of the processes using the most" } } },
  { "gateway", "clients_by_route", "route", SHAPE_MAP, "route", { { NULL } },
    { { NULL, "clients", "count", SONDE_METRIC_KIND_GAUGE, "Open WebSocket connections per route" } } },
  { "logs", "files", "file", SHAPE_OBJECTS, NULL, { { "path", "path" } },
    { { "size_bytes", NULL, "bytes", SONDE_METRIC_KIND_GAUGE, "Size of the followed log file" },
      { "lines_total", NULL, "count", SONDE_METRIC_KIND_COUNTER,
        "Lines of the log file reported since following began" } } },
};

static const TableSchema *
find_table_schema (const char *collector,
                   const char *field)
{
  for (guint i = 0; i < G_N_ELEMENTS (table_schemas); i++)
    if (g_str_equal (table_schemas[i].collector, collector) && g_str_equal (table_schemas[i].field, field))
      return &table_schemas[i];
  return NULL;
}

/* Families --------------------------------------------------------------- */

typedef struct
{
  char       *name;       /* the name of its samples */
  char       *om_name;    /* its name in OpenMetrics */
  FamilyType  type;
  char       *help;
  const char *om_unit;
  GString    *samples;
  GHashTable *series;     /* name{labels} already written */
} Family;

static void
family_free (gpointer data)
{
  Family *family = data;

  g_free (family->name);
  g_free (family->om_name);
  g_free (family->help);
  g_string_free (family->samples, TRUE);
  g_hash_table_unref (family->series);
  g_free (family);
}

typedef struct
{
  GPtrArray  *families;   /* in order of first appearance */
  GHashTable *names;      /* every sample and OpenMetrics family name -> Family */
  const char *host;       /* the current source's host label, or NULL */
} Encoder;

/* The family @name, created on first use; NULL when the name, in either
 * format, belongs to a family of another type or shape: those samples are
 * dropped rather than break the exposition. */
static Family *
encoder_family (Encoder    *encoder,
                const char *name,
                const char *om_name,
                FamilyType  type,
                const char *help,
                const char *om_unit)
{
  Family *family = g_hash_table_lookup (encoder->names, name);

  if (family != NULL)
    return family->type == type && g_str_equal (family->om_name, om_name) ? family : NULL;
  if (g_hash_table_contains (encoder->names, om_name))
    return NULL;

  family = g_new0 (Family, 1);
  family->name = g_strdup (name);
  family->om_name = g_strdup (om_name);
  family->type = type;
  family->help = g_utf8_make_valid (help ? help : "", -1);
  family->om_unit = om_unit;
  family->samples = g_string_new (NULL);
  family->series = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  g_ptr_array_add (encoder->families, family);
  g_hash_table_insert (encoder->names, family->name, family);
  if (!g_str_equal (name, om_name))
    g_hash_table_insert (encoder->names, family->om_name, family);
  return family;
}

/* Label sets ------------------------------------------------------------- */

typedef struct
{
  GString   *text;    /* `a="1",b="2"`, without braces */
  GPtrArray *names;   /* to refuse a second label of the same name */
} Labels;

static void labels_add (Labels     *labels,
                        const char *name,
                        const char *value);

/* Every series of a source with a host carries its `host` label first. */
static void
labels_init (Labels  *labels,
             Encoder *encoder)
{
  labels->text = g_string_new (NULL);
  labels->names = g_ptr_array_new_with_free_func (g_free);
  if (encoder->host != NULL)
    labels_add (labels, "host", encoder->host);
}

static void
labels_clear (Labels *labels)
{
  g_string_free (labels->text, TRUE);
  g_ptr_array_unref (labels->names);
}

static void
append_label_value (GString    *out,
                    const char *value)
{
  g_autofree char *valid = g_utf8_make_valid (value, -1);

  for (const char *p = valid; *p != '\0'; p++)
    {
      switch (*p)
        {
        case '\\': g_string_append (out, "\\\\"); break;
        case '"':  g_string_append (out, "\\\""); break;
        case '\n': g_string_append (out, "\\n"); break;
        default:   g_string_append_c (out, *p); break;
        }
    }
}

/* @name is sanitised into a valid label name: `[a-zA-Z_][a-zA-Z0-9_]*`,
 * not starting with the reserved `__`. A name taken already (the host
 * label, or two members that sanitise alike) gets `exported_` before it,
 * as Prometheus itself does; after that it is dropped. */
static void
labels_add (Labels     *labels,
            const char *name,
            const char *value)
{
  g_autoptr(GString) label = g_string_new (NULL);

  append_sanitized (label, name);
  if (label->len == 0 || g_ascii_isdigit (label->str[0]) || g_str_has_prefix (label->str, "__"))
    g_string_prepend (label, "label_");

  for (guint i = 0; i < labels->names->len; i++)
    if (g_str_equal (g_ptr_array_index (labels->names, i), label->str))
      {
        if (g_str_has_prefix (label->str, "exported_"))
          return;
        g_string_prepend (label, "exported_");
        i = (guint) -1;
      }

  if (labels->text->len > 0)
    g_string_append_c (labels->text, ',');
  g_string_append_printf (labels->text, "%s=\"", label->str);
  append_label_value (labels->text, value);
  g_string_append_c (labels->text, '"');
  g_ptr_array_add (labels->names, g_string_free (g_steal_pointer (&label), FALSE));
}

/* A label value from a JSON scalar: strings as they are, numbers in full. */
static char *
node_to_label_value (JsonNode *node)
{
  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node))
    return g_strdup ("");

  switch (json_node_get_value_type (node))
    {
    case G_TYPE_STRING:
      return g_strdup (json_node_get_string (node));
    case G_TYPE_INT64:
      return g_strdup_printf ("%" G_GINT64_FORMAT, json_node_get_int (node));
    case G_TYPE_BOOLEAN:
      return g_strdup (json_node_get_boolean (node) ? "true" : "false");
    case G_TYPE_DOUBLE:
      {
        GString *out = g_string_new (NULL);
        _sonde_append_double (out, json_node_get_double (node));
        return g_string_free (out, FALSE);
      }
    default:
      return g_strdup ("");
    }
}

/* Samples ---------------------------------------------------------------- */

static gboolean
is_number_node (JsonNode *node)
{
  GType type;

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node))
    return FALSE;
  type = json_node_get_value_type (node);
  return type == G_TYPE_INT64 || type == G_TYPE_DOUBLE || type == G_TYPE_BOOLEAN;
}

/* Writes @node's value in the base unit; FALSE for what is no sample:
 * not a number, NaN, or a counter that is negative or infinite. */
static gboolean
append_value (GString  *out,
              JsonNode *node,
              double    multiply,
              double    divide,
              gboolean  counter)
{
  double value;

  if (!is_number_node (node))
    return FALSE;

  switch (json_node_get_value_type (node))
    {
    case G_TYPE_INT64:
      {
        gint64 integer = json_node_get_int (node);

        if (counter && integer < 0)
          return FALSE;
        /* Exactly, as the kernel reported it: a double would round
         * counters above 2^53. */
        if (multiply == 1 && divide == 1)
          {
            g_string_append_printf (out, "%" G_GINT64_FORMAT, integer);
            return TRUE;
          }
        value = (double) integer;
      }
      break;
    case G_TYPE_BOOLEAN:
      value = json_node_get_boolean (node) ? 1 : 0;
      break;
    default:
      value = json_node_get_double (node);
      break;
    }

  value = value * multiply / divide;
  if (isnan (value) || (counter && (value < 0 || isinf (value))))
    return FALSE;

  if (isinf (value))
    g_string_append (out, value > 0 ? "+Inf" : "-Inf");
  else
    _sonde_append_double (out, value);
  return TRUE;
}

/* Adds one sample; a series (name and labels) seen already in its family
 * is dropped, so that a collector listing an instance twice cannot make
 * the scrape fail. */
static void
family_add (Family   *family,
            Labels   *labels,
            JsonNode *node,
            double    multiply,
            double    divide)
{
  g_autoptr(GString) value = g_string_new (NULL);
  g_autoptr(GString) series = NULL;

  if (!append_value (value, node, multiply, divide, family->type == FAMILY_COUNTER))
    return;

  series = g_string_new (family->name);
  if (labels->text->len > 0)
    g_string_append_printf (series, "{%s}", labels->text->str);

  /* g_hash_table_add() is FALSE for a key it had already. */
  if (!g_hash_table_add (family->series, g_strdup (series->str)))
    return;

  g_string_append_printf (family->samples, "%s %s\n", series->str, value->str);
}

/* One of the exporter's own gauges; @node is taken. */
static void
add_gauge (Encoder    *encoder,
           const char *name,
           const char *help,
           Labels     *labels,
           JsonNode   *node)
{
  g_autoptr(JsonNode) value = node;
  Family *family = encoder_family (encoder, name, name, FAMILY_GAUGE, help, NULL);

  if (family != NULL)
    family_add (family, labels, value, 1, 1);
}

/* One numeric value of the catalog, or of a table's column. */
static void
export_value (Encoder         *encoder,
              const char      *prefix,
              const char      *field,
              const char      *unit,
              SondeMetricKind  kind,
              const char      *description,
              Labels          *labels,
              JsonNode        *node)
{
  ExportName export;
  g_autofree char *help = NULL;
  Family *family;

  if (!is_number_node (node))
    return;

  export_name_init (&export, prefix, field, unit, kind);
  help = export.unit_note != NULL && *export.unit_note != '\0'
           ? g_strdup_printf ("%s (%s)", description, export.unit_note)
           : g_strdup (description);
  family = encoder_family (encoder, export.name->str, export.om_name->str, export.type,
                           help, export.om_unit);
  if (family != NULL)
    family_add (family, labels, node, export.multiply, export.divide);
  export_name_clear (&export);
}

/* Tables ----------------------------------------------------------------- */

static void
encode_known_table (Encoder           *encoder,
                    const char        *collector_prefix,
                    const TableSchema *schema,
                    JsonNode          *node)
{
  g_autofree char *prefix = g_strdup_printf ("%s_%s", collector_prefix, schema->prefix);

  if (schema->shape == SHAPE_OBJECTS && JSON_NODE_HOLDS_ARRAY (node))
    {
      JsonArray *rows = json_node_get_array (node);

      for (guint c = 0; c < G_N_ELEMENTS (schema->columns) && schema->columns[c].member != NULL; c++)
        {
          const TableColumn *column = &schema->columns[c];

          for (guint r = 0; r < json_array_get_length (rows); r++)
            {
              JsonNode *row_node = json_array_get_element (rows, r);
              JsonObject *row;
              Labels labels;

              if (!JSON_NODE_HOLDS_OBJECT (row_node))
                continue;
              row = json_node_get_object (row_node);

              labels_init (&labels, encoder);
              for (guint l = 0; l < G_N_ELEMENTS (schema->labels) && schema->labels[l].member != NULL; l++)
                {
                  g_autofree char *value =
                    node_to_label_value (json_object_get_member (row, schema->labels[l].member));
                  labels_add (&labels, schema->labels[l].label, value);
                }
              export_value (encoder, prefix, column->field ? column->field : column->member,
                            column->unit, column->kind, column->help, &labels,
                            json_object_get_member (row, column->member));
              labels_clear (&labels);
            }
        }
    }
  else if (schema->shape == SHAPE_NUMBERS && JSON_NODE_HOLDS_ARRAY (node))
    {
      JsonArray *values = json_node_get_array (node);
      const TableColumn *column = &schema->columns[0];

      for (guint i = 0; i < json_array_get_length (values); i++)
        {
          g_autofree char *index = g_strdup_printf ("%u", i);
          Labels labels;

          labels_init (&labels, encoder);
          labels_add (&labels, schema->key_label, index);
          export_value (encoder, prefix, column->field, column->unit, column->kind, column->help,
                        &labels, json_array_get_element (values, i));
          labels_clear (&labels);
        }
    }
  else if (schema->shape == SHAPE_MAP && JSON_NODE_HOLDS_OBJECT (node))
    {
      JsonObject *map = json_node_get_object (node);
      const TableColumn *column = &schema->columns[0];
      JsonObjectIter iter;
      const char *key;
      JsonNode *value;

      json_object_iter_init_ordered (&iter, map);
      while (json_object_iter_next_ordered (&iter, &key, &value))
        {
          Labels labels;

          labels_init (&labels, encoder);
          labels_add (&labels, schema->key_label, key);
          export_value (encoder, prefix, column->field, column->unit, column->kind, column->help,
                        &labels, value);
          labels_clear (&labels);
        }
    }
}

/* A table of a collector not in table_schemas (a Python collector, say):
 * a list of numbers gets an `index` label, a map of numbers a `key`
 * label; in a list of objects the text members are labels and each
 * numeric member a gauge `sonde_<collector>_<field>_<member>`. */
static void
encode_generic_table (Encoder     *encoder,
                      const char  *collector_prefix,
                      SondeMetric *metric,
                      JsonNode    *node)
{
  const char *field = sonde_metric_get_field (metric);
  const char *description = sonde_metric_get_description (metric);
  g_autoptr(GString) prefix = g_string_new (collector_prefix);

  if (JSON_NODE_HOLDS_ARRAY (node))
    {
      JsonArray *rows = json_node_get_array (node);
      guint n_rows = MIN (json_array_get_length (rows), GENERIC_TABLE_MAX_ROWS);

      for (guint r = 0; r < n_rows; r++)
        {
          JsonNode *row_node = json_array_get_element (rows, r);
          Labels labels;

          labels_init (&labels, encoder);
          if (is_number_node (row_node))
            {
              g_autofree char *index = g_strdup_printf ("%u", r);

              labels_add (&labels, "index", index);
              export_value (encoder, prefix->str, field, sonde_metric_get_unit (metric),
                            SONDE_METRIC_KIND_GAUGE, description, &labels, row_node);
            }
          else if (JSON_NODE_HOLDS_OBJECT (row_node))
            {
              JsonObject *row = json_node_get_object (row_node);
              g_autoptr(GString) member_prefix = g_string_new (prefix->str);
              JsonObjectIter iter;
              const char *member;
              JsonNode *value;

              g_string_append_c (member_prefix, '_');
              append_sanitized (member_prefix, field);

              json_object_iter_init_ordered (&iter, row);
              while (json_object_iter_next_ordered (&iter, &member, &value))
                if (JSON_NODE_HOLDS_VALUE (value) &&
                    json_node_get_value_type (value) == G_TYPE_STRING)
                  labels_add (&labels, member, json_node_get_string (value));

              json_object_iter_init_ordered (&iter, row);
              while (json_object_iter_next_ordered (&iter, &member, &value))
                {
                  g_autofree char *help = NULL;

                  if (!is_number_node (value))
                    continue;
                  help = g_strdup_printf ("%s (%s)", description, member);
                  export_value (encoder, member_prefix->str, member, "", SONDE_METRIC_KIND_GAUGE,
                                help, &labels, value);
                }
            }
          labels_clear (&labels);
        }
    }
  else if (JSON_NODE_HOLDS_OBJECT (node))
    {
      JsonObjectIter iter;
      const char *key;
      JsonNode *value;
      guint n = 0;

      json_object_iter_init_ordered (&iter, json_node_get_object (node));
      while (n++ < GENERIC_TABLE_MAX_ROWS && json_object_iter_next_ordered (&iter, &key, &value))
        {
          Labels labels;

          labels_init (&labels, encoder);
          labels_add (&labels, "key", key);
          export_value (encoder, prefix->str, field, sonde_metric_get_unit (metric),
                        SONDE_METRIC_KIND_GAUGE, description, &labels, value);
          labels_clear (&labels);
        }
    }
}

/* Collectors ------------------------------------------------------------- */

static void
encode_collector (Encoder                        *encoder,
                  const SondePrometheusSource    *source,
                  const SondePrometheusCollector *collector)
{
  g_autoptr(GString) prefix = g_string_new ("sonde_");
  g_autoptr(GString) info_help = NULL;
  JsonObject *data;
  Labels health;
  Labels scalar;
  Labels info;
  guint n_info = 0;

  labels_init (&health, encoder);
  labels_add (&health, "collector", collector->name);
  add_gauge (encoder, "sonde_collector_up",
             "Whether the collector's latest sample is fresh (1) or missing, failed or late (0)",
             &health, json_node_init_int (json_node_alloc (), collector->sample != NULL && !collector->stale));
  add_gauge (encoder, "sonde_collector_stale",
             "Whether the collector's last collection failed or missed its deadline, "
             "its previous values being exported (1)",
             &health, json_node_init_int (json_node_alloc (), collector->sample != NULL && collector->stale));
  if (collector->sample != NULL)
    add_gauge (encoder, "sonde_collector_last_sample_timestamp_seconds",
               "Time of the collector's latest sample, in seconds since the epoch",
               &health, json_node_init_double (json_node_alloc (),
                                               sonde_sample_get_timestamp (collector->sample) /
                                               (double) G_USEC_PER_SEC));
  labels_clear (&health);

  if (collector->sample == NULL)
    return;

  data = sonde_sample_get_data (collector->sample);
  append_sanitized (prefix, collector->name);
  /* Scalars carry no label but the host's. */
  labels_init (&scalar, encoder);
  labels_init (&info, encoder);

  for (guint i = 0; source->metrics != NULL && i < source->metrics->len; i++)
    {
      SondeMetric *metric = g_ptr_array_index (source->metrics, i);
      const char *field = sonde_metric_get_field (metric);
      JsonNode *node;

      if (!g_str_equal (sonde_metric_get_collector (metric), collector->name))
        continue;
      node = data != NULL ? json_object_get_member (data, field) : NULL;
      if (node == NULL || JSON_NODE_HOLDS_NULL (node))
        continue;

      switch (sonde_metric_get_kind (metric))
        {
        case SONDE_METRIC_KIND_GAUGE:
        case SONDE_METRIC_KIND_COUNTER:
        case SONDE_METRIC_KIND_RATE:
          export_value (encoder, prefix->str, field, sonde_metric_get_unit (metric),
                        sonde_metric_get_kind (metric), sonde_metric_get_description (metric),
                        &scalar, node);
          break;

        case SONDE_METRIC_KIND_INFO:
          if (JSON_NODE_HOLDS_VALUE (node))
            {
              g_autofree char *value = node_to_label_value (node);

              labels_add (&info, field, value);
              if (info_help == NULL)
                info_help = g_string_new (NULL);
              else
                g_string_append (info_help, "; ");
              g_string_append_printf (info_help, "%s: %s", field, sonde_metric_get_description (metric));
              n_info++;
            }
          break;

        case SONDE_METRIC_KIND_TABLE:
          {
            const TableSchema *schema = find_table_schema (collector->name, field);

            if (schema != NULL)
              encode_known_table (encoder, prefix->str, schema, node);
            else
              encode_generic_table (encoder, prefix->str, metric, node);
          }
          break;

        default:
          break;
        }
    }

  if (n_info > 0)
    {
      g_autofree char *om_name = g_strdup (prefix->str);
      g_autofree char *name = g_strconcat (prefix->str, "_info", NULL);
      g_autofree char *help = g_strdup_printf ("Text fields of the %s collector, as labels: %s",
                                               collector->name, info_help->str);
      Family *family = encoder_family (encoder, name, om_name, FAMILY_INFO, help, NULL);
      g_autoptr(JsonNode) one = json_node_init_int (json_node_alloc (), 1);

      if (family != NULL)
        family_add (family, &info, one, 1, 1);
    }
  labels_clear (&info);
  labels_clear (&scalar);
}

/* Writing ---------------------------------------------------------------- */

static void
append_help (GString              *out,
             const char           *help,
             SondePrometheusFormat format)
{
  for (const char *p = help; *p != '\0'; p++)
    {
      switch (*p)
        {
        case '\\': g_string_append (out, "\\\\"); break;
        case '\n': g_string_append (out, "\\n"); break;
        /* OpenMetrics escapes quotes in HELP too; 0.0.4 takes them as they are. */
        case '"':  g_string_append (out, format == SONDE_PROMETHEUS_FORMAT_OPENMETRICS ? "\\\"" : "\""); break;
        default:   g_string_append_c (out, *p); break;
        }
    }
}

static void
write_family (GString              *out,
              Family               *family,
              SondePrometheusFormat format)
{
  const char *name;
  const char *type;

  if (format == SONDE_PROMETHEUS_FORMAT_OPENMETRICS)
    {
      name = family->om_name;
      type = family->type == FAMILY_COUNTER ? "counter" : family->type == FAMILY_INFO ? "info" : "gauge";
    }
  else
    {
      /* 0.0.4 has no info type: an info metric is a gauge at 1. */
      name = family->name;
      type = family->type == FAMILY_COUNTER ? "counter" : "gauge";
    }

  g_string_append_printf (out, "# HELP %s ", name);
  append_help (out, family->help, format);
  g_string_append_printf (out, "\n# TYPE %s %s\n", name, type);
  if (format == SONDE_PROMETHEUS_FORMAT_OPENMETRICS && family->om_unit != NULL)
    g_string_append_printf (out, "# UNIT %s %s\n", name, family->om_unit);
  g_string_append_len (out, family->samples->str, family->samples->len);
}

/**
 * _sonde_prometheus_encode:
 * @sources: (array length=n_sources): the hosts whose samples to expose
 * @n_sources: how many
 * @format: the exposition format
 *
 * Returns: (transfer full): the exposition, UTF-8 text
 */
GBytes *
_sonde_prometheus_encode (const SondePrometheusSource *sources,
                          guint                        n_sources,
                          SondePrometheusFormat        format)
{
  Encoder encoder = { 0 };
  GString *out = g_string_sized_new (16 * 1024);

  encoder.families = g_ptr_array_new_with_free_func (family_free);
  encoder.names = g_hash_table_new (g_str_hash, g_str_equal);

  for (guint s = 0; s < n_sources; s++)
    {
      encoder.host = sources[s].host;
      for (guint c = 0; c < sources[s].n_collectors; c++)
        encode_collector (&encoder, &sources[s], &sources[s].collectors[c]);
    }

  for (guint i = 0; i < encoder.families->len; i++)
    {
      Family *family = g_ptr_array_index (encoder.families, i);

      if (family->samples->len > 0)
        write_family (out, family, format);
    }

  if (format == SONDE_PROMETHEUS_FORMAT_OPENMETRICS)
    g_string_append (out, "# EOF\n");

  g_hash_table_unref (encoder.names);
  g_ptr_array_unref (encoder.families);
  return g_string_free_to_bytes (out);
}

/* Content negotiation ---------------------------------------------------- */

/* OpenMetrics when the Accept header prefers it (Prometheus sends
 * `application/openmetrics-text;version=1.0.0,...,text/plain;version=0.0.4;q=0.5,*\/\*;q=0.1`),
 * the 0.0.4 text format otherwise, whatever else was asked: every
 * scraper reads it. */
SondePrometheusFormat
_sonde_prometheus_negotiate (const char *accept)
{
  g_auto(GStrv) ranges = NULL;
  double text_q = -1;
  double om_q = -1;

  if (accept == NULL)
    return SONDE_PROMETHEUS_FORMAT_TEXT;

  ranges = g_strsplit (accept, ",", 64);
  for (guint i = 0; ranges[i] != NULL; i++)
    {
      g_auto(GStrv) parts = g_strsplit (ranges[i], ";", 16);
      const char *type;
      const char *version = NULL;
      double q = 1;

      /* g_strsplit() gives no parts at all for an empty range. */
      if (parts[0] == NULL)
        continue;
      type = g_strstrip (parts[0]);

      for (guint j = 1; parts[j] != NULL; j++)
        {
          char *param = g_strstrip (parts[j]);
          char *equals = strchr (param, '=');
          char *value;

          if (equals == NULL)
            continue;
          *equals = '\0';
          value = g_strstrip (equals + 1);
          g_strchomp (param);
          if (*value == '"' && strlen (value) >= 2 && value[strlen (value) - 1] == '"')
            {
              value[strlen (value) - 1] = '\0';
              value++;
            }

          if (g_ascii_strcasecmp (param, "q") == 0)
            {
              char *end = NULL;

              q = g_ascii_strtod (value, &end);
              if (end == value || *end != '\0' || isnan (q))
                q = 0;
              q = CLAMP (q, 0, 1);
            }
          else if (g_ascii_strcasecmp (param, "version") == 0)
            version = value;
        }

      if (g_ascii_strcasecmp (type, "application/openmetrics-text") == 0)
        {
          if (version == NULL || g_str_equal (version, "1.0.0"))
            om_q = MAX (om_q, q);
        }
      else if (g_ascii_strcasecmp (type, "text/plain") == 0)
        {
          if (version == NULL || g_str_equal (version, "0.0.4"))
            text_q = MAX (text_q, q);
        }
      else if (g_ascii_strcasecmp (type, "text/*") == 0 || g_ascii_strcasecmp (type, "*/*") == 0)
        text_q = MAX (text_q, q);
    }

  return om_q > 0 && om_q >= text_q ? SONDE_PROMETHEUS_FORMAT_OPENMETRICS : SONDE_PROMETHEUS_FORMAT_TEXT;
}

const char *
_sonde_prometheus_content_type (SondePrometheusFormat format)
{
  if (format == SONDE_PROMETHEUS_FORMAT_OPENMETRICS)
    return "application/openmetrics-text; version=1.0.0; charset=utf-8";
  return "text/plain; version=0.0.4; charset=utf-8";
}

/* The route -------------------------------------------------------------- */

/* A scraper comes back every scrape interval (15 s to a few minutes): the
 * collectors stay sampled at 1 s this long after a scrape, so that each
 * scrape finds fresh values and rates measured over the last second
 * rather than the first sample of a collector just started (whose rates
 * are 0). The engine's own refresh linger (10 s) is shorter than most
 * scrape intervals. With history on, as sonded runs by default, the
 * collectors are held at 1 s anyway and this costs nothing. */
#define SCRAPE_HOLD_INTERVAL_MS 1000
#define SCRAPE_HOLD_SECONDS     300

typedef struct
{
  SondeEngine *engine;
  GArray      *holds;           /* guint hold ids */
  guint        release_source;
} Exporter;

#define EXPORTER_KEY "sonde-prometheus-exporter"

static void
exporter_release_holds (Exporter *exporter)
{
  for (guint i = 0; i < exporter->holds->len; i++)
    sonde_engine_release (exporter->engine, g_array_index (exporter->holds, guint, i));
  g_array_set_size (exporter->holds, 0);
}

static void
exporter_free (gpointer data)
{
  Exporter *exporter = data;

  g_clear_handle_id (&exporter->release_source, g_source_remove);
  exporter_release_holds (exporter);
  g_array_unref (exporter->holds);
  g_object_unref (exporter->engine);
  g_free (exporter);
}

static gboolean
exporter_release_cb (gpointer data)
{
  Exporter *exporter = data;

  exporter->release_source = 0;
  exporter_release_holds (exporter);
  return G_SOURCE_REMOVE;
}

/* Holds every collector, those added since the last scrape included. The
 * new holds are taken before the old ones go, so that no collector is
 * stopped in between; a hold on a collector removed meanwhile is gone
 * with it, and releasing it does nothing. */
static void
exporter_hold (Exporter *exporter)
{
  g_autoptr(GPtrArray) collectors = sonde_engine_list_collectors (exporter->engine);
  g_autoptr(GArray) old = g_steal_pointer (&exporter->holds);

  exporter->holds = g_array_new (FALSE, FALSE, sizeof (guint));
  for (guint i = 0; i < collectors->len; i++)
    {
      const char *name = sonde_collector_get_name (g_ptr_array_index (collectors, i));
      guint id = sonde_engine_hold (exporter->engine, name, SCRAPE_HOLD_INTERVAL_MS, NULL);

      if (id != 0)
        g_array_append_val (exporter->holds, id);
    }
  for (guint i = 0; i < old->len; i++)
    sonde_engine_release (exporter->engine, g_array_index (old, guint, i));

  g_clear_handle_id (&exporter->release_source, g_source_remove);
  exporter->release_source = g_timeout_add_seconds (SCRAPE_HOLD_SECONDS, exporter_release_cb, exporter);
  g_source_set_name_by_id (exporter->release_source, "[sonde] prometheus scrape hold");
}

typedef struct
{
  SoupServerMessage    *msg;
  SondePrometheusFormat format;
} Scrape;

static void
scrape_free (Scrape *scrape)
{
  g_object_unref (scrape->msg);
  g_free (scrape);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Scrape, scrape_free)

static void
scrape_refreshed_cb (GObject      *source_object,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  g_autoptr(Scrape) scrape = user_data;
  SondeEngine *engine = SONDE_ENGINE (source_object);
  g_autoptr(GPtrArray) collectors = sonde_engine_list_collectors (engine);
  g_autoptr(GPtrArray) metrics = sonde_engine_list_metrics (engine);
  g_autoptr(GArray) entries = g_array_sized_new (FALSE, TRUE, sizeof (SondePrometheusCollector),
                                                 collectors->len);
  g_autoptr(GBytes) body = NULL;
  SondePrometheusSource source = { NULL, };
  SoupMessageHeaders *headers = soup_server_message_get_response_headers (scrape->msg);

  /* A collector that failed keeps its last values, flagged stale, or has
   * none: the scrape is answered all the same. */
  sonde_engine_refresh_finish (engine, result, NULL);

  for (guint i = 0; i < collectors->len; i++)
    {
      SondePrometheusCollector entry;

      entry.name = sonde_collector_get_name (g_ptr_array_index (collectors, i));
      entry.sample = sonde_engine_get_latest (engine, entry.name);
      entry.stale = _sonde_engine_is_stale (engine, entry.name);
      g_array_append_val (entries, entry);
    }

  source.host = NULL;
  source.metrics = metrics;
  source.collectors = (const SondePrometheusCollector *) entries->data;
  source.n_collectors = entries->len;
  body = _sonde_prometheus_encode (&source, 1, scrape->format);

  soup_message_headers_replace (headers, "Cache-Control", "no-store");
  soup_message_headers_replace (headers, "Vary", "Accept");
  soup_server_message_set_status (scrape->msg, SOUP_STATUS_OK, NULL);
  soup_server_message_set_response (scrape->msg, _sonde_prometheus_content_type (scrape->format),
                                    SOUP_MEMORY_COPY, g_bytes_get_data (body, NULL),
                                    g_bytes_get_size (body));
  soup_server_message_unpause (scrape->msg);
}

/* GET /metrics */
static void
metrics_cb (SoupServer        *soup_server,
            SoupServerMessage *msg,
            const char        *path,
            GHashTable        *query,
            gpointer           user_data)
{
  SondeServer *self = user_data;
  SondeEngine *engine = sonde_server_get_engine (self);
  const char *method = soup_server_message_get_method (msg);
  SoupMessageHeaders *request_headers = soup_server_message_get_request_headers (msg);
  Exporter *exporter;
  Scrape *scrape;

  if (method != SOUP_METHOD_GET && method != SOUP_METHOD_HEAD)
    {
      soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Allow", "GET, HEAD");
      _sonde_rest_respond_error (msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "method_not_allowed",
                                 "Only GET is allowed here");
      return;
    }

  exporter = g_object_get_data (G_OBJECT (self), EXPORTER_KEY);
  if (exporter == NULL)
    {
      exporter = g_new0 (Exporter, 1);
      exporter->engine = g_object_ref (engine);
      exporter->holds = g_array_new (FALSE, FALSE, sizeof (guint));
      g_object_set_data_full (G_OBJECT (self), EXPORTER_KEY, exporter, exporter_free);
    }
  exporter_hold (exporter);

  scrape = g_new0 (Scrape, 1);
  scrape->msg = g_object_ref (msg);
  scrape->format = _sonde_prometheus_negotiate (soup_message_headers_get_one (request_headers, "Accept"));

  /* Collectors nobody samples are collected now, as for /api/v1/snapshot. */
  soup_server_message_pause (msg);
  sonde_engine_refresh_async (engine, NULL, NULL, scrape_refreshed_cb, scrape);
}

/* GET /metrics goes through the server's access checks like every route:
 * with a token set, Prometheus must send `Authorization: Bearer TOKEN`. */
void
_sonde_prometheus_register (SondeServer *self,
                            SoupServer  *soup_server)
{
  soup_server_add_handler (soup_server, "/metrics", metrics_cb, self, NULL);
  _sonde_server_guard_path (self, soup_server, "/metrics");
}
