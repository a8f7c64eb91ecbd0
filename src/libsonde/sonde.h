/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#define SONDE_INSIDE
# include "sonde-version-macros.h"
# include "sonde-version.h"
# include "sonde-error.h"
# include "sonde-metric.h"
# include "sonde-sample.h"
# include "sonde-event.h"
# include "sonde-collector.h"
# include "sonde-gateway-stats.h"
# include "sonde-history.h"
# include "sonde-engine.h"
# include "sonde-alert-rule.h"
# include "sonde-defaults.h"
# include "sonde-server.h"
# include "sonde-discovery.h"
# include "sonde-subscription.h"
# include "sonde-agent.h"
#undef SONDE_INSIDE
