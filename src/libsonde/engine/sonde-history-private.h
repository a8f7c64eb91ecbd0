/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <json-glib/json-glib.h>

#include "sonde-history.h"

G_BEGIN_DECLS

/* The most metrics a history records: bounds its memory whatever the
 * collectors produce. */
#define SONDE_HISTORY_MAX_METRICS 1024

/* [[epoch_ms, value], ...] of the last @seconds, oldest first. */
JsonArray *_sonde_history_build_points (SondeHistory *self,
                                        const char   *metric,
                                        guint         seconds);

G_END_DECLS
