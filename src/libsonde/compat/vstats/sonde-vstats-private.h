/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

#include "sonde-connection-private.h"
#include "sonde-format-private.h"
#include "sonde-hub-private.h"
#include "sonde-server.h"
#include "sonde-tick-view-private.h"

G_BEGIN_DECLS

/*
 * The vstats format: a hub that receives agents' metric reports and
 * serves dashboards the metrics of every host, this one included
 * (docs/formats/vstats.md). In eight files:
 *
 *   sonde-vstats.c            its entry in the format table, the state one
 *                             server keeps, the [hub] and [agent NAME]
 *                             settings, GET /status members, other hosts
 *                             for the REST routes and the native protocol
 *   sonde-vstats-report.c     the documents: a tick view as the agents'
 *                             report and as the dashboards' metrics; a
 *                             report as a native tick view
 *   sonde-vstats-check.c      an agent's report checked and made canonical
 *   sonde-vstats-servers.c    the servers the hub knows: identity, online
 *                             and offline, a short history each
 *   sonde-vstats-dashboard.c  dashboard clients (/ws)
 *   sonde-vstats-agents.c     agent connections (/ws/agent)
 *   sonde-vstats-agent.c      SondeAgent, the other end: sonded --agent-of;
 *   sonde-vstats-agent-link.c its connection to the hub, its buffer of
 *                             reports and their replay
 */

extern const SondeFormat _sonde_vstats_format;

#define SONDE_VSTATS_DEFAULT_OFFLINE_AFTER   30
#define SONDE_VSTATS_DEFAULT_REMOVE_AFTER    86400
#define SONDE_VSTATS_DEFAULT_HISTORY_SECONDS 300
#define SONDE_VSTATS_MAX_HISTORY_SECONDS     3600
/* Bounds the hub's memory whatever agents claim to be: a new identity
 * beyond it is refused. */
#define SONDE_VSTATS_MAX_SERVERS             10000
/* Each agent's reports: a burst, then a steady rate per second. Above
 * it a report is refused with an error. An agent replaying what it
 * buffered stays below (SondeAgent sends at most 8 a second). */
#define SONDE_VSTATS_REPORT_BURST            20
#define SONDE_VSTATS_REPORTS_PER_SECOND      12
/* The hub's WebSocket ping frames (the seed's 30 s). */
#define SONDE_VSTATS_PING_INTERVAL           30

/* The numeric metrics the hub records per server, by their native names
 * (what GET /api/v1/history?host= answers). */
enum
{
  VSTATS_H_CPU_USAGE,
  VSTATS_H_CPU_CORES,
  VSTATS_H_CPU_FREQUENCY,
  VSTATS_H_LOAD_1,
  VSTATS_H_LOAD_5,
  VSTATS_H_LOAD_15,
  VSTATS_H_MEM_TOTAL,
  VSTATS_H_MEM_USED,
  VSTATS_H_MEM_AVAILABLE,
  VSTATS_H_MEM_PERCENT,
  VSTATS_H_SWAP_TOTAL,
  VSTATS_H_SWAP_USED,
  VSTATS_H_DISK_PERCENT,
  VSTATS_H_NET_RX_RATE,
  VSTATS_H_NET_TX_RATE,
  VSTATS_H_NET_RX_TOTAL,
  VSTATS_H_NET_TX_TOTAL,
  VSTATS_H_UPTIME,
  VSTATS_N_HISTORY
};

extern const char * const _sonde_vstats_history_metrics[VSTATS_N_HISTORY + 1];

/* An agent's report, checked: what the hub keeps of it. */
typedef struct
{
  gint64      timestamp_us;
  char       *hostname;     /* NULL when the report has none */
  JsonObject *metrics;      /* the dashboards' shape, canonical */
  gboolean    has_rates;    /* network.rx and .tx came with it */
} SondeVstatsReport;

void        _sonde_vstats_report_clear          (SondeVstatsReport *report);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (SondeVstatsReport, _sonde_vstats_report_clear)

/* In sonde-vstats-report.c. */
const char *_sonde_vstats_get_local_id          (void);
char       *_sonde_vstats_make_agent_id         (const char        *name);
gboolean    _sonde_vstats_parse_timestamp       (const char        *text,
                                                 gint64            *timestamp_us);
/* What the format maps its fields to, for tests/test-formats.c. */
const char * const *_sonde_vstats_list_catalog_metrics (void);
/* The collectors a report is made of that @catalog has, for a filter. */
GStrv       _sonde_vstats_report_patterns       (SondeCatalog      *catalog);
/* The dashboards' `metrics` object of a tick of this host. */
JsonObject *_sonde_vstats_metrics_from_view     (SondeTickView     *view);
/* The hub group encoders: the seed's agent report
 * ({"type":"metrics","data":{...}}) of a tick, for SondeAgent, and this
 * host's dashboard `metrics` message. */
extern const SondeHubEncoding _sonde_vstats_report_encoding;
extern const SondeHubEncoding _sonde_vstats_local_metrics_encoding;
GBytes     *_sonde_vstats_encode_metrics        (const char        *server_id,
                                                 JsonObject        *metrics,
                                                 gint64             timestamp_us);
