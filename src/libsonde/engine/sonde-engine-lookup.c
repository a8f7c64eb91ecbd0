/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "sonde-engine-private.h"

/* What the engine knows, asked by name: its collectors, their catalog and
 * their latest samples. The state they read is kept by sonde-engine.c. */

/**
 * sonde_engine_get_collector:
 * @self: a #SondeEngine
 * @name: a collector name
 *
 * Returns: (transfer none) (nullable): the collector named @name
 *
 * Since: 0.1
 */
SondeCollector *
sonde_engine_get_collector (SondeEngine *self,
                            const char  *name)
{
  CollectorState *state;

  g_return_val_if_fail (SONDE_IS_ENGINE (self), NULL);
  g_return_val_if_fail (name != NULL, NULL);

  state = _sonde_engine_find_state (self, name);
  return state ? state->collector : NULL;
}

/**
 * sonde_engine_list_collectors:
 * @self: a #SondeEngine
 *
 * Returns: (transfer container) (element-type SondeCollector): the
 *   collectors, in the order they were added
 *
 * Since: 0.1
 */
GPtrArray *
sonde_engine_list_collectors (SondeEngine *self)
{
  GPtrArray *states, *ret;

  g_return_val_if_fail (SONDE_IS_ENGINE (self), NULL);

  states = _sonde_engine_get_states (self);
  ret = g_ptr_array_new_with_free_func (g_object_unref);
  for (guint i = 0; i < states->len; i++)
    {
      CollectorState *state = g_ptr_array_index (states, i);
      g_ptr_array_add (ret, g_object_ref (state->collector));
    }
  return ret;
}

/**
 * sonde_engine_list_metrics:
 * @self: a #SondeEngine
 *
 * Returns: (transfer container) (element-type SondeMetric): the catalog of
 *   every collector
 *
 * Since: 0.1
 */
GPtrArray *
sonde_engine_list_metrics (SondeEngine *self)
{
  GPtrArray *states, *ret;

  g_return_val_if_fail (SONDE_IS_ENGINE (self), NULL);

  states = _sonde_engine_get_states (self);
  ret = g_ptr_array_new_with_free_func ((GDestroyNotify) sonde_metric_unref);
  for (guint i = 0; i < states->len; i++)
    {
      CollectorState *state = g_ptr_array_index (states, i);
      g_autoptr(GPtrArray) metrics = sonde_collector_get_metrics (state->collector);

      for (guint j = 0; j < metrics->len; j++)
        g_ptr_array_add (ret, sonde_metric_ref (g_ptr_array_index (metrics, j)));
    }
  return ret;
}

/**
 * sonde_engine_lookup_metric:
 * @self: a #SondeEngine
 * @name: a full metric name, such as "cpu.usage_percent"
 *
 * Returns: (transfer none) (nullable): the catalog entry of @name
 *
 * Since: 0.1
 */
SondeMetric *
sonde_engine_lookup_metric (SondeEngine *self,
                            const char  *name)
{
  g_return_val_if_fail (SONDE_IS_ENGINE (self), NULL);
  g_return_val_if_fail (name != NULL, NULL);

  return _sonde_catalog_lookup (_sonde_engine_get_catalog (self), name);
}

/**
 * sonde_engine_get_latest:
 * @self: a #SondeEngine
 * @collector: a collector name
 *
 * Returns: (transfer none) (nullable): the most recent sample of
 *   @collector, if it was ever collected
 *
 * Since: 0.1
 */
SondeSample *
sonde_engine_get_latest (SondeEngine *self,
                         const char  *collector)
{
  CollectorState *state;

  g_return_val_if_fail (SONDE_IS_ENGINE (self), NULL);
  g_return_val_if_fail (collector != NULL, NULL);

  state = _sonde_engine_find_state (self, collector);
  return state ? state->latest : NULL;
}

/* Why @collector has no fresh data, or NULL when it has. */
const char *
_sonde_engine_get_failure (SondeEngine *self,
                           const char  *collector)
{
  CollectorState *state = _sonde_engine_find_state (self, collector);

  if (state == NULL)
    return "no such collector";
  if (state->latest != NULL && !state->stale)
    return NULL;
  return state->failure;
}
