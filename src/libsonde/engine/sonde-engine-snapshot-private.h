/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <json-glib/json-glib.h>

#include "sonde-engine.h"
#include "sonde-filter-private.h"

G_BEGIN_DECLS

/* The engine's latest samples as JSON: {collector: {field: value}} with
 * only the fields @filter matches (collectors whose data is stale listed
 * in @stale), and the catalog as {"metrics": [...]}. */
JsonObject *_sonde_engine_build_data    (SondeEngine  *engine,
                                         SondeFilter  *filter,
                                         JsonArray   **stale);
JsonObject *_sonde_engine_build_catalog (SondeEngine  *engine);

G_END_DECLS
