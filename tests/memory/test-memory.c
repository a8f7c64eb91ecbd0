/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <sys/sysinfo.h>

#include "sonde.h"
#include "plugin-test-util.h"
#include "sonde-memory-collector.h"
#include "sonde-memory-parser.h"

#define EPSILON 1e-9
#define KIB G_GINT64_CONSTANT (1024)

static char *
fixture (const char *name)
{
  return sonde_plugin_test_fixture ("memory", name, "proc", NULL);
}

static SondeSample *
collect_from (SondeCollector *collector,
              const char     *name)
{
  g_autofree char *root = fixture (name);

  sonde_collector_set_proc_root (collector, root);
  return sonde_plugin_test_collect (collector, "memory");
}

typedef struct
{
  gint64 total;
  gint64 used;
  gint64 available;
  gint64 free;
  gint64 cached;
  double usage_percent;
  gint64 swap_total;
  gint64 swap_used;
  double swap_usage_percent;
} Expected;

static void
assert_sample (SondeSample    *sample,
               const Expected *e)
{
  static const char * const fields[] = {
    "total_bytes", "used_bytes", "available_bytes", "free_bytes", "cached_bytes",
    "usage_percent", "swap_total_bytes", "swap_used_bytes", "swap_usage_percent",
  };
  JsonObject *data = sonde_sample_get_data (sample);

  /* Exactly the docs/formats/native.md fields, no more. */
  g_assert_cmpuint (json_object_get_size (data), ==, G_N_ELEMENTS (fields));
  for (guint i = 0; i < G_N_ELEMENTS (fields); i++)
    g_assert_true (json_object_has_member (data, fields[i]));

  g_assert_cmpint (sonde_sample_get_int (sample, "total_bytes"), ==, e->total);
  g_assert_cmpint (sonde_sample_get_int (sample, "used_bytes"), ==, e->used);
  g_assert_cmpint (sonde_sample_get_int (sample, "available_bytes"), ==, e->available);
  g_assert_cmpint (sonde_sample_get_int (sample, "free_bytes"), ==, e->free);
  g_assert_cmpint (sonde_sample_get_int (sample, "cached_bytes"), ==, e->cached);
  g_assert_cmpfloat_with_epsilon (sonde_sample_get_double (sample, "usage_percent"),
                                  e->usage_percent, EPSILON);
  g_assert_cmpint (sonde_sample_get_int (sample, "swap_total_bytes"), ==, e->swap_total);
  g_assert_cmpint (sonde_sample_get_int (sample, "swap_used_bytes"), ==, e->swap_used);
  g_assert_cmpfloat_with_epsilon (sonde_sample_get_double (sample, "swap_usage_percent"),
                                  e->swap_usage_percent, EPSILON);
}

static void
test_catalog (void)
{
  g_autoptr(SondeCollector) collector = sonde_memory_collector_new ();
  g_autoptr(GPtrArray) metrics = sonde_collector_get_metrics (collector);
  SondeMetric *metric;

  g_assert_cmpstr (sonde_collector_get_name (collector), ==, "memory");
  g_assert_cmpuint (metrics->len, ==, 9);

  metric = sonde_collector_lookup_metric (collector, "used_bytes");
  g_assert_nonnull (metric);
  g_assert_cmpstr (sonde_metric_get_name (metric), ==, "memory.used_bytes");
  g_assert_cmpstr (sonde_metric_get_unit (metric), ==, "bytes");
  g_assert_cmpint (sonde_metric_get_kind (metric), ==, SONDE_METRIC_KIND_GAUGE);
  metric = sonde_collector_lookup_metric (collector, "swap_usage_percent");
  g_assert_cmpstr (sonde_metric_get_unit (metric), ==, "percent");
}

/*
 * Recorded on the development VM, which has no swap: swap_usage_percent
 * must be 0, not 0/0. used = MemTotal - MemAvailable = 24683656 -
 * 24301176 kB; cached = Cached + SReclaimable = 120396 + 58376 kB.
 */
static void
test_recorded_no_swap (void)
{
  g_autoptr(SondeCollector) collector = sonde_memory_collector_new ();
  g_autoptr(SondeSample) sample = collect_from (collector, "this-machine");
  Expected e = {
    .total = 24683656 * KIB,
    .used = 382480 * KIB,
    .available = 24301176 * KIB,
    .free = 24337064 * KIB,
    .cached = 178772 * KIB,
    .usage_percent = 100.0 * 382480 / 24683656,
    .swap_total = 0,
    .swap_used = 0,
    .swap_usage_percent = 0,
  };

  assert_sample (sample, &e);
}

