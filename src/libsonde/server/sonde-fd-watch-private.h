/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/*
 * One epoll set for many sockets, watched by one source of the main
 * context. GLib keeps its poll records in a list sorted by fd, which every
 * source with an fd of its own joins and leaves in O(sources), and polls
 * every record at each iteration: with thousands of clients, each
 * waiting for a message that rarely comes, that is most of the main loop's
 * cost. A connection's source instead has no fd: the watch arms the
 * socket in its epoll set, once, and makes the source ready when the
 * socket is.
 */
typedef struct _SondeFdWatch SondeFdWatch;

/* What a watched socket keeps, inside its owner: the source to wake. */
typedef struct
{
  int      fd;
  gboolean added;
  GSource *source;    /* unowned: cleared by its owner when it goes */
} SondeFdWatchEntry;

SondeFdWatch *_sonde_fd_watch_new        (void);
SondeFdWatch *_sonde_fd_watch_ref        (SondeFdWatch      *self);
void          _sonde_fd_watch_unref      (SondeFdWatch      *self);
/* Whether sources attached to the thread-default context can use it. */
gboolean      _sonde_fd_watch_is_local   (SondeFdWatch      *self);
/* Sets @source's ready time to now, once, when @entry's fd has
 * @condition (G_IO_IN or G_IO_OUT; errors and hang-ups always count).
 * FALSE if the fd cannot be watched: the caller polls it itself. */
gboolean      _sonde_fd_watch_arm        (SondeFdWatch      *self,
                                          SondeFdWatchEntry *entry,
                                          GIOCondition       condition,
                                          GSource           *source);
/* Before the fd is closed or the entry freed. */
void          _sonde_fd_watch_remove     (SondeFdWatch      *self,
                                          SondeFdWatchEntry *entry);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SondeFdWatch, _sonde_fd_watch_unref)

G_END_DECLS
