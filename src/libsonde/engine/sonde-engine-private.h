/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "sonde-catalog-private.h"
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

G_END_DECLS
