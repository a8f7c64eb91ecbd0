/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <math.h>

#include "sonde-connection-private.h"
#include "sonde-engine-private.h"
#include "sonde-json-private.h"
#include "sonde-server-private.h"
#include "sonde-servercontrol-private.h"

/*
 * ServerControl 2050's WebSocket (docs/formats/servercontrol.md), at
 * /ws/servercontrol, and at "/" on its compatibility listener (8082):
 *
 *   {"type": "stats_update", "cpu": 45.2, "ram_used": 2048, "ram_total": 8192,
 *    "timestamp": 1734077566789}                       every wall-clock second
 *   {"type": "task_start", "task_id": "123", "command": "python app.py"}
 *   {"type": "task_output", "task_id": "123", "output": "...", "timestamp": ...}
 *   {"type": "task_complete", "task_id": "123", "exit_code": 0}
 *   {"type": "cpu_alert", "cpu": 94.5, "hostname": "server01",
 *    "message": "CPU usage exceeded 90%!", "timestamp": ...}
 *   {"type": "pong", "timestamp": ...}                  to {"type": "ping"}
 *
 * Timestamps are epoch milliseconds, RAM is in MiB (whole), cpu a
 * percentage to one decimal as psutil gives it. Every client gets the
 * same stats frame (one hub group) and the same bytes for each event,
 * encoded once. The product defined no error message; anything a client
 * sends that is not a ping gets {"type": "error", "message": ...,
 * "timestamp": ...}, which its clients ignore, and the connection stays
 * open.
 *
 * Here: the WebSocket clients, the format's entry in the table and its
 * state. The command tasks whose events it streams are
 * sonde-servercontrol-exec.c's, their routes sonde-servercontrol-routes.c's.
 */

#define BYTES_PER_MIB (1024 * 1024)
#define CPU_METRIC    "cpu.usage_percent"

/* What stats_update reads, as catalog metrics. */
static const char * const servercontrol_metrics[] = {
  CPU_METRIC, "memory.used_bytes", "memory.total_bytes", NULL
};

typedef struct
{
  SondeServercontrol *state;
  SondeConnection    *connection;
  SondeHubGroup      *group;
} ServercontrolClient;

/* psutil's one decimal. */
static double
round1 (double value)
{
  return round (value * 10.0) / 10.0;
}

static gint64
to_epoch_ms (gint64 timestamp_us)
{
  return timestamp_us / 1000;
}

static GBytes *
encode_error (const char *message)
{
  g_autoptr(JsonObject) frame = json_object_new ();

  json_object_set_string_member (frame, "type", "error");
  json_object_set_string_member (frame, "message", message);
  json_object_set_int_member (frame, "timestamp", to_epoch_ms (g_get_real_time ()));
  return _sonde_json_object_to_bytes (frame);
}

/* Stats ------------------------------------------------------------------- */

/* Why @collector has no @field at this tick, or NULL. */
static char *
collector_problem (SondeTickView *view,
                   const char    *collector,
                   const char    *field)
{
  const char *failure = _sonde_tick_view_get_failure (view, collector);
  const SondeTickEntry *entry = _sonde_tick_view_lookup (view, collector);

  if (failure != NULL)
    return g_strdup_printf ("Metric collection failed: %s: %s", collector, failure);
  if (entry == NULL || entry->sample == NULL || !sonde_sample_has_field (entry->sample, field))
    return g_strdup_printf ("Metric collection failed: %s: no %s sampled yet", collector, field);
  return NULL;
}

static GBytes *
servercontrol_encode (SondeHubGroup *group,
                      SondeTickView *view)
{
  g_autoptr(JsonObject) frame = NULL;
  g_autofree char *problem = NULL;
  SondeSample *cpu, *memory;

  problem = collector_problem (view, "cpu", "usage_percent");
  if (problem == NULL)
    problem = collector_problem (view, "memory", "used_bytes");
  if (problem == NULL)
    problem = collector_problem (view, "memory", "total_bytes");
  if (problem != NULL)
    return encode_error (problem);

  cpu = _sonde_tick_view_lookup (view, "cpu")->sample;
  memory = _sonde_tick_view_lookup (view, "memory")->sample;

  frame = json_object_new ();
  json_object_set_string_member (frame, "type", "stats_update");
  json_object_set_double_member (frame, "cpu", round1 (sonde_sample_get_double (cpu, "usage_percent")));
  json_object_set_int_member (frame, "ram_used", sonde_sample_get_int (memory, "used_bytes") / BYTES_PER_MIB);
  json_object_set_int_member (frame, "ram_total", sonde_sample_get_int (memory, "total_bytes") / BYTES_PER_MIB);
  json_object_set_int_member (frame, "timestamp", to_epoch_ms (_sonde_tick_view_get_timestamp (view)));
  return _sonde_json_object_to_bytes (frame);
}

static const SondeHubEncoding servercontrol_encoding = { "servercontrol", servercontrol_encode, NULL };

static void
servercontrol_send_cb (gpointer       member,
                       SondeHubGroup *group,
                       GBytes        *frame)
{
  ServercontrolClient *self = member;

  /* A slow client simply misses seconds: each frame is complete. */
  _sonde_connection_send_stream (self->connection, frame);
}

