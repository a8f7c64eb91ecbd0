/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <math.h>
#include <string.h>

#include "sonde-connection-private.h"
#include "sonde-engine-private.h"
#include "sonde-json-private.h"
#include "sonde-resolvix-private.h"
#include "sonde-server-private.h"

/*
 * The resolvix telemetry stream, on /ws/telemetry and on the
 * compatibility listener on 8756 at "/": the guide's "Sample Telemetry
 * Data" document, every interval (60 s unless [resolvix]
 * telemetry-interval says otherwise), and once right after connecting,
 * so that a client need not wait a minute.
 *
 * Units, as in the guide: GB are 1024³ bytes and MB 1024² bytes, rounded
 * to two decimals; rates are per second; every percentage is rounded to
 * one decimal (the guide's and psutil's precision); packets_sent,
 * packets_recv, active_connections, process_count and pid are integers.
 * A value no collector could give (a missing plugin, nothing sampled yet)
 * is null, so that every documented key is always present.
 *
 * All clients of one server are one hub group (per node id and interval):
 * the document is built once per interval and the same bytes go to each.
 */

#define TELEMETRY_DIALECT "resolvix"
#define BYTES_PER_GB      (1024.0 * 1024.0 * 1024.0)
#define BYTES_PER_MB      (1024.0 * 1024.0)

static const char * const telemetry_collectors[] = {
  "cpu", "memory", "disk", "network", "processes", NULL
};

struct _SondeResolvixTelemetryClient
{
  SondeResolvix   *state;
  SondeConnection *connection;
  SondeHubGroup   *group;   /* NULL while telemetry is stopped */
};

/* The document ------------------------------------------------------------ */

typedef enum
{
  PERCENT,        /* one decimal */
  HUNDREDTHS,     /* two decimals (load averages) */
  GIGABYTES,      /* bytes -> GB, two decimals */
  MB_PER_SECOND,  /* bytes/s -> MB/s, two decimals */
  INTEGER,
  PERCENT_LIST,   /* [percent, ...] */
  PARTITIONS,     /* [{mount, ...}] -> {mount: {total_gb, used_gb, free_gb, usage_percent}} */
  TOP_PROCESSES,  /* [{pid, name, memory_percent}] */
} Conversion;

/* The document's members in order: metrics.SECTION[.OBJECT].KEY is the
 * catalog metric METRIC, converted. */
static const struct
{
  const char *section;
  const char *object;   /* a nested object of the section, or NULL */
  const char *key;
  const char *metric;
  Conversion  conversion;
} telemetry_fields[] = {
  { "cpu", NULL, "cpu_usage_percent", "cpu.usage_percent", PERCENT },
  { "cpu", NULL, "cpu_per_core_percent", "cpu.per_core_percent", PERCENT_LIST },
  { "cpu", NULL, "load_avg_1min", "cpu.load_avg_1min", HUNDREDTHS },
  { "cpu", NULL, "load_avg_5min", "cpu.load_avg_5min", HUNDREDTHS },
  { "cpu", NULL, "load_avg_15min", "cpu.load_avg_15min", HUNDREDTHS },
  { "memory", NULL, "memory_total_gb", "memory.total_bytes", GIGABYTES },
  { "memory", NULL, "memory_used_gb", "memory.used_bytes", GIGABYTES },
  { "memory", NULL, "memory_available_gb", "memory.available_bytes", GIGABYTES },
  { "memory", NULL, "memory_usage_percent", "memory.usage_percent", PERCENT },
  { "memory", NULL, "swap_total_gb", "memory.swap_total_bytes", GIGABYTES },
  { "memory", NULL, "swap_used_gb", "memory.swap_used_bytes", GIGABYTES },
  { "memory", NULL, "swap_usage_percent", "memory.swap_usage_percent", PERCENT },
  { "disk", NULL, "disk_usage", "disk.partitions", PARTITIONS },
  { "disk", "disk_io", "read_mb_per_sec", "disk.read_bytes_per_sec", MB_PER_SECOND },
  { "disk", "disk_io", "write_mb_per_sec", "disk.write_bytes_per_sec", MB_PER_SECOND },
  { "network", NULL, "bytes_sent_mb_per_sec", "network.tx_bytes_per_sec", MB_PER_SECOND },
  { "network", NULL, "bytes_recv_mb_per_sec", "network.rx_bytes_per_sec", MB_PER_SECOND },
  { "network", NULL, "packets_sent", "network.packets_sent", INTEGER },
  { "network", NULL, "packets_recv", "network.packets_recv", INTEGER },
  { "network", NULL, "active_connections", "network.active_connections", INTEGER },
  { "processes", NULL, "process_count", "processes.count", INTEGER },
  { "processes", NULL, "top_memory_processes", "processes.top_memory", TOP_PROCESSES },
};

