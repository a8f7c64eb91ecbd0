/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "sonde-engine.h"
#include "sonde-history-private.h"

/**
 * SondeHistory:
 *
 * A ring buffer per numeric metric, one point per second, answering "the
 * last N seconds of metric M".
 *
 * A history is a consumer like any subscriber: it keeps every collector of
 * its engine sampled at 1 s, and records each top-level numeric field
 * (arrays and strings are not recorded). Its memory is bounded: 12 bytes
 * per point, so `length × 12` bytes per metric (42 KiB for the default
 * hour) and at most %SONDE_HISTORY_MAX_METRICS metrics; the daemon's
 * collectors produce about 60, which is some 2.5 MiB for an hour. The
 * memory is taken as the points come, a few minutes' worth at a time.
 *
 * Since: 0.1
 */

/* Slots of a ring are allocated in blocks when first written: a daemon
 * that just started holds seconds of history, not an hour's room. */
#define MAX_SLOTS_PER_BLOCK 256

/* A block: its slots' values (double), then their epoch seconds (guint32,
 * 0 when empty). */
typedef struct
{
  guint8 **blocks;   /* NULL until written */
  guint    n_blocks;
  guint    slots_per_block;
} Ring;

struct _SondeHistory
{
  GObject      parent_instance;

  SondeEngine *engine;
  guint        length;
  GHashTable  *rings;         /* "collector.field" -> Ring */
  GHashTable  *handlers;      /* SondeCollector -> sampled handler id */
  GArray      *hold_ids;
  gulong       added_handler;
  gulong       removed_handler;
};

G_DEFINE_FINAL_TYPE (SondeHistory, sonde_history, G_TYPE_OBJECT)

static Ring *
ring_new (guint length)
{
  Ring *ring = g_new0 (Ring, 1);

  ring->slots_per_block = MIN (length, MAX_SLOTS_PER_BLOCK);
  ring->n_blocks = (length + ring->slots_per_block - 1) / ring->slots_per_block;
  ring->blocks = g_new0 (guint8 *, ring->n_blocks);
  return ring;
}

static void
ring_free (Ring *ring)
{
  for (guint i = 0; i < ring->n_blocks; i++)
    g_free (ring->blocks[i]);
  g_free (ring->blocks);
  g_free (ring);
}

static gsize
ring_block_size (const Ring *ring)
{
  return ring->slots_per_block * (sizeof (double) + sizeof (guint32));
}

static double *
block_values (guint8 *block)
{
  return (double *) block;
}

static guint32 *
block_seconds (const Ring *ring,
               guint8     *block)
{
  return (guint32 *) (block + ring->slots_per_block * sizeof (double));
}

static void
ring_set (Ring   *ring,
          guint   slot,
          guint32 second,
          double  value)
{
  guint8 **block = &ring->blocks[slot / ring->slots_per_block];
  guint i = slot % ring->slots_per_block;

  if (*block == NULL)
    *block = g_malloc0 (ring_block_size (ring));
  block_values (*block)[i] = value;
  block_seconds (ring, *block)[i] = second;
}

/* Whether @slot holds the point of @second, and its value. */
static gboolean
ring_get (const Ring *ring,
          guint       slot,
          guint32     second,
          double     *value)
{
  guint8 *block = ring->blocks[slot / ring->slots_per_block];
  guint i = slot % ring->slots_per_block;

  if (block == NULL || block_seconds (ring, block)[i] != second)
    return FALSE;
  *value = block_values (block)[i];
  return TRUE;
}

static gsize
ring_memory_size (const Ring *ring)
{
  gsize size = 0;

  for (guint i = 0; i < ring->n_blocks; i++)
    if (ring->blocks[i] != NULL)
      size += ring_block_size (ring);
  return size;
}

static void
record_sample (SondeHistory *self,
               SondeSample  *sample)
{
  JsonObjectIter iter;
  const char *field;
  JsonNode *node;
  guint32 second = (guint32) (sonde_sample_get_timestamp (sample) / G_USEC_PER_SEC);
  guint slot = second % self->length;

  json_object_iter_init_ordered (&iter, sonde_sample_get_data (sample));
  while (json_object_iter_next_ordered (&iter, &field, &node))
    {
      g_autofree char *metric = NULL;
      GType type;
      Ring *ring;

      if (!JSON_NODE_HOLDS_VALUE (node))
        continue;
      type = json_node_get_value_type (node);
      if (type != G_TYPE_DOUBLE && type != G_TYPE_INT64)
        continue;

      metric = g_strconcat (sonde_sample_get_collector (sample), ".", field, NULL);
      ring = g_hash_table_lookup (self->rings, metric);
      if (ring == NULL)
        {
          if (g_hash_table_size (self->rings) >= SONDE_HISTORY_MAX_METRICS)
            continue;
          ring = ring_new (self->length);
          g_hash_table_insert (self->rings, g_steal_pointer (&metric), ring);
        }

      ring_set (ring, slot, second, json_node_get_double (node));
    }
}

