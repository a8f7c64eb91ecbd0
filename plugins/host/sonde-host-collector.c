/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>

#include "sonde-host-collector.h"
#include "sonde-host-parser.h"
#include "sonde-proc-file.h"

#define DEFAULT_OS_RELEASE_PATH  "/etc/os-release"
#define FALLBACK_OS_RELEASE_PATH "/usr/lib/os-release"

/* btime only moves when the wall clock is stepped, so a minute is plenty. */
#define BTIME_REFRESH_US (60 * G_USEC_PER_SEC)

struct _SondeHostCollector
{
  SondeCollector      parent_instance;

  /*
   * One lock for everything: collect runs on a worker thread while the
   * properties, start and stop are driven from the main thread, and the
   * engine may give up on a late collection and stop the collector while
   * it is still running. Nothing under the lock can block for long.
   */
  GMutex              lock;

  char               *os_release_path;
  SondeHostUnameFunc  uname_func;

  /* The proc root the files below were opened under; NULL when closed. */
  char               *opened_root;
  SondeProcFile      *hostname_file;
  SondeProcFile      *uptime_file;
  SondeProcFile      *stat_file;

  /* Read once: they do not change while the system runs. */
  char               *kernel;
  char               *arch;
  SondeHostOsRelease  os_release;
  gboolean            os_release_loaded;

  gint64              boot_time;
  gint64              boot_time_read_at;   /* monotonic µs, 0 = never */
};

enum { PROP_0, PROP_OS_RELEASE_PATH, N_PROPS };
static GParamSpec *properties[N_PROPS];

G_DEFINE_FINAL_TYPE (SondeHostCollector, sonde_host_collector, SONDE_TYPE_COLLECTOR)

static void
close_files_locked (SondeHostCollector *self)
{
  g_clear_pointer (&self->opened_root, g_free);
  g_clear_pointer (&self->hostname_file, sonde_proc_file_free);
  g_clear_pointer (&self->uptime_file, sonde_proc_file_free);
  g_clear_pointer (&self->stat_file, sonde_proc_file_free);
  g_clear_pointer (&self->kernel, g_free);
  g_clear_pointer (&self->arch, g_free);
  sonde_host_os_release_clear (&self->os_release);
  self->os_release_loaded = FALSE;
  self->boot_time = 0;
  self->boot_time_read_at = 0;
}

static char *
read_arch (SondeHostCollector *self)
{
  struct utsname buf;

  if (self->uname_func (&buf) != 0)
    {
      g_debug ("uname() failed: %s", g_strerror (errno));
      return g_strdup ("");
    }
  return g_strdup (buf.machine);
}

static char *
read_kernel (const char *proc_root)
{
  g_autofree char *path = g_build_filename (proc_root, "sys", "kernel", "osrelease", NULL);
  g_autofree char *contents = NULL;
  g_autoptr(GError) error = NULL;

  if (!g_file_get_contents (path, &contents, NULL, &error))
    {
      g_debug ("%s", error->message);
      return g_strdup ("");
    }
  return sonde_host_parse_line (contents);
}

static void
load_os_release_locked (SondeHostCollector *self)
{
  g_autofree char *contents = NULL;
  g_autoptr(GError) error = NULL;

  /* os-release(5): use /etc/os-release if it exists, else /usr/lib/os-release. */
  if (!g_file_get_contents (self->os_release_path, &contents, NULL, &error) &&
      g_str_equal (self->os_release_path, DEFAULT_OS_RELEASE_PATH))
    {
      g_clear_error (&error);
      g_file_get_contents (FALLBACK_OS_RELEASE_PATH, &contents, NULL, &error);
    }

  if (error != NULL)
    g_debug ("No os-release: %s", error->message);

  /* An empty file yields the documented defaults (NAME=Linux, no version). */
  sonde_host_parse_os_release (contents != NULL ? contents : "", &self->os_release);
  self->os_release_loaded = TRUE;
}

static void
open_files_locked (SondeHostCollector *self,
                   const char         *proc_root)
{
  g_autofree char *hostname_path = g_build_filename (proc_root, "sys", "kernel", "hostname", NULL);
  g_autofree char *uptime_path = g_build_filename (proc_root, "uptime", NULL);
  g_autofree char *stat_path = g_build_filename (proc_root, "stat", NULL);

  close_files_locked (self);

  self->opened_root = g_strdup (proc_root);
  self->hostname_file = sonde_proc_file_new (hostname_path);
  self->uptime_file = sonde_proc_file_new (uptime_path);
  self->stat_file = sonde_proc_file_new (stat_path);
  self->kernel = read_kernel (proc_root);
  self->arch = read_arch (self);
  load_os_release_locked (self);
}

