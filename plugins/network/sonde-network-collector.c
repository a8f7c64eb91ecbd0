/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "sonde-network-collector.h"
#include "sonde-network-parser.h"
#include "sonde-proc-file.h"

struct _SondeNetworkCollector
{
  SondeCollector         parent_instance;

  /* Collection state: start/stop run on the main thread and collect on a
   * worker, so the mutex keeps them from overlapping. */
  char                  *opened_root;
  SondeProcFile         *dev_file;
  SondeProcFile         *snmp_file;

  /* Counters of the last two samples, swapped each tick. */
  GArray                *current;      /* SondeNetDevEntry */
  GArray                *previous;
  gint64                 previous_time;
  gboolean               have_previous;

  SondeNetworkClockFunc  clock;
  gpointer               clock_data;
};

G_DEFINE_FINAL_TYPE (SondeNetworkCollector, sonde_network_collector, SONDE_TYPE_COLLECTOR)

static void
close_files (SondeNetworkCollector *self)
{
  g_clear_pointer (&self->dev_file, sonde_proc_file_free);
  g_clear_pointer (&self->snmp_file, sonde_proc_file_free);
  g_clear_pointer (&self->opened_root, g_free);
}

/*
 * Opens the kept-open files below the current proc root, reopening them
 * when a test moved the root. The previous counters survive a root change:
 * that is how tests compute rates between two fixture trees.
 */
static void
ensure_files (SondeNetworkCollector *self)
{
  const char *root = sonde_collector_get_proc_root (SONDE_COLLECTOR (self));
  g_autofree char *dev_path = NULL;
  g_autofree char *snmp_path = NULL;

  if (self->opened_root != NULL && g_str_equal (self->opened_root, root))
    return;

  close_files (self);
  self->opened_root = g_strdup (root);

  dev_path = g_build_filename (root, "net", "dev", NULL);
  self->dev_file = sonde_proc_file_new (dev_path);
  snmp_path = g_build_filename (root, "net", "snmp", NULL);
  self->snmp_file = sonde_proc_file_new (snmp_path);
}

/*
 * The kernel's count of TCP connections, from Tcp: CurrEstab of
 * /proc/net/snmp: one counter of the network namespace, IPv4 and IPv6
 * together, so a tick costs one short pread() however many sockets the
 * host has. Walking /proc/net/tcp and tcp6 instead cost milliseconds per
 * tick, growing with the sockets (tests/bench/README.md).
 */
static gboolean
read_curr_estab (SondeNetworkCollector *self,
                 guint64               *value)
{
  g_autoptr(GError) error = NULL;
  const char *text;
  gsize length;

  text = sonde_proc_file_read (self->snmp_file, &length, &error);
  if (text == NULL)
    {
      g_debug ("%s", error->message);
      return FALSE;
    }
  if (!sonde_net_snmp_lookup (text, length, "Tcp", "CurrEstab", value))
    {
      g_debug ("No Tcp: CurrEstab in %s", sonde_proc_file_get_path (self->snmp_file));
      return FALSE;
    }
  return TRUE;
}

static const SondeNetDevEntry *
find_previous (SondeNetworkCollector *self,
               guint                  index,
               const char            *name)
{
  GArray *prev = self->previous;

  /* Interfaces keep their order from tick to tick: try the same slot
   * before searching. */
  if (index < prev->len &&
      g_str_equal (g_array_index (prev, SondeNetDevEntry, index).name, name))
    return &g_array_index (prev, SondeNetDevEntry, index);

  for (guint i = 0; i < prev->len; i++)
    if (g_str_equal (g_array_index (prev, SondeNetDevEntry, i).name, name))
      return &g_array_index (prev, SondeNetDevEntry, i);

  return NULL;
}

static gint64
get_now (SondeNetworkCollector *self)
{
  if (self->clock != NULL)
    return self->clock (self->clock_data);
  return g_get_monotonic_time ();
}

