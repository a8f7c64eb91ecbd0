/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "sonde-disk-collector.h"
#include "sonde-disk-parser.h"
#include "sonde-proc-file.h"

/*
 * The disk collector: space of the mounted real filesystems (mountinfo +
 * statvfs) and I/O rates of the whole disks (/proc/diskstats).
 *
 * mountinfo is kept open and polled: the kernel flags the open file with
 * POLLPRI|POLLERR when the mount table changes, so it is re-read and
 * re-parsed only then, while statvfs() runs on each kept mount every tick
 * (free space is what changes). diskstats is re-read with pread each tick.
 */

typedef struct
{
  guint64 reads;
  guint64 read_sectors;
  guint64 writes;
  guint64 write_sectors;
  guint   generation;       /* the last tick that listed the device */
  guint   whole_known : 1;
  guint   whole : 1;        /* a disk, not a partition: it is in SYS/block */
  guint   has_previous : 1;
} DeviceState;

struct _SondeDiskCollector
{
  SondeCollector        parent_instance;

  SondeDiskStatvfsFunc  statvfs_func;
  SondeDiskClockFunc    clock_func;

  /* The roots the files below were opened from: a change reopens them. */
  char                 *proc_root;
  char                 *sys_root;

  int                   mountinfo_fd;
  GString              *mountinfo_text;
  GPtrArray            *partitions;     /* SondeDiskMount; NULL: to be read */

  SondeProcFile        *diskstats;
  GArray               *stats;          /* SondeDiskStat, reused each tick */
  GHashTable           *devices;        /* name -> DeviceState */
  guint                 generation;
  gint64                previous_time;
  gboolean              has_previous_time;
};

G_DEFINE_FINAL_TYPE (SondeDiskCollector, sonde_disk_collector, SONDE_TYPE_COLLECTOR)

static gint64
default_clock (void)
{
  return g_get_monotonic_time ();
}

static void
close_files (SondeDiskCollector *self)
{
  GHashTableIter iter;
  DeviceState *state;

  if (self->mountinfo_fd >= 0)
    {
      close (self->mountinfo_fd);
      self->mountinfo_fd = -1;
    }
  g_clear_pointer (&self->partitions, g_ptr_array_unref);
  g_clear_pointer (&self->diskstats, sonde_proc_file_free);
  g_clear_pointer (&self->proc_root, g_free);
  g_clear_pointer (&self->sys_root, g_free);

  /* Which names are whole disks depends on the sys root. */
  g_hash_table_iter_init (&iter, self->devices);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &state))
    state->whole_known = FALSE;
}

static void
forget_counters (SondeDiskCollector *self)
{
  g_hash_table_remove_all (self->devices);
  self->has_previous_time = FALSE;
  self->previous_time = 0;
}

static gboolean
ensure_open (SondeDiskCollector  *self,
             GError             **error)
{
  SondeCollector *collector = SONDE_COLLECTOR (self);
  const char *proc_root = sonde_collector_get_proc_root (collector);
  const char *sys_root = sonde_collector_get_sys_root (collector);

  if (g_strcmp0 (proc_root, self->proc_root) != 0 ||
      g_strcmp0 (sys_root, self->sys_root) != 0)
    {
      close_files (self);
      self->proc_root = g_strdup (proc_root);
      self->sys_root = g_strdup (sys_root);
    }

  if (self->mountinfo_fd < 0)
    {
      g_autofree char *path = g_build_filename (self->proc_root, "self", "mountinfo", NULL);

      self->mountinfo_fd = open (path, O_RDONLY | O_CLOEXEC);
      if (self->mountinfo_fd < 0)
        {
          int saved_errno = errno;

          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                       "Cannot open %s: %s", path, g_strerror (saved_errno));
          return FALSE;
        }
      g_clear_pointer (&self->partitions, g_ptr_array_unref);
    }

  if (self->diskstats == NULL)
    {
      g_autofree char *path = g_build_filename (self->proc_root, "diskstats", NULL);

      self->diskstats = sonde_proc_file_new (path);
    }

  return TRUE;
}

