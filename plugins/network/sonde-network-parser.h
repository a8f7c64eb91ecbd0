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

/*
 * Counts ESTABLISHED sockets in /proc/net/tcp or tcp6 text fed in chunks of
 * any size (a line may straddle two chunks), so that a file of many
 * megabytes is read through a small buffer.
 */
typedef struct
{
  guint64  established;
  guint    field;       /* whitespace-separated tokens seen on this line */
  guint    token_len;   /* length of the state token so far */
  guint    in_token : 1;
  guint    matching : 1; /* the state token is still a prefix of "01" */
  guint    skipping : 1; /* the state is known: skip to the end of line */
} SondeTcpCounter;

void     sonde_tcp_counter_init    (SondeTcpCounter *counter);
void     sonde_tcp_counter_feed    (SondeTcpCounter *counter,
                                    const char      *data,
                                    gsize            length);
guint64  sonde_tcp_counter_finish  (SondeTcpCounter *counter);

G_END_DECLS
