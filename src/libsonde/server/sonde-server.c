/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>
#include <sys/socket.h>

#include "sonde-connection-private.h"
#include "sonde-engine-private.h"
#include "sonde-error.h"
#include "sonde-listener-private.h"
#include "sonde-rest-private.h"
#include "sonde-server-access-private.h"
#include "sonde-server-object-private.h"
#include "sonde-server-private.h"

/**
 * SondeServer:
 *
 * Serves a #SondeEngine over HTTP and WebSocket with libsoup: the native
 * protocol at `/ws/v1`, the formats of the products Sonde replaces at
 * their own paths (and, with sonde_server_listen_compat(), at their own
 * ports), and `/status`, `/api/v1/catalog`, `/api/v1/snapshot` and
 * `/api/v1/history`.
 *
 * All WebSocket subscribers share one subscription manager: at each tick
 * every group's frame is serialised once and the same bytes are sent to
 * each member.
 *
 * Since: 0.1
 */

#define LISTEN_BACKLOG 4096



enum {
  PROP_0,
  PROP_ENGINE,
  PROP_PORT,
  PROP_N_CLIENTS,
  PROP_HEARTBEAT_INTERVAL,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

typedef struct
{
  const SondeClientOps *ops;
  gpointer              client;
} ServerClient;

typedef struct
{
  SondeServer          *server;
  const SondeClientOps *ops;
  gpointer              format_state;
  char                 *path;
} Route;

G_DEFINE_FINAL_TYPE (SondeServer, sonde_server, G_TYPE_OBJECT)

static void
server_client_free (ServerClient *entry)
{
  entry->ops->free (entry->client);
  g_free (entry);
}

static void
route_free (Route *route)
{
  g_free (route->path);
  g_free (route);
}

/* Formats cache what they build from the catalog and the settings. */
void
_sonde_server_invalidate_formats (SondeServer *self)
{
  const SondeFormat * const *formats = _sonde_formats_get ();

  for (guint i = 0; formats[i] != NULL; i++)
    if (formats[i]->invalidate != NULL)
      formats[i]->invalidate (self->format_states[i]);
}

static void
collectors_changed_cb (SondeEngine    *engine,
                       SondeCollector *collector,
                       SondeServer    *self)
{
  _sonde_server_invalidate_formats (self);
}

/* Each format passes events on to its clients, encoding each once. */
static void
engine_event_cb (SondeEngine *engine,
                 SondeEvent  *event,
                 SondeServer *self)
{
  const SondeFormat * const *formats = _sonde_formats_get ();

  for (guint i = 0; formats[i] != NULL; i++)
    if (formats[i]->event != NULL)
      formats[i]->event (self->format_states[i], event);
}

static void
request_started_cb (SoupServer        *server,
                    SoupServerMessage *msg,
                    SondeServer       *self)
{
  g_object_set_data_full (G_OBJECT (msg), "sonde-start-time",
                          g_memdup2 (&(gint64) { g_get_monotonic_time () }, sizeof (gint64)),
                          g_free);
}

static void
record_request (SondeServer       *self,
                SoupServerMessage *msg)
{
  gint64 *started = g_object_get_data (G_OBJECT (msg), "sonde-start-time");
  guint status = soup_server_message_get_status (msg);
  gboolean success = (status >= 200 && status < 400) || status == SOUP_STATUS_SWITCHING_PROTOCOLS;

  sonde_gateway_stats_record_request (sonde_engine_get_gateway_stats (self->engine), success,
                                      started ? g_get_monotonic_time () - *started : 0);
}

static void
request_finished_cb (SoupServer        *server,
                     SoupServerMessage *msg,
                     SondeServer       *self)
{
  /* A WebSocket upgrade never finishes as a request: it is counted when
   * the connection is accepted. */
  if (soup_server_message_get_status (msg) != SOUP_STATUS_SWITCHING_PROTOCOLS)
    record_request (self, msg);
}

void
_sonde_server_client_closed (SondeServer *self,
                             gpointer     client)
{
  for (guint i = 0; i < self->clients->len; i++)
    {
      ServerClient *entry = g_ptr_array_index (self->clients, i);

      if (entry->client == client)
        {
          g_ptr_array_remove_index_fast (self->clients, i);
          g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_CLIENTS]);
          return;
        }
    }
}

static GQuark
trusted_quark (void)
{
  return g_quark_from_static_string ("sonde-websocket-trusted");
}

