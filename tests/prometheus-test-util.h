/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "sonde.h"
#include "sonde-prometheus-private.h"

G_BEGIN_DECLS

/*
 * A strict reader of what GET /metrics answers, shared by the encoder's
 * unit test and the in-process HTTP test: it fails the test on anything
 * the Prometheus text format 0.0.4 or OpenMetrics 1.0 does not allow, or
 * that Sonde promises not to write (a family twice, a family's samples
 * apart, a series twice, NaN, a negative counter).
 */

typedef struct
{
  GHashTable *samples;   /* "name{labels}" -> value text */
  GHashTable *types;     /* sample name -> "gauge", "counter" or "info" */
  GHashTable *helps;     /* sample name -> HELP text, unescaped */
  GPtrArray  *families;  /* family names (as written), in order */
  GPtrArray  *order;     /* "name{labels}" in order */
} SondeTestExposition;

SondeTestExposition *sonde_test_exposition_parse (const char           *text,
                                                  gsize                 length,
                                                  SondePrometheusFormat format);
SondeTestExposition *sonde_test_exposition_parse_bytes (GBytes               *bytes,
                                                        SondePrometheusFormat format);
void                 sonde_test_exposition_free  (SondeTestExposition  *self);
/* The value text of the series "name{labels}" (labels as written), or NULL. */
const char          *sonde_test_exposition_get   (SondeTestExposition  *self,
                                                  const char           *series);
/* How many series of the sample name @name there are. */
guint                sonde_test_exposition_count (SondeTestExposition  *self,
                                                  const char           *name);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SondeTestExposition, sonde_test_exposition_free)

G_END_DECLS
