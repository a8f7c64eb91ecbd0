/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <libsoup/soup.h>

#include "sonde-agent.h"
#include "sonde-engine-private.h"
#include "sonde-error.h"
#include "sonde-json-private.h"
#include "sonde-vstats-private.h"

/**
 * SondeAgent:
 *
 * Pushes the samples of a #SondeEngine to a vstats hub (a sonded, or any
 * server of the vstats format) as `metrics` reports, one a second, and a
 * `heartbeat` every 10 seconds: what `sonded --agent-of URL --token T`
 * runs.
 *
 * While the hub is away the agent keeps its reports, at most
 * #SondeAgent:buffer-size of them (the oldest go first), and reconnects
 * after 1 s, then 2, 4, ... up to 30 s, each a little later at random so
 * that agents do not all come back at once. On reconnection it sends the
 * newest report at once and replays the others in order, at most 8 a
 * second, each with its own timestamp. A sonded hub acknowledges every
 * report it has taken, and only those are forgotten: a hub restarted
 * within the buffer's span loses none. A hub that does not acknowledge
 * (another implementation of the format) gets each report once.
 *
 * Since: 0.2
 */

#define HEARTBEAT_INTERVAL_US   (10 * G_USEC_PER_SEC)
#define BACKOFF_MIN_MS          1000
#define BACKOFF_MAX_MS          30000
/* Replay pace: a burst, then a steady rate, below the hub's limit
 * (SONDE_VSTATS_REPORTS_PER_SECOND). */
#define SEND_BURST              8.0
#define SENDS_PER_SECOND        8.0
#define PUMP_INTERVAL_MS        125
/* A hub that has not acknowledged a report this long after it was sent
 * does not acknowledge (another implementation), or is gone. */
#define ACK_WAIT_US             (10 * G_USEC_PER_SEC)
#define ACK_DEAD_US             (30 * G_USEC_PER_SEC)
#define MAX_HUB_MESSAGE         (64 * 1024)

typedef struct
{
  gint64  timestamp_us;
  GBytes *frame;
  gint64  sent_us;   /* 0 while not sent on this connection */
} Report;

struct _SondeAgent
{
  GObject                  parent_instance;

  SondeEngine             *engine;
  char                    *url;
  char                    *token;
  GTlsDatabase            *tls_database;
  guint                    buffer_size;

  SondeHubGroup           *group;
  GQueue                   reports;          /* Report, oldest first */
  SoupSession             *session;
  SoupWebsocketConnection *websocket;
  GCancellable            *cancellable;      /* of the connection attempt */
  guint                    reconnect_source;
  guint                    pump_source;
  guint                    check_source;
  guint                    backoff_ms;
  gint64                   last_heartbeat_us;
  double                   tokens;
  gint64                   tokens_updated_us;
  guint64                  n_dropped;
  gboolean                 running;
  gboolean                 hub_acks;         /* the hub acknowledged on this connection */
  gboolean                 hub_never_acks;   /* ... or it does not, ever */
  gboolean                 warned_full;
  gboolean                 was_connected;
  gboolean                 failure_logged;
  gulong                   message_handler;
  gulong                   closed_handler;
};

