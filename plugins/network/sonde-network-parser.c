/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "sonde-network-parser.h"

static inline gboolean
is_blank (char c)
{
  return c == ' ' || c == '\t';
}

/* Like strtoull on a bounded buffer: no locale, no errno, no allocation. */
static gboolean
parse_u64 (const char  **cursor,
           const char   *end,
           guint64      *value)
{
  const char *p = *cursor;
  guint64 v = 0;

  while (p < end && is_blank (*p))
    p++;
  if (p >= end || !g_ascii_isdigit (*p))
    return FALSE;
  for (; p < end && g_ascii_isdigit (*p); p++)
    v = v * 10 + (guint64) (*p - '0');
  *cursor = p;
  *value = v;
  return TRUE;
}

static gboolean
parse_line (const char       *line,
            const char       *end,
            SondeNetDevEntry *entry)
{
  const char *colon;
  const char *name;
  const char *p;
  guint64 fields[10];
  gsize name_len;

  /* Interface names cannot contain ':' (dev_valid_name() refuses it), so
   * the first colon ends the name even when old kernels glue the first
   * counter to it ("eth0:123"). The two header lines have no colon. */
  colon = memchr (line, ':', end - line);
  if (colon == NULL)
    return FALSE;

  name = line;
  while (name < colon && is_blank (*name))
    name++;
  name_len = colon - name;
  if (name_len == 0 || name_len >= SONDE_NET_IFNAME_MAX)
    return FALSE;

  /* rx: bytes packets errs drop fifo frame compressed multicast, then tx:
   * bytes packets: we need fields 0, 1, 8 and 9. */
  p = colon + 1;
  for (guint i = 0; i < G_N_ELEMENTS (fields); i++)
    if (!parse_u64 (&p, end, &fields[i]))
      return FALSE;

  memcpy (entry->name, name, name_len);
  entry->name[name_len] = '\0';
  entry->rx_bytes = fields[0];
  entry->rx_packets = fields[1];
  entry->tx_bytes = fields[8];
  entry->tx_packets = fields[9];
  return TRUE;
}

/**
 * sonde_net_dev_parse:
 * @text: the contents of /proc/net/dev
 * @length: the length of @text
 * @entries: a #GArray of #SondeNetDevEntry, appended to
 *
 * Parses every interface line, in file order. Lines that do not parse
 * (headers, truncated lines) are skipped.
 *
 * Returns: the number of entries appended
 */
guint
sonde_net_dev_parse (const char *text,
                     gsize       length,
                     GArray     *entries)
{
  const char *p = text;
  const char *end = text + length;
  guint n = 0;

  g_return_val_if_fail (text != NULL || length == 0, 0);
  g_return_val_if_fail (entries != NULL, 0);

  while (p < end)
    {
      const char *eol = memchr (p, '\n', end - p);
      SondeNetDevEntry entry;

      if (eol == NULL)
        eol = end;

      if (parse_line (p, eol, &entry))
        {
          g_array_append_val (entries, entry);
          n++;
        }

      p = eol + 1;
    }

  return n;
}

/* A 32-bit counter wraps from just below 2^32 to a small value; within
 * 2^30 of the top, one tick of traffic (up to 2^31 bytes) can carry it
 * over. Anything else that goes down was reset. */
#define COUNTER_32_WRAP    (G_GUINT64_CONSTANT (1) << 32)
#define WRAP_MARGIN        (G_GUINT64_CONSTANT (1) << 30)
#define MAX_WRAPPED_DELTA  (G_GUINT64_CONSTANT (1) << 31)

/**
 * sonde_net_counter_delta:
 * @previous: the counter at the previous sample
 * @current: the counter now
 *
 * How much a kernel counter grew. /proc/net/dev counters are 64-bit on
 * current kernels, but some drivers keep 32-bit ones that wrap: a counter
 * that went down counts as a 32-bit wrap only when it was within 2^30 of
 * 2^32 and the wrapped growth is at most 2^31. Any other decrease is a
 * reset (interface recreated, as a tun, veth or VPN reconnect does, or
 * driver reloaded), and its growth is unknown: 0, never a negative or
 * huge rate.
 *
 * Returns: the growth of the counter
 */
