/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include "sonde-processes-collector.h"
#include "sonde-processes-parser.h"
#include "sonde-proc-file.h"

#define TOP_N_MAX      100
#define TOP_N_DEFAULT  5

/* Per-process stat files kept open across ticks: enough for most hosts,
 * and never more than a quarter of the descriptor limit, which the server
 * needs for its clients (its connection cap leaves this many to us:
 * KEPT_STAT_FILES_MAX in src/libsonde/server/sonde-listener.c). sonded
 * raises its soft limit to the hard one at start (src/daemon/main.c). */
#define MAX_OPEN_STAT_FILES 4096

typedef struct
{
  int      pid;
  int      fd;            /* kept-open PID/stat, or -1 */
  guint    generation;    /* the scan that last read it */
  gboolean have_ticks;    /* ticks/start_time describe a previous sample */
  guint64  start_time;
  guint64  ticks;         /* utime + stime */
  guint64  rss_bytes;
  double   cpu_percent;
  char     name[SONDE_PROC_NAME_MAX];
} ProcEntry;

struct _SondeProcessesCollector
{
  SondeCollector           parent_instance;

  /* Collection state: start/stop run on the main thread and collect on a
   * worker, so the mutex keeps them from overlapping. */
  char                    *opened_root;
  DIR                     *dir;
  SondeProcFile           *meminfo;

  /* Every process seen by the last scan, so that CPU time can be
   * differenced; only up to max_open_files of them hold an open fd. */
  GHashTable              *entries;     /* pid -> ProcEntry */
  guint                    generation;
  guint                    open_files;
  guint                    max_open_files;
  gboolean                 max_open_forced;

  ProcEntry               *top_memory[TOP_N_MAX];
  ProcEntry               *top_cpu[TOP_N_MAX];

  gint64                   previous_time;
  gboolean                 have_previous;
  double                   page_size;
  double                   clk_tck;

  SondeProcessesClockFunc  clock;
  gpointer                 clock_data;

  guint                    top_n;       /* atomic: set from the main thread */

  /* /proc/PID/stat is a few hundred bytes; this holds the longest. */
  char                     stat_buffer[4096];
};

enum {
  PROP_0,
  PROP_TOP_N,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

G_DEFINE_FINAL_TYPE (SondeProcessesCollector, sonde_processes_collector, SONDE_TYPE_COLLECTOR)

static void
proc_entry_free (gpointer data)
{
  ProcEntry *entry = data;

  if (entry->fd >= 0)
    close (entry->fd);
  g_free (entry);
}

static void
close_entry_fd (SondeProcessesCollector *self,
                ProcEntry               *entry)
{
  if (entry->fd < 0)
    return;
  close (entry->fd);
  entry->fd = -1;
  self->open_files--;
}

static void
close_files (SondeProcessesCollector *self)
{
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, self->entries);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    close_entry_fd (self, value);
  g_assert (self->open_files == 0);

  g_clear_pointer (&self->dir, closedir);
  g_clear_pointer (&self->meminfo, sonde_proc_file_free);
  g_clear_pointer (&self->opened_root, g_free);
}

static void
forget_previous (SondeProcessesCollector *self)
{
  close_files (self);
  g_hash_table_remove_all (self->entries);
  self->have_previous = FALSE;
}

static void
update_max_open_files (SondeProcessesCollector *self)
{
  struct rlimit limit;

  if (self->max_open_forced)
    return;

  self->max_open_files = MAX_OPEN_STAT_FILES;
  if (getrlimit (RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY)
    self->max_open_files = MIN (MAX_OPEN_STAT_FILES, limit.rlim_cur / 4);
}

/*
 * Opens the proc directory and meminfo below the current proc root,
 * reopening when a test moved the root. Previous CPU times survive a root
 * change (tests difference two fixture trees); the start time tells
 * whether a pid is still the same process.
 */
static gboolean
ensure_files (SondeProcessesCollector  *self,
              GError                  **error)
{
  const char *root = sonde_collector_get_proc_root (SONDE_COLLECTOR (self));
  g_autofree char *meminfo_path = NULL;

  if (self->opened_root != NULL && g_str_equal (self->opened_root, root))
    return TRUE;

  close_files (self);

  self->dir = opendir (root);
  if (self->dir == NULL)
    {
      int saved_errno = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                   "Cannot open %s: %s", root, g_strerror (saved_errno));
      return FALSE;
    }

  meminfo_path = g_build_filename (root, "meminfo", NULL);
  self->meminfo = sonde_proc_file_new (meminfo_path);
  self->opened_root = g_strdup (root);
  return TRUE;
}

static gssize
pread_all (int    fd,
           char  *buffer,
           gsize  size)
{
  gssize n;

  do
    n = pread (fd, buffer, size, 0);
  while (n < 0 && errno == EINTR);
  return n;
}