/* A desktop with a quarter of its swap in use. */
static void
test_swap (void)
{
  g_autoptr(SondeCollector) collector = sonde_memory_collector_new ();
  g_autoptr(SondeSample) sample = collect_from (collector, "desktop-swap");
  Expected e = {
    .total = 16303428 * KIB,
    .used = (16303428 - 9074264) * KIB,
    .available = 9074264 * KIB,
    .free = 1183936 * KIB,
    .cached = (7412096 + 602676) * KIB,
    .usage_percent = 100.0 * (16303428 - 9074264) / 16303428,
    .swap_total = 2097148 * KIB,
    .swap_used = (2097148 - 1572860) * KIB,
    .swap_usage_percent = 100.0 * (2097148 - 1572860) / 2097148,
  };

  assert_sample (sample, &e);
}

/*
 * A 2.6.32 kernel has no MemAvailable: available falls back to free +
 * buffers + cached, with cached = Cached + SReclaimable.
 */
static void
test_no_memavailable (void)
{
  g_autoptr(SondeCollector) collector = sonde_memory_collector_new ();
  g_autoptr(SondeSample) sample = collect_from (collector, "old-kernel");
  gint64 available = 2113780 + 301640 + 3920196 + 372004;
  Expected e = {
    .total = 8061196 * KIB,
    .used = (8061196 - available) * KIB,
    .available = available * KIB,
    .free = 2113780 * KIB,
    .cached = (3920196 + 372004) * KIB,
    .usage_percent = 100.0 * (8061196 - available) / 8061196,
    .swap_total = 4128764 * KIB,
    .swap_used = 0,
    .swap_usage_percent = 0,
  };

  assert_sample (sample, &e);
}

/*
 * A container whose meminfo shows the host's MemAvailable next to its own
 * MemTotal: like psutil, fall back to MemFree rather than report more
 * available than total (and a negative used).
 */
static void
test_container (void)
{
  g_autoptr(SondeCollector) collector = sonde_memory_collector_new ();
  g_autoptr(SondeSample) sample = collect_from (collector, "container");
  Expected e = {
    .total = 2097152 * KIB,
    .used = 1048576 * KIB,
    .available = 1048576 * KIB,
    .free = 1048576 * KIB,
    .cached = 524288 * KIB,
    .usage_percent = 50,
  };

  assert_sample (sample, &e);
}

/* Switching proc-root reopens the kept-open file. */
static void
test_switch_root (void)
{
  g_autoptr(SondeCollector) collector = sonde_memory_collector_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(SondeSample) first = NULL;
  g_autoptr(SondeSample) second = NULL;
  g_autofree char *root = fixture ("desktop-swap");

  sonde_collector_set_proc_root (collector, root);
  g_assert_true (sonde_collector_start (collector, &error));
  g_assert_no_error (error);
  first = collect_from (collector, "desktop-swap");
  second = collect_from (collector, "old-kernel");
  g_assert_cmpint (sonde_sample_get_int (first, "total_bytes"), ==, 16303428 * KIB);
  g_assert_cmpint (sonde_sample_get_int (second, "total_bytes"), ==, 8061196 * KIB);
  sonde_collector_stop (collector);
}

static void
test_missing (void)
{
  g_autoptr(SondeCollector) collector = sonde_memory_collector_new ();
  g_autofree char *root = fixture ("no-such-case");

  sonde_plugin_test_assert_missing_proc (collector, root, TRUE);
}

