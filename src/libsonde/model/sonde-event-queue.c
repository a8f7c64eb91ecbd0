/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "sonde-event-queue-private.h"

void
_sonde_event_queue_init (SondeEventQueue *queue)
{
  g_mutex_init (&queue->lock);
  g_queue_init (&queue->events);
  queue->dropped = 0;
  queue->scheduled = FALSE;
}

void
_sonde_event_queue_clear (SondeEventQueue *queue)
{
  g_queue_clear_full (&queue->events, (GDestroyNotify) sonde_event_unref);
  g_mutex_clear (&queue->lock);
}

gboolean
_sonde_event_queue_push (SondeEventQueue *queue,
                         SondeEvent      *event,
                         gboolean        *first_drop)
{
  SondeEvent *dropped = NULL;
  gboolean schedule;

  *first_drop = FALSE;
  g_mutex_lock (&queue->lock);
  /* The newest are kept: they say what is happening now. */
  if (queue->events.length >= SONDE_EVENT_QUEUE_MAX)
    {
      dropped = g_queue_pop_head (&queue->events);
      *first_drop = queue->dropped == 0;
      queue->dropped++;
    }
  g_queue_push_tail (&queue->events, event);
  schedule = !queue->scheduled;
  queue->scheduled = TRUE;
  g_mutex_unlock (&queue->lock);

  /* Outside the lock: an event's data may be large. */
  g_clear_pointer (&dropped, sonde_event_unref);
  return schedule;
}

gboolean
_sonde_event_queue_pop_batch (SondeEventQueue *queue,
                              GQueue          *batch,
                              guint            max)
{
  SondeEvent *event;
  gboolean more;

  g_mutex_lock (&queue->lock);
  while (batch->length < max && (event = g_queue_pop_head (&queue->events)) != NULL)
    g_queue_push_tail (batch, event);
  more = queue->events.length > 0;
  queue->scheduled = more;
  g_mutex_unlock (&queue->lock);
  return more;
}

guint64
_sonde_event_queue_get_dropped (SondeEventQueue *queue)
{
  guint64 dropped;

  g_mutex_lock (&queue->lock);
  dropped = queue->dropped;
  g_mutex_unlock (&queue->lock);
  return dropped;
}

guint
_sonde_event_queue_get_length (SondeEventQueue *queue)
{
  guint length;

  g_mutex_lock (&queue->lock);
  length = queue->events.length;
  g_mutex_unlock (&queue->lock);
  return length;
}
