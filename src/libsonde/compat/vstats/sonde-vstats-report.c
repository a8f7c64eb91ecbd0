/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <math.h>
#include <string.h>

#include "sonde-error.h"
#include "sonde-json-private.h"
#include "sonde-vstats-private.h"

/*
 * The documents of the vstats format. One canonical object stands for a
 * host's metrics at one time, in the dashboards' shape:
 *
 *   {"cpu": {"usage", "cores", "brand", "frequency", "per_core"},
 *    "memory": {"total", "used", "available", "swap_total", "swap_used", "usage_percent"},
 *    "disks": [{"name", "mount_point", "fs_type", "total", "used", "available", "usage_percent"}],
 *    "network": {"rx", "tx", "interfaces": [{"name", "rx", "tx"}], "total_rx", "total_tx"},
 *    "uptime", "load_average": {"one", "five", "fifteen"},
 *    "os": {"name", "version", "kernel", "arch"}, "hostname"}
 *
 * This host's comes from a tick view; an agent's from its report, checked
 * member by member and rebuilt (sonde-vstats-check.c), so that nothing
 * unchecked reaches a dashboard. The agents' report is the same members
 * in the order of docs/formats/vstats.md, with network.rx and .tx (bytes
 * per second) as well: a hub that knows them need not derive them from
 * the totals.
 */

const char * const _sonde_vstats_history_metrics[VSTATS_N_HISTORY + 1] = {
  [VSTATS_H_CPU_USAGE] = "cpu.usage_percent",
  [VSTATS_H_CPU_CORES] = "cpu.cores",
  [VSTATS_H_CPU_FREQUENCY] = "cpu.frequency_mhz",
  [VSTATS_H_LOAD_1] = "cpu.load_avg_1min",
  [VSTATS_H_LOAD_5] = "cpu.load_avg_5min",
  [VSTATS_H_LOAD_15] = "cpu.load_avg_15min",
  [VSTATS_H_MEM_TOTAL] = "memory.total_bytes",
  [VSTATS_H_MEM_USED] = "memory.used_bytes",
  [VSTATS_H_MEM_AVAILABLE] = "memory.available_bytes",
  [VSTATS_H_MEM_PERCENT] = "memory.usage_percent",
  [VSTATS_H_SWAP_TOTAL] = "memory.swap_total_bytes",
  [VSTATS_H_SWAP_USED] = "memory.swap_used_bytes",
  [VSTATS_H_DISK_PERCENT] = "disk.usage_percent",
  [VSTATS_H_NET_RX_RATE] = "network.rx_bytes_per_sec",
  [VSTATS_H_NET_TX_RATE] = "network.tx_bytes_per_sec",
  [VSTATS_H_NET_RX_TOTAL] = "network.total_rx_bytes",
  [VSTATS_H_NET_TX_TOTAL] = "network.total_tx_bytes",
  [VSTATS_H_UPTIME] = "host.uptime_seconds",
  NULL
};

/* Every catalog metric a field of the format comes from. */
static const char * const vstats_metrics[] = {
  "cpu.usage_percent", "cpu.cores", "cpu.brand", "cpu.frequency_mhz", "cpu.per_core_percent",
  "cpu.load_avg_1min", "cpu.load_avg_5min", "cpu.load_avg_15min",
  "memory.total_bytes", "memory.used_bytes", "memory.available_bytes", "memory.usage_percent",
  "memory.swap_total_bytes", "memory.swap_used_bytes",
  "disk.partitions", "disk.usage_percent",
  "network.interfaces", "network.rx_bytes_per_sec", "network.tx_bytes_per_sec",
  "network.total_rx_bytes", "network.total_tx_bytes",
  "host.hostname", "host.os_name", "host.os_version", "host.kernel", "host.arch",
  "host.uptime_seconds",
  NULL
};

static const char * const report_collectors[] = { "cpu", "memory", "disk", "network", "host", NULL };

const char * const *
_sonde_vstats_list_catalog_metrics (void)
{
  return vstats_metrics;
}

GStrv
_sonde_vstats_report_patterns (SondeCatalog *catalog)
{
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();

  for (guint i = 0; report_collectors[i] != NULL; i++)
    if (_sonde_catalog_has_collector (catalog, report_collectors[i]))
      g_strv_builder_add (builder, report_collectors[i]);

  return g_strv_builder_end (builder);
}

