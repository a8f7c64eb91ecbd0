/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "sonde.h"

G_BEGIN_DECLS

#define SONDE_TYPE_NETWORK_COLLECTOR (sonde_network_collector_get_type ())

G_DECLARE_FINAL_TYPE (SondeNetworkCollector, sonde_network_collector, SONDE, NETWORK_COLLECTOR, SondeCollector)

SondeCollector *sonde_network_collector_new (void);

/*
 * For tests only: replaces g_get_monotonic_time() as the source of the
 * elapsed time between two samples, so that rates are exact.
 */
typedef gint64 (*SondeNetworkClockFunc) (gpointer user_data);

void _sonde_network_collector_set_clock (SondeNetworkCollector *self,
                                         SondeNetworkClockFunc  func,
                                         gpointer               user_data);

G_END_DECLS
