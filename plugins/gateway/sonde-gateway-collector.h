/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "sonde.h"

G_BEGIN_DECLS

#define SONDE_TYPE_GATEWAY_COLLECTOR (sonde_gateway_collector_get_type ())

G_DECLARE_FINAL_TYPE (SondeGatewayCollector, sonde_gateway_collector,
                      SONDE, GATEWAY_COLLECTOR, SondeCollector)

SondeCollector *sonde_gateway_collector_new (void);

G_END_DECLS