void
_sonde_vstats_report_clear (SondeVstatsReport *report)
{
  g_clear_pointer (&report->hostname, g_free);
  g_clear_pointer (&report->metrics, json_object_unref);
}

/* Identity ----------------------------------------------------------------- */

static char *
read_machine_id (void)
{
  static const char * const paths[] = { "/etc/machine-id", "/var/lib/dbus/machine-id" };

  for (guint i = 0; i < G_N_ELEMENTS (paths); i++)
    {
      g_autofree char *contents = NULL;

      if (g_file_get_contents (paths[i], &contents, NULL, NULL) && *g_strstrip (contents) != '\0')
        return g_steal_pointer (&contents);
    }

  return NULL;
}

/* A hash rather than the machine id itself: the id is meant to stay on
 * the machine (machine-id(5)), and one derived per application cannot be
 * traced back to it. */
static char *
hash_id (const char *kind,
         const char *name)
{
  g_autofree char *input = g_strconcat ("sonde-vstats-", kind, "\n", name, NULL);
  g_autofree char *digest = g_compute_checksum_for_string (G_CHECKSUM_SHA256, input, -1);

  return g_strndup (digest, 16);
}

/* This host's server_id: the same across restarts, from /etc/machine-id,
 * else /var/lib/dbus/machine-id, else the host name. */
const char *
_sonde_vstats_get_local_id (void)
{
  static char *local_id;

  if (g_once_init_enter (&local_id))
    {
      g_autofree char *machine_id = read_machine_id ();
      char *id = machine_id != NULL ? hash_id ("machine", machine_id)
                                    : hash_id ("hostname", g_get_host_name ());

      g_once_init_leave (&local_id, id);
    }

  return local_id;
}

char *
_sonde_vstats_make_agent_id (const char *name)
{
  return hash_id ("agent", name);
}

gboolean
_sonde_vstats_parse_timestamp (const char *text,
                               gint64     *timestamp_us)
{
  g_autoptr(GTimeZone) utc = g_time_zone_new_utc ();
  g_autoptr(GDateTime) time = NULL;

  if (text == NULL || strlen (text) > 64)
    return FALSE;

  time = g_date_time_new_from_iso8601 (text, utc);
  if (time == NULL)
    return FALSE;

  *timestamp_us = g_date_time_to_unix (time) * G_USEC_PER_SEC + g_date_time_get_microsecond (time);
  return TRUE;
}

/* This host, from a tick view ------------------------------------------- */

static void
copy_member (JsonObject *to,
             const char *to_name,
             JsonObject *from,
             const char *from_name)
{
  JsonNode *node = from != NULL ? json_object_get_member (from, from_name) : NULL;

  if (node != NULL && !JSON_NODE_HOLDS_NULL (node))
    json_object_set_member (to, to_name, json_node_copy (node));
}

static JsonArray *
disks_from_partitions (JsonArray *partitions)
{
  JsonArray *disks = json_array_sized_new (json_array_get_length (partitions));

  for (guint i = 0; i < json_array_get_length (partitions); i++)
    {
      JsonNode *node = json_array_get_element (partitions, i);
      JsonObject *partition, *disk;
      const char *device;

      if (!JSON_NODE_HOLDS_OBJECT (node))
        continue;
      partition = json_node_get_object (node);
      disk = json_object_new ();

      /* The seed names a disk as the kernel does: sda1, not /dev/sda1. */
      device = json_object_get_string_member_with_default (partition, "device", "");
      if (g_str_has_prefix (device, "/dev/"))
        device += strlen ("/dev/");
      json_object_set_string_member (disk, "name", device);
      copy_member (disk, "mount_point", partition, "mount");
      copy_member (disk, "fs_type", partition, "fs_type");
      copy_member (disk, "total", partition, "total_bytes");
      copy_member (disk, "used", partition, "used_bytes");
      copy_member (disk, "available", partition, "free_bytes");
      copy_member (disk, "usage_percent", partition, "usage_percent");
      json_array_add_object_element (disks, disk);
    }

  return disks;
}