GBytes     *_sonde_vstats_encode_error          (const char        *message);
/* Sets the network rates of a report that came without them. */
void        _sonde_vstats_set_rates             (JsonObject        *metrics,
                                                 double             rx,
                                                 double             tx);
/* The values recorded in history; NAN for what the report lacks. */
void        _sonde_vstats_history_values        (JsonObject        *metrics,
                                                 double            *values);
/* A report as the engine would have sampled it: cpu, memory, disk,
 * network and host samples of native fields. */
SondeTickView *_sonde_vstats_metrics_to_view    (JsonObject        *metrics,
                                                 gint64             timestamp_us);

/* In sonde-vstats-check.c: an agent's WebSocket message, from its
 * text: a heartbeat, or a `metrics` report whose `data` is an object
 * (checked by _sonde_vstats_parse_report()). FALSE and the text of the
 * error frame for anything else. */
typedef struct
{
  gboolean    heartbeat;
  JsonObject *data;       /* a report's, or NULL */
} SondeVstatsAgentMessage;

gboolean    _sonde_vstats_read_agent_message    (SoupWebsocketDataType    type,
                                                 const char              *text,
                                                 gsize                    length,
                                                 SondeVstatsAgentMessage *message,
                                                 GError                 **error);
void        _sonde_vstats_agent_message_clear   (SondeVstatsAgentMessage *message);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (SondeVstatsAgentMessage, _sonde_vstats_agent_message_clear)

/* Checks @data, the `data` of an agent's
 * `metrics` message: types, ranges, lengths. Only what passed reaches
 * dashboards. */
gboolean    _sonde_vstats_parse_report          (JsonObject        *data,
                                                 SondeVstatsReport *report,
                                                 GError           **error);
/* A JSON integer or double (not a boolean, not a string). */
gboolean    _sonde_vstats_is_number             (JsonNode          *node);

/* In sonde-vstats-servers.c: one server the hub knows. */
typedef struct _SondeVstatsServer SondeVstatsServer;
typedef struct _SondeVstatsAgentClient SondeVstatsAgentClient;

struct _SondeVstatsServer
{
  char                   *id;
  char                   *name;
  char                   *location;
  gboolean                local;
  gboolean                online;
  gint64                  last_seen_us;   /* monotonic: last report or heartbeat */
  gint64                  latest_us;      /* wall clock of the latest report, or 0 */
  JsonObject             *latest;         /* its metrics, or NULL */
  SondeVstatsAgentClient *client;         /* the agent connected as it, or NULL */
  GBytes                 *added_frame;    /* server_added, built once */
  GBytes                 *status_frame;   /* the last status change */
  /* History: one slot per second, `history_seconds` of them. */
  guint                   history_length;
  guint32                *history_seconds;
  double                 *history_values; /* VSTATS_N_HISTORY per slot */
  guint8                 *history_derived; /* the slot's rates come from totals */
};

/* The state one server keeps for the format, given to every hook. */
typedef struct
{
  char *name;
  char *token;
  char *location;
} SondeVstatsNamedAgent;

typedef struct
{
  SondeServer       *server;           /* unowned: the state lives in it */

  /* [hub] and [agent NAME] */
  GPtrArray         *named_agents;     /* SondeVstatsNamedAgent */
  GStrv              tokens;           /* the named agents' in order, then [hub] agent-tokens */
  guint              offline_after;    /* seconds */
  guint              remove_after;
  guint              history_seconds;
  char              *location;         /* of this host */

  SondeVstatsServer *local;
  GHashTable        *servers;          /* id -> SondeVstatsServer, this host's included */
  GHashTable        *by_name;          /* name -> SondeVstatsServer, agents only */
  GPtrArray         *dashboards;       /* SondeVstatsDashboard, unowned */
  GPtrArray         *agents;           /* SondeVstatsAgentClient, unowned */
  GHashTable        *host_hubs;        /* server id -> SondeHub, for native clients */
  guint              housekeeping_source;
  guint              uncork_source;     /* see sonde-vstats-dashboard.c */

  /* For GET /status. */
  guint64            reports_accepted;
  guint64            reports_replayed;   /* older than the latest: history only */
  guint64            reports_duplicate;
  guint64            reports_rejected;
  guint64            reports_rate_limited;
  guint64            heartbeats;
  guint64            tokens_refused;
  guint64            agents_refused;     /* beyond SONDE_VSTATS_MAX_SERVERS */
} SondeVstats;

SondeVstatsServer *_sonde_vstats_server_new      (SondeVstats       *self,
                                                  const char        *id,
                                                  const char        *name,
                                                  const char        *location,
                                                  gboolean           local);
/* Finds or adds the agent named @name; NULL when the hub is full. */
SondeVstatsServer *_sonde_vstats_ensure_agent    (SondeVstats       *self,
                                                  const char        *name,
                                                  const char        *location);
void               _sonde_vstats_server_free     (SondeVstatsServer *server);
void               _sonde_vstats_server_set_location (SondeVstatsServer *server,
                                                  const char        *location);
