/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>
#include <sys/socket.h>

#include "sonde-connection-private.h"
#include "sonde-format-private.h"
#include "sonde-engine-private.h"
#include "sonde-error.h"
#include "sonde-json-private.h"
#include "sonde-native-frames-private.h"
#include "sonde-resolvix-private.h"
#include "sonde-server-internal.h"

/**
 * SondeServer:
 *
 * Serves a #SondeEngine over HTTP and WebSocket with libsoup: the native
 * protocol at `/ws/v1`, and `/status`, `/api/v1/catalog` and
 * `/api/v1/snapshot`.
 *
 * All WebSocket subscribers share one subscription manager: at each tick
 * every group's frame is serialised once and the same bytes are sent to
 * each member.
 */

#define NATIVE_ROUTE "/ws/v1"
#define LISTEN_BACKLOG 1024


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
  const SondeDialect *dialect;
  gpointer            client;
} ServerClient;

typedef struct
{
  SondeServer        *server;
  const SondeDialect *dialect;
  char               *path;
} Route;

G_DEFINE_FINAL_TYPE (SondeServer, sonde_server, G_TYPE_OBJECT)

static void
server_client_free (ServerClient *entry)
{
  entry->dialect->free (entry->client);
  g_free (entry);
}

static void
route_free (Route *route)
{
  g_free (route->path);
  g_free (route);
}

static void
invalidate_catalog (SondeServer *self)
{
  g_clear_pointer (&self->catalog_frame, g_bytes_unref);
  g_clear_pointer (&self->hello_frame, g_bytes_unref);
}

static void
collectors_changed_cb (SondeEngine    *engine,
                       SondeCollector *collector,
                       SondeServer    *self)
{
  invalidate_catalog (self);
}

static void
engine_event_cb (SondeEngine *engine,
                 SondeEvent  *event,
                 SondeServer *self)
{
  g_autoptr(GBytes) frame = NULL;

  /* Serialised once, whatever the number of listeners. */
  for (guint i = 0; i < self->clients->len; i++)
    {
      ServerClient *entry = g_ptr_array_index (self->clients, i);

      if (entry->dialect->send_event == NULL)
        continue;
      if (frame == NULL)
        frame = _sonde_native_encode_event (event);
      entry->dialect->send_event (entry->client, event, frame);
    }
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
  _sonde_connection_limit_send_buffer (connection);

  entry = g_new0 (ServerClient, 1);
  entry->dialect = route->dialect;
  entry->client = route->dialect->accept (self, connection, route->path, query);
  g_ptr_array_add (self->clients, entry);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_CLIENTS]);
}

void
_sonde_server_add_websocket_route (SondeServer        *self,
                                   SoupServer         *soup_server,
                                   const char         *path,
                                   const SondeDialect *dialect)
{
  Route *route = g_new0 (Route, 1);

  route->server = self;
  route->dialect = dialect;
  route->path = g_strdup (path);
  g_ptr_array_add (self->routes, route);

  soup_server_add_websocket_handler (soup_server, path, NULL, NULL, websocket_cb, route, NULL);
  _sonde_server_guard_path (self, soup_server, path);
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
  g_clear_object (&self->engine);
  invalidate_catalog (self);

  G_OBJECT_CLASS (sonde_server_parent_class)->dispose (object);
}

static void
sonde_server_finalize (GObject *object)
{
  SondeServer *self = SONDE_SERVER (object);

  g_clear_pointer (&self->clients, g_ptr_array_unref);
  g_clear_pointer (&self->routes, g_ptr_array_unref);
  g_clear_pointer (&self->compat_servers, g_ptr_array_unref);
  g_clear_pointer (&self->token, g_free);
  g_clear_pointer (&self->allowed_origins, g_strfreev);

  G_OBJECT_CLASS (sonde_server_parent_class)->finalize (object);
}

/* A SoupServer whose requests count in the gateway statistics. */
static SoupServer *
create_soup_server (SondeServer *self)
{
  SoupServer *soup_server = soup_server_new ("server-header", "sonde/" PACKAGE_VERSION " ", NULL);

  g_signal_connect (soup_server, "request-started", G_CALLBACK (request_started_cb), self);
  g_signal_connect (soup_server, "request-finished", G_CALLBACK (request_finished_cb), self);
  return soup_server;
}