static JsonArray *
interfaces_from_network (JsonArray *interfaces)
{
  JsonArray *out = json_array_sized_new (json_array_get_length (interfaces));

  for (guint i = 0; i < json_array_get_length (interfaces); i++)
    {
      JsonNode *node = json_array_get_element (interfaces, i);
      JsonObject *interface, *entry;

      if (!JSON_NODE_HOLDS_OBJECT (node))
        continue;
      interface = json_node_get_object (node);
      entry = json_object_new ();
      copy_member (entry, "name", interface, "name");
      copy_member (entry, "rx", interface, "rx_bytes");
      copy_member (entry, "tx", interface, "tx_bytes");
      json_array_add_object_element (out, entry);
    }

  return out;
}

JsonObject *
_sonde_vstats_metrics_from_view (SondeTickView *view)
{
  JsonObject *metrics = json_object_new ();
  JsonObject *cpu = _sonde_tick_view_get_data (view, "cpu");
  JsonObject *memory = _sonde_tick_view_get_data (view, "memory");
  JsonObject *disk = _sonde_tick_view_get_data (view, "disk");
  JsonObject *network = _sonde_tick_view_get_data (view, "network");
  JsonObject *host = _sonde_tick_view_get_data (view, "host");

  /* cpu, memory, disks and network are always there, if empty: the
   * seed's dashboards read metrics.cpu.usage without looking. */
  {
    JsonObject *out = json_object_new ();

    copy_member (out, "usage", cpu, "usage_percent");
    copy_member (out, "cores", cpu, "cores");
    copy_member (out, "brand", cpu, "brand");
    copy_member (out, "frequency", cpu, "frequency_mhz");
    copy_member (out, "per_core", cpu, "per_core_percent");
    json_object_set_object_member (metrics, "cpu", out);
  }

  {
    JsonObject *out = json_object_new ();

    copy_member (out, "total", memory, "total_bytes");
    copy_member (out, "used", memory, "used_bytes");
    copy_member (out, "available", memory, "available_bytes");
    copy_member (out, "swap_total", memory, "swap_total_bytes");
    copy_member (out, "swap_used", memory, "swap_used_bytes");
    copy_member (out, "usage_percent", memory, "usage_percent");
    json_object_set_object_member (metrics, "memory", out);
  }

  if (disk != NULL && json_object_has_member (disk, "partitions") &&
      JSON_NODE_HOLDS_ARRAY (json_object_get_member (disk, "partitions")))
    json_object_set_array_member (metrics, "disks",
                                  disks_from_partitions (json_object_get_array_member (disk, "partitions")));
  else
    json_object_set_array_member (metrics, "disks", json_array_new ());

  {
    JsonObject *out = json_object_new ();

    /* The dashboard's rx and tx are rates, the report's totals. */
    copy_member (out, "rx", network, "rx_bytes_per_sec");
    copy_member (out, "tx", network, "tx_bytes_per_sec");
    if (network != NULL && json_object_has_member (network, "interfaces") &&
        JSON_NODE_HOLDS_ARRAY (json_object_get_member (network, "interfaces")))
      json_object_set_array_member (out, "interfaces",
                                    interfaces_from_network (json_object_get_array_member (network, "interfaces")));
    copy_member (out, "total_rx", network, "total_rx_bytes");
    copy_member (out, "total_tx", network, "total_tx_bytes");
    json_object_set_object_member (metrics, "network", out);
  }

  if (host != NULL && json_object_has_member (host, "uptime_seconds"))
    json_object_set_int_member (metrics, "uptime",
                                (gint64) floor (json_object_get_double_member_with_default (host, "uptime_seconds", 0)));

  if (cpu != NULL && json_object_has_member (cpu, "load_avg_1min"))
    {
      JsonObject *out = json_object_new ();

      copy_member (out, "one", cpu, "load_avg_1min");
      copy_member (out, "five", cpu, "load_avg_5min");
      copy_member (out, "fifteen", cpu, "load_avg_15min");
      json_object_set_object_member (metrics, "load_average", out);
    }

  if (host != NULL)
    {
      JsonObject *out = json_object_new ();

      copy_member (out, "name", host, "os_name");
      copy_member (out, "version", host, "os_version");
      copy_member (out, "kernel", host, "kernel");
      copy_member (out, "arch", host, "arch");
      json_object_set_object_member (metrics, "os", out);
    }

  json_object_set_string_member (metrics, "hostname",
                                 host != NULL ? json_object_get_string_member_with_default (host, "hostname", g_get_host_name ())
                                              : g_get_host_name ());
  return metrics;
}

