/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "sonde-engine-private.h"
#include "sonde-connection-private.h"
#include "sonde-error.h"
#include "sonde-history-private.h"
#include "sonde-json-private.h"
#include "sonde-native-client-private.h"
#include "sonde-native-format-private.h"
#include "sonde-native-frames-private.h"
#include "sonde-native-messages-private.h"
#include "sonde-server-private.h"

/*
 * One connection speaking the native protocol at /ws/v1: it acts on the
 * client's messages (read by sonde-native-messages.c) and keeps its
 * subscriptions as memberships of hub groups. When the socket is full
 * (SondeConnection's backpressure), frames are not queued but counted,
 * and the next frame that fits says how many were dropped (it holds the
 * latest values anyway).
 */

#define MAX_SUBSCRIPTIONS        16
/* Patterns are kept (and compiled) for as long as a subscription lives:
 * one connection's, all subscriptions together, stay this small. A
 * dashboard naming every metric one by one needs a few KiB. */
#define MAX_PATTERN_BYTES        (32 * 1024)

/* What log files say and what commands print: more than metrics, so only
 * for a client whose handshake carried the token, when there is one. */
static const char * const sensitive_events[] = {
  "log_line", "task_start", "task_output", "task_complete", NULL
};

typedef struct
{
  SondeNativeClient *client;
  char              *id;
  SondeHub          *hub;    /* the engine's, or another host's */
  SondeHubGroup     *group;
  GStrv              events;
  guint              dropped;
  guint              logs_hold;  /* keeps the logs collector polling for log_line */
} Subscription;

struct _SondeNativeClient
{
  SondeServer     *server;
  SondeNative     *format;
  SondeConnection *connection;
  GHashTable      *subscriptions;  /* id -> Subscription */
  gboolean         implicit_default;
  gboolean         trusted;        /* may have sensitive events */
};

static void
subscription_free (Subscription *sub)
{
  if (sub->group != NULL)
    _sonde_hub_leave (sub->hub, sub->group, sub);
  if (sub->logs_hold != 0)
    sonde_engine_release (sonde_server_get_engine (sub->client->server), sub->logs_hold);
  g_strfreev (sub->events);
  g_free (sub->id);
  g_free (sub);
}

static void
send_control (SondeNativeClient *self,
              GBytes            *frame)
{
  _sonde_connection_send_control (self->connection, frame);
}

static void
send_error (SondeNativeClient *self,
            const char        *code,
            const char        *message,
            const char        *subscription)
{
  g_autoptr(GBytes) frame = _sonde_error_frame_new (code, message, subscription);

  send_control (self, frame);
}

static void
subscription_send_cb (gpointer       member,
                      SondeHubGroup *group,
                      GBytes        *frame)
{
  Subscription *sub = member;
  SondeConnection *connection = sub->client->connection;

  if (sub->dropped > 0)
    {
      g_autoptr(GBytes) spliced = _sonde_frame_add_dropped (frame, sub->dropped);

      if (_sonde_connection_send_stream (connection, spliced))
        sub->dropped = 0;
      else
        sub->dropped++;
    }
  else if (!_sonde_connection_send_stream (connection, frame))
    sub->dropped++;
}

gboolean
_sonde_native_client_wants_event (SondeNativeClient *self,
                                  const char        *event_type)
{
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, self->subscriptions);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      Subscription *sub = value;

      if (sub->events != NULL && g_strv_contains ((const char * const *) sub->events, event_type))
        return TRUE;
    }

  return FALSE;
}

void
_sonde_native_client_send_event (SondeNativeClient *self,
                                 GBytes            *frame)
{
  _sonde_connection_send_stream (self->connection, frame);
}

/* Subscriptions ---------------------------------------------------------- */

static const char *
error_code_for (const GError *error)
{
  if (g_error_matches (error, SONDE_ERROR, SONDE_ERROR_UNKNOWN_METRIC))
    return "unknown_metric";
  return "invalid_subscription";
}

/* The pattern bytes the connection's subscriptions hold, but @replaced's. */
static gsize
pattern_bytes (SondeNativeClient *self,
               const char        *replaced)
{
  GHashTableIter iter;
  gpointer key, value;
  gsize total = 0;

  g_hash_table_iter_init (&iter, self->subscriptions);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      Subscription *sub = value;

      if (!g_str_equal (key, replaced))
        total += strlen (_sonde_filter_get_key (_sonde_hub_group_get_filter (sub->group)));
    }

  return total;
}

/* @host: another host whose data the server receives (a hub's agent),
 * or NULL for this one. */
