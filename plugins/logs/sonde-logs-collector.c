/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "sonde-log-follower.h"
#include "sonde-logs-collector.h"

/*
 * The `logs` collector follows log files and reports each new line as a
 * `log_line` event, {"file": PATH, "line": TEXT}; its samples say what it
 * follows, and what it could not report:
 * {"files": [{"path", "size_bytes", "lines_total", "dropped"}],
 *  "events_dropped": N}.
 *
 * A flood is bounded at each step: a poll hands over at most
 * SONDE_LOG_MAX_LINES lines of each file (the rest come at the next
 * polls), a backlog past SONDE_LOG_MAX_BACKLOG bytes is skipped and its
 * lines counted in "dropped", and the base class drops the oldest events
 * past its queue's bound, counted in "events_dropped".
 *
 * Every poll is a collection, so it polls as often as it is held (the
 * resolvix log stream holds it at 1 s while it has clients). Following
 * starts at the end of the files when the collector starts: only lines
 * written from then on are reported.
 *
 * Only files inside "allowed-paths" (default /var/log) are followed; the
 * others are refused with a warning when configured. By default it
 * follows /var/log/syslog, even while that does not exist: it is followed
 * from its start once created, and "files" names it all along (resolvix's
 * /status reports it as "log_file", a path, never null).
 */

#define DEFAULT_LOG_FILE    "/var/log/syslog"
#define DEFAULT_ALLOWED_DIR "/var/log"

struct _SondeLogsCollector
{
  SondeCollector  parent_instance;

  /* collect() runs in a worker thread, the properties are set from the
   * main thread: the setters hold the base class's settings lock, under
   * which collect() runs. */
  GStrv           files;
  GStrv           allowed;
  GPtrArray      *followers;   /* SondeLogFollower; NULL while stopped */
  gboolean        changed;     /* the followers must be rebuilt */
  GHashTable     *failures;    /* path -> the last error reported */
};

enum { PROP_0, PROP_FILES, PROP_ALLOWED_PATHS, N_PROPS };
static GParamSpec *properties[N_PROPS];

G_DEFINE_FINAL_TYPE (SondeLogsCollector, sonde_logs_collector, SONDE_TYPE_COLLECTOR)

static GPtrArray *
build_followers_locked (SondeLogsCollector *self)
{
  GPtrArray *followers = g_ptr_array_new_with_free_func ((GDestroyNotify) sonde_log_follower_free);

  for (guint i = 0; self->files != NULL && self->files[i] != NULL; i++)
    {
      const char *path = self->files[i];
      gboolean duplicate = FALSE;

      /* Refused files were reported when they were configured. */
      if (!sonde_log_path_is_allowed (path, (const char * const *) self->allowed, NULL))
        continue;

      for (guint j = 0; j < i; j++)
        duplicate |= g_str_equal (self->files[j], path);
      if (!duplicate)
        g_ptr_array_add (followers, sonde_log_follower_new (path, (const char * const *) self->allowed, FALSE));
    }

  return followers;
}

/* Warns once per file and problem, not at every poll. */
static void
report_failure_locked (SondeLogsCollector *self,
                       const char         *path,
                       const GError       *error)
{
  const char *previous = g_hash_table_lookup (self->failures, path);

  if (error == NULL)
    {
      g_hash_table_remove (self->failures, path);
      return;
    }

  if (g_strcmp0 (previous, error->message) == 0)
    return;

  g_warning ("Cannot follow %s: %s", path, error->message);
  g_hash_table_insert (self->failures, g_strdup (path), g_strdup (error->message));
}

typedef struct
{
  char *path;
  char *text;
} Line;

static void
line_clear (Line *line)
{
  g_free (line->path);
  g_free (line->text);
}

static void
line_cb (const char *path,
         const char *text,
         gpointer    user_data)
{
  GArray *lines = user_data;
  Line line = { g_strdup (path), g_strdup (text) };

  g_array_append_val (lines, line);
}

