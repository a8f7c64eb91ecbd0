/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "sonde-clock-private.h"
#include "sonde-collections-private.h"
#include "sonde-collector-private.h"
#include "sonde-engine-private.h"
#include "sonde-error.h"
#include "sonde-ready-time-source-private.h"

/* The engine's clock: wall-clock aligned ticks, one collection per due
 * collector in a worker thread with a deadline, holds that make
 * collectors due, and one-off refreshes. A private object of its engine,
 * which it reaches only through the engine's private functions. */

/* The longest a tick waits for its collections before it is published. */
#define TICK_DEADLINE_MAX_MS 2000
/* How long the main context blocks for a tick's collections before it goes
 * on and lets them return on their own (sonde-collections-private.h); at
 * most a tenth of the shortest interval. */
#define TICK_WAIT_MS 20
/* A refresh (snapshot request) keeps its collectors sampled this long
 * after the last one, so that polling clients get rates rather than a
 * first sample each time. */
#define REFRESH_LINGER_MS 10000

struct _SondeEngineTick
{
  gint64 timestamp_ms;
  guint  pending;
  guint  deadline_source;
};

typedef struct
{
  CollectorState *state;
  guint           interval_ms;
} Hold;

struct _SondeClock
{
  SondeEngine     *engine;        /* unowned: the engine owns its clock */
  SondeCollections *collections;
  SondeEngineTick *tick;          /* the tick being collected, if any */
  GHashTable      *holds;         /* id -> Hold */
  guint            next_hold_id;
  gint64           last_tick_ms;  /* 0 once forgotten */
  gint64           next_tick_ms;
  guint            clock_source;
  gint64         (*wall_clock) (void);  /* g_get_real_time, unless a test steps it */
};

static void collect_done (CollectorState *state,
                          SondeSample    *sample,
                          const GError   *error);

SondeClock *
_sonde_clock_new (SondeEngine *engine)
{
  SondeClock *self = g_new0 (SondeClock, 1);

  self->engine = engine;
  self->collections = _sonde_collections_new (collect_done);
  self->holds = g_hash_table_new_full (NULL, NULL, NULL, g_free);
  self->wall_clock = g_get_real_time;
  return self;
}

void
_sonde_clock_free (SondeClock *self)
{
  if (self == NULL)
    return;

  g_clear_handle_id (&self->clock_source, g_source_remove);
  if (self->tick != NULL)
    {
      g_clear_handle_id (&self->tick->deadline_source, g_source_remove);
      g_clear_pointer (&self->tick, g_free);
    }
  g_hash_table_unref (self->holds);
  _sonde_collections_unref (self->collections);
  g_free (self);
}

/* Collection ------------------------------------------------------------ */

static void
publish_tick (SondeClock *self)
{
  SondeEngineTick *tick = g_steal_pointer (&self->tick);
  GPtrArray *states = _sonde_engine_get_states (self->engine);

  g_clear_handle_id (&tick->deadline_source, g_source_remove);

  for (guint i = 0; i < states->len; i++)
    {
      CollectorState *state = g_ptr_array_index (states, i);

      if (state->tick == tick)
        state->tick = NULL;
    }

  _sonde_engine_publish (self->engine, tick->timestamp_ms * 1000);
  g_free (tick);
}

/* Publishes the current tick without waiting any longer: collectors still
 * busy missed the deadline and keep their previous, now stale, sample. */
static void
expire_tick (SondeClock *self)
{
  SondeEngineTick *tick = self->tick;
  g_autoptr(GPtrArray) states = _sonde_engine_ref_states (self->engine);

  /* The failures' handlers may remove collectors, which must not publish
   * the tick under our feet: it is published below. */
  tick->pending++;

  for (guint i = 0; i < states->len; i++)
    {
      CollectorState *state = g_ptr_array_index (states, i);

      if (!state->removed && state->tick == tick && state->busy)
        {
          g_autoptr(GError) error = NULL;

          state->stale = TRUE;
          g_set_error (&error, SONDE_ERROR, SONDE_ERROR_TIMED_OUT,
                       "Collector %s missed its deadline; its data is stale",
                       sonde_collector_get_name (state->collector));
          _sonde_engine_report_failure (self->engine, state, error);
        }
    }

  if (self->tick == tick)
    publish_tick (self);
}

