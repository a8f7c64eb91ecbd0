/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "sonde.h"
#include "sonde-logs-collector.h"

G_MODULE_EXPORT void g_io_sonde_logs_load   (GIOModule *module);
G_MODULE_EXPORT void g_io_sonde_logs_unload (GIOModule *module);

G_MODULE_EXPORT void
g_io_sonde_logs_load (GIOModule *module)
{
  /* The collector type is static, so the module must never be unloaded. */
  g_type_module_use (G_TYPE_MODULE (module));
  g_io_extension_point_implement (SONDE_COLLECTOR_EXTENSION_POINT,
                                  SONDE_TYPE_LOGS_COLLECTOR, "logs", 0);
}

G_MODULE_EXPORT void
g_io_sonde_logs_unload (GIOModule *module)
{
}
