/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <unistd.h>

#include "sonde.h"
#include "plugin-test-util.h"
#include "sonde-cpu-collector.h"
#include "sonde-cpu-parser.h"

#define EPSILON 1e-9

/* Fixture trees are in tests/fixtures/cpu/CASE/{proc,sys}; make-fixtures.py
 * there explains how the synthetic counters were chosen. */
static char *
fixture (const char *name,
         const char *tree)
{
  return sonde_plugin_test_fixture ("cpu", name, tree, NULL);
}

static void
point_at (SondeCollector *collector,
          const char     *name)
{
  g_autofree char *proc = fixture (name, "proc");
  g_autofree char *sys = fixture (name, "sys");

  sonde_collector_set_proc_root (collector, proc);
  sonde_collector_set_sys_root (collector, sys);
}

static SondeSample *
collect_from (SondeCollector *collector,
              const char     *name)
{
  point_at (collector, name);
  return sonde_plugin_test_collect (collector, "cpu");
}

static void
assert_percents (SondeSample *sample,
                 double       usage,
                 double       user,
                 double       system,
                 double       iowait)
{
  g_assert_cmpfloat_with_epsilon (sonde_sample_get_double (sample, "usage_percent"), usage, EPSILON);
  g_assert_cmpfloat_with_epsilon (sonde_sample_get_double (sample, "user_percent"), user, EPSILON);
  g_assert_cmpfloat_with_epsilon (sonde_sample_get_double (sample, "system_percent"), system, EPSILON);
  g_assert_cmpfloat_with_epsilon (sonde_sample_get_double (sample, "iowait_percent"), iowait, EPSILON);
}

static void
assert_per_core (SondeSample  *sample,
                 const double *expected,
                 guint         n_expected)
{
  JsonArray *cores = json_object_get_array_member (sonde_sample_get_data (sample), "per_core_percent");

  g_assert_nonnull (cores);
  g_assert_cmpuint (json_array_get_length (cores), ==, n_expected);
  g_assert_cmpint (sonde_sample_get_int (sample, "cores"), ==, n_expected);
  for (guint i = 0; i < n_expected; i++)
    g_assert_cmpfloat_with_epsilon (json_array_get_double_element (cores, i), expected[i], EPSILON);
}

/* Exactly the docs/formats/native.md fields, no more. */
static void
assert_fields (SondeSample *sample)
{
  static const char * const fields[] = {
    "usage_percent", "user_percent", "system_percent", "iowait_percent", "per_core_percent",
    "load_avg_1min", "load_avg_5min", "load_avg_15min", "cores", "frequency_mhz", "brand",
  };
  JsonObject *data = sonde_sample_get_data (sample);

  g_assert_cmpuint (json_object_get_size (data), ==, G_N_ELEMENTS (fields));
  for (guint i = 0; i < G_N_ELEMENTS (fields); i++)
    g_assert_true (json_object_has_member (data, fields[i]));
}

static void
test_catalog (void)
{
  g_autoptr(SondeCollector) collector = sonde_cpu_collector_new ();
  g_autoptr(GPtrArray) metrics = sonde_collector_get_metrics (collector);
  SondeMetric *metric;

  g_assert_cmpstr (sonde_collector_get_name (collector), ==, "cpu");
  g_assert_cmpuint (metrics->len, ==, 11);

  metric = sonde_collector_lookup_metric (collector, "usage_percent");
  g_assert_nonnull (metric);
  g_assert_cmpstr (sonde_metric_get_name (metric), ==, "cpu.usage_percent");
  g_assert_cmpstr (sonde_metric_get_unit (metric), ==, "percent");
  g_assert_cmpint (sonde_metric_get_kind (metric), ==, SONDE_METRIC_KIND_GAUGE);

  metric = sonde_collector_lookup_metric (collector, "per_core_percent");
  g_assert_cmpint (sonde_metric_get_kind (metric), ==, SONDE_METRIC_KIND_TABLE);
  metric = sonde_collector_lookup_metric (collector, "frequency_mhz");
  g_assert_cmpstr (sonde_metric_get_unit (metric), ==, "MHz");
  metric = sonde_collector_lookup_metric (collector, "brand");
  g_assert_cmpint (sonde_metric_get_kind (metric), ==, SONDE_METRIC_KIND_INFO);
  metric = sonde_collector_lookup_metric (collector, "cores");
  g_assert_cmpstr (sonde_metric_get_unit (metric), ==, "count");
}