static gboolean
tick_deadline_cb (gpointer data)
{
  SondeClock *self = data;

  self->tick->deadline_source = 0;
  expire_tick (self);
  return G_SOURCE_REMOVE;
}

typedef struct
{
  guint    pending;
  guint    timeout_source;   /* holds a reference to the task */
  gboolean returned;
} RefreshData;

static void
refresh_return (GTask *task)
{
  RefreshData *data = g_task_get_task_data (task);

  if (data->returned)
    return;
  data->returned = TRUE;
  /* The timeout's reference to the task, and so to the engine, goes. */
  g_clear_handle_id (&data->timeout_source, g_source_remove);
  g_task_return_boolean (task, TRUE);
}

static void
flush_waiters (CollectorState *state)
{
  g_autoptr(GPtrArray) waiters = g_steal_pointer (&state->waiters);

  state->waiters = g_ptr_array_new_with_free_func (g_object_unref);
  for (guint i = 0; i < waiters->len; i++)
    {
      GTask *refresh = g_ptr_array_index (waiters, i);
      RefreshData *data = g_task_get_task_data (refresh);

      if (--data->pending == 0)
        refresh_return (refresh);
    }
}

/* The collection of a collector that left @state's engine (or whose
 * engine is gone) returned. */
static void
stop_if_unused (SondeCollector *collector)
{
  SondeEngine *engine = sonde_collector_get_engine (collector);
  CollectorState *other = NULL;

  /* It may be back in an engine by now, held and collected there. */
  if (engine != NULL)
    other = _sonde_engine_find_state (engine, sonde_collector_get_name (collector));
  if (other != NULL && other->collector != collector)
    other = NULL;

  if (other == NULL || other->hold_intervals->len == 0)
    sonde_collector_stop (collector);
}

/* A collection returned, in the main context (sonde-collections.c holds
 * a reference to @state meanwhile). */
static void
collect_done (CollectorState *state,
              SondeSample    *sample,
              const GError   *error)
{
  SondeEngine *engine = state->engine;
  SondeClock *self = engine != NULL ? _sonde_engine_get_clock (engine) : NULL;
  SondeEngineTick *tick = g_steal_pointer (&state->tick);

  state->busy = FALSE;
  _sonde_collector_end_collection (state->collector);

  if (engine == NULL || state->removed)
    {
      /* The engine or the collector went away while collecting. */
      stop_if_unused (state->collector);
      flush_waiters (state);
      return;
    }

  g_object_ref (engine);

  /* The state is updated before the emissions, whose handlers may remove
   * the collector. */
  if (sample != NULL)
    {
      g_clear_pointer (&state->latest, sonde_sample_unref);
      state->latest = sonde_sample_ref (sample);
      state->stale = FALSE;
      g_clear_pointer (&state->failure, g_free);
      _sonde_collector_emit_sampled (state->collector, sample);
    }
  else
    {
      state->stale = state->latest != NULL;
      _sonde_engine_report_failure (engine, state, error);
    }

  if (state->removed)
    stop_if_unused (state->collector);
  else if (state->hold_intervals->len == 0)
    sonde_collector_stop (state->collector);

  flush_waiters (state);

  /* Still pending: this collection counted in it, so no handler could
   * publish it. */
  if (tick != NULL && tick == self->tick && --tick->pending == 0)
    publish_tick (self);

  g_object_unref (engine);
}

static gboolean
remove_state_cb (gpointer data)
{
  CollectorState *state = data;

  /* Unless a handler of the failure removed it already. */
  if (state->engine != NULL)
    _sonde_engine_remove_state (state->engine, state);
  return G_SOURCE_REMOVE;
}

/* A collector that cannot start (its /proc file is missing in this
 * container, say) is logged and skipped, rather than retried every tick.
 * It is removed from an idle callback: the caller is iterating the
 * collectors. */
