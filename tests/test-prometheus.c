/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <math.h>
#include <string.h>

#include "prometheus-test-util.h"

/*
 * The Prometheus encoder on synthetic catalogs and samples: names and
 * units, counters, labels and their escaping, info series, collector
 * health, several hosts, clashes, what is skipped, content negotiation,
 * and random input that must always give a valid exposition.
 */

#define TS_US G_GINT64_CONSTANT (1796000000123456)

typedef struct
{
  GPtrArray *metrics;
  GArray    *collectors;   /* SondePrometheusCollector */
  GPtrArray *samples;      /* owns the samples */
  char      *host;
} TestSource;

static TestSource *
test_source_new (const char *host)
{
  TestSource *source = g_new0 (TestSource, 1);

  source->metrics = g_ptr_array_new_with_free_func ((GDestroyNotify) sonde_metric_unref);
  source->collectors = g_array_new (FALSE, TRUE, sizeof (SondePrometheusCollector));
  source->samples = g_ptr_array_new_with_free_func ((GDestroyNotify) sonde_sample_unref);
  source->host = g_strdup (host);
  return source;
}

static void
test_source_free (TestSource *source)
{
  g_ptr_array_unref (source->metrics);
  g_array_unref (source->collectors);
  g_ptr_array_unref (source->samples);
  g_free (source->host);
  g_free (source);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TestSource, test_source_free)

static void
add_metric (TestSource      *source,
            const char      *collector,
            const char      *field,
            const char      *unit,
            SondeMetricKind  kind,
            const char      *description)
{
  g_ptr_array_add (source->metrics, sonde_metric_new (collector, field, unit, kind, description));
}

/* @name's sample is @data (taken), or none when @data is NULL. The name
 * must outlive the source: a literal. */
static void
add_collector_object (TestSource *source,
                      const char *name,
                      JsonObject *data,
                      gboolean    stale)
{
  SondePrometheusCollector entry = { name, NULL, stale };

  if (data != NULL)
    {
      entry.sample = sonde_sample_new (name, TS_US, data);
      g_ptr_array_add (source->samples, entry.sample);
      json_object_unref (data);
    }
  g_array_append_val (source->collectors, entry);
}

static void
add_collector (TestSource *source,
               const char *name,
               const char *json,
               gboolean    stale)
{
  g_autoptr(JsonNode) node = NULL;
  g_autoptr(GError) error = NULL;

  if (json == NULL)
    {
      add_collector_object (source, name, NULL, stale);
      return;
    }
  node = json_from_string (json, &error);
  g_assert_no_error (error);
  add_collector_object (source, name, json_object_ref (json_node_get_object (node)), stale);
}

static GBytes *
encode_sources (TestSource           **sources,
                guint                  n_sources,
                SondePrometheusFormat  format)
{
  g_autofree SondePrometheusSource *array = g_new0 (SondePrometheusSource, n_sources);

  for (guint i = 0; i < n_sources; i++)
    {
      array[i].host = sources[i]->host;
      array[i].metrics = sources[i]->metrics;
      array[i].collectors = (const SondePrometheusCollector *) sources[i]->collectors->data;
      array[i].n_collectors = sources[i]->collectors->len;
    }
  return _sonde_prometheus_encode (array, n_sources, format);
}

static char *
encode_text (TestSource            *source,
             SondePrometheusFormat  format,
             SondeTestExposition  **parsed)
{
  g_autoptr(GBytes) bytes = encode_sources (&source, 1, format);
  gsize length;
  const char *data = g_bytes_get_data (bytes, &length);

  if (parsed != NULL)
    *parsed = sonde_test_exposition_parse_bytes (bytes, format);
  return g_strndup (data ? data : "", length);
}

#define assert_sample(exposition, series, value) \
  g_assert_cmpstr (sonde_test_exposition_get ((exposition), (series)), ==, (value))

