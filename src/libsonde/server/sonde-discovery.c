/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "sonde-format-private.h"
#include "sonde-discovery.h"
#include "sonde-discovery-private.h"
#include "sonde-error.h"
#include "sonde-json-private.h"
#include "sonde-version.h"

/**
 * SondeDiscovery:
 *
 * A UDP responder that lets clients on the network find a #SondeServer:
 * it answers a probe datagram (exactly `SONDE_DISCOVER`, or the JSON
 * `{"type":"discover"}`) with
 * `{"type":"announce","hostname":…,"ws_port":…,"formats":["native",…],
 * "version":…,"tls":…}`, sent to the probe's source address and port
 * only.
 *
 * It is built so that it cannot be turned into an amplifier or a log
 * flood: datagrams over %SONDE_DISCOVERY_MAX_DATAGRAM bytes and anything
 * that is not a probe get no reply; replies are limited to
 * #SondeDiscovery:max-replies-per-second overall; and ignored or refused
 * datagrams are logged at most once every 30 seconds, as a count. It runs on the thread-default main context of the caller of
 * sonde_discovery_start().
 */

/* Datagrams read per wakeup at most, so that a flood cannot keep the main
 * context from serving anything else. */
#define MAX_DATAGRAMS_PER_WAKEUP 64
/* The least time between two log lines about ignored datagrams. */
#define IGNORED_LOG_INTERVAL_S 30

struct _SondeDiscovery
{
  GObject       parent_instance;

  SondeServer  *server;
  GSocket      *socket;
  GSource      *source;
  guint         port;
  guint         max_replies;

  double        tokens;           /* replies that may be sent right now */
  gint64        refilled_us;      /* monotonic time of the last refill */

  guint64       n_answered;
  guint64       n_ignored;
  guint64       n_limited;

  /* Rate-limited logging of what was not answered. */
  gint64        logged_us;        /* monotonic; 0: never */
  guint         unlogged_ignored;
  guint         unlogged_limited;
};

