/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "sonde-network-parser.h"

#include "fuzz-util.h"

/*
 * The network collector's parsers, on any text as /proc/net/dev and as
 * /proc/net/tcp. The TCP counter promises the same count whatever the
 * chunks it is fed in: the input is fed whole, byte by byte, and in
 * chunks whose sizes come from the input itself, and the three counts
 * must agree.
 */

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  const char *text = (const char *) data;
  g_autoptr(GArray) entries = g_array_new (FALSE, FALSE, sizeof (SondeNetDevEntry));
  SondeTcpCounter whole, bytewise, chunked;
  guint64 n_whole, n_bytewise, n_chunked;
  guint n;

  n = sonde_net_dev_parse (text, size, entries);
  fuzz_check (n == entries->len, "count");
  for (guint i = 0; i < entries->len; i++)
    {
      SondeNetDevEntry *entry = &g_array_index (entries, SondeNetDevEntry, i);
      SondeNetDevEntry *first = &g_array_index (entries, SondeNetDevEntry, 0);
      guint64 delta = sonde_net_counter_delta (first->rx_bytes, entry->rx_bytes);

      /* The text is read by length: a NUL byte in a name (never in
       * /proc/net/dev) ends it early, which is harmless. */
      fuzz_check (memchr (entry->name, '\0', sizeof entry->name) != NULL, "name not terminated");
      fuzz_check (strchr (entry->name, ':') == NULL && strchr (entry->name, '\n') == NULL,
                  "name %s", entry->name);
      fuzz_check (entry->rx_bytes < first->rx_bytes || delta == entry->rx_bytes - first->rx_bytes,
                  "delta");
    }

  sonde_tcp_counter_init (&whole);
  sonde_tcp_counter_feed (&whole, text, size);
  n_whole = sonde_tcp_counter_finish (&whole);

  sonde_tcp_counter_init (&bytewise);
  for (gsize i = 0; i < size; i++)
    sonde_tcp_counter_feed (&bytewise, text + i, 1);
  n_bytewise = sonde_tcp_counter_finish (&bytewise);

  sonde_tcp_counter_init (&chunked);
  for (gsize i = 0, chunk = 0; i < size; i += chunk)
    {
      chunk = MIN (size - i, (gsize) (data[i] % 17) + 1);
      sonde_tcp_counter_feed (&chunked, text + i, chunk);
    }
  n_chunked = sonde_tcp_counter_finish (&chunked);

  fuzz_check (n_whole == n_bytewise && n_whole == n_chunked,
              "%" G_GUINT64_FORMAT " whole, %" G_GUINT64_FORMAT " byte by byte, %" G_GUINT64_FORMAT " in chunks",
              n_whole, n_bytewise, n_chunked);
  return 0;
}
