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

static void
test_wakes_once_per_arming (void)
{
  g_autoptr(SondeFdWatch) watch = _sonde_fd_watch_new ();
  SondeFdWatchEntry entry = { 0 };
  guint dispatched = 0;
  GSource *source = new_idle_source (&dispatched);
  int fds[2];

  g_assert_cmpint (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), ==, 0);
  entry.fd = fds[0];
  g_assert_true (_sonde_fd_watch_is_local (watch));

  g_assert_true (_sonde_fd_watch_arm (watch, &entry, G_IO_IN, source));
  iterate_for (50);
  g_assert_cmpuint (dispatched, ==, 0);

  g_assert_cmpint (write (fds[1], "x", 1), ==, 1);
  iterate_for (50);
  g_assert_cmpuint (dispatched, >=, 1);

  /* One-shot: the byte is still unread, but nothing wakes it again until
   * it is armed again. */
  g_source_set_ready_time (source, -1);
  dispatched = 0;
  iterate_for (50);
  g_assert_cmpuint (dispatched, ==, 0);

  g_assert_true (_sonde_fd_watch_arm (watch, &entry, G_IO_IN, source));
  iterate_for (50);
  g_assert_cmpuint (dispatched, >=, 1);

  /* Removed: armed or not, never again. */
  g_source_set_ready_time (source, -1);
  g_assert_true (_sonde_fd_watch_arm (watch, &entry, G_IO_IN, source));
  _sonde_fd_watch_remove (watch, &entry);
  dispatched = 0;
  iterate_for (50);
  g_assert_cmpuint (dispatched, ==, 0);
  g_assert_null (entry.source);

  g_source_destroy (source);
  g_source_unref (source);
  close (fds[0]);
  close (fds[1]);
}

/* Writability, for a source waiting until its peer reads. */
static void
test_wakes_on_output (void)
{
  g_autoptr(SondeFdWatch) watch = _sonde_fd_watch_new ();
  SondeFdWatchEntry entry = { 0 };
  guint dispatched = 0;
  GSource *source = new_idle_source (&dispatched);
  int fds[2];

  g_assert_cmpint (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), ==, 0);
  entry.fd = fds[0];
  g_assert_true (_sonde_fd_watch_arm (watch, &entry, G_IO_OUT, source));
  iterate_for (50);
  g_assert_cmpuint (dispatched, >=, 1);

  _sonde_fd_watch_remove (watch, &entry);
  g_source_destroy (source);
  g_source_unref (source);
  close (fds[0]);
  close (fds[1]);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/fd-watch/wakes-once-per-arming", test_wakes_once_per_arming);
  g_test_add_func ("/fd-watch/wakes-on-output", test_wakes_on_output);

  return g_test_run ();
}