static double
round_to (double value,
          int    decimals)
{
  double scale = decimals == 1 ? 10.0 : 100.0;

  return round (value * scale) / scale;
}

/* NaN when @key is missing or not a number. */
static double
get_number (JsonObject *object,
            const char *key)
{
  JsonNode *node = object ? json_object_get_member (object, key) : NULL;

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node))
    return NAN;

  switch (json_node_get_value_type (node))
    {
    case G_TYPE_INT64:
    case G_TYPE_DOUBLE:
      return json_node_get_double (node);
    default:
      return NAN;
    }
}

static void
set_rounded (JsonObject *out,
             const char *key,
             double      value,
             int         decimals)
{
  if (isfinite (value))
    json_object_set_double_member (out, key, round_to (value, decimals));
  else
    json_object_set_null_member (out, key);
}

static void
set_integer (JsonObject *out,
             const char *key,
             double      value)
{
  if (isfinite (value))
    json_object_set_int_member (out, key, (gint64) value);
  else
    json_object_set_null_member (out, key);
}

static JsonArray *
get_array (JsonObject *object,
           const char *key)
{
  JsonNode *node = object ? json_object_get_member (object, key) : NULL;

  return node != NULL && JSON_NODE_HOLDS_ARRAY (node) ? json_node_get_array (node) : NULL;
}

static JsonArray *
convert_percent_list (JsonArray *in)
{
  JsonArray *out = json_array_new ();

  for (guint i = 0; in != NULL && i < json_array_get_length (in); i++)
    {
      JsonNode *node = json_array_get_element (in, i);

      if (JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) != G_TYPE_STRING)
        json_array_add_double_element (out, round_to (json_node_get_double (node), 1));
    }

  return out;
}

static JsonObject *
convert_partitions (JsonArray *partitions)
{
  JsonObject *usage = json_object_new ();

  for (guint i = 0; partitions != NULL && i < json_array_get_length (partitions); i++)
    {
      JsonNode *node = json_array_get_element (partitions, i);
      JsonObject *partition;
      const char *mount;
      JsonObject *entry;

      if (!JSON_NODE_HOLDS_OBJECT (node))
        continue;
      partition = json_node_get_object (node);
      mount = json_object_get_string_member_with_default (partition, "mount", NULL);
      if (mount == NULL)
        continue;

      entry = json_object_new ();
      set_rounded (entry, "total_gb", get_number (partition, "total_bytes") / BYTES_PER_GB, 2);
      set_rounded (entry, "used_gb", get_number (partition, "used_bytes") / BYTES_PER_GB, 2);
      set_rounded (entry, "free_gb", get_number (partition, "free_bytes") / BYTES_PER_GB, 2);
      set_rounded (entry, "usage_percent", get_number (partition, "usage_percent"), 1);
      json_object_set_object_member (usage, mount, entry);
    }

  return usage;
}

static JsonArray *
convert_top_processes (JsonArray *top)
{
  JsonArray *processes = json_array_new ();

  for (guint i = 0; top != NULL && i < json_array_get_length (top); i++)
    {
      JsonNode *node = json_array_get_element (top, i);
      JsonObject *process;
      JsonObject *entry;

      if (!JSON_NODE_HOLDS_OBJECT (node))
        continue;
      process = json_node_get_object (node);

      entry = json_object_new ();
      set_integer (entry, "pid", get_number (process, "pid"));
      json_object_set_string_member (entry, "name",
                                     json_object_get_string_member_with_default (process, "name", ""));
      set_rounded (entry, "memory_percent", get_number (process, "memory_percent"), 1);
      json_array_add_object_element (processes, entry);
    }

  return processes;
}

