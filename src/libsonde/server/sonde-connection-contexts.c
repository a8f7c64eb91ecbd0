/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "sonde-connection-contexts-private.h"
#include "sonde-nested-context-private.h"

typedef struct
{
  SondeNestedContext *nested;
  SondeFdWatch       *fd_watch;
} Home;

static GMutex lock;
static Home homes[SONDE_CONNECTION_CONTEXTS_MAX];
static guint n_homes;
static guint next_home;

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

  if (next_home == n_homes && n_homes < SONDE_CONNECTION_CONTEXTS_MAX)
    home_init (&homes[n_homes++]);

  home = &homes[next_home];
  next_home = (next_home + 1) % SONDE_CONNECTION_CONTEXTS_MAX;

  if (fd_watch != NULL)
    *fd_watch = home->fd_watch;
  return _sonde_nested_context_get_context (home->nested);
}
