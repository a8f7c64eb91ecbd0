/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#if !defined(SONDE_INSIDE) && !defined(SONDE_COMPILATION)
# error "Only <sonde.h> can be included directly."
#endif

#include <gio/gio.h>

#include "sonde-collector.h"
#include "sonde-gateway-stats.h"
#include "sonde-history.h"
#include "sonde-version-macros.h"

G_BEGIN_DECLS

/**
 * SONDE_INTERVAL_MIN_MS:
 *
 * The shortest sampling interval, in milliseconds.
 *
 * Since: 0.1
 */
#define SONDE_INTERVAL_MIN_MS 100

/**
 * SONDE_INTERVAL_MAX_MS:
 *
 * The longest sampling interval, in milliseconds.
 *
 * Since: 0.1
 */
#define SONDE_INTERVAL_MAX_MS 60000

#define SONDE_TYPE_ENGINE (sonde_engine_get_type ())

SONDE_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (SondeEngine, sonde_engine, SONDE, ENGINE, GObject)

SONDE_AVAILABLE_IN_ALL
SondeEngine       *sonde_engine_new                (void);
SONDE_AVAILABLE_IN_ALL
guint              sonde_engine_load_plugins       (SondeEngine        *self,
                                                    const char * const *plugin_dirs);
SONDE_AVAILABLE_IN_ALL
gboolean           sonde_engine_add_collector      (SondeEngine        *self,
                                                    SondeCollector     *collector,
                                                    GError            **error);
SONDE_AVAILABLE_IN_ALL
gboolean           sonde_engine_remove_collector   (SondeEngine        *self,
                                                    const char         *name);
SONDE_AVAILABLE_IN_ALL
SondeCollector    *sonde_engine_get_collector      (SondeEngine        *self,
                                                    const char         *name);
SONDE_AVAILABLE_IN_0_2
gboolean           sonde_engine_set_collector_enabled (SondeEngine     *self,
                                                       const char      *name,
                                                       gboolean         enabled,
                                                       GError         **error);
SONDE_AVAILABLE_IN_0_2
gboolean           sonde_engine_get_collector_enabled (SondeEngine     *self,
                                                       const char      *name);
SONDE_AVAILABLE_IN_ALL
GPtrArray         *sonde_engine_list_collectors    (SondeEngine        *self);
SONDE_AVAILABLE_IN_ALL
GPtrArray         *sonde_engine_list_metrics       (SondeEngine        *self);
SONDE_AVAILABLE_IN_ALL
SondeMetric       *sonde_engine_lookup_metric      (SondeEngine        *self,
                                                    const char         *name);
SONDE_AVAILABLE_IN_ALL
SondeSample       *sonde_engine_get_latest         (SondeEngine        *self,
                                                    const char         *collector);
SONDE_AVAILABLE_IN_ALL
guint              sonde_engine_hold               (SondeEngine        *self,
                                                    const char         *collector,
                                                    guint               interval_ms,
                                                    GError            **error);
SONDE_AVAILABLE_IN_ALL
void               sonde_engine_release            (SondeEngine        *self,
                                                    guint               hold_id);
SONDE_AVAILABLE_IN_ALL
void               sonde_engine_refresh_async      (SondeEngine        *self,
                                                    const char * const *collectors,
                                                    GCancellable       *cancellable,
                                                    GAsyncReadyCallback callback,
                                                    gpointer            user_data);
SONDE_AVAILABLE_IN_ALL
gboolean           sonde_engine_refresh_finish     (SondeEngine        *self,
                                                    GAsyncResult       *result,
                                                    GError            **error);
SONDE_AVAILABLE_IN_ALL
void               sonde_engine_snapshot_async     (SondeEngine        *self,
                                                    const char * const *patterns,
                                                    GCancellable       *cancellable,
                                                    GAsyncReadyCallback callback,
                                                    gpointer            user_data);
SONDE_AVAILABLE_IN_ALL
char              *sonde_engine_snapshot_finish    (SondeEngine        *self,
                                                    GAsyncResult       *result,
                                                    GError            **error);
SONDE_AVAILABLE_IN_ALL
SondeGatewayStats *sonde_engine_get_gateway_stats  (SondeEngine        *self);
SONDE_AVAILABLE_IN_ALL
const char        *sonde_engine_get_proc_root      (SondeEngine        *self);
SONDE_AVAILABLE_IN_ALL
void               sonde_engine_set_proc_root      (SondeEngine        *self,
                                                    const char         *proc_root);

SONDE_AVAILABLE_IN_ALL
guint              sonde_engine_get_history_length (SondeEngine        *self);
SONDE_AVAILABLE_IN_ALL
void               sonde_engine_set_history_length (SondeEngine        *self,
                                                    guint               seconds);

SONDE_AVAILABLE_IN_ALL
SondeHistory      *sonde_engine_get_history        (SondeEngine        *self);

G_END_DECLS
