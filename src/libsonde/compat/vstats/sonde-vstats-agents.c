/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "sonde-json-private.h"
#include "sonde-server-private.h"
#include "sonde-vstats-private.h"

/*
 * Agents (/ws/agent?token=T): they push the seed's `metrics` reports and
 * `heartbeat`s. A connection without a known token is closed at once
 * (1008 "invalid token"). Each report is checked before anything of it is
 * kept or passed on (sonde-vstats-check.c); a bad one gets
 * {"type":"error","message":...} and is counted, and the connection
 * lives on. More than SONDE_VSTATS_REPORTS_PER_SECOND reports a second
 * (after a burst) are refused the same way.
 *
 * An agent that connects with `&ack=1` (sonded's does) gets
 * {"type":"ack","timestamp":...} for each report the hub has taken,
 * duplicates included, and for each it refused for what it holds, so that
 * it can drop it from what it would replay.
 */

/* "Try Again Later" (RFC 6455 registry); libsoup 3.2 has no name for it. */
#define CLOSE_TRY_AGAIN_LATER 1013

struct _SondeVstatsAgentClient
{
  SondeVstats       *vstats;
  SondeServer       *server;
  SondeConnection   *connection;
  char              *token_name;     /* its [agent NAME], or NULL for a shared token */
  char              *token_location;
  SondeVstatsServer *identity;       /* the server it reports as, once known */
  gboolean           acks;
  gboolean           refused;
  double             tokens;
  gint64             tokens_updated_us;
  gint64             last_limit_error_us;
};

/* The named agent or shared token @websocket's handshake presented,
 * matched by the server core in constant time. */
static gboolean
find_token (SondeVstats                  *self,
            SoupWebsocketConnection      *websocket,
            const SondeVstatsNamedAgent **named)
{
  int match = _sonde_server_match_client_token (websocket, (const char * const *) self->tokens);

  *named = NULL;
  if (match < 0)
    return FALSE;
  if ((guint) match < self->named_agents->len)
    *named = g_ptr_array_index (self->named_agents, match);
  return TRUE;
}

static void
send_error (SondeVstatsAgentClient *self,
            const char             *message)
{
  g_autoptr(GBytes) frame = _sonde_vstats_encode_error (message);

  _sonde_connection_send_control (self->connection, frame);
}

/* One for each report: printed rather than built, the time being the
 * hub's own ISO 8601 text. */
static void
send_ack (SondeVstatsAgentClient *self,
          gint64                  timestamp_us)
{
  g_autofree char *timestamp = _sonde_format_timestamp (timestamp_us);
  char *text = g_strdup_printf ("{\"type\":\"ack\",\"timestamp\":\"%s\"}", timestamp);
  g_autoptr(GBytes) frame = g_bytes_new_take (text, strlen (text));

  _sonde_connection_send_control (self->connection, frame);
}

void
_sonde_vstats_agent_client_close (SondeVstatsAgentClient *self,
                                  const char             *reason)
{
  _sonde_connection_close (self->connection, SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION, reason);
}

/* The server it reported as is gone (removed, or taken by a newer
 * connection): the next report finds or adds it anew. */
void
_sonde_vstats_agent_client_detach (SondeVstatsAgentClient *self)
{
  if (self->identity != NULL && self->identity->client == self)
    self->identity->client = NULL;
  self->identity = NULL;
}

/* The server @self reports as: its token's name, else @hostname. A newer
 * connection of the same server takes over from an older one, which may
 * be a dead connection not noticed yet. */
static SondeVstatsServer *
bind_identity (SondeVstatsAgentClient *self,
               const char             *hostname)
{
  const char *name = self->token_name != NULL ? self->token_name : hostname;
  SondeVstatsServer *server;

  if (self->identity != NULL)
    {
      if (g_str_equal (self->identity->name, name))
        return self->identity;
      send_error (self, "hostname: differs from the earlier reports of this connection");
      return NULL;
    }

  server = _sonde_vstats_ensure_agent (self->vstats, name, self->token_name ? self->token_location : NULL);
  if (server == NULL)
    {
      self->vstats->agents_refused++;
      send_error (self, "The hub knows as many servers as it can; try again later");
      _sonde_connection_close (self->connection, CLOSE_TRY_AGAIN_LATER, "hub full");
      return NULL;
    }

  if (server->client != NULL && server->client != self)
    {
      SondeVstatsAgentClient *older = server->client;

      _sonde_vstats_agent_client_detach (older);
      _sonde_vstats_agent_client_close (older, "replaced by a newer connection");
    }

  server->client = self;
  self->identity = server;
  return server;
}

/* A token bucket of its own for reports: the connection's flood limit is
 * for any message, and looser. */
static gboolean
take_report_token (SondeVstatsAgentClient *self)
{
  gint64 now = g_get_monotonic_time ();

  self->tokens = MIN (SONDE_VSTATS_REPORT_BURST,
                      self->tokens + (now - self->tokens_updated_us) * (double) SONDE_VSTATS_REPORTS_PER_SECOND / G_USEC_PER_SEC);
  self->tokens_updated_us = now;
  if (self->tokens < 1.0)
    return FALSE;

  self->tokens -= 1.0;
  return TRUE;
}

static void
report_rate_limited (SondeVstatsAgentClient *self)
{
  gint64 now = g_get_monotonic_time ();

  self->vstats->reports_rate_limited++;
  /* One error a second is enough to say it. */
  if (now - self->last_limit_error_us < G_USEC_PER_SEC)
    return;
  self->last_limit_error_us = now;
  send_error (self, "Too many reports: at most " G_STRINGIFY (SONDE_VSTATS_REPORTS_PER_SECOND)
                    " a second; this one was dropped");
}