guint64
sonde_net_counter_delta (guint64 previous,
                         guint64 current)
{
  guint64 wrapped;

  if (current >= previous)
    return current - previous;

  if (previous >= COUNTER_32_WRAP || previous < COUNTER_32_WRAP - WRAP_MARGIN)
    return 0;

  wrapped = current + (COUNTER_32_WRAP - previous);
  return wrapped <= MAX_WRAPPED_DELTA ? wrapped : 0;
}

/* The next whitespace-separated token of [*cursor, end), or FALSE at the
 * end of the line. */
static gboolean
next_token (const char  **cursor,
            const char   *end,
            const char  **token,
            gsize        *token_len)
{
  const char *p = *cursor;
  const char *start;

  while (p < end && is_blank (*p))
    p++;
  if (p >= end)
    return FALSE;
  start = p;
  while (p < end && !is_blank (*p))
    p++;
  *token = start;
  *token_len = p - start;
  *cursor = p;
  return TRUE;
}

/* The end of the line that starts at @line: its newline, or @end. */
static const char *
line_end (const char *line,
          const char *end)
{
  const char *eol = memchr (line, '\n', end - line);

  return eol != NULL ? eol : end;
}

/* Whether the line [line, eol) starts with @prefix (which ends in ':'). */
static gboolean
line_has_prefix (const char *line,
                 const char *eol,
                 const char *prefix,
                 gsize       prefix_len)
{
  return (gsize) (eol - line) >= prefix_len && memcmp (line, prefix, prefix_len) == 0;
}

/**
 * sonde_net_snmp_lookup:
 * @text: the contents of /proc/net/snmp (or /proc/net/netstat)
 * @length: the length of @text
 * @group: the group, such as "Tcp"
 * @field: the column, such as "CurrEstab"
 * @value: (out): the value
 *
 * These files have, per group, a header line naming the columns
 * ("Tcp: RtoAlgorithm RtoMin ... CurrEstab ...") followed by a line of
 * values in the same order ("Tcp: 1 200 ... 31 ..."). The column is found
 * by its name in the header, since kernels add columns over time. Only the
 * first header of @group counts, and its values must be on the next line.
 *
 * Returns: %TRUE if @field has an unsigned decimal value; %FALSE if the
 *   group, its values line or the column is missing, or the value is not
 *   a number that fits in 64 bits (MaxConn is -1, for one)
 */
gboolean
sonde_net_snmp_lookup (const char *text,
                       gsize       length,
                       const char *group,
                       const char *field,
                       guint64    *value)
{
  char prefix[32];
  gsize prefix_len;
  gsize field_len;
  const char *end = text + length;
  const char *line = text;
  const char *eol;
  const char *p;
  const char *token;
  gsize token_len;
  guint column = 0;
  gboolean found = FALSE;
  guint64 v = 0;

  g_return_val_if_fail (text != NULL || length == 0, FALSE);
  g_return_val_if_fail (group != NULL && field != NULL && value != NULL, FALSE);

  prefix_len = g_snprintf (prefix, sizeof prefix, "%s:", group);
  g_return_val_if_fail (prefix_len < sizeof prefix, FALSE);
  field_len = strlen (field);

  /* The header line. */
  for (;;)
    {
      if (line >= end)
        return FALSE;
      eol = line_end (line, end);
      if (line_has_prefix (line, eol, prefix, prefix_len))
        break;
      line = eol + 1;
    }

  p = line + prefix_len;
  while (next_token (&p, eol, &token, &token_len))
    {
      if (token_len == field_len && memcmp (token, field, field_len) == 0)
        {
          found = TRUE;
          break;
        }
      column++;
    }
  if (!found)
    return FALSE;

  /* The values line. */
  line = eol + 1;
  if (line >= end)
    return FALSE;
  eol = line_end (line, end);
  if (!line_has_prefix (line, eol, prefix, prefix_len))
    return FALSE;

  p = line + prefix_len;
  for (guint i = 0; i <= column; i++)
    if (!next_token (&p, eol, &token, &token_len))
      return FALSE;

  for (gsize i = 0; i < token_len; i++)
    {
      guint digit;

      if (!g_ascii_isdigit (token[i]))
        return FALSE;
      digit = token[i] - '0';
      if (v > (G_MAXUINT64 - digit) / 10)
        return FALSE;
      v = v * 10 + digit;
    }

  *value = v;
  return TRUE;
}
