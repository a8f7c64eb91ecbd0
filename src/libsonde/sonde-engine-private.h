/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "sonde-engine.h"
#include "sonde-hub-private.h"

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
/* Emits #SondeEngine::event for an event the engine itself raises, such
 * as an alert. */
void _sonde_engine_emit_event (SondeEngine *self,
                               SondeEvent  *event);

G_END_DECLS
