/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "sonde-refusal-private.h"
#include "sonde-rest-private.h"
#include "sonde-server-access-private.h"

/* Who may talk to the server, and what they may send: the size of request
 * bodies, the token every request must carry, and the browser origins
 * allowed to read this machine's metrics. The checks run before any route,
 * WebSocket handshakes included. */

/* No route takes more: POST /control's commands are a few dozen bytes. */
#define MAX_REQUEST_BODY (64 * 1024)


struct _SondeAccess
{
  SondeGatewayStats *stats;            /* where refused requests are counted */
  char              *token;
  gboolean           token_for_reads;  /* read-only routes need it too */
  GStrv              allowed_origins;
  GStrv              allowed_hosts;    /* besides loopback names and local addresses */
  GPtrArray         *local_hosts;      /* the addresses listened on, as text */
  gboolean           any_address;      /* listening on 0.0.0.0 or :: */
};

/* What a route guards: read-only metrics, or more (log lines, commands,
 * state changes) that always needs the token when there is one. */
typedef struct
{
  SondeAccess *access;
  gboolean     sensitive;
} Guard;

/* Tokens ------------------------------------------------------------------ */

/* Constant time in the length of @expected, so that timing does not
 * reveal how much of a guess was right; @given may hold NUL bytes, which
 * then never match. */
static gboolean
tokens_equal (const char *expected,
              const char *given,
              gsize       given_length)
{
  gsize expected_length = strlen (expected);
  guchar diff = expected_length != given_length;

  for (gsize i = 0; i < expected_length; i++)
    diff |= (guchar) expected[i] ^ (guchar) (i < given_length ? given[i] : 0);

  return diff == 0;
}

static gboolean
is_websocket_upgrade (SoupServerMessage *msg)
{
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);

  return soup_message_headers_header_contains (headers, "Upgrade", "websocket");
}

/* The raw `token` of the query, percent-decoded with its length: the
 * decoded parameter table would end it at a %00. */
static GBytes *
query_token (SoupServerMessage *msg)
{
  const char *query = g_uri_get_query (soup_server_message_get_uri (msg));
  g_auto(GStrv) parts = NULL;

  if (query == NULL)
    return NULL;

  parts = g_strsplit (query, "&", -1);
  for (guint i = 0; parts[i] != NULL; i++)
    if (g_str_has_prefix (parts[i], "token="))
      return g_uri_unescape_bytes (parts[i] + strlen ("token="), -1, NULL, NULL);

  return NULL;
}

/* `Authorization: Bearer TOKEN` on any request; `?token=TOKEN` only on a
 * WebSocket handshake, which browsers cannot give headers: elsewhere a
 * token in the URL ends up in logs and histories. */
static gboolean
request_has_token (SondeAccess       *self,
                   SoupServerMessage *msg)
{
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  const char *authorization = soup_message_headers_get_one (headers, "Authorization");
  g_autoptr(GBytes) from_query = NULL;
  gconstpointer data;
  gsize length;

  if (authorization != NULL && g_ascii_strncasecmp (authorization, "Bearer ", 7) == 0)
    return tokens_equal (self->token, authorization + 7, strlen (authorization + 7));

  if (!is_websocket_upgrade (msg))
    return FALSE;

  from_query = query_token (msg);
  if (from_query == NULL)
    return FALSE;

  data = g_bytes_get_data (from_query, &length);
  return tokens_equal (self->token, data ? data : "", length);
}

static gboolean
needs_token (SondeAccess       *self,
             SoupServerMessage *msg,
             gboolean           sensitive)
{
  const char *method = soup_server_message_get_method (msg);
  gboolean reads = method == SOUP_METHOD_GET || method == SOUP_METHOD_HEAD;

  return self->token != NULL && (sensitive || !reads || self->token_for_reads);
}

/* GET, HEAD and OPTIONS take no body; the other methods up to
 * MAX_REQUEST_BODY, with a Content-Length: a chunked body's size is known
 * only once it has been read. Returns TRUE when the request was refused. */
