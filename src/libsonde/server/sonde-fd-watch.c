/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <glib-unix.h>

#include "sonde-fd-watch-private.h"

/* Events taken from the kernel per epoll_wait() call. */
#define EVENTS_PER_CALL 256

struct _SondeFdWatch
{
  gatomicrefcount  ref;
  int              epoll_fd;
  GMainContext    *context;
  GSource         *source;
};

static gboolean
watch_dispatch_cb (int          fd,
                   GIOCondition condition,
                   gpointer     data)
{
  SondeFdWatch *self = data;
  struct epoll_event events[EVENTS_PER_CALL];
  int n;

  do
    {
      n = epoll_wait (self->epoll_fd, events, EVENTS_PER_CALL, 0);

      /* Nothing runs between the call and this loop: every entry is alive
       * (removed from the set before it goes). One-shot: disarmed now. */
      for (int i = 0; i < n; i++)
        {
          SondeFdWatchEntry *entry = events[i].data.ptr;

          if (entry->source != NULL)
            g_source_set_ready_time (entry->source, 0);
        }
    }
  while (n == EVENTS_PER_CALL || (n < 0 && errno == EINTR));

  return G_SOURCE_CONTINUE;
}

SondeFdWatch *
_sonde_fd_watch_new (void)
{
  SondeFdWatch *self = g_new0 (SondeFdWatch, 1);

  g_atomic_ref_count_init (&self->ref);
  self->epoll_fd = epoll_create1 (EPOLL_CLOEXEC);
  if (self->epoll_fd < 0)
    {
      /* Out of fds: every source polls its own. */
      g_warning ("Cannot create an epoll set: %s", g_strerror (errno));
      return self;
    }

  self->context = g_main_context_ref_thread_default ();
  self->source = g_unix_fd_source_new (self->epoll_fd, G_IO_IN);
  g_source_set_callback (self->source, G_SOURCE_FUNC (watch_dispatch_cb), self, NULL);
  g_source_set_name (self->source, "[sonde] connections");
  g_source_attach (self->source, self->context);
  return self;
}

SondeFdWatch *
_sonde_fd_watch_ref (SondeFdWatch *self)
{
  g_atomic_ref_count_inc (&self->ref);
  return self;
}

void
_sonde_fd_watch_unref (SondeFdWatch *self)
{
  if (self == NULL || !g_atomic_ref_count_dec (&self->ref))
    return;

  if (self->source != NULL)
    {
      g_source_destroy (self->source);
      g_source_unref (self->source);
    }
  if (self->epoll_fd >= 0)
    close (self->epoll_fd);
  g_clear_pointer (&self->context, g_main_context_unref);
  g_free (self);
}

gboolean
_sonde_fd_watch_is_local (SondeFdWatch *self)
{
  GMainContext *context = g_main_context_get_thread_default ();

  /* NULL: the global default context. */
  if (context == NULL)
    context = g_main_context_default ();
  return self->epoll_fd >= 0 && context == self->context;
}

gboolean
_sonde_fd_watch_arm (SondeFdWatch      *self,
                     SondeFdWatchEntry *entry,
                     GIOCondition       condition,
                     GSource           *source)
{
  struct epoll_event event = { 0 };

  event.events = EPOLLONESHOT | EPOLLERR | EPOLLHUP | EPOLLRDHUP |
                 ((condition & G_IO_OUT) ? EPOLLOUT : EPOLLIN);
  event.data.ptr = entry;

  if (entry->added && epoll_ctl (self->epoll_fd, EPOLL_CTL_MOD, entry->fd, &event) != 0)
    entry->added = FALSE;
  if (!entry->added && epoll_ctl (self->epoll_fd, EPOLL_CTL_ADD, entry->fd, &event) != 0)
    return FALSE;

  entry->added = TRUE;
  entry->source = source;
  return TRUE;
}

void
_sonde_fd_watch_remove (SondeFdWatch      *self,
                        SondeFdWatchEntry *entry)
{
  if (entry->added)
    epoll_ctl (self->epoll_fd, EPOLL_CTL_DEL, entry->fd, NULL);
  entry->added = FALSE;
  entry->source = NULL;
}