static gboolean
refresh_boot_time_locked (SondeHostCollector  *self,
                          GError             **error)
{
  gint64 now = g_get_monotonic_time ();
  const char *text;

  if (self->boot_time_read_at != 0 && now - self->boot_time_read_at < BTIME_REFRESH_US)
    return TRUE;

  text = sonde_proc_file_read (self->stat_file, NULL, error);
  if (text == NULL)
    return FALSE;

  if (!sonde_host_parse_btime (text, &self->boot_time))
    {
      g_set_error (error, SONDE_ERROR, SONDE_ERROR_COLLECTOR_FAILED,
                   "No btime line in %s", sonde_proc_file_get_path (self->stat_file));
      return FALSE;
    }

  self->boot_time_read_at = now;
  return TRUE;
}

static SondeSample *
collect_locked (SondeHostCollector  *self,
                GError             **error)
{
  const char *proc_root = sonde_collector_get_proc_root (SONDE_COLLECTOR (self));
  g_autoptr(JsonObject) object = NULL;
  g_autofree char *hostname = NULL;
  const char *text;
  double uptime;

  if (g_strcmp0 (self->opened_root, proc_root) != 0)
    open_files_locked (self, proc_root);
  if (!self->os_release_loaded)
    load_os_release_locked (self);
  if (self->arch == NULL)
    self->arch = read_arch (self);

  /* The hostname can be changed at any time (hostnamectl), so it is re-read each tick. */
  text = sonde_proc_file_read (self->hostname_file, NULL, NULL);
  hostname = text != NULL ? sonde_host_parse_line (text) : g_strdup (g_get_host_name ());

  text = sonde_proc_file_read (self->uptime_file, NULL, error);
  if (text == NULL)
    return NULL;
  if (!sonde_host_parse_uptime (text, &uptime))
    {
      g_set_error (error, SONDE_ERROR, SONDE_ERROR_COLLECTOR_FAILED,
                   "Cannot parse %s", sonde_proc_file_get_path (self->uptime_file));
      return NULL;
    }

  if (!refresh_boot_time_locked (self, error))
    return NULL;

  object = json_object_new ();
  json_object_set_string_member (object, "hostname", hostname);
  json_object_set_string_member (object, "os_name", self->os_release.name);
  json_object_set_string_member (object, "os_version", self->os_release.version);
  json_object_set_string_member (object, "kernel", self->kernel);
  json_object_set_string_member (object, "arch", self->arch);
  json_object_set_double_member (object, "uptime_seconds", uptime);
  json_object_set_int_member (object, "boot_time", self->boot_time);

  return sonde_sample_new ("host", g_get_real_time (), object);
}

static gboolean
sonde_host_collector_start (SondeCollector  *collector,
                            GError         **error)
{
  SondeHostCollector *self = SONDE_HOST_COLLECTOR (collector);

  g_mutex_lock (&self->lock);
  open_files_locked (self, sonde_collector_get_proc_root (collector));
  g_mutex_unlock (&self->lock);

  return TRUE;
}

static void
sonde_host_collector_stop (SondeCollector *collector)
{
  SondeHostCollector *self = SONDE_HOST_COLLECTOR (collector);

  g_mutex_lock (&self->lock);
  close_files_locked (self);
  g_mutex_unlock (&self->lock);
}

static SondeSample *
sonde_host_collector_collect (SondeCollector  *collector,
                              GError         **error)
{
  SondeHostCollector *self = SONDE_HOST_COLLECTOR (collector);
  SondeSample *sample;

  g_mutex_lock (&self->lock);
  sample = collect_locked (self, error);
  g_mutex_unlock (&self->lock);

  return sample;
}

static void
sonde_host_collector_finalize (GObject *object)
{
  SondeHostCollector *self = SONDE_HOST_COLLECTOR (object);

  close_files_locked (self);
  g_clear_pointer (&self->os_release_path, g_free);
  g_mutex_clear (&self->lock);

  G_OBJECT_CLASS (sonde_host_collector_parent_class)->finalize (object);
}