static SondeSample *
sonde_logs_collector_collect (SondeCollector  *collector,
                              GError         **error)
{
  SondeLogsCollector *self = SONDE_LOGS_COLLECTOR (collector);
  g_autoptr(GArray) lines = g_array_new (FALSE, FALSE, sizeof (Line));
  g_autoptr(JsonObject) data = json_object_new ();
  g_autoptr(JsonObject) event = json_object_new ();
  JsonArray *files = json_array_new ();

  g_array_set_clear_func (lines, (GDestroyNotify) line_clear);

  if (self->followers == NULL || self->changed)
    {
      g_clear_pointer (&self->followers, g_ptr_array_unref);
      self->followers = build_followers_locked (self);
      self->changed = FALSE;
    }

  for (guint i = 0; i < self->followers->len; i++)
    {
      SondeLogFollower *follower = g_ptr_array_index (self->followers, i);
      g_autoptr(GError) local_error = NULL;
      JsonObject *entry = json_object_new ();

      sonde_log_follower_poll (follower, line_cb, lines, &local_error);
      report_failure_locked (self, sonde_log_follower_get_path (follower), local_error);

      json_object_set_string_member (entry, "path", sonde_log_follower_get_path (follower));
      json_object_set_int_member (entry, "size_bytes", sonde_log_follower_get_size (follower));
      json_object_set_int_member (entry, "lines_total", sonde_log_follower_get_lines_total (follower));
      json_object_set_int_member (entry, "dropped", sonde_log_follower_get_dropped (follower));
      json_array_add_object_element (files, entry);
    }

  /* The events are delivered on the main context, in order; each gets
   * its own copy of the data, so one object serves every line. */
  for (guint i = 0; i < lines->len; i++)
    {
      Line *line = &g_array_index (lines, Line, i);

      json_object_set_string_member (event, "file", line->path);
      json_object_set_string_member (event, "line", line->text);
      sonde_collector_emit_event (collector, "log_line", event);
    }

  json_object_set_array_member (data, "files", files);
  json_object_set_int_member (data, "events_dropped", sonde_collector_get_events_dropped (collector));
  return sonde_sample_new ("logs", g_get_real_time (), data);
}

static gboolean
sonde_logs_collector_start (SondeCollector  *collector,
                            GError         **error)
{
  SondeLogsCollector *self = SONDE_LOGS_COLLECTOR (collector);

  /* The files are opened at their end now: what is written from here on
   * is reported, however late the first collection. A file that cannot be
   * followed is reported by the collections, and does not stop the
   * others. */
  g_clear_pointer (&self->followers, g_ptr_array_unref);
  self->followers = build_followers_locked (self);
  self->changed = FALSE;

  return TRUE;
}

static void
sonde_logs_collector_stop (SondeCollector *collector)
{
  SondeLogsCollector *self = SONDE_LOGS_COLLECTOR (collector);

  g_clear_pointer (&self->followers, g_ptr_array_unref);
  g_hash_table_remove_all (self->failures);
}

/* After g_object_set() of both properties at once, not after each: the
 * files are checked against the allowlist they were configured with. */
static void
sonde_logs_collector_dispatch_properties_changed (GObject     *object,
                                                  guint        n_pspecs,
                                                  GParamSpec **pspecs)
{
  SondeLogsCollector *self = SONDE_LOGS_COLLECTOR (object);
  gboolean check = FALSE;

  for (guint i = 0; i < n_pspecs; i++)
    check |= pspecs[i] == properties[PROP_FILES] || pspecs[i] == properties[PROP_ALLOWED_PATHS];

  if (check)
    {
      g_auto(GStrv) files = sonde_logs_collector_dup_files (self);
      g_auto(GStrv) allowed = sonde_logs_collector_dup_allowed_paths (self);

      for (guint i = 0; files != NULL && files[i] != NULL; i++)
        {
          g_autoptr(GError) error = NULL;

          if (!sonde_log_path_is_allowed (files[i], (const char * const *) allowed, &error))
            g_warning ("Not following %s: %s", files[i], error->message);
        }
    }

  G_OBJECT_CLASS (sonde_logs_collector_parent_class)->dispatch_properties_changed (object, n_pspecs, pspecs);
}

static void
sonde_logs_collector_finalize (GObject *object)
{
  SondeLogsCollector *self = SONDE_LOGS_COLLECTOR (object);

  g_clear_pointer (&self->followers, g_ptr_array_unref);
  g_clear_pointer (&self->failures, g_hash_table_unref);
  g_clear_pointer (&self->files, g_strfreev);
  g_clear_pointer (&self->allowed, g_strfreev);

  G_OBJECT_CLASS (sonde_logs_collector_parent_class)->finalize (object);
}

