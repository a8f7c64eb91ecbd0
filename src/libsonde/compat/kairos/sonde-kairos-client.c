/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "sonde-connection-private.h"
#include "sonde-engine-private.h"
#include "sonde-kairos-private.h"
#include "sonde-server-private.h"

/*
 * The kairos gateway's metrics stream (docs/formats/kairos.md)
 * at /ws/metrics:
 *
 *   {"type":"Snapshot","timestamp":"2024-11-07T10:30:00Z","requests_total":1547,...}
 *
 * at once on connect and then once per interval;
 *
 *   {"metrics":[...],"interval_seconds":2,"include_history":true}
 *
 * from the client replaces its subscription; TimeSeries messages answer
 * include_history, Error messages (in the words of the Rust original's
 * serde errors) answer bad input, and Heartbeat fills silences.
 *
 * The kairos names are the gateway collector's fields (response_time_avg,
 * which the guide's own examples use, stands for avg_response_time); any
 * native metric name or pattern is accepted too, and its metrics appear
 * flattened as top-level members named "collector.field".
 *
 * Clients with the same metric list and interval share one hub group: the
 * group's subscription id is the list itself, so that its encoder knows
 * the names and their order, and the frame is built once per tick.
 *
 * This file keeps the client; sonde-kairos-private.h lists the others.
 */

/* TimeSeries cover the last hour at most. */
#define KAIROS_HISTORY_SECONDS      3600

typedef struct
{
  SondeServer     *server;
  SondeConnection *connection;
  SondeHubGroup   *group;
  GCancellable    *refresh;           /* while the first Snapshot waits for samples */
  gboolean         snapshot_pending;  /* no Snapshot sent since the subscription */
} KairosClient;

/* The client -------------------------------------------------------------- */

static void
send_error (KairosClient *self,
            const char   *message)
{
  g_autoptr(GBytes) frame = _sonde_kairos_encode_error (message);

  _sonde_connection_send_control (self->connection, frame);
}

static void
kairos_send_cb (gpointer       member,
                SondeHubGroup *group,
                GBytes        *frame)
{
  KairosClient *self = member;

  /* A slow client misses Snapshots; each is complete, so nothing says
   * how many (the seed's format has no place for it). */
  if (_sonde_connection_send_stream (self->connection, frame))
    self->snapshot_pending = FALSE;
}

/* The engine's latest samples, but the gateway's as of now. Its latest
 * sample may predate this connection (the gateway is sampled once a
 * second while anything holds it, as the daemon's history does): the
 * first Snapshot would tell the client it is not connected,
 * active_connections 0 for the first client. Refreshing would not help,
 * as the engine keeps a held collector's recent sample; the statistics
 * themselves are at hand, and are what the gateway collector reports. */
static SondeTickView *
build_first_view (SondeEngine *engine)
{
  gint64 now = g_get_real_time ();
  g_autoptr(SondeTickView) latest = _sonde_engine_build_view (engine, now);
  guint n_entries = _sonde_tick_view_get_n_entries (latest);
  SondeTickView *view = _sonde_tick_view_new (now, n_entries);

  for (guint i = 0; i < n_entries; i++)
    {
      const SondeTickEntry *entry = _sonde_tick_view_get_entry (latest, i);

      if (entry->sample != NULL && g_str_equal (entry->name, "gateway"))
        {
          g_autoptr(JsonObject) data = sonde_gateway_stats_to_json (sonde_engine_get_gateway_stats (engine));
          g_autoptr(SondeSample) sample = sonde_sample_new ("gateway", now, data);

          _sonde_tick_view_add (view, entry->name, sample, NULL, FALSE);
        }
      else
        _sonde_tick_view_add (view, entry->name, entry->sample, entry->failure, entry->stale);
    }

  return view;
}

static void
send_snapshot_now (KairosClient *self)
{
  SondeEngine *engine = sonde_server_get_engine (self->server);
  g_autoptr(SondeTickView) view = build_first_view (engine);
  g_autoptr(GBytes) frame = _sonde_kairos_encode_snapshot (self->group, view);

  self->snapshot_pending = FALSE;
  _sonde_connection_send_control (self->connection, frame);
}

