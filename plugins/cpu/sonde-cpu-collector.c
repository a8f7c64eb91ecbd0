/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "sonde-cpu-collector.h"
#include "sonde-cpu-parser.h"
#include "sonde-proc-file.h"

/**
 * SondeCpuCollector:
 *
 * Reports CPU utilisation from /proc/stat deltas (as psutil does), load
 * averages from /proc/loadavg, the number of online CPUs, their current
 * average frequency (sysfs cpufreq, else /proc/cpuinfo) and the brand.
 */

struct _SondeCpuCollector
{
  SondeCollector  parent_instance;

  /* start/stop run on the main thread, collect on a worker thread. */
  GMutex          lock;

  /* The roots the files below were opened under: when the properties
   * change (tests switching fixture trees) everything is reopened, but
   * the previous counters are kept so that rates span the switch. */
  char           *proc_root;
  char           *sys_root;

  SondeProcFile  *stat_file;
  SondeProcFile  *loadavg_file;
  SondeProcFile  *cpuinfo_file;
  char           *brand;

  /* scaling_cur_freq of each online CPU that has one, opened for the set
   * of CPUs in freq_cpus and rebuilt when that set changes (hotplug). */
  GPtrArray      *freq_files;
  GArray         *freq_cpus;
  gboolean        freq_probed;

  SondeCpuTimes   prev_total;
  gboolean        have_prev;
  GArray         *prev_cores;
  GArray         *cores;
};

G_DEFINE_FINAL_TYPE (SondeCpuCollector, sonde_cpu_collector, SONDE_TYPE_COLLECTOR)

static void
close_files (SondeCpuCollector *self)
{
  g_clear_pointer (&self->stat_file, sonde_proc_file_free);
  g_clear_pointer (&self->loadavg_file, sonde_proc_file_free);
  g_clear_pointer (&self->cpuinfo_file, sonde_proc_file_free);
  g_clear_pointer (&self->brand, g_free);
  g_clear_pointer (&self->proc_root, g_free);
  g_clear_pointer (&self->sys_root, g_free);
  g_ptr_array_set_size (self->freq_files, 0);
  g_array_set_size (self->freq_cpus, 0);
  self->freq_probed = FALSE;
}

static void
forget_counters (SondeCpuCollector *self)
{
  self->have_prev = FALSE;
  g_array_set_size (self->prev_cores, 0);
}

/* Opens the kept-open files below the current roots, unless they already are. */
static void
ensure_files (SondeCpuCollector *self)
{
  SondeCollector *collector = SONDE_COLLECTOR (self);
  const char *proc_root = sonde_collector_get_proc_root (collector);
  const char *sys_root = sonde_collector_get_sys_root (collector);
  g_autofree char *cpuinfo_path = NULL;
  g_autofree char *cpuinfo = NULL;

  if (self->stat_file != NULL
      && g_strcmp0 (self->proc_root, proc_root) == 0
      && g_strcmp0 (self->sys_root, sys_root) == 0)
    return;

  close_files (self);
  self->proc_root = g_strdup (proc_root);
  self->sys_root = g_strdup (sys_root);

  {
    g_autofree char *path = g_build_filename (proc_root, "stat", NULL);
    self->stat_file = sonde_proc_file_new (path);
  }
  {
    g_autofree char *path = g_build_filename (proc_root, "loadavg", NULL);
    self->loadavg_file = sonde_proc_file_new (path);
  }

  /* The brand never changes: /proc/cpuinfo is big, read it once for it. */
  cpuinfo_path = g_build_filename (proc_root, "cpuinfo", NULL);
  if (g_file_get_contents (cpuinfo_path, &cpuinfo, NULL, NULL))
    self->brand = sonde_cpu_parse_brand (cpuinfo);
  else
    self->brand = g_strdup ("");
  self->cpuinfo_file = sonde_proc_file_new (cpuinfo_path);
}

static gboolean
same_cpus (GArray *freq_cpus,
           GArray *cores)
{
  if (freq_cpus->len != cores->len)
    return FALSE;

  for (guint i = 0; i < cores->len; i++)
    if (g_array_index (freq_cpus, guint, i) != g_array_index (cores, SondeCpuCoreTimes, i).cpu)
      return FALSE;

  return TRUE;
}

/* (Re)opens scaling_cur_freq for the online CPUs when their set changed. */
static void
ensure_freq_files (SondeCpuCollector *self,
                   GArray            *cores)
{
  if (self->freq_probed && same_cpus (self->freq_cpus, cores))
    return;

  g_ptr_array_set_size (self->freq_files, 0);
  g_array_set_size (self->freq_cpus, 0);
  self->freq_probed = TRUE;

  for (guint i = 0; i < cores->len; i++)
    {
      guint cpu = g_array_index (cores, SondeCpuCoreTimes, i).cpu;
      g_autofree char *dir = g_strdup_printf ("cpu%u", cpu);
      g_autofree char *path = g_build_filename (self->sys_root, "devices", "system", "cpu",
                                                dir, "cpufreq", "scaling_cur_freq", NULL);
      g_autoptr(SondeProcFile) file = sonde_proc_file_new (path);

      g_array_append_val (self->freq_cpus, cpu);

      /* Probing once here spares a failing open() per CPU per tick on
       * machines without cpufreq (most VMs). */
      if (sonde_proc_file_read (file, NULL, NULL) != NULL)
        g_ptr_array_add (self->freq_files, g_steal_pointer (&file));
    }
}

