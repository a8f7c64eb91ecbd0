/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/*
 * Pure parsers of the network collector: they take text and fill structs,
 * never touching the file system, so that they are tested on strings and
 * recorded fixtures.
 */

/* IFNAMSIZ is 16; twice that leaves room without allocating per tick. */
#define SONDE_NET_IFNAME_MAX 32

/* The counters of one line of /proc/net/dev. */
typedef struct
{
  char    name[SONDE_NET_IFNAME_MAX];
  guint64 rx_bytes;
  guint64 rx_packets;
  guint64 tx_bytes;
  guint64 tx_packets;
} SondeNetDevEntry;

guint    sonde_net_dev_parse       (const char *text,
                                    gsize       length,
                                    GArray     *entries);
guint64  sonde_net_counter_delta   (guint64     previous,
                                    guint64     current);

gboolean sonde_net_snmp_lookup     (const char *text,
                                    gsize       length,
                                    const char *group,
                                    const char *field,
                                    guint64    *value);

G_END_DECLS
