/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#if !defined(SONDE_INSIDE) && !defined(SONDE_COMPILATION)
# error "Only <sonde.h> can be included directly."
#endif

#include <glib-object.h>

#include "sonde-version-macros.h"

G_BEGIN_DECLS

/**
 * SondeMetricKind:
 * @SONDE_METRIC_KIND_GAUGE: a value that goes up and down (a percentage, a size)
 * @SONDE_METRIC_KIND_COUNTER: a monotonically growing total (bytes since boot)
 * @SONDE_METRIC_KIND_RATE: a change per second computed between two samples
 * @SONDE_METRIC_KIND_INFO: descriptive, usually text (a hostname, a CPU brand)
 * @SONDE_METRIC_KIND_TABLE: an array of per-instance objects (cores, mounts, processes)
 *
 * What kind of value a metric carries.
 *
 * Since: 0.1
 */
typedef enum
{
  SONDE_METRIC_KIND_GAUGE,
  SONDE_METRIC_KIND_COUNTER,
  SONDE_METRIC_KIND_RATE,
  SONDE_METRIC_KIND_INFO,
  SONDE_METRIC_KIND_TABLE,
} SondeMetricKind;

#define SONDE_TYPE_METRIC (sonde_metric_get_type ())

typedef struct _SondeMetric SondeMetric;

SONDE_AVAILABLE_IN_ALL
GType            sonde_metric_get_type        (void) G_GNUC_CONST;
SONDE_AVAILABLE_IN_ALL
SondeMetric     *sonde_metric_new             (const char      *collector,
                                               const char      *field,
                                               const char      *unit,
                                               SondeMetricKind  kind,
                                               const char      *description);
SONDE_AVAILABLE_IN_ALL
SondeMetric     *sonde_metric_ref             (SondeMetric     *self);
SONDE_AVAILABLE_IN_ALL
void             sonde_metric_unref           (SondeMetric     *self);
SONDE_AVAILABLE_IN_ALL
const char      *sonde_metric_get_name        (SondeMetric     *self);
SONDE_AVAILABLE_IN_ALL
const char      *sonde_metric_get_collector   (SondeMetric     *self);
SONDE_AVAILABLE_IN_ALL
const char      *sonde_metric_get_field       (SondeMetric     *self);
SONDE_AVAILABLE_IN_ALL
const char      *sonde_metric_get_unit        (SondeMetric     *self);
SONDE_AVAILABLE_IN_ALL
SondeMetricKind  sonde_metric_get_kind        (SondeMetric     *self);
SONDE_AVAILABLE_IN_ALL
const char      *sonde_metric_get_description (SondeMetric     *self);
SONDE_AVAILABLE_IN_ALL
const char      *sonde_metric_kind_to_string  (SondeMetricKind  kind);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SondeMetric, sonde_metric_unref)

G_END_DECLS
