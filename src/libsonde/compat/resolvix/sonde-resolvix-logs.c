/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "sonde-connection-private.h"
#include "sonde-json-private.h"
#include "sonde-resolvix-private.h"
#include "sonde-server-private.h"

/*
 * Live logs, on /ws/logs and on the compatibility listener on 8755 at
 * "/": one text frame per new line of a followed file,
 *   {"timestamp": "2024-01-15T10:30:45Z", "node_id": "web-1",
 *    "log_file": "/var/log/syslog", "line": "Jan 15 10:30:45 web-1 ..."}
 * The guide gives no format for them; this one reuses the telemetry
 * document's timestamp and node_id, the status' "log_file" key, and the
 * line as read, without its newline. Lines come from the `logs`
 * collector's `log_line` events; while the stream has clients (and is not
 * stopped with stop_livelogs), the collector is held at 1 s, which is how
 * often it polls its files.
 */

#define LOGS_COLLECTOR     "logs"
#define LOGS_POLL_MS       1000

/* Live logs -------------------------------------------------------------- */

typedef struct
{
  SondeResolvix   *state;
  SondeConnection *connection;
} LogsClient;

/* The logs collector is followed while somebody listens. */
static void
update_logs_hold (SondeResolvix *self)
{
  SondeEngine *engine = sonde_server_get_engine (self->server);
  gboolean wanted = self->livelogs_running && self->logs_clients->len > 0;

  if (wanted && self->logs_hold == 0)
    {
      g_autoptr(GError) error = NULL;

      self->logs_hold = sonde_engine_hold (engine, LOGS_COLLECTOR, LOGS_POLL_MS, &error);
      if (self->logs_hold == 0)
        g_debug ("Live logs have no source: %s", error->message);
    }
  else if (!wanted && self->logs_hold != 0)
    {
      sonde_engine_release (engine, self->logs_hold);
      self->logs_hold = 0;
    }
}

void
_sonde_resolvix_set_livelogs_running (SondeResolvix *self,
                                      gboolean       running)
{
  self->livelogs_running = running;
  update_logs_hold (self);
}

/* Built once per line, whatever the number of clients. */
static GBytes *
encode_log_line (SondeResolvix *self,
                 SondeEvent    *event)
{
  JsonObject *data;
  g_autoptr(JsonObject) frame = NULL;
  g_autofree char *timestamp = NULL;

  if (self->cached_event == event)
    return self->cached_frame;

  data = sonde_event_get_data (event);
  frame = json_object_new ();
  timestamp = _sonde_format_timestamp_seconds (sonde_event_get_timestamp (event));
  json_object_set_string_member (frame, "timestamp", timestamp);
  json_object_set_string_member (frame, "node_id", _sonde_resolvix_get_node_id (self));
  json_object_set_string_member (frame, "log_file",
                                 json_object_get_string_member_with_default (data, "file", ""));
  json_object_set_string_member (frame, "line",
                                 json_object_get_string_member_with_default (data, "line", ""));

  g_clear_pointer (&self->cached_event, sonde_event_unref);
  g_clear_pointer (&self->cached_frame, g_bytes_unref);
  self->cached_event = sonde_event_ref (event);
  self->cached_frame = _sonde_json_object_to_bytes (frame);
  return self->cached_frame;
}

/* Each line is encoded once, and only when somebody listens. */
void
_sonde_resolvix_logs_event (gpointer    state,
                            SondeEvent *event)
{
  SondeResolvix *self = state;
  GBytes *frame;

  if (!self->livelogs_running || self->logs_clients->len == 0 ||
      !g_str_equal (sonde_event_get_event_type (event), "log_line"))
    return;

  frame = encode_log_line (self, event);
  for (guint i = 0; i < self->logs_clients->len; i++)
    {
      LogsClient *client = g_ptr_array_index (self->logs_clients, i);

      _sonde_connection_send_stream (client->connection, frame);
    }
}

/* The stream takes no input: anything gets the error form, and the
 * stream goes on. */
static void
logs_message (gpointer               owner,
              SoupWebsocketDataType  type,
              GBytes                *message)
{
  LogsClient *self = owner;
  g_autoptr(GBytes) frame = _sonde_resolvix_error_frame ("The log stream takes no messages");

  _sonde_connection_send_control (self->connection, frame);
}

static void
logs_rate_limited (gpointer owner)
{
  LogsClient *self = owner;
  g_autoptr(GBytes) frame = _sonde_resolvix_error_frame ("Too many messages: some were dropped");

  _sonde_connection_send_control (self->connection, frame);
}

static void
logs_closed (gpointer owner)
{
  LogsClient *self = owner;

  _sonde_server_client_closed (self->state->server, self);
}

static const SondeConnectionCallbacks logs_callbacks = {
  .message = logs_message,
  .rate_limited = logs_rate_limited,
  .closed = logs_closed,
};

static gpointer
logs_accept (SondeServer             *server,
             gpointer                 format_state,
             SoupWebsocketConnection *websocket,
             const char              *route,
             GHashTable              *query)
{
  SondeResolvix *state = format_state;
  LogsClient *self = g_new0 (LogsClient, 1);

  self->state = state;
  self->connection = _sonde_connection_new (server, websocket, route, &logs_callbacks, self);

  g_ptr_array_add (state->logs_clients, self);
  update_logs_hold (state);
  return self;
}

static void
logs_free (gpointer client)
{
  LogsClient *self = client;
  SondeResolvix *state = self->state;

  g_ptr_array_remove_fast (state->logs_clients, self);
  update_logs_hold (state);

  _sonde_connection_free (self->connection);
  g_free (self);
}

/* Log lines reveal more than metrics. */
static const SondeClientOps logs_client_ops = {
  .accept = logs_accept,
  .free = logs_free,
  .sensitive = TRUE,
};

/* "/" is the compatibility listener's path (ws://NODE:8755): its port is
 * the one reported as livelogs' ws_port. */
void
_sonde_resolvix_logs_register (SondeServer *server,
                               gpointer     format_state,
                               SoupServer  *soup_server,
                               const char  *path)
{
  SondeResolvix *state = format_state;

  if (g_str_equal (path, "/"))
    g_ptr_array_add (state->logs_listeners, g_object_ref (soup_server));
  _sonde_server_add_websocket_route (server, soup_server, path, &logs_client_ops, state);
}