GBytes *
_sonde_vstats_encode_metrics (const char *server_id,
                              JsonObject *metrics,
                              gint64      timestamp_us)
{
  g_autoptr(JsonObject) frame = json_object_new ();
  g_autofree char *timestamp = _sonde_format_timestamp (timestamp_us);
  JsonObject *data = json_object_new ();

  json_object_set_string_member (data, "server_id", server_id);
  json_object_set_object_member (data, "metrics", json_object_ref (metrics));
  json_object_set_string_member (frame, "type", "metrics");
  json_object_set_object_member (frame, "data", data);
  json_object_set_string_member (frame, "timestamp", timestamp);
  return _sonde_json_object_to_bytes (frame);
}

static GBytes *
encode_local_metrics (SondeHubGroup *group,
                      SondeTickView *view)
{
  g_autoptr(JsonObject) metrics = _sonde_vstats_metrics_from_view (view);

  return _sonde_vstats_encode_metrics (_sonde_vstats_get_local_id (), metrics,
                                       _sonde_tick_view_get_timestamp (view));
}

static void
share_member (JsonObject *to,
              JsonObject *from,
              const char *name)
{
  JsonNode *node = json_object_get_member (from, name);

  if (node != NULL)
    json_object_set_member (to, name, json_node_copy (node));
}

static GBytes *
encode_report (SondeHubGroup *group,
               SondeTickView *view)
{
  g_autoptr(JsonObject) metrics = _sonde_vstats_metrics_from_view (view);
  g_autoptr(JsonObject) frame = json_object_new ();
  g_autofree char *timestamp = _sonde_format_timestamp (_sonde_tick_view_get_timestamp (view));
  JsonObject *data = json_object_new ();

  /* The seed's order. */
  json_object_set_string_member (data, "timestamp", timestamp);
  share_member (data, metrics, "hostname");
  share_member (data, metrics, "os");
  share_member (data, metrics, "cpu");
  share_member (data, metrics, "memory");
  share_member (data, metrics, "disks");
  share_member (data, metrics, "network");
  share_member (data, metrics, "uptime");
  share_member (data, metrics, "load_average");

  json_object_set_string_member (frame, "type", "metrics");
  json_object_set_object_member (frame, "data", data);
  return _sonde_json_object_to_bytes (frame);
}

/* Distinct dialects: the two never share a group. */
const SondeHubEncoding _sonde_vstats_local_metrics_encoding = { "vstats", encode_local_metrics, NULL };
const SondeHubEncoding _sonde_vstats_report_encoding = { "vstats-agent", encode_report, NULL };

GBytes *
_sonde_vstats_encode_error (const char *message)
{
  g_autoptr(JsonObject) frame = json_object_new ();

  json_object_set_string_member (frame, "type", "error");
  json_object_set_string_member (frame, "message", message);
  return _sonde_json_object_to_bytes (frame);
}

void
_sonde_vstats_set_rates (JsonObject *metrics,
                         double      rx,
                         double      tx)
{
  JsonObject *network;
  g_autoptr(GList) members = NULL;
  JsonObject *reordered;

  /* No network in the report: no rates either. */
  if (!json_object_has_member (metrics, "network") ||
      json_object_get_size (json_object_get_object_member (metrics, "network")) == 0)
    return;

  /* rx and tx come first, as in the dashboards' shape: the object is
   * rebuilt in that order. */
  network = json_object_get_object_member (metrics, "network");
  reordered = json_object_new ();
  json_object_set_double_member (reordered, "rx", rx);
  json_object_set_double_member (reordered, "tx", tx);
  members = json_object_get_members (network);
  for (GList *l = members; l != NULL; l = l->next)
    if (!g_str_equal (l->data, "rx") && !g_str_equal (l->data, "tx"))
      json_object_set_member (reordered, l->data, json_node_ref (json_object_get_member (network, l->data)));
  json_object_set_object_member (metrics, "network", reordered);
}

/* History and the native view ------------------------------------------- */