enum {
  PROP_0,
  PROP_ENGINE,
  PROP_URL,
  PROP_TOKEN,
  PROP_TLS_DATABASE,
  PROP_BUFFER_SIZE,
  PROP_CONNECTED,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

G_DEFINE_FINAL_TYPE (SondeAgent, sonde_agent, G_TYPE_OBJECT)

static void connect_now (SondeAgent *self);
static void disconnect_websocket (SondeAgent *self);

static void
report_free (Report *report)
{
  g_bytes_unref (report->frame);
  g_free (report);
}

/* The URL without its query: what is logged, since a token may be in it. */
static char *
url_for_log (const char *url)
{
  g_autoptr(GUri) uri = g_uri_parse (url, G_URI_FLAGS_NONE, NULL);

  return uri != NULL ? g_uri_to_string_partial (uri, G_URI_HIDE_QUERY | G_URI_HIDE_USERINFO | G_URI_HIDE_FRAGMENT)
                     : g_strdup ("(hub)");
}

/* Sending ------------------------------------------------------------------ */

static gboolean
take_token (SondeAgent *self)
{
  gint64 now = g_get_monotonic_time ();

  self->tokens = MIN (SEND_BURST, self->tokens + (now - self->tokens_updated_us) * SENDS_PER_SECOND / G_USEC_PER_SEC);
  self->tokens_updated_us = now;
  if (self->tokens < 1.0)
    return FALSE;
  self->tokens -= 1.0;
  return TRUE;
}

/* The newest report first, if it waits (what the dashboards show), then
 * the oldest waiting: the hub orders them by their timestamps. */
static GList *
next_to_send (SondeAgent *self)
{
  GList *tail = self->reports.tail;

  if (tail != NULL && ((Report *) tail->data)->sent_us == 0)
    return tail;
  for (GList *l = self->reports.head; l != NULL; l = l->next)
    if (((Report *) l->data)->sent_us == 0)
      return l;
  return NULL;
}

static gboolean pump_cb (gpointer data);

static void
pump (SondeAgent *self)
{
  GList *link;

  if (self->websocket == NULL)
    return;

  while ((link = next_to_send (self)) != NULL)
    {
      Report *report = link->data;

      if (!take_token (self))
        {
          if (self->pump_source == 0)
            {
              self->pump_source = g_timeout_add (PUMP_INTERVAL_MS, pump_cb, self);
              g_source_set_name_by_id (self->pump_source, "[sonde] agent replay");
            }
          return;
        }

      soup_websocket_connection_send_message (self->websocket, SOUP_WEBSOCKET_DATA_TEXT, report->frame);
      report->sent_us = g_get_monotonic_time ();

      /* Nothing will confirm it: sent is done. */
      if (self->hub_never_acks)
        {
          g_queue_delete_link (&self->reports, link);
          report_free (report);
        }
    }

  g_clear_handle_id (&self->pump_source, g_source_remove);
}

static gboolean
pump_cb (gpointer data)
{
  SondeAgent *self = data;

  self->pump_source = 0;
  pump (self);
  return G_SOURCE_REMOVE;
}

static void
send_heartbeat (SondeAgent *self)
{
  g_autoptr(JsonObject) object = json_object_new ();
  g_autofree char *timestamp = _sonde_format_timestamp (g_get_real_time ());
  g_autoptr(GBytes) frame = NULL;

  json_object_set_string_member (object, "type", "heartbeat");
  json_object_set_string_member (object, "timestamp", timestamp);
  frame = _sonde_json_object_to_bytes (object);
  soup_websocket_connection_send_message (self->websocket, SOUP_WEBSOCKET_DATA_TEXT, frame);
  self->last_heartbeat_us = g_get_monotonic_time ();
}

/* Once a second while connected: heartbeats, and whether the hub keeps
 * acknowledging. */
static gboolean
check_cb (gpointer data)
{
  SondeAgent *self = data;
  gint64 now = g_get_monotonic_time ();
  Report *oldest_sent = NULL;

  if (self->websocket == NULL)
    {
      self->check_source = 0;
      return G_SOURCE_REMOVE;
    }

  if (now - self->last_heartbeat_us >= HEARTBEAT_INTERVAL_US)
    send_heartbeat (self);

  for (GList *l = self->reports.head; l != NULL; l = l->next)
    {
      Report *report = l->data;

      if (report->sent_us != 0 && (oldest_sent == NULL || report->sent_us < oldest_sent->sent_us))
        oldest_sent = report;
    }

  if (oldest_sent == NULL || self->hub_never_acks)
    return G_SOURCE_CONTINUE;

  if (!self->hub_acks && now - oldest_sent->sent_us > ACK_WAIT_US)
    {
      /* It took reports without a word: it is not a hub that
       * acknowledges. What it was sent, it has. */
      g_info ("The hub does not acknowledge reports: buffered reports are replayed only "
              "when they could not be sent");
      self->hub_never_acks = TRUE;
      for (GList *l = self->reports.head; l != NULL;)
        {
          GList *next = l->next;

          if (((Report *) l->data)->sent_us != 0)
            {
              report_free (l->data);
              g_queue_delete_link (&self->reports, l);
            }
          l = next;
        }
    }
  else if (self->hub_acks && now - oldest_sent->sent_us > ACK_DEAD_US)
    {
      /* A hub that acknowledged and fell silent is gone, though the
       * connection does not say so yet. */
      g_autofree char *where = url_for_log (self->url);

      g_message ("The hub at %s stopped answering; reconnecting", where);
      /* Removes this source. */
      disconnect_websocket (self);
      connect_now (self);
      return G_SOURCE_REMOVE;
    }

  return G_SOURCE_CONTINUE;
}

/* Reports ------------------------------------------------------------------- */

static void
drop_oldest (SondeAgent *self)
{
  report_free (g_queue_pop_head (&self->reports));
  self->n_dropped++;

  if (!self->warned_full)
    {
      self->warned_full = TRUE;
      g_warning ("The hub has been away for %u reports: dropping the oldest", self->buffer_size);
    }
}

/* Each tick's report, encoded once by the engine's hub. */
static void
report_cb (gpointer       member,
           SondeHubGroup *group,
           GBytes        *frame)
{
  SondeAgent *self = member;
  Report *report = g_new0 (Report, 1);

  report->frame = g_bytes_ref (frame);
  /* The frame's own timestamp is the tick's. */
  report->timestamp_us = g_get_real_time ();
  {
    g_autoptr(JsonNode) root = json_from_string (g_bytes_get_data (frame, NULL), NULL);
    JsonObject *data = root != NULL ? json_object_get_object_member (json_node_get_object (root), "data") : NULL;

    if (data != NULL)
      _sonde_vstats_parse_timestamp (json_object_get_string_member_with_default (data, "timestamp", NULL),
                                     &report->timestamp_us);
  }

  while (g_queue_get_length (&self->reports) >= self->buffer_size)
    drop_oldest (self);
  g_queue_push_tail (&self->reports, report);

  pump (self);
}

static void
handle_ack (SondeAgent *self,
            const char *timestamp)
{
  gint64 timestamp_us;

  if (!_sonde_vstats_parse_timestamp (timestamp, &timestamp_us))
    return;

  self->hub_acks = TRUE;
  for (GList *l = self->reports.head; l != NULL; l = l->next)
    {
      Report *report = l->data;

      if (report->timestamp_us == timestamp_us && report->sent_us != 0)
        {
          g_queue_delete_link (&self->reports, l);
          report_free (report);
          return;
        }
    }
}

static void
message_cb (SoupWebsocketConnection *websocket,
            int                      type,
            GBytes                  *message,
            SondeAgent              *self)
{
  g_autoptr(JsonNode) root = NULL;
  JsonObject *object;
  const char *message_type;
  gsize length;
  const char *text = g_bytes_get_data (message, &length);

  if (type != SOUP_WEBSOCKET_DATA_TEXT)
    return;

  root = _sonde_json_parse_bounded (text, length, NULL);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    return;

  object = json_node_get_object (root);
  message_type = json_object_get_string_member_with_default (object, "type", "");
  if (g_str_equal (message_type, "ack"))
    handle_ack (self, json_object_get_string_member_with_default (object, "timestamp", NULL));
  else if (g_str_equal (message_type, "error"))
    g_debug ("The hub says: %s", json_object_get_string_member_with_default (object, "message", ""));
}

/* Connecting ---------------------------------------------------------------- */

static void
set_connected (SondeAgent *self,
               gboolean    connected)
{
  if (self->was_connected == connected)
    return;
  self->was_connected = connected;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CONNECTED]);
}

