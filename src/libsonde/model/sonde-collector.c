/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "sonde-collector-private.h"
#include "sonde-error.h"
#include "sonde-event-private.h"
#include "sonde-event-queue-private.h"

/* Delivered per main loop iteration, so that a long queue does not keep
 * the loop from serving anything else. */
#define MAX_EVENTS_PER_DISPATCH 500

/**
 * SondeCollector:
 *
 * The base class of every source of metrics. A collector has a name
 * ("cpu"), a catalog of the metrics it produces, and a
 * #SondeCollectorClass.collect virtual method returning a #SondeSample.
 *
 * Collectors are usually loaded from plugins by #SondeEngine, which calls
 * #SondeCollectorClass.collect from a worker thread once per tick while
 * anybody needs the collector, and emits #SondeCollector::sampled (or
 * #SondeCollector::failed) on the main thread with the result.
 *
 * Collectors that read /proc or /sys do so below #SondeCollector:proc-root
 * and #SondeCollector:sys-root, so that they can be tested on recorded
 * fixture trees.
 *
 * Since: 0.1
 */

typedef struct
{
  char         *name;
  char         *proc_root;
  char         *sys_root;
  GPtrArray    *metrics;
  GMainContext *main_context;
  GWeakRef      engine;
  int           collecting;   /* atomic: an engine's collect() is in flight */
  guint         metrics_serial;
  /* Serialises start(), stop(), collect() and settings, so that
   * subclasses need no lock of their own. Recursive: a subclass may read
   * its settings from collect(). */
  GRecMutex     call_lock;
  SondeEventQueue events;     /* waiting for the main context */
  guint         running : 1;
} SondeCollectorPrivate;

