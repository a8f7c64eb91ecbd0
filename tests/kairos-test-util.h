/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "sonde-test-util.h"

G_BEGIN_DECLS

/*
 * Helpers of the kairos stream's tests (test-kairos.c and
 * test-kairos-subscriptions.c): a server with a gateway collector, clients
 * of /ws/metrics, and checks of the guide's Snapshot and Error frames.
 */

#define KAIROS_PATH "/ws/metrics"

/* The six metrics of a Snapshot, in their order; NULL-terminated. */
extern const char * const kairos_metrics[];

/* The fake and other collectors, and a gateway collector reporting the
 * engine's SondeGatewayStats; @history_seconds of history (0: none). */
SondeTestServer *kairos_server_new    (guint            history_seconds);
/* A client of KAIROS_PATH on the main listener. */
SondeTestClient *kairos_client_new    (SondeTestServer *server);

/* Member names in their order, joined with ','. */
char            *kairos_ordered_members (JsonObject *object);
/* Asserts @timestamp is like "2024-11-07T10:30:00Z" (ISO 8601 UTC to the
 * second) and returns it in seconds since the epoch. */
gint64           kairos_parse_timestamp (const char *timestamp);
/* The type of @member, which must be a value (not null). */
GType            kairos_value_type      (JsonObject *object,
                                         const char *member);

/* The next Snapshot not yet taken. */
JsonObject      *kairos_next_snapshot   (SondeTestClient *client);
/* The next Error, which must be exactly {"type":"Error","message":@message}. */
void             kairos_expect_error    (SondeTestClient *client,
                                         const char      *message);
/* Sends @subscription and returns the first Snapshot that has the members
 * of @expected (the one right after the subscription). */
JsonObject      *kairos_subscribe       (SondeTestClient *client,
                                         const char      *subscription,
                                         const char      *expected);

/* Asserts the members of a Snapshot after type and timestamp are
 * @expected, in that order, and that its timestamp is well formed. */
void             kairos_assert_snapshot_metrics (JsonObject *snapshot,
                                                 const char *expected);
/* Asserts every documented Snapshot field is there, with its type. */
void             kairos_assert_snapshot         (JsonObject *snapshot);

G_END_DECLS