static void
disconnect_websocket (SondeAgent *self)
{
  g_clear_handle_id (&self->pump_source, g_source_remove);
  g_clear_handle_id (&self->check_source, g_source_remove);

  if (self->websocket != NULL)
    {
      g_clear_signal_handler (&self->message_handler, self->websocket);
      g_clear_signal_handler (&self->closed_handler, self->websocket);
      if (soup_websocket_connection_get_state (self->websocket) == SOUP_WEBSOCKET_STATE_OPEN)
        soup_websocket_connection_close (self->websocket, SOUP_WEBSOCKET_CLOSE_GOING_AWAY, NULL);
      g_clear_object (&self->websocket);
    }

  /* What was sent and not acknowledged goes again. */
  for (GList *l = self->reports.head; l != NULL; l = l->next)
    ((Report *) l->data)->sent_us = 0;

  set_connected (self, FALSE);
}

static gboolean
reconnect_cb (gpointer data)
{
  SondeAgent *self = data;

  self->reconnect_source = 0;
  connect_now (self);
  return G_SOURCE_REMOVE;
}

/* 1 s, 2, 4, ... 30 s, each up to a quarter later at random. */
static void
schedule_reconnect (SondeAgent *self)
{
  guint delay_ms = MIN (BACKOFF_MAX_MS, self->backoff_ms + g_random_int_range (0, self->backoff_ms / 4 + 1));

  self->backoff_ms = MIN (BACKOFF_MAX_MS, self->backoff_ms * 2);
  g_clear_handle_id (&self->reconnect_source, g_source_remove);
  self->reconnect_source = g_timeout_add (delay_ms, reconnect_cb, self);
  g_source_set_name_by_id (self->reconnect_source, "[sonde] agent reconnect");
}

