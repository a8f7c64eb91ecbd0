/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "sonde-event.h"

G_BEGIN_DECLS

/*
 * Where a collector's events wait for its main context: filled from any
 * thread, emptied in batches on the main context. Bounded: past
 * SONDE_EVENT_QUEUE_MAX the oldest waiting event is dropped, and counted,
 * for each new one (a log flood must not grow the daemon).
 */
typedef struct
{
  GMutex   lock;
  GQueue   events;      /* SondeEvent */
  guint64  dropped;
  gboolean scheduled;   /* a delivery is due on the main context */
} SondeEventQueue;

#define SONDE_EVENT_QUEUE_MAX 10000

void     _sonde_event_queue_init        (SondeEventQueue *queue);
void     _sonde_event_queue_clear       (SondeEventQueue *queue);
/* Takes @event. Returns TRUE when a delivery must be scheduled; sets
 * @first_drop when this push dropped an event for the first time. */
gboolean _sonde_event_queue_push        (SondeEventQueue *queue,
                                         SondeEvent      *event,
                                         gboolean        *first_drop);
/* Moves at most @max events, oldest first, to @batch. Returns TRUE when
 * events are left, and the delivery must go on. */
gboolean _sonde_event_queue_pop_batch   (SondeEventQueue *queue,
                                         GQueue          *batch,
                                         guint            max);
guint64  _sonde_event_queue_get_dropped (SondeEventQueue *queue);
guint    _sonde_event_queue_get_length  (SondeEventQueue *queue);

G_END_DECLS
