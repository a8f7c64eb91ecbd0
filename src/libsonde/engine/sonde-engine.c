/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "sonde-alerts-private.h"
#include "sonde-clock-private.h"
#include "sonde-collector-private.h"
#include "sonde-engine-private.h"
#include "sonde-error.h"
#include "sonde-hub-private.h"

/**
 * SondeEngine:
 *
 * Owns the collectors, loads them from plugins and samples them on one
 * clock aligned to wall-clock ticks.
 *
 * Collection is demand-driven: consumers take a hold on a collector at an
 * interval with sonde_engine_hold(); the collector starts with its first
 * hold and stops with its last. At each tick the engine collects every
 * collector that a hold makes due, once, whatever the number of consumers,
 * each in a worker thread. When all of them have answered, or the tick's
 * deadline passed, #SondeEngine::tick is emitted and consumers read the
 * latest samples with sonde_engine_get_latest().
 *
 * A collector that misses the deadline keeps its previous sample, is
 * reported stale and raises a `collector_error` event; it is not collected
 * again until its pending collection returns, so a hung collector (a dead
 * network mount under statvfs) never stalls the clock or the others.
 *
 * Every failed collection emits #SondeCollector::failed, but the engine's
 * `collector_error` event is only raised when a collector starts failing
 * or fails with another message: a collector failing at every tick raises
 * one event, not one a tick.
 *
 * Since: 0.1
 */

enum {
  PROP_0,
  PROP_PROC_ROOT,
  PROP_HISTORY_LENGTH,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

enum {
  TICK,
  EVENT,
  COLLECTOR_ADDED,
  COLLECTOR_REMOVED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

struct _SondeEngine
{
  GObject             parent_instance;

  GPtrArray          *collectors;    /* CollectorState, in the order added */
  GHashTable         *disabled;      /* name -> SondeCollector kept aside */
  SondeClock         *clock;
  SondeGatewayStats  *gateway_stats;
  char               *proc_root;
  guint               history_length;
  SondeHistory       *history;       /* while history_length > 0 */
  SondeAlerts        *alerts;        /* created with the first alert rule */

