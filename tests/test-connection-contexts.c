/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <sys/resource.h>

#include "sonde-connection-contexts-private.h"

/*
 * The contexts connections are spread over (sonde-connection-contexts.c):
 * one per 256 descriptors the process may open, taken round robin, each
 * run from the global default context, each with an epoll set of its own.
 */

/* One per 256 descriptors: main() sets RLIMIT_NOFILE to this. */
#define FD_LIMIT 1024

static void
test_round_robin (void)
{
  g_autoptr(GHashTable) seen = g_hash_table_new (NULL, NULL);
  g_autofree GMainContext **first = NULL;
  guint count;

  first = g_new0 (GMainContext *, SONDE_CONNECTION_CONTEXTS_MAX);
  first[0] = _sonde_connection_contexts_next (NULL);
  count = _sonde_connection_contexts_get_count ();
  g_assert_cmpuint (count, ==, FD_LIMIT / 256);

  for (guint i = 1; i < count; i++)
    first[i] = _sonde_connection_contexts_next (NULL);
  for (guint i = 0; i < count; i++)
    {
      g_assert_nonnull (first[i]);
      g_assert_true (first[i] != g_main_context_default ());
      g_hash_table_add (seen, first[i]);
    }
  g_assert_cmpuint (g_hash_table_size (seen), ==, count);

  /* Then the same ones again, in the same order: no more are made. */
  for (guint round = 0; round < 3; round++)
    for (guint i = 0; i < count; i++)
      g_assert_true (_sonde_connection_contexts_next (NULL) == first[i]);
  g_assert_cmpuint (_sonde_connection_contexts_get_count (), ==, count);
}

static gboolean
record_thread_default_cb (gpointer data)
{
  *(GMainContext **) data = g_main_context_get_thread_default ();
  return G_SOURCE_REMOVE;
}

/* What is attached to one runs when the main context is iterated, with
 * that context as the thread-default one (where libsoup attaches what it
 * makes next for the connection). */
static void
test_run_from_main_context (void)
{
  GMainContext *contexts[3];
  GMainContext *seen[3] = { NULL, };
  gint64 end = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;

  for (guint i = 0; i < G_N_ELEMENTS (contexts); i++)
    {
      g_autoptr(GSource) idle = g_idle_source_new ();

      contexts[i] = _sonde_connection_contexts_next (NULL);
      g_source_set_callback (idle, record_thread_default_cb, &seen[i], NULL);
      g_source_attach (idle, contexts[i]);
    }

  while ((seen[0] == NULL || seen[1] == NULL || seen[2] == NULL) && g_get_monotonic_time () < end)
    g_main_context_iteration (NULL, FALSE);

  for (guint i = 0; i < G_N_ELEMENTS (contexts); i++)
    g_assert_true (seen[i] == contexts[i]);
}

/* A context's epoll set serves the sources of that context only. */
static void
test_fd_watch_of_its_context (void)
{
  SondeFdWatch *watch = NULL, *other_watch = NULL;
  GMainContext *context = _sonde_connection_contexts_next (&watch);
  GMainContext *other = _sonde_connection_contexts_next (&other_watch);

  g_assert_nonnull (watch);
  g_assert_true (watch != other_watch);

  g_main_context_push_thread_default (context);
  g_assert_true (_sonde_fd_watch_is_local (watch));
  g_assert_false (_sonde_fd_watch_is_local (other_watch));
  g_main_context_pop_thread_default (context);

  g_main_context_push_thread_default (other);
  g_assert_false (_sonde_fd_watch_is_local (watch));
  g_assert_true (_sonde_fd_watch_is_local (other_watch));
  g_main_context_pop_thread_default (other);

  g_assert_false (_sonde_fd_watch_is_local (watch));
}

int
main (int    argc,
      char **argv)
{
  struct rlimit limit;

  g_test_init (&argc, &argv, NULL);

  /* The number of contexts follows the descriptors the process may open,
   * read when the first is asked for. */
  g_assert_no_errno (getrlimit (RLIMIT_NOFILE, &limit));
  if (limit.rlim_max != RLIM_INFINITY && limit.rlim_max < FD_LIMIT)
    {
      g_print ("1..0 # SKIP RLIMIT_NOFILE's hard limit is below %d\n", FD_LIMIT);
      return 0;
    }
  limit.rlim_cur = FD_LIMIT;
  g_assert_no_errno (setrlimit (RLIMIT_NOFILE, &limit));

  g_test_add_func ("/connection-contexts/round-robin", test_round_robin);
  g_test_add_func ("/connection-contexts/run-from-main-context", test_run_from_main_context);
  g_test_add_func ("/connection-contexts/fd-watch-of-its-context", test_fd_watch_of_its_context);
  return g_test_run ();
}