/* A report refused for what it holds will never be taken: it is
 * acknowledged all the same, so that the agent does not send it again.
 * (One refused for the rate or a full hub is not: it may be, later.) */
static void
ack_refused (SondeVstatsAgentClient *self,
             JsonObject             *data)
{
  const char *text;
  gint64 timestamp_us;

  if (!self->acks)
    return;
  text = _sonde_json_get_string_member (data, "timestamp");
  if (text != NULL && _sonde_vstats_parse_timestamp (text, &timestamp_us))
    send_ack (self, timestamp_us);
}

static void
handle_report (SondeVstatsAgentClient *self,
               JsonObject             *data)
{
  SondeVstats *vstats = self->vstats;
  g_auto(SondeVstatsReport) report = { 0, };
  g_autoptr(GError) error = NULL;
  SondeVstatsServer *server;
  gint64 timestamp_us;

  if (!take_report_token (self))
    {
      report_rate_limited (self);
      return;
    }

  if (!_sonde_vstats_parse_report (data, &report, &error))
    {
      g_autofree char *text = g_strdup_printf ("Invalid report: %s", error->message);

      vstats->reports_rejected++;
      send_error (self, text);
      ack_refused (self, data);
      return;
    }

  if (self->token_name == NULL && report.hostname == NULL)
    {
      vstats->reports_rejected++;
      send_error (self, "Invalid report: hostname: missing; an agent with a shared token is "
                        "known by its hostname");
      ack_refused (self, data);
      return;
    }

  server = bind_identity (self, report.hostname);
  if (server == NULL)
    {
      vstats->reports_rejected++;
      return;
    }

  timestamp_us = report.timestamp_us;
  _sonde_vstats_server_report (vstats, server, &report);
  if (self->acks)
    send_ack (self, timestamp_us);
}

static void
handle_heartbeat (SondeVstatsAgentClient *self)
{
  self->vstats->heartbeats++;

  /* An agent with a shared token is known once it reported. */
  if (self->identity == NULL && self->token_name == NULL)
    return;
  if (self->identity == NULL && bind_identity (self, NULL) == NULL)
    return;
  _sonde_vstats_server_seen (self->vstats, self->identity);
}

static void
agent_message (gpointer               owner,
               SoupWebsocketDataType  type,
               GBytes                *bytes)
{
  SondeVstatsAgentClient *self = owner;
  g_auto(SondeVstatsAgentMessage) message = { 0, };
  g_autoptr(GError) error = NULL;
  gsize length;
  const char *text = g_bytes_get_data (bytes, &length);

  if (self->refused)
    return;

  if (!_sonde_vstats_read_agent_message (type, text, length, &message, &error))
    {
      self->vstats->reports_rejected++;
      send_error (self, error->message);
    }
  else if (message.heartbeat)
    handle_heartbeat (self);
  else
    handle_report (self, message.data);
}

static void
agent_rate_limited (gpointer owner)
{
  SondeVstatsAgentClient *self = owner;

  self->vstats->reports_rate_limited++;
  send_error (self, "Too many messages; slow down");
}

static void
agent_closed (gpointer owner)
{
  SondeVstatsAgentClient *self = owner;

  _sonde_server_client_closed (self->server, self);
}

static const SondeConnectionCallbacks agent_callbacks = {
  .message = agent_message,
  .rate_limited = agent_rate_limited,
  .closed = agent_closed,
};

static gpointer
agent_accept (SondeServer             *server,
              gpointer                 format_state,
              SoupWebsocketConnection *websocket,
              const char              *route,
              GHashTable              *query)
{
  SondeVstats *vstats = format_state;
  SondeVstatsAgentClient *self = g_new0 (SondeVstatsAgentClient, 1);
  const char *ack = query != NULL ? g_hash_table_lookup (query, "ack") : NULL;
  const SondeVstatsNamedAgent *named = NULL;

  self->vstats = vstats;
  self->server = server;
  self->tokens = SONDE_VSTATS_REPORT_BURST;
  self->tokens_updated_us = g_get_monotonic_time ();
  self->connection = _sonde_connection_new (server, websocket, route, &agent_callbacks, self);

  /* Neither the token nor anything derived from it is logged. */
  if (!find_token (vstats, websocket, &named))
    {
      vstats->tokens_refused++;
      self->refused = TRUE;
      _sonde_vstats_agent_client_close (self, "invalid token");
      return self;
    }

  if (named != NULL)
    {
      self->token_name = g_strdup (named->name);
      self->token_location = g_strdup (named->location);
    }
  self->acks = g_strcmp0 (ack, "1") == 0;
  soup_websocket_connection_set_keepalive_interval (websocket, SONDE_VSTATS_PING_INTERVAL);

  g_ptr_array_add (vstats->agents, self);
  _sonde_vstats_ensure_watching (vstats);
  return self;
}

static void
agent_free (gpointer client)
{
  SondeVstatsAgentClient *self = client;

  _sonde_vstats_agent_client_detach (self);
  g_ptr_array_remove_fast (self->vstats->agents, self);
  g_clear_pointer (&self->connection, _sonde_connection_free);
  g_free (self->token_name);
  g_free (self->token_location);
  g_free (self);
}

/* Agents present tokens of their own, checked in agent_accept(): the
 * server's token, if any, is not asked of them. They still come through
 * the listener's connection caps and byte budget like any client. */
static const SondeClientOps agent_ops = {
  .accept = agent_accept,
  .free = agent_free,
  .kind = SONDE_ROUTE_OWN_TOKENS,
};

void
_sonde_vstats_agents_register (SondeServer *server,
                               gpointer     state,
                               SoupServer  *soup_server,
                               const char  *path)
{
  _sonde_server_add_websocket_route (server, soup_server, path, &agent_ops, state);
}
