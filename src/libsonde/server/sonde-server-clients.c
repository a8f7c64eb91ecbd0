/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "sonde-connection-private.h"
#include "sonde-server-object-private.h"

/* Who talks to a server: the WebSocket clients of every format, the
 * routes that accept them, and the count of every request in the
 * gateway statistics. */

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

/* The lists sonde_server_init() needs, whose entries only this file knows. */
void
_sonde_server_init_clients (SondeServer *self)
{
  self->clients = g_ptr_array_new_with_free_func ((GDestroyNotify) server_client_free);
  self->routes = g_ptr_array_new_with_free_func ((GDestroyNotify) route_free);
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
SoupServer *
_sonde_server_create_soup_server (SondeServer *self)
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

void
_sonde_server_close_clients (SondeServer *self)
{
  while (self->clients != NULL && self->clients->len > 0)
    {
      /* Freeing a client closes its connection and leaves its groups. */
      ServerClient *entry = g_ptr_array_steal_index_fast (self->clients, self->clients->len - 1);

      server_client_free (entry);
    }
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
          _sonde_server_notify_n_clients (self);
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
  _sonde_server_notify_n_clients (self);
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
