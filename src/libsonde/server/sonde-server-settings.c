/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "sonde-error.h"
#include "sonde-format-private.h"
#include "sonde-server-object-private.h"

/* What a server lets in (the access checks of its routes, TLS, tokens,
 * hosts, origins, interval bounds) and how its formats are configured. */

void
_sonde_server_guard_path (SondeServer *self,
                          SoupServer  *soup_server,
                          const char  *path)
{
  _sonde_access_guard_path (self->access, soup_server, path, SONDE_ROUTE_READ);
}

void
_sonde_server_guard_sensitive_path (SondeServer *self,
                                    SoupServer  *soup_server,
                                    const char  *path)
{
  _sonde_access_guard_path (self->access, soup_server, path, SONDE_ROUTE_SENSITIVE);
}

int
_sonde_server_match_client_token (SoupWebsocketConnection *websocket,
                                  const char * const      *tokens)
{
  return _sonde_access_match_client_token (soup_websocket_connection_get_uri (websocket), tokens);
}

void
_sonde_server_guard_public_path (SondeServer          *self,
                                 SoupServer           *soup_server,
                                 const char           *path,
                                 SondeAccessPublicFunc is_public,
                                 gpointer              user_data,
                                 GDestroyNotify        destroy)
{
  _sonde_access_guard_public_path (self->access, soup_server, path, is_public, user_data, destroy);
}

/**
 * sonde_server_set_tls_certificate:
 * @self: a #SondeServer
 * @certificate: (nullable): a certificate with its private key, or %NULL
 *
 * Serves HTTPS and wss:// from the listeners opened afterwards.
 *
 * Since: 0.1
 */
void
sonde_server_set_tls_certificate (SondeServer     *self,
                                  GTlsCertificate *certificate)
{
  g_return_if_fail (SONDE_IS_SERVER (self));
  g_return_if_fail (certificate == NULL || G_IS_TLS_CERTIFICATE (certificate));

  g_set_object (&self->tls_certificate, certificate);
}

/**
 * sonde_server_get_interval_min:
 * @self: a #SondeServer
 *
 * Returns: the shortest interval clients may ask for, in milliseconds
 *
 * Since: 0.1
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
 *
 * Since: 0.1
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
 *
 * Since: 0.1
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
  _sonde_server_invalidate_formats (self);
  return TRUE;
}

/**
 * sonde_server_get_token:
 * @self: a #SondeServer
 *
 * Returns: (nullable): the token clients must present, or %NULL
 *
 * Since: 0.1
 */
const char *
sonde_server_get_token (SondeServer *self)
{
  g_return_val_if_fail (SONDE_IS_SERVER (self), NULL);
  return _sonde_access_get_token (self->access);
}

/**
 * sonde_server_set_token:
 * @self: a #SondeServer
 * @token: (nullable): a secret, or %NULL to let anyone in
 *
 * Requires every request, WebSocket handshakes included, to carry
 * `Authorization: Bearer TOKEN` or `?token=TOKEN`; others get 401 with
 * the error code `unauthorized`. Tokens are compared in constant time.
 *
 * Since: 0.1
 */
void
sonde_server_set_token (SondeServer *self,
                        const char  *token)
{
  g_return_if_fail (SONDE_IS_SERVER (self));
  _sonde_access_set_token (self->access, token);
}

/**
 * sonde_server_get_reads_need_token:
 * @self: a #SondeServer
 *
 * Returns: whether read-only routes (the metric streams, `GET` routes)
 *   need the token, when there is one
 *
 * Since: 0.2
 */
gboolean
sonde_server_get_reads_need_token (SondeServer *self)
{
  g_return_val_if_fail (SONDE_IS_SERVER (self), TRUE);
  return _sonde_access_get_token_for_reads (self->access);
}

/**
 * sonde_server_set_reads_need_token:
 * @self: a #SondeServer
 * @need_token: whether read-only routes need the token
 *
 * With a token set (sonde_server_set_token()), what reveals more than
 * metrics or changes state always needs it: log lines, command tasks,
 * any request other than `GET` and `HEAD`. The metric streams and the
 * `GET` routes need it too unless @need_token is %FALSE, so that the
 * clients of the replaced products, which send no token, keep reading
 * metrics. %TRUE by default. Routes whose clients present tokens of
 * their own (a hub's agents) ask for those instead, either way.
 *
 * Since: 0.2
 */
void
sonde_server_set_reads_need_token (SondeServer *self,
                                   gboolean     need_token)
{
  g_return_if_fail (SONDE_IS_SERVER (self));
  _sonde_access_set_token_for_reads (self->access, need_token);
}

