/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "sonde-memory-collector.h"
#include "sonde-memory-parser.h"
#include "sonde-proc-file.h"

/**
 * SondeMemoryCollector:
 *
 * Reports RAM and swap from /proc/meminfo, with the same definitions as
 * `free -b` (procps 4) and psutil.
 */

struct _SondeMemoryCollector
{
  SondeCollector  parent_instance;

  /* start/stop run on the main thread, collect on a worker thread. */
  GMutex          lock;

  /* The root meminfo was opened under; reopened when proc-root changes. */
  char           *proc_root;
  SondeProcFile  *meminfo_file;
};

G_DEFINE_FINAL_TYPE (SondeMemoryCollector, sonde_memory_collector, SONDE_TYPE_COLLECTOR)

static void
close_files (SondeMemoryCollector *self)
{
  g_clear_pointer (&self->meminfo_file, sonde_proc_file_free);
  g_clear_pointer (&self->proc_root, g_free);
}

static void
ensure_files (SondeMemoryCollector *self)
{
  const char *proc_root = sonde_collector_get_proc_root (SONDE_COLLECTOR (self));
  g_autofree char *path = NULL;

  if (self->meminfo_file != NULL && g_strcmp0 (self->proc_root, proc_root) == 0)
    return;

  close_files (self);
  self->proc_root = g_strdup (proc_root);
  path = g_build_filename (proc_root, "meminfo", NULL);
  self->meminfo_file = sonde_proc_file_new (path);
}

static SondeSample *
sonde_memory_collector_collect (SondeCollector  *collector,
                                GError         **error)
{
  SondeMemoryCollector *self = SONDE_MEMORY_COLLECTOR (collector);
  g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&self->lock);
  g_autoptr(JsonObject) obj = NULL;
  SondeMeminfo info;
  SondeMemoryStats stats;
  const char *text;

  ensure_files (self);

  text = sonde_proc_file_read (self->meminfo_file, NULL, error);
  if (text == NULL)
    return NULL;
  if (!sonde_memory_parse_meminfo (text, &info))
    {
      g_set_error (error, SONDE_ERROR, SONDE_ERROR_COLLECTOR_FAILED,
                   "No MemTotal or MemFree in %s",
                   sonde_proc_file_get_path (self->meminfo_file));
      return NULL;
    }

  sonde_memory_compute (&info, &stats);

  obj = json_object_new ();
  json_object_set_int_member (obj, "total_bytes", stats.total);
  json_object_set_int_member (obj, "used_bytes", stats.used);
  json_object_set_int_member (obj, "available_bytes", stats.available);
  json_object_set_int_member (obj, "free_bytes", stats.free);
  json_object_set_int_member (obj, "cached_bytes", stats.cached);
  json_object_set_double_member (obj, "usage_percent", stats.usage_percent);
  json_object_set_int_member (obj, "swap_total_bytes", stats.swap_total);
  json_object_set_int_member (obj, "swap_used_bytes", stats.swap_used);
  json_object_set_double_member (obj, "swap_usage_percent", stats.swap_usage_percent);

  return sonde_sample_new ("memory", g_get_real_time (), obj);
}

static gboolean
sonde_memory_collector_start (SondeCollector  *collector,
                              GError         **error)
{
  SondeMemoryCollector *self = SONDE_MEMORY_COLLECTOR (collector);
  g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&self->lock);

  close_files (self);
  ensure_files (self);

  /* Fail now, not on every tick, if there is no /proc/meminfo. */
  return sonde_proc_file_read (self->meminfo_file, NULL, error) != NULL;
}

static void
sonde_memory_collector_stop (SondeCollector *collector)
{
  SondeMemoryCollector *self = SONDE_MEMORY_COLLECTOR (collector);
  g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&self->lock);

  close_files (self);
}

static void
sonde_memory_collector_constructed (GObject *object)
{
  SondeCollector *collector = SONDE_COLLECTOR (object);

  G_OBJECT_CLASS (sonde_memory_collector_parent_class)->constructed (object);

  sonde_collector_add_metric (collector, "total_bytes", "bytes", SONDE_METRIC_KIND_GAUGE,
                              "Usable RAM (MemTotal)");
  sonde_collector_add_metric (collector, "used_bytes", "bytes", SONDE_METRIC_KIND_GAUGE,
                              "RAM in use: total - available, as free(1) prints it");
  sonde_collector_add_metric (collector, "available_bytes", "bytes", SONDE_METRIC_KIND_GAUGE,
                              "RAM available to new programs without swapping (MemAvailable)");
  sonde_collector_add_metric (collector, "free_bytes", "bytes", SONDE_METRIC_KIND_GAUGE,
                              "Unused RAM (MemFree)");
  sonde_collector_add_metric (collector, "cached_bytes", "bytes", SONDE_METRIC_KIND_GAUGE,
                              "Page cache and reclaimable slab (Cached + SReclaimable)");
  sonde_collector_add_metric (collector, "usage_percent", "percent", SONDE_METRIC_KIND_GAUGE,
                              "Used RAM as a share of total");
  sonde_collector_add_metric (collector, "swap_total_bytes", "bytes", SONDE_METRIC_KIND_GAUGE,
                              "Swap space");
  sonde_collector_add_metric (collector, "swap_used_bytes", "bytes", SONDE_METRIC_KIND_GAUGE,
                              "Swap space in use");
  sonde_collector_add_metric (collector, "swap_usage_percent", "percent", SONDE_METRIC_KIND_GAUGE,
                              "Used swap as a share of swap space, 0 without swap");
}

static void
sonde_memory_collector_finalize (GObject *object)
{
  SondeMemoryCollector *self = SONDE_MEMORY_COLLECTOR (object);

  close_files (self);
  g_mutex_clear (&self->lock);

  G_OBJECT_CLASS (sonde_memory_collector_parent_class)->finalize (object);
}

static void
sonde_memory_collector_class_init (SondeMemoryCollectorClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  SondeCollectorClass *collector_class = SONDE_COLLECTOR_CLASS (klass);

  object_class->constructed = sonde_memory_collector_constructed;
  object_class->finalize = sonde_memory_collector_finalize;

  collector_class->start = sonde_memory_collector_start;
  collector_class->stop = sonde_memory_collector_stop;
  collector_class->collect = sonde_memory_collector_collect;
}

static void
sonde_memory_collector_init (SondeMemoryCollector *self)
{
  g_mutex_init (&self->lock);
}

/**
 * sonde_memory_collector_new:
 *
 * Returns: (transfer full): a new memory collector
 */
SondeCollector *
sonde_memory_collector_new (void)
{
  return g_object_new (SONDE_TYPE_MEMORY_COLLECTOR, "name", "memory", NULL);
}

/* The module's entry points: libsonde-memory.so registers this collector as
 * "memory"; a higher priority lists it earlier. */
SONDE_DEFINE_COLLECTOR_PLUGIN (memory, SONDE_TYPE_MEMORY_COLLECTOR, 60)