static void
skip_unstartable (SondeClock     *self,
                  CollectorState *state,
                  const GError   *error)
{
  guint source;

  if (state->removed)
    return;

  /* Before the failure is reported: its handlers may remove the
   * collector, and with it the engine's reference to @state. */
  state->removed = TRUE;   /* not due any more */
  source = g_idle_add_full (G_PRIORITY_DEFAULT_IDLE, remove_state_cb,
                            _sonde_collector_state_ref (state),
                            (GDestroyNotify) _sonde_collector_state_unref);
  g_source_set_name_by_id (source, "[sonde] remove unstartable collector");

  g_warning ("Collector %s cannot start, skipping it: %s",
             sonde_collector_get_name (state->collector), error->message);
  _sonde_engine_report_failure (self->engine, state, error);
}

/* Starts a collection of @state unless one is running. Returns whether the
 * collector will answer (a failure to start is reported as an event, whose
 * handlers may remove collectors: the caller must hold a reference to
 * @state). */
static gboolean
dispatch_collection (SondeClock      *self,
                     CollectorState  *state,
                     SondeEngineTick *tick)
{
  g_autoptr(GError) error = NULL;

  if (state->busy || state->removed)
    return FALSE;

  /* A collection started before the collector was removed and added
   * again is still running: never collect the same object twice at once. */
  if (_sonde_collector_is_collecting (state->collector))
    return FALSE;

  if (!sonde_collector_start (state->collector, &error))
    {
      skip_unstartable (self, state, error);
      return FALSE;
    }

  if (!_sonde_collector_begin_collection (state->collector))
    return FALSE;

  state->busy = TRUE;
  state->tick = tick;
  _sonde_collections_start (self->collections, state, tick != NULL);
  return TRUE;
}

static gboolean
state_is_due (CollectorState *state,
              gint64          tick_ms,
              guint          *min_interval_ms)
{
  gboolean due = FALSE;

  if (state->removed)
    return FALSE;

  for (guint i = 0; i < state->hold_intervals->len; i++)
    {
      guint interval = g_array_index (state->hold_intervals, guint, i);

      if (_sonde_tick_is_due (tick_ms, interval))
        {
          due = TRUE;
          *min_interval_ms = MIN (*min_interval_ms, interval);
        }
    }

  return due;
}

/* The first tick after @now_ms, or G_MAXINT64 when nothing is held; and
 * the smallest interval held. */
static gint64
compute_next_tick_ms (SondeClock *self,
                      gint64      now_ms,
                      guint      *min_interval_ms)
{
  GPtrArray *states = _sonde_engine_get_states (self->engine);
  gint64 next = G_MAXINT64;

  *min_interval_ms = G_MAXUINT;

  for (guint i = 0; i < states->len; i++)
    {
      CollectorState *state = g_ptr_array_index (states, i);

      for (guint j = 0; j < state->hold_intervals->len; j++)
        {
          guint interval = g_array_index (state->hold_intervals, guint, j);
          gint64 candidate = (now_ms / interval + 1) * interval;

          next = MIN (next, candidate);
          *min_interval_ms = MIN (*min_interval_ms, interval);
        }
    }

  return next;
}