static gboolean
refuse_body (SondeAccess       *self,
             SoupServerMessage *msg)
{
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  const char *method = soup_server_message_get_method (msg);
  gboolean takes_body = method != SOUP_METHOD_GET && method != SOUP_METHOD_HEAD &&
                        method != SOUP_METHOD_OPTIONS;
  goffset limit = takes_body ? MAX_REQUEST_BODY : 0;
  g_autofree char *message = NULL;

  switch (soup_message_headers_get_encoding (headers))
    {
    case SOUP_ENCODING_CHUNKED:
      if (takes_body)
        {
          _sonde_refuse_unread (msg, self->stats, SOUP_STATUS_LENGTH_REQUIRED, "length_required",
                         "A request body needs a Content-Length (chunked bodies are not accepted)");
          return TRUE;
        }
      break;

    case SOUP_ENCODING_CONTENT_LENGTH:
      if (soup_message_headers_get_content_length (headers) > limit)
        break;
      return FALSE;

    default:
      return FALSE;
    }

  if (takes_body)
    message = g_strdup_printf ("The request body is larger than %d bytes", MAX_REQUEST_BODY);
  else
    message = g_strdup_printf ("%s requests take no body", method);
  _sonde_refuse_unread (msg, self->stats, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE, "too_large", message);
  return TRUE;
}

/* Hosts and origins -------------------------------------------------------- */

/* The host of "host", "host:port" or "[v6]:port", lower case; NULL when
 * malformed. */
static char *
authority_host (const char *authority)
{
  const char *end;

  if (authority[0] == '[')
    {
      end = strchr (authority, ']');
      if (end == NULL || (end[1] != '\0' && end[1] != ':'))
        return NULL;
      return g_ascii_strdown (authority + 1, end - authority - 1);
    }

  end = strchr (authority, ':');
  if (end != NULL && strchr (end + 1, ':') != NULL)
    return NULL;
  return g_ascii_strdown (authority, end ? end - authority : -1);
}

static gboolean
is_loopback_host (const char *host)
{
  g_autoptr(GInetAddress) address = g_inet_address_new_from_string (host);

  if (address != NULL)
    return g_inet_address_get_is_loopback (address);
  return g_str_equal (host, "localhost") || g_str_has_suffix (host, ".localhost");
}

/* A Host header names this daemon: a loopback name, an address it
 * listens on, or a host the configuration allows. A page of another
 * site whose name was made to resolve to 127.0.0.1 (DNS rebinding) sends
 * its own name. */
static gboolean
host_allowed (SondeAccess *self,
              const char  *authority)
{
  g_autofree char *host = authority_host (authority);

  if (host == NULL || *host == '\0')
    return FALSE;
  if (is_loopback_host (host))
    return TRUE;
  if (self->allowed_hosts != NULL && g_strv_contains ((const char * const *) self->allowed_hosts, host))
    return TRUE;
  for (guint i = 0; i < self->local_hosts->len; i++)
    if (g_str_equal (g_ptr_array_index (self->local_hosts, i), host))
      return TRUE;
  /* On every interface, the machine's own name reaches it too. */
  return self->any_address && g_ascii_strcasecmp (host, g_get_host_name ()) == 0;
}

/* A page of the daemon itself: its origin's authority is the Host the
 * request was sent to. An origin is scheme://host[:port], nothing more. */
