/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <math.h>

#include "sonde-engine-private.h"
#include "sonde-event.h"
#include "sonde-json-private.h"
#include "sonde-vstats-private.h"

/*
 * The servers a hub knows: this host, always online, and one per agent
 * identity (docs/formats/vstats.md, "Tokens": an [agent NAME] token names
 * its server NAME; a shared token's agent is named by the hostname of its
 * reports). An agent's server is added at its first report or heartbeat,
 * goes offline after `offline-after-seconds` without either, and is
 * removed after `remove-after-seconds`.
 *
 * Each keeps its latest report, for the dashboards and the REST routes,
 * and a short history: one slot per second of wall-clock time, so that
 * reports replayed after an outage land in their place whatever order
 * they come in, and a report whose second is already there is a
 * duplicate. history-seconds × 148 bytes per server (44 KiB for the
 * default 300 s).
 */

static GBytes *
encode_added (SondeVstatsServer *server)
{
  g_autoptr(JsonObject) frame = json_object_new ();
  JsonObject *data = json_object_new ();

  json_object_set_string_member (data, "id", server->id);
  json_object_set_string_member (data, "name", server->name);
  json_object_set_string_member (data, "location", server->location != NULL ? server->location : "");
  json_object_set_string_member (frame, "type", "server_added");
  json_object_set_object_member (frame, "data", data);
  return _sonde_json_object_to_bytes (frame);
}

static GBytes *
encode_status (SondeVstatsServer *server)
{
  g_autoptr(JsonObject) frame = json_object_new ();
  g_autofree char *timestamp = _sonde_format_timestamp (g_get_real_time ());
  JsonObject *data = json_object_new ();

  json_object_set_string_member (data, "server_id", server->id);
  json_object_set_boolean_member (data, "online", server->online);
  json_object_set_string_member (frame, "type", "status");
  json_object_set_object_member (frame, "data", data);
  json_object_set_string_member (frame, "timestamp", timestamp);
  return _sonde_json_object_to_bytes (frame);
}

GBytes *
_sonde_vstats_encode_removed (const char *id)
{
  g_autoptr(JsonObject) frame = json_object_new ();
  JsonObject *data = json_object_new ();

  json_object_set_string_member (data, "id", id);
  json_object_set_string_member (frame, "type", "server_removed");
  json_object_set_object_member (frame, "data", data);
  return _sonde_json_object_to_bytes (frame);
}

/* The native protocol's events of the same name, for its clients that
 * subscribed to them ("events": ["server_added", ...]). */
static void
emit_event (SondeVstats       *self,
            const char        *type,
            SondeVstatsServer *server,
            const char        *id_member)
{
  g_autoptr(JsonObject) data = json_object_new ();
  g_autoptr(SondeEvent) event = NULL;

  json_object_set_string_member (data, id_member, server->id);
  if (g_str_equal (type, "server_added"))
    {
      json_object_set_string_member (data, "name", server->name);
      json_object_set_string_member (data, "location", server->location != NULL ? server->location : "");
    }
  else if (g_str_equal (type, "server_status"))
    json_object_set_boolean_member (data, "online", server->online);

  event = sonde_event_new (type, "vstats", g_get_real_time (), data);
  _sonde_engine_emit_event (sonde_server_get_engine (self->server), event);
}

GBytes *
_sonde_vstats_server_added_frame (SondeVstatsServer *server)
{
  return server->added_frame;
}

GBytes *
_sonde_vstats_server_status_frame (SondeVstatsServer *server)
{
  return server->status_frame;
}

static void
set_online (SondeVstats       *self,
            SondeVstatsServer *server,
            gboolean           online)
{
  if (server->online == online && server->status_frame != NULL)
    return;

  server->online = online;
  g_clear_pointer (&server->status_frame, g_bytes_unref);
  server->status_frame = encode_status (server);
  _sonde_vstats_broadcast_event (self, server->status_frame, server->id,
                                 online ? SONDE_VSTATS_TOLD_ONLINE : SONDE_VSTATS_TOLD_OFFLINE);
  emit_event (self, "server_status", server, "server_id");
}

SondeVstatsServer *
_sonde_vstats_server_new (SondeVstats *self,
                          const char  *id,
                          const char  *name,
                          const char  *location,
                          gboolean     local)
{
  SondeVstatsServer *server = g_new0 (SondeVstatsServer, 1);

  server->id = g_strdup (id);
  server->name = g_strdup (name);
  server->location = g_strdup (location);
  server->local = local;
  server->online = local;
  server->last_seen_us = g_get_monotonic_time ();
  server->added_frame = encode_added (server);
  server->status_frame = encode_status (server);

  if (!local && self->history_seconds > 0)
    {
      server->history_length = self->history_seconds;
      server->history_seconds = g_new0 (guint32, server->history_length);
      server->history_values = g_new (double, (gsize) server->history_length * VSTATS_N_HISTORY);
      server->history_derived = g_new0 (guint8, server->history_length);
    }

  g_hash_table_insert (self->servers, server->id, server);
  if (!local)
    g_hash_table_insert (self->by_name, server->name, server);
  return server;
}