static void
sonde_host_collector_get_property (GObject    *object,
                                   guint       prop_id,
                                   GValue     *value,
                                   GParamSpec *pspec)
{
  SondeHostCollector *self = SONDE_HOST_COLLECTOR (object);

  switch (prop_id)
    {
    case PROP_OS_RELEASE_PATH:
      g_mutex_lock (&self->lock);
      g_value_set_string (value, self->os_release_path);
      g_mutex_unlock (&self->lock);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
sonde_host_collector_set_property (GObject      *object,
                                   guint         prop_id,
                                   const GValue *value,
                                   GParamSpec   *pspec)
{
  SondeHostCollector *self = SONDE_HOST_COLLECTOR (object);

  switch (prop_id)
    {
    case PROP_OS_RELEASE_PATH:
      sonde_host_collector_set_os_release_path (self, g_value_get_string (value));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
sonde_host_collector_constructed (GObject *object)
{
  SondeCollector *collector = SONDE_COLLECTOR (object);

  G_OBJECT_CLASS (sonde_host_collector_parent_class)->constructed (object);

  sonde_collector_add_metric (collector, "hostname", "", SONDE_METRIC_KIND_INFO,
                              "Host name, as set in the kernel");
  sonde_collector_add_metric (collector, "os_name", "", SONDE_METRIC_KIND_INFO,
                              "Operating system name (os-release NAME)");
  sonde_collector_add_metric (collector, "os_version", "", SONDE_METRIC_KIND_INFO,
                              "Operating system version (os-release VERSION_ID, else VERSION)");
  sonde_collector_add_metric (collector, "kernel", "", SONDE_METRIC_KIND_INFO,
                              "Kernel release");
  sonde_collector_add_metric (collector, "arch", "", SONDE_METRIC_KIND_INFO,
                              "Machine hardware name, such as x86_64");
  sonde_collector_add_metric (collector, "uptime_seconds", "seconds", SONDE_METRIC_KIND_COUNTER,
                              "Time since boot");
  sonde_collector_add_metric (collector, "boot_time", "seconds", SONDE_METRIC_KIND_GAUGE,
                              "Boot time, in seconds since the epoch");
}

static void
sonde_host_collector_class_init (SondeHostCollectorClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  SondeCollectorClass *collector_class = SONDE_COLLECTOR_CLASS (klass);

  object_class->constructed = sonde_host_collector_constructed;
  object_class->finalize = sonde_host_collector_finalize;
  object_class->get_property = sonde_host_collector_get_property;
  object_class->set_property = sonde_host_collector_set_property;

  collector_class->start = sonde_host_collector_start;
  collector_class->stop = sonde_host_collector_stop;
  collector_class->collect = sonde_host_collector_collect;

  /*
   * SondeHostCollector:os-release-path:
   *
   * The os-release file to read. With the default, /usr/lib/os-release is
   * read when /etc/os-release is missing, as os-release(5) asks.
   */
  properties[PROP_OS_RELEASE_PATH] =
    g_param_spec_string ("os-release-path", NULL, NULL,
                         DEFAULT_OS_RELEASE_PATH,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
sonde_host_collector_init (SondeHostCollector *self)
{
  g_mutex_init (&self->lock);
  self->os_release_path = g_strdup (DEFAULT_OS_RELEASE_PATH);
  self->uname_func = uname;
}

SondeCollector *
sonde_host_collector_new (void)
{
  return g_object_new (SONDE_TYPE_HOST_COLLECTOR, "name", "host", NULL);
}

const char *
sonde_host_collector_get_os_release_path (SondeHostCollector *self)
{
  g_return_val_if_fail (SONDE_IS_HOST_COLLECTOR (self), NULL);

  return self->os_release_path;
}

/*
 * Takes effect at the next collection, which re-reads the file.
 * NULL restores the default.
 */
void
sonde_host_collector_set_os_release_path (SondeHostCollector *self,
                                          const char         *path)
{
  g_return_if_fail (SONDE_IS_HOST_COLLECTOR (self));

  if (path == NULL)
    path = DEFAULT_OS_RELEASE_PATH;

  g_mutex_lock (&self->lock);
  if (g_strcmp0 (self->os_release_path, path) == 0)
    {
      g_mutex_unlock (&self->lock);
      return;
    }
  g_free (self->os_release_path);
  self->os_release_path = g_strdup (path);
  self->os_release_loaded = FALSE;
  g_mutex_unlock (&self->lock);

  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_OS_RELEASE_PATH]);
}

/*
 * Replaces uname(2) for the arch field, read at the next collection;
 * NULL restores uname. For tests.
 */
void
sonde_host_collector_set_uname_func (SondeHostCollector *self,
                                     SondeHostUnameFunc  func)
{
  g_return_if_fail (SONDE_IS_HOST_COLLECTOR (self));

  g_mutex_lock (&self->lock);
  self->uname_func = func != NULL ? func : uname;
  g_clear_pointer (&self->arch, g_free);
  g_mutex_unlock (&self->lock);
}

/* The module's entry points: libsonde-host.so registers this collector as
 * "host"; a higher priority lists it earlier. */
SONDE_DEFINE_COLLECTOR_PLUGIN (host, SONDE_TYPE_HOST_COLLECTOR, 10)