/* Recorded from a 2-vCPU Xeon VM without cpufreq: MHz from /proc/cpuinfo. */
static void
test_recorded_first_sample (void)
{
  g_autoptr(SondeCollector) collector = sonde_cpu_collector_new ();
  g_autoptr(SondeSample) sample = NULL;
  static const double zeros[] = { 0, 0 };

  sample = collect_from (collector, "xeon-2cpu");
  assert_fields (sample);

  /* A first sample has no interval: every percentage is 0. */
  assert_percents (sample, 0, 0, 0, 0);
  assert_per_core (sample, zeros, G_N_ELEMENTS (zeros));

  g_assert_cmpfloat_with_epsilon (sonde_sample_get_double (sample, "load_avg_1min"), 0.17, EPSILON);
  g_assert_cmpfloat_with_epsilon (sonde_sample_get_double (sample, "load_avg_5min"), 0.06, EPSILON);
  g_assert_cmpfloat_with_epsilon (sonde_sample_get_double (sample, "load_avg_15min"), 0.01, EPSILON);
  g_assert_cmpfloat_with_epsilon (sonde_sample_get_double (sample, "frequency_mhz"), 2600, EPSILON);
  g_assert_cmpstr (sonde_sample_get_string (sample, "brand"), ==, "Intel(R) Xeon(R) Processor");
}

/*
 * Over the interval CPU k spends user k + system 10 + iowait 5 + idle
 * (85 - k) = 100 ticks, so it is (k + 10) % busy. All together:
 * user 2016, system 640, iowait 320 of 6400 ticks.
 */
static void
test_many_core (void)
{
  g_autoptr(SondeCollector) collector = sonde_cpu_collector_new ();
  g_autoptr(SondeSample) first = NULL;
  g_autoptr(SondeSample) second = NULL;
  double zeros[64] = { 0 };
  double expected[64];

  for (guint k = 0; k < 64; k++)
    expected[k] = k + 10;

  first = collect_from (collector, "many-core-t0");
  assert_percents (first, 0, 0, 0, 0);
  assert_per_core (first, zeros, 64);
  /* sysfs wins over cpuinfo's 2450: mean of 1000 + 10 k MHz. */
  g_assert_cmpfloat_with_epsilon (sonde_sample_get_double (first, "frequency_mhz"), 1315, EPSILON);
  g_assert_cmpstr (sonde_sample_get_string (first, "brand"), ==, "AMD EPYC 7763 64-Core Processor");
  g_assert_cmpfloat_with_epsilon (sonde_sample_get_double (first, "load_avg_1min"), 12.5, EPSILON);
  g_assert_cmpfloat_with_epsilon (sonde_sample_get_double (first, "load_avg_5min"), 10.25, EPSILON);
  g_assert_cmpfloat_with_epsilon (sonde_sample_get_double (first, "load_avg_15min"), 8, EPSILON);

  second = collect_from (collector, "many-core-t1");
  assert_fields (second);
  assert_percents (second, 41.5, 31.5, 10, 5);
  assert_per_core (second, expected, 64);
  /* The sys root changed too: the cpufreq files were reopened. */
  g_assert_cmpfloat_with_epsilon (sonde_sample_get_double (second, "frequency_mhz"), 2315, EPSILON);
}

/*
 * cpu0 moves in every column: +40 user (20 of them guest), +10 nice (5
 * guest_nice), +20 system, +100 idle, +10 iowait, +5 irq, +5 softirq,
 * +10 steal. Guest time is inside user and nice, so the total is 200, not
 * 225, and busy is 200 - 100 - 10 = 90: 45 %. cpu1 only idles (0 %), cpu2
 * only works (100 %), cpu3 got no tick at all (0 %, not NaN).
 * Aggregate: user 190, nice 10, system 70, idle 200, iowait 10, irq 5,
 * softirq 5, steal 10 = 500 ticks, 290 busy.
 */
static void
test_counters (void)
{
  g_autoptr(SondeCollector) collector = sonde_cpu_collector_new ();
  g_autoptr(SondeSample) first = NULL;
  g_autoptr(SondeSample) second = NULL;
  static const double expected[] = { 45, 0, 100, 0 };

  first = collect_from (collector, "counters-t0");
  assert_percents (first, 0, 0, 0, 0);

  second = collect_from (collector, "counters-t1");
  assert_percents (second, 58, 38, 14, 2);
  assert_per_core (second, expected, G_N_ELEMENTS (expected));

  /* No cpuinfo, no cpufreq: unknown, not an error. */
  g_assert_cmpfloat_with_epsilon (sonde_sample_get_double (second, "frequency_mhz"), 0, EPSILON);
  g_assert_cmpstr (sonde_sample_get_string (second, "brand"), ==, "");
  g_assert_cmpfloat_with_epsilon (sonde_sample_get_double (second, "load_avg_15min"), 3, EPSILON);
}