/* Events ------------------------------------------------------------------ */

/* "CPU usage exceeded 90%!", from the rule's threshold; a rule on the
 * low side ("comparison": "below") is not said to have exceeded it. */
static char *
alert_message (JsonObject *data)
{
  JsonNode *threshold = json_object_get_member (data, "threshold");
  const char *comparison = json_object_get_string_member_with_default (data, "comparison", "above");

  if (threshold != NULL && JSON_NODE_HOLDS_VALUE (threshold) &&
      (json_node_get_value_type (threshold) == G_TYPE_DOUBLE ||
       json_node_get_value_type (threshold) == G_TYPE_INT64))
    {
      char number[G_ASCII_DTOSTR_BUF_SIZE];

      g_ascii_formatd (number, sizeof number, "%g", json_node_get_double (threshold));
      if (g_strcmp0 (comparison, "below") == 0)
        return g_strdup_printf ("CPU usage fell below %s%%!", number);
      return g_strdup_printf ("CPU usage exceeded %s%%!", number);
    }

  return g_strdup (json_object_get_string_member_with_default (data, "message", "CPU usage is too high!"));
}

/* The alert engine's alerts on cpu.usage_percent are cpu_alert. */
static GBytes *
encode_cpu_alert (SondeEvent *event)
{
  JsonObject *data = sonde_event_get_data (event);
  g_autoptr(JsonObject) frame = NULL;
  g_autofree char *message = NULL;

  if (g_strcmp0 (json_object_get_string_member_with_default (data, "metric", NULL), CPU_METRIC) != 0)
    return NULL;

  message = alert_message (data);
  frame = json_object_new ();
  json_object_set_string_member (frame, "type", "cpu_alert");
  json_object_set_double_member (frame, "cpu", round1 (json_object_get_double_member_with_default (data, "value", 0.0)));
  json_object_set_string_member (frame, "hostname",
                                 json_object_get_string_member_with_default (data, "hostname", g_get_host_name ()));
  json_object_set_string_member (frame, "message", message);
  json_object_set_int_member (frame, "timestamp", to_epoch_ms (sonde_event_get_timestamp (event)));
  return _sonde_json_object_to_bytes (frame);
}

/* The frame of @event, or NULL when it has no servercontrol form. */
static GBytes *
encode_event (SondeEvent *event)
{
  const char *type = sonde_event_get_event_type (event);
  JsonObject *data = sonde_event_get_data (event);
  g_autoptr(JsonObject) frame = NULL;

  if (g_str_equal (type, "alert"))
    return encode_cpu_alert (event);

  if (!g_str_equal (type, "task_start") && !g_str_equal (type, "task_output") &&
      !g_str_equal (type, "task_complete"))
    return NULL;

  /* The product's members, in its order. */
  frame = json_object_new ();
  json_object_set_string_member (frame, "type", type);
  json_object_set_string_member (frame, "task_id", json_object_get_string_member_with_default (data, "task_id", ""));
  if (g_str_equal (type, "task_start"))
    json_object_set_string_member (frame, "command", json_object_get_string_member_with_default (data, "command", ""));
  else if (g_str_equal (type, "task_output"))
    {
      json_object_set_string_member (frame, "output", json_object_get_string_member_with_default (data, "output", ""));
      json_object_set_int_member (frame, "timestamp", to_epoch_ms (sonde_event_get_timestamp (event)));
    }
  else
    json_object_set_int_member (frame, "exit_code", json_object_get_int_member_with_default (data, "exit_code", -1));

  return _sonde_json_object_to_bytes (frame);
}

/* Each event is encoded once, and only when somebody listens; every
 * client gets the same bytes. */
static void
servercontrol_event (gpointer    state,
                     SondeEvent *event)
{
  SondeServercontrol *self = state;
  g_autoptr(GBytes) frame = NULL;

  if (self->clients->len == 0)
    return;

  frame = encode_event (event);
  if (frame == NULL)
    return;

  /* A client too slow to take a chunk misses it, as it misses a second
   * of stats: GET /exec/TASK_ID has the end of every task's output. */
  for (guint i = 0; i < self->clients->len; i++)
    {
      ServercontrolClient *client = g_ptr_array_index (self->clients, i);

      _sonde_connection_send_stream (client->connection, frame);
    }
}

/* Clients ------------------------------------------------------------------ */

static void
send_error (ServercontrolClient *self,
            const char          *message)
{
  g_autoptr(GBytes) frame = encode_error (message);

  _sonde_connection_send_control (self->connection, frame);
}

static void
servercontrol_message (gpointer               owner,
                       SoupWebsocketDataType  type,
                       GBytes                *message)
{
  ServercontrolClient *self = owner;
  g_autoptr(JsonObject) pong = NULL;
  g_autoptr(GBytes) frame = NULL;
  g_autofree char *refusal = NULL;
  gsize length;
  const char *text = g_bytes_get_data (message, &length);

  refusal = _sonde_servercontrol_parse_message (type, text, length);
  if (refusal != NULL)
    {
      send_error (self, refusal);
      return;
    }

  pong = json_object_new ();
  json_object_set_string_member (pong, "type", "pong");
  json_object_set_int_member (pong, "timestamp", to_epoch_ms (g_get_real_time ()));
  frame = _sonde_json_object_to_bytes (pong);
  _sonde_connection_send_control (self->connection, frame);
}