static void
test_names_and_units (void)
{
  g_autoptr(TestSource) source = test_source_new (NULL);
  g_autoptr(SondeTestExposition) text = NULL;
  g_autofree char *output = NULL;

  add_metric (source, "t", "total_bytes", "bytes", SONDE_METRIC_KIND_GAUGE, "Total");
  add_metric (source, "t", "total_rx_bytes", "bytes", SONDE_METRIC_KIND_COUNTER, "Received");
  add_metric (source, "t", "requests_total", "count", SONDE_METRIC_KIND_COUNTER, "Requests");
  add_metric (source, "t", "packets_sent", "count", SONDE_METRIC_KIND_COUNTER, "Packets");
  add_metric (source, "t", "read_bytes_per_sec", "bytes/s", SONDE_METRIC_KIND_RATE, "Read rate");
  add_metric (source, "t", "reads_per_sec", "/s", SONDE_METRIC_KIND_RATE, "Reads");
  add_metric (source, "t", "avg_response_time", "ms", SONDE_METRIC_KIND_GAUGE, "Latency");
  add_metric (source, "t", "frequency_mhz", "MHz", SONDE_METRIC_KIND_GAUGE, "Frequency");
  add_metric (source, "t", "uptime_seconds", "seconds", SONDE_METRIC_KIND_COUNTER, "Uptime");
  add_metric (source, "t", "boot_time", "seconds", SONDE_METRIC_KIND_GAUGE, "Boot");
  add_metric (source, "t", "usage_percent", "percent", SONDE_METRIC_KIND_GAUGE, "Usage");
  add_metric (source, "t", "success_rate", "percent", SONDE_METRIC_KIND_GAUGE, "Success");
  add_metric (source, "t", "count", "count", SONDE_METRIC_KIND_GAUGE, "How many");
  add_metric (source, "t", "cache_kib", "KiB", SONDE_METRIC_KIND_GAUGE, "Cache");
  add_metric (source, "t", "load_avg_1min", "", SONDE_METRIC_KIND_GAUGE, "Load");
  add_metric (source, "t", "odd-name.x", "furlongs", SONDE_METRIC_KIND_GAUGE, "Odd");
  add_collector (source, "t",
                 "{\"total_bytes\": 25276157952, \"total_rx_bytes\": 9007199254740993,"
                 " \"requests_total\": 7, \"packets_sent\": 3, \"read_bytes_per_sec\": 1536.5,"
                 " \"reads_per_sec\": 2.0, \"avg_response_time\": 250, \"frequency_mhz\": 2400,"
                 " \"uptime_seconds\": 3330.5, \"boot_time\": 1796388527, \"usage_percent\": 17.5,"
                 " \"success_rate\": 100.0, \"count\": 107, \"cache_kib\": 4, \"load_avg_1min\": 0.39,"
                 " \"odd-name.x\": 1}", FALSE);

  output = encode_text (source, SONDE_PROMETHEUS_FORMAT_TEXT, &text);

  assert_sample (text, "sonde_t_total_bytes", "25276157952");
  /* Counters above 2^53 are written exactly, from the integer. */
  assert_sample (text, "sonde_t_rx_bytes_total", "9007199254740993");
  assert_sample (text, "sonde_t_requests_total", "7");
  assert_sample (text, "sonde_t_packets_sent_total", "3");
  assert_sample (text, "sonde_t_read_bytes_per_second", "1536.5");
  assert_sample (text, "sonde_t_reads_per_second", "2.0");
  assert_sample (text, "sonde_t_avg_response_time_seconds", "0.25");
  assert_sample (text, "sonde_t_frequency_hertz", "2400000000.0");
  assert_sample (text, "sonde_t_uptime_seconds_total", "3330.5");
  assert_sample (text, "sonde_t_boot_time_seconds", "1796388527");
  assert_sample (text, "sonde_t_usage_percent", "17.5");
  assert_sample (text, "sonde_t_success_rate_percent", "100.0");
  /* No gauge ends in a suffix of another type. */
  assert_sample (text, "sonde_t", "107");
  assert_sample (text, "sonde_t_cache_bytes", "4096.0");
  assert_sample (text, "sonde_t_load_avg_1min", "0.39");
  assert_sample (text, "sonde_t_odd_name_x", "1");

  g_assert_cmpstr (g_hash_table_lookup (text->types, "sonde_t_rx_bytes_total"), ==, "counter");
  g_assert_cmpstr (g_hash_table_lookup (text->types, "sonde_t_read_bytes_per_second"), ==, "gauge");
  g_assert_cmpstr (g_hash_table_lookup (text->helps, "sonde_t_rx_bytes_total"), ==, "Received");
  /* A unit the encoder does not know is kept in the HELP. */
  g_assert_cmpstr (g_hash_table_lookup (text->helps, "sonde_t_odd_name_x"), ==, "Odd (furlongs)");

  g_assert_nonnull (strstr (output, "# HELP sonde_t_rx_bytes_total Received\n"
                                    "# TYPE sonde_t_rx_bytes_total counter\n"
                                    "sonde_t_rx_bytes_total 9007199254740993\n"));
}

