/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "sonde-network-parser.h"

#include "fuzz-util.h"

/*
 * The network collector's parsers, on any text as /proc/net/dev and as
 * /proc/net/snmp. A column of /proc/net/snmp is read by length and found
 * the same whether or not the text ends with a newline.
 */

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  const char *text = (const char *) data;
  g_autoptr(GArray) entries = g_array_new (FALSE, FALSE, sizeof (SondeNetDevEntry));
  g_autofree char *with_newline = NULL;
  guint64 value = 0, value_again = 0;
  gboolean found, found_again;
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

  found = sonde_net_snmp_lookup (text, size, "Tcp", "CurrEstab", &value);
  with_newline = g_malloc (size + 1);
  memcpy (with_newline, data, size);
  with_newline[size] = '\n';
  found_again = sonde_net_snmp_lookup (with_newline, size + 1, "Tcp", "CurrEstab", &value_again);
  fuzz_check (found == found_again && (!found || value == value_again),
              "found %d (%" G_GUINT64_FORMAT ") without the final newline, %d (%" G_GUINT64_FORMAT ") with it",
              found, value, found_again, value_again);
  return 0;
}
