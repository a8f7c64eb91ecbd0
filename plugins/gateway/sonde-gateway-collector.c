/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "sonde-gateway-collector.h"

/*
 * Reports the traffic statistics of the engine's server. They are kept
 * by SondeGatewayStats, which is thread-safe, so collecting is taking one
 * consistent copy: no files, no previous counters.
 *
 * collect() runs on a worker thread, where the engine (a borrowed,
 * main-thread object) must not be touched: start(), on the main thread,
 * takes a reference to the engine's statistics, and collect() only uses
 * that.
 */
struct _SondeGatewayCollector
{
  SondeCollector     parent_instance;

  /* The engine's statistics, from start() to stop() (the base class
   * keeps collect() from running meanwhile). */
  SondeGatewayStats *engine_stats;

  /*
   * What to report when the collector was not started in an engine (a
   * test, a script): statistics nobody records into, so all zero. Created once so
   * that collecting never races on creating it.
   */
  SondeGatewayStats *detached_stats;
};

G_DEFINE_FINAL_TYPE (SondeGatewayCollector, sonde_gateway_collector, SONDE_TYPE_COLLECTOR)

static SondeSample *
sonde_gateway_collector_collect (SondeCollector  *collector,
                                 GError         **error)
{
  SondeGatewayCollector *self = SONDE_GATEWAY_COLLECTOR (collector);
  g_autoptr(SondeGatewayStats) stats = NULL;
  g_autoptr(JsonObject) object = NULL;

  stats = g_object_ref (self->engine_stats != NULL ? self->engine_stats : self->detached_stats);

  object = sonde_gateway_stats_to_json (stats);
  return sonde_sample_new ("gateway", g_get_real_time (), object);
}

static gboolean
sonde_gateway_collector_start (SondeCollector  *collector,
                               GError         **error)
{
  SondeGatewayCollector *self = SONDE_GATEWAY_COLLECTOR (collector);
  SondeEngine *engine = sonde_collector_get_engine (collector);
  SondeGatewayStats *stats = engine != NULL ? sonde_engine_get_gateway_stats (engine) : NULL;

  g_set_object (&self->engine_stats, stats);

  return TRUE;
}

static void
sonde_gateway_collector_stop (SondeCollector *collector)
{
  SondeGatewayCollector *self = SONDE_GATEWAY_COLLECTOR (collector);

  g_clear_object (&self->engine_stats);
}

static void
sonde_gateway_collector_finalize (GObject *object)
{
  SondeGatewayCollector *self = SONDE_GATEWAY_COLLECTOR (object);

  g_clear_object (&self->engine_stats);
  g_clear_object (&self->detached_stats);

  G_OBJECT_CLASS (sonde_gateway_collector_parent_class)->finalize (object);
}

static void
sonde_gateway_collector_constructed (GObject *object)
{
  SondeCollector *collector = SONDE_COLLECTOR (object);

  G_OBJECT_CLASS (sonde_gateway_collector_parent_class)->constructed (object);

  sonde_collector_add_metric (collector, "requests_total", "count", SONDE_METRIC_KIND_COUNTER,
                              "HTTP requests and WebSocket handshakes served");
  sonde_collector_add_metric (collector, "requests_success", "count", SONDE_METRIC_KIND_COUNTER,
                              "Requests answered successfully");
  sonde_collector_add_metric (collector, "requests_error", "count", SONDE_METRIC_KIND_COUNTER,
                              "Requests answered with an error");
  sonde_collector_add_metric (collector, "active_connections", "count", SONDE_METRIC_KIND_GAUGE,
                              "Open WebSocket connections");
  sonde_collector_add_metric (collector, "avg_response_time", "ms", SONDE_METRIC_KIND_GAUGE,
                              "Mean time to answer a request");
  sonde_collector_add_metric (collector, "success_rate", "percent", SONDE_METRIC_KIND_GAUGE,
                              "Share of requests answered successfully (100 before any)");
  sonde_collector_add_metric (collector, "messages_sent", "count", SONDE_METRIC_KIND_COUNTER,
                              "WebSocket messages sent to clients");
  sonde_collector_add_metric (collector, "frames_dropped", "count", SONDE_METRIC_KIND_COUNTER,
                              "Frames coalesced away for slow clients");
  sonde_collector_add_metric (collector, "clients_by_route", "count", SONDE_METRIC_KIND_TABLE,
                              "Open WebSocket connections per route");
}

static void
sonde_gateway_collector_class_init (SondeGatewayCollectorClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  SondeCollectorClass *collector_class = SONDE_COLLECTOR_CLASS (klass);

  object_class->constructed = sonde_gateway_collector_constructed;
  object_class->finalize = sonde_gateway_collector_finalize;

  collector_class->start = sonde_gateway_collector_start;
  collector_class->stop = sonde_gateway_collector_stop;
  collector_class->collect = sonde_gateway_collector_collect;
}

static void
sonde_gateway_collector_init (SondeGatewayCollector *self)
{
  self->detached_stats = sonde_gateway_stats_new ();
}

SondeCollector *
sonde_gateway_collector_new (void)
{
  return g_object_new (SONDE_TYPE_GATEWAY_COLLECTOR, "name", "gateway", NULL);
}

/* The module's entry points: libsonde-gateway.so registers this collector as
 * "gateway"; a higher priority lists it earlier. */
SONDE_DEFINE_COLLECTOR_PLUGIN (gateway, SONDE_TYPE_GATEWAY_COLLECTOR, 20)