/*
 * Reads PID/stat into stat_buffer through the entry's kept-open fd, or by
 * path. A kept-open fd of a process that exited fails with ESRCH, even
 * when the pid was reused since: then the file is reopened by path, and
 * the start time tells the caller it is a new process.
 *
 * Returns: the length read, 0 or -1 when the process is gone
 */
static gssize
read_stat (SondeProcessesCollector *self,
           ProcEntry               *entry)
{
  for (guint attempt = 0; attempt < 2; attempt++)
    {
      gboolean cached = entry->fd >= 0;
      int fd = entry->fd;
      gssize n;

      if (!cached)
        {
          char path[32];

          g_snprintf (path, sizeof path, "%d/stat", entry->pid);
          fd = openat (dirfd (self->dir), path, O_RDONLY | O_CLOEXEC);
          if (fd < 0)
            return -1;
        }

      n = pread_all (fd, self->stat_buffer, sizeof self->stat_buffer - 1);

      if (cached)
        {
          if (n >= 0)
            return n;
          close_entry_fd (self, entry);
          continue;
        }

      if (n > 0 && self->open_files < self->max_open_files)
        {
          entry->fd = fd;
          self->open_files++;
        }
      else
        close (fd);
      return n;
    }

  return -1;
}

static inline gboolean
memory_before (const ProcEntry *a,
               const ProcEntry *b)
{
  return a->rss_bytes > b->rss_bytes || (a->rss_bytes == b->rss_bytes && a->pid < b->pid);
}

static inline gboolean
cpu_before (const ProcEntry *a,
            const ProcEntry *b)
{
  return a->cpu_percent > b->cpu_percent || (a->cpu_percent == b->cpu_percent && a->pid < b->pid);
}

/* Keeps top[0..len) sorted with the best first; O(n) only for a winner. */
static void
insert_top (ProcEntry        **top,
            guint             *len,
            guint              n,
            ProcEntry         *entry,
            gboolean         (*before) (const ProcEntry *, const ProcEntry *))
{
  guint i;

  if (*len == n && !before (entry, top[n - 1]))
    return;

  i = (*len < n) ? (*len)++ : n - 1;
  while (i > 0 && before (entry, top[i - 1]))
    {
      top[i] = top[i - 1];
      i--;
    }
  top[i] = entry;
}

static gboolean
remove_unseen_cb (gpointer key,
                  gpointer value,
                  gpointer user_data)
{
  SondeProcessesCollector *self = user_data;
  ProcEntry *entry = value;

  if (entry->generation == self->generation)
    return FALSE;

  close_entry_fd (self, entry);
  return TRUE;
}

static void
set_name_member (JsonObject *obj,
                 const char *name)
{
  g_autofree char *valid = NULL;

  /* comm is whatever bytes the process chose; JSON needs UTF-8. */
  if (!g_utf8_validate (name, -1, NULL))
    name = valid = g_utf8_make_valid (name, -1);
  json_object_set_string_member (obj, "name", name);
}

static gint64
get_now (SondeProcessesCollector *self)
{
  if (self->clock != NULL)
    return self->clock (self->clock_data);
  return g_get_monotonic_time ();
}