static void
sonde_logs_collector_get_property (GObject    *object,
                                   guint       prop_id,
                                   GValue     *value,
                                   GParamSpec *pspec)
{
  SondeLogsCollector *self = SONDE_LOGS_COLLECTOR (object);

  switch (prop_id)
    {
    case PROP_FILES:
      g_value_take_boxed (value, sonde_logs_collector_dup_files (self));
      break;

    case PROP_ALLOWED_PATHS:
      g_value_take_boxed (value, sonde_logs_collector_dup_allowed_paths (self));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
sonde_logs_collector_set_property (GObject      *object,
                                   guint         prop_id,
                                   const GValue *value,
                                   GParamSpec   *pspec)
{
  SondeLogsCollector *self = SONDE_LOGS_COLLECTOR (object);

  switch (prop_id)
    {
    case PROP_FILES:
      sonde_logs_collector_set_files (self, g_value_get_boxed (value));
      break;

    case PROP_ALLOWED_PATHS:
      sonde_logs_collector_set_allowed_paths (self, g_value_get_boxed (value));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
sonde_logs_collector_constructed (GObject *object)
{
  G_OBJECT_CLASS (sonde_logs_collector_parent_class)->constructed (object);

  sonde_collector_add_metric (SONDE_COLLECTOR (object), "files", "", SONDE_METRIC_KIND_TABLE,
                              "Followed log files: path, size_bytes (bytes), lines_total "
                              "(lines reported since following began), dropped (lines "
                              "skipped unreported because too many were waiting)");
  sonde_collector_add_metric (SONDE_COLLECTOR (object), "events_dropped", "count",
                              SONDE_METRIC_KIND_COUNTER,
                              "log_line events dropped, the oldest first, because too "
                              "many were waiting for delivery");
}

static void
sonde_logs_collector_class_init (SondeLogsCollectorClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  SondeCollectorClass *collector_class = SONDE_COLLECTOR_CLASS (klass);

  object_class->constructed = sonde_logs_collector_constructed;
  object_class->dispatch_properties_changed = sonde_logs_collector_dispatch_properties_changed;
  object_class->finalize = sonde_logs_collector_finalize;
  object_class->get_property = sonde_logs_collector_get_property;
  object_class->set_property = sonde_logs_collector_set_property;

  collector_class->start = sonde_logs_collector_start;
  collector_class->stop = sonde_logs_collector_stop;
  collector_class->collect = sonde_logs_collector_collect;

  /*
   * SondeLogsCollector:files:
   *
   * Absolute paths of the log files to follow; those outside
   * #SondeLogsCollector:allowed-paths are refused with a warning. By
   * default /var/log/syslog. A file that does not exist is followed
   * from its start once it is created.
   */
  properties[PROP_FILES] =
    g_param_spec_boxed ("files", NULL, NULL,
                        G_TYPE_STRV,
                        G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /*
   * SondeLogsCollector:allowed-paths:
   *
   * The files, or directories (with everything below them), that may be
   * followed, compared after resolving symbolic links. By default
   * /var/log.
   */
  properties[PROP_ALLOWED_PATHS] =
    g_param_spec_boxed ("allowed-paths", NULL, NULL,
                        G_TYPE_STRV,
                        G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
sonde_logs_collector_init (SondeLogsCollector *self)
{
  static const char * const default_allowed[] = { DEFAULT_ALLOWED_DIR, NULL };
  static const char * const default_files[] = { DEFAULT_LOG_FILE, NULL };

  self->failures = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  self->allowed = g_strdupv ((char **) default_allowed);
  self->files = g_strdupv ((char **) default_files);
}

SondeCollector *
sonde_logs_collector_new (void)
{
  return g_object_new (SONDE_TYPE_LOGS_COLLECTOR, "name", "logs", NULL);
}

GStrv
sonde_logs_collector_dup_files (SondeLogsCollector *self)
{
  g_autoptr(SondeCollectorLocker) locker = NULL;

  g_return_val_if_fail (SONDE_IS_LOGS_COLLECTOR (self), NULL);

  locker = sonde_collector_lock_settings (SONDE_COLLECTOR (self));
  return g_strdupv (self->files);
}

static gboolean
strv_equal (const char * const *a,
            const char * const *b)
{
  if (a == NULL || b == NULL)
    return a == b;
  return g_strv_equal (a, b);
}

/* Replaces @field with @value; returns whether it changed. */
static gboolean
replace_strv (SondeLogsCollector  *self,
              GStrv               *field,
              const char * const  *value)
{
  g_autoptr(SondeCollectorLocker) locker = sonde_collector_lock_settings (SONDE_COLLECTOR (self));

  if (strv_equal ((const char * const *) *field, value))
    return FALSE;

  g_strfreev (*field);
  *field = g_strdupv ((char **) value);
  self->changed = TRUE;
  return TRUE;
}

/* Takes effect at the next collection; followed files that stay are
 * followed from their end again. */
void
sonde_logs_collector_set_files (SondeLogsCollector *self,
                                const char * const *files)
{
  g_return_if_fail (SONDE_IS_LOGS_COLLECTOR (self));

  if (replace_strv (self, &self->files, files))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_FILES]);
}

GStrv
sonde_logs_collector_dup_allowed_paths (SondeLogsCollector *self)
{
  g_autoptr(SondeCollectorLocker) locker = NULL;

  g_return_val_if_fail (SONDE_IS_LOGS_COLLECTOR (self), NULL);

  locker = sonde_collector_lock_settings (SONDE_COLLECTOR (self));
  return g_strdupv (self->allowed);
}

void
sonde_logs_collector_set_allowed_paths (SondeLogsCollector *self,
                                        const char * const *paths)
{
  g_return_if_fail (SONDE_IS_LOGS_COLLECTOR (self));

  if (replace_strv (self, &self->allowed, paths))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ALLOWED_PATHS]);
}

/* The module's entry points: libsonde-logs.so registers this collector as
 * "logs"; a higher priority lists it earlier. */
SONDE_DEFINE_COLLECTOR_PLUGIN (logs, SONDE_TYPE_LOGS_COLLECTOR, 0)