static gboolean
add_subscription (SondeNativeClient  *self,
                  const char         *id,
                  const char * const *patterns,
                  const char * const *events,
                  guint               interval_ms,
                  const char         *host)
{
  SondeEngine *engine = sonde_server_get_engine (self->server);
  SondeHub *hub = _sonde_server_get_hub (self->server);
  g_autoptr(GError) error = NULL;
  SondeFilter *filter;
  Subscription *sub;

  if (host != NULL && *host != '\0' && !g_str_equal (host, g_get_host_name ()))
    {
      hub = _sonde_server_get_host_hub (self->server, host);
      if (hub == NULL)
        {
          g_autofree char *message = g_strdup_printf ("Unknown host '%s'", host);
          send_error (self, "invalid_subscription", message, id);
          return FALSE;
        }
    }

  if (!g_hash_table_contains (self->subscriptions, id) &&
      g_hash_table_size (self->subscriptions) >= MAX_SUBSCRIPTIONS)
    {
      g_autofree char *message =
        g_strdup_printf ("At most %d subscriptions per connection", MAX_SUBSCRIPTIONS);
      send_error (self, "invalid_subscription", message, id);
      return FALSE;
    }

  filter = _sonde_filter_new (_sonde_engine_get_catalog (engine), patterns, &error);
  if (filter == NULL)
    {
      send_error (self, error_code_for (error), error->message, id);
      return FALSE;
    }

  if (pattern_bytes (self, id) + strlen (_sonde_filter_get_key (filter)) > MAX_PATTERN_BYTES)
    {
      g_autofree char *message =
        g_strdup_printf ("The subscriptions of one connection name at most %d bytes of patterns",
                         MAX_PATTERN_BYTES);
      _sonde_filter_free (filter);
      send_error (self, "invalid_subscription", message, id);
      return FALSE;
    }

  sub = g_new0 (Subscription, 1);
  sub->client = self;
  sub->id = g_strdup (id);
  sub->events = g_strdupv ((char **) events);
  /* log_line events come from the logs collector, which reads its files
   * only while it is sampled. */
  if (events != NULL && g_strv_contains (events, "log_line") &&
      sonde_engine_get_collector (engine, "logs") != NULL)
    sub->logs_hold = sonde_engine_hold (engine, "logs", 1000, NULL);
  sub->hub = hub;
  sub->group = _sonde_hub_join (hub, &_sonde_native_snapshot_encoding, NULL, filter, interval_ms, id,
                                subscription_send_cb, sub);

  /* Only now does the old subscription leave: joining first keeps the
   * collectors both need running, with their rates. A subscribe with an
   * existing id replaces it; the implicit all-metrics subscription gives
   * way to the client's own, but only to a valid one. */
  g_hash_table_replace (self->subscriptions, sub->id, sub);
  if (self->implicit_default)
    {
      self->implicit_default = FALSE;
      if (!g_str_equal (id, "default"))
        g_hash_table_remove (self->subscriptions, "default");
    }
  return TRUE;
}

/* 1 s, unless the server's bounds exclude it. */
static guint
default_interval (SondeNativeClient *self)
{
  return _sonde_native_default_interval (sonde_server_get_interval_min (self->server),
                                         sonde_server_get_interval_max (self->server));
}

/* Event types a message or the query asked for: known ones only (a
 * subscribe message's were checked when it was read, in
 * sonde-native-messages.c), and the sensitive ones only with the token. */
static gboolean
check_events (SondeNativeClient  *self,
              const char * const *events,
              const char         *id)
{
  for (guint i = 0; events != NULL && events[i] != NULL; i++)
    {
      g_autofree char *text = NULL;

      if (!_sonde_native_is_known_event (events[i]))
        {
          text = g_strdup_printf ("Unknown event type '%s'", events[i]);
          send_error (self, "invalid_subscription", text, id);
          return FALSE;
        }
      if (!self->trusted && g_strv_contains (sensitive_events, events[i]))
        {
          text = g_strdup_printf ("'%s' events need the token (Authorization: Bearer TOKEN, "
                                  "or ?token=TOKEN on the handshake)", events[i]);
          send_error (self, "unauthorized", text, id);
          return FALSE;
        }
    }

  return TRUE;
}

/* The `history` messages of a new subscription, before its live stream:
 * one per recorded metric its patterns match, each built only when the
 * client has read the previous one. */
typedef struct
{
  SondeHistory *history;
  char         *subscription;
  GPtrArray    *metrics;   /* names still to send */
  guint         next;
  guint         seconds;
} HistoryReply;

static void
history_reply_free (gpointer data)
{
  HistoryReply *reply = data;

  g_object_unref (reply->history);
  g_free (reply->subscription);
  g_ptr_array_unref (reply->metrics);
  g_free (reply);
}

