/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "sonde-format-private.h"

const SondeDialectRoute _sonde_dialect_routes[] = {
  { "ziggie", "/api/system/metrics", "/api/system/metrics", 54112, _sonde_ziggie_register },
  { "kairos", "/ws/metrics", "/ws/metrics", 5900, _sonde_kairos_register },
  { "resolvix-telemetry", "/ws/telemetry", "/", 8756, _sonde_resolvix_telemetry_register },
  { "resolvix-logs", "/ws/logs", "/", 8755, _sonde_resolvix_logs_register },
  { "resolvix-control", "/control", "/", 8754, _sonde_resolvix_control_register },
};

const guint _sonde_n_dialect_routes = G_N_ELEMENTS (_sonde_dialect_routes);

const SondeDialectRoute *
_sonde_dialect_route_lookup (const char *name)
{
  for (guint i = 0; i < _sonde_n_dialect_routes; i++)
    if (g_str_equal (_sonde_dialect_routes[i].name, name))
      return &_sonde_dialect_routes[i];

  return NULL;
}
