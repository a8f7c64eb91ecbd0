/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#if !defined(SONDE_INSIDE) && !defined(SONDE_COMPILATION)
# error "Only <sonde.h> can be included directly."
#endif

#include <gio/gio.h>

#include "sonde-event.h"
#include "sonde-metric.h"
#include "sonde-sample.h"
#include "sonde-version-macros.h"

G_BEGIN_DECLS

/**
 * SONDE_COLLECTOR_EXTENSION_POINT:
 *
 * The #GIOExtensionPoint that collector plugins implement, with the
 * collector's name as the extension name.
 *
 * Since: 0.1
 */
#define SONDE_COLLECTOR_EXTENSION_POINT "sonde-collector"

/**
 * SONDE_DEFINE_COLLECTOR_PLUGIN:
 * @module_name: the plugin's name, as in its file name: `cpu` for
 *   `libsonde-cpu.so`; it is also the collector's name
 * @collector_type: the #GType of the collector, such as
 *   `SONDE_TYPE_CPU_COLLECTOR`
 * @priority: where the collector comes among the others: higher first
 *
 * Defines the entry points of a collector plugin module, which
 * sonde_engine_load_plugins() calls: the module registers
 * @collector_type on %SONDE_COLLECTOR_EXTENSION_POINT under
 * @module_name. The collector type is a static type, so the module is
 * never unloaded. Use it once, in one file of the module.
 *
 * Since: 0.2
 */
#define SONDE_DEFINE_COLLECTOR_PLUGIN(module_name, collector_type, priority)      \
  G_MODULE_EXPORT void g_io_sonde_##module_name##_load   (GIOModule *module);   \
  G_MODULE_EXPORT void g_io_sonde_##module_name##_unload (GIOModule *module);   \
  G_MODULE_EXPORT void                                                          \
  g_io_sonde_##module_name##_load (GIOModule *module)                           \
  {                                                                             \
    g_type_module_use (G_TYPE_MODULE (module));                                 \
    g_io_extension_point_implement (SONDE_COLLECTOR_EXTENSION_POINT,            \
                                    collector_type, #module_name, priority);    \
  }                                                                             \
  G_MODULE_EXPORT void                                                          \
  g_io_sonde_##module_name##_unload (GIOModule *module)                         \
  {                                                                             \
  }

#define SONDE_TYPE_COLLECTOR (sonde_collector_get_type ())

SONDE_AVAILABLE_IN_ALL
G_DECLARE_DERIVABLE_TYPE (SondeCollector, sonde_collector, SONDE, COLLECTOR, GObject)

typedef struct _SondeEngine SondeEngine;

/**
 * SondeCollectorClass:
 * @parent_class: the parent class
 * @start: prepare for collection (open files, reset counters); called on
 *   the main thread when the collector gets its first consumer
 * @stop: release what @start acquired; called when the last consumer goes
 * @collect: produce one sample. Called from a worker thread.
 * @sampled: class handler of #SondeCollector::sampled
 * @failed: class handler of #SondeCollector::failed
 * @event: class handler of #SondeCollector::event
 *
 * The base class serialises @start, @stop and @collect of one instance
 * (and the setters that hold sonde_collector_lock_settings()): none runs
 * while another does, so a subclass needs no lock for the state they
 * share, whichever threads call them.
 *
 * Since: 0.1
 */
struct _SondeCollectorClass
{
  GObjectClass parent_class;

  gboolean     (*start)   (SondeCollector  *self,
                           GError         **error);
  void         (*stop)    (SondeCollector  *self);
  SondeSample *(*collect) (SondeCollector  *self,
                           GError         **error);

  void         (*sampled) (SondeCollector  *self,
                           SondeSample     *sample);
  void         (*failed)  (SondeCollector  *self,
                           const GError    *error);
  void         (*event)   (SondeCollector  *self,
                           SondeEvent      *event);

  /*< private >*/
  gpointer _reserved[8];
};

SONDE_AVAILABLE_IN_ALL
const char   *sonde_collector_get_name        (SondeCollector   *self);
SONDE_AVAILABLE_IN_ALL
const char   *sonde_collector_get_proc_root   (SondeCollector   *self);
SONDE_AVAILABLE_IN_ALL
void          sonde_collector_set_proc_root   (SondeCollector   *self,
                                               const char       *proc_root);
SONDE_AVAILABLE_IN_ALL
const char   *sonde_collector_get_sys_root    (SondeCollector   *self);
SONDE_AVAILABLE_IN_ALL
void          sonde_collector_set_sys_root    (SondeCollector   *self,
                                               const char       *sys_root);
SONDE_AVAILABLE_IN_ALL
SondeEngine  *sonde_collector_get_engine      (SondeCollector   *self);
SONDE_AVAILABLE_IN_ALL
gboolean      sonde_collector_get_running     (SondeCollector   *self);
SONDE_AVAILABLE_IN_ALL
void          sonde_collector_add_metric      (SondeCollector   *self,
                                               const char       *field,
                                               const char       *unit,
                                               SondeMetricKind   kind,
                                               const char       *description);
SONDE_AVAILABLE_IN_ALL
GPtrArray    *sonde_collector_get_metrics     (SondeCollector   *self);
SONDE_AVAILABLE_IN_ALL
SondeMetric  *sonde_collector_lookup_metric   (SondeCollector   *self,
                                               const char       *field);
SONDE_AVAILABLE_IN_ALL
gboolean      sonde_collector_start           (SondeCollector   *self,
                                               GError          **error);
SONDE_AVAILABLE_IN_ALL
void          sonde_collector_stop            (SondeCollector   *self);
SONDE_AVAILABLE_IN_ALL
SondeSample  *sonde_collector_collect         (SondeCollector   *self,
                                               GError          **error);
SONDE_AVAILABLE_IN_ALL
void          sonde_collector_emit_event      (SondeCollector   *self,
                                               const char       *event_type,
                                               JsonObject       *data);
SONDE_AVAILABLE_IN_0_2
guint64       sonde_collector_get_events_dropped (SondeCollector *self);

/**
 * SondeCollectorLocker:
 *
 * What a subclass's setters hold while they change what
 * #SondeCollectorClass.collect reads: see sonde_collector_lock_settings().
 *
 * Since: 0.2
 */
typedef struct _SondeCollectorLocker SondeCollectorLocker;

SONDE_AVAILABLE_IN_0_2
SondeCollectorLocker *sonde_collector_lock_settings (SondeCollector       *self);
SONDE_AVAILABLE_IN_0_2
void                  sonde_collector_locker_free   (SondeCollectorLocker *locker);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SondeCollectorLocker, sonde_collector_locker_free)

G_END_DECLS
