/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <glib-unix.h>
#include <unistd.h>

#include "sonde-nested-context-private.h"

/*
 * The nested context (sonde-nested-context.c): what is attached to it runs
 * when the outer context is iterated, on time, with the nested context as
 * thread-default; and it is not iterated at all while nothing of its own
 * is ready.
 */

typedef struct
{
  SondeNestedContext *nested;
  GMainContext       *inner;
} Fixture;

static void
fixture_set_up (Fixture       *fixture,
                gconstpointer  data)
{
  fixture->nested = _sonde_nested_context_new (NULL);
  fixture->inner = _sonde_nested_context_get_context (fixture->nested);
}

static void
fixture_tear_down (Fixture       *fixture,
                   gconstpointer  data)
{
  g_clear_pointer (&fixture->nested, _sonde_nested_context_free);
}

/* Iterates the outer (global default) context until *@flag or @ms pass. */
static void
iterate_until (const gboolean *flag,
               guint           ms)
{
  gint64 end = g_get_monotonic_time () + ms * G_TIME_SPAN_MILLISECOND;

  while (!*flag && g_get_monotonic_time () < end)
    g_main_context_iteration (NULL, FALSE);
}

static gboolean
set_flag_cb (gpointer data)
{
  *(gboolean *) data = TRUE;
  return G_SOURCE_REMOVE;
}

static void
attach_idle (GMainContext *context,
             gboolean     *flag)
{
  GSource *source = g_idle_source_new ();

  g_source_set_callback (source, set_flag_cb, flag, NULL);
  g_source_attach (source, context);
  g_source_unref (source);
}

static void
test_idle_attached_from_outside (Fixture       *fixture,
                                 gconstpointer  data)
{
  gboolean ran = FALSE;

  /* Let the first iteration find the wake-up fd, then attach. */
  g_main_context_iteration (NULL, FALSE);
  attach_idle (fixture->inner, &ran);
  iterate_until (&ran, 5000);
  g_assert_true (ran);
}

static gpointer
attach_from_thread (gpointer data)
{
  Fixture *fixture = ((gpointer *) data)[0];

  attach_idle (fixture->inner, ((gpointer *) data)[1]);
  return NULL;
}

static void
test_wakes_for_another_thread (Fixture       *fixture,
                               gconstpointer  data)
{
  gboolean ran = FALSE;
  gpointer args[] = { fixture, &ran };
  GThread *thread;
  gint64 end = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;

  g_main_context_iteration (NULL, FALSE);
  thread = g_thread_new ("attach", attach_from_thread, args);

  /* Blocking iterations: only the nested context's wake-up can end them. */
  while (!ran && g_get_monotonic_time () < end)
    g_main_context_iteration (NULL, TRUE);
  g_thread_join (thread);
  g_assert_true (ran);
}

static void
test_timeout_on_time (Fixture       *fixture,
                      gconstpointer  data)
{
  gboolean fired = FALSE;
  GSource *source = g_timeout_source_new (100);
  guint64 iterations;
  gint64 start;

  g_source_set_callback (source, set_flag_cb, &fired, NULL);
  g_source_attach (source, fixture->inner);
  g_source_unref (source);

  /* Settled (the attach woke it), the outer poll waits for the timeout. */
  g_main_context_iteration (NULL, FALSE);
  g_main_context_iteration (NULL, FALSE);
  iterations = _sonde_nested_context_get_iterations (fixture->nested);
  start = g_get_monotonic_time ();
  while (!fired)
    g_main_context_iteration (NULL, TRUE);

  g_assert_cmpint (g_get_monotonic_time () - start, <, 5 * G_USEC_PER_SEC);
  /* Not polled in a loop until then. */
  g_assert_cmpuint (_sonde_nested_context_get_iterations (fixture->nested) - iterations, <=, 3);
}

typedef struct
{
  GMainContext *thread_default;
  gboolean      read;
} FdRead;

static gboolean
fd_read_cb (int          fd,
            GIOCondition condition,
            gpointer     data)
{
  FdRead *state = data;
  char byte;

  g_assert_cmpint (read (fd, &byte, 1), ==, 1);
  state->thread_default = g_main_context_get_thread_default ();
  state->read = TRUE;
  return G_SOURCE_CONTINUE;
}

static gboolean
count_cb (gpointer data)
{
  (*(guint *) data)++;
  return G_SOURCE_CONTINUE;
}

/* An fd of the nested context wakes it, with the nested context as the
 * thread-default one; while nothing of its own is ready, the outer
 * context runs its own sources without iterating it. */
static void
test_fd_and_quiet (Fixture       *fixture,
                   gconstpointer  data)
{
  FdRead state = { NULL, FALSE };
  GSource *source;
  guint outer_ticks = 0;
  guint tick_id;
  guint64 iterations;
  int fds[2];

  g_assert_true (g_unix_open_pipe (fds, FD_CLOEXEC, NULL));
  source = g_unix_fd_source_new (fds[0], G_IO_IN);
  g_source_set_callback (source, G_SOURCE_FUNC (fd_read_cb), &state, NULL);
  g_source_attach (source, fixture->inner);

  tick_id = g_timeout_add (5, count_cb, &outer_ticks);
  for (guint i = 0; i < 3; i++)
    g_main_context_iteration (NULL, FALSE);
  iterations = _sonde_nested_context_get_iterations (fixture->nested);
  while (outer_ticks < 20)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpuint (_sonde_nested_context_get_iterations (fixture->nested), ==, iterations);

  g_assert_cmpint (write (fds[1], "x", 1), ==, 1);
  iterate_until (&state.read, 5000);
  g_assert_true (state.read);
  g_assert_true (state.thread_default == fixture->inner);

  g_source_remove (tick_id);
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

  g_test_add ("/nested-context/idle-attached-from-outside", Fixture, NULL,
              fixture_set_up, test_idle_attached_from_outside, fixture_tear_down);
  g_test_add ("/nested-context/wakes-for-another-thread", Fixture, NULL,
              fixture_set_up, test_wakes_for_another_thread, fixture_tear_down);
  g_test_add ("/nested-context/timeout-on-time", Fixture, NULL,
              fixture_set_up, test_timeout_on_time, fixture_tear_down);
  g_test_add ("/nested-context/fd-and-quiet", Fixture, NULL,
              fixture_set_up, test_fd_and_quiet, fixture_tear_down);
  return g_test_run ();
}