static void
test_openmetrics (void)
{
  g_autoptr(TestSource) source = test_source_new (NULL);
  g_autoptr(SondeTestExposition) om = NULL;
  g_autoptr(SondeTestExposition) text = NULL;
  g_autofree char *om_output = NULL;
  g_autofree char *text_output = NULL;

  add_metric (source, "t", "total_rx_bytes", "bytes", SONDE_METRIC_KIND_COUNTER, "Received \"all\"");
  add_metric (source, "t", "used_bytes", "bytes", SONDE_METRIC_KIND_GAUGE, "Used");
  add_metric (source, "t", "brand", "", SONDE_METRIC_KIND_INFO, "Model");
  add_collector (source, "t", "{\"total_rx_bytes\": 5, \"used_bytes\": 6, \"brand\": \"X\"}", FALSE);

  om_output = encode_text (source, SONDE_PROMETHEUS_FORMAT_OPENMETRICS, &om);
  text_output = encode_text (source, SONDE_PROMETHEUS_FORMAT_TEXT, &text);

  /* The counter's family has no _total, its sample has; the HELP escapes
   * quotes; # EOF ends it all. */
  g_assert_nonnull (strstr (om_output, "# HELP sonde_t_rx_bytes Received \\\"all\\\"\n"
                                       "# TYPE sonde_t_rx_bytes counter\n"
                                       "# UNIT sonde_t_rx_bytes bytes\n"
                                       "sonde_t_rx_bytes_total 5\n"));
  g_assert_nonnull (strstr (om_output, "# TYPE sonde_t info\nsonde_t_info{brand=\"X\"} 1\n"));
  g_assert_true (g_str_has_suffix (om_output, "\n# EOF\n"));

  g_assert_nonnull (strstr (text_output, "# HELP sonde_t_rx_bytes_total Received \"all\"\n"
                                         "# TYPE sonde_t_rx_bytes_total counter\n"
                                         "sonde_t_rx_bytes_total 5\n"));
  g_assert_nonnull (strstr (text_output, "# TYPE sonde_t_info gauge\nsonde_t_info{brand=\"X\"} 1\n"));
  g_assert_null (strstr (text_output, "# UNIT"));
  g_assert_null (strstr (text_output, "# EOF"));

  /* The same series, whatever the format. */
  g_assert_cmpuint (g_hash_table_size (om->samples), ==, g_hash_table_size (text->samples));
  for (guint i = 0; i < text->order->len; i++)
    {
      const char *series = g_ptr_array_index (text->order, i);
      assert_sample (om, series, sonde_test_exposition_get (text, series));
    }
}

static void
test_escaping (void)
{
  g_autoptr(TestSource) source = test_source_new (NULL);
  g_autoptr(SondeTestExposition) text = NULL;
  g_autoptr(SondeTestExposition) om = NULL;
  g_autoptr(JsonObject) data = json_object_new ();
  g_autoptr(JsonArray) rows = json_array_new ();
  JsonObject *row = json_object_new ();
  g_autofree char *output = NULL;

  add_metric (source, "disk", "partitions", "", SONDE_METRIC_KIND_TABLE, "Partitions");
  add_metric (source, "t", "brand", "", SONDE_METRIC_KIND_INFO, "Back\\slash\nnew line");
  json_object_set_string_member (row, "mount", "/mnt/a \"b\"\\c\nd");
  /* Not UTF-8, as a process name or a mount point can be. */
  json_object_set_string_member (row, "device", "/dev/\xff\xfe");
  json_object_set_string_member (row, "fs_type", "ext4");
  json_object_set_int_member (row, "used_bytes", 42);
  json_array_add_object_element (rows, row);
  json_object_set_array_member (data, "partitions", json_array_ref (rows));
  add_collector_object (source, "disk", json_object_ref (data), FALSE);
  add_collector (source, "t", "{\"brand\": \"Tab\\there\"}", FALSE);

  output = encode_text (source, SONDE_PROMETHEUS_FORMAT_TEXT, &text);
  g_assert_nonnull (strstr (output,
                            "sonde_disk_partition_used_bytes{mountpoint=\"/mnt/a \\\"b\\\"\\\\c\\nd\","
                            "device=\"/dev/\xef\xbf\xbd\xef\xbf\xbd\",fstype=\"ext4\"} 42\n"));
  g_assert_nonnull (strstr (output, "# HELP sonde_t_info Text fields of the t collector, as labels: "
                                    "brand: Back\\\\slash\\nnew line\n"));
  /* A tab needs no escape. */
  g_assert_nonnull (strstr (output, "sonde_t_info{brand=\"Tab\there\"} 1\n"));
  g_clear_pointer (&output, g_free);

  output = encode_text (source, SONDE_PROMETHEUS_FORMAT_OPENMETRICS, &om);
  g_assert_cmpstr (g_hash_table_lookup (om->helps, "sonde_t"), ==,
                   "Text fields of the t collector, as labels: brand: Back\\slash\nnew line");
}