static void
sampled_cb (SondeCollector *collector,
            SondeSample    *sample,
            SondeHistory   *self)
{
  record_sample (self, sample);
}

static void
watch_collector (SondeHistory   *self,
                 SondeCollector *collector)
{
  gulong handler;
  guint hold;

  handler = g_signal_connect (collector, "sampled", G_CALLBACK (sampled_cb), self);
  g_hash_table_insert (self->handlers, g_object_ref (collector), GSIZE_TO_POINTER (handler));

  hold = sonde_engine_hold (self->engine, sonde_collector_get_name (collector), 1000, NULL);
  if (hold != 0)
    g_array_append_val (self->hold_ids, hold);
}

static void
collector_added_cb (SondeEngine    *engine,
                    SondeCollector *collector,
                    SondeHistory   *self)
{
  watch_collector (self, collector);
}

static void
collector_removed_cb (SondeEngine    *engine,
                      SondeCollector *collector,
                      SondeHistory   *self)
{
  gpointer handler;

  /* The engine dropped the collector's holds itself. */
  if (g_hash_table_steal_extended (self->handlers, collector, NULL, &handler))
    {
      g_signal_handler_disconnect (collector, GPOINTER_TO_SIZE (handler));
      g_object_unref (collector);
    }
}

static void
sonde_history_dispose (GObject *object)
{
  SondeHistory *self = SONDE_HISTORY (object);
  GHashTableIter iter;
  gpointer collector, handler;

  if (self->engine != NULL)
    {
      g_clear_signal_handler (&self->added_handler, self->engine);
      g_clear_signal_handler (&self->removed_handler, self->engine);
      for (guint i = 0; i < self->hold_ids->len; i++)
        sonde_engine_release (self->engine, g_array_index (self->hold_ids, guint, i));
      g_array_set_size (self->hold_ids, 0);
    }

  g_hash_table_iter_init (&iter, self->handlers);
  while (g_hash_table_iter_next (&iter, &collector, &handler))
    {
      g_signal_handler_disconnect (collector, GPOINTER_TO_SIZE (handler));
      g_object_unref (collector);
      g_hash_table_iter_steal (&iter);
    }

  g_clear_weak_pointer (&self->engine);

  G_OBJECT_CLASS (sonde_history_parent_class)->dispose (object);
}

static void
sonde_history_finalize (GObject *object)
{
  SondeHistory *self = SONDE_HISTORY (object);

  g_hash_table_unref (self->rings);
  g_hash_table_unref (self->handlers);
  g_array_unref (self->hold_ids);

  G_OBJECT_CLASS (sonde_history_parent_class)->finalize (object);
}

static void
sonde_history_class_init (SondeHistoryClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = sonde_history_dispose;
  object_class->finalize = sonde_history_finalize;
}

static void
sonde_history_init (SondeHistory *self)
{
  self->rings = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) ring_free);
  self->handlers = g_hash_table_new (NULL, NULL);
  self->hold_ids = g_array_new (FALSE, FALSE, sizeof (guint));
}

/**
 * sonde_history_new:
 * @engine: the engine whose collectors to record
 * @seconds: how many seconds to keep, 1 to 86400
 *
 * Starts recording: every collector of @engine, present and future, is
 * sampled at 1 s from now on, for as long as the history lives.
 *
 * Returns: (transfer full): a new #SondeHistory
 *
 * Since: 0.1
 */
SondeHistory *
sonde_history_new (SondeEngine *engine,
                   guint        seconds)
{
  SondeHistory *self;
  g_autoptr(GPtrArray) collectors = NULL;

  g_return_val_if_fail (SONDE_IS_ENGINE (engine), NULL);
  g_return_val_if_fail (seconds >= 1 && seconds <= 24 * 3600, NULL);

  self = g_object_new (SONDE_TYPE_HISTORY, NULL);
  self->length = seconds;
  g_set_weak_pointer (&self->engine, engine);

  collectors = sonde_engine_list_collectors (engine);
  for (guint i = 0; i < collectors->len; i++)
    watch_collector (self, g_ptr_array_index (collectors, i));

  self->added_handler = g_signal_connect (engine, "collector-added",
                                          G_CALLBACK (collector_added_cb), self);
  self->removed_handler = g_signal_connect (engine, "collector-removed",
                                            G_CALLBACK (collector_removed_cb), self);
  return self;
}

/**
 * sonde_history_get_length:
 * @self: a #SondeHistory
 *
 * Returns: how many seconds are kept
 *
 * Since: 0.1
 */
guint
sonde_history_get_length (SondeHistory *self)
{
  g_return_val_if_fail (SONDE_IS_HISTORY (self), 0);
  return self->length;
}

