/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <math.h>

#include "resolvix-test-util.h"

GType
resolvix_value_type (JsonObject *object,
                     const char *member)
{
  JsonNode *node = json_object_get_member (object, member);

  g_assert_nonnull (node);
  if (JSON_NODE_HOLDS_NULL (node))
    return G_TYPE_NONE;
  g_assert_true (JSON_NODE_HOLDS_VALUE (node));
  return json_node_get_value_type (node);
}

double
resolvix_get_rounded (JsonObject *object,
                      const char *member,
                      int         decimals)
{
  double value, scaled;

  g_assert_cmpint (resolvix_value_type (object, member), ==, G_TYPE_DOUBLE);
  value = json_object_get_double_member (object, member);
  scaled = value * pow (10, decimals);
  g_assert_cmpfloat_with_epsilon (scaled, round (scaled), 1e-6);
  return value;
}

double
resolvix_get_percent (JsonObject *object,
                      const char *member)
{
  double value = resolvix_get_rounded (object, member, 1);

  g_assert_cmpfloat (value, >=, 0.0);
  g_assert_cmpfloat (value, <=, 100.0);
  return value;
}

gint64
resolvix_get_integer (JsonObject *object,
                      const char *member)
{
  g_assert_cmpint (resolvix_value_type (object, member), ==, G_TYPE_INT64);
  return json_object_get_int_member (object, member);
}

static double
bytes_to_gb (gint64 bytes)
{
  return round (bytes / (1024.0 * 1024.0 * 1024.0) * 100.0) / 100.0;
}

gint64
resolvix_parse_timestamp (JsonObject *object)
{
  const char *timestamp = json_object_get_string_member (object, "timestamp");
  g_autoptr(GDateTime) parsed = NULL;

  g_assert_true (g_regex_match_simple ("^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ$", timestamp, 0, 0));
  parsed = g_date_time_new_from_iso8601 (timestamp, NULL);
  g_assert_nonnull (parsed);
  return g_date_time_to_unix (parsed);
}