static void
test_skipped_values (void)
{
  g_autoptr(TestSource) source = test_source_new (NULL);
  g_autoptr(SondeTestExposition) text = NULL;
  g_autoptr(JsonObject) data = json_object_new ();
  g_autofree char *output = NULL;

  add_metric (source, "t", "nan_percent", "percent", SONDE_METRIC_KIND_GAUGE, "NaN");
  add_metric (source, "t", "inf_percent", "percent", SONDE_METRIC_KIND_GAUGE, "Inf");
  add_metric (source, "t", "missing_bytes", "bytes", SONDE_METRIC_KIND_GAUGE, "Missing");
  add_metric (source, "t", "null_bytes", "bytes", SONDE_METRIC_KIND_GAUGE, "Null");
  add_metric (source, "t", "text_bytes", "bytes", SONDE_METRIC_KIND_GAUGE, "Not a number");
  add_metric (source, "t", "negative", "count", SONDE_METRIC_KIND_COUNTER, "Negative counter");
  add_metric (source, "t", "infinite", "count", SONDE_METRIC_KIND_COUNTER, "Infinite counter");
  add_metric (source, "t", "flag", "", SONDE_METRIC_KIND_GAUGE, "Boolean");
  add_metric (source, "t", "below_zero", "", SONDE_METRIC_KIND_GAUGE, "Negative gauge");
  add_metric (source, "t", "nested", "", SONDE_METRIC_KIND_GAUGE, "An object where a number belongs");
  json_object_set_double_member (data, "nan_percent", NAN);
  json_object_set_double_member (data, "inf_percent", INFINITY);
  json_object_set_null_member (data, "null_bytes");
  json_object_set_string_member (data, "text_bytes", "12");
  json_object_set_int_member (data, "negative", -1);
  json_object_set_double_member (data, "infinite", INFINITY);
  json_object_set_boolean_member (data, "flag", TRUE);
  json_object_set_double_member (data, "below_zero", -2.5);
  json_object_set_object_member (data, "nested", json_object_new ());
  json_object_set_int_member (data, "not_in_catalog", 1);
  add_collector_object (source, "t", json_object_ref (data), FALSE);

  output = encode_text (source, SONDE_PROMETHEUS_FORMAT_TEXT, &text);

  /* Nothing of what is not a number, and no empty family. */
  g_assert_null (strstr (output, "nan_percent"));
  g_assert_null (strstr (output, "missing_bytes"));
  g_assert_null (strstr (output, "null_bytes"));
  g_assert_null (strstr (output, "text_bytes"));
  g_assert_null (strstr (output, "negative"));
  g_assert_null (strstr (output, "infinite"));
  g_assert_null (strstr (output, "nested"));
  g_assert_null (strstr (output, "not_in_catalog"));
  assert_sample (text, "sonde_t_inf_percent", "+Inf");
  assert_sample (text, "sonde_t_flag", "1.0");
  assert_sample (text, "sonde_t_below_zero", "-2.5");
}

