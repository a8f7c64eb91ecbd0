/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "sonde-engine-private.h"
#include "sonde-json-private.h"
#include "sonde-kairos-private.h"

/*
 * The kairos dialect's server messages: Snapshot, TimeSeries, Error and
 * Heartbeat, as the seed's guide shows them.
 */

/* ISO 8601 UTC to the second, as chrono's serde output in the guide:
 * 2024-11-07T10:30:00Z */
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
latest_value (SondeTickView *view,
              const char    *collector,
              const char    *field)
{
  JsonObject *data = _sonde_tick_view_get_data (view, collector);

  return data ? json_object_get_member (data, field) : NULL;
}

/* What a Snapshot of a group holds, prepared once per group from its
 * names: the kairos gateway names, exact native names (always present,
 * null until sampled, so that clients find the key they asked for) and
 * native patterns (every metric they match, as "collector.field"). */
typedef struct
{
  char        *name;       /* as requested */
  char        *collector;  /* of an exact name or a kairos name */
  char        *field;
  SondeFilter *filter;     /* of a pattern; NULL for an exact name */
} PlanEntry;

static void
plan_entry_clear (PlanEntry *entry)
{
  g_free (entry->name);
  g_free (entry->collector);
  g_free (entry->field);
  g_clear_pointer (&entry->filter, _sonde_filter_free);
}

static GArray *
plan_new (SondeCatalog *catalog,
          const char   *names_text)
{
  g_auto(GStrv) names = g_strsplit (names_text, ",", -1);
  GArray *plan = g_array_new (FALSE, TRUE, sizeof (PlanEntry));

  g_array_set_clear_func (plan, (GDestroyNotify) plan_entry_clear);

  for (guint i = 0; names[i] != NULL; i++)
    {
      const char *kairos_field = _sonde_kairos_field (names[i]);
      PlanEntry entry = { g_strdup (names[i]), NULL, NULL, NULL };

      if (kairos_field != NULL)
        {
          entry.collector = g_strdup ("gateway");
          entry.field = g_strdup (kairos_field);
        }
      else if (_sonde_filter_is_exact_name (names[i]))
        {
          const char *dot = strchr (names[i], '.');

          entry.collector = g_strndup (names[i], dot - names[i]);
          entry.field = g_strdup (dot + 1);
        }
      else
        {
          const char *single[] = { names[i], NULL };

          /* Validated at subscription; NULL only for a name that matches
           * no collector any more, which then adds nothing. */
          entry.filter = _sonde_filter_new (catalog, single, NULL);
        }

      g_array_append_val (plan, entry);
    }

  return plan;
}

static void
add_pattern (JsonObject    *frame,
             SondeTickView *view,
             SondeFilter   *filter)
{
  for (guint i = 0; i < _sonde_tick_view_get_n_entries (view); i++)
    {
      const SondeTickEntry *entry = _sonde_tick_view_get_entry (view, i);
      const char *collector = entry->name;
      JsonObjectIter iter;
      const char *field;
      JsonNode *node;

      if (entry->sample == NULL || !_sonde_filter_wants_collector (filter, collector))
        continue;

      json_object_iter_init_ordered (&iter, sonde_sample_get_data (entry->sample));
      while (json_object_iter_next_ordered (&iter, &field, &node))
        {
          g_autofree char *member = NULL;

          if (!_sonde_filter_matches (filter, collector, field))
            continue;
          member = g_strconcat (collector, ".", field, NULL);
          set_value (frame, member, node);
        }
    }
}

void
_sonde_kairos_prepare_group (SondeHubGroup *group,
                             SondeCatalog  *catalog)
{
  if (_sonde_hub_group_get_encoder_data (group) != NULL)
    return;

  _sonde_hub_group_set_encoder_data (group, plan_new (catalog, _sonde_hub_group_get_params (group)),
                                     (GDestroyNotify) g_array_unref);
}

GBytes *
_sonde_kairos_encode_snapshot (SondeHubGroup *group,
                               SondeTickView *view)
{
  g_autoptr(JsonObject) frame = json_object_new ();
  g_autofree char *timestamp = _sonde_format_timestamp_seconds (_sonde_tick_view_get_timestamp (view));
  GArray *plan = _sonde_hub_group_get_encoder_data (group);

  g_assert (plan != NULL);

  json_object_set_string_member (frame, "type", "Snapshot");
  json_object_set_string_member (frame, "timestamp", timestamp);

  for (guint i = 0; i < plan->len; i++)
    {
      PlanEntry *entry = &g_array_index (plan, PlanEntry, i);

      if (entry->field != NULL)
        set_value (frame, entry->name, latest_value (view, entry->collector, entry->field));
      else if (entry->filter != NULL)
        add_pattern (frame, view, entry->filter);
    }

  return _sonde_json_object_to_bytes (frame);
}

const SondeHubEncoding _sonde_kairos_snapshot_encoding = { "kairos", _sonde_kairos_encode_snapshot, NULL };

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
        _sonde_format_timestamp_seconds (g_array_index (timestamps, gint64, i) * 1000);

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
  g_autofree char *timestamp = _sonde_format_timestamp_seconds (timestamp_us);

  json_object_set_string_member (frame, "type", "Heartbeat");
  json_object_set_string_member (frame, "timestamp", timestamp);
  return _sonde_json_object_to_bytes (frame);
}