  SondeHub           *hub;           /* created on first use */
  SondeCatalog       *catalog;       /* until the collectors change */
  guint               catalog_serial; /* of the collectors' metrics, when built */
};

G_DEFINE_FINAL_TYPE (SondeEngine, sonde_engine, G_TYPE_OBJECT)

static void
collector_state_release (CollectorState *state)
{
  g_clear_pointer (&state->latest, sonde_sample_unref);
  g_clear_pointer (&state->hold_intervals, g_array_unref);
  g_clear_pointer (&state->waiters, g_ptr_array_unref);
  g_clear_pointer (&state->failure, g_free);
  g_clear_object (&state->collector);
}

CollectorState *
_sonde_collector_state_ref (CollectorState *state)
{
  return g_rc_box_acquire (state);
}

void
_sonde_collector_state_unref (CollectorState *state)
{
  g_rc_box_release_full (state, (GDestroyNotify) collector_state_release);
}

/* A snapshot of the collectors, each with a reference, to iterate over
 * while emitting signals whose handlers may add or remove collectors. */
GPtrArray *
_sonde_engine_ref_states (SondeEngine *self)
{
  GPtrArray *states = g_ptr_array_new_with_free_func ((GDestroyNotify) _sonde_collector_state_unref);

  for (guint i = 0; self->collectors != NULL && i < self->collectors->len; i++)
    g_ptr_array_add (states, _sonde_collector_state_ref (g_ptr_array_index (self->collectors, i)));
  return states;
}

CollectorState *
_sonde_engine_find_state (SondeEngine *self,
            const char  *name)
{
  for (guint i = 0; i < self->collectors->len; i++)
    {
      CollectorState *state = g_ptr_array_index (self->collectors, i);

      if (g_strcmp0 (sonde_collector_get_name (state->collector), name) == 0)
        return state;
    }

  return NULL;
}

/* Emits #SondeCollector::failed, and the engine's `collector_error` event
 * when the collector was healthy or failed otherwise: sonded turns each
 * event into an alert, which must not repeat at every tick. The callers
 * must not rely on @state still being in the engine afterwards. */
void
_sonde_engine_report_failure (SondeEngine    *self,
                              CollectorState *state,
                              const GError   *error)
{
  g_autoptr(SondeEvent) event = NULL;

  if (g_strcmp0 (state->failure, error->message) != 0)
    {
      const char *name = sonde_collector_get_name (state->collector);
      g_autoptr(JsonObject) data = json_object_new ();

      g_free (state->failure);
      state->failure = g_strdup (error->message);

      json_object_set_string_member (data, "collector", name);
      json_object_set_string_member (data, "message", error->message);
      event = sonde_event_new ("collector_error", name, g_get_real_time (), data);
    }

  /* A handler may remove the collector, or drop the engine. */
  g_object_ref (self);
  _sonde_collector_state_ref (state);

  _sonde_collector_emit_failed (state->collector, error);
  if (event != NULL)
    g_signal_emit (self, signals[EVENT], 0, event);

  _sonde_collector_state_unref (state);
  g_object_unref (self);
}

static void
collector_event_cb (SondeCollector *collector,
                    SondeEvent     *event,
                    SondeEngine    *self)
{
  g_signal_emit (self, signals[EVENT], 0, event);
}

static void
sonde_engine_dispose (GObject *object)
{
  SondeEngine *self = SONDE_ENGINE (object);

  /* Subscriptions and history release their holds while the collectors
   * are here. */
  g_clear_pointer (&self->hub, _sonde_hub_free);
  g_clear_object (&self->history);
  g_clear_pointer (&self->alerts, _sonde_alerts_free);
  g_clear_pointer (&self->catalog, _sonde_catalog_unref);
  g_clear_pointer (&self->clock, _sonde_clock_free);

  if (self->collectors != NULL)
    {
      for (guint i = 0; i < self->collectors->len; i++)
        {
          CollectorState *state = g_ptr_array_index (self->collectors, i);

          state->engine = NULL;
          state->tick = NULL;
          state->linger_hold = 0;
          g_clear_handle_id (&state->linger_source, g_source_remove);
          g_clear_signal_handler (&state->event_handler, state->collector);
          /* A collection still running in a worker finishes on its own;
           * its completion sees the engine gone and stops the collector. */
          if (!_sonde_collector_is_collecting (state->collector))
            sonde_collector_stop (state->collector);
          _sonde_collector_set_engine (state->collector, NULL);
        }
    }

  g_clear_pointer (&self->collectors, g_ptr_array_unref);
  g_clear_pointer (&self->disabled, g_hash_table_unref);
  g_clear_object (&self->gateway_stats);

  G_OBJECT_CLASS (sonde_engine_parent_class)->dispose (object);
}

static void
sonde_engine_finalize (GObject *object)
{
  SondeEngine *self = SONDE_ENGINE (object);

  g_free (self->proc_root);

  G_OBJECT_CLASS (sonde_engine_parent_class)->finalize (object);
}

static void
sonde_engine_get_property (GObject    *object,
                           guint       prop_id,
                           GValue     *value,
                           GParamSpec *pspec)
{
  SondeEngine *self = SONDE_ENGINE (object);

  switch (prop_id)
    {
    case PROP_PROC_ROOT:
      g_value_set_string (value, self->proc_root);
      break;

    case PROP_HISTORY_LENGTH:
      g_value_set_uint (value, self->history_length);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
sonde_engine_set_property (GObject      *object,
                           guint         prop_id,
                           const GValue *value,
                           GParamSpec   *pspec)
{
  SondeEngine *self = SONDE_ENGINE (object);

  switch (prop_id)
    {
    case PROP_PROC_ROOT:
      sonde_engine_set_proc_root (self, g_value_get_string (value));
      break;

    case PROP_HISTORY_LENGTH:
      sonde_engine_set_history_length (self, g_value_get_uint (value));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
sonde_engine_class_init (SondeEngineClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = sonde_engine_dispose;
  object_class->finalize = sonde_engine_finalize;
  object_class->get_property = sonde_engine_get_property;
  object_class->set_property = sonde_engine_set_property;

  /**
   * SondeEngine:proc-root:
   *
   * The procfs root given to every collector added from now on; %NULL
   * leaves each collector's own setting alone.
   *
   * Since: 0.1
   */
  properties[PROP_PROC_ROOT] =
    g_param_spec_string ("proc-root", NULL, NULL,
                         NULL,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * SondeEngine:history-length:
   *
   * How many seconds of history are kept for each numeric metric, at one
   * point per second; 0, the default, keeps none. While it is not 0, the
   * engine's #SondeHistory keeps every collector sampled at 1 s.
   *
   * Since: 0.1
   */
  properties[PROP_HISTORY_LENGTH] =
    g_param_spec_uint ("history-length", NULL, NULL,
                       0, 24 * 3600, 0,
                       G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * SondeEngine::tick:
   * @self: a #SondeEngine
   * @timestamp_us: the wall-clock time of the tick, in microseconds
   *
   * Emitted once the collections due at a tick have answered (or missed
   * their deadline). The tick time is a multiple of every interval that
   * was due at it.
   *
   * Since: 0.1
   */
  signals[TICK] =
    g_signal_new ("tick",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1, G_TYPE_INT64);

  /**
   * SondeEngine::event:
   * @self: a #SondeEngine
   * @event: the event
   *
   * Relays every collector's #SondeCollector::event, and reports a
   * `collector_error` event when a collector starts failing (a failed or
   * late collection) or fails with another message than before, and an
   * `alert` event when an alert rule fires (see
   * sonde_engine_add_alert_rule()).
   *
   * Since: 0.1
   */
  signals[EVENT] =
    g_signal_new ("event",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1, SONDE_TYPE_EVENT | G_SIGNAL_TYPE_STATIC_SCOPE);

  /**
   * SondeEngine::collector-added:
   * @self: a #SondeEngine
   * @collector: the new collector
   *
   * Emitted when a collector joins the engine: loaded from a plugin,
   * added with sonde_engine_add_collector() or enabled again.
   *
   * Since: 0.1
   */
  signals[COLLECTOR_ADDED] =
    g_signal_new ("collector-added",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1, SONDE_TYPE_COLLECTOR);

  /**
   * SondeEngine::collector-removed:
   * @self: a #SondeEngine
   * @collector: the collector that left
   *
   * Emitted when a collector leaves the engine: removed, skipped because
   * it cannot start, or disabled.
   *
   * Since: 0.1
   */
  signals[COLLECTOR_REMOVED] =
    g_signal_new ("collector-removed",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1, SONDE_TYPE_COLLECTOR);

  g_io_extension_point_set_required_type (g_io_extension_point_register (SONDE_COLLECTOR_EXTENSION_POINT),
                                          SONDE_TYPE_COLLECTOR);
}

static void
sonde_engine_init (SondeEngine *self)
{
  self->collectors = g_ptr_array_new_with_free_func ((GDestroyNotify) _sonde_collector_state_unref);
  self->disabled = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_object_unref);
  self->gateway_stats = sonde_gateway_stats_new ();
  self->clock = _sonde_clock_new (self);
}

/**
 * sonde_engine_new:
 *
 * Returns: (transfer full): a new engine with no collectors
 *
 * Since: 0.1
 */
SondeEngine *
sonde_engine_new (void)
{
  return g_object_new (SONDE_TYPE_ENGINE, NULL);
}

/**
 * sonde_engine_add_collector:
 * @self: a #SondeEngine
 * @collector: a collector, possibly implemented in another language
 * @error: return location for a #GError
 *
 * Adds @collector: it is then listed in the catalog and sampled when held,
 * exactly like a collector from a plugin.
 *
 * Returns: %TRUE on success, %FALSE if a collector of that name exists
 *
 * Since: 0.1
 */
gboolean
sonde_engine_add_collector (SondeEngine     *self,
                            SondeCollector  *collector,
                            GError         **error)
{
  CollectorState *state;
  const char *name;

  g_return_val_if_fail (SONDE_IS_ENGINE (self), FALSE);
  g_return_val_if_fail (SONDE_IS_COLLECTOR (collector), FALSE);

  name = sonde_collector_get_name (collector);
  if (name == NULL || *name == '\0' || strchr (name, '.') != NULL)
    {
      g_set_error (error, SONDE_ERROR, SONDE_ERROR_INVALID_ARGUMENT,
                   "A collector needs a name without dots");
      return FALSE;
    }

  if (_sonde_engine_find_state (self, name) != NULL || g_hash_table_contains (self->disabled, name))
    {
      g_set_error (error, SONDE_ERROR, SONDE_ERROR_EXISTS,
                   "A collector named %s already exists", name);
      return FALSE;
    }

  state = g_rc_box_new0 (CollectorState);
  state->engine = self;
  state->collector = g_object_ref (collector);
  state->hold_intervals = g_array_new (FALSE, FALSE, sizeof (guint));
  state->waiters = g_ptr_array_new_with_free_func (g_object_unref);
  state->event_handler = g_signal_connect (collector, "event", G_CALLBACK (collector_event_cb), self);
  g_ptr_array_add (self->collectors, state);
  g_clear_pointer (&self->catalog, _sonde_catalog_unref);

  if (self->proc_root != NULL)
    sonde_collector_set_proc_root (collector, self->proc_root);
  _sonde_collector_set_engine (collector, self);

  g_signal_emit (self, signals[COLLECTOR_ADDED], 0, collector);
  return TRUE;
}

/**
 * sonde_engine_remove_collector:
 * @self: a #SondeEngine
 * @name: the name of a collector
 *
 * Removes a collector, enabled or disabled. Holds on it are dropped;
 * consumers stop seeing its data at the next tick.
 *
 * Returns: %TRUE if a collector was removed
 *
 * Since: 0.1
 */
gboolean
sonde_engine_remove_collector (SondeEngine *self,
                               const char  *name)
{
  CollectorState *state;

  g_return_val_if_fail (SONDE_IS_ENGINE (self), FALSE);
  g_return_val_if_fail (name != NULL, FALSE);

  state = _sonde_engine_find_state (self, name);
  if (state == NULL)
    return g_hash_table_remove (self->disabled, name);

  _sonde_engine_remove_state (self, state);
  return TRUE;
}

/* Removes @state, which must be in the engine. */
void
_sonde_engine_remove_state (SondeEngine    *self,
                            CollectorState *state)
{
  g_autoptr(SondeCollector) collector = g_object_ref (state->collector);

  g_assert (state->engine == self);

  /* The collectors' array holds the engine's reference. */
  _sonde_collector_state_ref (state);

  state->removed = TRUE;
  state->engine = NULL;
  state->linger_hold = 0;
  g_clear_handle_id (&state->linger_source, g_source_remove);
  g_clear_signal_handler (&state->event_handler, collector);
  /* A running collection stops the collector when it returns, unless the
   * collector is back in an engine by then. */
  if (!_sonde_collector_is_collecting (collector))
    sonde_collector_stop (collector);
  _sonde_collector_set_engine (collector, NULL);
  g_ptr_array_remove (self->collectors, state);
  g_clear_pointer (&self->catalog, _sonde_catalog_unref);

  /* Its holds go, and the tick does not wait for a collector that left:
   * if it was the last one the tick waited for, the tick is complete. */
  _sonde_clock_forget_state (self->clock, state);
  _sonde_collector_state_unref (state);

  g_signal_emit (self, signals[COLLECTOR_REMOVED], 0, collector);
  _sonde_clock_schedule (self->clock);
}

/* Whether @name is a collector of the engine, enabled or not. */
gboolean
_sonde_engine_knows_collector (SondeEngine *self,
                               const char  *name)
{
  return _sonde_engine_find_state (self, name) != NULL || g_hash_table_contains (self->disabled, name);
}

/**
 * sonde_engine_set_collector_enabled:
 * @self: a #SondeEngine
 * @name: the name of a collector of the engine
 * @enabled: whether the collector is served
 * @error: return location for a #GError
 *
 * Disables or enables a collector. A disabled collector leaves the list of
 * collectors and the catalog, is no longer sampled, and its consumers stop
 * seeing its data; the engine keeps it aside, so that enabling it brings
 * back the same collector, with its settings. A collector that is already
 * as asked is left alone.
 *
 * Returns: %TRUE on success; %FALSE with %SONDE_ERROR_UNKNOWN_COLLECTOR
 *   when the engine has no collector of that name, enabled or not
 *
 * Since: 0.2
 */
gboolean
sonde_engine_set_collector_enabled (SondeEngine  *self,
                                    const char   *name,
                                    gboolean      enabled,
                                    GError      **error)
{
  g_autoptr(SondeCollector) collector = NULL;
  g_autofree char *key = NULL;
  CollectorState *state;

  g_return_val_if_fail (SONDE_IS_ENGINE (self), FALSE);
  g_return_val_if_fail (name != NULL, FALSE);

  state = _sonde_engine_find_state (self, name);
  if (state == NULL && !g_hash_table_contains (self->disabled, name))
    {
      g_set_error (error, SONDE_ERROR, SONDE_ERROR_UNKNOWN_COLLECTOR,
                   "No collector named '%s'", name);
      return FALSE;
    }

  if ((state != NULL) == enabled)
    return TRUE;

  if (!enabled)
    {
      g_hash_table_insert (self->disabled, g_strdup (name), g_object_ref (state->collector));
      _sonde_engine_remove_state (self, state);
      return TRUE;
    }

  g_hash_table_steal_extended (self->disabled, name, (gpointer *) &key, (gpointer *) &collector);
  if (!sonde_engine_add_collector (self, collector, error))
    {
      g_hash_table_insert (self->disabled, g_steal_pointer (&key), g_steal_pointer (&collector));
      return FALSE;
    }
  return TRUE;
}

/**
 * sonde_engine_get_collector_enabled:
 * @self: a #SondeEngine
 * @name: the name of a collector
 *
 * Returns: whether @name is a collector of the engine that is not disabled
 *
 * Since: 0.2
 */
gboolean
sonde_engine_get_collector_enabled (SondeEngine *self,
                                    const char  *name)
{
  g_return_val_if_fail (SONDE_IS_ENGINE (self), FALSE);
  g_return_val_if_fail (name != NULL, FALSE);

  return _sonde_engine_find_state (self, name) != NULL;
}

static guint
metrics_serial (SondeEngine *self)
{
  guint serial = 0;

  for (guint i = 0; i < self->collectors->len; i++)
    serial += _sonde_collector_get_metrics_serial (((CollectorState *) g_ptr_array_index (self->collectors, i))->collector);
  return serial;
}

SondeCatalog *
_sonde_engine_get_catalog (SondeEngine *self)
{
  guint serial = metrics_serial (self);

  /* A collector may declare metrics after it was added. */
  if (self->catalog != NULL && self->catalog_serial != serial)
    g_clear_pointer (&self->catalog, _sonde_catalog_unref);

  if (self->catalog == NULL)
    {
      g_autoptr(GPtrArray) collectors = sonde_engine_list_collectors (self);

      self->catalog = _sonde_catalog_new (collectors);
      self->catalog_serial = serial;
    }

  return self->catalog;
}

SondeTickView *
_sonde_engine_build_view (SondeEngine *self,
                          gint64       timestamp_us)
{
  SondeTickView *view = _sonde_tick_view_new (timestamp_us, self->collectors->len);

  for (guint i = 0; i < self->collectors->len; i++)
    {
      CollectorState *state = g_ptr_array_index (self->collectors, i);

      _sonde_tick_view_add (view, sonde_collector_get_name (state->collector), state->latest,
                            state->failure, state->stale);
    }

  return view;
}

SondeHub *
_sonde_engine_get_hub (SondeEngine *self)
{
  if (self->hub == NULL)
    self->hub = _sonde_hub_new (self);
  return self->hub;
}

void
_sonde_engine_emit_event (SondeEngine *self,
                          SondeEvent  *event)
{
  g_signal_emit (self, signals[EVENT], 0, event);
}

/* The engine's alert rules, made with the first one if @create. */
SondeAlerts *
_sonde_engine_get_alerts (SondeEngine *self,
                          gboolean     create)
{
  if (self->alerts == NULL && create)
    self->alerts = _sonde_alerts_new (self);
  return self->alerts;
}

/* A tick's collections are in: one view of it for every group of the
 * hub, then the signal. */
void
_sonde_engine_publish (SondeEngine *self,
                       gint64       timestamp_us)
{
  g_object_ref (self);
  if (self->hub != NULL)
    {
      g_autoptr(SondeTickView) view = _sonde_engine_build_view (self, timestamp_us);

      _sonde_hub_dispatch (self->hub, view);
    }
  g_signal_emit (self, signals[TICK], 0, timestamp_us);
  g_object_unref (self);
}

/* The collector states, in order; borrowed, valid until the collectors
 * change. */
GPtrArray *
_sonde_engine_get_states (SondeEngine *self)
{
  return self->collectors;
}

SondeClock *
_sonde_engine_get_clock (SondeEngine *self)
{
  return self->clock;
}

void
_sonde_engine_set_wall_clock (SondeEngine  *self,
                              gint64      (*wall_clock) (void))
{
  _sonde_clock_set_wall_clock (self->clock, wall_clock);
}

gboolean
_sonde_engine_is_stale (SondeEngine *self,
                        const char  *collector)
{
  CollectorState *state = _sonde_engine_find_state (self, collector);

  return state != NULL && state->stale;
}

/* Misc ------------------------------------------------------------------ */

/**
 * sonde_engine_get_gateway_stats:
 * @self: a #SondeEngine
 *
 * Returns: (transfer none): the traffic statistics that servers built on
 *   this engine record and the `gateway` collector reports
 *
 * Since: 0.1
 */
SondeGatewayStats *
sonde_engine_get_gateway_stats (SondeEngine *self)
{
  g_return_val_if_fail (SONDE_IS_ENGINE (self), NULL);
  return self->gateway_stats;
}

/**
 * sonde_engine_get_proc_root:
 * @self: a #SondeEngine
 *
 * Returns: (nullable): the procfs root given to new collectors
 *
 * Since: 0.1
 */
const char *
sonde_engine_get_proc_root (SondeEngine *self)
{
  g_return_val_if_fail (SONDE_IS_ENGINE (self), NULL);
  return self->proc_root;
}

/**
 * sonde_engine_set_proc_root:
 * @self: a #SondeEngine
 * @proc_root: (nullable): a procfs root for the collectors added from now on
 *
 * Since: 0.1
 */
void
sonde_engine_set_proc_root (SondeEngine *self,
                            const char  *proc_root)
{
  g_return_if_fail (SONDE_IS_ENGINE (self));

  if (g_strcmp0 (self->proc_root, proc_root) == 0)
    return;

  g_free (self->proc_root);
  self->proc_root = g_strdup (proc_root);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PROC_ROOT]);
}

/**
 * sonde_engine_get_history_length:
 * @self: a #SondeEngine
 *
 * Returns: the seconds of history kept per numeric metric
 *
 * Since: 0.1
 */
guint
sonde_engine_get_history_length (SondeEngine *self)
{
  g_return_val_if_fail (SONDE_IS_ENGINE (self), 0);
  return self->history_length;
}

/**
 * sonde_engine_set_history_length:
 * @self: a #SondeEngine
 * @seconds: seconds of history to keep per numeric metric, at most a day;
 *   0 keeps none
 *
 * Starts, resizes (dropping what was kept) or stops the engine's history.
 *
 * Since: 0.1
 */
void
sonde_engine_set_history_length (SondeEngine *self,
                                 guint        seconds)
{
  g_return_if_fail (SONDE_IS_ENGINE (self));
  g_return_if_fail (seconds <= 24 * 3600);

  if (self->history_length == seconds)
    return;

  /* A ring of another length starts afresh. */
  self->history_length = seconds;
  g_clear_object (&self->history);
  if (seconds > 0)
    self->history = sonde_history_new (self, seconds);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_HISTORY_LENGTH]);
}

/**
 * sonde_engine_get_history:
 * @self: a #SondeEngine
 *
 * Returns: (transfer none) (nullable): the engine's history, while
 *   #SondeEngine:history-length is not 0
 *
 * Since: 0.1
 */
SondeHistory *
sonde_engine_get_history (SondeEngine *self)
{
  g_return_val_if_fail (SONDE_IS_ENGINE (self), NULL);
  return self->history;
}
