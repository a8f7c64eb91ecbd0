/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <sys/resource.h>

#include "sonde-connection-contexts-private.h"
#include "sonde-nested-context-private.h"

/* One context per this many descriptors the process may open. */
#define FDS_PER_CONTEXT 256

typedef struct
{
  SondeNestedContext *nested;
  SondeFdWatch       *fd_watch;
} Home;

static GMutex lock;
static Home homes[SONDE_CONNECTION_CONTEXTS_MAX];
static guint n_homes;
static guint next_home;

/* Connections can take all but a few hundred descriptors: with one
 * context per 256, each holds a few hundred at most, up to the maximum. */
static guint
count_for_fd_limit (void)
{
  struct rlimit limit;

  if (getrlimit (RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY)
    return SONDE_CONNECTION_CONTEXTS_MAX;
  return CLAMP (limit.rlim_cur / FDS_PER_CONTEXT, 1, SONDE_CONNECTION_CONTEXTS_MAX);
}

static void
home_init (Home *home)
{
  GMainContext *context;

  home->nested = _sonde_nested_context_new (g_main_context_default ());
  context = _sonde_nested_context_get_context (home->nested);

  /* The watch is of the context that is thread-default when it is made. */
  g_main_context_push_thread_default (context);
  home->fd_watch = _sonde_fd_watch_new ();
  g_main_context_pop_thread_default (context);
}

GMainContext *
_sonde_connection_contexts_next (SondeFdWatch **fd_watch)
{
  g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&lock);
  Home *home;

  /* All made at once, with the first listener: a GMainContext made when
   * descriptors have run out aborts the process (GLib cannot create its
   * wake-up). */
  if (n_homes == 0)
    for (guint count = count_for_fd_limit (); n_homes < count; n_homes++)
      home_init (&homes[n_homes]);

  home = &homes[next_home];
  next_home = (next_home + 1) % n_homes;

  if (fd_watch != NULL)
    *fd_watch = home->fd_watch;
  return _sonde_nested_context_get_context (home->nested);
}

guint
_sonde_connection_contexts_get_count (void)
{
  g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&lock);

  return n_homes;
}
