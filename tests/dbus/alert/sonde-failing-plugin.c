/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "sonde.h"

/* A collector whose every collection fails, for the test of the Alert
 * signal: the engine reports each failure as a collector_error event. */

#define SONDE_TYPE_FAILING_COLLECTOR (sonde_failing_collector_get_type ())
G_DECLARE_FINAL_TYPE (SondeFailingCollector, sonde_failing_collector, SONDE, FAILING_COLLECTOR, SondeCollector)

struct _SondeFailingCollector
{
  SondeCollector parent_instance;
};

G_DEFINE_FINAL_TYPE (SondeFailingCollector, sonde_failing_collector, SONDE_TYPE_COLLECTOR)

static SondeSample *
sonde_failing_collector_collect (SondeCollector  *collector,
                                 GError         **error)
{
  g_set_error_literal (error, SONDE_ERROR, SONDE_ERROR_COLLECTOR_FAILED,
                       "simulated failure of the failing collector");
  return NULL;
}

static void
sonde_failing_collector_constructed (GObject *object)
{
  G_OBJECT_CLASS (sonde_failing_collector_parent_class)->constructed (object);

  sonde_collector_add_metric (SONDE_COLLECTOR (object), "value", "count",
                              SONDE_METRIC_KIND_GAUGE, "Never produced");
}

static void
sonde_failing_collector_class_init (SondeFailingCollectorClass *klass)
{
  G_OBJECT_CLASS (klass)->constructed = sonde_failing_collector_constructed;
  SONDE_COLLECTOR_CLASS (klass)->collect = sonde_failing_collector_collect;
}

static void
sonde_failing_collector_init (SondeFailingCollector *self)
{
}

SONDE_DEFINE_COLLECTOR_PLUGIN (failing, SONDE_TYPE_FAILING_COLLECTOR, 0)
