/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz-util.h"

/* Setup -------------------------------------------------------------------- */

static GLogWriterOutput
fatal_writer (GLogLevelFlags   log_level,
              const GLogField *fields,
              gsize            n_fields,
              gpointer         user_data)
{
  g_autofree char *line = NULL;

  /* Debug, info and messages are noise at a million runs a minute. */
  if ((log_level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING)) == 0)
    return G_LOG_WRITER_HANDLED;

  line = g_log_writer_format_fields (log_level, fields, n_fields, FALSE);
  fprintf (stderr, "%s\n", line);
  abort ();
}

void
fuzz_init (int    *argc,
           char ***argv)
{
  const char *slice = getenv ("G_SLICE");

  /* GSlice hands out memory from its own magazines: with it,
   * AddressSanitizer would miss a JsonNode used after being freed. It
   * reads G_SLICE once, early; hence the re-execution. */
  if (slice == NULL || strstr (slice, "always-malloc") == NULL)
    {
      setenv ("G_SLICE", "always-malloc", 1);
      execv ("/proc/self/exe", *argv);
      perror ("fuzz_init: cannot re-execute with G_SLICE=always-malloc");
    }

  g_log_set_writer_func (fatal_writer, NULL, NULL);
}

/* The targets that need nothing more than fuzz_init() do not define
 * their own: this one is weak, and theirs wins where they do. */
__attribute__ ((weak)) int
LLVMFuzzerInitialize (int    *argc,
                      char ***argv)
{
  fuzz_init (argc, argv);
  return 0;
}

/* A small fixed engine ----------------------------------------------------- */

typedef struct
{
  const char      *field;
  const char      *unit;
  SondeMetricKind  kind;
} FuzzMetric;

static const FuzzMetric cpu_metrics[] = {
  { "usage_percent", "percent", SONDE_METRIC_KIND_GAUGE },
  { "user_percent", "percent", SONDE_METRIC_KIND_GAUGE },
  { "per_core_percent", "percent", SONDE_METRIC_KIND_TABLE },
  { "load_avg_1min", "", SONDE_METRIC_KIND_GAUGE },
  { "cores", "count", SONDE_METRIC_KIND_GAUGE },
  { "brand", "", SONDE_METRIC_KIND_INFO },
  { NULL }
};

static const FuzzMetric memory_metrics[] = {
  { "total_bytes", "bytes", SONDE_METRIC_KIND_GAUGE },
  { "used_bytes", "bytes", SONDE_METRIC_KIND_GAUGE },
  { "usage_percent", "percent", SONDE_METRIC_KIND_GAUGE },
  { "swap_usage_percent", "percent", SONDE_METRIC_KIND_GAUGE },
  { NULL }
};

static const FuzzMetric disk_metrics[] = {
  { "partitions", "", SONDE_METRIC_KIND_TABLE },
  { "read_bytes_per_sec", "bytes/s", SONDE_METRIC_KIND_RATE },
  { NULL }
};

static const FuzzMetric network_metrics[] = {
  { "interfaces", "", SONDE_METRIC_KIND_TABLE },
  { "rx_bytes_per_sec", "bytes/s", SONDE_METRIC_KIND_RATE },
  { "active_connections", "count", SONDE_METRIC_KIND_GAUGE },
  { NULL }
};

static const FuzzMetric gateway_metrics[] = {
  { "requests_total", "count", SONDE_METRIC_KIND_COUNTER },
  { "requests_success", "count", SONDE_METRIC_KIND_COUNTER },
  { "requests_error", "count", SONDE_METRIC_KIND_COUNTER },
  { "active_connections", "count", SONDE_METRIC_KIND_GAUGE },
  { "avg_response_time", "ms", SONDE_METRIC_KIND_GAUGE },
  { "success_rate", "percent", SONDE_METRIC_KIND_GAUGE },
  { NULL }
};

static const struct
{
  const char       *name;
  const FuzzMetric *metrics;
} collectors[] = {
  { "cpu", cpu_metrics },
  { "memory", memory_metrics },
  { "disk", disk_metrics },
  { "network", network_metrics },
  { "gateway", gateway_metrics },
};

#define FUZZ_TYPE_COLLECTOR (fuzz_collector_get_type ())
G_DECLARE_FINAL_TYPE (FuzzCollector, fuzz_collector, FUZZ, COLLECTOR, SondeCollector)

struct _FuzzCollector
{
  SondeCollector parent_instance;
};

G_DEFINE_FINAL_TYPE (FuzzCollector, fuzz_collector, SONDE_TYPE_COLLECTOR)

/* Never sampled: the engine is never started. */
static SondeSample *
fuzz_collector_collect (SondeCollector  *collector,
                        GError         **error)
{
  g_autoptr(JsonObject) data = json_object_new ();

  return sonde_sample_new (sonde_collector_get_name (collector), g_get_real_time (), data);
}

static void
fuzz_collector_class_init (FuzzCollectorClass *klass)
{
  SONDE_COLLECTOR_CLASS (klass)->collect = fuzz_collector_collect;
}

static void
fuzz_collector_init (FuzzCollector *self)
{
}

SondeEngine *
fuzz_engine_new (gboolean with_gateway)
{
  SondeEngine *engine = sonde_engine_new ();

  for (guint i = 0; i < G_N_ELEMENTS (collectors); i++)
    {
      g_autoptr(SondeCollector) collector = NULL;
      g_autoptr(GError) error = NULL;

      if (!with_gateway && g_str_equal (collectors[i].name, "gateway"))
        continue;

      collector = g_object_new (FUZZ_TYPE_COLLECTOR, "name", collectors[i].name, NULL);
      for (const FuzzMetric *m = collectors[i].metrics; m->field != NULL; m++)
        sonde_collector_add_metric (collector, m->field, m->unit, m->kind, m->field);
      if (!sonde_engine_add_collector (engine, collector, &error))
        g_error ("Cannot add collector %s: %s", collectors[i].name, error->message);
    }

  return engine;
}

SondeEngine *
fuzz_engine_get (void)
{
  static SondeEngine *engine;

  if (engine == NULL)
    engine = fuzz_engine_new (TRUE);
  return engine;
}

SondeServer *
fuzz_server_get (void)
{
  static SondeServer *server;

  if (server == NULL)
    server = sonde_server_new (fuzz_engine_get ());
  return server;
}

/* Checks ------------------------------------------------------------------- */

char *
fuzz_strndup (const uint8_t *data,
              size_t         size)
{
  char *text = g_malloc (size + 1);

  if (size > 0)
    memcpy (text, data, size);
  text[size] = '\0';
  return text;
}

void
fuzz_assert_json_bytes (GBytes *bytes)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  gsize length;
  const char *text = g_bytes_get_data (bytes, &length);

  fuzz_check (g_utf8_validate (text, length, NULL), "not UTF-8: %.*s", (int) length, text);
  fuzz_check (json_parser_load_from_data (parser, text, length, &error),
              "not JSON (%s): %.*s", error ? error->message : "", (int) length, text);
  fuzz_check (json_parser_get_root (parser) != NULL, "empty: %.*s", (int) length, text);
}