static gboolean
is_same_origin (const char *origin,
                const char *host_header)
{
  g_autoptr(GUri) uri = g_uri_parse (origin, G_URI_FLAGS_NONE, NULL);
  g_autofree char *origin_authority = NULL;
  const char *scheme;
  int default_port;

  if (uri == NULL || host_header == NULL)
    return FALSE;

  scheme = g_uri_get_scheme (uri);
  if (g_ascii_strcasecmp (scheme, "http") == 0)
    default_port = 80;
  else if (g_ascii_strcasecmp (scheme, "https") == 0)
    default_port = 443;
  else
    return FALSE;
  if (g_uri_get_userinfo (uri) != NULL || *g_uri_get_path (uri) != '\0' ||
      g_uri_get_query (uri) != NULL || g_uri_get_fragment (uri) != NULL ||
      g_uri_get_host (uri) == NULL)
    return FALSE;

  if (strchr (g_uri_get_host (uri), ':') != NULL)
    origin_authority = g_strdup_printf ("[%s]:%d", g_uri_get_host (uri),
                                        g_uri_get_port (uri) > 0 ? g_uri_get_port (uri) : default_port);
  else
    origin_authority = g_strdup_printf ("%s:%d", g_uri_get_host (uri),
                                        g_uri_get_port (uri) > 0 ? g_uri_get_port (uri) : default_port);

  /* The Host header omits a default port. */
  if (g_ascii_strcasecmp (origin_authority, host_header) == 0)
    return TRUE;
  if (strrchr (host_header, ':') == NULL || host_header[strlen (host_header) - 1] == ']')
    {
      g_autofree char *with_port = g_strdup_printf ("%s:%d", host_header, default_port);

      return g_ascii_strcasecmp (origin_authority, with_port) == 0;
    }
  return FALSE;
}

static gboolean
origin_allowed (SondeAccess *self,
                const char  *origin,
                const char  *host_header)
{
  /* Clients that send no Origin are not browsers. */
  if (origin == NULL)
    return TRUE;
  if (self->allowed_origins != NULL &&
      g_strv_contains ((const char * const *) self->allowed_origins, origin))
    return TRUE;
  return is_same_origin (origin, host_header);
}

/* Error texts quote what the client sent: short, and printable. */
static char *
quote_for_error (const char *text)
{
  g_autofree char *valid = g_utf8_make_valid (text, -1);
  GString *out = g_string_new (NULL);

  for (const char *p = valid; *p != '\0' && out->len < 80; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      if (g_unichar_iscntrl (c))
        g_string_append_c (out, '?');
      else
        g_string_append_unichar (out, c);
    }
  if (strlen (valid) > out->len)
    g_string_append (out, "...");
  return g_string_free (out, FALSE);
}

/* Runs once the headers are read, before any route (a WebSocket handshake
 * included) and before the body: refused requests never reach a handler. */
static void
early_cb (SoupServer        *soup_server,
          SoupServerMessage *msg,
          const char        *path,
          GHashTable        *query,
          gpointer           user_data)
{
  Guard *guard = user_data;
  SondeAccess *self = guard->access;
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  const char *origin = soup_message_headers_get_one (headers, "Origin");
  const char *host = soup_message_headers_get_one (headers, "Host");

  /* First, so that nothing is read of a body too large, whoever sends it. */
  if (refuse_body (self, msg))
    return;

  if (host != NULL && !host_allowed (self, host))
    {
      g_autofree char *quoted = quote_for_error (host);
      g_autofree char *message = g_strdup_printf ("This server is not %s", quoted);

      _sonde_rest_respond_error (msg, SOUP_STATUS_MISDIRECTED_REQUEST, "misdirected_request", message);
      return;
    }

  /* Browsers send Origin; a page from another site, or another page of
   * this machine, must not read its metrics nor send commands. */
  if (!origin_allowed (self, origin, host))
    {
      g_autofree char *quoted = quote_for_error (origin);
      g_autofree char *message = g_strdup_printf ("Origin %s is not allowed", quoted);

      _sonde_rest_respond_error (msg, SOUP_STATUS_FORBIDDEN, "forbidden_origin", message);
      return;
    }

  if (needs_token (self, msg, guard->sensitive) && !request_has_token (self, msg))
    {
      soup_message_headers_replace (soup_server_message_get_response_headers (msg),
                                    "WWW-Authenticate", "Bearer");
      _sonde_rest_respond_error (msg, SOUP_STATUS_UNAUTHORIZED, "unauthorized",
                                 "A valid token is required (Authorization: Bearer TOKEN; "
                                 "?token=TOKEN on WebSocket handshakes)");
    }
}

gboolean
_sonde_access_request_is_trusted (SondeAccess       *self,
                                  SoupServerMessage *msg)
{
  return self->token == NULL || request_has_token (self, msg);
}

