/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What sonde-engine.c (the registry) and sonde-engine-clock.c (ticks,
 * collections, holds, refreshes) share about an engine's insides. */

#include "sonde-alerts-private.h"
#include "sonde-engine-private.h"

G_BEGIN_DECLS

/* The longest a tick waits for its collections before it is published. */
#define TICK_DEADLINE_MAX_MS 2000
/* A refresh (snapshot request) keeps its collectors sampled this long
 * after the last one, so that polling clients get rates rather than a
 * first sample each time. */
#define REFRESH_LINGER_MS 10000

typedef struct _SondeEngineTick SondeEngineTick;

/* Reference counted with g_rc_box: whoever emits a signal about a state,
 * or keeps it past the current call, holds a reference, as a handler may
 * remove the collector (and so drop the engine's reference) at once. */
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
  SondeAlerts        *alerts;        /* created with the first alert rule */

  SondeHub           *hub;           /* created on first use */
  SondeEngineTick    *tick;          /* the tick being collected, if any */
  gint64              last_tick_ms;  /* 0 once forgotten */
  gint64              next_tick_ms;
  guint               clock_source;
  gint64            (*wall_clock) (void);  /* g_get_real_time, unless a test steps it */
};

CollectorState *_sonde_engine_find_state        (SondeEngine    *self,
                                                 const char     *name);
void            _sonde_collector_state_unref    (CollectorState *state);
CollectorState *_sonde_collector_state_ref      (CollectorState *state);
void            _sonde_engine_remove_state      (SondeEngine    *self,
                                                 CollectorState *state);
GPtrArray      *_sonde_engine_ref_states        (SondeEngine    *self);
void            _sonde_engine_report_failure    (SondeEngine    *self,
                                                 CollectorState *state,
                                                 const GError   *error);
void            _sonde_engine_publish_tick      (SondeEngine    *self);
void            _sonde_engine_emit_tick         (SondeEngine    *self,
                                                 gint64          timestamp_us);
void            _sonde_engine_schedule_clock    (SondeEngine    *self);
/* For tests: the wall clock the ticks are aligned to, in microseconds. */
void            _sonde_engine_set_wall_clock    (SondeEngine    *self,
                                                 gint64        (*wall_clock) (void));

G_END_DECLS