enum {
  PROP_0,
  PROP_NAME,
  PROP_PROC_ROOT,
  PROP_SYS_ROOT,
  PROP_RUNNING,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

enum {
  SAMPLED,
  FAILED,
  EVENT,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

G_DEFINE_ABSTRACT_TYPE_WITH_PRIVATE (SondeCollector, sonde_collector, G_TYPE_OBJECT)

static void
sonde_collector_finalize (GObject *object)
{
  SondeCollector *self = SONDE_COLLECTOR (object);
  SondeCollectorPrivate *priv = sonde_collector_get_instance_private (self);

  g_clear_pointer (&priv->name, g_free);
  g_clear_pointer (&priv->proc_root, g_free);
  g_clear_pointer (&priv->sys_root, g_free);
  g_clear_pointer (&priv->metrics, g_ptr_array_unref);
  g_clear_pointer (&priv->main_context, g_main_context_unref);
  _sonde_event_queue_clear (&priv->events);
  g_rec_mutex_clear (&priv->call_lock);
  g_weak_ref_clear (&priv->engine);

  G_OBJECT_CLASS (sonde_collector_parent_class)->finalize (object);
}

static void
sonde_collector_get_property (GObject    *object,
                              guint       prop_id,
                              GValue     *value,
                              GParamSpec *pspec)
{
  SondeCollector *self = SONDE_COLLECTOR (object);

  switch (prop_id)
    {
    case PROP_NAME:
      g_value_set_string (value, sonde_collector_get_name (self));
      break;

    case PROP_PROC_ROOT:
      g_value_set_string (value, sonde_collector_get_proc_root (self));
      break;

    case PROP_SYS_ROOT:
      g_value_set_string (value, sonde_collector_get_sys_root (self));
      break;

    case PROP_RUNNING:
      g_value_set_boolean (value, sonde_collector_get_running (self));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
sonde_collector_set_property (GObject      *object,
                              guint         prop_id,
                              const GValue *value,
                              GParamSpec   *pspec)
{
  SondeCollector *self = SONDE_COLLECTOR (object);
  SondeCollectorPrivate *priv = sonde_collector_get_instance_private (self);

  switch (prop_id)
    {
    case PROP_NAME:
      g_assert (priv->name == NULL);
      priv->name = g_value_dup_string (value);
      break;

    case PROP_PROC_ROOT:
      sonde_collector_set_proc_root (self, g_value_get_string (value));
      break;

    case PROP_SYS_ROOT:
      sonde_collector_set_sys_root (self, g_value_get_string (value));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
sonde_collector_constructed (GObject *object)
{
  SondeCollector *self = SONDE_COLLECTOR (object);
  SondeCollectorPrivate *priv = sonde_collector_get_instance_private (self);

  G_OBJECT_CLASS (sonde_collector_parent_class)->constructed (object);

  if (priv->name == NULL || *priv->name == '\0')
    g_critical ("A %s was created without a name", G_OBJECT_TYPE_NAME (object));
}

static gboolean
sonde_collector_real_start (SondeCollector  *self,
                            GError         **error)
{
  return TRUE;
}

static void
sonde_collector_real_stop (SondeCollector *self)
{
}

static SondeSample *
sonde_collector_real_collect (SondeCollector  *self,
                              GError         **error)
{
  g_set_error (error, SONDE_ERROR, SONDE_ERROR_FAILED,
               "%s does not implement collect()", G_OBJECT_TYPE_NAME (self));
  return NULL;
}

static void
sonde_collector_class_init (SondeCollectorClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->constructed = sonde_collector_constructed;
  object_class->finalize = sonde_collector_finalize;
  object_class->get_property = sonde_collector_get_property;
  object_class->set_property = sonde_collector_set_property;

  klass->start = sonde_collector_real_start;
  klass->stop = sonde_collector_real_stop;
  klass->collect = sonde_collector_real_collect;

  /**
   * SondeCollector:name:
   *
   * The collector's name: the first part of its metric names.
   *
   * Since: 0.1
   */
  properties[PROP_NAME] =
    g_param_spec_string ("name", NULL, NULL,
                         NULL,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);

  /**
   * SondeCollector:proc-root:
   *
   * Where procfs is read from; "/proc" unless a test points it at fixtures.
   * Set it before the collector starts.
   *
   * Since: 0.1
   */
  properties[PROP_PROC_ROOT] =
    g_param_spec_string ("proc-root", NULL, NULL,
                         "/proc",
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * SondeCollector:sys-root:
   *
   * Where sysfs is read from; "/sys" unless a test points it at fixtures.
   * Set it before the collector starts.
   *
   * Since: 0.1
   */
  properties[PROP_SYS_ROOT] =
    g_param_spec_string ("sys-root", NULL, NULL,
                         "/sys",
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * SondeCollector:running:
   *
   * Whether the collector has been started and not stopped since.
   *
   * Since: 0.1
   */
  properties[PROP_RUNNING] =
    g_param_spec_boolean ("running", NULL, NULL,
                          FALSE,
                          G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * SondeCollector::sampled:
   * @self: a #SondeCollector
   * @sample: the new sample
   *
   * Emitted on the main thread after each successful collection.
   *
   * Since: 0.1
   */
  signals[SAMPLED] =
    g_signal_new ("sampled",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  G_STRUCT_OFFSET (SondeCollectorClass, sampled),
                  NULL, NULL,
                  NULL,
                  G_TYPE_NONE, 1, SONDE_TYPE_SAMPLE | G_SIGNAL_TYPE_STATIC_SCOPE);

  /**
   * SondeCollector::failed:
   * @self: a #SondeCollector
   * @error: what went wrong
   *
   * Emitted on the main thread when a collection fails or misses its
   * deadline.
   *
   * Since: 0.1
   */
  signals[FAILED] =
    g_signal_new ("failed",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  G_STRUCT_OFFSET (SondeCollectorClass, failed),
                  NULL, NULL,
                  NULL,
                  G_TYPE_NONE, 1, G_TYPE_ERROR | G_SIGNAL_TYPE_STATIC_SCOPE);

  /**
   * SondeCollector::event:
   * @self: a #SondeCollector
   * @event: what happened
   *
   * Emitted on the main thread when the collector reports an event.
   *
   * Since: 0.1
   */
  signals[EVENT] =
    g_signal_new ("event",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  G_STRUCT_OFFSET (SondeCollectorClass, event),
                  NULL, NULL,
                  NULL,
                  G_TYPE_NONE, 1, SONDE_TYPE_EVENT | G_SIGNAL_TYPE_STATIC_SCOPE);
}

static void
sonde_collector_init (SondeCollector *self)
{
  SondeCollectorPrivate *priv = sonde_collector_get_instance_private (self);

  priv->proc_root = g_strdup ("/proc");
  priv->sys_root = g_strdup ("/sys");
  priv->metrics = g_ptr_array_new_with_free_func ((GDestroyNotify) sonde_metric_unref);
  priv->main_context = g_main_context_ref_thread_default ();
  g_rec_mutex_init (&priv->call_lock);
  _sonde_event_queue_init (&priv->events);
  g_weak_ref_init (&priv->engine, NULL);
}

/**
 * sonde_collector_get_name:
 * @self: a #SondeCollector
 *
 * Returns: the collector's name, such as "cpu"
 *
 * Since: 0.1
 */
const char *
sonde_collector_get_name (SondeCollector *self)
{
  SondeCollectorPrivate *priv = sonde_collector_get_instance_private (self);

  g_return_val_if_fail (SONDE_IS_COLLECTOR (self), NULL);

  return priv->name;
}

/**
 * sonde_collector_get_proc_root:
 * @self: a #SondeCollector
 *
 * Returns: the directory procfs is read from
 *
 * Since: 0.1
 */
const char *
sonde_collector_get_proc_root (SondeCollector *self)
{
  SondeCollectorPrivate *priv = sonde_collector_get_instance_private (self);

  g_return_val_if_fail (SONDE_IS_COLLECTOR (self), NULL);

  return priv->proc_root;
}

/**
 * sonde_collector_set_proc_root:
 * @self: a #SondeCollector
 * @proc_root: (nullable): the directory to read procfs from, or %NULL for "/proc"
 *
 * Points the collector at another procfs tree, typically recorded fixtures.
 * It waits for a collection in progress to end.
 *
 * Since: 0.1
 */
void
sonde_collector_set_proc_root (SondeCollector *self,
                               const char     *proc_root)
{
  SondeCollectorPrivate *priv = sonde_collector_get_instance_private (self);
  g_autoptr(SondeCollectorLocker) locker = NULL;

  g_return_if_fail (SONDE_IS_COLLECTOR (self));

  if (proc_root == NULL)
    proc_root = "/proc";

  locker = sonde_collector_lock_settings (self);
  if (g_strcmp0 (priv->proc_root, proc_root) == 0)
    return;

  g_free (priv->proc_root);
  priv->proc_root = g_strdup (proc_root);
  g_clear_pointer (&locker, sonde_collector_locker_free);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PROC_ROOT]);
}

/**
 * sonde_collector_get_sys_root:
 * @self: a #SondeCollector
 *
 * Returns: the directory sysfs is read from
 *
 * Since: 0.1
 */
const char *
sonde_collector_get_sys_root (SondeCollector *self)
{
  SondeCollectorPrivate *priv = sonde_collector_get_instance_private (self);

  g_return_val_if_fail (SONDE_IS_COLLECTOR (self), NULL);

  return priv->sys_root;
}

/**
 * sonde_collector_set_sys_root:
 * @self: a #SondeCollector
 * @sys_root: (nullable): the directory to read sysfs from, or %NULL for "/sys"
 *
 * Points the collector at another sysfs tree, typically recorded fixtures.
 * It waits for a collection in progress to end.
 *
 * Since: 0.1
 */
void
sonde_collector_set_sys_root (SondeCollector *self,
                              const char     *sys_root)
{
  SondeCollectorPrivate *priv = sonde_collector_get_instance_private (self);
  g_autoptr(SondeCollectorLocker) locker = NULL;

  g_return_if_fail (SONDE_IS_COLLECTOR (self));

  if (sys_root == NULL)
    sys_root = "/sys";

  locker = sonde_collector_lock_settings (self);
  if (g_strcmp0 (priv->sys_root, sys_root) == 0)
    return;

  g_free (priv->sys_root);
  priv->sys_root = g_strdup (sys_root);
  g_clear_pointer (&locker, sonde_collector_locker_free);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SYS_ROOT]);
}

/**
 * sonde_collector_get_engine:
 * @self: a #SondeCollector
 *
 * Call this on the main thread, in #SondeCollectorClass.start say, and
 * not from #SondeCollectorClass.collect: on a worker thread the borrowed
 * engine may be disposed at any moment. A collector that needs something
 * of the engine while collecting takes a reference to it in start() and
 * drops it in stop().
 *
 * Returns: (transfer none) (nullable): the engine @self was added to, if any
 *
 * Since: 0.1
 */
SondeEngine *
sonde_collector_get_engine (SondeCollector *self)
{
  SondeCollectorPrivate *priv = sonde_collector_get_instance_private (self);
  SondeEngine *engine;

  g_return_val_if_fail (SONDE_IS_COLLECTOR (self), NULL);

  /* On the main thread the engine, which owns its collectors, outlives
   * this borrowed pointer. */
  engine = g_weak_ref_get (&priv->engine);
  if (engine != NULL)
    g_object_unref (engine);
  return engine;
}

void
_sonde_collector_set_engine (SondeCollector *self,
                             SondeEngine    *engine)
{
  SondeCollectorPrivate *priv = sonde_collector_get_instance_private (self);

  g_weak_ref_set (&priv->engine, engine);
}

/**
 * sonde_collector_get_running:
 * @self: a #SondeCollector
 *
 * Returns: %TRUE between a successful sonde_collector_start() and
 *   sonde_collector_stop()
 *
 * Since: 0.1
 */
gboolean
sonde_collector_get_running (SondeCollector *self)
{
  SondeCollectorPrivate *priv = sonde_collector_get_instance_private (self);

  g_return_val_if_fail (SONDE_IS_COLLECTOR (self), FALSE);

  return priv->running;
}

/**
 * sonde_collector_add_metric:
 * @self: a #SondeCollector
 * @field: the field name in the collector's samples, such as "usage_percent"
 * @unit: the unit: "percent", "bytes", "bytes/s", "seconds", "ms", "MHz",
 *   "count", or "" when there is none
 * @kind: the kind of value
 * @description: a one-line human description
 *
 * Declares a metric of the collector's catalog. Collectors call this from
 * their instance init (or Python `__init__`).
 *
 * Since: 0.1
 */
void
sonde_collector_add_metric (SondeCollector  *self,
                            const char      *field,
                            const char      *unit,
                            SondeMetricKind  kind,
                            const char      *description)
{
  SondeCollectorPrivate *priv = sonde_collector_get_instance_private (self);

  g_return_if_fail (SONDE_IS_COLLECTOR (self));
  g_return_if_fail (field != NULL);
  g_return_if_fail (priv->name != NULL);

  if (sonde_collector_lookup_metric (self, field) != NULL)
    {
      g_warning ("Collector %s declares metric %s twice", priv->name, field);
      return;
    }

  g_ptr_array_add (priv->metrics, sonde_metric_new (priv->name, field, unit, kind, description));
  priv->metrics_serial++;
}

/**
 * sonde_collector_get_metrics:
 * @self: a #SondeCollector
 *
 * Returns: (transfer container) (element-type SondeMetric): the catalog
 *
 * Since: 0.1
 */
GPtrArray *
sonde_collector_get_metrics (SondeCollector *self)
{
  SondeCollectorPrivate *priv = sonde_collector_get_instance_private (self);
  GPtrArray *ret;

  g_return_val_if_fail (SONDE_IS_COLLECTOR (self), NULL);

  ret = g_ptr_array_new_full (priv->metrics->len, (GDestroyNotify) sonde_metric_unref);
  for (guint i = 0; i < priv->metrics->len; i++)
    g_ptr_array_add (ret, sonde_metric_ref (g_ptr_array_index (priv->metrics, i)));
  return ret;
}

/**
 * sonde_collector_lookup_metric:
 * @self: a #SondeCollector
 * @field: a field name
 *
 * Returns: (transfer none) (nullable): the catalog entry of @field
 *
 * Since: 0.1
 */
SondeMetric *
sonde_collector_lookup_metric (SondeCollector *self,
                               const char     *field)
{
  SondeCollectorPrivate *priv = sonde_collector_get_instance_private (self);

  g_return_val_if_fail (SONDE_IS_COLLECTOR (self), NULL);
  g_return_val_if_fail (field != NULL, NULL);

  for (guint i = 0; i < priv->metrics->len; i++)
    {
      SondeMetric *metric = g_ptr_array_index (priv->metrics, i);

      if (g_str_equal (sonde_metric_get_field (metric), field))
        return metric;
    }

  return NULL;
}

/**
 * sonde_collector_start:
 * @self: a #SondeCollector
 * @error: return location for a #GError
 *
 * Prepares the collector for collection. Starting a running collector
 * does nothing.
 *
 * Returns: %TRUE on success
 *
 * Since: 0.1
 */
gboolean
sonde_collector_start (SondeCollector  *self,
                       GError         **error)
{
  SondeCollectorPrivate *priv = sonde_collector_get_instance_private (self);
  g_autoptr(SondeCollectorLocker) locker = NULL;

  g_return_val_if_fail (SONDE_IS_COLLECTOR (self), FALSE);

  locker = sonde_collector_lock_settings (self);
  if (priv->running)
    return TRUE;

  if (!SONDE_COLLECTOR_GET_CLASS (self)->start (self, error))
    return FALSE;

  priv->running = TRUE;
  /* Handlers run unlocked: they may call anything of the collector. */
  g_clear_pointer (&locker, sonde_collector_locker_free);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_RUNNING]);
  return TRUE;
}

/**
 * sonde_collector_stop:
 * @self: a #SondeCollector
 *
 * Releases what sonde_collector_start() acquired. The next start begins
 * afresh: rates restart from a first sample.
 *
 * Since: 0.1
 */
void
sonde_collector_stop (SondeCollector *self)
{
  SondeCollectorPrivate *priv = sonde_collector_get_instance_private (self);
  g_autoptr(SondeCollectorLocker) locker = NULL;

  g_return_if_fail (SONDE_IS_COLLECTOR (self));

  locker = sonde_collector_lock_settings (self);
  if (!priv->running)
    return;

  SONDE_COLLECTOR_GET_CLASS (self)->stop (self);
  priv->running = FALSE;
  g_clear_pointer (&locker, sonde_collector_locker_free);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_RUNNING]);
}

/**
 * sonde_collector_collect: (virtual collect)
 * @self: a #SondeCollector
 * @error: return location for a #GError
 *
 * Collects one sample synchronously. #SondeEngine calls this from a worker
 * thread; direct callers (tests, scripts) may call it from any thread:
 * calls of start(), stop() and collect() on one collector are serialised,
 * each waiting for the one in progress.
 *
 * Returns: (transfer full) (nullable): a new #SondeSample, or %NULL with
 *   @error set
 *
 * Since: 0.1
 */
SondeSample *
sonde_collector_collect (SondeCollector  *self,
                         GError         **error)
{
  SondeSample *sample;
  g_autoptr(GError) local_error = NULL;
  g_autoptr(SondeCollectorLocker) locker = NULL;

  g_return_val_if_fail (SONDE_IS_COLLECTOR (self), NULL);

  locker = sonde_collector_lock_settings (self);
  sample = SONDE_COLLECTOR_GET_CLASS (self)->collect (self, &local_error);
  g_clear_pointer (&locker, sonde_collector_locker_free);

  if (sample == NULL)
    {
      if (local_error == NULL)
        g_set_error (&local_error, SONDE_ERROR, SONDE_ERROR_COLLECTOR_FAILED,
                     "Collector %s returned no sample", sonde_collector_get_name (self));
      g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }

  return sample;
}

/* Delivers the queued events, in the order they were emitted, on the
 * collector's main context: a batch at a time, the source staying while
 * events are left. */
static gboolean
deliver_events_cb (gpointer data)
{
  SondeCollector *self = data;
  SondeCollectorPrivate *priv = sonde_collector_get_instance_private (self);
  GQueue events = G_QUEUE_INIT;
  SondeEvent *event;
  gboolean more = _sonde_event_queue_pop_batch (&priv->events, &events, MAX_EVENTS_PER_DISPATCH);

  while ((event = g_queue_pop_head (&events)) != NULL)
    {
      g_signal_emit (self, signals[EVENT], 0, event);
      sonde_event_unref (event);
    }

  return more ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
}

/**
 * sonde_collector_emit_event:
 * @self: a #SondeCollector
 * @event_type: the protocol name of the event, such as "log_line"
 * @data: (nullable): details of the event
 *
 * Reports an event. It may be called from any thread: #SondeCollector::event
 * is always emitted on the thread that created the collector.
 *
 * The event carries a deep copy of @data, made before this returns: the
 * caller keeps @data, which is not sealed, and may change or unref it at
 * once, whatever thread the event is emitted on. (json-glib's reference
 * counts are not atomic, so no JSON object is ever shared across threads.)
 *
 * At most 10,000 events wait for the main context; past that the oldest
 * waiting one is dropped for each new one, and counted by
 * sonde_collector_get_events_dropped().
 *
 * Since: 0.1
 */
void
sonde_collector_emit_event (SondeCollector *self,
                            const char     *event_type,
                            JsonObject     *data)
{
  SondeCollectorPrivate *priv = sonde_collector_get_instance_private (self);
  g_autoptr(JsonObject) copy = NULL;
  SondeEvent *event;
  gboolean first_drop, schedule;

  g_return_if_fail (SONDE_IS_COLLECTOR (self));
  g_return_if_fail (event_type != NULL);

  if (data != NULL)
    copy = _sonde_json_object_deep_copy (data);
  event = sonde_event_new (event_type, priv->name, g_get_real_time (), copy);

  schedule = _sonde_event_queue_push (&priv->events, event, &first_drop);
  if (first_drop)
    g_message ("Collector %s reports events faster than they are delivered: "
               "the oldest waiting ones are dropped", priv->name);

  /* An idle source rather than g_main_context_invoke(), which runs the
   * callback right away, in this thread, whenever the context happens to
   * be free: signals would then come from a worker, out of order. */
  if (schedule)
    {
      g_autoptr(GSource) source = g_idle_source_new ();

      g_source_set_callback (source, deliver_events_cb, g_object_ref (self), g_object_unref);
      g_source_set_name (source, "[sonde] collector events");
      g_source_attach (source, priv->main_context);
    }
}

/**
 * sonde_collector_get_events_dropped:
 * @self: a #SondeCollector
 *
 * Events are dropped, the oldest first, when more than 10,000 wait for
 * the main context. It may be called from any thread.
 *
 * Returns: how many events of sonde_collector_emit_event() were dropped
 *   since the collector was created
 *
 * Since: 0.2
 */
guint64
sonde_collector_get_events_dropped (SondeCollector *self)
{
  SondeCollectorPrivate *priv = sonde_collector_get_instance_private (self);

  g_return_val_if_fail (SONDE_IS_COLLECTOR (self), 0);

  return _sonde_event_queue_get_dropped (&priv->events);
}

guint
_sonde_collector_get_events_queued (SondeCollector *self)
{
  SondeCollectorPrivate *priv = sonde_collector_get_instance_private (self);

  return _sonde_event_queue_get_length (&priv->events);
}

void
_sonde_collector_emit_sampled (SondeCollector *self,
                               SondeSample    *sample)
{
  g_signal_emit (self, signals[SAMPLED], 0, sample);
}

void
_sonde_collector_emit_failed (SondeCollector *self,
                              const GError   *error)
{
  g_signal_emit (self, signals[FAILED], 0, error);
}

gboolean
_sonde_collector_begin_collection (SondeCollector *self)
{
  SondeCollectorPrivate *priv = sonde_collector_get_instance_private (self);

  return g_atomic_int_compare_and_exchange (&priv->collecting, 0, 1);
}

void
_sonde_collector_end_collection (SondeCollector *self)
{
  SondeCollectorPrivate *priv = sonde_collector_get_instance_private (self);

  g_atomic_int_set (&priv->collecting, 0);
}

gboolean
_sonde_collector_is_collecting (SondeCollector *self)
{
  SondeCollectorPrivate *priv = sonde_collector_get_instance_private (self);

  return g_atomic_int_get (&priv->collecting) != 0;
}

/**
 * sonde_collector_lock_settings: (skip)
 * @self: a #SondeCollector
 *
 * Waits for the start(), stop() or collect() of @self in progress, if
 * any, and keeps the next ones waiting until the locker is freed: a
 * subclass's setter changes what collect() reads under it, with
 *
 * |[<!-- language="C" -->
 * g_autoptr(SondeCollectorLocker) locker = sonde_collector_lock_settings (collector);
 * ]|
 *
 * The vfuncs themselves already run locked; the lock is recursive, so
 * they may call setters.
 *
 * Returns: (transfer full): a locker, for sonde_collector_locker_free()
 *
 * Since: 0.2
 */
SondeCollectorLocker *
sonde_collector_lock_settings (SondeCollector *self)
{
  SondeCollectorPrivate *priv = sonde_collector_get_instance_private (self);

  g_return_val_if_fail (SONDE_IS_COLLECTOR (self), NULL);

  g_rec_mutex_lock (&priv->call_lock);
  return (SondeCollectorLocker *) self;
}

/**
 * sonde_collector_locker_free: (skip)
 * @locker: a locker of sonde_collector_lock_settings()
 *
 * Lets the collector's calls run again.
 *
 * Since: 0.2
 */
void
sonde_collector_locker_free (SondeCollectorLocker *locker)
{
  SondeCollector *self = (SondeCollector *) locker;
  SondeCollectorPrivate *priv = sonde_collector_get_instance_private (self);

  g_rec_mutex_unlock (&priv->call_lock);
}

guint
_sonde_collector_get_metrics_serial (SondeCollector *self)
{
  SondeCollectorPrivate *priv = sonde_collector_get_instance_private (self);

  return priv->metrics_serial;
}
