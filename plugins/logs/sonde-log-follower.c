/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* O_PATH */
#ifndef _GNU_SOURCE
# define _GNU_SOURCE
#endif
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifdef SYS_openat2
# include <linux/openat2.h>
#endif

#include <gio/gio.h>

#include "sonde-log-follower.h"

#define READ_CHUNK (64 * 1024)

struct _SondeLogFollower
{
  char     *path;
  GStrv     allowed;      /* NULL: anything */

  int       fd;           /* -1 when no file is open */
  dev_t     dev;
  ino_t     ino;
  guint64   offset;       /* read position in the open file */
  guint64   size;

  GString  *partial;      /* the line being read, without its newline */
  gboolean  skipping;     /* in the cut-off rest of a long line */
  gboolean  resyncing;    /* ...or of a line skipped with the backlog */
  guint64   lines_total;
  guint64   dropped;      /* lines skipped with the backlog */
  char     *buffer;
};

/* What one poll may still do. */
typedef struct
{
  gsize bytes;
  guint lines;
} Budget;

/* Allowlist ---------------------------------------------------------------- */

/* The real path of @path, or, when it does not exist, that of its
 * directory joined with its name; else @path with "." and ".." resolved. */
static char *
real_path (const char *path)
{
  g_autofree char *dir = NULL;
  g_autofree char *real_dir = NULL;
  g_autofree char *base = NULL;
  char *real = realpath (path, NULL);

  if (real != NULL)
    {
      char *ret = g_strdup (real);

      free (real);
      return ret;
    }

  dir = g_path_get_dirname (path);
  base = g_path_get_basename (path);
  real = realpath (dir, NULL);
  if (real != NULL)
    {
      real_dir = g_strdup (real);
      free (real);
      return g_build_filename (real_dir, base, NULL);
    }

  return g_canonicalize_filename (path, "/");
}

gboolean
sonde_log_path_is_allowed (const char         *path,
                           const char * const *allowed,
                           GError            **error)
{
  g_autofree char *real = NULL;
  g_autofree char *list = NULL;

  if (!g_path_is_absolute (path))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED,
                   "%s is not an absolute path", path);
      return FALSE;
    }

  real = real_path (path);
  for (guint i = 0; allowed != NULL && allowed[i] != NULL; i++)
    {
      g_autofree char *root = NULL;
      gsize length;

      if (!g_path_is_absolute (allowed[i]))
        continue;

      root = real_path (allowed[i]);
      length = strlen (root);
      if (g_str_equal (real, root))
        return TRUE;
      if (g_str_has_prefix (real, root) && (root[length - 1] == '/' || real[length] == '/'))
        return TRUE;
    }

  list = allowed != NULL && allowed[0] != NULL ? g_strjoinv (", ", (char **) allowed) : g_strdup ("none");
  if (g_str_equal (real, path))
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED,
                 "%s is outside the allowed paths (%s)", path, list);
  else
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED,
                 "%s (really %s) is outside the allowed paths (%s)", path, real, list);
  return FALSE;
}

/* Lines -------------------------------------------------------------------- */

static void
hand_over (SondeLogFollower *self,
           const char       *text,
           gsize             length,
           SondeLogLineFunc  func,
           gpointer          user_data)
{
  g_autofree char *valid = NULL;

  if (length > 0 && text[length - 1] == '\r')
    length--;

  /* g_utf8_validate() refuses NULs within @length too. */
  if (!g_utf8_validate (text, length, NULL))
    valid = g_utf8_make_valid (text, length);
  else
    valid = g_strndup (text, length);

  self->lines_total++;
  func (self->path, valid, user_data);
}

static void
flush_partial (SondeLogFollower *self,
               SondeLogLineFunc  func,
               gpointer          user_data)
{
  if (self->partial->len > 0)
    hand_over (self, self->partial->str, self->partial->len, func, user_data);
  g_string_truncate (self->partial, 0);
  self->skipping = FALSE;
  self->resyncing = FALSE;
}

/* A line that grew past the limit is handed over cut, at a character
 * boundary; the rest of it, up to its newline, is skipped. */