/**
 * sonde_server_set_allowed_hosts:
 * @self: a #SondeServer
 * @hosts: (nullable) (array zero-terminated=1): host names, such as
 *   "monitor.example.com", or %NULL
 *
 * Every request's `Host` must name this server: a loopback name
 * (`localhost`, `127.0.0.1`, `[::1]`), an address it listens on (any of
 * the machine's when it listens on every interface, and then its host
 * name), or one of @hosts. Others get 421 with the error code
 * `misdirected_request`: a web page whose own name was made to resolve
 * to this machine (DNS rebinding) cannot read it.
 *
 * Since: 0.2
 */
void
sonde_server_set_allowed_hosts (SondeServer        *self,
                                const char * const *hosts)
{
  g_return_if_fail (SONDE_IS_SERVER (self));
  _sonde_access_set_allowed_hosts (self->access, hosts);
}

/**
 * sonde_server_get_allowed_origins:
 * @self: a #SondeServer
 *
 * Returns: (nullable) (array zero-terminated=1) (transfer none): the
 *   allowed Origin values, or %NULL when only loopback origins are
 *   accepted
 *
 * Since: 0.1
 */
const char * const *
sonde_server_get_allowed_origins (SondeServer *self)
{
  g_return_val_if_fail (SONDE_IS_SERVER (self), NULL);
  return _sonde_access_get_allowed_origins (self->access);
}

/**
 * sonde_server_set_allowed_origins:
 * @self: a #SondeServer
 * @origins: (nullable) (array zero-terminated=1): Origin values such as
 *   "https://dashboard.example.com", or %NULL for loopback origins only
 *
 * Requests that carry an Origin header (browsers) must carry one of
 * @origins, exactly; others get 403 with the error code
 * `forbidden_origin`. Without a list (the default), only pages served
 * from this machine are accepted: http or https on 127.0.0.1, localhost
 * or [::1], any port. Requests without an Origin header (clients that are
 * not browsers) are accepted either way.
 *
 * Since: 0.1
 */
void
sonde_server_set_allowed_origins (SondeServer        *self,
                                  const char * const *origins)
{
  g_return_if_fail (SONDE_IS_SERVER (self));
  _sonde_access_set_allowed_origins (self->access, origins);
}

/**
 * sonde_server_configure:
 * @self: a #SondeServer
 * @keyfile: a configuration, such as sonded's `sonde.conf`
 * @error: return location for a #GError
 *
 * Applies the groups of @keyfile that the server's formats read (see
 * sonde_server_handles_config_group()); other
 * groups are left to the caller. An unknown key or a bad value in one of
 * those groups is an error of %SONDE_ERROR_INVALID_ARGUMENT whose message
 * starts with "[group] key: ".
 *
 * Returns: %TRUE if the configuration was valid and applied
 *
 * Since: 0.2
 */
gboolean
sonde_server_configure (SondeServer  *self,
                        GKeyFile     *keyfile,
                        GError      **error)
{
  const SondeFormat * const *formats = _sonde_formats_get ();

  g_return_val_if_fail (SONDE_IS_SERVER (self), FALSE);
  g_return_val_if_fail (keyfile != NULL, FALSE);

  for (guint i = 0; formats[i] != NULL; i++)
    if (formats[i]->configure != NULL &&
        !formats[i]->configure (self->format_states[i], keyfile, error))
      return FALSE;

  return TRUE;
}

/**
 * sonde_server_handles_config_group:
 * @group: the name of a configuration group
 *
 * Returns: whether sonde_server_configure() reads @group
 *
 * Since: 0.2
 */
gboolean
sonde_server_handles_config_group (const char *group)
{
  const SondeFormat * const *formats = _sonde_formats_get ();

  g_return_val_if_fail (group != NULL, FALSE);

  for (guint i = 0; formats[i] != NULL; i++)
    for (guint j = 0; formats[i]->config_groups != NULL && formats[i]->config_groups[j] != NULL; j++)
      {
        const char *name = formats[i]->config_groups[j];

        /* "PREFIX *" stands for every group named "PREFIX SOMETHING". */
        if (g_str_has_suffix (name, " *")
            ? strncmp (group, name, strlen (name) - 1) == 0 && group[strlen (name) - 1] != '\0'
            : g_str_equal (name, group))
          return TRUE;
      }

  return FALSE;
}

/* The members every format adds to GET /status. */
void
_sonde_server_add_status_members (SondeServer *self,
                                  JsonObject  *status)
{
  const SondeFormat * const *formats = _sonde_formats_get ();

  for (guint i = 0; formats[i] != NULL; i++)
    if (formats[i]->add_status_members != NULL)
      formats[i]->add_status_members (self->format_states[i], status);
}
