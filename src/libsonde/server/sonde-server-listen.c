/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>
#include <sys/socket.h>

#include "sonde-error.h"
#include "sonde-server-object-private.h"

/* Where a server listens: the sockets of its main listener and of the
 * compatibility listeners, their port and URL, and closing them. */

#define LISTEN_BACKLOG 4096

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
gboolean
sonde_server_listen (SondeServer  *self,
                     const char   *address,
                     guint         port,
                     GError      **error)
{
  g_return_val_if_fail (SONDE_IS_SERVER (self), FALSE);

  if (!listen_on (self, self->soup_server, address, port, error))
    return FALSE;

  _sonde_server_notify_port (self);
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

  soup_server = _sonde_server_create_soup_server (self);
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

  _sonde_server_close_clients (self);

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