void
_sonde_vstats_server_free (SondeVstatsServer *server)
{
  if (server->client != NULL)
    _sonde_vstats_agent_client_detach (server->client);
  g_clear_pointer (&server->latest, json_object_unref);
  g_clear_pointer (&server->added_frame, g_bytes_unref);
  g_clear_pointer (&server->status_frame, g_bytes_unref);
  g_free (server->history_seconds);
  g_free (server->history_values);
  g_free (server->history_derived);
  g_free (server->id);
  g_free (server->name);
  g_free (server->location);
  g_free (server);
}

/* Before any dashboard connects: those connected are not told again. */
void
_sonde_vstats_server_set_location (SondeVstatsServer *server,
                                   const char        *location)
{
  g_free (server->location);
  server->location = g_strdup (location);
  g_clear_pointer (&server->added_frame, g_bytes_unref);
  server->added_frame = encode_added (server);
}

SondeVstatsServer *
_sonde_vstats_ensure_agent (SondeVstats *self,
                            const char  *name,
                            const char  *location)
{
  SondeVstatsServer *server = g_hash_table_lookup (self->by_name, name);
  g_autofree char *id = NULL;

  if (server != NULL)
    return server;

  if (g_hash_table_size (self->servers) >= SONDE_VSTATS_MAX_SERVERS)
    return NULL;

  /* The id of a name never changes: a server that comes back after its
   * removal, or after the hub restarted, is the same server. */
  id = _sonde_vstats_make_agent_id (name);
  if (g_hash_table_contains (self->servers, id))
    return NULL;

  /* Its status follows at once: it is added because it reported. */
  server = _sonde_vstats_server_new (self, id, name, location, FALSE);
  _sonde_vstats_broadcast_event (self, server->added_frame, server->id, SONDE_VSTATS_TOLD_ADDED);
  emit_event (self, "server_added", server, "id");
  return server;
}

void
_sonde_vstats_server_seen (SondeVstats       *self,
                           SondeVstatsServer *server)
{
  server->last_seen_us = g_get_monotonic_time ();
  set_online (self, server, TRUE);
}

/* The second the newest data of @server belongs to: the wall clock, or
 * the latest report when the agent's clock is ahead. */
static gint64
newest_second (SondeVstatsServer *server)
{
  return MAX (g_get_real_time (), server->latest_us) / G_USEC_PER_SEC;
}

static double *
slot_values (SondeVstatsServer *server,
             guint              slot)
{
  return server->history_values + (gsize) slot * VSTATS_N_HISTORY;
}

/* How far apart two reports may be for a rate between their totals. */
#define RATE_SPAN 10

static gboolean
slot_holds (SondeVstatsServer *server,
            gint64             second)
{
  return server->history_seconds[second % server->history_length] == (guint32) second;
}

/* The rate between the totals of two seconds; a counter that went back
 * was reset (a reboot): no rate. */
static double
rate_between (double earlier,
              double later,
              gint64 seconds)
{
  if (isnan (earlier) || isnan (later) || later < earlier)
    return 0;
  return (later - earlier) / seconds;
}

/* Rates from the totals of the closest earlier second recorded, for
 * agents that send totals only (the seed's report). */
static void
derive_rates (SondeVstatsServer *server,
              SondeVstatsReport *report)
{
  gint64 second = report->timestamp_us / G_USEC_PER_SEC;
  double values[VSTATS_N_HISTORY];
  double rx = 0, tx = 0;

  _sonde_vstats_history_values (report->metrics, values);

  for (gint64 back = 1; back <= RATE_SPAN && back < server->history_length; back++)
    if (slot_holds (server, second - back))
      {
        double *previous = slot_values (server, (guint) ((second - back) % server->history_length));

        rx = rate_between (previous[VSTATS_H_NET_RX_TOTAL], values[VSTATS_H_NET_RX_TOTAL], back);
        tx = rate_between (previous[VSTATS_H_NET_TX_TOTAL], values[VSTATS_H_NET_TX_TOTAL], back);
        break;
      }

  _sonde_vstats_set_rates (report->metrics, rx, tx);
}

/* A replayed report fills a gap: the next second recorded had its rates
 * derived without it, from further back or from nothing. */
static void
rederive_next (SondeVstatsServer *server,
               gint64             second)
{
  double *values = slot_values (server, (guint) (second % server->history_length));

  for (gint64 ahead = 1; ahead <= RATE_SPAN && ahead < server->history_length; ahead++)
    if (slot_holds (server, second + ahead))
      {
        guint slot = (guint) ((second + ahead) % server->history_length);
        double *next = slot_values (server, slot);

        if (server->history_derived[slot])
          {
            next[VSTATS_H_NET_RX_RATE] = rate_between (values[VSTATS_H_NET_RX_TOTAL], next[VSTATS_H_NET_RX_TOTAL], ahead);
            next[VSTATS_H_NET_TX_RATE] = rate_between (values[VSTATS_H_NET_TX_TOTAL], next[VSTATS_H_NET_TX_TOTAL], ahead);
          }
        return;
      }
}