static gboolean
clock_cb (gpointer data)
{
  SondeClock *self = data;
  /* Handlers of what is published or returned may drop the engine's last
   * reference, which frees the clock. */
  g_autoptr(SondeEngine) engine = g_object_ref (self->engine);
  gint64 tick_ms = self->next_tick_ms;
  guint min_interval = G_MAXUINT;
  g_autoptr(GPtrArray) states = NULL;
  SondeEngineTick *tick;
  gint64 deadline_ms;

  self->clock_source = 0;
  self->last_tick_ms = tick_ms;

  /* A previous tick still waiting for a collector is published now, so
   * that ticks never pile up. */
  if (self->tick != NULL)
    expire_tick (self);

  tick = g_new0 (SondeEngineTick, 1);
  tick->timestamp_ms = tick_ms;
  /* Held while dispatching: a collector that cannot start reports it, and
   * a handler removing collectors must not publish the tick meanwhile. */
  tick->pending = 1;
  self->tick = tick;

  /* A snapshot: those handlers may also add collectors. */
  states = _sonde_engine_ref_states (self->engine);
  _sonde_collections_begin_tick (self->collections);
  for (guint i = 0; i < states->len; i++)
    {
      CollectorState *state = g_ptr_array_index (states, i);

      if (!state_is_due (state, tick_ms, &min_interval))
        continue;

      if (dispatch_collection (self, state, tick))
        tick->pending++;
    }

  _sonde_clock_schedule (self);

  /* Their results' handlers may remove collectors, not publish the tick:
   * it is published below. */
  _sonde_collections_wait_for_tick (self->collections, MIN (TICK_WAIT_MS, min_interval / 10));

  if (--tick->pending == 0)
    {
      publish_tick (self);
      return G_SOURCE_REMOVE;
    }

  /* Wait for the collections at most until the next tick, and never more
   * than TICK_DEADLINE_MAX_MS. */
  deadline_ms = MIN (min_interval * 9 / 10, TICK_DEADLINE_MAX_MS);
  if (self->next_tick_ms != G_MAXINT64)
    deadline_ms = MIN (deadline_ms, self->next_tick_ms - self->wall_clock () / 1000 - 5);
  tick->deadline_source = g_timeout_add (MAX (deadline_ms, 1), tick_deadline_cb, self);
  g_source_set_name_by_id (tick->deadline_source, "[sonde] tick deadline");

  return G_SOURCE_REMOVE;
}

guint
_sonde_clock_get_n_holds (SondeClock *self)
{
  return g_hash_table_size (self->holds);
}

void
_sonde_clock_set_wall_clock (SondeClock  *self,
                             gint64     (*wall_clock) (void))
{
  self->wall_clock = wall_clock != NULL ? wall_clock : g_get_real_time;
  g_clear_handle_id (&self->clock_source, g_source_remove);
  _sonde_clock_schedule (self);
}

/* Sets the timer for the next tick that a hold makes due. */
void
_sonde_clock_schedule (SondeClock *self)
{
  gint64 now_us = self->wall_clock ();
  gint64 now_ms = now_us / 1000;
  guint min_interval;
  gint64 next_ms = compute_next_tick_ms (self, now_ms, &min_interval);
  g_autoptr(GSource) source = NULL;

  if (self->last_tick_ms > now_ms)
    {
      /* A timer that fires a little early must not produce the same tick
       * twice; but a wall clock stepped back (by more than the shortest
       * interval) must not stall every stream until it catches up, so the
       * last tick is forgotten and the ticks go on from now. */
      if (self->last_tick_ms - now_ms < min_interval)
        next_ms = compute_next_tick_ms (self, self->last_tick_ms, &min_interval);
      else
        self->last_tick_ms = 0;
    }

  if (self->clock_source != 0 && next_ms == self->next_tick_ms)
    return;

  g_clear_handle_id (&self->clock_source, g_source_remove);
  self->next_tick_ms = next_ms;

  if (next_ms == G_MAXINT64)
    return;

  /* Due to the microsecond: g_timeout_add() would count whole
   * milliseconds from a truncated now, and wake up to 1 ms late on top of
   * the millisecond GLib rounds its poll timeout up to. */
  source = _sonde_ready_time_source_new (clock_cb, self, "[sonde] clock");
  g_source_set_ready_time (source, g_get_monotonic_time () + MAX (next_ms * 1000 - now_us, 0));
  self->clock_source = g_source_attach (source, NULL);
}

/* Forgets @state, which leaves the engine: its holds go, and the tick no
 * longer waits for it. */
void
_sonde_clock_forget_state (SondeClock     *self,
                           CollectorState *state)
{
  SondeEngineTick *tick = g_steal_pointer (&state->tick);
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, self->holds);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    if (((Hold *) value)->state == state)
      g_hash_table_iter_remove (&iter);

  /* If it was the last one the tick waited for, the tick is complete. */
  if (tick != NULL && tick == self->tick && --tick->pending == 0)
    publish_tick (self);
}

/* Holds ----------------------------------------------------------------- */