static void
closed_cb (SoupWebsocketConnection *websocket,
           SondeAgent              *self)
{
  gushort code = soup_websocket_connection_get_close_code (websocket);
  const char *reason = soup_websocket_connection_get_close_data (websocket);
  g_autofree char *where = url_for_log (self->url);

  if (code == SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION && g_strcmp0 (reason, "invalid token") == 0)
    g_warning ("The hub at %s refused the token; retrying", where);
  else
    g_message ("Disconnected from the hub at %s (%u%s%s); reconnecting", where, code,
               reason != NULL && *reason != '\0' ? ": " : "", reason != NULL ? reason : "");

  disconnect_websocket (self);
  if (self->running)
    schedule_reconnect (self);
}

static void
connected_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  SondeAgent *self = user_data;
  g_autoptr(GError) error = NULL;
  SoupWebsocketConnection *websocket;
  g_autofree char *where = NULL;

  websocket = soup_session_websocket_connect_finish (SOUP_SESSION (source), result, &error);
  if (websocket == NULL)
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;

      g_clear_object (&self->cancellable);
      where = url_for_log (self->url);
      /* Once per outage is enough in the log. */
      if (!self->failure_logged)
        g_message ("Cannot reach the hub at %s: %s; retrying", where, error->message);
      else
        g_debug ("Cannot reach the hub at %s: %s", where, error->message);
      self->failure_logged = TRUE;
      schedule_reconnect (self);
      return;
    }

  g_clear_object (&self->cancellable);
  self->websocket = websocket;
  soup_websocket_connection_set_max_incoming_payload_size (websocket, MAX_HUB_MESSAGE);
  self->message_handler = g_signal_connect (websocket, "message", G_CALLBACK (message_cb), self);
  self->closed_handler = g_signal_connect (websocket, "closed", G_CALLBACK (closed_cb), self);

  where = url_for_log (self->url);
  g_message ("Connected to the hub at %s (%u reports to send)", where, g_queue_get_length (&self->reports));
  self->backoff_ms = BACKOFF_MIN_MS;
  self->failure_logged = FALSE;
  self->hub_acks = FALSE;
  self->hub_never_acks = FALSE;
  self->warned_full = FALSE;
  self->tokens = SEND_BURST;
  self->tokens_updated_us = g_get_monotonic_time ();
  set_connected (self, TRUE);

  send_heartbeat (self);
  self->check_source = g_timeout_add (1000, check_cb, self);
  g_source_set_name_by_id (self->check_source, "[sonde] agent check");
  pump (self);
}

