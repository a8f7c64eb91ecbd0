/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include <libsoup/soup.h>

#include "sonde-agent.h"
#include "sonde-error.h"
#include "sonde-json-private.h"
#include "sonde-vstats-private.h"

/*
 * A SondeAgent's link to its hub (sonde-vstats-agent.c): the WebSocket
 * connection and its reconnection with backoff, the buffer of reports
 * kept while the hub is away, and their replay, paced, until the hub
 * acknowledges each. What the agent promises of it is in its own
 * comment, and in docs/formats/vstats.md.
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

static void connect_now (SondeVstatsLink *self);
static void disconnect_websocket (SondeVstatsLink *self);

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
take_token (SondeVstatsLink *self)
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
next_to_send (SondeVstatsLink *self)
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
pump (SondeVstatsLink *self)
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
  SondeVstatsLink *self = data;

  self->pump_source = 0;
  pump (self);
  return G_SOURCE_REMOVE;
}

static void
send_heartbeat (SondeVstatsLink *self)
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
  SondeVstatsLink *self = data;
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
drop_oldest (SondeVstatsLink *self)
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
void
_sonde_vstats_link_push (SondeVstatsLink *self,
                         GBytes          *frame)
{
  Report *report = g_new0 (Report, 1);

  report->frame = g_bytes_ref (frame);
  /* The frame's own timestamp is the tick's. */
  report->timestamp_us = g_get_real_time ();
  {
    g_autoptr(JsonNode) root = json_from_string (g_bytes_get_data (frame, NULL), NULL);
    JsonObject *data = root != NULL ? json_object_get_object_member (json_node_get_object (root), "data") : NULL;

    if (data != NULL)
      _sonde_vstats_parse_timestamp (_sonde_json_get_string_member (data, "timestamp"),
                                     &report->timestamp_us);
  }

  _sonde_vstats_link_trim (self, self->buffer_size - 1);
  g_queue_push_tail (&self->reports, report);

  pump (self);
}

void
_sonde_vstats_link_trim (SondeVstatsLink *self,
                         guint            length)
{
  while (g_queue_get_length (&self->reports) > length)
    drop_oldest (self);
}

static void
handle_ack (SondeVstatsLink *self,
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
            SondeVstatsLink         *self)
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
  message_type = _sonde_json_get_string_member (object, "type");
  if (g_strcmp0 (message_type, "ack") == 0)
    handle_ack (self, _sonde_json_get_string_member (object, "timestamp"));
  else if (g_strcmp0 (message_type, "error") == 0)
    {
      const char *text = _sonde_json_get_string_member (object, "message");

      g_debug ("The hub says: %s", text != NULL ? text : "(no message)");
    }
}

/* Connecting ---------------------------------------------------------------- */

static void
set_connected (SondeVstatsLink *self,
               gboolean    connected)
{
  if (self->was_connected == connected)
    return;
  self->was_connected = connected;
  self->connected_changed (self->owner);
}

static void
disconnect_websocket (SondeVstatsLink *self)
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
  SondeVstatsLink *self = data;

  self->reconnect_source = 0;
  connect_now (self);
  return G_SOURCE_REMOVE;
}

/* 1 s, 2, 4, ... 30 s, each up to a quarter later at random. */
static void
schedule_reconnect (SondeVstatsLink *self)
{
  guint delay_ms = MIN (BACKOFF_MAX_MS, self->backoff_ms + g_random_int_range (0, self->backoff_ms / 4 + 1));

  self->backoff_ms = MIN (BACKOFF_MAX_MS, self->backoff_ms * 2);
  g_clear_handle_id (&self->reconnect_source, g_source_remove);
  self->reconnect_source = g_timeout_add (delay_ms, reconnect_cb, self);
  g_source_set_name_by_id (self->reconnect_source, "[sonde] agent reconnect");
}

static void
closed_cb (SoupWebsocketConnection *websocket,
           SondeVstatsLink         *self)
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
  SondeVstatsLink *self = user_data;
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
GUri *
_sonde_vstats_link_build_uri (SondeVstatsLink  *self,
                              GError          **error)
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
connect_now (SondeVstatsLink *self)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GUri) uri = _sonde_vstats_link_build_uri (self, &error);
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


/* The link's life ---------------------------------------------------------- */

void
_sonde_vstats_link_init (SondeVstatsLink *self,
                         void           (*connected_changed) (gpointer owner),
                         gpointer         owner)
{
  memset (self, 0, sizeof *self);
  self->buffer_size = SONDE_AGENT_DEFAULT_BUFFER_SIZE;
  self->backoff_ms = BACKOFF_MIN_MS;
  self->connected_changed = connected_changed;
  self->owner = owner;
  g_queue_init (&self->reports);
}

void
_sonde_vstats_link_clear (SondeVstatsLink *self)
{
  _sonde_vstats_link_stop (self);
  g_clear_object (&self->session);
  g_queue_clear_full (&self->reports, (GDestroyNotify) report_free);
  g_clear_object (&self->tls_database);
  g_clear_pointer (&self->url, g_free);
  g_clear_pointer (&self->token, g_free);
}

void
_sonde_vstats_link_start (SondeVstatsLink *self)
{
  if (self->running)
    return;
  self->running = TRUE;
  connect_now (self);
}

void
_sonde_vstats_link_stop (SondeVstatsLink *self)
{
  if (!self->running)
    return;
  self->running = FALSE;

  g_clear_handle_id (&self->reconnect_source, g_source_remove);
  if (self->cancellable != NULL)
    {
      g_cancellable_cancel (self->cancellable);
      g_clear_object (&self->cancellable);
    }
  disconnect_websocket (self);
}

void
_sonde_vstats_link_set_tls_database (SondeVstatsLink *self,
                                     GTlsDatabase    *database)
{
  if (g_set_object (&self->tls_database, database) && self->session != NULL)
    g_object_set (self->session, "tls-database", database, NULL);
}
