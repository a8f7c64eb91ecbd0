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

static inline void
tcp_counter_reset_line (SondeTcpCounter *counter)
{
  counter->field = 0;
  counter->token_len = 0;
  counter->in_token = FALSE;
  counter->matching = FALSE;
  counter->skipping = FALSE;
}

static inline void
tcp_counter_end_token (SondeTcpCounter *counter)
{
  counter->in_token = FALSE;

  /* The state is the 4th token ("sl:", local, remote, st); in the header
   * line it is "st", which never matches. */
  if (counter->field == 4)
    {
      if (counter->matching && counter->token_len == 2)
        counter->established++;
      counter->skipping = TRUE;
    }
}

void
sonde_tcp_counter_init (SondeTcpCounter *counter)
{
  counter->established = 0;
  tcp_counter_reset_line (counter);
}

/**
 * sonde_tcp_counter_feed:
 * @counter: a #SondeTcpCounter
 * @data: the next bytes of the file
 * @length: how many
 *
 * Scans only up to the state column of each line, then jumps to the next
 * newline with memchr(): no string is built.
 */
void
sonde_tcp_counter_feed (SondeTcpCounter *counter,
                        const char      *data,
                        gsize            length)
{
  const char *p = data;
  const char *end = data + length;

  while (p < end)
    {
      char c;

      if (counter->skipping)
        {
          const char *eol = memchr (p, '\n', end - p);

          if (eol == NULL)
            return;
          tcp_counter_reset_line (counter);
          p = eol + 1;
          continue;
        }

      c = *p++;

      if (c == '\n')
        {
          if (counter->in_token)
            tcp_counter_end_token (counter);
          tcp_counter_reset_line (counter);
        }
      else if (is_blank (c))
        {
          if (counter->in_token)
            tcp_counter_end_token (counter);
        }
      else
        {
          if (!counter->in_token)
            {
              counter->in_token = TRUE;
              counter->field++;
              counter->token_len = 0;
              counter->matching = (counter->field == 4);
            }
          if (counter->field == 4)
            {
              if (counter->token_len >= 2 || c != "01"[counter->token_len])
                counter->matching = FALSE;
              counter->token_len++;
            }
        }
    }
}

/**
 * sonde_tcp_counter_finish:
 * @counter: a #SondeTcpCounter
 *
 * Accounts for a last line without a newline.
 *
 * Returns: the number of ESTABLISHED sockets seen
 */
guint64
sonde_tcp_counter_finish (SondeTcpCounter *counter)
{
  if (counter->in_token)
    tcp_counter_end_token (counter);
  tcp_counter_reset_line (counter);
  return counter->established;
}
