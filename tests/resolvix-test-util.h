/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "sonde-test-util.h"

G_BEGIN_DECLS

/*
 * Helpers of the resolvix dialect's tests (test-resolvix.c and
 * test-resolvix-control.c): the typed values of its JSON documents, and
 * the telemetry document checked key by key.
 */

#define TELEMETRY_PATH "/ws/telemetry"
#define LOGS_PATH      "/ws/logs"

/* The type of @member, which must be there: G_TYPE_NONE for null. */
GType  resolvix_value_type      (JsonObject *object,
                                 const char *member);
/* A double on the wire ("16.0", never "16"), rounded to @decimals. */
double resolvix_get_rounded     (JsonObject *object,
                                 const char *member,
                                 int         decimals);
/* A double rounded to one decimal, from 0 to 100. */
double resolvix_get_percent     (JsonObject *object,
                                 const char *member);
/* An integer on the wire. */
gint64 resolvix_get_integer     (JsonObject *object,
                                 const char *member);
/* The "timestamp" of @object, like "2024-01-15T10:30:45Z", in seconds
 * since the epoch. */
gint64 resolvix_parse_timestamp (JsonObject *object);

/* Checks every key of the guide's "Sample Telemetry Data", with its type
 * and unit, against what the collectors of @engine sampled. */
void   resolvix_assert_telemetry_document (SondeEngine *engine,
                                           JsonObject  *document,
                                           const char  *node_id);

G_END_DECLS