static void
servercontrol_rate_limited (gpointer owner)
{
  send_error (owner, "Too many messages: some were dropped");
}

static void
servercontrol_closed (gpointer owner)
{
  ServercontrolClient *self = owner;

  _sonde_server_client_closed (self->state->server, self);
}

static const SondeConnectionCallbacks servercontrol_callbacks = {
  .message = servercontrol_message,
  .rate_limited = servercontrol_rate_limited,
  .closed = servercontrol_closed,
};

static gpointer
servercontrol_accept (SondeServer             *server,
                      gpointer                 format_state,
                      SoupWebsocketConnection *websocket,
                      const char              *route,
                      GHashTable              *query)
{
  SondeEngine *engine = sonde_server_get_engine (server);
  ServercontrolClient *self = g_new0 (ServercontrolClient, 1);
  g_autoptr(GError) error = NULL;
  SondeFilter *filter;

  self->state = format_state;
  self->connection = _sonde_connection_new (server, websocket, route, &servercontrol_callbacks, self);

  filter = _sonde_filter_new (_sonde_engine_get_catalog (engine), servercontrol_metrics, &error);
  if (filter == NULL)
    {
      /* Without the cpu or memory collector: why, at once, then every
       * second (the encoder finds no sample), as ziggie does. */
      g_autofree char *detail = g_strdup_printf ("Metric collection failed: %s", error->message);

      send_error (self, detail);
      filter = _sonde_filter_new (_sonde_engine_get_catalog (engine), (const char * const []) { "*", NULL }, NULL);
    }

  self->group = _sonde_hub_join (_sonde_engine_get_hub (engine), &servercontrol_encoding, NULL,
                                 filter, 1000, NULL, servercontrol_send_cb, self);
  g_ptr_array_add (self->state->clients, self);
  return self;
}

static void
servercontrol_free (gpointer client)
{
  ServercontrolClient *self = client;

  g_ptr_array_remove_fast (self->state->clients, self);
  _sonde_hub_leave (_sonde_server_get_hub (self->state->server), self->group, self);
  _sonde_connection_free (self->connection);
  g_free (self);
}

static const SondeClientOps servercontrol_client_ops = {
  .accept = servercontrol_accept,
  .free = servercontrol_free,
};

/* The format ---------------------------------------------------------------- */

/* The WebSocket at @path; on the compatibility listener, POST and GET
 * /exec next to it, since the product's clients start their tasks on the
 * same port. The main listener gets /exec from the "exec" listener. */
static void
register_servercontrol (SondeServer *server,
                        gpointer     state,
                        SoupServer  *soup_server,
                        const char  *path)
{
  _sonde_server_add_websocket_route (server, soup_server, path, &servercontrol_client_ops, state);
  if (soup_server != _sonde_server_get_soup_server (server))
    _sonde_servercontrol_routes_register (state, soup_server);
}

static void
register_exec (SondeServer *server,
               gpointer     state,
               SoupServer  *soup_server,
               const char  *path)
{
  _sonde_servercontrol_routes_register (state, soup_server);
}

static const char * const *
list_servercontrol_metrics (void)
{
  return servercontrol_metrics;
}

static gpointer
servercontrol_state_new (SondeServer *server)
{
  SondeServercontrol *self = g_new0 (SondeServercontrol, 1);

  self->server = server;
  self->clients = g_ptr_array_new ();
  self->exec = _sonde_exec_new (server);
  return self;
}

static void
servercontrol_state_free (gpointer state)
{
  SondeServercontrol *self = state;

  /* The clients are gone: sonde_server_disconnect() ran in dispose. The
   * tasks still running are killed. */
  g_assert (self->clients->len == 0);

  _sonde_exec_free (self->exec);
  g_ptr_array_unref (self->clients);
  g_free (self);
}

static gboolean
servercontrol_configure (gpointer   state,
                         GKeyFile  *keyfile,
                         GError   **error)
{
  SondeServercontrol *self = state;

  return _sonde_exec_configure (self->exec, keyfile, error);
}

static const char * const config_groups[] = { SONDE_EXEC_CONFIG_GROUP, NULL };

static const SondeFormatListener servercontrol_listeners[] = {
  { "servercontrol", "/ws/servercontrol", "/", 8082, register_servercontrol },
  /* POST /exec on the main listener; the compatibility listener has its
   * own, from register_servercontrol(). */
  { "exec", "/exec", NULL, 0, register_exec },
  { NULL }
};

const SondeFormat _sonde_servercontrol_format = {
  .name = "servercontrol",
  .listeners = servercontrol_listeners,
  .list_catalog_metrics = list_servercontrol_metrics,
  .config_groups = config_groups,
  .state_new = servercontrol_state_new,
  .state_free = servercontrol_state_free,
  .configure = servercontrol_configure,
  .event = servercontrol_event,
};
