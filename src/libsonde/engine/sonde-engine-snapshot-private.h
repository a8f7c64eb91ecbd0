/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <json-glib/json-glib.h>

#include "sonde-engine.h"
#include "sonde-filter-private.h"

G_BEGIN_DECLS

/* The catalog as JSON: {"metrics": [{name, collector, field, unit, kind,
 * description}, ...]}. */
JsonObject *_sonde_engine_build_catalog (SondeEngine  *engine);

G_END_DECLS
