/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "sonde-metric.h"

/**
 * SondeMetric:
 *
 * One entry of a collector's catalog: the metric's full name
 * (`collector.field`), its unit, its kind and a description.
 *
 * A #SondeMetric is immutable once created.
 *
 * Since: 0.1
 */
struct _SondeMetric
{
  gatomicrefcount  ref_count;
  SondeMetricKind  kind;
  char            *name;
  char            *collector;
  char            *field;
  char            *unit;
  char            *description;
};

G_DEFINE_BOXED_TYPE (SondeMetric, sonde_metric, sonde_metric_ref, sonde_metric_unref)

/**
 * sonde_metric_new:
 * @collector: the collector name, such as "cpu"
 * @field: the field name inside the collector, such as "usage_percent"
 * @unit: the unit ("percent", "bytes", "bytes/s", "seconds", ...) or "" when unitless
 * @kind: the kind of value
 * @description: a one-line human description
 *
 * Returns: (transfer full): a new #SondeMetric
 *
 * Since: 0.1
 */
SondeMetric *
sonde_metric_new (const char      *collector,
                  const char      *field,
                  const char      *unit,
                  SondeMetricKind  kind,
                  const char      *description)
{
  SondeMetric *self;

  g_return_val_if_fail (collector != NULL, NULL);
  g_return_val_if_fail (field != NULL, NULL);

  self = g_new0 (SondeMetric, 1);
  g_atomic_ref_count_init (&self->ref_count);
  self->kind = kind;
  self->name = g_strconcat (collector, ".", field, NULL);
  self->collector = g_strdup (collector);
  self->field = g_strdup (field);
  self->unit = g_strdup (unit ? unit : "");
  self->description = g_strdup (description ? description : "");

  return self;
}

/**
 * sonde_metric_ref:
 * @self: a #SondeMetric
 *
 * Returns: (transfer full): @self
 *
 * Since: 0.1
 */
SondeMetric *
sonde_metric_ref (SondeMetric *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  g_atomic_ref_count_inc (&self->ref_count);
  return self;
}

/**
 * sonde_metric_unref:
 * @self: (transfer full): a #SondeMetric
 *
 * Since: 0.1
 */
void
sonde_metric_unref (SondeMetric *self)
{
  g_return_if_fail (self != NULL);

  if (!g_atomic_ref_count_dec (&self->ref_count))
    return;

  g_free (self->name);
  g_free (self->collector);
  g_free (self->field);
  g_free (self->unit);
  g_free (self->description);
  g_free (self);
}

/**
 * sonde_metric_get_name:
 * @self: a #SondeMetric
 *
 * Returns: the full metric name, `collector.field`
 *
 * Since: 0.1
 */
const char *
sonde_metric_get_name (SondeMetric *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->name;
}

/**
 * sonde_metric_get_collector:
 * @self: a #SondeMetric
 *
 * Returns: the name of the collector producing the metric
 *
 * Since: 0.1
 */
const char *
sonde_metric_get_collector (SondeMetric *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->collector;
}

/**
 * sonde_metric_get_field:
 * @self: a #SondeMetric
 *
 * Returns: the field name inside the collector's sample
 *
 * Since: 0.1
 */
const char *
sonde_metric_get_field (SondeMetric *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->field;
}

/**
 * sonde_metric_get_unit:
 * @self: a #SondeMetric
 *
 * Returns: the unit, or "" for unitless values
 *
 * Since: 0.1
 */
const char *
sonde_metric_get_unit (SondeMetric *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->unit;
}

/**
 * sonde_metric_get_kind:
 * @self: a #SondeMetric
 *
 * Returns: the kind of value
 *
 * Since: 0.1
 */
SondeMetricKind
sonde_metric_get_kind (SondeMetric *self)
{
  g_return_val_if_fail (self != NULL, SONDE_METRIC_KIND_GAUGE);
  return self->kind;
}

/**
 * sonde_metric_get_description:
 * @self: a #SondeMetric
 *
 * Returns: a one-line description
 *
 * Since: 0.1
 */
const char *
sonde_metric_get_description (SondeMetric *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->description;
}

/**
 * sonde_metric_kind_to_string:
 * @kind: a #SondeMetricKind
 *
 * Returns: the protocol name of @kind ("gauge", "counter", "rate", "info", "table")
 *
 * Since: 0.1
 */
const char *
sonde_metric_kind_to_string (SondeMetricKind kind)
{
  switch (kind)
    {
    case SONDE_METRIC_KIND_GAUGE: return "gauge";
    case SONDE_METRIC_KIND_COUNTER: return "counter";
    case SONDE_METRIC_KIND_RATE: return "rate";
    case SONDE_METRIC_KIND_INFO: return "info";
    case SONDE_METRIC_KIND_TABLE: return "table";
    default: return "gauge";
    }
}