static SondeSample *
sonde_processes_collector_collect (SondeCollector  *collector,
                                   GError         **error)
{
  SondeProcessesCollector *self = SONDE_PROCESSES_COLLECTOR (collector);
  g_autoptr(JsonObject) obj = NULL;
  JsonArray *top_memory;
  JsonArray *top_cpu;
  const char *meminfo;
  guint64 mem_total = 0;
  guint top_n = g_atomic_int_get (&self->top_n);
  guint n_memory = 0, n_cpu = 0;
  guint count = 0, running = 0;
  double elapsed = 0.0;
  struct dirent *dent;
  gint64 now;

  if (!ensure_files (self, error))
    return NULL;

  meminfo = sonde_proc_file_read (self->meminfo, NULL, error);
  if (meminfo == NULL)
    return NULL;
  if (!sonde_proc_parse_mem_total (meminfo, &mem_total))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "No MemTotal in %s", sonde_proc_file_get_path (self->meminfo));
      return NULL;
    }

  /* Sampled once, before the scan: processes are read within a few
   * milliseconds, which is noise next to a tick. */
  now = get_now (self);
  if (self->have_previous && now > self->previous_time)
    elapsed = (now - self->previous_time) / (double) G_USEC_PER_SEC;

  self->generation++;
  rewinddir (self->dir);

  while ((errno = 0, dent = readdir (self->dir)) != NULL)
    {
      SondeProcStat st;
      ProcEntry *entry;
      guint64 ticks;
      gssize n;
      int pid;

      /* Like psutil.pids(): every all-digit name, even one whose process
       * exits before we read it. d_type is not checked: procfs only has
       * directories there, and tests put symlinks to live processes. */
      if (!sonde_proc_is_pid (dent->d_name, &pid))
        continue;
      count++;

      entry = g_hash_table_lookup (self->entries, GINT_TO_POINTER (pid));
      if (entry == NULL)
        {
          entry = g_new0 (ProcEntry, 1);
          entry->pid = pid;
          entry->fd = -1;
          g_hash_table_insert (self->entries, GINT_TO_POINTER (pid), entry);
        }

      /* Exited mid-scan: skip it silently; not marked seen, so its entry
       * goes at the end of the scan. */
      n = read_stat (self, entry);
      if (n <= 0)
        continue;
      self->stat_buffer[n] = '\0';
      if (!sonde_proc_parse_stat (self->stat_buffer, n, &st))
        continue;

      entry->generation = self->generation;

      /* A different start time is a reused pid: a new process. */
      ticks = st.utime + st.stime;
      entry->cpu_percent = 0.0;
      if (elapsed > 0.0 && entry->have_ticks && entry->start_time == st.start_time &&
          ticks >= entry->ticks)
        entry->cpu_percent = (ticks - entry->ticks) / self->clk_tck / elapsed * 100.0;

      entry->ticks = ticks;
      entry->start_time = st.start_time;
      entry->have_ticks = TRUE;
      entry->rss_bytes = st.rss_pages * self->page_size;
      memcpy (entry->name, st.name, sizeof entry->name);

      if (st.state == 'R')
        running++;

      insert_top (self->top_memory, &n_memory, top_n, entry, memory_before);
      insert_top (self->top_cpu, &n_cpu, top_n, entry, cpu_before);
    }

  if (errno != 0)
    g_debug ("Reading %s stopped early: %s", self->opened_root, g_strerror (errno));

  g_hash_table_foreach_remove (self->entries, remove_unseen_cb, self);

  top_memory = json_array_sized_new (n_memory);
  for (guint i = 0; i < n_memory; i++)
    {
      const ProcEntry *entry = self->top_memory[i];
      JsonObject *item = json_object_new ();

      json_object_set_int_member (item, "pid", entry->pid);
      set_name_member (item, entry->name);
      json_object_set_double_member (item, "memory_percent",
                                     (double) entry->rss_bytes / mem_total * 100.0);
      json_object_set_int_member (item, "rss_bytes", entry->rss_bytes);
      json_array_add_object_element (top_memory, item);
    }

  top_cpu = json_array_sized_new (n_cpu);
  for (guint i = 0; i < n_cpu; i++)
    {
      const ProcEntry *entry = self->top_cpu[i];
      JsonObject *item = json_object_new ();

      json_object_set_int_member (item, "pid", entry->pid);
      set_name_member (item, entry->name);
      json_object_set_double_member (item, "cpu_percent", entry->cpu_percent);
      json_array_add_object_element (top_cpu, item);
    }

  obj = json_object_new ();
  json_object_set_int_member (obj, "count", count);
  json_object_set_int_member (obj, "running", running);
  json_object_set_array_member (obj, "top_memory", top_memory);
  json_object_set_array_member (obj, "top_cpu", top_cpu);

  self->previous_time = now;
  self->have_previous = TRUE;

  return sonde_sample_new ("processes", g_get_real_time (), obj);
}

static gboolean
sonde_processes_collector_start (SondeCollector  *collector,
                                 GError         **error)
{
  SondeProcessesCollector *self = SONDE_PROCESSES_COLLECTOR (collector);

  forget_previous (self);
  /* The daemon may have raised its descriptor limit since we were made. */
  update_max_open_files (self);
  return ensure_files (self, error);
}

static void
sonde_processes_collector_stop (SondeCollector *collector)
{
  SondeProcessesCollector *self = SONDE_PROCESSES_COLLECTOR (collector);

  forget_previous (self);
}

static void
sonde_processes_collector_constructed (GObject *object)
{
  SondeCollector *collector = SONDE_COLLECTOR (object);

  G_OBJECT_CLASS (sonde_processes_collector_parent_class)->constructed (object);

  sonde_collector_add_metric (collector, "count", "count", SONDE_METRIC_KIND_GAUGE,
                              "Number of processes");
  sonde_collector_add_metric (collector, "running", "count", SONDE_METRIC_KIND_GAUGE,
                              "Processes in state R (running or runnable)");
  sonde_collector_add_metric (collector, "top_memory", "", SONDE_METRIC_KIND_TABLE,
                              "Processes using the most resident memory: pid, name, memory_percent, rss_bytes");
  sonde_collector_add_metric (collector, "top_cpu", "", SONDE_METRIC_KIND_TABLE,
                              "Processes using the most CPU since the previous sample: pid, name, "
                              "cpu_percent (100 = one full core)");
}

