/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/*
 * When each WebSocket client of a server is due a heartbeat: an interval
 * after the last frame it was sent. One timer for all of them, not one
 * GSource per connection: GLib walks every source of a context on each
 * main loop iteration, and a source per connection firing every interval
 * made the whole loop O(connections) a few hundred times a second at
 * 10,000 clients.
 *
 * The clients wait in the order they were last sent something (sending
 * moves one to the back, in O(1)), so the front is always the next one
 * due, and the timer is armed for it alone, rounded up to the next tenth
 * of a second so that wake-ups are shared. No timer while no client
 * waits.
 */

typedef struct _SondeHeartbeats SondeHeartbeats;

/* Embedded in each client that gets heartbeats. */
typedef struct
{
  GList   link;          /* in the queue while added; link.data is the entry */
  gint64  last_send_us;  /* monotonic */
} SondeHeartbeatEntry;

/* Called for each entry that is due; it has been moved to the back, as if
 * sent to now, so that a heartbeat that cannot be sent waits another
 * interval. It may remove any entry, and free its own. */
typedef void (*SondeHeartbeatFunc) (SondeHeartbeatEntry *entry);

SondeHeartbeats *_sonde_heartbeats_new          (gint64               interval_us,
                                                 SondeHeartbeatFunc   beat);
/* Every entry must have been removed. */
void             _sonde_heartbeats_free         (SondeHeartbeats     *self);
void             _sonde_heartbeats_set_interval (SondeHeartbeats     *self,
                                                 gint64               interval_us);
/* Sent to now. */
void             _sonde_heartbeats_add          (SondeHeartbeats     *self,
                                                 SondeHeartbeatEntry *entry,
                                                 gint64               now_us);
/* The entry's client was sent a frame at @now_us. */
void             _sonde_heartbeats_sent         (SondeHeartbeats     *self,
                                                 SondeHeartbeatEntry *entry,
                                                 gint64               now_us);
void             _sonde_heartbeats_remove       (SondeHeartbeats     *self,
                                                 SondeHeartbeatEntry *entry);

G_END_DECLS
