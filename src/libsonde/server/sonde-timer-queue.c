/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "sonde-ready-time-source-private.h"
#include "sonde-timer-queue-private.h"

/* Waking up this much early is on time. */
#define SLACK_US (10 * G_TIME_SPAN_MILLISECOND)

struct _SondeTimerQueue
{
  GQueue          queue;   /* of entries, least recently touched first */
  GSource        *timer;   /* armed for the front; NULL while empty */
  char           *name;
  gint64          interval_us;
  gint64          grain_us;
  SondeTimerFunc  func;
  gboolean       *freed;   /* set while calling out: the call may free the queue */
};

static void
arm (SondeTimerQueue *self)
{
  SondeTimerEntry *front = self->queue.head != NULL ? self->queue.head->data : NULL;
  gint64 due;

  if (front == NULL)
    {
      if (self->timer != NULL)
        {
          g_source_destroy (self->timer);
          g_clear_pointer (&self->timer, g_source_unref);
        }
      return;
    }

  due = front->touched_us + self->interval_us;
  if (self->timer != NULL)
    g_source_set_ready_time (self->timer, (due + self->grain_us - 1) / self->grain_us * self->grain_us);
}

static void
move_to_back (SondeTimerQueue *self,
              SondeTimerEntry *entry,
              gint64           now_us)
{
  entry->touched_us = now_us;
  g_queue_unlink (&self->queue, &entry->link);
  g_queue_push_tail_link (&self->queue, &entry->link);
}

static gboolean
timer_cb (gpointer data)
{
  SondeTimerQueue *self = data;
  gint64 now = g_get_monotonic_time ();
  SondeTimerEntry *front;
  gboolean freed = FALSE;

  /* Each call moves its entry to the back, or removes it: the loop ends
   * at the first entry not due, which a call may have touched. */
  self->freed = &freed;
  while (self->queue.head != NULL &&
         (front = self->queue.head->data)->touched_us + self->interval_us - SLACK_US <= now)
    {
      move_to_back (self, front, now);
      self->func (front);
      if (freed)
        return G_SOURCE_REMOVE;
    }
  self->freed = NULL;

  /* (A call may have emptied the queue, and destroyed the timer.) */
  arm (self);
  return G_SOURCE_CONTINUE;
}

SondeTimerQueue *
_sonde_timer_queue_new (const char     *name,
                        gint64          interval_us,
                        gint64          grain_us,
                        SondeTimerFunc  func)
{
  SondeTimerQueue *self = g_new0 (SondeTimerQueue, 1);

  g_queue_init (&self->queue);
  self->name = g_strdup (name);
  self->interval_us = interval_us;
  self->grain_us = MAX (grain_us, 1);
  self->func = func;
  return self;
}

void
_sonde_timer_queue_free (SondeTimerQueue *self)
{
  if (self == NULL)
    return;

  g_warn_if_fail (self->queue.length == 0);
  if (self->freed != NULL)
    *self->freed = TRUE;
  if (self->timer != NULL)
    {
      g_source_destroy (self->timer);
      g_source_unref (self->timer);
    }
  g_free (self->name);
  g_free (self);
}

void
_sonde_timer_queue_set_interval (SondeTimerQueue *self,
                                 gint64           interval_us)
{
  self->interval_us = interval_us;
  arm (self);
}

void
_sonde_timer_queue_add (SondeTimerQueue *self,
                        SondeTimerEntry *entry,
                        gint64           now_us)
{
  entry->link.data = entry;
  entry->touched_us = now_us;
  g_queue_push_tail_link (&self->queue, &entry->link);

  if (self->timer == NULL)
    {
      self->timer = _sonde_ready_time_source_new (timer_cb, self, self->name);
      g_source_attach (self->timer, NULL);
      arm (self);
    }
}

/* The timer is not moved: it wakes at most once for a front that was
 * touched since, and is then armed for the new front. */
void
_sonde_timer_queue_touch (SondeTimerQueue *self,
                          SondeTimerEntry *entry,
                          gint64           now_us)
{
  if (entry->link.data != NULL)
    move_to_back (self, entry, now_us);
}

void
_sonde_timer_queue_remove (SondeTimerQueue *self,
                           SondeTimerEntry *entry)
{
  if (entry->link.data == NULL)
    return;

  g_queue_unlink (&self->queue, &entry->link);
  entry->link.data = NULL;
  if (self->queue.length == 0)
    arm (self);
}