static gboolean
read_mountinfo (SondeDiskCollector  *self,
                GError             **error)
{
  GString *buf = self->mountinfo_text;

  g_string_truncate (buf, 0);

  /* Read from offset 0 until EOF: procfs gives at most a page per call. */
  for (;;)
    {
      gsize len = buf->len;
      ssize_t n;

      g_string_set_size (buf, len + 8192);
      n = pread (self->mountinfo_fd, buf->str + len, 8192, len);
      if (n < 0)
        {
          int saved_errno = errno;

          g_string_set_size (buf, len);
          if (saved_errno == EINTR)
            continue;
          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                       "Cannot read %s/self/mountinfo: %s",
                       self->proc_root, g_strerror (saved_errno));
          return FALSE;
        }
      g_string_set_size (buf, len + n);
      if (n == 0)
        return TRUE;
    }
}

/*
 * The kernel may name the root device "/dev/root" (booted with
 * root=/dev/xxx and no initramfs); name it as psutil does, by its real
 * device node, found from major:minor in SYS/dev/block.
 */
static void
resolve_dev_root (SondeDiskCollector *self,
                  SondeDiskMount     *mount)
{
  g_autofree char *majmin = NULL;
  g_autofree char *link_path = NULL;
  g_autofree char *target = NULL;
  g_autofree char *name = NULL;

  if (!g_str_equal (mount->device, "/dev/root"))
    return;

  majmin = g_strdup_printf ("%u:%u", mount->major, mount->minor);
  link_path = g_build_filename (self->sys_root, "dev", "block", majmin, NULL);
  target = g_file_read_link (link_path, NULL);
  if (target == NULL)
    return;

  name = g_path_get_basename (target);
  g_free (mount->device);
  mount->device = g_strconcat ("/dev/", name, NULL);
}

static gboolean
refresh_partitions (SondeDiskCollector  *self,
                    GError             **error)
{
  struct pollfd pfd = { .fd = self->mountinfo_fd, .events = POLLPRI };
  g_autofree char *filesystems_path = NULL;
  g_autofree char *filesystems = NULL;
  g_autoptr(GHashTable) real_fs_types = NULL;
  GPtrArray *mounts;

  /* A regular file (a fixture) never reports POLLPRI: read once. */
  if (poll (&pfd, 1, 0) > 0 && (pfd.revents & (POLLPRI | POLLERR)) != 0)
    g_clear_pointer (&self->partitions, g_ptr_array_unref);

  if (self->partitions != NULL)
    return TRUE;

  if (!read_mountinfo (self, error))
    return FALSE;

  /* A mount may have loaded a filesystem module: re-read the types too. */
  filesystems_path = g_build_filename (self->proc_root, "filesystems", NULL);
  if (!g_file_get_contents (filesystems_path, &filesystems, NULL, error))
    return FALSE;
  real_fs_types = sonde_disk_parse_filesystems (filesystems);

  mounts = sonde_disk_parse_mountinfo (self->mountinfo_text->str);
  sonde_disk_filter_partitions (mounts, real_fs_types);
  for (guint i = 0; i < mounts->len; i++)
    resolve_dev_root (self, g_ptr_array_index (mounts, i));

  self->partitions = mounts;
  return TRUE;
}

static JsonObject *
usage_to_json (const SondeDiskMount *mount,
               const SondeDiskUsage *usage)
{
  JsonObject *obj = json_object_new ();

  json_object_set_string_member (obj, "mount", mount->mount_point);
  json_object_set_string_member (obj, "device", mount->device);
  json_object_set_string_member (obj, "fs_type", mount->fs_type);
  json_object_set_int_member (obj, "total_bytes", usage->total_bytes);
  json_object_set_int_member (obj, "used_bytes", usage->used_bytes);
  json_object_set_int_member (obj, "free_bytes", usage->free_bytes);
  json_object_set_double_member (obj, "usage_percent", usage->usage_percent);
  return obj;
}

static void
collect_partitions (SondeDiskCollector *self,
                    JsonObject         *data)
{
  JsonArray *partitions = json_array_sized_new (self->partitions->len);
  SondeDiskUsage root_usage = { 0 };
  gboolean have_root = FALSE;

  for (guint i = 0; i < self->partitions->len; i++)
    {
      const SondeDiskMount *mount = g_ptr_array_index (self->partitions, i);
      struct statvfs st;
      SondeDiskUsage usage;

      /* Not fatal: a mount can vanish or deny access between two reads. */
      if (self->statvfs_func (mount->mount_point, &st) != 0)
        {
          g_debug ("statvfs(%s) failed: %s", mount->mount_point, g_strerror (errno));
          continue;
        }

      sonde_disk_usage_from_statvfs (&st, &usage);
      if (g_str_equal (mount->mount_point, "/"))
        {
          root_usage = usage;
          have_root = TRUE;
        }
      json_array_add_object_element (partitions, usage_to_json (mount, &usage));
    }

  /* The root filesystem may not be a listed partition (an overlay in a
   * container), but its usage is still the one asked for. */
  if (!have_root)
    {
      struct statvfs st;

      if (self->statvfs_func ("/", &st) == 0)
        sonde_disk_usage_from_statvfs (&st, &root_usage);
    }

  json_object_set_double_member (data, "usage_percent", root_usage.usage_percent);
  json_object_set_array_member (data, "partitions", partitions);
}