static void
test_tables (void)
{
  g_autoptr(TestSource) source = test_source_new (NULL);
  g_autoptr(SondeTestExposition) text = NULL;
  g_autofree char *output = NULL;

  add_metric (source, "cpu", "per_core_percent", "percent", SONDE_METRIC_KIND_TABLE, "Cores");
  add_metric (source, "disk", "devices", "", SONDE_METRIC_KIND_TABLE, "Disks");
  add_metric (source, "network", "interfaces", "", SONDE_METRIC_KIND_TABLE, "Interfaces");
  add_metric (source, "processes", "top_cpu", "", SONDE_METRIC_KIND_TABLE, "Top CPU");
  add_metric (source, "processes", "top_memory", "", SONDE_METRIC_KIND_TABLE, "Top memory");
  add_metric (source, "gateway", "clients_by_route", "count", SONDE_METRIC_KIND_TABLE, "Routes");
  add_metric (source, "fake", "items", "", SONDE_METRIC_KIND_TABLE, "Generic rows");
  add_metric (source, "fake", "levels", "bytes", SONDE_METRIC_KIND_TABLE, "Generic numbers");
  add_metric (source, "fake", "by_key", "", SONDE_METRIC_KIND_TABLE, "Generic map");
  add_collector (source, "cpu", "{\"per_core_percent\": [12.5, 100.0, 0]}", FALSE);
  add_collector (source, "disk",
                 "{\"devices\": [{\"name\": \"vda\", \"read_bytes_per_sec\": 4096.0,"
                 " \"write_bytes_per_sec\": 0.5, \"reads_per_sec\": 1.0, \"writes_per_sec\": 2.0}]}", FALSE);
  add_collector (source, "network",
                 "{\"interfaces\": [{\"name\": \"lo\", \"rx_bytes\": 100, \"tx_bytes\": 200,"
                 " \"rx_bytes_per_sec\": 1.5, \"tx_bytes_per_sec\": 2.5, \"rx_packets\": 3, \"tx_packets\": 4},"
                 " {\"name\": \"eth0\", \"rx_bytes\": 5, \"tx_bytes\": 6, \"rx_bytes_per_sec\": 0.0,"
                 " \"tx_bytes_per_sec\": 0.0, \"rx_packets\": 7, \"tx_packets\": 8},"
                 " {\"name\": \"eth0\", \"rx_bytes\": 9}]}", FALSE);
  add_collector (source, "processes",
                 "{\"top_cpu\": [{\"pid\": 42, \"name\": \"sonded\", \"cpu_percent\": 12.5},"
                 " {\"pid\": 7, \"name\": \"sh\", \"cpu_percent\": 0.5}],"
                 " \"top_memory\": [{\"pid\": 42, \"name\": \"sonded\", \"memory_percent\": 1.5,"
                 " \"rss_bytes\": 1048576}]}", FALSE);
  add_collector (source, "gateway", "{\"clients_by_route\": {\"/ws/v1\": 3, \"/ws\": 0}}", FALSE);
  add_collector (source, "fake",
                 "{\"items\": [{\"name\": \"a\", \"n\": 1, \"kind\": \"x\"}, {\"name\": \"b\", \"n\": 2}],"
                 " \"levels\": [10, 20], \"by_key\": {\"k1\": 1.5, \"k2\": \"skip\"}}", FALSE);

  output = encode_text (source, SONDE_PROMETHEUS_FORMAT_TEXT, &text);

  assert_sample (text, "sonde_cpu_core_usage_percent{cpu=\"0\"}", "12.5");
  assert_sample (text, "sonde_cpu_core_usage_percent{cpu=\"1\"}", "100.0");
  assert_sample (text, "sonde_cpu_core_usage_percent{cpu=\"2\"}", "0");
  assert_sample (text, "sonde_disk_device_read_bytes_per_second{device=\"vda\"}", "4096.0");
  assert_sample (text, "sonde_disk_device_reads_per_second{device=\"vda\"}", "1.0");
  assert_sample (text, "sonde_network_interface_rx_bytes_total{interface=\"lo\"}", "100");
  assert_sample (text, "sonde_network_interface_tx_packets_total{interface=\"eth0\"}", "8");
  assert_sample (text, "sonde_network_interface_tx_bytes_per_second{interface=\"lo\"}", "2.5");
  /* An instance listed twice is written once: the first. */
  assert_sample (text, "sonde_network_interface_rx_bytes_total{interface=\"eth0\"}", "5");
  g_assert_cmpuint (sonde_test_exposition_count (text, "sonde_network_interface_rx_bytes_total"), ==, 2);
  assert_sample (text, "sonde_processes_top_cpu_usage_percent{pid=\"42\",name=\"sonded\"}", "12.5");
  assert_sample (text, "sonde_processes_top_cpu_usage_percent{pid=\"7\",name=\"sh\"}", "0.5");
  assert_sample (text, "sonde_processes_top_memory_usage_percent{pid=\"42\",name=\"sonded\"}", "1.5");
  assert_sample (text, "sonde_processes_top_memory_rss_bytes{pid=\"42\",name=\"sonded\"}", "1048576");
  assert_sample (text, "sonde_gateway_route_clients{route=\"/ws/v1\"}", "3");
  assert_sample (text, "sonde_gateway_route_clients{route=\"/ws\"}", "0");
  /* Tables of collectors the encoder does not know. */
  assert_sample (text, "sonde_fake_items_n{name=\"a\",kind=\"x\"}", "1");
  assert_sample (text, "sonde_fake_items_n{name=\"b\"}", "2");
  assert_sample (text, "sonde_fake_levels_bytes{index=\"1\"}", "20");
  assert_sample (text, "sonde_fake_by_key{key=\"k1\"}", "1.5");
  g_assert_cmpuint (sonde_test_exposition_count (text, "sonde_fake_by_key"), ==, 1);
  g_assert_cmpstr (g_hash_table_lookup (text->types, "sonde_network_interface_rx_bytes_total"), ==, "counter");
}

static void
test_info_and_health (void)
{
  g_autoptr(TestSource) source = test_source_new (NULL);
  g_autoptr(SondeTestExposition) text = NULL;
  g_autofree char *output = NULL;

  add_metric (source, "host", "hostname", "", SONDE_METRIC_KIND_INFO, "Host name");
  add_metric (source, "host", "os_name", "", SONDE_METRIC_KIND_INFO, "OS");
  add_metric (source, "host", "os_version", "", SONDE_METRIC_KIND_INFO, "Version");
  add_metric (source, "host", "kernel", "", SONDE_METRIC_KIND_INFO, "Kernel");
  add_metric (source, "host", "arch", "", SONDE_METRIC_KIND_INFO, "Arch");
  add_metric (source, "host", "uptime_seconds", "seconds", SONDE_METRIC_KIND_COUNTER, "Uptime");
  add_metric (source, "memory", "total_bytes", "bytes", SONDE_METRIC_KIND_GAUGE, "Total");
  add_metric (source, "cpu", "usage_percent", "percent", SONDE_METRIC_KIND_GAUGE, "Usage");
  add_collector (source, "host",
                 "{\"hostname\": \"box\", \"os_name\": \"Debian GNU/Linux\", \"os_version\": \"12\","
                 " \"kernel\": \"6.1.0\", \"arch\": \"x86_64\", \"uptime_seconds\": 10.0}", FALSE);
  /* Late: its previous values, flagged. */
  add_collector (source, "memory", "{\"total_bytes\": 1024}", TRUE);
  /* Never collected. */
  add_collector (source, "cpu", NULL, FALSE);

  output = encode_text (source, SONDE_PROMETHEUS_FORMAT_TEXT, &text);

  assert_sample (text, "sonde_host_info{hostname=\"box\",os_name=\"Debian GNU/Linux\",os_version=\"12\","
                       "kernel=\"6.1.0\",arch=\"x86_64\"}", "1");
  assert_sample (text, "sonde_host_uptime_seconds_total", "10.0");
  assert_sample (text, "sonde_collector_up{collector=\"host\"}", "1");
  assert_sample (text, "sonde_collector_stale{collector=\"host\"}", "0");
  assert_sample (text, "sonde_collector_last_sample_timestamp_seconds{collector=\"host\"}", "1796000000.123456");
  assert_sample (text, "sonde_collector_up{collector=\"memory\"}", "0");
  assert_sample (text, "sonde_collector_stale{collector=\"memory\"}", "1");
  assert_sample (text, "sonde_memory_total_bytes", "1024");
  assert_sample (text, "sonde_collector_up{collector=\"cpu\"}", "0");
  assert_sample (text, "sonde_collector_stale{collector=\"cpu\"}", "0");
  g_assert_null (sonde_test_exposition_get (text, "sonde_collector_last_sample_timestamp_seconds{collector=\"cpu\"}"));
  g_assert_null (strstr (output, "sonde_cpu_usage_percent"));
}