/**
 * sonde_engine_hold:
 * @self: a #SondeEngine
 * @collector: the name of a collector
 * @interval_ms: how often it must be sampled, between
 *   %SONDE_INTERVAL_MIN_MS and %SONDE_INTERVAL_MAX_MS
 * @error: return location for a #GError
 *
 * Asks for @collector to be sampled every @interval_ms, on ticks aligned
 * to wall-clock multiples of @interval_ms. The first hold starts the
 * collector. Holds at the same interval share the collection.
 *
 * Returns: a hold id for sonde_engine_release(), or 0 on error
 *
 * Since: 0.1
 */
guint
sonde_engine_hold (SondeEngine  *self,
                   const char   *collector,
                   guint         interval_ms,
                   GError      **error)
{
  SondeClock *clock;
  CollectorState *state;
  Hold *hold;
  guint id;

  g_return_val_if_fail (SONDE_IS_ENGINE (self), 0);
  g_return_val_if_fail (collector != NULL, 0);

  if (interval_ms < SONDE_INTERVAL_MIN_MS || interval_ms > SONDE_INTERVAL_MAX_MS)
    {
      g_set_error (error, SONDE_ERROR, SONDE_ERROR_INVALID_ARGUMENT,
                   "Interval %u ms is outside %u-%u ms",
                   interval_ms, SONDE_INTERVAL_MIN_MS, SONDE_INTERVAL_MAX_MS);
      return 0;
    }

  state = _sonde_engine_find_state (self, collector);
  if (state == NULL)
    {
      g_set_error (error, SONDE_ERROR, SONDE_ERROR_UNKNOWN_COLLECTOR,
                   "No collector named %s", collector);
      return 0;
    }

  clock = _sonde_engine_get_clock (self);
  id = ++clock->next_hold_id;
  if (id == 0)
    id = ++clock->next_hold_id;

  hold = g_new0 (Hold, 1);
  hold->state = state;
  hold->interval_ms = interval_ms;
  g_hash_table_insert (clock->holds, GUINT_TO_POINTER (id), hold);
  g_array_append_val (state->hold_intervals, interval_ms);

  _sonde_clock_schedule (clock);
  return id;
}

/**
 * sonde_engine_release:
 * @self: a #SondeEngine
 * @hold_id: an id returned by sonde_engine_hold()
 *
 * Drops a hold. The last hold on a collector stops it.
 *
 * Since: 0.1
 */
void
sonde_engine_release (SondeEngine *self,
                      guint        hold_id)
{
  SondeClock *clock;
  Hold *hold;
  CollectorState *state;

  g_return_if_fail (SONDE_IS_ENGINE (self));

  clock = _sonde_engine_get_clock (self);
  hold = g_hash_table_lookup (clock->holds, GUINT_TO_POINTER (hold_id));
  if (hold == NULL)
    return;

  state = hold->state;
  for (guint i = 0; i < state->hold_intervals->len; i++)
    {
      if (g_array_index (state->hold_intervals, guint, i) == hold->interval_ms)
        {
          g_array_remove_index_fast (state->hold_intervals, i);
          break;
        }
    }
  g_hash_table_remove (clock->holds, GUINT_TO_POINTER (hold_id));

  /* A running collection stops the collector when it returns. */
  if (state->hold_intervals->len == 0 && !_sonde_collector_is_collecting (state->collector))
    sonde_collector_stop (state->collector);

  _sonde_clock_schedule (clock);
}

/* Refresh --------------------------------------------------------------- */

static void schedule_linger_end (CollectorState *state);

/* The source is removed when the state leaves its engine, so the engine
 * is there. */
static gboolean
linger_done_cb (gpointer data)
{
  CollectorState *state = data;
  SondeEngine *self = state->engine;
  guint hold_id;

  state->linger_source = 0;
  g_assert (self != NULL);

  /* Refreshed since the timer was set: wait for the new deadline. */
  if (g_get_monotonic_time () < state->linger_deadline_us)
    {
      schedule_linger_end (state);
      return G_SOURCE_REMOVE;
    }

  hold_id = state->linger_hold;
  state->linger_hold = 0;
  sonde_engine_release (self, hold_id);
  return G_SOURCE_REMOVE;
}

