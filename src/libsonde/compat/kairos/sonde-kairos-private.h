/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <json-glib/json-glib.h>

#include "sonde-engine.h"
#include "sonde-filter-private.h"
#include "sonde-format-private.h"
#include "sonde-history.h"
#include "sonde-hub-private.h"
#include "sonde-server.h"

G_BEGIN_DECLS

/*
 * The kairos format (docs/formats/kairos.md), in four files:
 * sonde-kairos-client.c (the client: its connection, group and history),
 * sonde-kairos-subscription.c (names, patterns and the client's
 * subscription message), sonde-kairos-errors.c (serde's words for a bad
 * message) and sonde-kairos-frames.c (the server's messages).
 */

extern const SondeFormat _sonde_kairos_format;

/* The gateway metrics a kairos name stands for. */
extern const char * const _sonde_kairos_catalog_metrics[];

/* A subscription message, read. */
typedef struct
{
  GStrv        names;            /* as requested, without duplicates, in order */
  char        *id;               /* the names joined by ',' */
  SondeFilter *filter;
  guint        interval_seconds;
  gboolean     include_history;
} SondeKairosSubscription;


/* Names and subscriptions, in sonde-kairos-subscription.c. */
const char *_sonde_kairos_field                    (const char              *name);
void        _sonde_kairos_subscription_init_default (SondeKairosSubscription *sub,
                                                     SondeServer             *server);
/* Returns the Error's message, or NULL when @sub is ready. */
char       *_sonde_kairos_parse_subscription       (SondeServer             *server,
                                                    const char              *text,
                                                    gsize                    length,
                                                    SondeKairosSubscription *sub);
void        _sonde_kairos_subscription_clear       (SondeKairosSubscription *sub);

/* serde's words, in sonde-kairos-errors.c. */
char       *_sonde_kairos_check_syntax             (const char              *text,
                                                    gsize                    length);
char       *_sonde_kairos_invalid_type             (JsonNode                *node,
                                                    const char              *expected);

/* Server messages, in sonde-kairos-frames.c. */
GBytes     *_sonde_kairos_encode_error             (const char              *message);
/* Prepares, once per group, what its Snapshots hold: the group's
 * parameters are its list of names. */
void        _sonde_kairos_prepare_group            (SondeHubGroup           *group,
                                                    SondeCatalog            *catalog);
/* A Snapshot of a prepared group; the hub's encoder too. */
GBytes     *_sonde_kairos_encode_snapshot          (SondeHubGroup           *group,
                                                    SondeTickView           *view);
extern const SondeHubEncoding _sonde_kairos_snapshot_encoding;
GBytes     *_sonde_kairos_encode_time_series       (SondeHistory            *history,
                                                    const char              *requested,
                                                    const char              *metric,
                                                    guint                    seconds);
GBytes     *_sonde_kairos_encode_heartbeat         (gint64                   timestamp_us);

G_END_DECLS
