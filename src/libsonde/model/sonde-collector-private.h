/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "sonde-collector.h"

G_BEGIN_DECLS

void     _sonde_collector_set_engine         (SondeCollector *self,
                                              SondeEngine    *engine);
void     _sonde_collector_emit_sampled       (SondeCollector *self,
                                              SondeSample    *sample);
void     _sonde_collector_emit_failed        (SondeCollector *self,
                                              const GError   *error);

/* Whether an engine's collect() of @self is still running (until its
 * completion ran on the main thread), whichever engine state started it:
 * a collector removed and re-added while collecting must not be
 * collected twice at once. */
gboolean _sonde_collector_begin_collection   (SondeCollector *self);
void     _sonde_collector_end_collection     (SondeCollector *self);
gboolean _sonde_collector_is_collecting      (SondeCollector *self);

/* Grows whenever a metric is added, so that catalogs built from the
 * collector know they are out of date. */
guint    _sonde_collector_get_metrics_serial (SondeCollector *self);

/* Events emitted and not yet delivered on the main context. */
guint    _sonde_collector_get_events_queued  (SondeCollector *self);

G_END_DECLS