static GBytes *
history_reply_next (gpointer data)
{
  HistoryReply *reply = data;
  g_autoptr(JsonObject) frame = NULL;
  const char *name;

  if (reply->next >= reply->metrics->len)
    return NULL;

  name = g_ptr_array_index (reply->metrics, reply->next++);
  frame = json_object_new ();
  json_object_set_string_member (frame, "type", "history");
  json_object_set_string_member (frame, "subscription", reply->subscription);
  json_object_set_string_member (frame, "metric", name);
  json_object_set_int_member (frame, "interval_ms", 1000);
  json_object_set_array_member (frame, "points", _sonde_history_build_points (reply->history, name, reply->seconds));
  return _sonde_json_object_to_bytes (frame);
}

static void
send_history (SondeNativeClient *self,
              Subscription      *sub,
              guint              seconds)
{
  SondeEngine *engine = sonde_server_get_engine (self->server);
  SondeHistory *history = sonde_engine_get_history (engine);
  SondeFilter *filter = _sonde_hub_group_get_filter (sub->group);
  g_autoptr(GPtrArray) metrics = NULL;
  HistoryReply *reply;

  if (history == NULL)
    {
      send_error (self, "invalid_subscription",
                  "This server keeps no history (its history length is 0)", sub->id);
      return;
    }

  reply = g_new0 (HistoryReply, 1);
  reply->history = g_object_ref (history);
  reply->subscription = g_strdup (sub->id);
  reply->metrics = g_ptr_array_new_with_free_func (g_free);
  reply->seconds = seconds;

  metrics = sonde_engine_list_metrics (engine);
  for (guint i = 0; i < metrics->len; i++)
    {
      SondeMetric *metric = g_ptr_array_index (metrics, i);
      const char *name = sonde_metric_get_name (metric);

      if (_sonde_filter_matches (filter, sonde_metric_get_collector (metric), sonde_metric_get_field (metric)) &&
          sonde_history_has_metric (history, name))
        g_ptr_array_add (reply->metrics, g_strdup (name));
    }

  _sonde_connection_send_bulk (self->connection, history_reply_next, reply, history_reply_free);
}

static void
handle_subscribe (SondeNativeClient  *self,
                  SondeNativeMessage *message)
{
  static const char * const everything[] = { "*", NULL };
  const char * const *patterns = message->metrics ? (const char * const *) message->metrics : everything;

  if (!check_events (self, (const char * const *) message->events, message->id))
    return;

  /* Another host's history is served by its own route. */
  if (message->host != NULL && message->history_seconds > 0 && *message->host != '\0' &&
      !g_str_equal (message->host, g_get_host_name ()))
    {
      send_error (self, "invalid_subscription",
                  "\"history_seconds\" is for this host; other hosts' history is at "
                  "GET /api/v1/history?host=", message->id);
      return;
    }

  if (add_subscription (self, message->id, patterns, (const char * const *) message->events,
                        message->interval_ms, message->host) &&
      message->history_seconds > 0)
    send_history (self, g_hash_table_lookup (self->subscriptions, message->id), message->history_seconds);
}

static void
handle_unsubscribe (SondeNativeClient  *self,
                    SondeNativeMessage *message)
{
  if (!g_hash_table_remove (self->subscriptions, message->id))
    {
      g_autofree char *text = g_strdup_printf ("No subscription with id '%s'", message->id);
      send_error (self, "invalid_subscription", text, NULL);
      return;
    }

  if (g_str_equal (message->id, "default"))
    self->implicit_default = FALSE;
}

static void
handle_ping (SondeNativeClient  *self,
             SondeNativeMessage *message)
{
  g_autoptr(JsonObject) pong = json_object_new ();
  g_autoptr(GBytes) frame = NULL;

  json_object_set_string_member (pong, "type", "pong");
  if (message->ping_id != NULL)
    json_object_set_member (pong, "id", json_node_copy (message->ping_id));
  frame = _sonde_json_object_to_bytes (pong);
  send_control (self, frame);
}

static void
native_client_message (gpointer               owner,
                       SoupWebsocketDataType  type,
                       GBytes                *bytes)
{
  SondeNativeClient *self = owner;
  g_auto(SondeNativeMessage) message = { 0, };
  g_auto(SondeNativeMessageError) error = { 0, };
  const char *text;
  gsize length;

  if (type != SOUP_WEBSOCKET_DATA_TEXT)
    {
      send_error (self, "bad_json", "Binary frames are not accepted; send JSON in text frames", NULL);
      return;
    }

  text = g_bytes_get_data (bytes, &length);
  if (length > SONDE_MAX_CLIENT_MESSAGE)
    {
      g_autofree char *message_text =
        g_strdup_printf ("Message of %" G_GSIZE_FORMAT " bytes exceeds the limit of %d bytes",
                         length, SONDE_MAX_CLIENT_MESSAGE);
      send_error (self, "too_large", message_text, NULL);
      return;
    }

  /* The message is read in sonde-native-messages.c; what it asks of the
   * server's state is checked here. */
  if (!_sonde_native_message_parse (text, length, sonde_server_get_interval_min (self->server),
                                    sonde_server_get_interval_max (self->server), &message, &error))
    {
      send_error (self, error.code, error.message, error.subscription);
      return;
    }

  switch (message.type)
    {
    case SONDE_NATIVE_MESSAGE_SUBSCRIBE:
      handle_subscribe (self, &message);
      break;

    case SONDE_NATIVE_MESSAGE_UNSUBSCRIBE:
      handle_unsubscribe (self, &message);
      break;

    case SONDE_NATIVE_MESSAGE_PING:
      handle_ping (self, &message);
      break;

    case SONDE_NATIVE_MESSAGE_CATALOG:
    default:
      send_control (self, _sonde_native_get_catalog_frame (self->format));
      break;
    }
}