static void
cut_partial (SondeLogFollower *self,
             SondeLogLineFunc  func,
             gpointer          user_data)
{
  gsize cut = SONDE_LOG_MAX_LINE;

  while (cut > 0 && ((guchar) self->partial->str[cut] & 0xC0) == 0x80)
    cut--;

  hand_over (self, self->partial->str, cut, func, user_data);
  g_string_truncate (self->partial, 0);
  self->skipping = TRUE;
}

/* Takes the lines of @data, up to @budget's lines, and returns how many
 * bytes it used: the rest is read again at the next poll. */
static gsize
take_bytes (SondeLogFollower *self,
            const char       *data,
            gsize             length,
            Budget           *budget,
            SondeLogLineFunc  func,
            gpointer          user_data)
{
  const char *start = data;

  while (length > 0 && budget->lines > 0)
    {
      const char *newline = memchr (data, '\n', length);
      gsize chunk = newline ? (gsize) (newline - data) : length;

      if (!self->skipping)
        {
          gsize room = SONDE_LOG_MAX_LINE + 1 - self->partial->len;

          g_string_append_len (self->partial, data, MIN (chunk, room));
          if (self->partial->len > SONDE_LOG_MAX_LINE)
            {
              cut_partial (self, func, user_data);
              budget->lines--;
            }
        }

      if (newline == NULL)
        return data + length - start;

      if (self->skipping)
        {
          if (self->resyncing)
            self->dropped++;
          self->skipping = FALSE;
          self->resyncing = FALSE;
        }
      else
        {
          hand_over (self, self->partial->str, self->partial->len, func, user_data);
          g_string_truncate (self->partial, 0);
          budget->lines--;
        }

      data = newline + 1;
      length -= chunk + 1;
    }

  return data - start;
}

/* Opening ------------------------------------------------------------------ */

/* openat2() is there since Linux 5.6; a seccomp filter may still refuse
 * it. 0: not tried yet, 1: works, -1: not available. */
static int openat2_state;
static const char *proc_fd_dir = "/proc/self/fd";
static SondeLogOpenHook open_hook;
static gpointer open_hook_data;

void
sonde_log_follower_set_openat2_for_testing (gboolean use)
{
  openat2_state = use ? 0 : -1;
}

void
sonde_log_follower_set_proc_fd_dir_for_testing (const char *dir)
{
  proc_fd_dir = dir != NULL ? dir : "/proc/self/fd";
}

void
sonde_log_follower_set_open_hook_for_testing (SondeLogOpenHook hook,
                                              gpointer         user_data)
{
  open_hook = hook;
  open_hook_data = user_data;
}

gboolean
sonde_log_follower_get_uses_openat2 (void)
{
  return openat2_state > 0;
}

/* The allowed entry that admits @path, as the real directory to resolve
 * beneath and the real path relative to it. @exact: the entry is the
 * file itself, which must then be reached without any symbolic link. */
static gboolean
find_allowed_root (const char          *path,
                   const char * const  *allowed,
                   char               **root,
                   char               **relative,
                   gboolean            *exact)
{
  g_autofree char *real = real_path (path);

  for (guint i = 0; allowed[i] != NULL; i++)
    {
      g_autofree char *allowed_real = NULL;
      gsize length;

      if (!g_path_is_absolute (allowed[i]))
        continue;

      allowed_real = real_path (allowed[i]);
      length = strlen (allowed_real);
      if (g_str_equal (real, allowed_real))
        {
          *root = g_path_get_dirname (real);
          *relative = g_path_get_basename (real);
          *exact = TRUE;
          return TRUE;
        }
      if (g_str_has_prefix (real, allowed_real) &&
          (allowed_real[length - 1] == '/' || real[length] == '/'))
        {
          const char *rest = real + length;

          while (*rest == '/')
            rest++;
          *root = g_steal_pointer (&allowed_real);
          *relative = g_strdup (rest);
          *exact = FALSE;
          return TRUE;
        }
    }

  return FALSE;
}

static void
set_open_error (SondeLogFollower  *self,
                int                saved,
                GError           **error)
{
  if (saved == EXDEV || saved == ELOOP)
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED,
                 "%s leads outside the allowed paths", self->path);
  else
    g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                 "Cannot open %s: %s", self->path, g_strerror (saved));
}

