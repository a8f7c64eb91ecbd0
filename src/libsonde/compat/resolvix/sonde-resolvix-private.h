/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <libsoup/soup.h>

#include "sonde-format-private.h"
#include "sonde-tick-view-private.h"
#include "sonde-server.h"

G_BEGIN_DECLS

/*
 * The resolvix format (docs/formats/resolvix.md), in four files:
 * sonde-resolvix.c (its entry in the format table, its state and
 * settings), sonde-resolvix-telemetry.c (the telemetry document and its
 * stream), sonde-resolvix-logs.c (live log lines) and
 * sonde-resolvix-control.c (POST /control and the status members).
 */

#define SONDE_RESOLVIX_DEFAULT_INTERVAL 60
#define SONDE_RESOLVIX_MIN_INTERVAL     1
#define SONDE_RESOLVIX_MAX_INTERVAL     3600

extern const SondeFormat _sonde_resolvix_format;

typedef struct _SondeResolvixTelemetryClient SondeResolvixTelemetryClient;

/* The state one server keeps, given to every hook and client. */
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

  GPtrArray   *logs_clients;        /* unowned */
  guint        logs_hold;           /* hold on the logs collector, or 0 */
  SondeEvent  *cached_event;        /* the last log line, and its frame */
  GBytes      *cached_frame;

  GPtrArray   *telemetry_listeners; /* SoupServer: compatibility listeners */
  GPtrArray   *logs_listeners;
} SondeResolvix;

/* In sonde-resolvix.c. */
const char    *_sonde_resolvix_get_node_id         (SondeResolvix *self);
void           _sonde_resolvix_set_node_id         (SondeResolvix *self,
                                                    const char    *node_id);
void           _sonde_resolvix_set_interval        (SondeResolvix *self,
                                                    guint          seconds);
/* The port of the first open listener of @listeners, else the main one. */
guint          _sonde_resolvix_get_ws_port         (SondeResolvix *self,
                                                    GPtrArray     *listeners);
GBytes        *_sonde_resolvix_error_frame         (const char    *message);

/* Live logs, in sonde-resolvix-logs.c: held while clients exist and the
 * stream runs. */
void           _sonde_resolvix_set_livelogs_running (SondeResolvix *self,
                                                     gboolean       running);
void           _sonde_resolvix_logs_event          (gpointer       state,
                                                    SondeEvent    *event);
void           _sonde_resolvix_logs_register       (SondeServer   *server,
                                                    gpointer       state,
                                                    SoupServer    *soup_server,
                                                    const char    *path);

/* Telemetry, in sonde-resolvix-telemetry.c. */
GBytes        *_sonde_resolvix_encode_telemetry    (SondeTickView *view,
                                                    const char    *node_id);
const char * const *_sonde_resolvix_list_catalog_metrics (void);
void           _sonde_resolvix_set_telemetry_running (SondeResolvix *self,
                                                      gboolean       running);
/* Moves every telemetry client to the group of the current node id and
 * interval (after either changed). */
void           _sonde_resolvix_regroup_telemetry   (SondeResolvix *self);
void           _sonde_resolvix_telemetry_register  (SondeServer   *server,
                                                    gpointer       state,
                                                    SoupServer    *soup_server,
                                                    const char    *path);

/* Control and status, in sonde-resolvix-control.c. */
/* The answer to a POST /control body and its status: 200 and the
 * command's answer (the command is carried out), or 400 and
 * {"error": "..."}. */
JsonObject    *_sonde_resolvix_control_answer      (SondeResolvix *self,
                                                    const char    *text,
                                                    gsize          length,
                                                    guint         *status);
void           _sonde_resolvix_add_status_members  (gpointer       state,
                                                    JsonObject    *status);
void           _sonde_resolvix_control_register    (SondeServer   *server,
                                                    gpointer       state,
                                                    SoupServer    *soup_server,
                                                    const char    *path);

G_END_DECLS