/*
 * cpu3 is offline: no cpu3 line, sysfs online is "0-2,4-7". Over t0..t1
 * CPU n is 10 n % busy (user); over t1..t2 5 n % (system), and cpu3 is
 * back with no previous counters, so it reports 0 like a first sample.
 * The aggregate line keeps cpu3's frozen counters throughout (the kernel
 * sums every possible CPU): t0..t1 is user 250 of 700 ticks, t1..t2
 * system 125 of 700.
 */
static void
test_offline_core (void)
{
  g_autoptr(SondeCollector) collector = sonde_cpu_collector_new ();
  g_autoptr(SondeSample) first = NULL;
  g_autoptr(SondeSample) second = NULL;
  g_autoptr(SondeSample) third = NULL;
  static const double zeros[] = { 0, 0, 0, 0, 0, 0, 0 };
  static const double expected[] = { 0, 10, 20, 40, 50, 60, 70 };
  static const double expected_back[] = { 0, 5, 10, 0, 20, 25, 30, 35 };

  first = collect_from (collector, "offline-t0");
  assert_per_core (first, zeros, G_N_ELEMENTS (zeros));
  /* cpuinfo lists the 7 online CPUs: (800 + 1200 + ... + 3200) / 7. */
  g_assert_cmpfloat_with_epsilon (sonde_sample_get_double (first, "frequency_mhz"), 2000, EPSILON);
  g_assert_cmpstr (sonde_sample_get_string (first, "brand"), ==,
                   "Intel(R) Core(TM) i7-9700 CPU @ 3.00GHz");

  second = collect_from (collector, "offline-t1");
  assert_percents (second, 100.0 * 250 / 700, 100.0 * 250 / 700, 0, 0);
  assert_per_core (second, expected, G_N_ELEMENTS (expected));

  third = collect_from (collector, "offline-t2");
  assert_percents (third, 100.0 * 125 / 700, 0, 100.0 * 125 / 700, 0);
  assert_per_core (third, expected_back, G_N_ELEMENTS (expected_back));
  /* Now with cpu3 at 3000 MHz: 17000 / 8. */
  g_assert_cmpfloat_with_epsilon (sonde_sample_get_double (third, "frequency_mhz"), 2125, EPSILON);
}

/*
 * cpu2's counters restarted (hotplug): its sum went down, so it reports 0
 * for this interval instead of garbage. cpu1's iowait and the aggregate
 * iowait went down by 10 (a NOHZ hiccup): that column counts as 0, as in
 * psutil and top. Aggregate: user 300, system 100, idle 200, iowait 0 of
 * 600; cpu0 user 100 of 200; cpu1 system 50 of 200; cpu3 user 200 of 200.
 */
static void
test_backwards (void)
{
  g_autoptr(SondeCollector) collector = sonde_cpu_collector_new ();
  g_autoptr(SondeSample) first = NULL;
  g_autoptr(SondeSample) second = NULL;
  g_autoptr(SondeSample) third = NULL;
  static const double expected[] = { 50, 25, 0, 100 };
  /* Back at t0 every counter went down but cpu2's, which went up from
   * its reset values: user 2490, system 1245, iowait 250 and idle 24900
   * of 28885 ticks. */
  static const double expected_back[] = { 0, 0, 100.0 * 3735 / 28885, 0 };
  JsonArray *cores;

  first = collect_from (collector, "backwards-t0");
  second = collect_from (collector, "backwards-t1");
  assert_percents (second, 100.0 * 400 / 600, 50, 100.0 * 100 / 600, 0);
  assert_per_core (second, expected, G_N_ELEMENTS (expected));

  /* Going all the way back to t0 is a reset. */
  third = collect_from (collector, "backwards-t0");
  assert_percents (third, 0, 0, 0, 0);
  assert_per_core (third, expected_back, G_N_ELEMENTS (expected_back));

  cores = json_object_get_array_member (sonde_sample_get_data (second), "per_core_percent");
  for (guint i = 0; i < json_array_get_length (cores); i++)
    {
      double v = json_array_get_double_element (cores, i);
      g_assert_cmpfloat (v, >=, 0);
      g_assert_cmpfloat (v, <=, 100);
    }
}

