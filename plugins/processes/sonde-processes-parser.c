/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "sonde-processes-parser.h"

/*
 * Reads the next space-separated unsigned field. Signed fields (priority,
 * nice) are never asked for, but a '-' is skipped over like any field.
 */
static gboolean
next_field (const char **cursor,
            const char  *end,
            guint64     *value)
{
  const char *p = *cursor;
  guint64 v = 0;

  while (p < end && *p == ' ')
    p++;
  if (p >= end || !g_ascii_isdigit (*p))
    return FALSE;
  for (; p < end && g_ascii_isdigit (*p); p++)
    v = v * 10 + (guint64) (*p - '0');
  if (p < end && *p != ' ' && *p != '\n')
    return FALSE;
  *cursor = p;
  *value = v;
  return TRUE;
}

static gboolean
skip_field (const char **cursor,
            const char  *end)
{
  const char *p = *cursor;

  while (p < end && *p == ' ')
    p++;
  if (p >= end || *p == '\n')
    return FALSE;
  while (p < end && *p != ' ' && *p != '\n')
    p++;
  *cursor = p;
  return TRUE;
}

/**
 * sonde_proc_parse_stat:
 * @text: the contents of /proc/PID/stat
 * @length: the length of @text
 * @stat: filled in
 *
 * The name is between the first '(' and the LAST ')': it may itself hold
 * spaces and parentheses ("(sd-pam)", "tmux: server", "a) b"), and the
 * kernel does not escape them. Longer names are truncated.
 *
 * Returns: %FALSE if @text is empty or not a stat line (a process that
 *   exited between readdir and read)
 */
gboolean
sonde_proc_parse_stat (const char    *text,
                       gsize          length,
                       SondeProcStat *stat)
{
  const char *end;
  const char *open;
  const char *close;
  const char *p;
  gsize name_len;
  guint64 value;

  g_return_val_if_fail (stat != NULL, FALSE);

  if (text == NULL || length == 0)
    return FALSE;

  end = text + length;
  open = memchr (text, '(', length);
  if (open == NULL)
    return FALSE;
  close = NULL;
  for (p = end - 1; p > open; p--)
    if (*p == ')')
      {
        close = p;
        break;
      }
  if (close == NULL)
    return FALSE;

  name_len = MIN ((gsize) (close - open - 1), (gsize) SONDE_PROC_NAME_MAX - 1);
  memcpy (stat->name, open + 1, name_len);
  stat->name[name_len] = '\0';

  /* ") S ppid ..." : field 3 is the state. */
  p = close + 1;
  if (p + 2 > end || p[0] != ' ')
    return FALSE;
  stat->state = p[1];
  p += 2;

  /* Fields 4 to 24; we keep 14, 15, 22 and 24. */
  for (guint field = 4; field <= 24; field++)
    {
      switch (field)
        {
        case 14:
        case 15:
        case 22:
        case 24:
          if (!next_field (&p, end, &value))
            return FALSE;
          if (field == 14)
            stat->utime = value;
          else if (field == 15)
            stat->stime = value;
          else if (field == 22)
            stat->start_time = value;
          else
            stat->rss_pages = value;
          break;

        default:
          if (!skip_field (&p, end))
            return FALSE;
        }
    }

  return TRUE;
}

/**
 * sonde_proc_parse_mem_total:
 * @meminfo: the contents of /proc/meminfo
 * @bytes: (out): MemTotal, in bytes
 *
 * Returns: %TRUE if MemTotal was found
 */
gboolean
sonde_proc_parse_mem_total (const char *meminfo,
                            guint64    *bytes)
{
  const char *line;
  guint64 kib = 0;
  const char *p;

  g_return_val_if_fail (meminfo != NULL, FALSE);

  if (g_str_has_prefix (meminfo, "MemTotal:"))
    line = meminfo;
  else if ((line = strstr (meminfo, "\nMemTotal:")) != NULL)
    line++;
  else
    return FALSE;

  p = line + strlen ("MemTotal:");
  while (*p == ' ' || *p == '\t')
    p++;
  if (!g_ascii_isdigit (*p))
    return FALSE;
  for (; g_ascii_isdigit (*p); p++)
    {
      guint digit = *p - '0';

      /* Beyond 2^64 bytes is not a MemTotal: it would wrap, to 0 even,
       * and the collector divides by it. */
      if (kib > (G_MAXUINT64 / 1024 - digit) / 10)
        return FALSE;
      kib = kib * 10 + digit;
    }

  /* The kernel says "kB" but means KiB. */
  *bytes = kib * 1024;
  return kib > 0;
}

/**
 * sonde_proc_is_pid:
 * @name: a directory entry name of /proc
 * @pid: (out) (optional): its value
 *
 * Returns: %TRUE if @name is all digits, as psutil.pids() counts them
 */
gboolean
sonde_proc_is_pid (const char *name,
                   int        *pid)
{
  gint64 v = 0;

  if (*name == '\0')
    return FALSE;
  for (const char *p = name; *p != '\0'; p++)
    {
      if (!g_ascii_isdigit (*p))
        return FALSE;
      v = v * 10 + (*p - '0');
      if (v > G_MAXINT)
        return FALSE;
    }
  if (pid != NULL)
    *pid = (int) v;
  return TRUE;
}