/* Sets @key of @out from @field of the collector's latest @data. */
static void
convert (JsonObject *out,
         const char *key,
         JsonObject *data,
         const char *field,
         Conversion  conversion)
{
  switch (conversion)
    {
    case PERCENT:
      set_rounded (out, key, get_number (data, field), 1);
      break;
    case HUNDREDTHS:
      set_rounded (out, key, get_number (data, field), 2);
      break;
    case GIGABYTES:
      set_rounded (out, key, get_number (data, field) / BYTES_PER_GB, 2);
      break;
    case MB_PER_SECOND:
      set_rounded (out, key, get_number (data, field) / BYTES_PER_MB, 2);
      break;
    case INTEGER:
      set_integer (out, key, get_number (data, field));
      break;
    case PERCENT_LIST:
      json_object_set_array_member (out, key, convert_percent_list (get_array (data, field)));
      break;
    case PARTITIONS:
      json_object_set_object_member (out, key, convert_partitions (get_array (data, field)));
      break;
    case TOP_PROCESSES:
      json_object_set_array_member (out, key, convert_top_processes (get_array (data, field)));
      break;
    default:
      g_assert_not_reached ();
    }
}

/* The member @name of @parent, an object made on first use. */
static JsonObject *
child_object (JsonObject *parent,
              const char *name)
{
  if (!json_object_has_member (parent, name))
    json_object_set_object_member (parent, name, json_object_new ());
  return json_object_get_object_member (parent, name);
}

GBytes *
_sonde_resolvix_encode_telemetry (SondeTickView *view,
                                  const char    *node_id)
{
  g_autoptr(JsonObject) document = json_object_new ();
  g_autofree char *timestamp = _sonde_format_timestamp_seconds (_sonde_tick_view_get_timestamp (view));
  JsonObject *metrics = json_object_new ();

  for (guint i = 0; i < G_N_ELEMENTS (telemetry_fields); i++)
    {
      const char *metric = telemetry_fields[i].metric;
      const char *dot = strchr (metric, '.');
      g_autofree char *collector = g_strndup (metric, dot - metric);
      JsonObject *out = child_object (metrics, telemetry_fields[i].section);

      if (telemetry_fields[i].object != NULL)
        out = child_object (out, telemetry_fields[i].object);
      convert (out, telemetry_fields[i].key, _sonde_tick_view_get_data (view, collector),
               dot + 1, telemetry_fields[i].conversion);
    }

  json_object_set_string_member (document, "timestamp", timestamp);
  json_object_set_string_member (document, "node_id", node_id);
  json_object_set_object_member (document, "metrics", metrics);
  return _sonde_json_object_to_bytes (document);
}

const char * const *
_sonde_resolvix_list_catalog_metrics (void)
{
  static const char **metrics = NULL;

  if (g_once_init_enter (&metrics))
    {
      const char **list = g_new0 (const char *, G_N_ELEMENTS (telemetry_fields) + 1);

      for (guint i = 0; i < G_N_ELEMENTS (telemetry_fields); i++)
        list[i] = telemetry_fields[i].metric;
      g_once_init_leave (&metrics, list);
    }

  return metrics;
}

/* The group ---------------------------------------------------------------- */

/*
 * The engine samples at most every SONDE_INTERVAL_MAX_MS. Longer
 * intervals (up to an hour) are sampled at the longest divisor of the
 * interval the engine accepts: ticks are aligned to wall-clock multiples
 * of it, so every multiple of the interval is a tick, and the document is
 * only built on those.
 */
static guint
sampling_interval_ms (guint seconds)
{
  guint interval_ms = seconds * 1000;

  /* Ends at the latest with k == interval_ms. */
  for (guint k = 1; ; k++)
    if (interval_ms % k == 0 && interval_ms / k <= SONDE_INTERVAL_MAX_MS)
      return interval_ms / k;
}

/* The group's parameters are "INTERVAL NODE_ID": all an encoding
 * needs, and what sets groups apart. */
static GBytes *
telemetry_encode (SondeHubGroup *group,
                  SondeTickView *view)
{
  gint64 tick_us = _sonde_tick_view_get_timestamp (view);
  const char *id = _sonde_hub_group_get_params (group);
  char *node_id = NULL;
  guint64 seconds = g_ascii_strtoull (id, &node_id, 10);

  g_assert (seconds > 0 && *node_id == ' ');

  if ((tick_us / 1000) % (gint64) (seconds * 1000) != 0)
    return NULL;

  return _sonde_resolvix_encode_telemetry (view, node_id + 1);
}