/* stop forgets the counters: the first sample after a restart is 0. */
static void
test_restart (void)
{
  g_autoptr(SondeCollector) collector = sonde_cpu_collector_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(SondeSample) first = NULL;
  g_autoptr(SondeSample) second = NULL;
  g_autoptr(SondeSample) third = NULL;

  point_at (collector, "counters-t0");
  g_assert_true (sonde_collector_start (collector, &error));
  g_assert_no_error (error);
  first = collect_from (collector, "counters-t0");
  second = collect_from (collector, "counters-t1");
  g_assert_cmpfloat_with_epsilon (sonde_sample_get_double (second, "usage_percent"), 58, EPSILON);

  sonde_collector_stop (collector);
  point_at (collector, "counters-t0");
  g_assert_true (sonde_collector_start (collector, &error));
  g_assert_no_error (error);
  sonde_collector_stop (collector);
  g_assert_true (sonde_collector_start (collector, &error));
  third = collect_from (collector, "counters-t1");
  assert_percents (third, 0, 0, 0, 0);
  sonde_collector_stop (collector);
}

static void
test_missing_root (void)
{
  g_autoptr(SondeCollector) collector = sonde_cpu_collector_new ();
  g_autofree char *root = fixture ("no-such-case", "proc");

  sonde_plugin_test_assert_missing_proc (collector, root, TRUE);
}

static void
test_parse_stat (void)
{
  g_autoptr(GArray) cores = g_array_new (FALSE, FALSE, sizeof (SondeCpuCoreTimes));
  SondeCpuTimes total;
  SondeCpuCoreTimes *core;

  /* Linux 2.6.0 printed seven columns; missing ones are 0. */
  g_assert_true (sonde_cpu_parse_stat ("cpu  10 1 5 100 2 0 0\n"
                                       "cpu0 10 1 5 100 2 0 0\n"
                                       "cpu12 1 2 3 4\n"
                                       "cpu13 1 2 3\n"
                                       "intr 1 2 3\n"
                                       "cpu99 1 2 3 4\n", &total, cores));
  g_assert_cmpuint (total.user, ==, 10);
  g_assert_cmpuint (total.iowait, ==, 2);
  g_assert_cmpuint (total.steal, ==, 0);
  /* cpu13 has too few columns; cpu99 comes after intr and is not read. */
  g_assert_cmpuint (cores->len, ==, 2);
  core = &g_array_index (cores, SondeCpuCoreTimes, 1);
  g_assert_cmpuint (core->cpu, ==, 12);
  g_assert_cmpuint (core->times.idle, ==, 4);

  g_assert_false (sonde_cpu_parse_stat ("", &total, cores));
  g_assert_cmpuint (cores->len, ==, 0);
  g_assert_false (sonde_cpu_parse_stat ("intr 1 2 3\n", &total, cores));
  g_assert_false (sonde_cpu_parse_stat ("cpu0 1 2 3 4\n", &total, cores));
  g_assert_false (sonde_cpu_parse_stat ("cpu  x y z\n", &total, cores));
  /* No trailing newline. */
  g_assert_true (sonde_cpu_parse_stat ("cpu  1 2 3 4", &total, cores));
  g_assert_cmpuint (total.idle, ==, 4);
}

static void
test_times_percent (void)
{
  SondeCpuTimes a = { .user = 100, .idle = 100 };
  SondeCpuTimes b = { .user = 150, .idle = 150 };
  SondeCpuPercent percent;

  g_assert_false (sonde_cpu_times_percent (NULL, &b, &percent));
  g_assert_cmpfloat (percent.usage, ==, 0);

  g_assert_true (sonde_cpu_times_percent (&a, &b, &percent));
  g_assert_cmpfloat_with_epsilon (percent.usage, 50, EPSILON);
  g_assert_cmpfloat_with_epsilon (percent.user, 50, EPSILON);

  /* Identical counters: an empty interval is 0 %, not NaN. */
  g_assert_true (sonde_cpu_times_percent (&b, &b, &percent));
  g_assert_cmpfloat (percent.usage, ==, 0);

  /* Backwards as a whole: a reset. */
  g_assert_false (sonde_cpu_times_percent (&b, &a, &percent));
  g_assert_cmpfloat (percent.usage, ==, 0);

  /* Guest time larger than the user time it is part of (a counter
   * hiccup) must not push anything out of 0..100. */
  a = (SondeCpuTimes) { .user = 100, .guest = 0, .idle = 10 };
  b = (SondeCpuTimes) { .user = 101, .guest = 50, .idle = 10 };
  g_assert_true (sonde_cpu_times_percent (&a, &b, &percent));
  g_assert_cmpfloat (percent.usage, >=, 0);
  g_assert_cmpfloat (percent.usage, <=, 100);
  g_assert_cmpfloat (percent.user, <=, 100);
}

