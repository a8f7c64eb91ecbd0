/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <math.h>
#include <string.h>

#include "sonde-json-private.h"
#include "sonde-prometheus-names-private.h"
#include "sonde-prometheus-private.h"

/* The Prometheus text exposition (0.0.4) and OpenMetrics 1.0 of a set of
 * sources (sonde-prometheus-private.h), with the names of
 * sonde-prometheus-names.c. Every family is written once with all its
 * samples together, whatever the number of sources: samples are gathered
 * per family first, and a name that would clash with another family (in
 * either format) is dropped rather than written twice. */


/* A generic table (a collector this file knows nothing about) exports at
 * most this many rows: a table is bounded by its collector, but a bug
 * there must not explode the scraper's series. */
#define GENERIC_TABLE_MAX_ROWS 256

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

  _sonde_prometheus_append_sanitized (label, name);
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

  _sonde_prometheus_export_name_init (&export, prefix, field, unit, kind);
  help = export.unit_note != NULL && *export.unit_note != '\0'
           ? g_strdup_printf ("%s (%s)", description, export.unit_note)
           : g_strdup (description);
  family = encoder_family (encoder, export.name->str, export.om_name->str, export.type,
                           help, export.om_unit);
  if (family != NULL)
    family_add (family, labels, node, export.multiply, export.divide);
  _sonde_prometheus_export_name_clear (&export);
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
              _sonde_prometheus_append_sanitized (member_prefix, field);

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
  _sonde_prometheus_append_sanitized (prefix, collector->name);
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
            const TableSchema *schema = _sonde_prometheus_find_table_schema (collector->name, field);

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