/* Whether @websocket's handshake carried the token (or none is set): a
 * read-only stream is open without it, but what it may add that reveals
 * more (log lines) is not. */
gboolean
_sonde_server_websocket_is_trusted (SondeServer             *self,
                                    SoupWebsocketConnection *websocket)
{
  return g_object_get_qdata (G_OBJECT (websocket), trusted_quark ()) != NULL;
}

static void
websocket_cb (SoupServer              *soup_server,
              SoupServerMessage       *msg,
              const char              *path,
              SoupWebsocketConnection *connection,
              gpointer                 user_data)
{
  Route *route = user_data;
  SondeServer *self = route->server;
  GUri *uri = soup_server_message_get_uri (msg);
  const char *query_text = g_uri_get_query (uri);
  g_autoptr(GHashTable) query = NULL;
  ServerClient *entry;

  if (query_text != NULL)
    query = g_uri_parse_params (query_text, -1, "&", G_URI_PARAMS_NONE, NULL);

  record_request (self, msg);
  _sonde_admission_request_read (self->admission, soup_server_message_get_remote_address (msg), TRUE);
  if (_sonde_access_request_is_trusted (self->access, msg))
    g_object_set_qdata (G_OBJECT (connection), trusted_quark (), GINT_TO_POINTER (TRUE));
  _sonde_connection_limit_send_buffer (connection);

  entry = g_new0 (ServerClient, 1);
  entry->ops = route->ops;
  entry->client = route->ops->accept (self, route->format_state, connection, route->path, query);
  g_ptr_array_add (self->clients, entry);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_CLIENTS]);
}

void
_sonde_server_add_websocket_route (SondeServer          *self,
                                   SoupServer           *soup_server,
                                   const char           *path,
                                   const SondeClientOps *ops,
                                   gpointer              format_state)
{
  Route *route = g_new0 (Route, 1);

  route->server = self;
  route->ops = ops;
  route->format_state = format_state;
  route->path = g_strdup (path);
  g_ptr_array_add (self->routes, route);

  soup_server_add_websocket_handler (soup_server, path, NULL, NULL, websocket_cb, route, NULL);
  _sonde_access_guard_path (self->access, soup_server, path, ops->kind);
}

static void
sonde_server_dispose (GObject *object)
{
  SondeServer *self = SONDE_SERVER (object);

  sonde_server_disconnect (self);

  if (self->engine != NULL)
    {
      g_clear_signal_handler (&self->event_handler, self->engine);
      g_clear_signal_handler (&self->added_handler, self->engine);
      g_clear_signal_handler (&self->removed_handler, self->engine);
    }

  g_clear_object (&self->soup_server);

  G_OBJECT_CLASS (sonde_server_parent_class)->dispose (object);
}

static void
sonde_server_finalize (GObject *object)
{
  SondeServer *self = SONDE_SERVER (object);

  const SondeFormat * const *formats = _sonde_formats_get ();

  /* After dispose: the clients, which the states may list, are gone. */
  for (guint i = 0; self->format_states != NULL && formats[i] != NULL; i++)
    formats[i]->state_free (self->format_states[i]);
  g_clear_pointer (&self->format_states, g_free);

  g_clear_pointer (&self->clients, g_ptr_array_unref);
  g_clear_pointer (&self->routes, g_ptr_array_unref);
  g_clear_pointer (&self->compat_servers, g_ptr_array_unref);
  g_clear_pointer (&self->access, _sonde_access_free);
  g_clear_pointer (&self->listeners, g_ptr_array_unref);
  g_clear_pointer (&self->admission, _sonde_admission_unref);
  g_clear_object (&self->tls_certificate);
  g_clear_object (&self->engine);

  G_OBJECT_CLASS (sonde_server_parent_class)->finalize (object);
}

/* Its request read, a connection's deadline changes from the request's
 * to the response's. */
static void
request_read_cb (SoupServer        *server,
                 SoupServerMessage *msg,
                 SondeServer       *self)
{
  _sonde_admission_request_read (self->admission, soup_server_message_get_remote_address (msg), FALSE);
}