static void
native_client_rate_limited (gpointer owner)
{
  send_error (owner, "rate_limited", "Too many messages; slow down", NULL);
}

static GBytes *
native_client_heartbeat (gpointer owner)
{
  return _sonde_native_encode_heartbeat (g_get_real_time ());
}

static void
native_client_closed (gpointer owner)
{
  SondeNativeClient *self = owner;

  _sonde_server_client_closed (self->server, self);
}

static const SondeConnectionCallbacks native_callbacks = {
  .message = native_client_message,
  .rate_limited = native_client_rate_limited,
  .heartbeat = native_client_heartbeat,
  .closed = native_client_closed,
};

/* Query parameters preset the default subscription:
 * /ws/v1?metrics=cpu.*,memory.usage_percent&interval_ms=500&events=alert
 * (&host=NAME: another host's, such as a hub's agent). */
static void
apply_query (SondeNativeClient *self,
             GHashTable        *query)
{
  const char *metrics = query ? g_hash_table_lookup (query, "metrics") : NULL;
  const char *interval = query ? g_hash_table_lookup (query, "interval_ms") : NULL;
  const char *events = query ? g_hash_table_lookup (query, "events") : NULL;
  const char *host = query ? g_hash_table_lookup (query, "host") : NULL;
  g_auto(GStrv) patterns = NULL;
  g_auto(GStrv) event_types = NULL;
  guint64 interval_ms = default_interval (self);

  if (metrics == NULL && interval == NULL && events == NULL)
    {
      static const char * const everything[] = { "*", NULL };

      if (add_subscription (self, "default", everything, NULL, default_interval (self), host))
        self->implicit_default = TRUE;
      return;
    }

  patterns = g_strsplit (metrics ? metrics : "*", ",", -1);
  if (events != NULL)
    event_types = g_strsplit (events, ",", -1);

  if (!check_events (self, (const char * const *) event_types, "default"))
    return;

  /* As in a subscribe message: not an integer is a malformed
   * subscription, an integer out of bounds is out of range. */
  if (interval != NULL && !g_ascii_string_to_unsigned (interval, 10, 0, G_MAXUINT, &interval_ms, NULL))
    {
      send_error (self, "invalid_subscription", "interval_ms must be an integer", "default");
      return;
    }

  if (interval != NULL &&
      (interval_ms < sonde_server_get_interval_min (self->server) ||
       interval_ms > sonde_server_get_interval_max (self->server)))
    {
      g_autofree char *text = g_strdup_printf ("interval_ms must be an integer between %u and %u",
                                               sonde_server_get_interval_min (self->server),
                                               sonde_server_get_interval_max (self->server));
      send_error (self, "interval_out_of_range", text, "default");
      return;
    }

  add_subscription (self, "default", (const char * const *) patterns,
                    (const char * const *) event_types, (guint) interval_ms, host);
}

static gpointer
native_client_accept (SondeServer             *server,
                      gpointer                 format_state,
                      SoupWebsocketConnection *websocket,
                      const char              *route,
                      GHashTable              *query)
{
  SondeNativeClient *self = g_new0 (SondeNativeClient, 1);

  self->server = server;
  self->format = format_state;
  self->subscriptions = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                                               (GDestroyNotify) subscription_free);
  self->connection = _sonde_connection_new (server, websocket, route, &native_callbacks, self);
  self->trusted = _sonde_server_websocket_is_trusted (server, websocket);

  send_control (self, _sonde_native_get_hello_frame (self->format));
  apply_query (self, query);
  _sonde_native_add_client (self->format, self);

  return self;
}

static void
native_client_free (gpointer client)
{
  SondeNativeClient *self = client;

  /* Leave the groups first: a frame must not reach a closed connection. */
  _sonde_native_remove_client (self->format, self);
  g_clear_pointer (&self->subscriptions, g_hash_table_unref);
  g_clear_pointer (&self->connection, _sonde_connection_free);
  g_free (self);
}

const SondeClientOps _sonde_native_client_ops = {
  .accept = native_client_accept,
  .free = native_client_free,
};
