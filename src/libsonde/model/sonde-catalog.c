/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "sonde-catalog-private.h"

struct _SondeCatalog
{
  GPtrArray  *metrics;      /* SondeMetric */
  GHashTable *by_name;      /* full name -> SondeMetric, borrowed */
  GHashTable *collectors;   /* name set */
};

static void
catalog_release (SondeCatalog *self)
{
  g_hash_table_unref (self->by_name);
  g_hash_table_unref (self->collectors);
  g_ptr_array_unref (self->metrics);
}

SondeCatalog *
_sonde_catalog_new (GPtrArray *collectors)
{
  SondeCatalog *self = g_rc_box_new0 (SondeCatalog);

  self->metrics = g_ptr_array_new_with_free_func ((GDestroyNotify) sonde_metric_unref);
  self->by_name = g_hash_table_new (g_str_hash, g_str_equal);
  self->collectors = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  for (guint i = 0; i < collectors->len; i++)
    {
      SondeCollector *collector = g_ptr_array_index (collectors, i);
      g_autoptr(GPtrArray) metrics = sonde_collector_get_metrics (collector);

      g_hash_table_add (self->collectors, g_strdup (sonde_collector_get_name (collector)));
      for (guint j = 0; j < metrics->len; j++)
        {
          SondeMetric *metric = g_ptr_array_index (metrics, j);

          g_ptr_array_add (self->metrics, sonde_metric_ref (metric));
          g_hash_table_insert (self->by_name, (gpointer) sonde_metric_get_name (metric), metric);
        }
    }

  return self;
}

SondeCatalog *
_sonde_catalog_ref (SondeCatalog *self)
{
  return g_rc_box_acquire (self);
}

void
_sonde_catalog_unref (SondeCatalog *self)
{
  g_rc_box_release_full (self, (GDestroyNotify) catalog_release);
}

GPtrArray *
_sonde_catalog_get_metrics (SondeCatalog *self)
{
  return self->metrics;
}

gboolean
_sonde_catalog_has_collector (SondeCatalog *self,
                              const char   *collector)
{
  return g_hash_table_contains (self->collectors, collector);
}

SondeMetric *
_sonde_catalog_lookup (SondeCatalog *self,
                       const char   *name)
{
  return g_hash_table_lookup (self->by_name, name);
}