/* The hub's URL with ?token=T&ack=1 added to its query. */
static GUri *
build_uri (SondeAgent  *self,
           GError     **error)
{
  g_autoptr(GUri) uri = g_uri_parse (self->url, G_URI_FLAGS_ENCODED_QUERY, error);
  g_autoptr(GString) query = NULL;
  const char *scheme;

  if (uri == NULL)
    return NULL;

  scheme = g_uri_get_scheme (uri);
  if (g_ascii_strcasecmp (scheme, "ws") != 0 && g_ascii_strcasecmp (scheme, "wss") != 0)
    {
      g_set_error (error, SONDE_ERROR, SONDE_ERROR_INVALID_ARGUMENT,
                   "%s is not a ws:// or wss:// URL", scheme);
      return NULL;
    }

  query = g_string_new (g_uri_get_query (uri));
  if (self->token != NULL)
    {
      g_autofree char *escaped = g_uri_escape_string (self->token, NULL, FALSE);

      g_string_append_printf (query, "%stoken=%s", query->len > 0 ? "&" : "", escaped);
    }
  g_string_append_printf (query, "%sack=1", query->len > 0 ? "&" : "");

  return g_uri_build (G_URI_FLAGS_ENCODED_QUERY, scheme, NULL, g_uri_get_host (uri), g_uri_get_port (uri),
                      g_uri_get_path (uri), query->str, NULL);
}

static void
connect_now (SondeAgent *self)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GUri) uri = build_uri (self, &error);
  g_autoptr(SoupMessage) msg = NULL;

  if (uri == NULL)
    {
      g_warning ("Cannot connect to the hub: %s", error->message);
      return;
    }

  if (self->session == NULL)
    {
      self->session = soup_session_new_with_options ("user-agent", "sonde-agent/" PACKAGE_VERSION " ", NULL);
      /* Straight to the hub: the desktop's proxy settings would need
       * GSettings schemas, which a server may not have. */
      soup_session_set_proxy_resolver (self->session, NULL);
      if (self->tls_database != NULL)
        g_object_set (self->session, "tls-database", self->tls_database, NULL);
    }

  g_clear_object (&self->cancellable);
  self->cancellable = g_cancellable_new ();
  msg = soup_message_new_from_uri (SOUP_METHOD_GET, uri);
  soup_session_websocket_connect_async (self->session, msg, NULL, NULL, G_PRIORITY_DEFAULT,
                                        self->cancellable, connected_cb, self);
}

/* GObject --------------------------------------------------------------------- */

static void
sonde_agent_dispose (GObject *object)
{
  SondeAgent *self = SONDE_AGENT (object);

  sonde_agent_stop (self);
  g_clear_object (&self->session);

  G_OBJECT_CLASS (sonde_agent_parent_class)->dispose (object);
}

static void
sonde_agent_finalize (GObject *object)
{
  SondeAgent *self = SONDE_AGENT (object);

  g_queue_clear_full (&self->reports, (GDestroyNotify) report_free);
  g_clear_object (&self->tls_database);
  g_clear_object (&self->engine);
  g_free (self->url);
  g_free (self->token);

  G_OBJECT_CLASS (sonde_agent_parent_class)->finalize (object);
}