static void
dispatch_to_native (SondeVstats       *self,
                    SondeVstatsServer *server)
{
  SondeHub *hub = g_hash_table_lookup (self->host_hubs, server->id);
  g_autoptr(SondeTickView) view = NULL;

  if (hub == NULL || _sonde_hub_get_n_groups (hub) == 0)
    return;

  /* Groups are due on whole seconds of the wall clock, as the engine's
   * ticks are; an agent's report stands for its second. */
  view = _sonde_vstats_metrics_to_view (server->latest,
                                        server->latest_us / G_USEC_PER_SEC * G_USEC_PER_SEC);
  _sonde_hub_dispatch (hub, view);
}

void
_sonde_vstats_server_report (SondeVstats       *self,
                             SondeVstatsServer *server,
                             SondeVstatsReport *report)
{
  gint64 second = report->timestamp_us / G_USEC_PER_SEC;

  if (server->history_length > 0)
    {
      guint slot = (guint) (second % server->history_length);

      if (server->history_seconds[slot] == (guint32) second)
        {
          self->reports_duplicate++;
          _sonde_vstats_server_seen (self, server);
          return;
        }

      if (!report->has_rates)
        derive_rates (server, report);

      /* Older than the whole history: nothing to keep it in. */
      if (second > newest_second (server) - (gint64) server->history_length)
        {
          server->history_seconds[slot] = (guint32) second;
          server->history_derived[slot] = !report->has_rates;
          _sonde_vstats_history_values (report->metrics, slot_values (server, slot));
          rederive_next (server, second);
        }
    }
  else
    {
      if (report->timestamp_us == server->latest_us)
        {
          self->reports_duplicate++;
          _sonde_vstats_server_seen (self, server);
          return;
        }
      if (!report->has_rates)
        _sonde_vstats_set_rates (report->metrics, 0, 0);
    }

  self->reports_accepted++;
  _sonde_vstats_server_seen (self, server);

  /* Replayed reports fill the history; the dashboards show the latest. */
  if (report->timestamp_us <= server->latest_us)
    {
      self->reports_replayed++;
      return;
    }

  {
    g_autoptr(GBytes) frame = NULL;

    g_clear_pointer (&server->latest, json_object_unref);
    server->latest = g_steal_pointer (&report->metrics);
    server->latest_us = report->timestamp_us;

    frame = _sonde_vstats_encode_metrics (server->id, server->latest, server->latest_us);
    _sonde_vstats_broadcast_metrics (self, frame);
    dispatch_to_native (self, server);
  }
}

void
_sonde_vstats_watch (SondeVstats *self)
{
  gint64 now = g_get_monotonic_time ();
  g_autoptr(GPtrArray) removed = g_ptr_array_new_with_free_func ((GDestroyNotify) _sonde_vstats_server_free);
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, self->servers);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      SondeVstatsServer *server = value;
      gint64 idle = now - server->last_seen_us;

      if (server->local)
        continue;

      if (server->online && idle >= (gint64) self->offline_after * G_USEC_PER_SEC)
        set_online (self, server, FALSE);

      if (!server->online && idle >= (gint64) self->remove_after * G_USEC_PER_SEC)
        {
          g_hash_table_remove (self->by_name, server->name);
          g_hash_table_iter_steal (&iter);
          g_ptr_array_add (removed, server);
        }
    }

  for (guint i = 0; i < removed->len; i++)
    {
      SondeVstatsServer *server = g_ptr_array_index (removed, i);
      g_autoptr(GBytes) frame = _sonde_vstats_encode_removed (server->id);

      _sonde_vstats_broadcast_event (self, frame, server->id, SONDE_VSTATS_TOLD_NOTHING);
      emit_event (self, "server_removed", server, "id");
    }
}

JsonArray *
_sonde_vstats_server_history (SondeVstatsServer *server,
                              guint              metric,
                              guint              seconds)
{
  JsonArray *points = json_array_new ();
  gint64 newest;

  g_assert (metric < VSTATS_N_HISTORY);

  if (server->history_length == 0)
    return points;

  newest = newest_second (server);
  seconds = MIN (seconds, server->history_length);
  for (gint64 second = newest - seconds + 1; second <= newest; second++)
    {
      guint slot = (guint) (second % server->history_length);
      double value = slot_values (server, slot)[metric];
      JsonArray *point;

      if (server->history_seconds[slot] != (guint32) second || isnan (value))
        continue;

      point = json_array_sized_new (2);
      json_array_add_int_element (point, second * 1000);
      json_array_add_double_element (point, value);
      json_array_add_array_element (points, point);
    }

  return points;
}

/* An agent's server by name, else by id. */
SondeVstatsServer *
_sonde_vstats_find_host (SondeVstats *self,
                         const char  *host)
{
  SondeVstatsServer *server = g_hash_table_lookup (self->by_name, host);

  if (server == NULL)
    server = g_hash_table_lookup (self->servers, host);
  return server != NULL && !server->local ? server : NULL;
}
