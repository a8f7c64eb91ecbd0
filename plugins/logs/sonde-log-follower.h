/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/*
 * Follows one log file as `tail -F` does, polled: each poll reads what was
 * appended since the last one and hands over every complete line.
 *
 * - A partial last line is held until its newline arrives.
 * - Rotation (the path now names another file: rename and create, or
 *   delete and create) is noticed by the inode changing: the old file is
 *   read to its end first, then the new one from its start.
 * - Truncation (the file shrank below the read position, as logrotate's
 *   copytruncate does) restarts from offset 0.
 * - On rotation and truncation a held partial line is handed over as it
 *   is, never joined to text from elsewhere.
 * - Lines longer than SONDE_LOG_MAX_LINE bytes are cut to that length (at
 *   a character boundary) and the rest of them skipped; invalid UTF-8 is
 *   repaired with U+FFFD; a trailing "\r" is dropped.
 * - A poll hands over at most SONDE_LOG_MAX_LINES lines and reads at most
 *   SONDE_LOG_MAX_READ bytes (plus the held partial line on rotation), so
 *   a burst is spread over the next polls instead of stalling one or
 *   flooding every client at once.
 * - When more than SONDE_LOG_MAX_BACKLOG bytes are waiting at a poll, the
 *   oldest of them are skipped, down to the last SONDE_LOG_MAX_READ bytes
 *   (the newest lines are the ones worth showing), counting at most
 *   SONDE_LOG_MAX_SKIP bytes per poll: the lines skipped are counted in
 *   sonde_log_follower_get_dropped(), never handed over.
 * - Only regular files with a single name are read, and only inside the
 *   allowlist, checked at each (re)open: the real path (symbolic links
 *   resolved) picks the allowed directory, then the file is opened with
 *   openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS) below it, so that a
 *   path swapped for a link between the check and the open cannot lead
 *   out. Without openat2() it is opened O_PATH | O_NOFOLLOW, where it
 *   really is read back from /proc/self/fd and checked, and reopened from
 *   there; when that cannot be read the file is refused. A file with
 *   more than one hard link is refused: it may be a second name, inside
 *   the allowed directory, of a file outside it.
 */

#define SONDE_LOG_MAX_LINE    (64 * 1024)
#define SONDE_LOG_MAX_LINES   1000
#define SONDE_LOG_MAX_READ    (256 * 1024)
#define SONDE_LOG_MAX_BACKLOG (512 * 1024)
#define SONDE_LOG_MAX_SKIP    (64 * 1024 * 1024)

typedef struct _SondeLogFollower SondeLogFollower;

typedef void (*SondeLogLineFunc) (const char *path,
                                  const char *line,
                                  gpointer    user_data);

/* @from_start: read a file that exists now from its start rather than
 * from its end; a file created later is always read from its start.
 * @allowed: (nullable): as for sonde_log_path_is_allowed(); NULL allows
 * any path. */
SondeLogFollower *sonde_log_follower_new             (const char         *path,
                                                      const char * const *allowed,
                                                      gboolean            from_start);
void              sonde_log_follower_free            (SondeLogFollower   *self);
const char       *sonde_log_follower_get_path        (SondeLogFollower   *self);
/* The size of the file at the last poll (0 while it does not exist). */
guint64           sonde_log_follower_get_size        (SondeLogFollower   *self);
/* Lines handed over since the follower was created. */
guint64           sonde_log_follower_get_lines_total (SondeLogFollower   *self);
/* Lines skipped unread because the backlog was too long, since the
 * follower was created. */
guint64           sonde_log_follower_get_dropped     (SondeLogFollower   *self);
/* Hands over each new complete line. A missing file is not an error (it
 * may be created later); a file that cannot be opened or read, or is not
 * allowed, is. */
gboolean          sonde_log_follower_poll            (SondeLogFollower   *self,
                                                      SondeLogLineFunc    func,
                                                      gpointer            user_data,
                                                      GError            **error);

/* Whether @path may be followed: it must be absolute, and its real path
 * (symbolic links resolved) must equal one of @allowed (files) or lie
 * below one of them (directories). */
gboolean          sonde_log_path_is_allowed          (const char         *path,
                                                      const char * const *allowed,
                                                      GError            **error);

/* For tests: whether openat2() is tried (it is by default); the
 * directory standing for /proc/self/fd; a function called between the
 * check of a path and its open. */
typedef void (*SondeLogOpenHook) (const char *path,
                                  gpointer    user_data);

void              sonde_log_follower_set_openat2_for_testing     (gboolean          use);
void              sonde_log_follower_set_proc_fd_dir_for_testing (const char       *dir);
void              sonde_log_follower_set_open_hook_for_testing   (SondeLogOpenHook  hook,
                                                                  gpointer          user_data);
/* Whether the last opens used openat2(). */
gboolean          sonde_log_follower_get_uses_openat2            (void);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SondeLogFollower, sonde_log_follower_free)

G_END_DECLS