static const SondeHubEncoding telemetry_encoding = { TELEMETRY_DIALECT, telemetry_encode, NULL };

static void
telemetry_send_cb (gpointer       member,
                   SondeHubGroup *group,
                   GBytes        *frame)
{
  SondeResolvixTelemetryClient *self = member;

  /* A tick between two intervals. */
  if (frame == NULL)
    return;

  /* A slow client misses a document: each one is complete. */
  _sonde_connection_send_stream (self->connection, frame);
}

static SondeFilter *
telemetry_filter (SondeEngine *engine)
{
  g_autoptr(GPtrArray) patterns = g_ptr_array_new ();

  for (guint i = 0; telemetry_collectors[i] != NULL; i++)
    if (sonde_engine_get_collector (engine, telemetry_collectors[i]) != NULL)
      g_ptr_array_add (patterns, (gpointer) telemetry_collectors[i]);

  /* Without any of them, the documents are all null, still on time. */
  if (patterns->len == 0)
    g_ptr_array_add (patterns, (gpointer) "*");
  g_ptr_array_add (patterns, NULL);

  return _sonde_filter_new (_sonde_engine_get_catalog (engine), (const char * const *) patterns->pdata, NULL);
}

static void
telemetry_join (SondeResolvixTelemetryClient *self,
                SondeResolvix                *state)
{
  SondeEngine *engine = sonde_server_get_engine (state->server);
  g_autofree char *id = g_strdup_printf ("%u %s", state->interval,
                                         _sonde_resolvix_get_node_id (state));

  g_assert (self->group == NULL);
  self->group = _sonde_hub_join (_sonde_server_get_hub (state->server), &telemetry_encoding, id,
                                 telemetry_filter (engine), sampling_interval_ms (state->interval),
                                 NULL, telemetry_send_cb, self);
}

static void
telemetry_leave (SondeResolvixTelemetryClient *self)
{
  if (self->group == NULL)
    return;

  _sonde_hub_leave (_sonde_server_get_hub (self->state->server), self->group, self);
  self->group = NULL;
}

/* At once ------------------------------------------------------------------ */

typedef struct
{
  GWeakRef server;
} Immediate;

static void
immediate_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  Immediate *immediate = user_data;
  g_autoptr(SondeServer) server = g_weak_ref_get (&immediate->server);
  g_autoptr(SondeTickView) view = NULL;
  g_autoptr(GBytes) frame = NULL;
  SondeResolvix *state;

  sonde_engine_refresh_finish (SONDE_ENGINE (source), result, NULL);
  g_weak_ref_clear (&immediate->server);
  g_free (immediate);

  if (server == NULL)
    return;

  state = _sonde_server_get_format_state (server, &_sonde_resolvix_format);
  state->refreshing = FALSE;
  if (state->waiting->len == 0 || !state->telemetry_running)
    {
      g_ptr_array_set_size (state->waiting, 0);
      return;
    }

  /* Built once for all who were waiting. */
  view = _sonde_engine_build_view (SONDE_ENGINE (source), g_get_real_time ());
  frame = _sonde_resolvix_encode_telemetry (view, _sonde_resolvix_get_node_id (state));
  for (guint i = 0; i < state->waiting->len; i++)
    {
      SondeResolvixTelemetryClient *client = g_ptr_array_index (state->waiting, i);

      _sonde_connection_send_stream (client->connection, frame);
    }
  g_ptr_array_set_size (state->waiting, 0);
}

/* Sends @self a document built from fresh samples, without waiting for
 * the interval. */
static void
send_at_once (SondeResolvixTelemetryClient *self,
              SondeResolvix                *state)
{
  Immediate *immediate;

  if (!g_ptr_array_find (state->waiting, self, NULL))
    g_ptr_array_add (state->waiting, self);
  if (state->refreshing)
    return;

  state->refreshing = TRUE;
  immediate = g_new0 (Immediate, 1);
  g_weak_ref_init (&immediate->server, state->server);
  sonde_engine_refresh_async (sonde_server_get_engine (state->server), telemetry_collectors, NULL,
                              immediate_cb, immediate);
}