static void
test_parse (void)
{
  SondeMeminfo info;
  SondeMemoryStats stats;

  /* "SwapCached:" must not be read as "Cached:"; no trailing newline. */
  g_assert_true (sonde_memory_parse_meminfo ("MemTotal: 100 kB\nMemFree: 10 kB\n"
                                             "SwapCached: 7 kB\nCached: 20 kB", &info));
  g_assert_cmpuint (info.cached, ==, 20 * 1024);
  g_assert_false (info.has_available);
  sonde_memory_compute (&info, &stats);
  g_assert_cmpuint (stats.available, ==, 30 * 1024);
  g_assert_cmpuint (stats.used, ==, 70 * 1024);
  g_assert_cmpfloat_with_epsilon (stats.usage_percent, 70, EPSILON);

  /* MemAvailable: 0 is a value, not an absence. */
  g_assert_true (sonde_memory_parse_meminfo ("MemTotal: 100 kB\nMemFree: 0 kB\n"
                                             "MemAvailable: 0 kB\n", &info));
  g_assert_true (info.has_available);
  sonde_memory_compute (&info, &stats);
  g_assert_cmpfloat_with_epsilon (stats.usage_percent, 100, EPSILON);

  /* Swap accounting that disagrees with itself never goes negative. */
  g_assert_true (sonde_memory_parse_meminfo ("MemTotal: 100 kB\nMemFree: 50 kB\n"
                                             "SwapTotal: 10 kB\nSwapFree: 20 kB\n", &info));
  sonde_memory_compute (&info, &stats);
  g_assert_cmpuint (stats.swap_used, ==, 0);
  g_assert_cmpfloat (stats.swap_usage_percent, ==, 0);

  g_assert_false (sonde_memory_parse_meminfo ("", &info));
  g_assert_false (sonde_memory_parse_meminfo ("MemFree: 10 kB\n", &info));
  g_assert_false (sonde_memory_parse_meminfo ("garbage\n", &info));

  /* Found by tests/fuzz/fuzz-proc-memory: with huge figures,
   * 100.0 * used / total rounded to just above 100. */
  g_assert_true (sonde_memory_parse_meminfo ("MemTotal: 14452323777604320 kB\nMemFree: 0 kB\n"
                                             "MemAvailable: 0 kB\n"
                                             "SwapTotal: 14452323777604320 kB\nSwapFree: 0 kB\n", &info));
  sonde_memory_compute (&info, &stats);
  g_assert_cmpfloat (stats.usage_percent, <=, 100);
  g_assert_cmpfloat (stats.swap_usage_percent, <=, 100);

  /* All zero (a broken meminfo) is 0 %, not NaN. */
  g_assert_true (sonde_memory_parse_meminfo ("MemTotal: 0 kB\nMemFree: 0 kB\n", &info));
  sonde_memory_compute (&info, &stats);
  g_assert_cmpfloat (stats.usage_percent, ==, 0);
}

/* The live host: self-consistent, and MemTotal agrees with sysinfo(2). */
static void
test_live (void)
{
  g_autoptr(SondeCollector) collector = sonde_memory_collector_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(SondeSample) sample = NULL;
  struct sysinfo si;
  gint64 total, used, available, free_bytes, swap_total, swap_used;
  double usage, swap_usage;

  g_assert_true (sonde_collector_start (collector, &error));
  g_assert_no_error (error);
  sample = sonde_collector_collect (collector, &error);
  g_assert_no_error (error);
  g_assert_nonnull (sample);
  g_assert_cmpint (sysinfo (&si), ==, 0);

  total = sonde_sample_get_int (sample, "total_bytes");
  used = sonde_sample_get_int (sample, "used_bytes");
  available = sonde_sample_get_int (sample, "available_bytes");
  free_bytes = sonde_sample_get_int (sample, "free_bytes");
  swap_total = sonde_sample_get_int (sample, "swap_total_bytes");
  swap_used = sonde_sample_get_int (sample, "swap_used_bytes");
  usage = sonde_sample_get_double (sample, "usage_percent");
  swap_usage = sonde_sample_get_double (sample, "swap_usage_percent");

  /* MemTotal and sysinfo's totalram are the same page count. */
  g_assert_cmpint (total, ==, (gint64) si.totalram * si.mem_unit);
  g_assert_cmpint (swap_total, ==, (gint64) si.totalswap * si.mem_unit);

  g_assert_cmpint (used + available, ==, total);
  g_assert_cmpint (available, >, 0);
  g_assert_cmpint (free_bytes, <=, total);
  g_assert_cmpint (sonde_sample_get_int (sample, "cached_bytes"), >=, 0);
  g_assert_cmpint (swap_used, >=, 0);
  g_assert_cmpint (swap_used, <=, swap_total);
  g_assert_cmpfloat (usage, >, 0);
  g_assert_cmpfloat (usage, <, 100);
  g_assert_cmpfloat_with_epsilon (usage, 100.0 * used / total, EPSILON);
  g_assert_cmpfloat (swap_usage, >=, 0);
  g_assert_cmpfloat (swap_usage, <=, 100);

  sonde_collector_stop (collector);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/memory/catalog", test_catalog);
  g_test_add_func ("/memory/recorded-no-swap", test_recorded_no_swap);
  g_test_add_func ("/memory/swap", test_swap);
  g_test_add_func ("/memory/no-memavailable", test_no_memavailable);
  g_test_add_func ("/memory/container", test_container);
  g_test_add_func ("/memory/switch-root", test_switch_root);
  g_test_add_func ("/memory/missing", test_missing);
  g_test_add_func ("/memory/parse", test_parse);
  g_test_add_func ("/memory/live", test_live);

  return g_test_run ();
}
