/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "sonde-collector.h"

G_BEGIN_DECLS

typedef struct _SondeEngine     SondeEngine;
typedef struct _SondeEngineTick SondeEngineTick;

/* What the engine keeps of each collector, shared by its registry
 * (sonde-engine.c) and its clock (sonde-clock.c). Reference counted with
 * g_rc_box: whoever emits a signal about a state, or keeps it past the
 * current call, holds a reference, as a handler may remove the collector
 * (and so drop the engine's reference) at once. */
typedef struct
{
  SondeEngine     *engine;        /* unowned; NULL once removed or the engine is gone */
  SondeCollector  *collector;
  SondeSample     *latest;
  GArray          *hold_intervals; /* guint interval_ms, one per hold */
  GPtrArray       *waiters;        /* GTask of refreshes awaiting the next sample */
  SondeEngineTick *tick;           /* the tick the running collection belongs to */
  char            *failure;        /* why the last collection failed, if it did */
  gulong           event_handler;
  guint            linger_hold;    /* the refresh hold, if any */
  guint            linger_source;  /* releases it at linger_deadline_us */
  gint64           linger_deadline_us;  /* monotonic */
  guint            busy : 1;
  guint            stale : 1;
  guint            removed : 1;
} CollectorState;

CollectorState *_sonde_collector_state_ref   (CollectorState *state);
void            _sonde_collector_state_unref (CollectorState *state);

G_END_DECLS