static double
read_frequency (SondeCpuCollector *self,
                GArray            *cores)
{
  double sum = 0;
  guint count = 0;
  const char *text;

  ensure_freq_files (self, cores);

  for (guint i = 0; i < self->freq_files->len; i++)
    {
      text = sonde_proc_file_read (g_ptr_array_index (self->freq_files, i), NULL, NULL);
      if (text != NULL)
        {
          char *end;
          guint64 khz = g_ascii_strtoull (text, &end, 10);

          if (end != text && khz > 0)
            {
              sum += khz / 1000.0;
              count++;
            }
        }
    }

  if (count > 0)
    return sum / count;

  text = sonde_proc_file_read (self->cpuinfo_file, NULL, NULL);
  return text != NULL ? sonde_cpu_parse_cpuinfo_mhz (text) : 0;
}

/*
 * Both arrays are in cpu-number order, so a merge walk pairs each online
 * CPU with its previous counters; a CPU that just came online has none.
 */
static JsonArray *
per_core_percent (SondeCpuCollector *self)
{
  JsonArray *array = json_array_sized_new (self->cores->len);
  guint j = 0;

  for (guint i = 0; i < self->cores->len; i++)
    {
      const SondeCpuCoreTimes *core = &g_array_index (self->cores, SondeCpuCoreTimes, i);
      const SondeCpuTimes *prev = NULL;
      SondeCpuPercent percent;

      while (j < self->prev_cores->len
             && g_array_index (self->prev_cores, SondeCpuCoreTimes, j).cpu < core->cpu)
        j++;
      if (self->have_prev && j < self->prev_cores->len
          && g_array_index (self->prev_cores, SondeCpuCoreTimes, j).cpu == core->cpu)
        prev = &g_array_index (self->prev_cores, SondeCpuCoreTimes, j).times;

      sonde_cpu_times_percent (prev, &core->times, &percent);
      json_array_add_double_element (array, percent.usage);
    }

  return array;
}

static SondeSample *
collect_locked (SondeCpuCollector  *self,
                GError            **error)
{
  g_autoptr(JsonObject) obj = NULL;
  SondeCpuTimes total;
  SondeCpuPercent percent;
  const char *text;
  double load[3] = { 0, 0, 0 };
  GArray *swap;

  ensure_files (self);

  text = sonde_proc_file_read (self->stat_file, NULL, error);
  if (text == NULL)
    return NULL;
  if (!sonde_cpu_parse_stat (text, &total, self->cores))
    {
      g_set_error (error, SONDE_ERROR, SONDE_ERROR_COLLECTOR_FAILED,
                   "No aggregate cpu line in %s", sonde_proc_file_get_path (self->stat_file));
      return NULL;
    }

  sonde_cpu_times_percent (self->have_prev ? &self->prev_total : NULL, &total, &percent);

  obj = json_object_new ();
  json_object_set_double_member (obj, "usage_percent", percent.usage);
  json_object_set_double_member (obj, "user_percent", percent.user);
  json_object_set_double_member (obj, "system_percent", percent.system);
  json_object_set_double_member (obj, "iowait_percent", percent.iowait);
  json_object_set_array_member (obj, "per_core_percent", per_core_percent (self));

  /* A missing loadavg (a stripped-down procfs) leaves 0 rather than
   * failing the whole sample. */
  text = sonde_proc_file_read (self->loadavg_file, NULL, NULL);
  if (text == NULL || !sonde_cpu_parse_loadavg (text, &load[0], &load[1], &load[2]))
    load[0] = load[1] = load[2] = 0;
  json_object_set_double_member (obj, "load_avg_1min", load[0]);
  json_object_set_double_member (obj, "load_avg_5min", load[1]);
  json_object_set_double_member (obj, "load_avg_15min", load[2]);

  json_object_set_int_member (obj, "cores", self->cores->len);
  json_object_set_double_member (obj, "frequency_mhz", read_frequency (self, self->cores));
  json_object_set_string_member (obj, "brand", self->brand);

  /* This tick's counters become the previous ones; the old array is
   * reused as next tick's scratch space. */
  self->prev_total = total;
  swap = self->prev_cores;
  self->prev_cores = self->cores;
  self->cores = swap;
  self->have_prev = TRUE;

  return sonde_sample_new ("cpu", g_get_real_time (), obj);
}

static SondeSample *
sonde_cpu_collector_collect (SondeCollector  *collector,
                             GError         **error)
{
  SondeCpuCollector *self = SONDE_CPU_COLLECTOR (collector);
  g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&self->lock);

  return collect_locked (self, error);
}