GBytes            *_sonde_vstats_server_added_frame  (SondeVstatsServer *server);
GBytes            *_sonde_vstats_server_status_frame (SondeVstatsServer *server);
GBytes            *_sonde_vstats_encode_removed  (const char        *id);
/* A report or a heartbeat came: online again if it was not. */
void               _sonde_vstats_server_seen     (SondeVstats       *self,
                                                  SondeVstatsServer *server);
/* Takes @report's contents. */
void               _sonde_vstats_server_report   (SondeVstats       *self,
                                                  SondeVstatsServer *server,
                                                  SondeVstatsReport *report);
/* Offline after offline_after seconds of silence, removed after
 * remove_after; runs every second while there is anything to watch. */
void               _sonde_vstats_watch           (SondeVstats       *self);
/* In sonde-vstats.c: starts the watch if it does not run. */
void               _sonde_vstats_ensure_watching (SondeVstats       *self);
JsonArray         *_sonde_vstats_server_history  (SondeVstatsServer *server,
                                                  guint              metric,
                                                  guint              seconds);
SondeVstatsServer *_sonde_vstats_find_host       (SondeVstats       *self,
                                                  const char        *host);

/* In sonde-vstats-dashboard.c. */
void     _sonde_vstats_dashboard_register (SondeServer *server,
                                           gpointer     state,
                                           SoupServer  *soup_server,
                                           const char  *path);
/* The same bytes to every dashboard that is in step. */
void     _sonde_vstats_broadcast_metrics  (SondeVstats *self,
                                           GBytes      *frame);
/* What a dashboard was told of a server. */
typedef enum
{
  SONDE_VSTATS_TOLD_NOTHING,
  SONDE_VSTATS_TOLD_ADDED,
  SONDE_VSTATS_TOLD_OFFLINE,
  SONDE_VSTATS_TOLD_ONLINE,
} SondeVstatsTold;

/* A server_added, status or server_removed @frame, which tells
 * dashboards @told of @server_id: a dashboard that misses it catches up
 * from the hub's state. */
void     _sonde_vstats_broadcast_event    (SondeVstats     *self,
                                           GBytes          *frame,
                                           const char      *server_id,
                                           SondeVstatsTold  told);
void     _sonde_vstats_dashboards_resync  (SondeVstats *self);

/* In sonde-vstats-agents.c. */
void     _sonde_vstats_agents_register    (SondeServer *server,
                                           gpointer     state,
                                           SoupServer  *soup_server,
                                           const char  *path);
void     _sonde_vstats_agent_client_detach (SondeVstatsAgentClient *client);
void     _sonde_vstats_agent_client_close (SondeVstatsAgentClient *client,
                                           const char             *reason);

/* In sonde-vstats-agent-link.c: a SondeAgent's connection to its hub,
 * its buffer of reports and their replay. The agent sets url, token,
 * tls_database (through _sonde_vstats_link_set_tls_database()) and
 * buffer_size; the rest is the link's. */
typedef struct
{
  char                    *url;
  char                    *token;
  GTlsDatabase            *tls_database;
  guint                    buffer_size;
  /* Called when the connection comes or goes. */
  void                   (*connected_changed) (gpointer owner);
  gpointer                 owner;

  GQueue                   reports;          /* oldest first */
  SoupSession             *session;
  SoupWebsocketConnection *websocket;
  GCancellable            *cancellable;      /* of the connection attempt */
  guint                    reconnect_source;
  guint                    pump_source;
  guint                    check_source;
  guint                    backoff_ms;
  gint64                   last_heartbeat_us;
  double                   tokens;
  gint64                   tokens_updated_us;
  guint64                  n_dropped;
  gboolean                 running;
  gboolean                 hub_acks;         /* the hub acknowledged on this connection */
  gboolean                 hub_never_acks;   /* ... or it does not, ever */
  gboolean                 warned_full;
  gboolean                 was_connected;
  gboolean                 failure_logged;
  gulong                   message_handler;
  gulong                   closed_handler;
} SondeVstatsLink;

void     _sonde_vstats_link_init          (SondeVstatsLink  *self,
                                           void            (*connected_changed) (gpointer owner),
                                           gpointer          owner);
void     _sonde_vstats_link_clear         (SondeVstatsLink  *self);
/* Connects, and reconnects whenever the connection is lost, until
 * _sonde_vstats_link_stop(). */
void     _sonde_vstats_link_start         (SondeVstatsLink  *self);
void     _sonde_vstats_link_stop          (SondeVstatsLink  *self);
/* Buffers a `metrics` report, and sends it when it can. */
void     _sonde_vstats_link_push          (SondeVstatsLink  *self,
                                           GBytes           *frame);
/* Drops the oldest reports until at most @length are buffered. */
void     _sonde_vstats_link_trim          (SondeVstatsLink  *self,
                                           guint             length);
void     _sonde_vstats_link_set_tls_database (SondeVstatsLink *self,
                                           GTlsDatabase     *database);
/* The hub's URL with ?token=T&ack=1 added; NULL unless ws:// or wss://. */
GUri    *_sonde_vstats_link_build_uri     (SondeVstatsLink  *self,
                                           GError          **error);

G_END_DECLS
