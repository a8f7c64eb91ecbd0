/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What sonde-engine.c (the registry) and sonde-engine-clock.c (ticks,
 * collections, holds, refreshes) share about an engine's insides. */

#include "sonde-engine-private.h"

G_BEGIN_DECLS

/* The longest a tick waits for its collections before it is published. */
#define TICK_DEADLINE_MAX_MS 2000
/* A refresh (snapshot request) keeps its collectors sampled this long, so
 * that polling clients get rates rather than a first sample each time. */
#define REFRESH_LINGER_MS 10000

typedef struct _SondeEngineTick SondeEngineTick;

typedef struct
{
  SondeEngine     *engine;        /* unowned; NULL once the engine is gone */
  SondeCollector  *collector;
  SondeSample     *latest;
  GArray          *hold_intervals; /* guint interval_ms, one per hold */
  GPtrArray       *waiters;        /* GTask of refreshes awaiting the next sample */
  SondeEngineTick *tick;           /* the tick the running collection belongs to */
  char            *failure;        /* why the last collection failed, if it did */
  gulong           event_handler;
  guint            busy : 1;
  guint            stale : 1;
  guint            removed : 1;
} CollectorState;

struct _SondeEngineTick
{
  gint64 timestamp_ms;
  guint  pending;
  guint  deadline_source;
};

typedef struct
{
  CollectorState *state;
  guint           interval_ms;
} Hold;

struct _SondeEngine
{
  GObject             parent_instance;

  GPtrArray          *collectors;    /* CollectorState, in the order added */
  GHashTable         *holds;         /* id -> Hold */
  guint               next_hold_id;
  SondeGatewayStats  *gateway_stats;
  char               *proc_root;
  guint               history_length;
  SondeHistory       *history;       /* while history_length > 0 */

  SondeHub           *hub;           /* created on first use */
  SondeEngineTick    *tick;          /* the tick being collected, if any */
  gint64              last_tick_ms;
  gint64              next_tick_ms;
  guint               clock_source;
};

CollectorState *_sonde_engine_find_state        (SondeEngine    *self,
                                                 const char     *name);
void            _sonde_collector_state_unref    (CollectorState *state);
void            _sonde_engine_report_failure    (SondeEngine    *self,
                                                 CollectorState *state,
                                                 const GError   *error);
void            _sonde_engine_emit_tick         (SondeEngine    *self,
                                                 gint64          timestamp_us);
void            _sonde_engine_schedule_clock    (SondeEngine    *self);

G_END_DECLS