/* A SoupServer whose requests count in the gateway statistics. */
static SoupServer *
create_soup_server (SondeServer *self)
{
  SoupServer *soup_server = soup_server_new ("server-header", "sonde/" PACKAGE_VERSION " ", NULL);

  /* permessage-deflate inflates client frames without bound in libsoup
   * 3.2 (a 955 KB frame grew the daemon by 783 MB), and the stream's
   * frames are small: no extension is offered. */
  soup_server_remove_websocket_extension (soup_server, SOUP_TYPE_WEBSOCKET_EXTENSION_DEFLATE);

  g_signal_connect (soup_server, "request-started", G_CALLBACK (request_started_cb), self);
  g_signal_connect (soup_server, "request-read", G_CALLBACK (request_read_cb), self);
  g_signal_connect (soup_server, "request-finished", G_CALLBACK (request_finished_cb), self);
  return soup_server;
}

static void
sonde_server_constructed (GObject *object)
{
  SondeServer *self = SONDE_SERVER (object);
  const SondeFormat * const *formats;
  guint n_formats;

  G_OBJECT_CLASS (sonde_server_parent_class)->constructed (object);

  g_assert (self->engine != NULL);

  self->event_handler = g_signal_connect (self->engine, "event", G_CALLBACK (engine_event_cb), self);
  self->added_handler = g_signal_connect (self->engine, "collector-added",
                                          G_CALLBACK (collectors_changed_cb), self);
  self->removed_handler = g_signal_connect (self->engine, "collector-removed",
                                            G_CALLBACK (collectors_changed_cb), self);

  self->access = _sonde_access_new (sonde_engine_get_gateway_stats (self->engine));
  self->admission = _sonde_admission_new ();
  self->soup_server = create_soup_server (self);

  formats = _sonde_formats_get ();
  for (n_formats = 0; formats[n_formats] != NULL; n_formats++)
    ;
  self->format_states = g_new0 (gpointer, n_formats);
  for (guint i = 0; i < n_formats; i++)
    self->format_states[i] = formats[i]->state_new (self);

  /* The plain HTTP routes, "/" (the JSON 404 of paths without a route)
   * among them, then every format's routes on the main listener: a
   * format that serves "/" itself takes it over. */
  _sonde_rest_register (self, self->soup_server);
  for (guint i = 0; i < n_formats; i++)
    for (const SondeFormatListener *l = formats[i]->listeners; l->name != NULL; l++)
      if (l->main_path != NULL)
        l->register_routes (self, self->format_states[i], self->soup_server, l->main_path);
}

