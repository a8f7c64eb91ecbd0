/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "sonde.h"

G_BEGIN_DECLS

#define SONDE_TYPE_CPU_COLLECTOR (sonde_cpu_collector_get_type ())

G_DECLARE_FINAL_TYPE (SondeCpuCollector, sonde_cpu_collector, SONDE, CPU_COLLECTOR, SondeCollector)

SondeCollector *sonde_cpu_collector_new (void);

G_END_DECLS
