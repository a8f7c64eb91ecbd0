/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "sonde-engine-private.h"
#include "sonde-error.h"
#include "sonde-filter-private.h"
#include "sonde-json-private.h"
#include "sonde-engine-snapshot-private.h"

/* One-off snapshots, as GET /api/v1/snapshot and D-Bus GetSnapshot answer
 * them: {"timestamp": ..., "data": {collector: {field: value}}[, "stale": [...]]}. */

JsonObject *
_sonde_engine_build_catalog (SondeEngine *engine)
{
  g_autoptr(GPtrArray) metrics = sonde_engine_list_metrics (engine);
  JsonObject *catalog = json_object_new ();
  JsonArray *array = json_array_sized_new (metrics->len);

  for (guint i = 0; i < metrics->len; i++)
    {
      SondeMetric *metric = g_ptr_array_index (metrics, i);
      JsonObject *entry = json_object_new ();

      json_object_set_string_member (entry, "name", sonde_metric_get_name (metric));
      json_object_set_string_member (entry, "collector", sonde_metric_get_collector (metric));
      json_object_set_string_member (entry, "field", sonde_metric_get_field (metric));
      json_object_set_string_member (entry, "unit", sonde_metric_get_unit (metric));
      json_object_set_string_member (entry, "kind", sonde_metric_kind_to_string (sonde_metric_get_kind (metric)));
      json_object_set_string_member (entry, "description", sonde_metric_get_description (metric));
      json_array_add_object_element (array, entry);
    }

  json_object_set_array_member (catalog, "metrics", array);
  return catalog;
}

static void
snapshot_refreshed_cb (GObject      *source,
                       GAsyncResult *result,
                       gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  SondeEngine *engine = SONDE_ENGINE (source);
  SondeFilter *filter = g_task_get_task_data (task);
  g_autoptr(JsonObject) object = json_object_new ();
  g_autofree char *timestamp = _sonde_format_timestamp (g_get_real_time ());
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(SondeTickView) view = NULL;
  JsonArray *stale = NULL;

  /* A collector that failed keeps its last values, or is absent, and is
   * listed as stale: the snapshot is answered all the same. */
  sonde_engine_refresh_finish (engine, result, NULL);

  if (g_task_return_error_if_cancelled (task))
    return;

  json_object_set_string_member (object, "timestamp", timestamp);
  view = _sonde_engine_build_view (engine, g_get_real_time ());
  json_object_set_object_member (object, "data", _sonde_tick_view_to_json (view, filter, &stale));
  if (stale != NULL)
    json_object_set_array_member (object, "stale", stale);

  bytes = _sonde_json_object_to_bytes (object);
  g_task_return_pointer (task, g_strndup (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes)), g_free);
}

/**
 * sonde_engine_snapshot_async:
 * @self: a #SondeEngine
 * @patterns: (array zero-terminated=1) (nullable): metric patterns such
 *   as "cpu.usage_percent" or "memory.*"; %NULL or empty means "*"
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called with the snapshot
 * @user_data: (closure callback): data for @callback
 *
 * Takes a snapshot of fresh values: collectors that are not being sampled
 * are collected now (see sonde_engine_refresh_async()).
 *
 * Since: 0.1
 */
void
sonde_engine_snapshot_async (SondeEngine         *self,
                             const char * const  *patterns,
                             GCancellable        *cancellable,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data)
{
  static const char * const everything[] = { "*", NULL };
  g_autoptr(GTask) task = NULL;
  g_autoptr(GPtrArray) collectors = NULL;
  g_autoptr(GPtrArray) wanted = NULL;
  g_autoptr(GError) error = NULL;
  SondeFilter *filter;

  g_return_if_fail (SONDE_IS_ENGINE (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, sonde_engine_snapshot_async);

  if (patterns == NULL || patterns[0] == NULL)
    patterns = everything;

  filter = _sonde_filter_new (_sonde_engine_get_catalog (self), patterns, &error);
  if (filter == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  g_task_set_task_data (task, filter, (GDestroyNotify) _sonde_filter_free);

  collectors = sonde_engine_list_collectors (self);
  wanted = g_ptr_array_new ();
  for (guint i = 0; i < collectors->len; i++)
    {
      const char *name = sonde_collector_get_name (g_ptr_array_index (collectors, i));

      if (_sonde_filter_wants_collector (filter, name))
        g_ptr_array_add (wanted, (gpointer) name);
    }
  g_ptr_array_add (wanted, NULL);

  sonde_engine_refresh_async (self, (const char * const *) wanted->pdata, cancellable,
                              snapshot_refreshed_cb, g_steal_pointer (&task));
}

/**
 * sonde_engine_snapshot_finish:
 * @self: a #SondeEngine
 * @result: the #GAsyncResult
 * @error: return location for a #GError: %SONDE_ERROR_UNKNOWN_METRIC or
 *   %SONDE_ERROR_INVALID_FILTER for bad patterns
 *
 * Returns: (transfer full) (nullable): the snapshot as JSON text
 *
 * Since: 0.1
 */
char *
sonde_engine_snapshot_finish (SondeEngine   *self,
                              GAsyncResult  *result,
                              GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}