static void
sonde_server_get_property (GObject    *object,
                           guint       prop_id,
                           GValue     *value,
                           GParamSpec *pspec)
{
  SondeServer *self = SONDE_SERVER (object);

  switch (prop_id)
    {
    case PROP_ENGINE:
      g_value_set_object (value, self->engine);
      break;

    case PROP_PORT:
      g_value_set_uint (value, sonde_server_get_port (self));
      break;

    case PROP_N_CLIENTS:
      g_value_set_uint (value, sonde_server_get_n_clients (self));
      break;

    case PROP_HEARTBEAT_INTERVAL:
      g_value_set_uint (value, self->heartbeat_interval);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
sonde_server_set_property (GObject      *object,
                           guint         prop_id,
                           const GValue *value,
                           GParamSpec   *pspec)
{
  SondeServer *self = SONDE_SERVER (object);

  switch (prop_id)
    {
    case PROP_ENGINE:
      self->engine = g_value_dup_object (value);
      break;

    case PROP_HEARTBEAT_INTERVAL:
      sonde_server_set_heartbeat_interval (self, g_value_get_uint (value));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
sonde_server_class_init (SondeServerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->constructed = sonde_server_constructed;
  object_class->dispose = sonde_server_dispose;
  object_class->finalize = sonde_server_finalize;
  object_class->get_property = sonde_server_get_property;
  object_class->set_property = sonde_server_set_property;

  /**
   * SondeServer:engine:
   *
   * The engine whose collectors are served.
   *
   * Since: 0.1
   */
  properties[PROP_ENGINE] =
    g_param_spec_object ("engine", NULL, NULL,
                         SONDE_TYPE_ENGINE,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);

  /**
   * SondeServer:port:
   *
   * The TCP port listened on, or 0 before sonde_server_listen().
   *
   * Since: 0.1
   */
  properties[PROP_PORT] =
    g_param_spec_uint ("port", NULL, NULL,
                       0, G_MAXUINT16, 0,
                       G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * SondeServer:n-clients:
   *
   * The number of connected WebSocket clients.
   *
   * Since: 0.1
   */
  properties[PROP_N_CLIENTS] =
    g_param_spec_uint ("n-clients", NULL, NULL,
                       0, G_MAXUINT, 0,
                       G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * SondeServer:heartbeat-interval:
   *
   * Seconds of silence after which a WebSocket client gets a heartbeat.
   *
   * Since: 0.1
   */
  properties[PROP_HEARTBEAT_INTERVAL] =
    g_param_spec_uint ("heartbeat-interval", NULL, NULL,
                       1, 3600, 30,
                       G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
sonde_server_init (SondeServer *self)
{
  self->clients = g_ptr_array_new_with_free_func ((GDestroyNotify) server_client_free);
  self->routes = g_ptr_array_new_with_free_func ((GDestroyNotify) route_free);
  self->compat_servers = g_ptr_array_new_with_free_func (g_object_unref);
  self->listeners = g_ptr_array_new_with_free_func ((GDestroyNotify) _sonde_listener_free);
  self->heartbeat_interval = 30;
  self->interval_min_ms = SONDE_INTERVAL_MIN_MS;
  self->interval_max_ms = SONDE_INTERVAL_MAX_MS;
}

/**
 * sonde_server_new:
 * @engine: the engine to serve
 *
 * Returns: (transfer full): a new server, not yet listening
 *
 * Since: 0.1
 */
SondeServer *
sonde_server_new (SondeEngine *engine)
{
  g_return_val_if_fail (SONDE_IS_ENGINE (engine), NULL);

  return g_object_new (SONDE_TYPE_SERVER, "engine", engine, NULL);
}

/**
 * sonde_server_get_engine:
 * @self: a #SondeServer
 *
 * Returns: (transfer none): the engine being served
 *
 * Since: 0.1
 */
SondeEngine *
sonde_server_get_engine (SondeServer *self)
{
  g_return_val_if_fail (SONDE_IS_SERVER (self), NULL);
  return self->engine;
}

/**
 * sonde_server_listen:
 * @self: a #SondeServer
 * @address: (nullable): an IP address to listen on, or "localhost";
 *   %NULL means 127.0.0.1
 * @port: a TCP port, or 0 to pick a free one
 * @error: return location for a #GError
 *
 * Starts listening. Call it more than once to listen on several
 * addresses; sonde_server_get_port() tells which port was picked.
 *
 * Returns: %TRUE on success
 *
 * Since: 0.1
 */
static gboolean
listen_on (SondeServer  *self,
           SoupServer   *soup_server,
           const char   *address,
           guint         port,
           GError      **error)
{
  g_autoptr(GInetAddress) inet_address = NULL;
  g_autoptr(GSocketAddress) socket_address = NULL;
  g_autoptr(GSocket) listener = NULL;

  if (port > G_MAXUINT16)
    {
      g_set_error (error, SONDE_ERROR, SONDE_ERROR_INVALID_ARGUMENT,
                   "Port %u is out of range", port);
      return FALSE;
    }

  if (address == NULL || g_str_equal (address, "localhost"))
    address = "127.0.0.1";

  inet_address = g_inet_address_new_from_string (address);
  if (inet_address == NULL)
    {
      g_set_error (error, SONDE_ERROR, SONDE_ERROR_INVALID_ARGUMENT,
                   "'%s' is not an IP address", address);
      return FALSE;
    }

  socket_address = g_inet_socket_address_new (inet_address, port);

  /* libsoup's own listen() keeps a backlog of 10: a reconnect storm of
   * thousands of clients would see dropped SYNs and 1 s retries. The
   * kernel caps it at net.core.somaxconn (4096 since Linux 5.4): 10,000
   * handshakes at once finished in 18 s with 4096, and in 29 s with 1024,
   * 366 of them reset (tests/bench/README.md, "Reconnect storm"). */
  listener = g_socket_new (g_inet_address_get_family (inet_address), G_SOCKET_TYPE_STREAM,
                           G_SOCKET_PROTOCOL_TCP, error);
  if (listener == NULL)
    return FALSE;
  g_socket_set_option (listener, SOL_SOCKET, SO_REUSEADDR, TRUE, NULL);
  g_socket_set_listen_backlog (listener, LISTEN_BACKLOG);
  if (!g_socket_bind (listener, socket_address, TRUE, error) ||
      !g_socket_listen (listener, error))
    return FALSE;

  g_ptr_array_add (self->listeners,
                   _sonde_listener_new (listener, soup_server, self->tls_certificate, self->admission));
  _sonde_access_add_listen_address (self->access, inet_address);
  return TRUE;
}

/* The port of the first listener of @soup_server, or 0. */
guint
_sonde_server_get_listener_port (SondeServer *self,
                                 SoupServer  *soup_server)
{
  for (guint i = 0; i < self->listeners->len; i++)
    {
      SondeListener *listener = g_ptr_array_index (self->listeners, i);
      g_autoptr(GInetSocketAddress) address = NULL;

      if (_sonde_listener_get_soup_server (listener) != soup_server)
        continue;
      address = _sonde_listener_get_address (listener);
      if (address != NULL)
        return g_inet_socket_address_get_port (address);
    }

  return 0;
}

gboolean
sonde_server_listen (SondeServer  *self,
                     const char   *address,
                     guint         port,
                     GError      **error)
{
  g_return_val_if_fail (SONDE_IS_SERVER (self), FALSE);

  if (!listen_on (self, self->soup_server, address, port, error))
    return FALSE;

  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PORT]);
  return TRUE;
}

/**
 * sonde_server_listen_compat:
 * @self: a #SondeServer
 * @dialect: the name of a compatibility listener (`sonded --help` lists
 *   them)
 * @address: (nullable): an IP address, or %NULL for 127.0.0.1
 * @port: a TCP port, 0 to pick a free one, or
 *   sonde_server_get_compat_port()'s for the seed's own
 * @error: return location for a #GError
 *
 * Opens a listener that serves one replaced product's format at its own
 * path (a product's WebSocket path on the port it used), so that its
 * existing clients work unchanged.
 *
 * Returns: the port listened on, or 0 on error
 *
 * Since: 0.1
 */
guint
sonde_server_listen_compat (SondeServer  *self,
                            const char   *dialect,
                            const char   *address,
                            guint         port,
                            GError      **error)
{
  const SondeFormatListener *listener;
  const SondeFormat *format;
  g_autoptr(SoupServer) soup_server = NULL;
  guint ret;

  g_return_val_if_fail (SONDE_IS_SERVER (self), 0);
  g_return_val_if_fail (dialect != NULL, 0);

  listener = _sonde_formats_find_listener (dialect, &format);
  if (listener == NULL)
    {
      g_set_error (error, SONDE_ERROR, SONDE_ERROR_INVALID_ARGUMENT,
                   "No compatibility listener named '%s'", dialect);
      return 0;
    }

  soup_server = create_soup_server (self);
  listener->register_routes (self, _sonde_server_get_format_state (self, format),
                             soup_server, listener->compat_path);

  if (!listen_on (self, soup_server, address, port, error))
    return 0;

  ret = _sonde_server_get_listener_port (self, soup_server);
  g_ptr_array_add (self->compat_servers, g_steal_pointer (&soup_server));
  return ret;
}

/**
 * sonde_server_get_compat_port:
 * @dialect: a compatibility listener's name
 *
 * Returns: the port the replaced product listened on, or 0 for an
 *   unknown name
 *
 * Since: 0.1
 */
guint
sonde_server_get_compat_port (const char *dialect)
{
  const SondeFormatListener *listener;

  g_return_val_if_fail (dialect != NULL, 0);

  listener = _sonde_formats_find_listener (dialect, NULL);
  return listener ? listener->compat_port : 0;
}

/**
 * sonde_server_disconnect:
 * @self: a #SondeServer
 *
 * Closes every client connection and stops listening.
 *
 * Since: 0.1
 */
void
sonde_server_disconnect (SondeServer *self)
{
  g_return_if_fail (SONDE_IS_SERVER (self));

  while (self->clients != NULL && self->clients->len > 0)
    {
      /* Freeing a client closes its connection and leaves its groups. */
      ServerClient *entry = g_ptr_array_steal_index_fast (self->clients, self->clients->len - 1);

      server_client_free (entry);
    }

  /* No more accepts; then libsoup closes the connections it has. */
  if (self->listeners != NULL)
    g_ptr_array_set_size (self->listeners, 0);
  if (self->soup_server != NULL)
    soup_server_disconnect (self->soup_server);
  for (guint i = 0; self->compat_servers != NULL && i < self->compat_servers->len; i++)
    soup_server_disconnect (g_ptr_array_index (self->compat_servers, i));
}

/* The address of the main listener, or NULL. */
static GInetSocketAddress *
main_address (SondeServer *self)
{
  for (guint i = 0; self->listeners != NULL && i < self->listeners->len; i++)
    {
      SondeListener *listener = g_ptr_array_index (self->listeners, i);

      if (_sonde_listener_get_soup_server (listener) == self->soup_server)
        return _sonde_listener_get_address (listener);
    }

  return NULL;
}

/**
 * sonde_server_get_port:
 * @self: a #SondeServer
 *
 * Returns: the port listened on, or 0 if not listening
 *
 * Since: 0.1
 */
guint
sonde_server_get_port (SondeServer *self)
{
  g_autoptr(GInetSocketAddress) address = NULL;

  g_return_val_if_fail (SONDE_IS_SERVER (self), 0);

  address = main_address (self);
  return address ? g_inet_socket_address_get_port (address) : 0;
}

/**
 * sonde_server_get_uri:
 * @self: a #SondeServer
 *
 * Returns: (transfer full) (nullable): the WebSocket URL of the native
 *   protocol, such as `ws://127.0.0.1:54112/ws/v1`, or %NULL if not
 *   listening
 *
 * Since: 0.1
 */
char *
sonde_server_get_uri (SondeServer *self)
{
  g_autoptr(GInetSocketAddress) address = NULL;
  g_autofree char *host = NULL;
  const char *scheme;

  g_return_val_if_fail (SONDE_IS_SERVER (self), NULL);

  address = main_address (self);
  if (address == NULL)
    return NULL;

  host = g_inet_address_to_string (g_inet_socket_address_get_address (address));
  scheme = self->tls_certificate != NULL ? "wss" : "ws";
  if (strchr (host, ':') != NULL)
    return g_strdup_printf ("%s://[%s]:%u%s", scheme, host, g_inet_socket_address_get_port (address),
                            SONDE_NATIVE_PATH);
  return g_strdup_printf ("%s://%s:%u%s", scheme, host, g_inet_socket_address_get_port (address),
                          SONDE_NATIVE_PATH);
}

/**
 * sonde_server_get_n_clients:
 * @self: a #SondeServer
 *
 * Returns: the number of connected WebSocket clients
 *
 * Since: 0.1
 */
guint
sonde_server_get_n_clients (SondeServer *self)
{
  g_return_val_if_fail (SONDE_IS_SERVER (self), 0);
  return self->clients->len;
}

/**
 * sonde_server_get_heartbeat_interval:
 * @self: a #SondeServer
 *
 * Returns: seconds of silence before a heartbeat is sent
 *
 * Since: 0.1
 */
guint
sonde_server_get_heartbeat_interval (SondeServer *self)
{
  g_return_val_if_fail (SONDE_IS_SERVER (self), 30);
  return self->heartbeat_interval;
}

/**
 * sonde_server_set_heartbeat_interval:
 * @self: a #SondeServer
 * @seconds: seconds of silence before a heartbeat, 1-3600; applies to
 *   clients that connect from now on
 *
 * Since: 0.1
 */
void
sonde_server_set_heartbeat_interval (SondeServer *self,
                                     guint        seconds)
{
  g_return_if_fail (SONDE_IS_SERVER (self));
  g_return_if_fail (seconds >= 1 && seconds <= 3600);

  if (self->heartbeat_interval == seconds)
    return;

  self->heartbeat_interval = seconds;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_HEARTBEAT_INTERVAL]);
}

SondeHub *
_sonde_server_get_hub (SondeServer *self)
{
  return _sonde_engine_get_hub (self->engine);
}

/* The main listener's server, for tests that watch its requests. */
SoupServer *
_sonde_server_get_soup_server (SondeServer *self)
{
  return self->soup_server;
}

guint
_sonde_server_get_n_groups (SondeServer *self)
{
  return _sonde_hub_get_n_groups (_sonde_server_get_hub (self));
}

guint64
_sonde_server_get_n_encoded (SondeServer *self)
{
  return _sonde_hub_get_n_encoded (_sonde_server_get_hub (self));
}

gpointer
_sonde_server_get_format_state (SondeServer       *self,
                                const SondeFormat *format)
{
  const SondeFormat * const *formats = _sonde_formats_get ();

  for (guint i = 0; formats[i] != NULL; i++)
    if (formats[i] == format)
      return self->format_states[i];

  g_assert_not_reached ();
}