/**
 * sonde_history_get_n_metrics:
 * @self: a #SondeHistory
 *
 * Returns: how many metrics are being recorded
 *
 * Since: 0.1
 */
guint
sonde_history_get_n_metrics (SondeHistory *self)
{
  g_return_val_if_fail (SONDE_IS_HISTORY (self), 0);
  return g_hash_table_size (self->rings);
}

/**
 * sonde_history_get_memory_size:
 * @self: a #SondeHistory
 *
 * Returns: the bytes the rings take now: 12 per second of the length,
 *   taken up to 256 seconds at a time as points come in
 *
 * Since: 0.1
 */
gsize
sonde_history_get_memory_size (SondeHistory *self)
{
  GHashTableIter iter;
  gpointer ring;
  gsize size = 0;

  g_return_val_if_fail (SONDE_IS_HISTORY (self), 0);

  g_hash_table_iter_init (&iter, self->rings);
  while (g_hash_table_iter_next (&iter, NULL, &ring))
    size += ring_memory_size (ring);
  return size;
}

/**
 * sonde_history_has_metric:
 * @self: a #SondeHistory
 * @metric: a full metric name, such as "cpu.usage_percent"
 *
 * Returns: whether @metric has been recorded
 *
 * Since: 0.1
 */
gboolean
sonde_history_has_metric (SondeHistory *self,
                          const char   *metric)
{
  g_return_val_if_fail (SONDE_IS_HISTORY (self), FALSE);
  g_return_val_if_fail (metric != NULL, FALSE);
  return g_hash_table_contains (self->rings, metric);
}

/* Walks the points of the last @seconds, oldest first. */
static guint
collect_points (SondeHistory *self,
                const char   *metric,
                guint         seconds,
                void        (*add) (gpointer data, gint64 timestamp_ms, double value),
                gpointer      data)
{
  Ring *ring = g_hash_table_lookup (self->rings, metric);
  guint32 now = (guint32) (g_get_real_time () / G_USEC_PER_SEC);
  guint n_points = 0;

  if (ring == NULL)
    return 0;

  seconds = MIN (seconds, self->length);
  for (guint32 second = now - seconds + 1; second <= now; second++)
    {
      double value;

      if (!ring_get (ring, second % self->length, second, &value))
        continue;

      add (data, (gint64) second * 1000, value);
      n_points++;
    }

  return n_points;
}

typedef struct
{
  GArray *timestamps;
  GArray *values;
} Arrays;

static void
add_to_arrays (gpointer data,
               gint64   timestamp_ms,
               double   value)
{
  Arrays *arrays = data;

  g_array_append_val (arrays->timestamps, timestamp_ms);
  g_array_append_val (arrays->values, value);
}

/**
 * sonde_history_get_points:
 * @self: a #SondeHistory
 * @metric: a full metric name, such as "cpu.usage_percent"
 * @seconds: how far back to look
 * @timestamps_ms: (out) (transfer full) (element-type gint64) (optional):
 *   the points' times, in milliseconds since the epoch, oldest first
 * @values: (out) (transfer full) (element-type gdouble) (optional): the
 *   points' values
 *
 * Seconds in which the metric was not sampled have no point.
 *
 * Returns: the number of points
 *
 * Since: 0.1
 */
guint
sonde_history_get_points (SondeHistory  *self,
                          const char    *metric,
                          guint          seconds,
                          GArray       **timestamps_ms,
                          GArray       **values)
{
  Arrays arrays;
  guint n_points;

  g_return_val_if_fail (SONDE_IS_HISTORY (self), 0);
  g_return_val_if_fail (metric != NULL, 0);

  arrays.timestamps = g_array_new (FALSE, FALSE, sizeof (gint64));
  arrays.values = g_array_new (FALSE, FALSE, sizeof (double));
  n_points = collect_points (self, metric, seconds, add_to_arrays, &arrays);

  if (timestamps_ms != NULL)
    *timestamps_ms = g_steal_pointer (&arrays.timestamps);
  if (values != NULL)
    *values = g_steal_pointer (&arrays.values);
  g_clear_pointer (&arrays.timestamps, g_array_unref);
  g_clear_pointer (&arrays.values, g_array_unref);

  return n_points;
}

static void
add_to_json (gpointer data,
             gint64   timestamp_ms,
             double   value)
{
  JsonArray *points = data;
  JsonArray *point = json_array_sized_new (2);

  json_array_add_int_element (point, timestamp_ms);
  json_array_add_double_element (point, value);
  json_array_add_array_element (points, point);
}

JsonArray *
_sonde_history_build_points (SondeHistory *self,
                             const char   *metric,
                             guint         seconds)
{
  JsonArray *points = json_array_new ();

  collect_points (self, metric, seconds, add_to_json, points);
  return points;
}
