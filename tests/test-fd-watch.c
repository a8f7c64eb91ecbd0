/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <sys/socket.h>
#include <unistd.h>

#include "sonde-fd-watch-private.h"

/*
 * The fd watch (sonde-fd-watch.c): a source without an fd of its own is
 * made ready when its socket is, once per arming, and never after its
 * entry was removed.
 */

static gboolean
count_cb (gpointer data)
{
  guint *dispatched = data;

  (*dispatched)++;
  return G_SOURCE_CONTINUE;
}

static void
iterate_for (guint ms)
{
  gint64 end = g_get_monotonic_time () + ms * G_TIME_SPAN_MILLISECOND;

  while (g_get_monotonic_time () < end)
    g_main_context_iteration (NULL, FALSE);
}

static GSource *
new_idle_source (guint *dispatched)
{
  /* Never ready on its own: its ready time stays "never". */
  GSource *source = g_timeout_source_new_seconds (3600);

  g_source_set_ready_time (source, -1);
  g_source_set_callback (source, count_cb, dispatched, NULL);
  g_source_attach (source, NULL);
  return source;
}

/* A watch, a socket pair whose first end the entry watches, and a source
 * that counts its dispatches. */
typedef struct
{
  SondeFdWatch      *watch;
  SondeFdWatchEntry  entry;
  guint              dispatched;
  GSource           *source;
  int                fds[2];
} Fixture;

static void
fixture_set_up (Fixture       *fixture,
                gconstpointer  data)
{
  fixture->watch = _sonde_fd_watch_new ();
  fixture->source = new_idle_source (&fixture->dispatched);
  g_assert_cmpint (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fixture->fds), ==, 0);
  fixture->entry.fd = fixture->fds[0];
}

static void
fixture_tear_down (Fixture       *fixture,
                   gconstpointer  data)
{
  _sonde_fd_watch_remove (fixture->watch, &fixture->entry);
  g_source_destroy (fixture->source);
  g_source_unref (fixture->source);
  close (fixture->fds[0]);
  close (fixture->fds[1]);
  _sonde_fd_watch_unref (fixture->watch);
}

static void
test_wakes_once_per_arming (Fixture       *fixture,
                            gconstpointer  data)
{
  g_assert_true (_sonde_fd_watch_is_local (fixture->watch));

  g_assert_true (_sonde_fd_watch_arm (fixture->watch, &fixture->entry, G_IO_IN, fixture->source));
  iterate_for (50);
  g_assert_cmpuint (fixture->dispatched, ==, 0);

  g_assert_cmpint (write (fixture->fds[1], "x", 1), ==, 1);
  iterate_for (50);
  g_assert_cmpuint (fixture->dispatched, >=, 1);

  /* One-shot: the byte is still unread, but nothing wakes it again until
   * it is armed again. */
  g_source_set_ready_time (fixture->source, -1);
  fixture->dispatched = 0;
  iterate_for (50);
  g_assert_cmpuint (fixture->dispatched, ==, 0);

  g_assert_true (_sonde_fd_watch_arm (fixture->watch, &fixture->entry, G_IO_IN, fixture->source));
  iterate_for (50);
  g_assert_cmpuint (fixture->dispatched, >=, 1);

  /* Removed: armed or not, never again. */
  g_source_set_ready_time (fixture->source, -1);
  g_assert_true (_sonde_fd_watch_arm (fixture->watch, &fixture->entry, G_IO_IN, fixture->source));
  _sonde_fd_watch_remove (fixture->watch, &fixture->entry);
  fixture->dispatched = 0;
  iterate_for (50);
  g_assert_cmpuint (fixture->dispatched, ==, 0);
  g_assert_null (fixture->entry.source);
}

/* Writability, for a source waiting until its peer reads. */
static void
test_wakes_on_output (Fixture       *fixture,
                      gconstpointer  data)
{
  g_assert_true (_sonde_fd_watch_arm (fixture->watch, &fixture->entry, G_IO_OUT, fixture->source));
  iterate_for (50);
  g_assert_cmpuint (fixture->dispatched, >=, 1);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add ("/fd-watch/wakes-once-per-arming", Fixture, NULL,
              fixture_set_up, test_wakes_once_per_arming, fixture_tear_down);
  g_test_add ("/fd-watch/wakes-on-output", Fixture, NULL,
              fixture_set_up, test_wakes_on_output, fixture_tear_down);

  return g_test_run ();
}