/* A hub's view: several hosts, each family once with every host's
 * samples together, the host label first. */
static void
test_hosts (void)
{
  g_autoptr(TestSource) local = test_source_new (NULL);
  g_autoptr(TestSource) agent_a = test_source_new ("agent-a");
  g_autoptr(TestSource) agent_b = test_source_new ("agent \"b\"");
  TestSource *sources[] = { local, agent_a, agent_b };
  g_autoptr(SondeTestExposition) text = NULL;
  g_autoptr(GBytes) bytes = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (sources); i++)
    {
      add_metric (sources[i], "memory", "total_bytes", "bytes", SONDE_METRIC_KIND_GAUGE, "Total");
      add_metric (sources[i], "network", "interfaces", "", SONDE_METRIC_KIND_TABLE, "Interfaces");
      add_metric (sources[i], "t", "host", "", SONDE_METRIC_KIND_INFO, "A field named host");
    }
  add_collector (local, "memory", "{\"total_bytes\": 1}", FALSE);
  add_collector (agent_a, "memory", "{\"total_bytes\": 2}", FALSE);
  add_collector (agent_a, "network", "{\"interfaces\": [{\"name\": \"eth0\", \"rx_bytes\": 3}]}", FALSE);
  add_collector (agent_a, "t", "{\"host\": \"inner\"}", FALSE);
  add_collector (agent_b, "network", "{\"interfaces\": [{\"name\": \"eth0\", \"rx_bytes\": 4}]}", FALSE);
  add_collector (agent_b, "memory", "{\"total_bytes\": 5}", FALSE);

  bytes = encode_sources (sources, G_N_ELEMENTS (sources), SONDE_PROMETHEUS_FORMAT_TEXT);
  /* The parser fails on a family written twice or split. */
  text = sonde_test_exposition_parse_bytes (bytes, SONDE_PROMETHEUS_FORMAT_TEXT);

  assert_sample (text, "sonde_memory_total_bytes", "1");
  assert_sample (text, "sonde_memory_total_bytes{host=\"agent-a\"}", "2");
  assert_sample (text, "sonde_memory_total_bytes{host=\"agent \\\"b\\\"\"}", "5");
  assert_sample (text, "sonde_network_interface_rx_bytes_total{host=\"agent-a\",interface=\"eth0\"}", "3");
  assert_sample (text, "sonde_network_interface_rx_bytes_total{host=\"agent \\\"b\\\"\",interface=\"eth0\"}", "4");
  assert_sample (text, "sonde_collector_up{host=\"agent-a\",collector=\"memory\"}", "1");
  assert_sample (text, "sonde_collector_up{collector=\"memory\"}", "1");
  /* The source's host label wins; the field is renamed as Prometheus does. */
  assert_sample (text, "sonde_t_info{host=\"agent-a\",exported_host=\"inner\"}", "1");
  g_assert_cmpuint (sonde_test_exposition_count (text, "sonde_memory_total_bytes"), ==, 3);
}

/* A name that would be another family's, in either format, is dropped
 * rather than written twice or with two types. */