static gboolean
is_whole_disk (SondeDiskCollector *self,
               const char         *name)
{
  g_autofree char *sys_name = g_strdup (name);
  g_autofree char *path = NULL;

  /* sysfs spells a '/' in a device name ("cciss/c0d0") as '!'. */
  g_strdelimit (sys_name, "/", '!');
  path = g_build_filename (self->sys_root, "block", sys_name, NULL);
  return g_file_test (path, G_FILE_TEST_IS_DIR);
}

static gboolean
remove_stale (gpointer key,
              gpointer value,
              gpointer user_data)
{
  const DeviceState *state = value;

  return state->generation != GPOINTER_TO_UINT (user_data);
}

static gboolean
collect_devices (SondeDiskCollector  *self,
                 JsonObject          *data,
                 GError             **error)
{
  JsonArray *devices;
  const char *text;
  double seconds = 0;
  double read_total = 0;
  double write_total = 0;
  gint64 now;

  text = sonde_proc_file_read (self->diskstats, NULL, error);
  if (text == NULL)
    return FALSE;

  now = self->clock_func ();
  if (self->has_previous_time)
    seconds = (now - self->previous_time) / (double) G_USEC_PER_SEC;
  self->previous_time = now;
  self->has_previous_time = TRUE;
  self->generation++;

  sonde_disk_parse_diskstats (text, self->stats);
  devices = json_array_sized_new (self->stats->len);

  for (guint i = 0; i < self->stats->len; i++)
    {
      const SondeDiskStat *stat = &g_array_index (self->stats, SondeDiskStat, i);
      DeviceState *state = g_hash_table_lookup (self->devices, stat->name);
      double read_bytes = 0, write_bytes = 0, reads = 0, writes = 0;
      JsonObject *obj;

      if (state == NULL)
        {
          state = g_new0 (DeviceState, 1);
          g_hash_table_insert (self->devices, g_strdup (stat->name), state);
        }

      /* Checked once per device name, not per tick: hotplug brings a new name. */
      if (!state->whole_known)
        {
          state->whole = is_whole_disk (self, stat->name);
          state->whole_known = TRUE;
        }

      if (state->has_previous)
        {
          read_bytes = SONDE_DISK_SECTOR_SIZE *
                       sonde_disk_rate (state->read_sectors, stat->read_sectors, seconds);
          write_bytes = SONDE_DISK_SECTOR_SIZE *
                        sonde_disk_rate (state->write_sectors, stat->write_sectors, seconds);
          reads = sonde_disk_rate (state->reads, stat->reads, seconds);
          writes = sonde_disk_rate (state->writes, stat->writes, seconds);
        }

      state->reads = stat->reads;
      state->read_sectors = stat->read_sectors;
      state->writes = stat->writes;
      state->write_sectors = stat->write_sectors;
      state->has_previous = TRUE;
      state->generation = self->generation;

      if (!state->whole || sonde_disk_is_idle_virtual (stat))
        continue;

      obj = json_object_new ();
      json_object_set_string_member (obj, "name", stat->name);
      json_object_set_double_member (obj, "read_bytes_per_sec", read_bytes);
      json_object_set_double_member (obj, "write_bytes_per_sec", write_bytes);
      json_object_set_double_member (obj, "reads_per_sec", reads);
      json_object_set_double_member (obj, "writes_per_sec", writes);
      json_array_add_object_element (devices, obj);

      read_total += read_bytes;
      write_total += write_bytes;
    }

  /* A device that went away must not leave counters for a namesake. */
  g_hash_table_foreach_remove (self->devices, remove_stale, GUINT_TO_POINTER (self->generation));

  json_object_set_double_member (data, "read_bytes_per_sec", read_total);
  json_object_set_double_member (data, "write_bytes_per_sec", write_total);
  json_object_set_array_member (data, "devices", devices);
  return TRUE;
}

