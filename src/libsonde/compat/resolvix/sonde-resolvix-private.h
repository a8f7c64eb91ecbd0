/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <libsoup/soup.h>

#include "sonde-server.h"

G_BEGIN_DECLS

/*
 * The resolvix dialect (seeds/resolvix-telemetry-guide.md), in three
 * files: sonde-dialect-resolvix.c (the state one server keeps, and the
 * live log stream), sonde-resolvix-telemetry.c (the telemetry document
 * and its stream) and sonde-resolvix-control.c (POST /control and the
 * status members).
 */

#define SONDE_RESOLVIX_DEFAULT_INTERVAL 60
#define SONDE_RESOLVIX_MIN_INTERVAL     1
#define SONDE_RESOLVIX_MAX_INTERVAL     3600

typedef struct _SondeResolvixTelemetryClient SondeResolvixTelemetryClient;

/* One per SondeServer, kept as object data of the server and freed with
 * it; every client of the dialect finds it through its server. */
typedef struct
{
  SondeServer *server;              /* unowned: the state lives in it */
  char        *node_id;             /* NULL: the host name */
  guint        interval;            /* telemetry interval, in seconds */
  gboolean     telemetry_running;
  gboolean     livelogs_running;

  GPtrArray   *telemetry_clients;   /* SondeResolvixTelemetryClient, unowned */
  GPtrArray   *waiting;             /* the clients owed a document at once */
  gboolean     refreshing;          /* a refresh for them is under way */

  guint        n_logs_clients;
  guint        logs_hold;           /* hold on the logs collector, or 0 */
  SondeEvent  *cached_event;        /* the last log line, and its frame */
  GBytes      *cached_frame;

  GPtrArray   *telemetry_listeners; /* SoupServer: compatibility listeners */
  GPtrArray   *logs_listeners;
} SondeResolvix;

SondeResolvix *_sonde_resolvix_get                 (SondeServer   *server);
const char    *_sonde_resolvix_get_node_id         (SondeResolvix *self);
void           _sonde_resolvix_set_node_id         (SondeResolvix *self,
                                                    const char    *node_id);
void           _sonde_resolvix_set_interval        (SondeResolvix *self,
                                                    guint          seconds);
/* The port of the first open listener of @listeners, else the main one. */
guint          _sonde_resolvix_get_ws_port         (SondeResolvix *self,
                                                    GPtrArray     *listeners);
/* "2024-01-15T10:30:45Z": the guide's timestamps, UTC to the second. */
GBytes        *_sonde_resolvix_error_frame         (const char    *message);

/* Live logs: held while clients exist and the stream runs. */
void           _sonde_resolvix_set_livelogs_running (SondeResolvix *self,
                                                     gboolean       running);

/* Telemetry, in sonde-resolvix-telemetry.c. */
GBytes        *_sonde_resolvix_encode_telemetry    (SondeEngine   *engine,
                                                    const char    *node_id,
                                                    gint64         timestamp_us);
void           _sonde_resolvix_set_telemetry_running (SondeResolvix *self,
                                                      gboolean       running);
/* Moves every telemetry client to the group of the current node id and
 * interval (after either changed). */
void           _sonde_resolvix_regroup_telemetry   (SondeResolvix *self);

/* GET /status: adds node_id, log_file, livelogs and telemetry. */
void           _sonde_resolvix_add_status_members  (SondeServer   *server,
                                                    JsonObject    *object);

G_END_DECLS
