/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sonde.h"

#include "sonde-daemon-token.h"

#define TOKEN_BYTES 32

char *
sonde_daemon_token_path (void)
{
  return g_build_filename (g_get_user_config_dir (), SONDE_TOKEN_FILE, NULL);
}

static char *
random_token (GError **error)
{
  guchar bytes[TOKEN_BYTES];
  GString *hex = g_string_sized_new (2 * TOKEN_BYTES);

  if (getrandom (bytes, sizeof bytes, 0) != sizeof bytes)
    {
      int saved_errno = errno;

      g_string_free (hex, TRUE);
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                   _("cannot make a token: %s"), g_strerror (saved_errno));
      return NULL;
    }

  for (guint i = 0; i < sizeof bytes; i++)
    g_string_append_printf (hex, "%02x", bytes[i]);
  return g_string_free (hex, FALSE);
}

static gboolean
is_token (const char *text)
{
  gsize length = strlen (text);

  if (length < 32 || length > 128)
    return FALSE;
  for (const char *p = text; *p; p++)
    if (!g_ascii_isxdigit (*p))
      return FALSE;
  return TRUE;
}

/* The existing token, if the file is a regular file of ours that holds
 * one; a file others could read is made private again. */
static char *
read_token (const char  *path,
            GError     **error)
{
  g_autofree char *contents = NULL;
  struct stat info;
  int fd;
  gssize n;
  char buffer[256];

  fd = g_open (path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC, 0);
  if (fd < 0)
    {
      int saved_errno = errno;

      if (saved_errno != ENOENT)
        g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                     "%s: %s", path, g_strerror (saved_errno));
      return NULL;
    }

  if (fstat (fd, &info) != 0 || !S_ISREG (info.st_mode) || info.st_uid != getuid ())
    {
      close (fd);
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED,
                   _("%s is not a file of this user"), path);
      return NULL;
    }

  if ((info.st_mode & 077) != 0)
    {
      g_warning (_("%s could be read by other users; it is made private"), path);
      fchmod (fd, 0600);
    }

  n = read (fd, buffer, sizeof buffer - 1);
  close (fd);
  if (n <= 0)
    return NULL;
  buffer[n] = '\0';
  contents = g_strstrip (g_strdup (buffer));
  return is_token (contents) ? g_steal_pointer (&contents) : NULL;
}

static gboolean
write_token (const char  *path,
             const char  *token,
             GError     **error)
{
  g_autofree char *dir = g_path_get_dirname (path);
  g_autofree char *line = g_strconcat (token, "\n", NULL);
  gsize length = strlen (line);
  int fd;

  if (g_mkdir_with_parents (dir, 0700) != 0)
    {
      int saved_errno = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                   "%s: %s", dir, g_strerror (saved_errno));
      return FALSE;
    }

  /* Created private: never readable by others, not even for a moment. */
  g_unlink (path);
  fd = g_open (path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0 || write (fd, line, length) != (gssize) length || fsync (fd) != 0)
    {
      int saved_errno = errno;

      if (fd >= 0)
        close (fd);
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                   "%s: %s", path, g_strerror (saved_errno));
      return FALSE;
    }

  close (fd);
  return TRUE;
}

char *
sonde_daemon_load_token (GError **error)
{
  g_autofree char *path = sonde_daemon_token_path ();
  g_autoptr(GError) local_error = NULL;
  g_autofree char *token = read_token (path, &local_error);

  if (token != NULL)
    return g_steal_pointer (&token);
  if (local_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }

  token = random_token (error);
  if (token == NULL || !write_token (path, token, error))
    return NULL;

  g_info ("Made a token for this user in %s", path);
  return g_steal_pointer (&token);
}