#ifdef SYS_openat2
static int
openat2_beneath (int         dir_fd,
                 const char *relative,
                 gboolean    exact)
{
  struct open_how how = { 0, };

  how.flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS | (exact ? RESOLVE_NO_SYMLINKS : 0);
  return syscall (SYS_openat2, dir_fd, relative, &how, sizeof how);
}
#endif

/* Without openat2(): the file is opened as a path only, without following
 * a symbolic link in its last component; where it really is is read back
 * from /proc and checked; then it is reopened through /proc, which reopens
 * that very file. Without /proc there is no way to check: refused. */
static int
open_verified (SondeLogFollower  *self,
               int                dir_fd,
               const char        *relative,
               GError           **error)
{
  g_autofree char *link = NULL;
  g_autofree char *opened = NULL;
  struct stat st_path, st;
  int path_fd;
  int fd;

  path_fd = openat (dir_fd, relative, O_PATH | O_NOFOLLOW | O_CLOEXEC);
  if (path_fd < 0)
    {
      int saved = errno;

      if (saved != ENOENT)
        set_open_error (self, saved, error);
      return -1;
    }

  if (fstat (path_fd, &st_path) < 0 || S_ISLNK (st_path.st_mode))
    {
      close (path_fd);
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED,
                   "%s became a symbolic link while it was opened", self->path);
      return -1;
    }

  link = g_strdup_printf ("%s/%d", proc_fd_dir, path_fd);
  opened = g_file_read_link (link, NULL);
  if (opened == NULL)
    {
      close (path_fd);
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED,
                   "Cannot check where %s leads (%s is not readable): refused",
                   self->path, proc_fd_dir);
      return -1;
    }
  if (!sonde_log_path_is_allowed (opened, (const char * const *) self->allowed, error))
    {
      close (path_fd);
      return -1;
    }
  if (!S_ISREG (st_path.st_mode))
    {
      close (path_fd);
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_REGULAR_FILE,
                   "%s is not a regular file", self->path);
      return -1;
    }

  fd = open (link, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  close (path_fd);
  if (fd < 0)
    {
      set_open_error (self, errno, error);
      return -1;
    }
  if (fstat (fd, &st) < 0 || st.st_dev != st_path.st_dev || st.st_ino != st_path.st_ino)
    {
      close (fd);
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED,
                   "%s changed while it was opened", self->path);
      return -1;
    }

  return fd;
}

/* Opens the path inside the allowlist, and only there, whatever is
 * renamed or linked meanwhile: the check of its real path picks the
 * allowed directory, and the open itself is confined to it. Returns -1
 * with @error unset when the file does not exist. */
static int
open_allowed (SondeLogFollower  *self,
              GError           **error)
{
  g_autofree char *root = NULL;
  g_autofree char *relative = NULL;
  gboolean exact = FALSE;
  int dir_fd;
  int fd = -1;

  if (!find_allowed_root (self->path, (const char * const *) self->allowed, &root, &relative, &exact))
    {
      sonde_log_path_is_allowed (self->path, (const char * const *) self->allowed, error);
      return -1;
    }

  if (open_hook != NULL)
    open_hook (self->path, open_hook_data);

  dir_fd = open (root, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd < 0)
    {
      int saved = errno;

      if (saved != ENOENT)
        set_open_error (self, saved, error);
      return -1;
    }

#ifdef SYS_openat2
  if (openat2_state >= 0)
    {
      fd = openat2_beneath (dir_fd, relative, exact);
      if (fd >= 0)
        openat2_state = 1;
      else if (openat2_state == 0 &&
               (errno == ENOSYS || errno == EPERM || errno == E2BIG || errno == EINVAL))
        openat2_state = -1;   /* not there (or filtered): the fallback from now on */
      else
        {
          int saved = errno;

          close (dir_fd);
          if (saved != ENOENT)
            set_open_error (self, saved, error);
          return -1;
        }
    }
#else
  openat2_state = -1;
#endif

  if (fd < 0)
    fd = open_verified (self, dir_fd, relative, error);

  close (dir_fd);
  return fd;
}

