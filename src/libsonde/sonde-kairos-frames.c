/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "sonde-engine-private.h"
#include "sonde-json-private.h"
#include "sonde-kairos-private.h"

/*
 * The kairos dialect's server messages: Snapshot, TimeSeries, Error and
 * Heartbeat, as the seed's guide shows them.
 */

/* ISO 8601 UTC to the second, as chrono's serde output in the guide:
 * 2024-11-07T10:30:00Z */
static char *
format_kairos_timestamp (gint64 timestamp_us)
{
  g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc (timestamp_us / G_USEC_PER_SEC);

  if (dt == NULL)
    return g_strdup ("1970-01-01T00:00:00Z");
  return g_date_time_format (dt, "%Y-%m-%dT%H:%M:%SZ");
}

GBytes *
_sonde_kairos_encode_error (const char *message)
{
  g_autoptr(JsonObject) frame = json_object_new ();

  json_object_set_string_member (frame, "type", "Error");
  json_object_set_string_member (frame, "message", message);
  return _sonde_json_object_to_bytes (frame);
}

static void
set_value (JsonObject *frame,
           const char *member,
           JsonNode   *value)
{
  json_object_set_member (frame, member, value ? json_node_copy (value) : json_node_new (JSON_NODE_NULL));
}

static JsonNode *
latest_value (SondeEngine *engine,
              const char  *collector,
              const char  *field)
{
  SondeSample *sample = sonde_engine_get_latest (engine, collector);

  return sample ? json_object_get_member (sonde_sample_get_data (sample), field) : NULL;
}

/* Every metric a native pattern matches, as "collector.field" members. An
 * exact name is always present (null until sampled), so that clients find
 * the key they asked for. */
static void
add_native (JsonObject  *frame,
            SondeEngine *engine,
            const char  *name)
{
  g_autoptr(GPtrArray) collectors = NULL;
  SondeKairosPattern pattern;

  _sonde_kairos_pattern_init (&pattern, name);

  if (_sonde_kairos_pattern_is_exact (&pattern))
    {
      set_value (frame, name, latest_value (engine, pattern.collector, pattern.field));
      _sonde_kairos_pattern_clear (&pattern);
      return;
    }

  collectors = sonde_engine_list_collectors (engine);
  for (guint i = 0; i < collectors->len; i++)
    {
      const char *collector = sonde_collector_get_name (g_ptr_array_index (collectors, i));
      SondeSample *sample;
      JsonObjectIter iter;
      const char *field;
      JsonNode *node;

      if (!_sonde_kairos_pattern_wants_collector (&pattern, collector))
        continue;

      sample = sonde_engine_get_latest (engine, collector);
      if (sample == NULL)
        continue;

      json_object_iter_init_ordered (&iter, sonde_sample_get_data (sample));
      while (json_object_iter_next_ordered (&iter, &field, &node))
        {
          g_autofree char *member = NULL;

          if (!_sonde_kairos_pattern_matches (&pattern, collector, field))
            continue;
          member = g_strconcat (collector, ".", field, NULL);
          set_value (frame, member, node);
        }
    }

  _sonde_kairos_pattern_clear (&pattern);
}

GBytes *
_sonde_kairos_encode_snapshot (SondeEngine        *engine,
                               const char * const *names,
                               gint64              timestamp_us)
{
  g_autoptr(JsonObject) frame = json_object_new ();
  g_autofree char *timestamp = format_kairos_timestamp (timestamp_us);

  json_object_set_string_member (frame, "type", "Snapshot");
  json_object_set_string_member (frame, "timestamp", timestamp);

  for (guint i = 0; names[i] != NULL; i++)
    {
      const char *field = _sonde_kairos_field (names[i]);

      if (field != NULL)
        set_value (frame, names[i], latest_value (engine, "gateway", field));
      else
        add_native (frame, engine, names[i]);
    }

  return _sonde_json_object_to_bytes (frame);
}

/* Once per tick for the whole group. */
GBytes *
_sonde_kairos_encode_group (SondeHubGroup *group,
                            SondeEngine   *engine,
                            gint64         tick_us)
{
  g_auto(GStrv) names = g_strsplit (_sonde_hub_group_get_subscription_id (group), ",", -1);

  return _sonde_kairos_encode_snapshot (engine, (const char * const *) names, tick_us);
}

GBytes *
_sonde_kairos_encode_time_series (SondeHistory *history,
                                  const char   *requested,
                                  const char   *metric,
                                  guint         seconds)
{
  g_autoptr(JsonObject) frame = json_object_new ();
  g_autoptr(GArray) timestamps = NULL;
  g_autoptr(GArray) values = NULL;
  JsonArray *points;
  guint n_points;

  n_points = sonde_history_get_points (history, metric, seconds, &timestamps, &values);
  points = json_array_sized_new (n_points);
  for (guint i = 0; i < n_points; i++)
    {
      JsonObject *point = json_object_new ();
      g_autofree char *timestamp =
        format_kairos_timestamp (g_array_index (timestamps, gint64, i) * 1000);

      json_object_set_string_member (point, "timestamp", timestamp);
      json_object_set_double_member (point, "value", g_array_index (values, double, i));
      json_array_add_object_element (points, point);
    }

  json_object_set_string_member (frame, "type", "TimeSeries");
  json_object_set_string_member (frame, "metric_name", requested);
  json_object_set_array_member (frame, "data_points", points);
  return _sonde_json_object_to_bytes (frame);
}

GBytes *
_sonde_kairos_encode_heartbeat (gint64 timestamp_us)
{
  g_autoptr(JsonObject) frame = json_object_new ();
  g_autofree char *timestamp = format_kairos_timestamp (timestamp_us);

  json_object_set_string_member (frame, "type", "Heartbeat");
  json_object_set_string_member (frame, "timestamp", timestamp);
  return _sonde_json_object_to_bytes (frame);
}
