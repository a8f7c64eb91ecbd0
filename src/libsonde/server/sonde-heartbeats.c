/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "sonde-heartbeats-private.h"

/* Waking up this much early is on time. */
#define SLACK_US (10 * G_TIME_SPAN_MILLISECOND)
/* The timer wakes on multiples of this: clients that connected within
 * the same tenth of a second share a wake-up, each of which costs the
 * main loop a walk over all its sources, and a heartbeat is at most this
 * late. */
#define GRAIN_US (100 * G_TIME_SPAN_MILLISECOND)

struct _SondeHeartbeats
{
  GQueue             queue;   /* of entries, least recently sent first */
  GSource           *timer;   /* armed for the front; NULL while empty */
  gint64             interval_us;
  SondeHeartbeatFunc beat;
};

static gboolean
timer_dispatch (GSource     *source,
                GSourceFunc  callback,
                gpointer     user_data)
{
  return callback (user_data);
}

static GSourceFuncs timer_funcs = { NULL, NULL, timer_dispatch, NULL, NULL, NULL };

static void
arm (SondeHeartbeats *self)
{
  SondeHeartbeatEntry *front = self->queue.head != NULL ? self->queue.head->data : NULL;

  if (front == NULL)
    {
      if (self->timer != NULL)
        {
          g_source_destroy (self->timer);
          g_clear_pointer (&self->timer, g_source_unref);
        }
      return;
    }

  if (self->timer != NULL)
    {
      gint64 due = front->last_send_us + self->interval_us;

      g_source_set_ready_time (self->timer, (due + GRAIN_US - 1) / GRAIN_US * GRAIN_US);
    }
}

static void
move_to_back (SondeHeartbeats     *self,
              SondeHeartbeatEntry *entry,
              gint64               now_us)
{
  entry->last_send_us = now_us;
  g_queue_unlink (&self->queue, &entry->link);
  g_queue_push_tail_link (&self->queue, &entry->link);
}

static gboolean
timer_cb (gpointer data)
{
  SondeHeartbeats *self = data;
  gint64 now = g_get_monotonic_time ();
  SondeHeartbeatEntry *front;

  /* Each beat moves its entry to the back, or removes it: the loop ends
   * at the first entry not due, which a beat may have sent to. */
  while (self->queue.head != NULL &&
         (front = self->queue.head->data)->last_send_us + self->interval_us - SLACK_US <= now)
    {
      move_to_back (self, front, now);
      self->beat (front);
    }

  /* (A beat may have emptied the queue, and destroyed the timer.) */
  arm (self);
  return G_SOURCE_CONTINUE;
}

SondeHeartbeats *
_sonde_heartbeats_new (gint64             interval_us,
                       SondeHeartbeatFunc beat)
{
  SondeHeartbeats *self = g_new0 (SondeHeartbeats, 1);

  g_queue_init (&self->queue);
  self->interval_us = interval_us;
  self->beat = beat;
  return self;
}

void
_sonde_heartbeats_free (SondeHeartbeats *self)
{
  if (self == NULL)
    return;

  g_warn_if_fail (self->queue.length == 0);
  if (self->timer != NULL)
    {
      g_source_destroy (self->timer);
      g_source_unref (self->timer);
    }
  g_free (self);
}

void
_sonde_heartbeats_set_interval (SondeHeartbeats *self,
                                gint64           interval_us)
{
  self->interval_us = interval_us;
  arm (self);
}

void
_sonde_heartbeats_add (SondeHeartbeats     *self,
                       SondeHeartbeatEntry *entry,
                       gint64               now_us)
{
  entry->link.data = entry;
  entry->last_send_us = now_us;
  g_queue_push_tail_link (&self->queue, &entry->link);

  if (self->timer == NULL)
    {
      self->timer = g_source_new (&timer_funcs, sizeof (GSource));
      g_source_set_callback (self->timer, timer_cb, self, NULL);
      g_source_set_name (self->timer, "[sonde] heartbeats");
      g_source_attach (self->timer, NULL);
      arm (self);
    }
}

/* The timer is not moved: it wakes at most once for a front that was
 * sent to since, and is then armed for the new front. */
void
_sonde_heartbeats_sent (SondeHeartbeats     *self,
                        SondeHeartbeatEntry *entry,
                        gint64               now_us)
{
  if (entry->link.data != NULL)
    move_to_back (self, entry, now_us);
}

void
_sonde_heartbeats_remove (SondeHeartbeats     *self,
                          SondeHeartbeatEntry *entry)
{
  if (entry->link.data == NULL)
    return;

  g_queue_unlink (&self->queue, &entry->link);
  entry->link.data = NULL;
  if (self->queue.length == 0)
    arm (self);
}