static double
number_at (JsonObject *metrics,
           const char *section,
           const char *member)
{
  JsonNode *node;

  if (section != NULL)
    {
      node = json_object_get_member (metrics, section);
      if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
        return NAN;
      metrics = json_node_get_object (node);
    }

  node = json_object_get_member (metrics, member);
  return node != NULL && _sonde_vstats_is_number (node) ? json_node_get_double (node) : NAN;
}

/* The usage of the root filesystem, as the disk collector's usage_percent. */
static JsonObject *
find_root_disk (JsonObject *metrics)
{
  JsonNode *node = json_object_get_member (metrics, "disks");
  JsonArray *disks;

  if (node == NULL || !JSON_NODE_HOLDS_ARRAY (node))
    return NULL;

  disks = json_node_get_array (node);
  for (guint i = 0; i < json_array_get_length (disks); i++)
    {
      JsonObject *disk = json_array_get_object_element (disks, i);

      if (g_strcmp0 (json_object_get_string_member_with_default (disk, "mount_point", NULL), "/") == 0)
        return disk;
    }

  return json_array_get_length (disks) > 0 ? json_array_get_object_element (disks, 0) : NULL;
}

void
_sonde_vstats_history_values (JsonObject *metrics,
                              double     *values)
{
  JsonObject *root = find_root_disk (metrics);

  values[VSTATS_H_CPU_USAGE] = number_at (metrics, "cpu", "usage");
  values[VSTATS_H_CPU_CORES] = number_at (metrics, "cpu", "cores");
  values[VSTATS_H_CPU_FREQUENCY] = number_at (metrics, "cpu", "frequency");
  values[VSTATS_H_LOAD_1] = number_at (metrics, "load_average", "one");
  values[VSTATS_H_LOAD_5] = number_at (metrics, "load_average", "five");
  values[VSTATS_H_LOAD_15] = number_at (metrics, "load_average", "fifteen");
  values[VSTATS_H_MEM_TOTAL] = number_at (metrics, "memory", "total");
  values[VSTATS_H_MEM_USED] = number_at (metrics, "memory", "used");
  values[VSTATS_H_MEM_AVAILABLE] = number_at (metrics, "memory", "available");
  values[VSTATS_H_MEM_PERCENT] = number_at (metrics, "memory", "usage_percent");
  values[VSTATS_H_SWAP_TOTAL] = number_at (metrics, "memory", "swap_total");
  values[VSTATS_H_SWAP_USED] = number_at (metrics, "memory", "swap_used");
  values[VSTATS_H_DISK_PERCENT] = root != NULL ? number_at (root, NULL, "usage_percent") : NAN;
  values[VSTATS_H_NET_RX_RATE] = number_at (metrics, "network", "rx");
  values[VSTATS_H_NET_TX_RATE] = number_at (metrics, "network", "tx");
  values[VSTATS_H_NET_RX_TOTAL] = number_at (metrics, "network", "total_rx");
  values[VSTATS_H_NET_TX_TOTAL] = number_at (metrics, "network", "total_tx");
  values[VSTATS_H_UPTIME] = number_at (metrics, NULL, "uptime");
}

static void
add_sample (SondeTickView *view,
            const char    *collector,
            gint64         timestamp_us,
            JsonObject    *data)
{
  g_autoptr(SondeSample) sample = NULL;

  if (json_object_get_size (data) == 0)
    {
      json_object_unref (data);
      return;
    }

  sample = sonde_sample_new (collector, timestamp_us, data);
  json_object_unref (data);
  _sonde_tick_view_add (view, collector, sample, NULL, FALSE);
}

static JsonObject *
section_of (JsonObject *metrics,
            const char *name)
{
  JsonNode *node = json_object_get_member (metrics, name);

  return node != NULL && JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
}

/* The inverse of _sonde_vstats_metrics_from_view(), for what the native
 * protocol and the REST routes serve of other hosts. */