static SondeSample *
sonde_network_collector_collect (SondeCollector  *collector,
                                 GError         **error)
{
  SondeNetworkCollector *self = SONDE_NETWORK_COLLECTOR (collector);
  g_autoptr(JsonObject) obj = NULL;
  g_autoptr(JsonArray) interfaces = NULL;
  const char *text;
  gsize length;
  gint64 now;
  double elapsed = 0.0;
  guint64 total_rx = 0, total_tx = 0, packets_rx = 0, packets_tx = 0;
  guint64 delta_rx = 0, delta_tx = 0;
  guint64 established = 0;
  gboolean have_established;
  GArray *swap;

  ensure_files (self);

  text = sonde_proc_file_read (self->dev_file, &length, error);
  if (text == NULL)
    return NULL;

  g_array_set_size (self->current, 0);
  sonde_net_dev_parse (text, length, self->current);

  have_established = read_curr_estab (self, &established);

  now = get_now (self);
  if (self->have_previous && now > self->previous_time)
    elapsed = (now - self->previous_time) / (double) G_USEC_PER_SEC;

  interfaces = json_array_sized_new (self->current->len);

  for (guint i = 0; i < self->current->len; i++)
    {
      const SondeNetDevEntry *cur = &g_array_index (self->current, SondeNetDevEntry, i);
      const SondeNetDevEntry *prev = NULL;
      JsonObject *iface = json_object_new ();
      double rx_rate = 0.0, tx_rate = 0.0;

      /* An interface that just appeared has no rate yet; one that vanished
       * is simply absent, so neither moves the totals' rates. */
      if (elapsed > 0.0)
        prev = find_previous (self, i, cur->name);

      if (prev != NULL)
        {
          guint64 drx = sonde_net_counter_delta (prev->rx_bytes, cur->rx_bytes);
          guint64 dtx = sonde_net_counter_delta (prev->tx_bytes, cur->tx_bytes);

          delta_rx += drx;
          delta_tx += dtx;
          rx_rate = drx / elapsed;
          tx_rate = dtx / elapsed;
        }

      total_rx += cur->rx_bytes;
      total_tx += cur->tx_bytes;
      packets_rx += cur->rx_packets;
      packets_tx += cur->tx_packets;

      json_object_set_string_member (iface, "name", cur->name);
      json_object_set_int_member (iface, "rx_bytes", cur->rx_bytes);
      json_object_set_int_member (iface, "tx_bytes", cur->tx_bytes);
      json_object_set_double_member (iface, "rx_bytes_per_sec", rx_rate);
      json_object_set_double_member (iface, "tx_bytes_per_sec", tx_rate);
      json_object_set_int_member (iface, "rx_packets", cur->rx_packets);
      json_object_set_int_member (iface, "tx_packets", cur->tx_packets);
      json_array_add_object_element (interfaces, iface);
    }

  obj = json_object_new ();
  json_object_set_array_member (obj, "interfaces", g_steal_pointer (&interfaces));
  json_object_set_double_member (obj, "rx_bytes_per_sec", elapsed > 0.0 ? delta_rx / elapsed : 0.0);
  json_object_set_double_member (obj, "tx_bytes_per_sec", elapsed > 0.0 ? delta_tx / elapsed : 0.0);
  json_object_set_int_member (obj, "total_rx_bytes", total_rx);
  json_object_set_int_member (obj, "total_tx_bytes", total_tx);
  json_object_set_int_member (obj, "packets_sent", packets_tx);
  json_object_set_int_member (obj, "packets_recv", packets_rx);
  /* Unknown is absent, never 0 (a /proc without net/snmp, as in some
   * test trees). */
  if (have_established)
    json_object_set_int_member (obj, "active_connections", established);

  swap = self->previous;
  self->previous = self->current;
  self->current = swap;
  self->previous_time = now;
  self->have_previous = TRUE;

  return sonde_sample_new ("network", g_get_real_time (), obj);
}

static gboolean
sonde_network_collector_start (SondeCollector  *collector,
                               GError         **error)
{
  SondeNetworkCollector *self = SONDE_NETWORK_COLLECTOR (collector);

  self->have_previous = FALSE;
  g_array_set_size (self->previous, 0);
  ensure_files (self);

  /* Fail early, on the main thread, if there is no /proc/net/dev. */
  return sonde_proc_file_read (self->dev_file, NULL, error) != NULL;
}