/* Opens the file the path names now, at each (re)open: after rotation the
 * new file is checked as the first was. Returns FALSE with @error unset
 * when it does not exist. */
static gboolean
open_file (SondeLogFollower  *self,
           gboolean           at_end,
           GError           **error)
{
  GError *local_error = NULL;
  struct stat st;
  int fd;

  if (self->allowed != NULL)
    fd = open_allowed (self, &local_error);
  else
    fd = open (self->path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);

  if (fd < 0)
    {
      int saved = errno;

      if (local_error != NULL)
        g_propagate_error (error, local_error);
      else if (self->allowed == NULL && saved != ENOENT)
        set_open_error (self, saved, error);
      return FALSE;
    }

  if (fstat (fd, &st) < 0 || !S_ISREG (st.st_mode))
    {
      close (fd);
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_REGULAR_FILE,
                   "%s is not a regular file", self->path);
      return FALSE;
    }

  /* A second name of a file is not a log of its own: it may be a hard
   * link, made inside the allowed directory, to a file outside it, which
   * no path check can see. */
  if (self->allowed != NULL && st.st_nlink > 1)
    {
      close (fd);
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED,
                   "%s has %u hard links: it may be a link to a file outside the allowed paths",
                   self->path, (guint) st.st_nlink);
      return FALSE;
    }

  self->fd = fd;
  self->dev = st.st_dev;
  self->ino = st.st_ino;
  self->size = st.st_size;
  self->offset = at_end ? (guint64) st.st_size : 0;
  return TRUE;
}

/* Files -------------------------------------------------------------------- */

static void
close_file (SondeLogFollower *self)
{
  if (self->fd >= 0)
    close (self->fd);
  self->fd = -1;
  self->offset = 0;
}

static gboolean
set_read_error (SondeLogFollower  *self,
                GError           **error)
{
  int saved = errno;

  g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
               "Cannot read %s: %s", self->path, g_strerror (saved));
  return FALSE;
}

/* A flood (a megabyte of empty lines is a million lines) would take
 * minutes to hand over at SONDE_LOG_MAX_LINES a poll, and every line
 * would be stale by then: past SONDE_LOG_MAX_BACKLOG, the oldest lines
 * are skipped, counted but not handed over, until only the last
 * SONDE_LOG_MAX_READ bytes are left, from the start of a line. Counting
 * reads what it skips, but at most SONDE_LOG_MAX_SKIP bytes a poll, and
 * allocates nothing. */
static gboolean
skip_backlog (SondeLogFollower  *self,
              GError           **error)
{
  guint64 target;
  guint64 limit;
  gboolean first = TRUE;
  gboolean at_line_start = FALSE;

  if (self->size <= self->offset || self->size - self->offset <= SONDE_LOG_MAX_BACKLOG)
    return TRUE;

  target = self->size - SONDE_LOG_MAX_READ;
  limit = self->offset + SONDE_LOG_MAX_SKIP;

  while (self->offset < limit)
    {
      ssize_t n = pread (self->fd, self->buffer, MIN (READ_CHUNK, limit - self->offset), self->offset);
      const char *data = self->buffer;
      const char *end;

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return set_read_error (self, error);
      if (n == 0)
        break;

      end = data + n;
      at_line_start = FALSE;
      while (data < end)
        {
          const char *newline = memchr (data, '\n', end - data);

          if (newline == NULL)
            {
              data = end;
              at_line_start = FALSE;
              break;
            }

          /* The rest of a long line, already handed over cut, ends here:
           * not a dropped line. */
          if (!(first && self->skipping && !self->resyncing))
            self->dropped++;
          first = FALSE;
          data = newline + 1;
          at_line_start = TRUE;
          if (self->offset + (data - self->buffer) >= target)
            break;
        }

      self->offset += data - self->buffer;
      if (at_line_start && self->offset >= target)
        break;
    }

  /* What was held belonged to a skipped line. Stopped within a line, the
   * rest of it is skipped, and counted, when its newline comes; unless
   * no newline came at all in the rest of a cut line, which stays as it
   * was. */
  g_string_truncate (self->partial, 0);
  if (!(first && self->skipping))
    {
      self->skipping = !at_line_start;
      self->resyncing = !at_line_start;
    }
  return TRUE;
}