static void
test_clashes (void)
{
  g_autoptr(TestSource) source = test_source_new (NULL);
  g_autoptr(SondeTestExposition) text = NULL;
  g_autoptr(SondeTestExposition) om = NULL;
  g_autofree char *output = NULL;

  add_metric (source, "t", "rx_bytes", "bytes", SONDE_METRIC_KIND_COUNTER, "Counter first");
  add_metric (source, "t", "rx", "bytes", SONDE_METRIC_KIND_GAUGE, "Gauge named like the counter's family");
  add_metric (source, "t", "rx_bytes_total", "", SONDE_METRIC_KIND_GAUGE, "Gauge named like the counter");
  add_metric (source, "t", "info", "", SONDE_METRIC_KIND_GAUGE, "Gauge named like the info family");
  add_metric (source, "t", "brand", "", SONDE_METRIC_KIND_INFO, "Info");
  add_metric (source, "u", "up", "", SONDE_METRIC_KIND_GAUGE, "Fine");
  add_collector (source, "t", "{\"rx_bytes\": 1, \"rx\": 2, \"rx_bytes_total\": 3, \"info\": 4, \"brand\": \"b\"}", FALSE);
  add_collector (source, "u", "{\"up\": 5}", FALSE);

  output = encode_text (source, SONDE_PROMETHEUS_FORMAT_TEXT, &text);
  g_clear_pointer (&output, g_free);
  output = encode_text (source, SONDE_PROMETHEUS_FORMAT_OPENMETRICS, &om);

  assert_sample (text, "sonde_t_rx_bytes_total", "1");
  g_assert_null (sonde_test_exposition_get (text, "sonde_t_rx_bytes"));
  /* "rx_bytes_total" as a gauge loses its suffix and clashes. */
  g_assert_cmpuint (sonde_test_exposition_count (text, "sonde_t_rx_bytes_total"), ==, 1);
  /* The gauge "info" becomes sonde_t, the info family's name: first wins. */
  assert_sample (text, "sonde_t", "4");
  g_assert_null (sonde_test_exposition_get (text, "sonde_t_info{brand=\"b\"}"));
  assert_sample (text, "sonde_u_up", "5");
  g_assert_cmpuint (g_hash_table_size (om->samples), ==, g_hash_table_size (text->samples));
}

static void
test_negotiate (void)
{
  static const struct {
    const char           *accept;
    SondePrometheusFormat format;
  } cases[] = {
    { NULL, SONDE_PROMETHEUS_FORMAT_TEXT },
    { "", SONDE_PROMETHEUS_FORMAT_TEXT },
    { "*/*", SONDE_PROMETHEUS_FORMAT_TEXT },
    { "text/plain", SONDE_PROMETHEUS_FORMAT_TEXT },
    { "application/json", SONDE_PROMETHEUS_FORMAT_TEXT },
    /* Prometheus 2.42's own. */
    { "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,"
      "text/plain;version=0.0.4;q=0.5,*/*;q=0.1", SONDE_PROMETHEUS_FORMAT_OPENMETRICS },
    { "application/openmetrics-text", SONDE_PROMETHEUS_FORMAT_OPENMETRICS },
    { "Application/OpenMetrics-Text; Version=\"1.0.0\"", SONDE_PROMETHEUS_FORMAT_OPENMETRICS },
    { "application/openmetrics-text; version=0.0.1", SONDE_PROMETHEUS_FORMAT_TEXT },
    { "application/openmetrics-text; version=2.0.0", SONDE_PROMETHEUS_FORMAT_TEXT },
    { "text/plain;version=0.0.4;q=0.9, application/openmetrics-text;q=0.5", SONDE_PROMETHEUS_FORMAT_TEXT },
    { "text/plain;version=0.0.4;q=0.5, application/openmetrics-text;version=1.0.0;q=0.6",
      SONDE_PROMETHEUS_FORMAT_OPENMETRICS },
    { "application/openmetrics-text;q=0", SONDE_PROMETHEUS_FORMAT_TEXT },
    { "application/openmetrics-text;q=abc", SONDE_PROMETHEUS_FORMAT_TEXT },
    { ",,;;=,;q=,application/openmetrics-text;;", SONDE_PROMETHEUS_FORMAT_OPENMETRICS },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_test_message ("Accept: %s", cases[i].accept ? cases[i].accept : "(none)");
      g_assert_cmpint (_sonde_prometheus_negotiate (cases[i].accept), ==, cases[i].format);
    }

  g_assert_cmpstr (_sonde_prometheus_content_type (SONDE_PROMETHEUS_FORMAT_TEXT), ==,
                   "text/plain; version=0.0.4; charset=utf-8");
  g_assert_cmpstr (_sonde_prometheus_content_type (SONDE_PROMETHEUS_FORMAT_OPENMETRICS), ==,
                   "application/openmetrics-text; version=1.0.0; charset=utf-8");
}

/* Random input --------------------------------------------------------------- */

static char *
random_string (void)
{
  static const char * const pool[] = {
    "", "a", "eth0", "/", "x\"y", "back\\slash", "new\nline", "\xff\xfe", "caf\xc3\xa9", "}{,=",
    "__name__", "host", "1st", "le", "a-b.c", "total_", "_total", "bytes", "count", "info",
  };
  GString *out = g_string_new (pool[g_test_rand_int_range (0, G_N_ELEMENTS (pool))]);

  if (g_test_rand_bit ())
    for (int i = g_test_rand_int_range (0, 6); i > 0; i--)
      g_string_append_c (out, (char) g_test_rand_int_range (1, 256));
  return g_string_free (out, FALSE);
}

static JsonNode *random_node (guint depth);