static void
test_parse_loadavg (void)
{
  double l1, l5, l15;

  g_assert_true (sonde_cpu_parse_loadavg ("0.17 0.06 0.01 2/96 6673\n", &l1, &l5, &l15));
  g_assert_cmpfloat_with_epsilon (l1, 0.17, EPSILON);
  g_assert_cmpfloat_with_epsilon (l5, 0.06, EPSILON);
  g_assert_cmpfloat_with_epsilon (l15, 0.01, EPSILON);
  g_assert_true (sonde_cpu_parse_loadavg ("128.00 64.50 32.25 1/2 3", &l1, &l5, &l15));
  g_assert_cmpfloat_with_epsilon (l15, 32.25, EPSILON);
  g_assert_false (sonde_cpu_parse_loadavg ("0.17 0.06\n", &l1, &l5, &l15));
  g_assert_false (sonde_cpu_parse_loadavg ("", &l1, &l5, &l15));

  /* Found by tests/fuzz/fuzz-proc-cpu: g_ascii_strtod() reads "nan" and
   * "inf", which were reported as load averages (and written as null). */
  g_assert_false (sonde_cpu_parse_loadavg ("nan  1 0\n", &l1, &l5, &l15));
  g_assert_false (sonde_cpu_parse_loadavg ("0.1 inf 0.3\n", &l1, &l5, &l15));
  g_assert_false (sonde_cpu_parse_loadavg ("0.1 0.2 1e999\n", &l1, &l5, &l15));
}

