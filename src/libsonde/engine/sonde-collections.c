/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "sonde-collections-private.h"

struct _SondeCollections
{
  gatomicrefcount      ref;
  SondeCollectionDone  done;
  GMainContext        *context;
  GMutex               lock;
  GCond                cond;
  /* Under the lock: */
  GQueue               returned;          /* of Collection */
  gboolean             hand_back_posted;  /* an idle will hand them back */
  gboolean             main_waiting;      /* the main context waits for its tick */
  guint                tick;              /* counts the ticks begun */
  guint                tick_running;      /* collections of that tick still running */
};

typedef struct
{
  SondeCollections *collections;   /* a reference */
  CollectorState   *state;         /* a reference */
  SondeCollector   *collector;     /* a reference */
  guint             tick;          /* for the tick it was started for, or 0 */
  SondeSample      *sample;
  GError           *error;
} Collection;

static SondeCollections *
collections_ref (SondeCollections *self)
{
  g_atomic_ref_count_inc (&self->ref);
  return self;
}

void
_sonde_collections_unref (SondeCollections *self)
{
  if (self == NULL || !g_atomic_ref_count_dec (&self->ref))
    return;

  g_assert (g_queue_is_empty (&self->returned));
  g_main_context_unref (self->context);
  g_mutex_clear (&self->lock);
  g_cond_clear (&self->cond);
  g_free (self);
}

SondeCollections *
_sonde_collections_new (SondeCollectionDone done)
{
  SondeCollections *self = g_new0 (SondeCollections, 1);

  g_atomic_ref_count_init (&self->ref);
  self->done = done;
  self->context = g_main_context_ref_thread_default ();
  g_mutex_init (&self->lock);
  g_cond_init (&self->cond);
  g_queue_init (&self->returned);
  return self;
}

static void
collection_free (Collection *collection)
{
  g_clear_pointer (&collection->sample, sonde_sample_unref);
  g_clear_error (&collection->error);
  g_object_unref (collection->collector);
  _sonde_collector_state_unref (collection->state);
  _sonde_collections_unref (collection->collections);
  g_free (collection);
}

/* In the main context: every collection that returned, in order. */
static void
hand_back (SondeCollections *self)
{
  GQueue returned;
  Collection *collection;

  g_mutex_lock (&self->lock);
  returned = self->returned;
  g_queue_init (&self->returned);
  self->hand_back_posted = FALSE;
  g_mutex_unlock (&self->lock);

  while ((collection = g_queue_pop_head (&returned)) != NULL)
    {
      self->done (collection->state, collection->sample, collection->error);
      collection_free (collection);
    }
}

static gboolean
hand_back_cb (gpointer data)
{
  hand_back (data);
  return G_SOURCE_REMOVE;
}

static void
run_in_thread (gpointer data,
               gpointer user_data)
{
  Collection *collection = data;
  SondeCollections *self = collection->collections;
  gboolean post = FALSE;

  collection->sample = sonde_collector_collect (collection->collector, &collection->error);

  g_mutex_lock (&self->lock);
  g_queue_push_tail (&self->returned, collection);
  if (collection->tick != 0 && collection->tick == self->tick && self->tick_running > 0)
    self->tick_running--;
  /* A main context waiting for its tick takes it; else an idle does, one
   * for all that return before it runs. */
  if (self->main_waiting)
    g_cond_signal (&self->cond);
  else if (!self->hand_back_posted)
    post = self->hand_back_posted = TRUE;
  g_mutex_unlock (&self->lock);

  if (post)
    g_main_context_invoke_full (self->context, G_PRIORITY_DEFAULT, hand_back_cb,
                                collections_ref (self), (GDestroyNotify) _sonde_collections_unref);
}

/* One pool for every engine; a thread per collection running at once (a
 * collector stuck in the kernel keeps its thread, not the others'). */
static GThreadPool *
get_pool (void)
{
  static GThreadPool *pool;

  if (g_once_init_enter (&pool))
    g_once_init_leave (&pool, g_thread_pool_new (run_in_thread, NULL, -1, FALSE, NULL));

  return pool;
}

void
_sonde_collections_begin_tick (SondeCollections *self)
{
  g_mutex_lock (&self->lock);
  /* Never 0, which marks collections of no tick. */
  self->tick = self->tick == G_MAXUINT ? 1 : self->tick + 1;
  self->tick_running = 0;
  /* From now: the first collections may return while the others start. */
  self->main_waiting = TRUE;
  g_mutex_unlock (&self->lock);
}

void
_sonde_collections_start (SondeCollections *self,
                          CollectorState   *state,
                          gboolean          for_tick)
{
  Collection *collection = g_new0 (Collection, 1);

  collection->collections = collections_ref (self);
  collection->state = _sonde_collector_state_ref (state);
  collection->collector = g_object_ref (state->collector);

  if (for_tick)
    {
      g_mutex_lock (&self->lock);
      collection->tick = self->tick;
      self->tick_running++;
      g_mutex_unlock (&self->lock);
    }

  g_thread_pool_push (get_pool (), collection, NULL);
}

void
_sonde_collections_wait_for_tick (SondeCollections *self,
                                  guint             timeout_ms)
{
  gint64 end_us = g_get_monotonic_time () + timeout_ms * G_TIME_SPAN_MILLISECOND;

  g_mutex_lock (&self->lock);
  while (self->tick_running > 0)
    if (!g_cond_wait_until (&self->cond, &self->lock, end_us))
      break;
  self->main_waiting = FALSE;
  g_mutex_unlock (&self->lock);

  /* Those that returned meanwhile posted nothing: they are handed back
   * now; the late ones post as usual. */
  hand_back (self);
}