static void
sonde_agent_get_property (GObject    *object,
                          guint       prop_id,
                          GValue     *value,
                          GParamSpec *pspec)
{
  SondeAgent *self = SONDE_AGENT (object);

  switch (prop_id)
    {
    case PROP_ENGINE:
      g_value_set_object (value, self->engine);
      break;

    case PROP_URL:
      g_value_set_string (value, self->url);
      break;

    case PROP_TLS_DATABASE:
      g_value_set_object (value, self->tls_database);
      break;

    case PROP_BUFFER_SIZE:
      g_value_set_uint (value, self->buffer_size);
      break;

    case PROP_CONNECTED:
      g_value_set_boolean (value, sonde_agent_get_connected (self));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
sonde_agent_set_property (GObject      *object,
                          guint         prop_id,
                          const GValue *value,
                          GParamSpec   *pspec)
{
  SondeAgent *self = SONDE_AGENT (object);

  switch (prop_id)
    {
    case PROP_ENGINE:
      self->engine = g_value_dup_object (value);
      break;

    case PROP_URL:
      self->url = g_value_dup_string (value);
      break;

    case PROP_TOKEN:
      sonde_agent_set_token (self, g_value_get_string (value));
      break;

    case PROP_TLS_DATABASE:
      sonde_agent_set_tls_database (self, g_value_get_object (value));
      break;

    case PROP_BUFFER_SIZE:
      sonde_agent_set_buffer_size (self, g_value_get_uint (value));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
sonde_agent_class_init (SondeAgentClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = sonde_agent_dispose;
  object_class->finalize = sonde_agent_finalize;
  object_class->get_property = sonde_agent_get_property;
  object_class->set_property = sonde_agent_set_property;

  /**
   * SondeAgent:engine:
   *
   * The engine whose samples are reported.
   *
   * Since: 0.2
   */
  properties[PROP_ENGINE] =
    g_param_spec_object ("engine", NULL, NULL,
                         SONDE_TYPE_ENGINE,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);

  /**
   * SondeAgent:url:
   *
   * The hub's agent URL, such as `ws://hub.example:3001/ws/agent`.
   *
   * Since: 0.2
   */
  properties[PROP_URL] =
    g_param_spec_string ("url", NULL, NULL,
                         NULL,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);

  /**
   * SondeAgent:token:
   *
   * The token the hub knows this agent by, sent as `?token=`. Write-only:
   * it is a secret.
   *
   * Since: 0.2
   */
  properties[PROP_TOKEN] =
    g_param_spec_string ("token", NULL, NULL,
                         NULL,
                         G_PARAM_WRITABLE | G_PARAM_STATIC_STRINGS);

  /**
   * SondeAgent:tls-database:
   *
   * The certificate authorities a `wss://` hub's certificate is checked
   * against; %NULL for the system's.
   *
   * Since: 0.2
   */
  properties[PROP_TLS_DATABASE] =
    g_param_spec_object ("tls-database", NULL, NULL,
                         G_TYPE_TLS_DATABASE,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * SondeAgent:buffer-size:
   *
   * How many reports are kept while the hub is away; the oldest go first.
   *
   * Since: 0.2
   */
  properties[PROP_BUFFER_SIZE] =
    g_param_spec_uint ("buffer-size", NULL, NULL,
                       1, SONDE_AGENT_MAX_BUFFER_SIZE, SONDE_AGENT_DEFAULT_BUFFER_SIZE,
                       G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * SondeAgent:connected:
   *
   * Whether the agent is connected to its hub now.
   *
   * Since: 0.2
   */
  properties[PROP_CONNECTED] =
    g_param_spec_boolean ("connected", NULL, NULL,
                          FALSE,
                          G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
sonde_agent_init (SondeAgent *self)
{
  self->buffer_size = SONDE_AGENT_DEFAULT_BUFFER_SIZE;
  self->backoff_ms = BACKOFF_MIN_MS;
  g_queue_init (&self->reports);
}

/* API -------------------------------------------------------------------------- */

/**
 * sonde_agent_new:
 * @engine: the engine whose samples to report
 * @url: the hub's agent URL: `ws://HOST:PORT/ws/agent` or `wss://...`
 * @error: return location for a #GError
 *
 * Returns: (transfer full) (nullable): a new agent, not yet started, or
 *   %NULL if @url is not a ws:// or wss:// URL
 *
 * Since: 0.2
 */
SondeAgent *
sonde_agent_new (SondeEngine  *engine,
                 const char   *url,
                 GError      **error)
{
  g_autoptr(SondeAgent) self = NULL;
  g_autoptr(GUri) uri = NULL;

  g_return_val_if_fail (SONDE_IS_ENGINE (engine), NULL);
  g_return_val_if_fail (url != NULL, NULL);

  self = g_object_new (SONDE_TYPE_AGENT, "engine", engine, "url", url, NULL);
  uri = build_uri (self, error);
  if (uri == NULL)
    return NULL;
  if (g_uri_get_host (uri) == NULL || *g_uri_get_host (uri) == '\0')
    {
      g_set_error (error, SONDE_ERROR, SONDE_ERROR_INVALID_ARGUMENT, "%s names no host", url);
      return NULL;
    }

  return g_steal_pointer (&self);
}

/**
 * sonde_agent_get_engine:
 * @self: a #SondeAgent
 *
 * Returns: (transfer none): the engine whose samples are reported
 *
 * Since: 0.2
 */
SondeEngine *
sonde_agent_get_engine (SondeAgent *self)
{
  g_return_val_if_fail (SONDE_IS_AGENT (self), NULL);
  return self->engine;
}

/**
 * sonde_agent_get_url:
 * @self: a #SondeAgent
 *
 * Returns: the hub's agent URL
 *
 * Since: 0.2
 */
const char *
sonde_agent_get_url (SondeAgent *self)
{
  g_return_val_if_fail (SONDE_IS_AGENT (self), NULL);
  return self->url;
}

/**
 * sonde_agent_set_token:
 * @self: a #SondeAgent
 * @token: (nullable): the token the hub knows this agent by
 *
 * Applies from the next connection on.
 *
 * Since: 0.2
 */
void
sonde_agent_set_token (SondeAgent *self,
                       const char *token)
{
  g_return_if_fail (SONDE_IS_AGENT (self));

  g_free (self->token);
  self->token = token != NULL && *token != '\0' ? g_strdup (token) : NULL;
}

/**
 * sonde_agent_get_tls_database:
 * @self: a #SondeAgent
 *
 * Returns: (transfer none) (nullable): the certificate authorities a
 *   `wss://` hub is checked against, or %NULL for the system's
 *
 * Since: 0.2
 */
GTlsDatabase *
sonde_agent_get_tls_database (SondeAgent *self)
{
  g_return_val_if_fail (SONDE_IS_AGENT (self), NULL);
  return self->tls_database;
}

/**
 * sonde_agent_set_tls_database:
 * @self: a #SondeAgent
 * @database: (nullable): the certificate authorities to check a `wss://`
 *   hub's certificate against, such as g_tls_file_database_new()'s;
 *   %NULL for the system's
 *
 * Call it before sonde_agent_start().
 *
 * Since: 0.2
 */
void
sonde_agent_set_tls_database (SondeAgent   *self,
                              GTlsDatabase *database)
{
  g_return_if_fail (SONDE_IS_AGENT (self));
  g_return_if_fail (database == NULL || G_IS_TLS_DATABASE (database));

  if (g_set_object (&self->tls_database, database))
    {
      if (self->session != NULL)
        g_object_set (self->session, "tls-database", database, NULL);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TLS_DATABASE]);
    }
}

/**
 * sonde_agent_get_buffer_size:
 * @self: a #SondeAgent
 *
 * Returns: how many reports are kept while the hub is away
 *
 * Since: 0.2
 */
guint
sonde_agent_get_buffer_size (SondeAgent *self)
{
  g_return_val_if_fail (SONDE_IS_AGENT (self), 0);
  return self->buffer_size;
}

/**
 * sonde_agent_set_buffer_size:
 * @self: a #SondeAgent
 * @reports: how many reports to keep while the hub is away, 1 to
 *   %SONDE_AGENT_MAX_BUFFER_SIZE; %SONDE_AGENT_DEFAULT_BUFFER_SIZE by
 *   default. A report takes about 2 KiB.
 *
 * Since: 0.2
 */
void
sonde_agent_set_buffer_size (SondeAgent *self,
                             guint       reports)
{
  g_return_if_fail (SONDE_IS_AGENT (self));
  g_return_if_fail (reports >= 1 && reports <= SONDE_AGENT_MAX_BUFFER_SIZE);

  if (self->buffer_size == reports)
    return;

  self->buffer_size = reports;
  while (g_queue_get_length (&self->reports) > reports)
    drop_oldest (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_BUFFER_SIZE]);
}

/**
 * sonde_agent_start:
 * @self: a #SondeAgent
 *
 * Samples the engine's cpu, memory, disk, network and host collectors
 * every second from now on, and connects to the hub; reconnects whenever
 * the connection is lost, until sonde_agent_stop().
 *
 * Since: 0.2
 */
void
sonde_agent_start (SondeAgent *self)
{
  g_auto(GStrv) patterns = NULL;

  g_return_if_fail (SONDE_IS_AGENT (self));

  if (self->running)
    return;
  self->running = TRUE;

  patterns = _sonde_vstats_report_patterns (_sonde_engine_get_catalog (self->engine));
  if (patterns[0] == NULL)
    g_warning ("No cpu, memory, disk, network or host collector: the agent sends heartbeats only");
  else
    {
      SondeFilter *filter = _sonde_filter_new (_sonde_engine_get_catalog (self->engine),
                                               (const char * const *) patterns, NULL);

      self->group = _sonde_hub_join (_sonde_engine_get_hub (self->engine), "vstats-agent", "report",
                                     filter, 1000, _sonde_vstats_encode_report, report_cb, self);
    }

  connect_now (self);
}

/**
 * sonde_agent_stop:
 * @self: a #SondeAgent
 *
 * Closes the connection and stops sampling. The reports not yet sent are
 * kept, and go at the next sonde_agent_start().
 *
 * Since: 0.2
 */
void
sonde_agent_stop (SondeAgent *self)
{
  g_return_if_fail (SONDE_IS_AGENT (self));

  if (!self->running)
    return;
  self->running = FALSE;

  if (self->group != NULL)
    {
      _sonde_hub_leave (_sonde_engine_get_hub (self->engine), self->group, self);
      self->group = NULL;
    }

  g_clear_handle_id (&self->reconnect_source, g_source_remove);
  if (self->cancellable != NULL)
    {
      g_cancellable_cancel (self->cancellable);
      g_clear_object (&self->cancellable);
    }
  disconnect_websocket (self);
}

/**
 * sonde_agent_get_connected:
 * @self: a #SondeAgent
 *
 * Returns: whether the agent is connected to its hub
 *
 * Since: 0.2
 */
gboolean
sonde_agent_get_connected (SondeAgent *self)
{
  g_return_val_if_fail (SONDE_IS_AGENT (self), FALSE);
  return self->websocket != NULL;
}

/**
 * sonde_agent_get_n_buffered:
 * @self: a #SondeAgent
 *
 * Returns: how many reports wait to be sent or acknowledged
 *
 * Since: 0.2
 */
guint
sonde_agent_get_n_buffered (SondeAgent *self)
{
  g_return_val_if_fail (SONDE_IS_AGENT (self), 0);
  return g_queue_get_length (&self->reports);
}

/**
 * sonde_agent_get_n_dropped:
 * @self: a #SondeAgent
 *
 * Returns: how many reports were dropped because the buffer was full
 *
 * Since: 0.2
 */
guint64
sonde_agent_get_n_dropped (SondeAgent *self)
{
  g_return_val_if_fail (SONDE_IS_AGENT (self), 0);
  return self->n_dropped;
}