static gboolean
sonde_cpu_collector_start (SondeCollector  *collector,
                           GError         **error)
{
  SondeCpuCollector *self = SONDE_CPU_COLLECTOR (collector);
  g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&self->lock);

  close_files (self);
  forget_counters (self);
  ensure_files (self);

  /* Fail now, not on every tick, if there is no /proc/stat. */
  return sonde_proc_file_read (self->stat_file, NULL, error) != NULL;
}

static void
sonde_cpu_collector_stop (SondeCollector *collector)
{
  SondeCpuCollector *self = SONDE_CPU_COLLECTOR (collector);
  g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&self->lock);

  close_files (self);
  forget_counters (self);
}

static void
sonde_cpu_collector_constructed (GObject *object)
{
  SondeCollector *collector = SONDE_COLLECTOR (object);

  G_OBJECT_CLASS (sonde_cpu_collector_parent_class)->constructed (object);

  sonde_collector_add_metric (collector, "usage_percent", "percent", SONDE_METRIC_KIND_GAUGE,
                              "Busy time of all CPUs (everything but idle and iowait)");
  sonde_collector_add_metric (collector, "user_percent", "percent", SONDE_METRIC_KIND_GAUGE,
                              "Time spent in user mode, nice excluded");
  sonde_collector_add_metric (collector, "system_percent", "percent", SONDE_METRIC_KIND_GAUGE,
                              "Time spent in kernel mode, interrupts excluded");
  sonde_collector_add_metric (collector, "iowait_percent", "percent", SONDE_METRIC_KIND_GAUGE,
                              "Idle time with I/O outstanding");
  sonde_collector_add_metric (collector, "per_core_percent", "percent", SONDE_METRIC_KIND_TABLE,
                              "Busy time of each online logical CPU, in CPU-number order");
  sonde_collector_add_metric (collector, "load_avg_1min", "", SONDE_METRIC_KIND_GAUGE,
                              "Load average over 1 minute");
  sonde_collector_add_metric (collector, "load_avg_5min", "", SONDE_METRIC_KIND_GAUGE,
                              "Load average over 5 minutes");
  sonde_collector_add_metric (collector, "load_avg_15min", "", SONDE_METRIC_KIND_GAUGE,
                              "Load average over 15 minutes");
  sonde_collector_add_metric (collector, "cores", "count", SONDE_METRIC_KIND_GAUGE,
                              "Online logical CPUs");
  sonde_collector_add_metric (collector, "frequency_mhz", "MHz", SONDE_METRIC_KIND_GAUGE,
                              "Average current frequency of the online CPUs, 0 if unknown");
  sonde_collector_add_metric (collector, "brand", "", SONDE_METRIC_KIND_INFO,
                              "Processor model name");
}

static void
sonde_cpu_collector_finalize (GObject *object)
{
  SondeCpuCollector *self = SONDE_CPU_COLLECTOR (object);

  close_files (self);
  g_clear_pointer (&self->freq_files, g_ptr_array_unref);
  g_clear_pointer (&self->freq_cpus, g_array_unref);
  g_clear_pointer (&self->prev_cores, g_array_unref);
  g_clear_pointer (&self->cores, g_array_unref);
  g_mutex_clear (&self->lock);

  G_OBJECT_CLASS (sonde_cpu_collector_parent_class)->finalize (object);
}

static void
sonde_cpu_collector_class_init (SondeCpuCollectorClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  SondeCollectorClass *collector_class = SONDE_COLLECTOR_CLASS (klass);

  object_class->constructed = sonde_cpu_collector_constructed;
  object_class->finalize = sonde_cpu_collector_finalize;

  collector_class->start = sonde_cpu_collector_start;
  collector_class->stop = sonde_cpu_collector_stop;
  collector_class->collect = sonde_cpu_collector_collect;
}

static void
sonde_cpu_collector_init (SondeCpuCollector *self)
{
  g_mutex_init (&self->lock);
  self->freq_files = g_ptr_array_new_with_free_func ((GDestroyNotify) sonde_proc_file_free);
  self->freq_cpus = g_array_new (FALSE, FALSE, sizeof (guint));
  self->prev_cores = g_array_new (FALSE, FALSE, sizeof (SondeCpuCoreTimes));
  self->cores = g_array_new (FALSE, FALSE, sizeof (SondeCpuCoreTimes));
}

/**
 * sonde_cpu_collector_new:
 *
 * Returns: (transfer full): a new cpu collector
 */
SondeCollector *
sonde_cpu_collector_new (void)
{
  return g_object_new (SONDE_TYPE_CPU_COLLECTOR, "name", "cpu", NULL);
}

/* The module's entry points: libsonde-cpu.so registers this collector as
 * "cpu"; a higher priority lists it earlier. */
SONDE_DEFINE_COLLECTOR_PLUGIN (cpu, SONDE_TYPE_CPU_COLLECTOR, 70)