void
_sonde_resolvix_regroup_telemetry (SondeResolvix *self)
{
  if (!self->telemetry_running)
    return;

  for (guint i = 0; i < self->telemetry_clients->len; i++)
    {
      SondeResolvixTelemetryClient *client = g_ptr_array_index (self->telemetry_clients, i);
      SondeHubGroup *old_group = g_steal_pointer (&client->group);

      /* Join the new group before leaving the old one: the collectors both
       * need keep running, and keep their rates. */
      telemetry_join (client, self);
      if (old_group != NULL)
        _sonde_hub_leave (_sonde_server_get_hub (self->server), old_group, client);
    }
}

/* Stopped, the clients stay connected but leave their group: nothing is
 * sampled for them and nothing sent until telemetry starts again, with a
 * document at once. */
void
_sonde_resolvix_set_telemetry_running (SondeResolvix *self,
                                       gboolean       running)
{
  if (self->telemetry_running == running)
    return;

  self->telemetry_running = running;
  for (guint i = 0; i < self->telemetry_clients->len; i++)
    {
      SondeResolvixTelemetryClient *client = g_ptr_array_index (self->telemetry_clients, i);

      if (running)
        {
          telemetry_join (client, self);
          send_at_once (client, self);
        }
      else
        telemetry_leave (client);
    }

  if (!running)
    g_ptr_array_set_size (self->waiting, 0);
}

/* The clients -------------------------------------------------------------- */

/* The stream takes no input: anything gets the error form, and the
 * stream goes on. */
static void
telemetry_message (gpointer               owner,
                   SoupWebsocketDataType  type,
                   GBytes                *message)
{
  SondeResolvixTelemetryClient *self = owner;
  g_autoptr(GBytes) frame = _sonde_resolvix_error_frame ("The telemetry stream takes no messages");

  _sonde_connection_send_control (self->connection, frame);
}

static void
telemetry_rate_limited (gpointer owner)
{
  SondeResolvixTelemetryClient *self = owner;
  g_autoptr(GBytes) frame = _sonde_resolvix_error_frame ("Too many messages: some were dropped");

  _sonde_connection_send_control (self->connection, frame);
}

static void
telemetry_closed (gpointer owner)
{
  SondeResolvixTelemetryClient *self = owner;

  _sonde_server_client_closed (self->state->server, self);
}

static const SondeConnectionCallbacks telemetry_callbacks = {
  .message = telemetry_message,
  .rate_limited = telemetry_rate_limited,
  .closed = telemetry_closed,
};

static gpointer
telemetry_accept (SondeServer             *server,
                  gpointer                 format_state,
                  SoupWebsocketConnection *websocket,
                  const char              *route,
                  GHashTable              *query)
{
  SondeResolvix *state = format_state;
  SondeResolvixTelemetryClient *self = g_new0 (SondeResolvixTelemetryClient, 1);

  self->state = state;
  self->connection = _sonde_connection_new (server, websocket, route, &telemetry_callbacks, self);
  g_ptr_array_add (state->telemetry_clients, self);

  if (state->telemetry_running)
    {
      telemetry_join (self, state);
      send_at_once (self, state);
    }

  return self;
}

static void
telemetry_free (gpointer client)
{
  SondeResolvixTelemetryClient *self = client;
  SondeResolvix *state = self->state;

  telemetry_leave (self);
  g_ptr_array_remove_fast (state->telemetry_clients, self);
  g_ptr_array_remove (state->waiting, self);
  _sonde_connection_free (self->connection);
  g_free (self);
}

static const SondeClientOps telemetry_client_ops = {
  .accept = telemetry_accept,
  .free = telemetry_free,
};

/* "/" is the compatibility listener's path (ws://NODE:8756): its port is
 * the one start_telemetry and the status report as ws_port. */
void
_sonde_resolvix_telemetry_register (SondeServer *server,
                                    gpointer     format_state,
                                    SoupServer  *soup_server,
                                    const char  *path)
{
  SondeResolvix *state = format_state;

  if (g_str_equal (path, "/"))
    g_ptr_array_add (state->telemetry_listeners, g_object_ref (soup_server));
  _sonde_server_add_websocket_route (server, soup_server, path, &telemetry_client_ops, state);
}