SondeTickView *
_sonde_vstats_metrics_to_view (JsonObject *metrics,
                               gint64      timestamp_us)
{
  SondeTickView *view = _sonde_tick_view_new (timestamp_us, 5);
  JsonObject *cpu = section_of (metrics, "cpu");
  JsonObject *memory = section_of (metrics, "memory");
  JsonObject *network = section_of (metrics, "network");
  JsonObject *load = section_of (metrics, "load_average");
  JsonObject *os = section_of (metrics, "os");
  JsonObject *out;
  JsonObject *root = find_root_disk (metrics);
  JsonNode *node;

  out = json_object_new ();
  if (cpu != NULL)
    {
      copy_member (out, "usage_percent", cpu, "usage");
      copy_member (out, "per_core_percent", cpu, "per_core");
    }
  if (load != NULL)
    {
      copy_member (out, "load_avg_1min", load, "one");
      copy_member (out, "load_avg_5min", load, "five");
      copy_member (out, "load_avg_15min", load, "fifteen");
    }
  if (cpu != NULL)
    {
      copy_member (out, "cores", cpu, "cores");
      copy_member (out, "frequency_mhz", cpu, "frequency");
      copy_member (out, "brand", cpu, "brand");
    }
  add_sample (view, "cpu", timestamp_us, out);

  out = json_object_new ();
  if (memory != NULL)
    {
      copy_member (out, "total_bytes", memory, "total");
      copy_member (out, "used_bytes", memory, "used");
      copy_member (out, "available_bytes", memory, "available");
      copy_member (out, "usage_percent", memory, "usage_percent");
      copy_member (out, "swap_total_bytes", memory, "swap_total");
      copy_member (out, "swap_used_bytes", memory, "swap_used");
    }
  add_sample (view, "memory", timestamp_us, out);

  out = json_object_new ();
  if (root != NULL)
    copy_member (out, "usage_percent", root, "usage_percent");
  node = json_object_get_member (metrics, "disks");
  if (node != NULL && JSON_NODE_HOLDS_ARRAY (node))
    {
      JsonArray *disks = json_node_get_array (node);
      JsonArray *partitions = json_array_sized_new (json_array_get_length (disks));

      for (guint i = 0; i < json_array_get_length (disks); i++)
        {
          JsonObject *disk = json_array_get_object_element (disks, i);
          JsonObject *partition = json_object_new ();

          copy_member (partition, "mount", disk, "mount_point");
          copy_member (partition, "device", disk, "name");
          copy_member (partition, "fs_type", disk, "fs_type");
          copy_member (partition, "total_bytes", disk, "total");
          copy_member (partition, "used_bytes", disk, "used");
          copy_member (partition, "free_bytes", disk, "available");
          copy_member (partition, "usage_percent", disk, "usage_percent");
          json_array_add_object_element (partitions, partition);
        }
      json_object_set_array_member (out, "partitions", partitions);
    }
  add_sample (view, "disk", timestamp_us, out);

  out = json_object_new ();
  if (network != NULL)
    {
      node = json_object_get_member (network, "interfaces");
      if (node != NULL && JSON_NODE_HOLDS_ARRAY (node))
        {
          JsonArray *interfaces = json_node_get_array (node);
          JsonArray *array = json_array_sized_new (json_array_get_length (interfaces));

          for (guint i = 0; i < json_array_get_length (interfaces); i++)
            {
              JsonObject *interface = json_array_get_object_element (interfaces, i);
              JsonObject *entry = json_object_new ();

              copy_member (entry, "name", interface, "name");
              copy_member (entry, "rx_bytes", interface, "rx");
              copy_member (entry, "tx_bytes", interface, "tx");
              json_array_add_object_element (array, entry);
            }
          json_object_set_array_member (out, "interfaces", array);
        }
      copy_member (out, "rx_bytes_per_sec", network, "rx");
      copy_member (out, "tx_bytes_per_sec", network, "tx");
      copy_member (out, "total_rx_bytes", network, "total_rx");
      copy_member (out, "total_tx_bytes", network, "total_tx");
    }
  add_sample (view, "network", timestamp_us, out);

  out = json_object_new ();
  copy_member (out, "hostname", metrics, "hostname");
  if (os != NULL)
    {
      copy_member (out, "os_name", os, "name");
      copy_member (out, "os_version", os, "version");
      copy_member (out, "kernel", os, "kernel");
      copy_member (out, "arch", os, "arch");
    }
  copy_member (out, "uptime_seconds", metrics, "uptime");
  add_sample (view, "host", timestamp_us, out);

  return view;
}
