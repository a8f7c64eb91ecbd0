/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "sonde-server-internal.h"

/* Who may talk to the server: the token every request must carry, and the
 * browser origins allowed to read this machine's metrics. The checks run
 * before any route, WebSocket handshakes included. */

/* Constant time in the length of @expected, so that timing does not
 * reveal how much of a guess was right. */
static gboolean
tokens_equal (const char *expected,
              const char *given)
{
  gsize expected_length = strlen (expected);
  gsize given_length = strlen (given);
  guchar diff = expected_length != given_length;

  for (gsize i = 0; i < expected_length; i++)
    diff |= (guchar) expected[i] ^ (guchar) (i < given_length ? given[i] : 0);

  return diff == 0;
}

static gboolean
request_has_token (SondeServer       *self,
                   SoupServerMessage *msg,
                   GHashTable        *query)
{
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  const char *authorization = soup_message_headers_get_one (headers, "Authorization");
  const char *given = query ? g_hash_table_lookup (query, "token") : NULL;

  if (authorization != NULL && g_ascii_strncasecmp (authorization, "Bearer ", 7) == 0)
    given = authorization + 7;

  return given != NULL && tokens_equal (self->token, given);
}

/* Runs once the headers are read, before any route (a WebSocket handshake
 * included): refused requests never reach a handler. */
static void
early_cb (SoupServer        *soup_server,
          SoupServerMessage *msg,
          const char        *path,
          GHashTable        *query,
          gpointer           user_data)
{
  SondeServer *self = user_data;
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  const char *origin = soup_message_headers_get_one (headers, "Origin");

  /* Browsers send Origin; a page from another site must not read the
   * metrics of this machine. Clients that send none are not browsers. */
  if (origin != NULL && self->allowed_origins != NULL &&
      !g_strv_contains ((const char * const *) self->allowed_origins, origin))
    {
      g_autofree char *message = g_strdup_printf ("Origin %s is not allowed", origin);
      _sonde_rest_respond_error (msg, SOUP_STATUS_FORBIDDEN, "forbidden_origin", message);
      return;
    }

  if (self->token != NULL && !request_has_token (self, msg, query))
    {
      soup_message_headers_replace (soup_server_message_get_response_headers (msg),
                                    "WWW-Authenticate", "Bearer");
      _sonde_rest_respond_error (msg, SOUP_STATUS_UNAUTHORIZED, "unauthorized",
                                 "A valid token is required (Authorization: Bearer TOKEN or ?token=TOKEN)");
    }
}

/* libsoup runs the early handler of the route a request resolves to, not
 * one for the whole server: every route gets the access checks. */
void
_sonde_server_guard_path (SondeServer *self,
                          SoupServer  *soup_server,
                          const char  *path)
{
  soup_server_add_early_handler (soup_server, path, early_cb, self, NULL);
}

/**
 * sonde_server_get_token:
 * @self: a #SondeServer
 *
 * Returns: (nullable): the token clients must present, or %NULL
 */
const char *
sonde_server_get_token (SondeServer *self)
{
  g_return_val_if_fail (SONDE_IS_SERVER (self), NULL);
  return self->token;
}

/**
 * sonde_server_set_token:
 * @self: a #SondeServer
 * @token: (nullable): a secret, or %NULL to let anyone in
 *
 * Requires every request, WebSocket handshakes included, to carry
 * `Authorization: Bearer TOKEN` or `?token=TOKEN`; others get 401 with
 * the error code `unauthorized`. Tokens are compared in constant time.
 */
void
sonde_server_set_token (SondeServer *self,
                        const char  *token)
{
  g_return_if_fail (SONDE_IS_SERVER (self));

  g_free (self->token);
  self->token = (token != NULL && *token != '\0') ? g_strdup (token) : NULL;
}

/**
 * sonde_server_get_allowed_origins:
 * @self: a #SondeServer
 *
 * Returns: (nullable) (array zero-terminated=1) (transfer none): the
 *   allowed Origin values, or %NULL when any origin is accepted
 */
const char * const *
sonde_server_get_allowed_origins (SondeServer *self)
{
  g_return_val_if_fail (SONDE_IS_SERVER (self), NULL);
  return (const char * const *) self->allowed_origins;
}

/**
 * sonde_server_set_allowed_origins:
 * @self: a #SondeServer
 * @origins: (nullable) (array zero-terminated=1): Origin values such as
 *   "https://dashboard.example.com", or %NULL to accept any
 *
 * Requests that carry an Origin header (browsers) must carry one of
 * @origins; others get 403 with the error code `forbidden_origin`.
 */
void
sonde_server_set_allowed_origins (SondeServer        *self,
                                  const char * const *origins)
{
  g_return_if_fail (SONDE_IS_SERVER (self));

  g_strfreev (self->allowed_origins);
  self->allowed_origins = g_strdupv ((char **) origins);
}