static void
schedule_linger_end (CollectorState *state)
{
  gint64 remaining_us = state->linger_deadline_us - g_get_monotonic_time ();

  state->linger_source = g_timeout_add_full (G_PRIORITY_DEFAULT,
                                             MAX (remaining_us, 0) / 1000 + 1,
                                             linger_done_cb,
                                             _sonde_collector_state_ref (state),
                                             (GDestroyNotify) _sonde_collector_state_unref);
  g_source_set_name_by_id (state->linger_source, "[sonde] refresh linger");
}

/* Keeps @state sampled at 1 s for REFRESH_LINGER_MS from now: one hold per
 * collector, however often it is refreshed, whose end each refresh puts
 * off. */
static void
linger (SondeEngine    *self,
        CollectorState *state)
{
  state->linger_deadline_us = g_get_monotonic_time () + REFRESH_LINGER_MS * G_TIME_SPAN_MILLISECOND;

  if (state->linger_hold == 0)
    state->linger_hold = sonde_engine_hold (self, sonde_collector_get_name (state->collector),
                                            1000, NULL);
  if (state->linger_source == 0)
    schedule_linger_end (state);
}

static gboolean
refresh_timeout_cb (gpointer data)
{
  GTask *task = data;
  RefreshData *refresh = g_task_get_task_data (task);

  refresh->timeout_source = 0;

  /* Late collectors are reported by their own events; answer with what
   * there is. */
  refresh_return (task);
  return G_SOURCE_REMOVE;
}

/**
 * sonde_engine_refresh_async:
 * @self: a #SondeEngine
 * @collectors: (array zero-terminated=1) (nullable): collector names, or
 *   %NULL for all
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when the samples are fresh
 * @user_data: (closure callback): data for @callback
 *
 * Makes sure the latest sample of each collector is fresh, for one-off
 * readers such as `GET /api/v1/snapshot`: collectors that are not being
 * sampled are collected now and kept sampled at 1 s for a short while
 * after the last refresh, so that a client polling once a second gets
 * rates, not first samples.
 *
 * Since: 0.1
 */
void
sonde_engine_refresh_async (SondeEngine         *self,
                            const char * const  *collectors,
                            GCancellable        *cancellable,
                            GAsyncReadyCallback  callback,
                            gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(GPtrArray) states = NULL;
  RefreshData *data;
  gint64 now = g_get_real_time ();

  g_return_if_fail (SONDE_IS_ENGINE (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, sonde_engine_refresh_async);
  data = g_new0 (RefreshData, 1);
  data->pending = 1;   /* released below, once every collector is dispatched */
  g_task_set_task_data (task, data, g_free);

  /* A snapshot: a collector that cannot start reports it, and handlers
   * may add or remove collectors. */
  states = _sonde_engine_ref_states (self);
  for (guint i = 0; i < states->len; i++)
    {
      CollectorState *state = g_ptr_array_index (states, i);
      const char *name = sonde_collector_get_name (state->collector);
      gboolean held = state->hold_intervals->len > 0;

      if (state->removed)
        continue;

      if (collectors != NULL && !g_strv_contains (collectors, name))
        continue;

      /* A sample from a collector being sampled at 1 s or faster is fresh. */
      if (held && state->latest != NULL &&
          now - sonde_sample_get_timestamp (state->latest) < 1500 * G_TIME_SPAN_MILLISECOND)
        continue;

      linger (self, state);

      if (state->busy || dispatch_collection (_sonde_engine_get_clock (self), state, NULL))
        {
          data->pending++;
          g_ptr_array_add (state->waiters, g_object_ref (task));
        }
    }

  if (--data->pending == 0)
    {
      refresh_return (task);
      return;
    }

  data->timeout_source = g_timeout_add_full (G_PRIORITY_DEFAULT, TICK_DEADLINE_MAX_MS,
                                             refresh_timeout_cb,
                                             g_object_ref (task), g_object_unref);
  g_source_set_name_by_id (data->timeout_source, "[sonde] refresh timeout");
}

/**
 * sonde_engine_refresh_finish:
 * @self: a #SondeEngine
 * @result: the #GAsyncResult
 * @error: return location for a #GError
 *
 * Returns: %TRUE once the samples are as fresh as they can be
 *
 * Since: 0.1
 */
gboolean
sonde_engine_refresh_finish (SondeEngine   *self,
                             GAsyncResult  *result,
                             GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}