static void
test_parse_brand (void)
{
  struct {
    const char *cpuinfo;
    const char *brand;
  } cases[] = {
    /* x86: "processor : 0" must not be taken for ARM's "Processor". */
    { "processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: Intel(R) Xeon(R) Processor\n",
      "Intel(R) Xeon(R) Processor" },
    { "processor\t: 0\nvendor_id\t: AuthenticAMD\n", "AuthenticAMD" },
    /* 32-bit ARM (Raspberry Pi). */
    { "processor\t: 0\nmodel name\t: ARMv7 Processor rev 4 (v7l)\nBogoMIPS\t: 38.40\n\n"
      "Hardware\t: BCM2835\nRevision\t: a02082\n", "ARMv7 Processor rev 4 (v7l)" },
    { "processor\t: 0\nBogoMIPS\t: 38.40\n\nHardware\t: Qualcomm MSM8974\n",
      "Qualcomm MSM8974" },
    { "Processor\t: AArch64 Processor rev 4 (aarch64)\nprocessor\t: 0\n",
      "AArch64 Processor rev 4 (aarch64)" },
    /* MIPS and PowerPC. */
    { "system type\t\t: MT7621\nprocessor\t\t: 0\ncpu model\t\t: MIPS 1004Kc V2.15\n",
      "MIPS 1004Kc V2.15" },
    { "processor\t: 0\ncpu\t\t: POWER9 (raw), altivec supported\nclock\t\t: 2166.000000MHz\n",
      "POWER9 (raw), altivec supported" },
    /* Modern arm64 says nothing usable. */
    { "processor\t: 0\nBogoMIPS\t: 50.00\nCPU implementer\t: 0x41\n", "" },
    { "model name\t:\nvendor_id\t: GenuineIntel\n", "GenuineIntel" },
    { "", "" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *brand = sonde_cpu_parse_brand (cases[i].cpuinfo);

      g_assert_cmpstr (brand, ==, cases[i].brand);
    }
}

static void
test_parse_cpuinfo_mhz (void)
{
  g_assert_cmpfloat_with_epsilon (sonde_cpu_parse_cpuinfo_mhz ("processor\t: 0\ncpu MHz\t\t: 1000.500\n"
                                                               "processor\t: 1\ncpu MHz\t\t: 3000.500\n"),
                                  2000.5, EPSILON);
  g_assert_cmpfloat (sonde_cpu_parse_cpuinfo_mhz ("processor\t: 0\nBogoMIPS\t: 50.00\n"), ==, 0);
  g_assert_cmpfloat (sonde_cpu_parse_cpuinfo_mhz ("cpu MHz\t\t: garbage\n"), ==, 0);
  g_assert_cmpfloat (sonde_cpu_parse_cpuinfo_mhz (""), ==, 0);

  /* Not a number, or numbers whose sum is not one, are no frequency. */
  g_assert_cmpfloat (sonde_cpu_parse_cpuinfo_mhz ("cpu MHz\t\t: inf\n"), ==, 0);
  g_assert_cmpfloat_with_epsilon (sonde_cpu_parse_cpuinfo_mhz ("cpu MHz\t\t: nan\ncpu MHz\t\t: 800\n"),
                                  800, EPSILON);
  g_assert_cmpfloat (sonde_cpu_parse_cpuinfo_mhz ("cpu MHz\t: 1e308\ncpu MHz\t: 1e308\n"), ==, 0);
}

/* The live host: values must be sane, and cores must be the online CPUs. */
static void
test_live (void)
{
  g_autoptr(SondeCollector) collector = sonde_cpu_collector_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(SondeSample) first = NULL;
  g_autoptr(SondeSample) second = NULL;
  static const char * const percents[] = {
    "usage_percent", "user_percent", "system_percent", "iowait_percent",
  };
  JsonArray *per_core;
  long online = sysconf (_SC_NPROCESSORS_ONLN);

  g_assert_true (sonde_collector_start (collector, &error));
  g_assert_no_error (error);
  first = sonde_collector_collect (collector, &error);
  g_assert_no_error (error);
  g_assert_cmpfloat (sonde_sample_get_double (first, "usage_percent"), ==, 0);

  /* Burn a little CPU so that the interval has ticks in it. */
  for (gint64 end = g_get_monotonic_time () + 100 * 1000; g_get_monotonic_time () < end;)
    ;
  g_usleep (100 * 1000);

  second = sonde_collector_collect (collector, &error);
  g_assert_no_error (error);
  assert_fields (second);

  for (guint i = 0; i < G_N_ELEMENTS (percents); i++)
    {
      double v = sonde_sample_get_double (second, percents[i]);
      g_assert_cmpfloat (v, >=, 0);
      g_assert_cmpfloat (v, <=, 100);
    }
  g_assert_cmpfloat (sonde_sample_get_double (second, "usage_percent"), >, 0);

  g_assert_cmpint (sonde_sample_get_int (second, "cores"), ==, online);
  per_core = json_object_get_array_member (sonde_sample_get_data (second), "per_core_percent");
  g_assert_cmpuint (json_array_get_length (per_core), ==, online);
  for (guint i = 0; i < json_array_get_length (per_core); i++)
    {
      double v = json_array_get_double_element (per_core, i);
      g_assert_cmpfloat (v, >=, 0);
      g_assert_cmpfloat (v, <=, 100);
    }

  g_assert_cmpfloat (sonde_sample_get_double (second, "load_avg_1min"), >=, 0);
  g_assert_cmpfloat (sonde_sample_get_double (second, "load_avg_5min"), >=, 0);
  g_assert_cmpfloat (sonde_sample_get_double (second, "load_avg_15min"), >=, 0);
  g_assert_cmpfloat (sonde_sample_get_double (second, "frequency_mhz"), >=, 0);
  g_assert_cmpfloat (sonde_sample_get_double (second, "frequency_mhz"), <, 20000);
  g_assert_nonnull (sonde_sample_get_string (second, "brand"));

  sonde_collector_stop (collector);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/cpu/catalog", test_catalog);
  g_test_add_func ("/cpu/recorded-first-sample", test_recorded_first_sample);
  g_test_add_func ("/cpu/many-core", test_many_core);
  g_test_add_func ("/cpu/counters", test_counters);
  g_test_add_func ("/cpu/offline-core", test_offline_core);
  g_test_add_func ("/cpu/backwards", test_backwards);
  g_test_add_func ("/cpu/restart", test_restart);
  g_test_add_func ("/cpu/missing-root", test_missing_root);
  g_test_add_func ("/cpu/parse/stat", test_parse_stat);
  g_test_add_func ("/cpu/parse/times-percent", test_times_percent);
  g_test_add_func ("/cpu/parse/loadavg", test_parse_loadavg);
  g_test_add_func ("/cpu/parse/brand", test_parse_brand);
  g_test_add_func ("/cpu/parse/cpuinfo-mhz", test_parse_cpuinfo_mhz);
  g_test_add_func ("/cpu/live", test_live);

  return g_test_run ();
}
