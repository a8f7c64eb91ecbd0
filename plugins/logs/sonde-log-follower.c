/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

/* Opens the file the path names now. Returns FALSE with @error unset when
 * it does not exist. */
static gboolean
open_file (SondeLogFollower  *self,
           gboolean           at_end,
           GError           **error)
{
  struct stat st;
  int fd;

  if (self->allowed != NULL &&
      !sonde_log_path_is_allowed (self->path, (const char * const *) self->allowed, error))
    return FALSE;

  fd = open (self->path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0)
    {
      int saved = errno;

      if (saved == ENOENT)
        return FALSE;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                   "Cannot open %s: %s", self->path, g_strerror (saved));
      return FALSE;
    }

  if (fstat (fd, &st) < 0 || !S_ISREG (st.st_mode))
    {
      close (fd);
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_REGULAR_FILE,
                   "%s is not a regular file", self->path);
      return FALSE;
    }

  /* The path may have been swapped for a link between the check and the
   * open: what matters is the file that was opened. */
  if (self->allowed != NULL)
    {
      g_autofree char *link = g_strdup_printf ("/proc/self/fd/%d", fd);
      g_autofree char *opened = g_file_read_link (link, NULL);

      if (opened != NULL &&
          !sonde_log_path_is_allowed (opened, (const char * const *) self->allowed, error))
        {
          close (fd);
          return FALSE;
        }
    }

  self->fd = fd;
  self->dev = st.st_dev;
  self->ino = st.st_ino;
  self->size = st.st_size;
  self->offset = at_end ? (guint64) st.st_size : 0;
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