static void
sonde_server_constructed (GObject *object)
{
  SondeServer *self = SONDE_SERVER (object);

  G_OBJECT_CLASS (sonde_server_parent_class)->constructed (object);

  g_assert (self->engine != NULL);

  self->event_handler = g_signal_connect (self->engine, "event", G_CALLBACK (engine_event_cb), self);
  self->added_handler = g_signal_connect (self->engine, "collector-added",
                                          G_CALLBACK (collectors_changed_cb), self);
  self->removed_handler = g_signal_connect (self->engine, "collector-removed",
                                            G_CALLBACK (collectors_changed_cb), self);

  self->soup_server = create_soup_server (self);
  _sonde_server_add_websocket_route (self, self->soup_server, NATIVE_ROUTE, &_sonde_native_dialect);
  for (guint i = 0; i < _sonde_n_dialect_routes; i++)
    if (_sonde_dialect_routes[i].main_path != NULL)
      _sonde_dialect_routes[i].register_routes (self, self->soup_server, _sonde_dialect_routes[i].main_path);
  _sonde_rest_register (self, self->soup_server);
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
   */
  properties[PROP_ENGINE] =
    g_param_spec_object ("engine", NULL, NULL,
                         SONDE_TYPE_ENGINE,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);

  /**
   * SondeServer:port:
   *
   * The TCP port listened on, or 0 before sonde_server_listen().
   */
  properties[PROP_PORT] =
    g_param_spec_uint ("port", NULL, NULL,
                       0, G_MAXUINT16, 0,
                       G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * SondeServer:n-clients:
   *
   * The number of connected WebSocket clients.
   */
  properties[PROP_N_CLIENTS] =
    g_param_spec_uint ("n-clients", NULL, NULL,
                       0, G_MAXUINT, 0,
                       G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * SondeServer:heartbeat-interval:
   *
   * Seconds of silence after which a WebSocket client gets a heartbeat.
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
  self->heartbeat_interval = 30;
  self->interval_min_ms = SONDE_INTERVAL_MIN_MS;
  self->interval_max_ms = SONDE_INTERVAL_MAX_MS;
}

/**
 * sonde_server_new:
 * @engine: the engine to serve
 *
 * Returns: (transfer full): a new server, not yet listening
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
   * thousands of clients would see dropped SYNs and 1 s retries. */
  listener = g_socket_new (g_inet_address_get_family (inet_address), G_SOCKET_TYPE_STREAM,
                           G_SOCKET_PROTOCOL_TCP, error);
  if (listener == NULL)
    return FALSE;
  g_socket_set_option (listener, SOL_SOCKET, SO_REUSEADDR, TRUE, NULL);
  g_socket_set_listen_backlog (listener, LISTEN_BACKLOG);
  if (!g_socket_bind (listener, socket_address, TRUE, error) ||
      !g_socket_listen (listener, error))
    return FALSE;

  return soup_server_listen_socket (soup_server, listener,
                                    self->tls ? SOUP_SERVER_LISTEN_HTTPS : 0, error);
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
 * @dialect: a compatibility listener: "kairos", "resolvix-telemetry",
 *   "resolvix-logs", "resolvix-control" or "ziggie"
 * @address: (nullable): an IP address, or %NULL for 127.0.0.1
 * @port: a TCP port, 0 to pick a free one, or
 *   sonde_server_get_compat_port()'s for the seed's own
 * @error: return location for a #GError
 *
 * Opens a listener that serves one replaced product's format at its own
 * path (such as kairos at `/ws/metrics` on port 5900), so that its
 * existing clients work unchanged.
 *
 * Returns: the port listened on, or 0 on error
 */
guint
sonde_server_listen_compat (SondeServer  *self,
                            const char   *dialect,
                            const char   *address,
                            guint         port,
                            GError      **error)
{
  const SondeDialectRoute *route;
  g_autoptr(SoupServer) soup_server = NULL;
  g_autoptr(GSList) uris = NULL;
  guint ret;

  g_return_val_if_fail (SONDE_IS_SERVER (self), 0);
  g_return_val_if_fail (dialect != NULL, 0);

  route = _sonde_dialect_route_lookup (dialect);
  if (route == NULL)
    {
      g_set_error (error, SONDE_ERROR, SONDE_ERROR_INVALID_ARGUMENT,
                   "No compatibility listener named '%s'", dialect);
      return 0;
    }

  soup_server = create_soup_server (self);
  g_object_set (soup_server, "tls-certificate",
                soup_server_get_tls_certificate (self->soup_server), NULL);
  route->register_routes (self, soup_server, route->compat_path);

  if (!listen_on (self, soup_server, address, port, error))
    return 0;

  uris = soup_server_get_uris (soup_server);
  ret = uris ? g_uri_get_port (uris->data) : 0;
  g_slist_free_full (g_steal_pointer (&uris), (GDestroyNotify) g_uri_unref);

  g_ptr_array_add (self->compat_servers, g_steal_pointer (&soup_server));
  return ret;
}

/**
 * sonde_server_get_compat_port:
 * @dialect: a compatibility listener's name
 *
 * Returns: the port the replaced product listened on, or 0 for an
 *   unknown name
 */
guint
sonde_server_get_compat_port (const char *dialect)
{
  const SondeDialectRoute *route;

  g_return_val_if_fail (dialect != NULL, 0);

  route = _sonde_dialect_route_lookup (dialect);
  return route ? route->compat_port : 0;
}

/**
 * sonde_server_disconnect:
 * @self: a #SondeServer
 *
 * Closes every client connection and stops listening.
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

  if (self->soup_server != NULL)
    soup_server_disconnect (self->soup_server);
  for (guint i = 0; self->compat_servers != NULL && i < self->compat_servers->len; i++)
    soup_server_disconnect (g_ptr_array_index (self->compat_servers, i));
}

static GUri *
first_uri (SondeServer *self)
{
  g_autoptr(GSList) uris = NULL;
  GUri *ret = NULL;

  if (self->soup_server == NULL)
    return NULL;

  uris = soup_server_get_uris (self->soup_server);
  if (uris != NULL)
    ret = g_uri_ref (uris->data);
  g_slist_free_full (g_steal_pointer (&uris), (GDestroyNotify) g_uri_unref);
  return ret;
}

/**
 * sonde_server_get_port:
 * @self: a #SondeServer
 *
 * Returns: the port listened on, or 0 if not listening
 */
guint
sonde_server_get_port (SondeServer *self)
{
  g_autoptr(GUri) uri = NULL;

  g_return_val_if_fail (SONDE_IS_SERVER (self), 0);

  uri = first_uri (self);
  return uri ? (guint) g_uri_get_port (uri) : 0;
}

/**
 * sonde_server_get_uri:
 * @self: a #SondeServer
 *
 * Returns: (transfer full) (nullable): the WebSocket URL of the native
 *   protocol, such as `ws://127.0.0.1:54112/ws/v1`, or %NULL if not
 *   listening
 */
char *
sonde_server_get_uri (SondeServer *self)
{
  g_autoptr(GUri) uri = NULL;
  const char *host;

  g_return_val_if_fail (SONDE_IS_SERVER (self), NULL);

  uri = first_uri (self);
  if (uri == NULL)
    return NULL;

  host = g_uri_get_host (uri);
  if (strchr (host, ':') != NULL)
    return g_strdup_printf ("%s://[%s]:%d%s", self->tls ? "wss" : "ws", host,
                            g_uri_get_port (uri), NATIVE_ROUTE);
  return g_strdup_printf ("%s://%s:%d%s", self->tls ? "wss" : "ws", host,
                          g_uri_get_port (uri), NATIVE_ROUTE);
}

/**
 * sonde_server_get_n_clients:
 * @self: a #SondeServer
 *
 * Returns: the number of connected WebSocket clients
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

/* Returns: (transfer none) */
GBytes *
_sonde_server_get_catalog_frame (SondeServer *self)
{
  if (self->catalog_frame == NULL)
    {
      g_autoptr(JsonObject) catalog = _sonde_native_build_catalog (self->engine);
      g_autoptr(JsonObject) frame = json_object_new ();

      json_object_set_string_member (frame, "type", "catalog");
      json_object_set_array_member (frame, "metrics",
                                    json_array_ref (json_object_get_array_member (catalog, "metrics")));
      self->catalog_frame = _sonde_json_object_to_bytes (frame);
    }

  return self->catalog_frame;
}

/* Returns: (transfer none) */
GBytes *
_sonde_server_get_hello_frame (SondeServer *self)
{
  if (self->hello_frame == NULL)
    self->hello_frame = _sonde_native_encode_hello (self->engine, self->interval_min_ms,
                                                    self->interval_max_ms);

  return self->hello_frame;
}

guint
_sonde_server_get_n_groups (SondeServer *self)
{
  return _sonde_hub_get_n_groups (_sonde_engine_get_hub (self->engine));
}

/**
 * sonde_server_set_tls_certificate:
 * @self: a #SondeServer
 * @certificate: (nullable): a certificate with its private key, or %NULL
 *
 * Serves HTTPS and wss:// from the listeners opened afterwards.
 */
void
sonde_server_set_tls_certificate (SondeServer     *self,
                                  GTlsCertificate *certificate)
{
  g_return_if_fail (SONDE_IS_SERVER (self));
  g_return_if_fail (certificate == NULL || G_IS_TLS_CERTIFICATE (certificate));

  g_object_set (self->soup_server, "tls-certificate", certificate, NULL);
  self->tls = certificate != NULL;
}

/**
 * sonde_server_get_interval_min:
 * @self: a #SondeServer
 *
 * Returns: the shortest interval clients may ask for, in milliseconds
 */
guint
sonde_server_get_interval_min (SondeServer *self)
{
  g_return_val_if_fail (SONDE_IS_SERVER (self), SONDE_INTERVAL_MIN_MS);
  return self->interval_min_ms;
}

/**
 * sonde_server_get_interval_max:
 * @self: a #SondeServer
 *
 * Returns: the longest interval clients may ask for, in milliseconds
 */
guint
sonde_server_get_interval_max (SondeServer *self)
{
  g_return_val_if_fail (SONDE_IS_SERVER (self), SONDE_INTERVAL_MAX_MS);
  return self->interval_max_ms;
}

/**
 * sonde_server_set_interval_bounds:
 * @self: a #SondeServer
 * @min_ms: the shortest interval clients may ask for
 * @max_ms: the longest interval clients may ask for
 * @error: return location for a #GError
 *
 * Narrows the intervals clients may subscribe at, within
 * %SONDE_INTERVAL_MIN_MS and %SONDE_INTERVAL_MAX_MS: a busy server may
 * refuse to sample faster than once a second.
 *
 * Returns: %TRUE if the bounds were valid and applied
 */
gboolean
sonde_server_set_interval_bounds (SondeServer  *self,
                                  guint         min_ms,
                                  guint         max_ms,
                                  GError      **error)
{
  g_return_val_if_fail (SONDE_IS_SERVER (self), FALSE);

  if (min_ms < SONDE_INTERVAL_MIN_MS || max_ms > SONDE_INTERVAL_MAX_MS || min_ms > max_ms)
    {
      g_set_error (error, SONDE_ERROR, SONDE_ERROR_INVALID_ARGUMENT,
                   "Interval bounds %u-%u ms are not within %u-%u ms",
                   min_ms, max_ms, SONDE_INTERVAL_MIN_MS, SONDE_INTERVAL_MAX_MS);
      return FALSE;
    }

  self->interval_min_ms = min_ms;
  self->interval_max_ms = max_ms;
  g_clear_pointer (&self->hello_frame, g_bytes_unref);
  return TRUE;
}

/**
 * sonde_server_get_node_id:
 * @self: a #SondeServer
 *
 * Returns: the name this machine gives itself in the resolvix telemetry
 *   and log streams and status: the one set with
 *   sonde_server_set_node_id(), else the host name
 */
const char *
sonde_server_get_node_id (SondeServer *self)
{
  g_return_val_if_fail (SONDE_IS_SERVER (self), NULL);
  return _sonde_resolvix_get_node_id (_sonde_resolvix_get (self));
}

/**
 * sonde_server_set_node_id:
 * @self: a #SondeServer
 * @node_id: (nullable): the `node_id` of the resolvix telemetry documents,
 *   log lines and status, such as "192.168.1.100"; %NULL or "" for the
 *   host name
 *
 * Applies from the next document on, to connected clients too.
 */
void
sonde_server_set_node_id (SondeServer *self,
                          const char  *node_id)
{
  g_return_if_fail (SONDE_IS_SERVER (self));
  _sonde_resolvix_set_node_id (_sonde_resolvix_get (self), node_id);
}

/**
 * sonde_server_get_telemetry_interval:
 * @self: a #SondeServer
 *
 * Returns: seconds between two resolvix telemetry documents
 */
guint
sonde_server_get_telemetry_interval (SondeServer *self)
{
  g_return_val_if_fail (SONDE_IS_SERVER (self), SONDE_RESOLVIX_DEFAULT_INTERVAL);
  return _sonde_resolvix_get (self)->interval;
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
 */
void
sonde_server_set_telemetry_interval (SondeServer *self,
                                     guint        seconds)
{
  g_return_if_fail (SONDE_IS_SERVER (self));
  g_return_if_fail (seconds >= SONDE_RESOLVIX_MIN_INTERVAL && seconds <= SONDE_RESOLVIX_MAX_INTERVAL);

  _sonde_resolvix_set_interval (_sonde_resolvix_get (self), seconds);
}
