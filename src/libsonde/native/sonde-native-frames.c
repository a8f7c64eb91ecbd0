/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "sonde-engine-private.h"
#include "sonde-engine-snapshot-private.h"
#include "sonde-json-private.h"
#include "sonde-native-frames-private.h"
#include "sonde-version.h"

/* A group's snapshot is shared by every client that asked for the same
 * metrics at the same interval, whatever it named its subscription: the
 * shared frame has no "subscription" member, and each subscription id
 * gets it spliced in after the type, once per tick. */
#define SNAPSHOT_HEAD "{\"type\":\"snapshot\","

/* Written as text around the view's data: the members in the order the
 * protocol documents, each collector's data copied from the view. */
static GBytes *
encode_snapshot (SondeHubGroup *group,
                 SondeTickView *view)
{
  g_autoptr(GString) stale = g_string_new (NULL);
  GString *frame = g_string_sized_new (4096);

  g_string_append (frame, SNAPSHOT_HEAD);
  g_string_append_printf (frame, "\"seq\":%" G_GUINT64_FORMAT ",\"timestamp\":",
                          _sonde_hub_group_get_seq (group));
  _sonde_append_json_string (frame, _sonde_tick_view_get_timestamp_text (view));
  g_string_append (frame, ",\"data\":");
  _sonde_tick_view_write_data (view, _sonde_hub_group_get_filter (group), frame, stale);
  if (stale->len > 0)
    {
      g_string_append (frame, ",\"stale\":");
      g_string_append_len (frame, stale->str, stale->len);
    }
  g_string_append_c (frame, '}');

  return g_string_free_to_bytes (frame);
}

static GBytes *
label_snapshot (GBytes     *frame,
                const char *subscription_id)
{
  gsize length;
  const char *text = g_bytes_get_data (frame, &length);
  gsize head = strlen (SNAPSHOT_HEAD);
  GString *out;

  g_return_val_if_fail (length > head && memcmp (text, SNAPSHOT_HEAD, head) == 0, g_bytes_ref (frame));

  out = g_string_sized_new (length + strlen (subscription_id) + 20);
  g_string_append_len (out, text, head);
  g_string_append (out, "\"subscription\":");
  _sonde_append_json_string (out, subscription_id);
  g_string_append_c (out, ',');
  g_string_append_len (out, text + head, length - head);
  return g_string_free_to_bytes (out);
}

const SondeHubEncoding _sonde_native_snapshot_encoding = {
  "native", encode_snapshot, label_snapshot
};

GBytes *
_sonde_native_encode_catalog (SondeEngine *engine)
{
  g_autoptr(JsonObject) catalog = _sonde_engine_build_catalog (engine);
  g_autoptr(JsonObject) frame = json_object_new ();

  json_object_set_string_member (frame, "type", "catalog");
  json_object_set_array_member (frame, "metrics",
                                json_array_ref (json_object_get_array_member (catalog, "metrics")));
  return _sonde_json_object_to_bytes (frame);
}

GBytes *
_sonde_native_encode_hello (SondeEngine *engine,
                            guint        interval_min_ms,
                            guint        interval_max_ms)
{
  g_autoptr(JsonObject) frame = json_object_new ();
  g_autoptr(GPtrArray) collectors = sonde_engine_list_collectors (engine);
  JsonArray *names = json_array_new ();

  for (guint i = 0; i < collectors->len; i++)
    json_array_add_string_element (names, sonde_collector_get_name (g_ptr_array_index (collectors, i)));

  json_object_set_string_member (frame, "type", "hello");
  json_object_set_int_member (frame, "protocol", SONDE_PROTOCOL_VERSION);
  json_object_set_string_member (frame, "server", "sonde");
  json_object_set_string_member (frame, "version", SONDE_VERSION_S);
  json_object_set_string_member (frame, "hostname", g_get_host_name ());
  json_object_set_array_member (frame, "collectors", names);
  json_object_set_int_member (frame, "interval_min_ms", interval_min_ms);
  json_object_set_int_member (frame, "interval_max_ms", interval_max_ms);
  json_object_set_int_member (frame, "default_interval_ms", CLAMP (1000, interval_min_ms, interval_max_ms));

  return _sonde_json_object_to_bytes (frame);
}

GBytes *
_sonde_native_encode_event (SondeEvent *event)
{
  g_autoptr(JsonObject) frame = json_object_new ();
  g_autofree char *timestamp = _sonde_format_timestamp (sonde_event_get_timestamp (event));

  json_object_set_string_member (frame, "type", "event");
  json_object_set_string_member (frame, "event", sonde_event_get_event_type (event));
  json_object_set_string_member (frame, "timestamp", timestamp);
  if (sonde_event_get_source (event) != NULL)
    json_object_set_string_member (frame, "source", sonde_event_get_source (event));
  json_object_set_object_member (frame, "data", json_object_ref (sonde_event_get_data (event)));

  return _sonde_json_object_to_bytes (frame);
}

GBytes *
_sonde_native_encode_heartbeat (gint64 timestamp_us)
{
  g_autoptr(JsonObject) frame = json_object_new ();
  g_autofree char *timestamp = _sonde_format_timestamp (timestamp_us);

  json_object_set_string_member (frame, "type", "heartbeat");
  json_object_set_string_member (frame, "timestamp", timestamp);

  return _sonde_json_object_to_bytes (frame);
}

/* A slow client's next frame says how many it missed. Rather than build
 * its JSON again, the shared bytes get `"dropped":N,` spliced in after the
 * opening brace. */
GBytes *
_sonde_frame_add_dropped (GBytes *frame,
                          guint   dropped)
{
  gsize length;
  const char *text = g_bytes_get_data (frame, &length);
  GString *out;

  g_return_val_if_fail (length >= 2 && text[0] == '{', g_bytes_ref (frame));

  out = g_string_sized_new (length + 24);
  g_string_append_printf (out, "{\"dropped\":%u%s", dropped, text[1] == '}' ? "" : ",");
  g_string_append_len (out, text + 1, length - 1);
  return g_string_free_to_bytes (out);
}
