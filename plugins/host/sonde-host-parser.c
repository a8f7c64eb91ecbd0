/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <math.h>
#include <string.h>

#include "sonde-host-parser.h"

void
sonde_host_os_release_clear (SondeHostOsRelease *release)
{
  g_clear_pointer (&release->name, g_free);
  g_clear_pointer (&release->version, g_free);
}

/*
 * os-release(5) values follow shell quoting: "..." with backslash escapes
 * of $ ` " \ and newline, '...' taken literally, or bare words with
 * backslash escapes. g_shell_unquote() implements exactly that. A value it
 * rejects (an unterminated quote) is still worth showing, so it is kept
 * as written rather than dropped.
 */
char *
sonde_host_os_release_unquote (const char *value)
{
  g_autofree char *stripped = g_strstrip (g_strdup (value));
  char *unquoted;

  unquoted = g_shell_unquote (stripped, NULL);
  if (unquoted == NULL)
    return g_steal_pointer (&stripped);
  return unquoted;
}

void
sonde_host_parse_os_release (const char         *text,
                             SondeHostOsRelease *release)
{
  g_auto(GStrv) lines = NULL;
  g_autofree char *version_id = NULL;
  g_autofree char *version = NULL;
  g_autofree char *name = NULL;

  g_return_if_fail (text != NULL);
  g_return_if_fail (release != NULL);

  lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      const char *line = lines[i];
      const char *eq;
      char **target;

      while (g_ascii_isspace (*line))
        line++;
      if (*line == '#' || *line == '\0')
        continue;

      eq = strchr (line, '=');
      if (eq == NULL)
        continue;

      /* Later assignments win, as when the shell sources the file. */
      if (eq - line == 4 && strncmp (line, "NAME", 4) == 0)
        target = &name;
      else if (eq - line == 10 && strncmp (line, "VERSION_ID", 10) == 0)
        target = &version_id;
      else if (eq - line == 7 && strncmp (line, "VERSION", 7) == 0)
        target = &version;
      else
        continue;

      g_free (*target);
      *target = sonde_host_os_release_unquote (eq + 1);
    }

  sonde_host_os_release_clear (release);

  /* os-release(5): "If not set, a default of NAME=Linux may be used." */
  release->name = (name != NULL && *name != '\0') ? g_steal_pointer (&name) : g_strdup ("Linux");

  if (version_id != NULL && *version_id != '\0')
    release->version = g_steal_pointer (&version_id);
  else if (version != NULL)
    release->version = g_steal_pointer (&version);
  else
    release->version = g_strdup ("");
}

/* /proc/uptime: "380.03 724.75\n"; the first number is the uptime. */
gboolean
sonde_host_parse_uptime (const char *text,
                         double     *uptime_seconds)
{
  char *end = NULL;
  double value;

  g_return_val_if_fail (text != NULL, FALSE);

  value = g_ascii_strtod (text, &end);
  if (end == text || !isfinite (value) || value < 0)
    return FALSE;

  *uptime_seconds = value;
  return TRUE;
}

/* The "btime N" line of /proc/stat: boot time in seconds since the epoch. */
gboolean
sonde_host_parse_btime (const char *text,
                        gint64     *boot_time)
{
  const char *line;

  g_return_val_if_fail (text != NULL, FALSE);

  for (line = text; line != NULL && *line != '\0'; line = strchr (line, '\n'))
    {
      char *end = NULL;
      gint64 value;

      if (*line == '\n')
        line++;
      if (strncmp (line, "btime ", 6) != 0)
        continue;

      value = g_ascii_strtoll (line + 6, &end, 10);
      if (end == line + 6 || value < 0)
        return FALSE;
      *boot_time = value;
      return TRUE;
    }

  return FALSE;
}

/* The first line of a one-value file (hostname, osrelease), without its newline. */
char *
sonde_host_parse_line (const char *text)
{
  g_return_val_if_fail (text != NULL, NULL);

  return g_strstrip (g_strndup (text, strcspn (text, "\n")));
}