enum {
  PROP_0,
  PROP_SERVER,
  PROP_PORT,
  PROP_MAX_REPLIES_PER_SECOND,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

G_DEFINE_FINAL_TYPE (SondeDiscovery, sonde_discovery, G_TYPE_OBJECT)

static void
sonde_discovery_dispose (GObject *object)
{
  SondeDiscovery *self = SONDE_DISCOVERY (object);

  sonde_discovery_stop (self);
  g_clear_object (&self->server);

  G_OBJECT_CLASS (sonde_discovery_parent_class)->dispose (object);
}

static void
sonde_discovery_get_property (GObject    *object,
                              guint       prop_id,
                              GValue     *value,
                              GParamSpec *pspec)
{
  SondeDiscovery *self = SONDE_DISCOVERY (object);

  switch (prop_id)
    {
    case PROP_SERVER:
      g_value_set_object (value, self->server);
      break;

    case PROP_PORT:
      g_value_set_uint (value, self->port);
      break;

    case PROP_MAX_REPLIES_PER_SECOND:
      g_value_set_uint (value, self->max_replies);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
sonde_discovery_set_property (GObject      *object,
                              guint         prop_id,
                              const GValue *value,
                              GParamSpec   *pspec)
{
  SondeDiscovery *self = SONDE_DISCOVERY (object);

  switch (prop_id)
    {
    case PROP_SERVER:
      self->server = g_value_dup_object (value);
      break;

    case PROP_MAX_REPLIES_PER_SECOND:
      sonde_discovery_set_max_replies (self, g_value_get_uint (value));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
sonde_discovery_class_init (SondeDiscoveryClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = sonde_discovery_dispose;
  object_class->get_property = sonde_discovery_get_property;
  object_class->set_property = sonde_discovery_set_property;

  /**
   * SondeDiscovery:server:
   *
   * The server whose port, formats and TLS are announced.
   */
  properties[PROP_SERVER] =
    g_param_spec_object ("server", NULL, NULL,
                         SONDE_TYPE_SERVER,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);

  /**
   * SondeDiscovery:port:
   *
   * The UDP port answered on, while started; 0 otherwise.
   */
  properties[PROP_PORT] =
    g_param_spec_uint ("port", NULL, NULL,
                       0, G_MAXUINT16, 0,
                       G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * SondeDiscovery:max-replies-per-second:
   *
   * How many probes are answered per second at most, from all senders
   * together (a burst of that many, then that many a second); the others
   * are dropped.
   */
  properties[PROP_MAX_REPLIES_PER_SECOND] =
    g_param_spec_uint ("max-replies-per-second", NULL, NULL,
                       1, 1000, SONDE_DISCOVERY_DEFAULT_MAX_REPLIES,
                       G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
sonde_discovery_init (SondeDiscovery *self)
{
  self->max_replies = SONDE_DISCOVERY_DEFAULT_MAX_REPLIES;
  self->tokens = self->max_replies;
}

/**
 * sonde_discovery_new:
 * @server: the server to announce
 *
 * Returns: (transfer full): a new, stopped #SondeDiscovery
 */
SondeDiscovery *
sonde_discovery_new (SondeServer *server)
{
  g_return_val_if_fail (SONDE_IS_SERVER (server), NULL);

  return g_object_new (SONDE_TYPE_DISCOVERY, "server", server, NULL);
}

/**
 * sonde_discovery_get_server:
 * @self: a #SondeDiscovery
 *
 * Returns: (transfer none): the announced server
 */
SondeServer *
sonde_discovery_get_server (SondeDiscovery *self)
{
  g_return_val_if_fail (SONDE_IS_DISCOVERY (self), NULL);
  return self->server;
}

/* The announce --------------------------------------------------------- */

/* Every format of the format table, by name: "native", "kairos"... */
static JsonArray *
build_formats (void)
{
  const SondeFormat * const *table = _sonde_formats_get ();
  JsonArray *formats = json_array_new ();

  for (guint i = 0; table[i] != NULL; i++)
    json_array_add_string_element (formats, table[i]->name);

  return formats;
}

static GBytes *
build_announce (SondeDiscovery *self)
{
  g_autoptr(JsonObject) announce = json_object_new ();
  g_autofree char *uri = sonde_server_get_uri (self->server);

  json_object_set_string_member (announce, "type", "announce");
  json_object_set_string_member (announce, "hostname", g_get_host_name ());
  json_object_set_int_member (announce, "ws_port", sonde_server_get_port (self->server));
  json_object_set_array_member (announce, "formats", build_formats ());
  json_object_set_string_member (announce, "version", SONDE_VERSION_S);
  json_object_set_boolean_member (announce, "tls", uri != NULL && g_str_has_prefix (uri, "wss:"));

  return _sonde_json_object_to_bytes (announce);
}

/**
 * sonde_discovery_build_announce:
 * @self: a #SondeDiscovery
 *
 * Returns: (transfer full): the JSON text sent in answer to a probe
 */
char *
sonde_discovery_build_announce (SondeDiscovery *self)
{
  g_autoptr(GBytes) bytes = NULL;
  gsize length;
  const char *data;

  g_return_val_if_fail (SONDE_IS_DISCOVERY (self), NULL);

  bytes = build_announce (self);
  data = g_bytes_get_data (bytes, &length);
  return g_strndup (data, length);
}

/* Probes --------------------------------------------------------------- */

gboolean
_sonde_discovery_is_probe (const char *data,
                           gsize       length)
{
  g_autoptr(JsonNode) root = NULL;
  const char *type;

  if (length == strlen (SONDE_DISCOVERY_PROBE) &&
      memcmp (data, SONDE_DISCOVERY_PROBE, length) == 0)
    return TRUE;

  /* Only what can be a JSON object is parsed at all. */
  if (length < 2 || data[0] != '{')
    return FALSE;

  root = _sonde_json_parse_bounded (data, length, NULL);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    return FALSE;

  type = _sonde_json_get_string_member (json_node_get_object (root), "type");
  return g_strcmp0 (type, "discover") == 0;
}

static char *
describe_address (GSocketAddress *address)
{
  if (G_IS_INET_SOCKET_ADDRESS (address))
    {
      GInetSocketAddress *inet = G_INET_SOCKET_ADDRESS (address);
      g_autofree char *host = g_inet_address_to_string (g_inet_socket_address_get_address (inet));

      return g_strdup_printf ("%s port %u", host, g_inet_socket_address_get_port (inet));
    }
  return g_strdup ("an unknown address");
}

/* At most one line per IGNORED_LOG_INTERVAL_S, counting what happened
 * since the previous line. */
static void
log_unanswered (SondeDiscovery *self,
                GSocketAddress *from,
                const char     *why)
{
  gint64 now = g_get_monotonic_time ();
  g_autofree char *sender = NULL;

  if (self->logged_us != 0 && now - self->logged_us < IGNORED_LOG_INTERVAL_S * G_USEC_PER_SEC)
    return;

  sender = describe_address (from);
  g_message ("Discovery: %u datagram(s) ignored and %u probe(s) over the reply limit "
             "since the last report; the last from %s: %s",
             self->unlogged_ignored, self->unlogged_limited, sender, why);
  self->logged_us = now;
  self->unlogged_ignored = 0;
  self->unlogged_limited = 0;
}

static void
ignore (SondeDiscovery *self,
        GSocketAddress *from,
        const char     *why)
{
  self->n_ignored++;
  self->unlogged_ignored++;
  log_unanswered (self, from, why);
}

/* A token bucket: max_replies at once, refilled at max_replies a second. */
static gboolean
take_token (SondeDiscovery *self)
{
  gint64 now = g_get_monotonic_time ();

  self->tokens = MIN ((double) self->max_replies,
                      self->tokens + (now - self->refilled_us) * (double) self->max_replies / G_USEC_PER_SEC);
  self->refilled_us = now;

  if (self->tokens < 1)
    return FALSE;
  self->tokens -= 1;
  return TRUE;
}

static void
handle_datagram (SondeDiscovery *self,
                 GSocketAddress *from,
                 const char     *data,
                 gsize           length)
{
  g_autoptr(GBytes) announce = NULL;
  g_autoptr(GError) error = NULL;
  gconstpointer reply;
  gsize reply_length;

  if (length > SONDE_DISCOVERY_MAX_DATAGRAM)
    {
      ignore (self, from, "datagram too large");
      return;
    }

  if (!_sonde_discovery_is_probe (data, length))
    {
      ignore (self, from, "not a probe");
      return;
    }

  /* Nothing to answer to. */
  if (!G_IS_INET_SOCKET_ADDRESS (from) || g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (from)) == 0)
    {
      ignore (self, from, "no source port");
      return;
    }

  if (!take_token (self))
    {
      self->n_limited++;
      self->unlogged_limited++;
      log_unanswered (self, from, "over the reply limit");
      return;
    }

  announce = build_announce (self);
  reply = g_bytes_get_data (announce, &reply_length);
  if (g_socket_send_to (self->socket, from, reply, reply_length, NULL, &error) < 0)
    {
      g_autofree char *sender = describe_address (from);

      /* A full send buffer drops the reply, as a lost datagram would. */
      g_debug ("Discovery: cannot answer %s: %s", sender, error->message);
      return;
    }

  self->n_answered++;
}

static gboolean
socket_ready_cb (GSocket      *socket,
                 GIOCondition  condition,
                 gpointer      user_data)
{
  SondeDiscovery *self = user_data;

  for (guint i = 0; i < MAX_DATAGRAMS_PER_WAKEUP; i++)
    {
      /* One byte more than the limit tells a datagram that is too large
       * (and was truncated) from one that just fits. */
      char buffer[SONDE_DISCOVERY_MAX_DATAGRAM + 1];
      g_autoptr(GSocketAddress) from = NULL;
      g_autoptr(GError) error = NULL;
      gssize length;

      length = g_socket_receive_from (socket, &from, buffer, sizeof buffer, NULL, &error);
      if (length < 0)
        {
          if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
            g_debug ("Discovery: receiving failed: %s", error->message);
          break;
        }

      handle_datagram (self, from, buffer, length);
    }

  return G_SOURCE_CONTINUE;
}

/* Start and stop ------------------------------------------------------- */

/**
 * sonde_discovery_start:
 * @self: a #SondeDiscovery
 * @address: (nullable): the address to answer on, such as "127.0.0.1",
 *   "0.0.0.0" (every IPv4 interface, which receives broadcast probes) or
 *   "localhost"; %NULL for 127.0.0.1
 * @port: a UDP port, such as %SONDE_DISCOVERY_DEFAULT_PORT; 0 picks a
 *   free one (see sonde_discovery_get_port())
 * @error: return location for a #GError
 *
 * Starts answering probes on the thread-default main context.
 *
 * Returns: %TRUE on success; %FALSE if the address is not valid or the
 *   port cannot be bound
 */
gboolean
sonde_discovery_start (SondeDiscovery  *self,
                       const char      *address,
                       guint            port,
                       GError         **error)
{
  g_autoptr(GInetAddress) inet = NULL;
  g_autoptr(GSocketAddress) bind_address = NULL;
  g_autoptr(GSocketAddress) local = NULL;
  g_autoptr(GSocket) socket = NULL;

  g_return_val_if_fail (SONDE_IS_DISCOVERY (self), FALSE);
  g_return_val_if_fail (port <= G_MAXUINT16, FALSE);

  if (self->socket != NULL)
    {
      g_set_error (error, SONDE_ERROR, SONDE_ERROR_EXISTS, "Discovery is already started");
      return FALSE;
    }

  if (address == NULL || g_str_equal (address, "localhost"))
    address = "127.0.0.1";
  inet = g_inet_address_new_from_string (address);
  if (inet == NULL)
    {
      g_set_error (error, SONDE_ERROR, SONDE_ERROR_INVALID_ARGUMENT,
                   "%s is not an IP address", address);
      return FALSE;
    }

  socket = g_socket_new (g_inet_address_get_family (inet), G_SOCKET_TYPE_DATAGRAM,
                         G_SOCKET_PROTOCOL_UDP, error);
  if (socket == NULL)
    return FALSE;
  g_socket_set_blocking (socket, FALSE);

  bind_address = g_inet_socket_address_new (inet, port);
  /* No reuse: a port taken by another responder is an error, not a share. */
  if (!g_socket_bind (socket, bind_address, FALSE, error))
    return FALSE;

  local = g_socket_get_local_address (socket, error);
  if (local == NULL)
    return FALSE;

  self->socket = g_steal_pointer (&socket);
  self->port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (local));
  self->tokens = self->max_replies;
  self->refilled_us = g_get_monotonic_time ();

  self->source = g_socket_create_source (self->socket, G_IO_IN, NULL);
  g_source_set_callback (self->source, G_SOURCE_FUNC (socket_ready_cb), self, NULL);
  g_source_set_name (self->source, "[sonde] discovery");
  g_source_attach (self->source, g_main_context_get_thread_default ());

  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PORT]);
  return TRUE;
}

/**
 * sonde_discovery_stop:
 * @self: a #SondeDiscovery
 *
 * Stops answering and closes the socket. Stopping a stopped responder
 * does nothing.
 */
void
sonde_discovery_stop (SondeDiscovery *self)
{
  g_return_if_fail (SONDE_IS_DISCOVERY (self));

  if (self->socket == NULL)
    return;

  g_source_destroy (self->source);
  g_clear_pointer (&self->source, g_source_unref);
  g_socket_close (self->socket, NULL);
  g_clear_object (&self->socket);
  self->port = 0;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PORT]);
}

/**
 * sonde_discovery_get_port:
 * @self: a #SondeDiscovery
 *
 * Returns: the UDP port answered on, or 0 when stopped
 */
guint
sonde_discovery_get_port (SondeDiscovery *self)
{
  g_return_val_if_fail (SONDE_IS_DISCOVERY (self), 0);
  return self->port;
}

/**
 * sonde_discovery_get_max_replies:
 * @self: a #SondeDiscovery
 *
 * Returns: the most replies sent per second
 */
guint
sonde_discovery_get_max_replies (SondeDiscovery *self)
{
  g_return_val_if_fail (SONDE_IS_DISCOVERY (self), 0);
  return self->max_replies;
}

/**
 * sonde_discovery_set_max_replies:
 * @self: a #SondeDiscovery
 * @per_second: the most replies to send per second, 1 to 1000
 */
void
sonde_discovery_set_max_replies (SondeDiscovery *self,
                                 guint           per_second)
{
  g_return_if_fail (SONDE_IS_DISCOVERY (self));
  g_return_if_fail (per_second >= 1 && per_second <= 1000);

  if (self->max_replies == per_second)
    return;

  self->max_replies = per_second;
  self->tokens = MIN (self->tokens, (double) per_second);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MAX_REPLIES_PER_SECOND]);
}

/**
 * sonde_discovery_get_n_answered:
 * @self: a #SondeDiscovery
 *
 * Returns: how many probes were answered
 */
guint64
sonde_discovery_get_n_answered (SondeDiscovery *self)
{
  g_return_val_if_fail (SONDE_IS_DISCOVERY (self), 0);
  return self->n_answered;
}

/**
 * sonde_discovery_get_n_ignored:
 * @self: a #SondeDiscovery
 *
 * Returns: how many datagrams were not probes (or too large) and got no
 *   reply
 */
guint64
sonde_discovery_get_n_ignored (SondeDiscovery *self)
{
  g_return_val_if_fail (SONDE_IS_DISCOVERY (self), 0);
  return self->n_ignored;
}

/**
 * sonde_discovery_get_n_limited:
 * @self: a #SondeDiscovery
 *
 * Returns: how many probes got no reply because of the reply limit
 */
guint64
sonde_discovery_get_n_limited (SondeDiscovery *self)
{
  g_return_val_if_fail (SONDE_IS_DISCOVERY (self), 0);
  return self->n_limited;
}
