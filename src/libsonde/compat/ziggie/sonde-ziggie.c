/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <math.h>
#include <string.h>

#include "sonde-connection-private.h"
#include "sonde-engine-private.h"
#include "sonde-json-private.h"
#include "sonde-server-private.h"
#include "sonde-ziggie-private.h"

/*
 * The ziggie control center's public metrics stream
 * (docs/formats/ziggie.md): every second
 *   {"cpu": 25.5, "memory": 60.2, "disk": 45.3, "timestamp": "2025-11-10T12:30:45.123456"}
 * or, when a collection failed,
 *   {"error": "Metric collection failed: ...", "timestamp": "..."}
 * and the stream goes on. Every client gets the same frame: one hub group.
 */

/* The stream's fields, in order, as catalog metrics: each field is named
 * after the metric's collector. */
static const char * const ziggie_metrics[] = {
  "cpu.usage_percent", "memory.usage_percent", "disk.usage_percent", NULL
};

typedef struct
{
  SondeServer     *server;
  SondeConnection *connection;
  SondeHubGroup   *group;
} ZiggieClient;

/* Python's datetime.now().isoformat(): local time, microseconds, no zone. */
static char *
format_ziggie_timestamp (gint64 timestamp_us)
{
  g_autoptr(GDateTime) local = g_date_time_new_from_unix_local (timestamp_us / G_USEC_PER_SEC);
  g_autofree char *seconds = g_date_time_format (local, "%Y-%m-%dT%H:%M:%S");

  return g_strdup_printf ("%s.%06d", seconds, (int) (timestamp_us % G_USEC_PER_SEC));
}

/* psutil reports these percentages to one decimal. */
static double
round1 (double value)
{
  return round (value * 10.0) / 10.0;
}

static GBytes *
encode_error_message (const char *message,
                      gint64      timestamp_us)
{
  g_autoptr(JsonObject) frame = json_object_new ();
  g_autofree char *timestamp = format_ziggie_timestamp (timestamp_us);

  json_object_set_string_member (frame, "error", message);
  json_object_set_string_member (frame, "timestamp", timestamp);
  return _sonde_json_object_to_bytes (frame);
}

static GBytes *
encode_error (const char *failure,
              gint64      timestamp_us)
{
  g_autofree char *message = g_strdup_printf ("Metric collection failed: %s", failure);

  return encode_error_message (message, timestamp_us);
}

static GBytes *
ziggie_encode (SondeHubGroup *group,
               SondeTickView *view)
{
  gint64 tick_us = _sonde_tick_view_get_timestamp (view);
  g_autoptr(JsonObject) frame = json_object_new ();
  g_autofree char *timestamp = NULL;

  for (guint i = 0; ziggie_metrics[i] != NULL; i++)
    {
      const char *dot = strchr (ziggie_metrics[i], '.');
      g_autofree char *collector = g_strndup (ziggie_metrics[i], dot - ziggie_metrics[i]);
      const char *metric_field = dot + 1;
      const char *failure = _sonde_tick_view_get_failure (view, collector);
      const SondeTickEntry *entry = _sonde_tick_view_lookup (view, collector);
      double value;

      if (failure != NULL)
        {
          g_autofree char *detail = g_strdup_printf ("%s: %s", collector, failure);
          return encode_error (detail, tick_us);
        }

      value = entry != NULL && entry->sample != NULL
              ? sonde_sample_get_double (entry->sample, metric_field) : NAN;
      if (isnan (value))
        {
          g_autofree char *detail = g_strdup_printf ("%s: no %s sampled yet", collector, metric_field);
          return encode_error (detail, tick_us);
        }

      json_object_set_double_member (frame, collector, round1 (value));
    }

  timestamp = format_ziggie_timestamp (tick_us);
  json_object_set_string_member (frame, "timestamp", timestamp);
  return _sonde_json_object_to_bytes (frame);
}

static const SondeHubEncoding ziggie_encoding = { "ziggie", ziggie_encode, NULL };

static void
ziggie_send_cb (gpointer       member,
                SondeHubGroup *group,
                GBytes        *frame)
{
  ZiggieClient *self = member;

  /* A slow client simply misses seconds: each frame is complete. */
  _sonde_connection_send_stream (self->connection, frame);
}

/* ziggie's stream takes no input; anything a client sends is answered
 * with the stream's own error form, and the stream goes on. */
static void
ziggie_message (gpointer               owner,
                SoupWebsocketDataType  type,
                GBytes                *message)
{
  ZiggieClient *self = owner;
  g_autoptr(GBytes) frame = encode_error_message ("This stream takes no messages", g_get_real_time ());

  _sonde_connection_send_control (self->connection, frame);
}

static void
ziggie_closed (gpointer owner)
{
  ZiggieClient *self = owner;

  _sonde_server_client_closed (self->server, self);
}

static const SondeConnectionCallbacks ziggie_callbacks = {
  .message = ziggie_message,
  .closed = ziggie_closed,
};

static gpointer
ziggie_accept (SondeServer             *server,
               gpointer                 format_state,
               SoupWebsocketConnection *websocket,
               const char              *route,
               GHashTable              *query)
{
  SondeEngine *engine = sonde_server_get_engine (server);
  ZiggieClient *self = g_new0 (ZiggieClient, 1);
  g_autoptr(GError) error = NULL;
  SondeFilter *filter;

  self->server = server;
  self->connection = _sonde_connection_new (server, websocket, route, &ziggie_callbacks, self);

  filter = _sonde_filter_new (_sonde_engine_get_catalog (engine), ziggie_metrics, &error);
  if (filter == NULL)
    {
      /* Without the cpu, memory or disk collector there is nothing to say
       * but why, once a second: still the documented error form. */
      g_autoptr(GBytes) frame = encode_error (error->message, g_get_real_time ());

      _sonde_connection_send_control (self->connection, frame);
      filter = _sonde_filter_new (_sonde_engine_get_catalog (engine), (const char * const []) { "*", NULL }, NULL);
    }

  self->group = _sonde_hub_join (_sonde_engine_get_hub (engine), &ziggie_encoding, NULL, filter,
                                 1000, NULL, ziggie_send_cb, self);
  return self;
}

static void
ziggie_free (gpointer client)
{
  ZiggieClient *self = client;

  _sonde_hub_leave (_sonde_server_get_hub (self->server), self->group, self);
  _sonde_connection_free (self->connection);
  g_free (self);
}

static const SondeClientOps ziggie_client_ops = {
  .accept = ziggie_accept,
  .free = ziggie_free,
};

static void
register_ziggie (SondeServer *server,
                 gpointer     state,
                 SoupServer  *soup_server,
                 const char  *path)
{
  _sonde_server_add_websocket_route (server, soup_server, path, &ziggie_client_ops, state);
}

/* ziggie keeps no state of its own: its one group lives in the hub. */
static const char * const *
list_ziggie_metrics (void)
{
  return ziggie_metrics;
}

static gpointer
ziggie_state_new (SondeServer *server)
{
  return server;
}

static void
ziggie_state_free (gpointer state)
{
}

static const SondeFormatListener ziggie_listeners[] = {
  /* ziggie's own port was sonded's default one. */
  { "ziggie", "/api/system/metrics", "/api/system/metrics", 54112, register_ziggie },
  { NULL }
};

const SondeFormat _sonde_ziggie_format = {
  .name = "ziggie",
  .listeners = ziggie_listeners,
  .list_catalog_metrics = list_ziggie_metrics,
  .state_new = ziggie_state_new,
  .state_free = ziggie_state_free,
};