static void
sonde_processes_collector_finalize (GObject *object)
{
  SondeProcessesCollector *self = SONDE_PROCESSES_COLLECTOR (object);

  forget_previous (self);
  g_clear_pointer (&self->entries, g_hash_table_unref);

  G_OBJECT_CLASS (sonde_processes_collector_parent_class)->finalize (object);
}

static void
sonde_processes_collector_get_property (GObject    *object,
                                        guint       prop_id,
                                        GValue     *value,
                                        GParamSpec *pspec)
{
  SondeProcessesCollector *self = SONDE_PROCESSES_COLLECTOR (object);

  switch (prop_id)
    {
    case PROP_TOP_N:
      g_value_set_uint (value, sonde_processes_collector_get_top_n (self));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
sonde_processes_collector_set_property (GObject      *object,
                                        guint         prop_id,
                                        const GValue *value,
                                        GParamSpec   *pspec)
{
  SondeProcessesCollector *self = SONDE_PROCESSES_COLLECTOR (object);

  switch (prop_id)
    {
    case PROP_TOP_N:
      sonde_processes_collector_set_top_n (self, g_value_get_uint (value));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
sonde_processes_collector_class_init (SondeProcessesCollectorClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  SondeCollectorClass *collector_class = SONDE_COLLECTOR_CLASS (klass);

  object_class->constructed = sonde_processes_collector_constructed;
  object_class->finalize = sonde_processes_collector_finalize;
  object_class->get_property = sonde_processes_collector_get_property;
  object_class->set_property = sonde_processes_collector_set_property;

  collector_class->start = sonde_processes_collector_start;
  collector_class->stop = sonde_processes_collector_stop;
  collector_class->collect = sonde_processes_collector_collect;

  /**
   * SondeProcessesCollector:top-n:
   *
   * How many processes top_memory and top_cpu list.
   */
  properties[PROP_TOP_N] =
    g_param_spec_uint ("top-n", NULL, NULL,
                       1, TOP_N_MAX, TOP_N_DEFAULT,
                       G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
sonde_processes_collector_init (SondeProcessesCollector *self)
{
  self->top_n = TOP_N_DEFAULT;
  self->entries = g_hash_table_new_full (NULL, NULL, NULL, proc_entry_free);
  self->page_size = sysconf (_SC_PAGESIZE);
  self->clk_tck = sysconf (_SC_CLK_TCK);
  update_max_open_files (self);
}

SondeCollector *
sonde_processes_collector_new (void)
{
  return g_object_new (SONDE_TYPE_PROCESSES_COLLECTOR, "name", "processes", NULL);
}

guint
sonde_processes_collector_get_top_n (SondeProcessesCollector *self)
{
  g_return_val_if_fail (SONDE_IS_PROCESSES_COLLECTOR (self), TOP_N_DEFAULT);

  return g_atomic_int_get (&self->top_n);
}

void
sonde_processes_collector_set_top_n (SondeProcessesCollector *self,
                                     guint                    top_n)
{
  g_return_if_fail (SONDE_IS_PROCESSES_COLLECTOR (self));
  g_return_if_fail (top_n >= 1 && top_n <= TOP_N_MAX);

  if ((guint) g_atomic_int_get (&self->top_n) == top_n)
    return;

  g_atomic_int_set (&self->top_n, top_n);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TOP_N]);
}

void
_sonde_processes_collector_set_clock (SondeProcessesCollector *self,
                                      SondeProcessesClockFunc  func,
                                      gpointer                 user_data)
{
  g_autoptr(SondeCollectorLocker) locker = NULL;

  g_return_if_fail (SONDE_IS_PROCESSES_COLLECTOR (self));

  locker = sonde_collector_lock_settings (SONDE_COLLECTOR (self));

  self->clock = func;
  self->clock_data = user_data;
}

void
_sonde_processes_collector_set_max_open_files (SondeProcessesCollector *self,
                                               guint                    max_open)
{
  g_autoptr(SondeCollectorLocker) locker = NULL;

  g_return_if_fail (SONDE_IS_PROCESSES_COLLECTOR (self));

  locker = sonde_collector_lock_settings (SONDE_COLLECTOR (self));
  self->max_open_files = max_open;
  self->max_open_forced = TRUE;
}

guint
_sonde_processes_collector_get_open_files (SondeProcessesCollector *self)
{
  g_autoptr(SondeCollectorLocker) locker = NULL;

  g_return_val_if_fail (SONDE_IS_PROCESSES_COLLECTOR (self), 0);

  locker = sonde_collector_lock_settings (SONDE_COLLECTOR (self));
  return self->open_files;
}

/* The module's entry points: libsonde-processes.so registers this collector as
 * "processes"; a higher priority lists it earlier. */
SONDE_DEFINE_COLLECTOR_PLUGIN (processes, SONDE_TYPE_PROCESSES_COLLECTOR, 30)
