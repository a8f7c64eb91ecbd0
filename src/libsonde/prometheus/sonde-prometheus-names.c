/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "sonde-prometheus-names-private.h"

/*
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
void
_sonde_prometheus_append_sanitized (GString    *out,
                                    const char *text)
{
  for (const char *p = text; *p != '\0'; p++)
    g_string_append_c (out, g_ascii_isalnum (*p) ? *p : '_');
}

void
_sonde_prometheus_export_name_clear (ExportName *export)
{
  g_string_free (export->name, TRUE);
  g_string_free (export->om_name, TRUE);
  g_free (export->unit_note);
}

/* @prefix is "sonde_<collector>" or "sonde_<collector>_<table>". */
void
_sonde_prometheus_export_name_init (ExportName      *export,
                                    const char      *prefix,
                                    const char      *field,
                                    const char      *unit,
                                    SondeMetricKind  kind)
{
  g_autoptr(GString) stem = g_string_new (NULL);
  g_autofree char *base_unit = NULL;
  const UnitRule *rule;
  gboolean per_second = FALSE;

  _sonde_prometheus_append_sanitized (stem, field);
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

const TableSchema *
_sonde_prometheus_find_table_schema (const char *collector,
                                     const char *field)
{
  for (guint i = 0; i < G_N_ELEMENTS (table_schemas); i++)
    if (g_str_equal (table_schemas[i].collector, collector) && g_str_equal (table_schemas[i].field, field))
      return &table_schemas[i];
  return NULL;
}