static gboolean
sonde_disk_collector_start (SondeCollector  *collector,
                            GError         **error)
{
  SondeDiskCollector *self = SONDE_DISK_COLLECTOR (collector);

  forget_counters (self);
  return ensure_open (self, error);
}

static void
sonde_disk_collector_stop (SondeCollector *collector)
{
  SondeDiskCollector *self = SONDE_DISK_COLLECTOR (collector);

  close_files (self);
  forget_counters (self);
}

static SondeSample *
sonde_disk_collector_collect (SondeCollector  *collector,
                              GError         **error)
{
  SondeDiskCollector *self = SONDE_DISK_COLLECTOR (collector);
  g_autoptr(JsonObject) data = NULL;

  if (!ensure_open (self, error) ||
      !refresh_partitions (self, error))
    return NULL;

  data = json_object_new ();
  collect_partitions (self, data);
  if (!collect_devices (self, data, error))
    return NULL;

  return sonde_sample_new ("disk", g_get_real_time (), data);
}

static void
sonde_disk_collector_constructed (GObject *object)
{
  SondeCollector *collector = SONDE_COLLECTOR (object);

  G_OBJECT_CLASS (sonde_disk_collector_parent_class)->constructed (object);

  sonde_collector_add_metric (collector, "usage_percent", "percent", SONDE_METRIC_KIND_GAUGE,
                              "Used space of the root filesystem, of the space usable by non-root users");
  sonde_collector_add_metric (collector, "partitions", "", SONDE_METRIC_KIND_TABLE,
                              "Mounted real filesystems: mount, device, fs_type, total_bytes, used_bytes, free_bytes, usage_percent");
  sonde_collector_add_metric (collector, "read_bytes_per_sec", "bytes/s", SONDE_METRIC_KIND_RATE,
                              "Bytes read per second, summed over the whole disks");
  sonde_collector_add_metric (collector, "write_bytes_per_sec", "bytes/s", SONDE_METRIC_KIND_RATE,
                              "Bytes written per second, summed over the whole disks");
  sonde_collector_add_metric (collector, "devices", "", SONDE_METRIC_KIND_TABLE,
                              "Whole disks: name, read_bytes_per_sec, write_bytes_per_sec, reads_per_sec, writes_per_sec");
}

static void
sonde_disk_collector_finalize (GObject *object)
{
  SondeDiskCollector *self = SONDE_DISK_COLLECTOR (object);

  close_files (self);
  g_clear_pointer (&self->devices, g_hash_table_unref);
  g_clear_pointer (&self->stats, g_array_unref);
  g_string_free (self->mountinfo_text, TRUE);

  G_OBJECT_CLASS (sonde_disk_collector_parent_class)->finalize (object);
}

static void
sonde_disk_collector_class_init (SondeDiskCollectorClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  SondeCollectorClass *collector_class = SONDE_COLLECTOR_CLASS (klass);

  object_class->constructed = sonde_disk_collector_constructed;
  object_class->finalize = sonde_disk_collector_finalize;

  collector_class->start = sonde_disk_collector_start;
  collector_class->stop = sonde_disk_collector_stop;
  collector_class->collect = sonde_disk_collector_collect;
}

static void
sonde_disk_collector_init (SondeDiskCollector *self)
{
  self->statvfs_func = statvfs;
  self->clock_func = default_clock;
  self->mountinfo_fd = -1;
  self->mountinfo_text = g_string_sized_new (8192);
  self->stats = g_array_new (FALSE, TRUE, sizeof (SondeDiskStat));
  self->devices = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
}

SondeCollector *
sonde_disk_collector_new (void)
{
  return g_object_new (SONDE_TYPE_DISK_COLLECTOR, "name", "disk", NULL);
}

void
sonde_disk_collector_set_statvfs_func (SondeDiskCollector   *self,
                                       SondeDiskStatvfsFunc  func)
{
  g_return_if_fail (SONDE_IS_DISK_COLLECTOR (self));

  self->statvfs_func = func ? func : statvfs;
}

void
sonde_disk_collector_set_clock_func (SondeDiskCollector *self,
                                     SondeDiskClockFunc  func)
{
  g_return_if_fail (SONDE_IS_DISK_COLLECTOR (self));

  self->clock_func = func ? func : default_clock;
}

/* The module's entry points: libsonde-disk.so registers this collector as
 * "disk"; a higher priority lists it earlier. */
SONDE_DEFINE_COLLECTOR_PLUGIN (disk, SONDE_TYPE_DISK_COLLECTOR, 50)