static void
sonde_network_collector_stop (SondeCollector *collector)
{
  SondeNetworkCollector *self = SONDE_NETWORK_COLLECTOR (collector);

  close_files (self);
  self->have_previous = FALSE;
  g_array_set_size (self->previous, 0);
}

static void
sonde_network_collector_constructed (GObject *object)
{
  SondeCollector *collector = SONDE_COLLECTOR (object);

  G_OBJECT_CLASS (sonde_network_collector_parent_class)->constructed (object);

  sonde_collector_add_metric (collector, "interfaces", "", SONDE_METRIC_KIND_TABLE,
                              "Per interface: name, rx/tx bytes, rx/tx bytes per second, rx/tx packets");
  sonde_collector_add_metric (collector, "rx_bytes_per_sec", "bytes/s", SONDE_METRIC_KIND_RATE,
                              "Bytes received per second, all interfaces");
  sonde_collector_add_metric (collector, "tx_bytes_per_sec", "bytes/s", SONDE_METRIC_KIND_RATE,
                              "Bytes sent per second, all interfaces");
  sonde_collector_add_metric (collector, "total_rx_bytes", "bytes", SONDE_METRIC_KIND_COUNTER,
                              "Bytes received since boot, all interfaces including loopback");
  sonde_collector_add_metric (collector, "total_tx_bytes", "bytes", SONDE_METRIC_KIND_COUNTER,
                              "Bytes sent since boot, all interfaces including loopback");
  sonde_collector_add_metric (collector, "packets_sent", "count", SONDE_METRIC_KIND_COUNTER,
                              "Packets sent since boot, all interfaces");
  sonde_collector_add_metric (collector, "packets_recv", "count", SONDE_METRIC_KIND_COUNTER,
                              "Packets received since boot, all interfaces");
  sonde_collector_add_metric (collector, "active_connections", "count", SONDE_METRIC_KIND_GAUGE,
                              "TCP connections in state ESTABLISHED or CLOSE-WAIT, IPv4 and IPv6, "
                              "of the daemon's network namespace (Tcp: CurrEstab of /proc/net/snmp)");
}

static void
sonde_network_collector_finalize (GObject *object)
{
  SondeNetworkCollector *self = SONDE_NETWORK_COLLECTOR (object);

  close_files (self);
  g_clear_pointer (&self->current, g_array_unref);
  g_clear_pointer (&self->previous, g_array_unref);

  G_OBJECT_CLASS (sonde_network_collector_parent_class)->finalize (object);
}

static void
sonde_network_collector_class_init (SondeNetworkCollectorClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  SondeCollectorClass *collector_class = SONDE_COLLECTOR_CLASS (klass);

  object_class->constructed = sonde_network_collector_constructed;
  object_class->finalize = sonde_network_collector_finalize;

  collector_class->start = sonde_network_collector_start;
  collector_class->stop = sonde_network_collector_stop;
  collector_class->collect = sonde_network_collector_collect;
}

static void
sonde_network_collector_init (SondeNetworkCollector *self)
{
  self->current = g_array_new (FALSE, FALSE, sizeof (SondeNetDevEntry));
  self->previous = g_array_new (FALSE, FALSE, sizeof (SondeNetDevEntry));
}

SondeCollector *
sonde_network_collector_new (void)
{
  return g_object_new (SONDE_TYPE_NETWORK_COLLECTOR, "name", "network", NULL);
}

void
_sonde_network_collector_set_clock (SondeNetworkCollector *self,
                                    SondeNetworkClockFunc  func,
                                    gpointer               user_data)
{
  g_autoptr(SondeCollectorLocker) locker = NULL;

  g_return_if_fail (SONDE_IS_NETWORK_COLLECTOR (self));

  locker = sonde_collector_lock_settings (SONDE_COLLECTOR (self));

  self->clock = func;
  self->clock_data = user_data;
}

/* The module's entry points: libsonde-network.so registers this collector as
 * "network"; a higher priority lists it earlier. */
SONDE_DEFINE_COLLECTOR_PLUGIN (network, SONDE_TYPE_NETWORK_COLLECTOR, 40)