static void
refresh_cb (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(GError) error = NULL;
  KairosClient *self;

  /* Cancelled when the client went away or subscribed again: then
   * @user_data must not be touched. */
  if (!sonde_engine_refresh_finish (SONDE_ENGINE (source), result, &error) &&
      g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  self = user_data;
  g_clear_object (&self->refresh);
  if (self->snapshot_pending)
    send_snapshot_now (self);
}

/* A Snapshot at once: from the latest samples, or as soon as collectors
 * that were never sampled have been (or a tick came first). */
static void
send_first_snapshot (KairosClient *self)
{
  SondeEngine *engine = sonde_server_get_engine (self->server);
  SondeFilter *filter = _sonde_hub_group_get_filter (self->group);
  g_autoptr(GPtrArray) collectors = sonde_engine_list_collectors (engine);
  g_autoptr(GStrvBuilder) unsampled = g_strv_builder_new ();
  g_auto(GStrv) names = NULL;

  if (self->refresh != NULL)
    {
      g_cancellable_cancel (self->refresh);
      g_clear_object (&self->refresh);
    }

  self->snapshot_pending = TRUE;

  for (guint i = 0; i < collectors->len; i++)
    {
      const char *name = sonde_collector_get_name (g_ptr_array_index (collectors, i));

      if (_sonde_filter_wants_collector (filter, name) && sonde_engine_get_latest (engine, name) == NULL)
        g_strv_builder_add (unsampled, name);
    }

  names = g_strv_builder_end (unsampled);
  if (names[0] == NULL)
    {
      send_snapshot_now (self);
      return;
    }

  self->refresh = g_cancellable_new ();
  sonde_engine_refresh_async (engine, (const char * const *) names, self->refresh, refresh_cb, self);
}

static gboolean
is_numeric_metric (SondeEngine *engine,
                   const char  *name)
{
  SondeMetric *metric = sonde_engine_lookup_metric (engine, name);

  if (metric == NULL)
    return FALSE;

  switch (sonde_metric_get_kind (metric))
    {
    case SONDE_METRIC_KIND_GAUGE:
    case SONDE_METRIC_KIND_COUNTER:
    case SONDE_METRIC_KIND_RATE:
      return TRUE;
    default:
      return FALSE;
    }
}

/* The TimeSeries of a subscription, built one at a time as the client
 * reads them (SondeConnection's bulk replies): a client that does not
 * read costs one frame of memory, however much history it asks for. */
typedef struct
{
  SondeHistory *history;
  GPtrArray    *requested;  /* names as the client asked, one per series */
  GPtrArray    *metrics;    /* the native metric of each */
  guint         next;
  guint         seconds;
} SeriesReply;

static void
series_reply_free (gpointer data)
{
  SeriesReply *reply = data;

  g_object_unref (reply->history);
  g_ptr_array_unref (reply->requested);
  g_ptr_array_unref (reply->metrics);
  g_free (reply);
}

static GBytes *
series_reply_next (gpointer data)
{
  SeriesReply *reply = data;
  guint i = reply->next++;

  if (i >= reply->metrics->len)
    return NULL;

  return _sonde_kairos_encode_time_series (reply->history, g_ptr_array_index (reply->requested, i),
                                           g_ptr_array_index (reply->metrics, i), reply->seconds);
}

/* Each series once, however many patterns match its metric (a pattern's
 * metrics are named by their full names; aliases keep their own). */
static void
series_reply_add (SeriesReply *reply,
                  const char  *requested,
                  const char  *metric)
{
  for (guint i = 0; i < reply->requested->len; i++)
    if (g_str_equal (g_ptr_array_index (reply->requested, i), requested))
      return;

  g_ptr_array_add (reply->requested, g_strdup (requested));
  g_ptr_array_add (reply->metrics, g_strdup (metric));
}

/* One TimeSeries per numeric metric of the subscription, named as asked
 * for; a pattern's metrics by their full names. */
static void
send_history (KairosClient             *self,
              SondeKairosSubscription *sub)
{
  SondeEngine *engine = sonde_server_get_engine (self->server);
  SondeHistory *history = sonde_engine_get_history (engine);
  g_autoptr(GPtrArray) metrics = NULL;
  SeriesReply *reply;

  if (history == NULL)
    {
      send_error (self, "History is not available");
      return;
    }

  reply = g_new0 (SeriesReply, 1);
  reply->history = g_object_ref (history);
  reply->requested = g_ptr_array_new_with_free_func (g_free);
  reply->metrics = g_ptr_array_new_with_free_func (g_free);
  reply->seconds = MIN (KAIROS_HISTORY_SECONDS, sonde_history_get_length (history));
  metrics = sonde_engine_list_metrics (engine);

  for (guint i = 0; sub->names[i] != NULL; i++)
    {
      const char *name = sub->names[i];
      const char *field = _sonde_kairos_field (name);

      if (field != NULL)
        {
          g_autofree char *metric = g_strconcat ("gateway.", field, NULL);

          series_reply_add (reply, name, metric);
          continue;
        }

      if (_sonde_filter_is_exact_name (name))
        {
          if (sonde_history_has_metric (history, name) || is_numeric_metric (engine, name))
            series_reply_add (reply, name, name);
        }
      else
        {
          const char *single[] = { name, NULL };
          g_autoptr(SondeFilter) filter = _sonde_filter_new (_sonde_engine_get_catalog (engine), single, NULL);

          for (guint j = 0; filter != NULL && j < metrics->len; j++)
            {
              SondeMetric *metric = g_ptr_array_index (metrics, j);
              const char *full = sonde_metric_get_name (metric);

              if (_sonde_filter_matches (filter, sonde_metric_get_collector (metric),
                                         sonde_metric_get_field (metric)) &&
                  sonde_history_has_metric (history, full))
                series_reply_add (reply, full, full);
            }
        }
    }

  _sonde_connection_send_bulk (self->connection, series_reply_next, reply, series_reply_free);
}

/* Joins the subscription's group, then leaves the previous one: a client
 * that subscribes to what it had keeps its group and its samples. */
static void
subscribe (KairosClient             *self,
           SondeKairosSubscription *sub)
{
  SondeHub *hub = _sonde_server_get_hub (self->server);
  SondeHubGroup *previous = self->group;

  self->group = _sonde_hub_join (hub, &_sonde_kairos_snapshot_encoding, sub->id,
                                 g_steal_pointer (&sub->filter), sub->interval_seconds * 1000,
                                 NULL, kairos_send_cb, self);
  _sonde_kairos_prepare_group (self->group, _sonde_engine_get_catalog (sonde_server_get_engine (self->server)));
  if (previous != NULL)
    _sonde_hub_leave (hub, previous, self);

  if (sub->include_history)
    send_history (self, sub);

  send_first_snapshot (self);
}

static void
kairos_message (gpointer               owner,
                SoupWebsocketDataType  type,
                GBytes                *bytes)
{
  KairosClient *self = owner;
  SondeKairosSubscription sub = { NULL, NULL, NULL, 0, FALSE };
  g_autofree char *error = NULL;
  const char *text;
  gsize length;

  if (type != SOUP_WEBSOCKET_DATA_TEXT)
    {
      send_error (self, "Invalid subscription: binary messages are not supported; send JSON text");
      return;
    }

  text = g_bytes_get_data (bytes, &length);
  if (length > SONDE_MAX_CLIENT_MESSAGE)
    {
      g_autofree char *message =
        g_strdup_printf ("Invalid subscription: message of %" G_GSIZE_FORMAT " bytes exceeds the limit of %d bytes",
                         length, SONDE_MAX_CLIENT_MESSAGE);
      send_error (self, message);
      return;
    }

  /* A bad message changes nothing: the previous subscription stays. */
  error = _sonde_kairos_parse_subscription (self->server, text, length, &sub);
  if (error != NULL)
    send_error (self, error);
  else
    subscribe (self, &sub);

  _sonde_kairos_subscription_clear (&sub);
}

static void
kairos_rate_limited (gpointer owner)
{
  send_error (owner, "Rate limit exceeded: too many messages");
}

static GBytes *
kairos_heartbeat (gpointer owner)
{
  return _sonde_kairos_encode_heartbeat (g_get_real_time ());
}

static void
kairos_closed (gpointer owner)
{
  KairosClient *self = owner;

  _sonde_server_client_closed (self->server, self);
}

static const SondeConnectionCallbacks kairos_callbacks = {
  .message = kairos_message,
  .rate_limited = kairos_rate_limited,
  .heartbeat = kairos_heartbeat,
  .closed = kairos_closed,
};

static gpointer
kairos_accept (SondeServer             *server,
               gpointer                 format_state,
               SoupWebsocketConnection *websocket,
               const char              *route,
               GHashTable              *query)
{
  KairosClient *self = g_new0 (KairosClient, 1);
  SondeKairosSubscription sub = { NULL, NULL, NULL, 0, FALSE };

  self->server = server;
  self->connection = _sonde_connection_new (server, websocket, route, &kairos_callbacks, self);

  /* All six kairos metrics at 1 s. */
  _sonde_kairos_subscription_init_default (&sub, server);

  subscribe (self, &sub);
  _sonde_kairos_subscription_clear (&sub);
  return self;
}

static void
kairos_free (gpointer client)
{
  KairosClient *self = client;

  if (self->refresh != NULL)
    {
      g_cancellable_cancel (self->refresh);
      g_clear_object (&self->refresh);
    }

  _sonde_hub_leave (_sonde_server_get_hub (self->server), self->group, self);
  _sonde_connection_free (self->connection);
  g_free (self);
}

static const SondeClientOps kairos_client_ops = {
  .accept = kairos_accept,
  .free = kairos_free,
};

static void
register_kairos (SondeServer *server,
                 gpointer     state,
                 SoupServer  *soup_server,
                 const char  *path)
{
  _sonde_server_add_websocket_route (server, soup_server, path, &kairos_client_ops, state);
}

/* kairos keeps no state of its own: its groups live in the hub. */
static const char * const *
list_kairos_metrics (void)
{
  return _sonde_kairos_catalog_metrics;
}

static gpointer
kairos_state_new (SondeServer *server)
{
  return server;
}

static void
kairos_state_free (gpointer state)
{
}

static const SondeFormatListener kairos_listeners[] = {
  { "kairos", "/ws/metrics", "/ws/metrics", 5900, register_kairos },
  { NULL }
};

const SondeFormat _sonde_kairos_format = {
  .name = "kairos",
  .listeners = kairos_listeners,
  .list_catalog_metrics = list_kairos_metrics,
  .state_new = kairos_state_new,
  .state_free = kairos_state_free,
};