void
resolvix_assert_telemetry_document (SondeEngine *engine,
                                    JsonObject  *document,
                                    const char  *node_id)
{
  JsonObject *metrics, *cpu, *memory, *disk, *usage, *io, *network, *processes;
  SondeSample *sample;
  JsonArray *array;
  gint64 seconds;

  sonde_test_assert_members (document, "metrics,node_id,timestamp");
  seconds = resolvix_parse_timestamp (document);
  g_assert_cmpint (ABS (seconds - g_get_real_time () / G_USEC_PER_SEC), <=, 30);
  g_assert_cmpstr (json_object_get_string_member (document, "node_id"), ==, node_id);

  metrics = sonde_test_member_object (document, "metrics");
  sonde_test_assert_members (metrics, "cpu,disk,memory,network,processes");

  cpu = sonde_test_member_object (metrics, "cpu");
  sonde_test_assert_members (cpu, "cpu_per_core_percent,cpu_usage_percent,load_avg_15min,load_avg_1min,load_avg_5min");
  resolvix_get_percent (cpu, "cpu_usage_percent");
  array = json_object_get_array_member (cpu, "cpu_per_core_percent");
  sample = sonde_engine_get_latest (engine, "cpu");
  g_assert_nonnull (sample);
  g_assert_cmpuint (json_array_get_length (array), ==,
                    json_array_get_length (json_object_get_array_member (sonde_sample_get_data (sample),
                                                                         "per_core_percent")));
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      double value = json_array_get_double_element (array, i);

      g_assert_cmpint (json_node_get_value_type (json_array_get_element (array, i)), ==, G_TYPE_DOUBLE);
      g_assert_cmpfloat (value, >=, 0.0);
      g_assert_cmpfloat (value, <=, 100.0);
    }
  g_assert_cmpfloat (resolvix_get_rounded (cpu, "load_avg_1min", 2), >=, 0.0);
  g_assert_cmpfloat (resolvix_get_rounded (cpu, "load_avg_5min", 2), >=, 0.0);
  g_assert_cmpfloat (resolvix_get_rounded (cpu, "load_avg_15min", 2), >=, 0.0);

  /* GB are 1024³ bytes, to two decimals. */
  memory = sonde_test_member_object (metrics, "memory");
  sonde_test_assert_members (memory, "memory_available_gb,memory_total_gb,memory_usage_percent,memory_used_gb,"
                                     "swap_total_gb,swap_usage_percent,swap_used_gb");
  sample = sonde_engine_get_latest (engine, "memory");
  g_assert_nonnull (sample);
  g_assert_cmpfloat (resolvix_get_rounded (memory, "memory_total_gb", 2), ==,
                     bytes_to_gb (sonde_sample_get_int (sample, "total_bytes")));
  g_assert_cmpfloat (resolvix_get_rounded (memory, "swap_total_gb", 2), ==,
                     bytes_to_gb (sonde_sample_get_int (sample, "swap_total_bytes")));
  g_assert_cmpfloat (resolvix_get_rounded (memory, "memory_total_gb", 2), >, 0.0);
  g_assert_cmpfloat (resolvix_get_rounded (memory, "memory_used_gb", 2), <=,
                     resolvix_get_rounded (memory, "memory_total_gb", 2));
  g_assert_cmpfloat (resolvix_get_rounded (memory, "memory_available_gb", 2), <=,
                     resolvix_get_rounded (memory, "memory_total_gb", 2));
  g_assert_cmpfloat (resolvix_get_rounded (memory, "swap_used_gb", 2), <=,
                     resolvix_get_rounded (memory, "swap_total_gb", 2));
  resolvix_get_percent (memory, "memory_usage_percent");
  resolvix_get_percent (memory, "swap_usage_percent");

  /* One entry per partition the disk collector reports, by mount point. */
  disk = sonde_test_member_object (metrics, "disk");
  sonde_test_assert_members (disk, "disk_io,disk_usage");
  usage = sonde_test_member_object (disk, "disk_usage");
  sample = sonde_engine_get_latest (engine, "disk");
  g_assert_nonnull (sample);
  array = json_object_get_array_member (sonde_sample_get_data (sample), "partitions");
  g_assert_cmpuint (json_object_get_size (usage), ==, json_array_get_length (array));
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonObject *partition = json_array_get_object_element (array, i);
      JsonObject *entry = sonde_test_member_object (usage, json_object_get_string_member (partition, "mount"));

      sonde_test_assert_members (entry, "free_gb,total_gb,usage_percent,used_gb");
      g_assert_cmpfloat (resolvix_get_rounded (entry, "total_gb", 2), ==,
                         bytes_to_gb (json_object_get_int_member (partition, "total_bytes")));
      g_assert_cmpfloat (resolvix_get_rounded (entry, "used_gb", 2), <=,
                         resolvix_get_rounded (entry, "total_gb", 2));
      g_assert_cmpfloat (resolvix_get_rounded (entry, "free_gb", 2), <=,
                         resolvix_get_rounded (entry, "total_gb", 2));
      resolvix_get_percent (entry, "usage_percent");
    }
  io = sonde_test_member_object (disk, "disk_io");
  sonde_test_assert_members (io, "read_mb_per_sec,write_mb_per_sec");
  g_assert_cmpfloat (resolvix_get_rounded (io, "read_mb_per_sec", 2), >=, 0.0);
  g_assert_cmpfloat (resolvix_get_rounded (io, "write_mb_per_sec", 2), >=, 0.0);

  network = sonde_test_member_object (metrics, "network");
  sonde_test_assert_members (network, "active_connections,bytes_recv_mb_per_sec,bytes_sent_mb_per_sec,"
                                      "packets_recv,packets_sent");
  g_assert_cmpfloat (resolvix_get_rounded (network, "bytes_sent_mb_per_sec", 2), >=, 0.0);
  g_assert_cmpfloat (resolvix_get_rounded (network, "bytes_recv_mb_per_sec", 2), >=, 0.0);
  g_assert_cmpint (resolvix_get_integer (network, "packets_sent"), >=, 0);
  g_assert_cmpint (resolvix_get_integer (network, "packets_recv"), >=, 0);
  g_assert_cmpint (resolvix_get_integer (network, "active_connections"), >=, 0);

  processes = sonde_test_member_object (metrics, "processes");
  sonde_test_assert_members (processes, "process_count,top_memory_processes");
  g_assert_cmpint (resolvix_get_integer (processes, "process_count"), >, 0);
  array = json_object_get_array_member (processes, "top_memory_processes");
  /* The guide's "top 5 memory consumers". */
  g_assert_cmpuint (json_array_get_length (array), >, 0);
  g_assert_cmpuint (json_array_get_length (array), <=, 5);
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonObject *process = json_array_get_object_element (array, i);

      sonde_test_assert_members (process, "memory_percent,name,pid");
      g_assert_cmpint (resolvix_get_integer (process, "pid"), >, 0);
      g_assert_cmpint (resolvix_value_type (process, "name"), ==, G_TYPE_STRING);
      resolvix_get_percent (process, "memory_percent");
    }
}
