/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "sonde-catalog-private.h"

G_BEGIN_DECLS

/* A list of metric patterns: "cpu.usage_percent", "cpu.*", "cpu", "*",
 * with ? and * globs inside the collector and field parts. */
typedef struct _SondeFilter SondeFilter;

#define SONDE_FILTER_MAX_PATTERNS 256
#define SONDE_FILTER_MAX_PATTERN_LENGTH 128

/* Exact names must be in @catalog; globs may match nothing yet. */
SondeFilter *_sonde_filter_new               (SondeCatalog       *catalog,
                                              const char * const *patterns,
                                              GError            **error);
gboolean     _sonde_filter_is_exact_name     (const char         *pattern);
void         _sonde_filter_free              (SondeFilter        *self);
const char  *_sonde_filter_get_key           (SondeFilter        *self);
gboolean     _sonde_filter_matches           (SondeFilter        *self,
                                              const char         *collector,
                                              const char         *field);
gboolean     _sonde_filter_wants_collector   (SondeFilter        *self,
                                              const char         *collector);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SondeFilter, _sonde_filter_free)

G_END_DECLS