/* What libsoup answers on a path without a route. */
static void
unrouted_cb (SoupServer        *soup_server,
             SoupServerMessage *msg,
             const char        *path,
             GHashTable        *query,
             gpointer           user_data)
{
  soup_server_message_set_status (msg, SOUP_STATUS_NOT_FOUND, NULL);
}

#define ROOT_GUARDED_KEY "sonde-root-guarded"

/* libsoup runs the early handler of the route a request resolves to, not
 * one for the whole server: every route gets the access checks. A path
 * with no route at all gets no early handler either, and libsoup would
 * read its body whole before answering 404: so "/" is guarded too, with a
 * 404 route unless someone registers their own there (before or after). */
static Guard *
guard_new (SondeAccess *access,
           gboolean     sensitive)
{
  Guard *guard = g_new0 (Guard, 1);

  guard->access = access;
  guard->sensitive = sensitive;
  return guard;
}

void
_sonde_access_guard_path (SondeAccess *self,
                          SoupServer  *soup_server,
                          const char  *path,
                          gboolean     sensitive)
{
  soup_server_add_early_handler (soup_server, path, early_cb, guard_new (self, sensitive), g_free);

  if (g_object_get_data (G_OBJECT (soup_server), ROOT_GUARDED_KEY) != NULL)
    return;
  g_object_set_data (G_OBJECT (soup_server), ROOT_GUARDED_KEY, GINT_TO_POINTER (TRUE));

  if (!g_str_equal (path, "/"))
    {
      soup_server_add_handler (soup_server, "/", unrouted_cb, NULL, NULL);
      soup_server_add_early_handler (soup_server, "/", early_cb, guard_new (self, FALSE), g_free);
    }
}

SondeAccess *
_sonde_access_new (SondeGatewayStats *stats)
{
  SondeAccess *self = g_new0 (SondeAccess, 1);

  self->stats = g_object_ref (stats);
  self->token_for_reads = TRUE;
  self->local_hosts = g_ptr_array_new_with_free_func (g_free);
  return self;
}

void
_sonde_access_free (SondeAccess *self)
{
  if (self == NULL)
    return;

  g_clear_object (&self->stats);
  g_free (self->token);
  g_strfreev (self->allowed_origins);
  g_strfreev (self->allowed_hosts);
  g_ptr_array_unref (self->local_hosts);
  g_free (self);
}

const char *
_sonde_access_get_token (SondeAccess *self)
{
  return self->token;
}

/* Tokens are compared in constant time; "" means none. */
void
_sonde_access_set_token (SondeAccess *self,
                         const char  *token)
{
  g_free (self->token);
  self->token = (token != NULL && *token != '\0') ? g_strdup (token) : NULL;
}

const char * const *
_sonde_access_get_allowed_origins (SondeAccess *self)
{
  return (const char * const *) self->allowed_origins;
}

void
_sonde_access_set_allowed_origins (SondeAccess        *self,
                                   const char * const *origins)
{
  g_strfreev (self->allowed_origins);
  self->allowed_origins = g_strdupv ((char **) origins);
}

gboolean
_sonde_access_get_token_for_reads (SondeAccess *self)
{
  return self->token_for_reads;
}

void
_sonde_access_set_token_for_reads (SondeAccess *self,
                                   gboolean     for_reads)
{
  self->token_for_reads = for_reads;
}

void
_sonde_access_set_allowed_hosts (SondeAccess        *self,
                                 const char * const *hosts)
{
  g_strfreev (self->allowed_hosts);
  self->allowed_hosts = NULL;
  if (hosts != NULL)
    {
      self->allowed_hosts = g_new0 (char *, g_strv_length ((char **) hosts) + 1);
      for (guint i = 0; hosts[i] != NULL; i++)
        self->allowed_hosts[i] = g_ascii_strdown (hosts[i], -1);
    }
}

/* The server listens on @address: requests may name it in their Host. */
void
_sonde_access_add_listen_address (SondeAccess  *self,
                                  GInetAddress *address)
{
  if (g_inet_address_get_is_any (address))
    {
      self->any_address = TRUE;
      return;
    }
  g_ptr_array_add (self->local_hosts, g_inet_address_to_string (address));
}
