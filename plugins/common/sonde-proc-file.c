/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <unistd.h>

#include "sonde-proc-file.h"

struct _SondeProcFile
{
  char  *path;
  char  *buffer;
  gsize  allocated;
  int    fd;
};

SondeProcFile *
sonde_proc_file_new (const char *path)
{
  SondeProcFile *self;

  g_return_val_if_fail (path != NULL, NULL);

  self = g_new0 (SondeProcFile, 1);
  self->path = g_strdup (path);
  self->fd = -1;
  self->allocated = 4096;
  self->buffer = g_malloc (self->allocated);
  return self;
}

const char *
sonde_proc_file_get_path (SondeProcFile *self)
{
  return self->path;
}

static gboolean
ensure_open (SondeProcFile  *self,
             GError        **error)
{
  if (self->fd >= 0)
    return TRUE;

  self->fd = open (self->path, O_RDONLY | O_CLOEXEC);
  if (self->fd < 0)
    {
      int saved_errno = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                   "Cannot open %s: %s", self->path, g_strerror (saved_errno));
      return FALSE;
    }
  return TRUE;
}

/*
 * Returns the whole file, NUL-terminated, valid until the next call.
 * procfs files must be read in one go from offset 0 to get a consistent
 * snapshot, so the buffer doubles until one pread() returns less than it.
 */
const char *
sonde_proc_file_read (SondeProcFile  *self,
                      gsize          *length,
                      GError        **error)
{
  g_return_val_if_fail (self != NULL, NULL);

  if (!ensure_open (self, error))
    return NULL;

  for (;;)
    {
      gsize total = 0;
      ssize_t n;

      /* procfs returns at most a page per read(), so loop until EOF. */
      do
        {
          n = pread (self->fd, self->buffer + total, self->allocated - 1 - total, total);
          if (n > 0)
            total += n;
        }
      while ((n > 0 || (n < 0 && errno == EINTR)) && total < self->allocated - 1);

      if (n < 0)
        {
          int saved_errno = errno;

          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                       "Cannot read %s: %s", self->path, g_strerror (saved_errno));
          /* A file that vanished (a process that exited) must be reopened. */
          sonde_proc_file_close (self);
          return NULL;
        }

      if (total < self->allocated - 1)
        {
          self->buffer[total] = '\0';
          if (length != NULL)
            *length = total;
          return self->buffer;
        }

      self->allocated *= 2;
      self->buffer = g_realloc (self->buffer, self->allocated);
    }
}

void
sonde_proc_file_close (SondeProcFile *self)
{
  if (self->fd >= 0)
    {
      close (self->fd);
      self->fd = -1;
    }
}

void
sonde_proc_file_free (SondeProcFile *self)
{
  if (self == NULL)
    return;

  sonde_proc_file_close (self);
  g_free (self->path);
  g_free (self->buffer);
  g_free (self);
}
