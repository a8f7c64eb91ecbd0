/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "sonde-timer-queue-private.h"

/*
 * A timer queue (sonde-timer-queue.c), as a server's heartbeats use it:
 * one timer for all the clients, each called an interval after it was
 * last touched (sent a frame), and no timer at all without clients.
 */

/* Ten times the timer's grain, a tenth of a second (as heartbeats). */
#define INTERVAL_US (1 * G_USEC_PER_SEC)

typedef struct
{
  SondeTimerEntry entry;
  const char         *name;
  guint               beats;
  gint64              last_beat_us;
  gboolean            remove_on_beat;
} Client;

static SondeTimerQueue *schedule;
static GString *order;

static void
beat (SondeTimerEntry *entry)
{
  Client *client = (Client *) entry;

  client->beats++;
  client->last_beat_us = g_get_monotonic_time ();
  g_string_append (order, client->name);
  if (client->remove_on_beat)
    _sonde_timer_queue_remove (schedule, entry);
}

static void
spin_for (guint ms)
{
  gint64 end = g_get_monotonic_time () + ms * G_TIME_SPAN_MILLISECOND;

  while (g_get_monotonic_time () < end)
    if (!g_main_context_iteration (NULL, FALSE))
      g_usleep (1000);
}

/* Runs the loop until @n beats in all, however loaded the machine. */
static void
wait_for_beats (gsize n)
{
  gint64 deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;

  while (order->len < n)
    {
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_main_context_iteration (NULL, TRUE);
    }
}

static guint
n_sources (void)
{
  GMainContext *context = g_main_context_default ();
  guint n = 0;

  /* Every source of the context has an id from 1 up; count the live ones
   * of the few first hundred. */
  for (guint id = 1; id < 1000; id++)
    {
      GSource *source = g_main_context_find_source_by_id (context, id);

      if (source != NULL && !g_source_is_destroyed (source))
        n++;
    }
  return n;
}

static void
test_timer_queue_order (void)
{
  Client a = { .name = "a" }, b = { .name = "b" }, c = { .name = "c" };
  gint64 start, sent_us;

  order = g_string_new (NULL);
  schedule = _sonde_timer_queue_new ("test", INTERVAL_US, 100 * G_TIME_SPAN_MILLISECOND, beat);
  g_assert_cmpuint (n_sources (), ==, 0);

  start = g_get_monotonic_time ();
  _sonde_timer_queue_add (schedule, &a.entry, start);
  _sonde_timer_queue_add (schedule, &b.entry, start);
  _sonde_timer_queue_add (schedule, &c.entry, start);
  /* Three clients, one timer. */
  g_assert_cmpuint (n_sources (), ==, 1);

  /* a is sent a frame half an interval in: it is due half an interval
   * after b and c, and never before an interval after that frame. */
  spin_for (500);
  sent_us = g_get_monotonic_time ();
  _sonde_timer_queue_touch (schedule, &a.entry, sent_us);
  wait_for_beats (3);
  g_assert_cmpstr (order->str, ==, "bca");
  g_assert_cmpint (b.last_beat_us - start, >=, INTERVAL_US - 10 * G_TIME_SPAN_MILLISECOND);
  g_assert_cmpint (a.last_beat_us - sent_us, >=, INTERVAL_US - 10 * G_TIME_SPAN_MILLISECOND);

  /* Each again an interval after its last beat; c goes at its next. */
  c.remove_on_beat = TRUE;
  wait_for_beats (6);
  g_assert_cmpstr (order->str, ==, "bcabca");
  wait_for_beats (8);
  g_assert_cmpstr (order->str, ==, "bcabcaba");
  g_assert_cmpuint (c.beats, ==, 2);

  /* Without clients, no timer. */
  _sonde_timer_queue_remove (schedule, &a.entry);
  _sonde_timer_queue_remove (schedule, &b.entry);
  g_assert_cmpuint (n_sources (), ==, 0);

  /* A longer interval applies from the last frame. */
  sent_us = g_get_monotonic_time ();
  _sonde_timer_queue_add (schedule, &a.entry, sent_us);
  _sonde_timer_queue_set_interval (schedule, 2 * INTERVAL_US);
  wait_for_beats (9);
  g_assert_cmpint (a.last_beat_us - sent_us, >=, 2 * INTERVAL_US - 10 * G_TIME_SPAN_MILLISECOND);
  _sonde_timer_queue_remove (schedule, &a.entry);
  g_assert_cmpuint (n_sources (), ==, 0);

  _sonde_timer_queue_free (schedule);
  g_string_free (order, TRUE);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/timer-queue/order", test_timer_queue_order);

  return g_test_run ();
}