static JsonNode *
random_scalar (void)
{
  static const double doubles[] = { 0, -0.0, 1.5, -2.5, 1e300, -1e-300, NAN, INFINITY, -INFINITY, 0.1 };
  g_autofree char *text = NULL;

  switch (g_test_rand_int_range (0, 5))
    {
    case 0:
      return json_node_init_int (json_node_alloc (),
                                 g_test_rand_bit () ? g_test_rand_int () : G_MAXINT64 - g_test_rand_int_range (0, 2));
    case 1:
      return json_node_init_double (json_node_alloc (), doubles[g_test_rand_int_range (0, G_N_ELEMENTS (doubles))]);
    case 2:
      text = random_string ();
      return json_node_init_string (json_node_alloc (), text);
    case 3:
      return json_node_init_boolean (json_node_alloc (), g_test_rand_bit ());
    default:
      return json_node_init_null (json_node_alloc ());
    }
}

static JsonNode *
random_node (guint depth)
{
  guint choice = depth >= 2 ? 0 : g_test_rand_int_range (0, 3);

  if (choice == 1)
    {
      g_autoptr(JsonArray) array = json_array_new ();

      for (int i = g_test_rand_int_range (0, 5); i > 0; i--)
        json_array_add_element (array, random_node (depth + 1));
      return json_node_init_array (json_node_alloc (), array);
    }
  if (choice == 2)
    {
      g_autoptr(JsonObject) object = json_object_new ();

      for (int i = g_test_rand_int_range (0, 5); i > 0; i--)
        {
          g_autofree char *key = random_string ();
          json_object_set_member (object, key, random_node (depth + 1));
        }
      return json_node_init_object (json_node_alloc (), object);
    }
  return random_scalar ();
}

/* Known and unknown collectors, fields and units, with values of any
 * shape: whatever comes in, what goes out is a valid exposition. */
static void
test_random (void)
{
  static const char * const collectors[] = { "cpu", "disk", "network", "processes", "gateway", "logs", "t", "a-b", "a_b" };
  static const char * const fields[] = {
    "per_core_percent", "partitions", "devices", "interfaces", "top_cpu", "top_memory",
    "clients_by_route", "files", "usage_percent", "total_rx_bytes", "count", "info", "x_total", "",
    "1x", "caf\xc3\xa9", "a:b", "rx_bytes_per_sec", "mount", "host",
  };
  static const char * const units[] = { "", "count", "bytes", "bytes/s", "/s", "1/s", "ms", "MHz", "percent",
                                        "KiB", "s", "weird/unit", "\xff" };
  guint iterations = g_test_thorough () ? 5000 : 400;

  for (guint iteration = 0; iteration < iterations; iteration++)
    {
      TestSource *sources[3] = { NULL, };
      guint n_sources = g_test_rand_int_range (1, 4);

      for (guint s = 0; s < n_sources; s++)
        {
          g_autofree char *host = s == 0 ? NULL : random_string ();

          sources[s] = test_source_new (host);
          for (guint c = 0; c < G_N_ELEMENTS (collectors); c++)
            {
              JsonObject *data;

              if (g_test_rand_bit ())
                continue;
              data = json_object_new ();
              for (guint f = 0; f < G_N_ELEMENTS (fields); f++)
                {
                  guint dice = g_test_rand_int_range (0, 8);

                  /* Mostly both, sometimes a field out of the catalog or
                   * a metric without its field. */
                  if (dice < 3 || dice == 7)
                    add_metric (sources[s], collectors[c], fields[f],
                                units[g_test_rand_int_range (0, G_N_ELEMENTS (units))],
                                g_test_rand_int_range (0, 5), g_test_rand_bit () ? "help \\ \" \n" : "\xfe");
                  if (dice < 4)
                    json_object_set_member (data, fields[f], random_node (0));
                }
              add_collector_object (sources[s], collectors[c], data, g_test_rand_bit ());
            }
        }

      for (SondePrometheusFormat format = SONDE_PROMETHEUS_FORMAT_TEXT;
           format <= SONDE_PROMETHEUS_FORMAT_OPENMETRICS; format++)
        {
          g_autoptr(GBytes) bytes = encode_sources (sources, n_sources, format);
          g_autoptr(SondeTestExposition) parsed = sonde_test_exposition_parse_bytes (bytes, format);
        }

      for (guint s = 0; s < n_sources; s++)
        test_source_free (sources[s]);
    }
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/prometheus/names-and-units", test_names_and_units);
  g_test_add_func ("/prometheus/openmetrics", test_openmetrics);
  g_test_add_func ("/prometheus/escaping", test_escaping);
  g_test_add_func ("/prometheus/skipped-values", test_skipped_values);
  g_test_add_func ("/prometheus/tables", test_tables);
  g_test_add_func ("/prometheus/info-and-health", test_info_and_health);
  g_test_add_func ("/prometheus/hosts", test_hosts);
  g_test_add_func ("/prometheus/clashes", test_clashes);
  g_test_add_func ("/prometheus/negotiate", test_negotiate);
  g_test_add_func ("/prometheus/random", test_random);

  return g_test_run ();
}
