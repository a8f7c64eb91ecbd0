/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/*
 * Many entries, each due a fixed interval after it was last touched, with
 * one timer for them all rather than a GSource each: GLib walks every
 * source of a context on each main loop iteration, so a source per
 * connection makes the whole loop O(connections), and one that fires on
 * its own does so at every firing. A server's heartbeats (an interval of
 * silence after the last frame sent to a client) are such a queue.
 *
 * The entries wait in the order they were touched (touching moves one to
 * the back, in O(1)), so the front is always the next due, and the timer
 * is armed for it alone, rounded up to the queue's grain so that entries
 * touched close together share a wake-up. No timer while the queue is
 * empty.
 */

typedef struct _SondeTimerQueue SondeTimerQueue;

/* Embedded in what waits. */
typedef struct
{
  GList   link;          /* in the queue while added; link.data is the entry */
  gint64  touched_us;    /* monotonic */
} SondeTimerEntry;

/* Called for each entry that is due, after it was moved to the back as if
 * touched now (so that a heartbeat that could not be sent waits another
 * interval). It may remove any entry, and free its own. */
typedef void (*SondeTimerFunc) (SondeTimerEntry *entry);

SondeTimerQueue *_sonde_timer_queue_new          (const char      *name,
                                                  gint64           interval_us,
                                                  gint64           grain_us,
                                                  SondeTimerFunc   func);
/* Every entry must have been removed. */
void             _sonde_timer_queue_free         (SondeTimerQueue *self);
void             _sonde_timer_queue_set_interval (SondeTimerQueue *self,
                                                  gint64           interval_us);
/* Touched now. */
void             _sonde_timer_queue_add          (SondeTimerQueue *self,
                                                  SondeTimerEntry *entry,
                                                  gint64           now_us);
/* Due an interval after @now_us; nothing for an entry not added. */
void             _sonde_timer_queue_touch        (SondeTimerQueue *self,
                                                  SondeTimerEntry *entry,
                                                  gint64           now_us);
/* Nothing for an entry not added. */
void             _sonde_timer_queue_remove       (SondeTimerQueue *self,
                                                  SondeTimerEntry *entry);

G_END_DECLS
