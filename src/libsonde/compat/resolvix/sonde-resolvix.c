/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "sonde-json-private.h"
#include "sonde-resolvix-private.h"
#include "sonde-server-private.h"

/*
 * The resolvix node agent (docs/formats/resolvix.md): a telemetry stream
 * (sonde-resolvix-telemetry.c), live log lines (sonde-resolvix-logs.c)
 * and a control API with its status (sonde-resolvix-control.c). Here:
 * its entry in the format table, the state one server keeps for it and
 * its settings, the [resolvix] group of the configuration:
 *
 *   node-id             the node_id of documents, log lines and status;
 *                       default: the host name
 *   telemetry-interval  seconds between two telemetry documents, 1-3600;
 *                       default 60
 */

#define CONFIG_GROUP "resolvix"

static const char * const config_groups[] = { CONFIG_GROUP, NULL };
static const char * const config_keys[] = { "node-id", "telemetry-interval", NULL };

static gpointer
resolvix_state_new (SondeServer *server)
{
  SondeResolvix *self = g_new0 (SondeResolvix, 1);

  self->server = server;
  self->interval = SONDE_RESOLVIX_DEFAULT_INTERVAL;
  self->telemetry_running = TRUE;
  self->livelogs_running = TRUE;
  self->telemetry_clients = g_ptr_array_new ();
  self->logs_clients = g_ptr_array_new ();
  self->waiting = g_ptr_array_new ();
  self->telemetry_listeners = g_ptr_array_new_with_free_func (g_object_unref);
  self->logs_listeners = g_ptr_array_new_with_free_func (g_object_unref);
  return self;
}

static void
resolvix_state_free (gpointer state)
{
  SondeResolvix *self = state;

  /* The clients are gone: sonde_server_disconnect() ran in dispose. */
  g_assert (self->telemetry_clients->len == 0);
  g_assert (self->logs_clients->len == 0);
  g_assert (self->logs_hold == 0);

  g_clear_pointer (&self->cached_event, sonde_event_unref);
  g_clear_pointer (&self->cached_frame, g_bytes_unref);
  g_ptr_array_unref (self->telemetry_clients);
  g_ptr_array_unref (self->logs_clients);
  g_ptr_array_unref (self->waiting);
  g_ptr_array_unref (self->telemetry_listeners);
  g_ptr_array_unref (self->logs_listeners);
  g_free (self->node_id);
  g_free (self);
}

static gboolean
resolvix_configure (gpointer   state,
                    GKeyFile  *keyfile,
                    GError   **error)
{
  SondeResolvix *self = state;
  g_autofree char *node_id = NULL;
  guint interval = self->interval;

  if (!g_key_file_has_group (keyfile, CONFIG_GROUP))
    return TRUE;

  if (!_sonde_format_check_keys (keyfile, CONFIG_GROUP, config_keys, error) ||
      !_sonde_format_read_uint (keyfile, CONFIG_GROUP, "telemetry-interval",
                                SONDE_RESOLVIX_MIN_INTERVAL, SONDE_RESOLVIX_MAX_INTERVAL,
                                "%s is not a number of seconds (1-3600)", &interval, error))
    return FALSE;

  if (!_sonde_format_read_string (keyfile, CONFIG_GROUP, "node-id", &node_id, error))
    return FALSE;
  if (node_id != NULL)
    _sonde_resolvix_set_node_id (self, g_strstrip (node_id));
  _sonde_resolvix_set_interval (self, interval);
  return TRUE;
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
      guint port = _sonde_server_get_listener_port (self->server, g_ptr_array_index (listeners, i));

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

static const SondeFormatListener resolvix_listeners[] = {
  { "resolvix-telemetry", "/ws/telemetry", "/", 8756, _sonde_resolvix_telemetry_register },
  { "resolvix-logs", "/ws/logs", "/", 8755, _sonde_resolvix_logs_register },
  { "resolvix-control", "/control", "/", 8754, _sonde_resolvix_control_register },
  { NULL }
};

const SondeFormat _sonde_resolvix_format = {
  .name = "resolvix",
  .listeners = resolvix_listeners,
  .list_catalog_metrics = _sonde_resolvix_list_catalog_metrics,
  .config_groups = config_groups,
  .state_new = resolvix_state_new,
  .state_free = resolvix_state_free,
  .configure = resolvix_configure,
  .add_status_members = _sonde_resolvix_add_status_members,
  .event = _sonde_resolvix_logs_event,
};

/* Before sonde_server_configure() --------------------------------------- */

static SondeResolvix *
get_state (SondeServer *server)
{
  return _sonde_server_get_format_state (server, &_sonde_resolvix_format);
}

/**
 * sonde_server_get_node_id:
 * @self: a #SondeServer
 *
 * Returns: the name this machine gives itself in the resolvix telemetry
 *   and log streams and status: the `[resolvix] node-id` of
 *   sonde_server_configure(), else the host name
 *
 * Since: 0.1
 *
 * Deprecated: 0.2: Use sonde_server_configure() with `[resolvix] node-id`.
 */
const char *
sonde_server_get_node_id (SondeServer *self)
{
  g_return_val_if_fail (SONDE_IS_SERVER (self), NULL);
  return _sonde_resolvix_get_node_id (get_state (self));
}

/**
 * sonde_server_set_node_id:
 * @self: a #SondeServer
 * @node_id: (nullable): the `node_id` of the resolvix telemetry documents,
 *   log lines and status, such as "192.168.1.100"; %NULL or "" for the
 *   host name
 *
 * Applies from the next document on, to connected clients too.
 *
 * Since: 0.1
 *
 * Deprecated: 0.2: Use sonde_server_configure() with `[resolvix] node-id`.
 */
void
sonde_server_set_node_id (SondeServer *self,
                          const char  *node_id)
{
  g_return_if_fail (SONDE_IS_SERVER (self));
  _sonde_resolvix_set_node_id (get_state (self), node_id);
}

/**
 * sonde_server_get_telemetry_interval:
 * @self: a #SondeServer
 *
 * Returns: seconds between two resolvix telemetry documents
 *
 * Since: 0.1
 *
 * Deprecated: 0.2: Use sonde_server_configure() with
 *   `[resolvix] telemetry-interval`.
 */
guint
sonde_server_get_telemetry_interval (SondeServer *self)
{
  g_return_val_if_fail (SONDE_IS_SERVER (self), SONDE_RESOLVIX_DEFAULT_INTERVAL);
  return get_state (self)->interval;
}

/**
 * sonde_server_set_telemetry_interval:
 * @self: a #SondeServer
 * @seconds: seconds between two resolvix telemetry documents, 1-3600
 *   (60 by default)
 *
 * Sets how often the resolvix telemetry stream (`/ws/telemetry`, and its
 * compatibility listener) sends its document; connected clients follow
 * from the next multiple of @seconds on the wall clock. Every client also
 * gets a document as soon as it connects.
 *
 * Since: 0.1
 *
 * Deprecated: 0.2: Use sonde_server_configure() with
 *   `[resolvix] telemetry-interval`.
 */
void
sonde_server_set_telemetry_interval (SondeServer *self,
                                     guint        seconds)
{
  g_return_if_fail (SONDE_IS_SERVER (self));
  g_return_if_fail (seconds >= SONDE_RESOLVIX_MIN_INTERVAL && seconds <= SONDE_RESOLVIX_MAX_INTERVAL);

  _sonde_resolvix_set_interval (get_state (self), seconds);
}
