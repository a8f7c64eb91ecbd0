/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "sonde-catalog-private.h"
#include "sonde-clock-private.h"
#include "sonde-collector-state-private.h"
#include "sonde-engine.h"
#include "sonde-hub-private.h"
#include "sonde-tick-view-private.h"

G_BEGIN_DECLS

/* Whether @collector was due at tick @tick_ms for an interval of @interval_ms:
 * ticks are aligned to wall-clock multiples of the interval. */
static inline gboolean
_sonde_tick_is_due (gint64 tick_ms,
                    guint  interval_ms)
{
  return interval_ms > 0 && tick_ms % interval_ms == 0;
}

/* The engine's subscription manager, shared by every server and
 * in-process subscription, so that equal subscriptions share one frame. */
SondeHub *_sonde_engine_get_hub  (SondeEngine *self);
const char *_sonde_engine_get_failure (SondeEngine *self,
                                       const char  *collector);
gboolean _sonde_engine_is_stale (SondeEngine *self,
                                 const char  *collector);
/* Every collector's metrics, until the collectors change: (transfer none). */
SondeCatalog  *_sonde_engine_get_catalog    (SondeEngine *self);
/* The latest samples as they are now, for one-off readers (a snapshot,
 * a client's first frame); the clock builds one per tick. */
SondeTickView *_sonde_engine_build_view     (SondeEngine *self,
                                             gint64       timestamp_us);

/* For the clock (sonde-clock.c): the collector states, in order, borrowed
 * (valid until the collectors change), or each with a reference, to
 * iterate over while emitting signals whose handlers may add or remove
 * collectors. */
GPtrArray      *_sonde_engine_get_states        (SondeEngine    *self);
GPtrArray      *_sonde_engine_ref_states        (SondeEngine    *self);
CollectorState *_sonde_engine_find_state        (SondeEngine    *self,
                                                 const char     *name);
SondeClock     *_sonde_engine_get_clock         (SondeEngine    *self);
gboolean        _sonde_engine_knows_collector   (SondeEngine    *self,
                                                 const char     *name);
/* Emits #SondeCollector::failed, and `collector_error` when the failure
 * is new; @state may be removed by the handlers. */
void            _sonde_engine_report_failure    (SondeEngine    *self,
                                                 CollectorState *state,
                                                 const GError   *error);
void            _sonde_engine_remove_state      (SondeEngine    *self,
                                                 CollectorState *state);
/* A tick's collections are in: the hub gets its view, then #SondeEngine::tick. */
void            _sonde_engine_publish           (SondeEngine    *self,
                                                 gint64          timestamp_us);
/* Emits #SondeEngine::event for an event the engine itself raises, such
 * as an alert or a command task's output. */
void            _sonde_engine_emit_event        (SondeEngine    *self,
                                                 SondeEvent     *event);
/* For tests: the wall clock the ticks are aligned to, in microseconds. */
void            _sonde_engine_set_wall_clock    (SondeEngine    *self,
                                                 gint64        (*wall_clock) (void));

G_END_DECLS