/* Reads from the open file up to its end or the end of @budget. Returns
 * FALSE when the budget ran out first. */
static gboolean
read_file (SondeLogFollower  *self,
           Budget            *budget,
           SondeLogLineFunc   func,
           gpointer           user_data,
           GError           **error)
{
  struct stat st;

  if (fstat (self->fd, &st) < 0)
    {
      set_read_error (self, error);
      return TRUE;
    }

  self->size = st.st_size;
  if ((guint64) st.st_size < self->offset)
    {
      /* Truncated in place. */
      flush_partial (self, func, user_data);
      self->offset = 0;
    }

  if (!skip_backlog (self, error))
    return TRUE;

  while (budget->bytes > 0 && budget->lines > 0)
    {
      ssize_t n = pread (self->fd, self->buffer, MIN (READ_CHUNK, budget->bytes), self->offset);
      gsize used;

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          set_read_error (self, error);
          return TRUE;
        }
      if (n == 0)
        return TRUE;

      used = take_bytes (self, self->buffer, n, budget, func, user_data);
      self->offset += used;
      budget->bytes -= used;
    }

  return FALSE;
}

gboolean
sonde_log_follower_poll (SondeLogFollower  *self,
                         SondeLogLineFunc   func,
                         gpointer           user_data,
                         GError           **error)
{
  g_autoptr(GError) local_error = NULL;
  Budget budget = { SONDE_LOG_MAX_READ, SONDE_LOG_MAX_LINES };
  struct stat st;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (func != NULL, FALSE);

  if (self->fd >= 0)
    {
      /* Whatever was appended to the file we have, rotated or not. */
      if (!read_file (self, &budget, func, user_data, &local_error))
        return TRUE;   /* more next time: do not switch files before */
      if (local_error != NULL)
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          return FALSE;
        }

      /* Still the file the path names? A path that names nothing (rotated,
       * not yet re-created) keeps the old file. */
      if (stat (self->path, &st) < 0 || (st.st_dev == self->dev && st.st_ino == self->ino))
        return TRUE;

      flush_partial (self, func, user_data);
      close_file (self);
    }

  /* A file that appeared since: all of it is new. */
  if (!open_file (self, FALSE, &local_error))
    {
      self->size = 0;
      if (local_error == NULL)
        return TRUE;
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }

  read_file (self, &budget, func, user_data, &local_error);
  if (local_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }

  return TRUE;
}

/* Object ------------------------------------------------------------------- */

SondeLogFollower *
sonde_log_follower_new (const char         *path,
                        const char * const *allowed,
                        gboolean            from_start)
{
  SondeLogFollower *self;

  g_return_val_if_fail (path != NULL, NULL);

  self = g_new0 (SondeLogFollower, 1);
  self->path = g_strdup (path);
  self->allowed = allowed != NULL ? g_strdupv ((char **) allowed) : NULL;
  self->fd = -1;
  self->partial = g_string_new (NULL);
  self->buffer = g_malloc (READ_CHUNK);

  /* Opened now, so that what is appended from now on is read, however
   * late the first poll. A failure is reported by that poll. */
  open_file (self, !from_start, NULL);
  return self;
}

void
sonde_log_follower_free (SondeLogFollower *self)
{
  if (self == NULL)
    return;

  close_file (self);
  g_string_free (self->partial, TRUE);
  g_strfreev (self->allowed);
  g_free (self->buffer);
  g_free (self->path);
  g_free (self);
}

const char *
sonde_log_follower_get_path (SondeLogFollower *self)
{
  return self->path;
}

guint64
sonde_log_follower_get_size (SondeLogFollower *self)
{
  return self->size;
}

guint64
sonde_log_follower_get_lines_total (SondeLogFollower *self)
{
  return self->lines_total;
}

guint64
sonde_log_follower_get_dropped (SondeLogFollower *self)
{
  return self->dropped;
}
