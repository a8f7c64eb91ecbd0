/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "sonde-connection-private.h"
#include "sonde-format-private.h"
#include "sonde-json-private.h"
#include "sonde-resolvix-private.h"
#include "sonde-server-private.h"

/*
 * The resolvix node agent (seeds/resolvix-telemetry-guide.md): a
 * telemetry stream (sonde-resolvix-telemetry.c), a control API
 * (sonde-resolvix-control.c) and live log lines, here.
 *
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

#define RESOLVIX_STATE_KEY "sonde-resolvix"
#define LOGS_COLLECTOR     "logs"
#define LOGS_POLL_MS       1000

static void
resolvix_free (SondeResolvix *self)
{
  /* The clients are gone: sonde_server_disconnect() ran in dispose. */
  g_assert (self->telemetry_clients->len == 0);
  g_assert (self->logs_hold == 0);

  g_clear_pointer (&self->cached_event, sonde_event_unref);
  g_clear_pointer (&self->cached_frame, g_bytes_unref);
  g_ptr_array_unref (self->telemetry_clients);
  g_ptr_array_unref (self->waiting);
  g_ptr_array_unref (self->telemetry_listeners);
  g_ptr_array_unref (self->logs_listeners);
  g_free (self->node_id);
  g_free (self);
}

SondeResolvix *
_sonde_resolvix_get (SondeServer *server)
{
  SondeResolvix *self = g_object_get_data (G_OBJECT (server), RESOLVIX_STATE_KEY);

  if (self != NULL)
    return self;

  self = g_new0 (SondeResolvix, 1);
  self->server = server;
  self->interval = SONDE_RESOLVIX_DEFAULT_INTERVAL;
  self->telemetry_running = TRUE;
  self->livelogs_running = TRUE;
  self->telemetry_clients = g_ptr_array_new ();
  self->waiting = g_ptr_array_new ();
  self->telemetry_listeners = g_ptr_array_new_with_free_func (g_object_unref);
  self->logs_listeners = g_ptr_array_new_with_free_func (g_object_unref);
  g_object_set_data_full (G_OBJECT (server), RESOLVIX_STATE_KEY, self,
                          (GDestroyNotify) resolvix_free);
  return self;
}

const char *
_sonde_resolvix_get_node_id (SondeResolvix *self)
{
  return self->node_id != NULL ? self->node_id : g_get_host_name ();
}

void
_sonde_resolvix_set_node_id (SondeResolvix *self,
                             const char    *node_id)
{
  if (node_id != NULL && *node_id == '\0')
    node_id = NULL;
  if (g_strcmp0 (self->node_id, node_id) == 0)
    return;

  g_free (self->node_id);
  self->node_id = g_strdup (node_id);
  g_clear_pointer (&self->cached_event, sonde_event_unref);
  g_clear_pointer (&self->cached_frame, g_bytes_unref);
  _sonde_resolvix_regroup_telemetry (self);
}

void
_sonde_resolvix_set_interval (SondeResolvix *self,
                              guint          seconds)
{
  g_assert (seconds >= SONDE_RESOLVIX_MIN_INTERVAL && seconds <= SONDE_RESOLVIX_MAX_INTERVAL);

  if (self->interval == seconds)
    return;

  self->interval = seconds;
  _sonde_resolvix_regroup_telemetry (self);
}

guint
_sonde_resolvix_get_ws_port (SondeResolvix *self,
                             GPtrArray     *listeners)
{
  for (guint i = 0; i < listeners->len; i++)
    {
      GSList *uris = soup_server_get_uris (g_ptr_array_index (listeners, i));
      guint port = uris != NULL ? (guint) g_uri_get_port (uris->data) : 0;

      g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);
      if (port != 0)
        return port;
    }

  return sonde_server_get_port (self->server);
}

/* The error form of the resolvix streams and API, as a Flask service
 * answers: {"error": "..."}. */
GBytes *
_sonde_resolvix_error_frame (const char *message)
{
  g_autoptr(JsonObject) object = json_object_new ();

  json_object_set_string_member (object, "error", message);
  return _sonde_json_object_to_bytes (object);
}

/* Live logs -------------------------------------------------------------- */

typedef struct
{
  SondeServer     *server;
  SondeConnection *connection;
} LogsClient;

/* The logs collector is followed while somebody listens. */
static void
update_logs_hold (SondeResolvix *self)
{
  SondeEngine *engine = sonde_server_get_engine (self->server);
  gboolean wanted = self->livelogs_running && self->n_logs_clients > 0;

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

static void
logs_send_event (gpointer    client,
                 SondeEvent *event,
                 GBytes     *native_frame)
{
  LogsClient *self = client;
  SondeResolvix *state = _sonde_resolvix_get (self->server);

  if (!state->livelogs_running || !g_str_equal (sonde_event_get_event_type (event), "log_line"))
    return;

  _sonde_connection_send_stream (self->connection, encode_log_line (state, event));
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

  _sonde_server_client_closed (self->server, self);
}

static const SondeConnectionCallbacks logs_callbacks = {
  .message = logs_message,
  .rate_limited = logs_rate_limited,
  .closed = logs_closed,
};

static gpointer
logs_accept (SondeServer             *server,
             SoupWebsocketConnection *websocket,
             const char              *route,
             GHashTable              *query)
{
  SondeResolvix *state = _sonde_resolvix_get (server);
  LogsClient *self = g_new0 (LogsClient, 1);

  self->server = server;
  self->connection = _sonde_connection_new (server, websocket, route, &logs_callbacks, self);

  state->n_logs_clients++;
  update_logs_hold (state);
  return self;
}

static void
logs_free (gpointer client)
{
  LogsClient *self = client;
  SondeResolvix *state = _sonde_resolvix_get (self->server);

  g_assert (state->n_logs_clients > 0);
  state->n_logs_clients--;
  update_logs_hold (state);

  _sonde_connection_free (self->connection);
  g_free (self);
}

static const SondeDialect logs_dialect = {
  .name = "resolvix-logs",
  .accept = logs_accept,
  .free = logs_free,
  .send_event = logs_send_event,
};

/* "/" is the compatibility listener's path (ws://NODE:8755): its port is
 * the one reported as livelogs' ws_port. */
void
_sonde_resolvix_logs_register (SondeServer *server,
                               SoupServer  *soup_server,
                               const char  *path)
{
  SondeResolvix *state = _sonde_resolvix_get (server);

  if (g_str_equal (path, "/"))
    g_ptr_array_add (state->logs_listeners, g_object_ref (soup_server));
  _sonde_server_add_websocket_route (server, soup_server, path, &logs_dialect);
}
