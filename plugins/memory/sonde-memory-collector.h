/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "sonde.h"

G_BEGIN_DECLS

#define SONDE_TYPE_MEMORY_COLLECTOR (sonde_memory_collector_get_type ())

G_DECLARE_FINAL_TYPE (SondeMemoryCollector, sonde_memory_collector, SONDE, MEMORY_COLLECTOR, SondeCollector)

SondeCollector *sonde_memory_collector_new (void);

G_END_DECLS
