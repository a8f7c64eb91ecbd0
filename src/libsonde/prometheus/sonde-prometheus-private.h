/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <libsoup/soup.h>

#include "sonde-sample.h"
#include "sonde-format-private.h"
#include "sonde-server.h"

G_BEGIN_DECLS

/*
 * GET /metrics: every numeric metric of the catalog in the Prometheus text
 * exposition format 0.0.4, or OpenMetrics 1.0 when the scraper asks for it.
 *
 * The encoder is a pure function of its sources, so that it can be tested
 * on synthetic samples and fed garbage: a source is one host's catalog and
 * the latest sample of each of its collectors. The route passes one source,
 * the local engine, without a host label; a hub passes one more source per
 * agent, each with its host name, and the families stay merged (each family
 * once, all its samples together) whatever the number of sources.
 */

typedef enum
{
  SONDE_PROMETHEUS_FORMAT_TEXT,         /* text/plain; version=0.0.4 */
  SONDE_PROMETHEUS_FORMAT_OPENMETRICS,  /* application/openmetrics-text; version=1.0.0 */
} SondePrometheusFormat;

typedef struct
{
  const char  *name;     /* the collector's name: "cpu" */
  SondeSample *sample;   /* (nullable): its latest sample, NULL if it has none */
  gboolean     stale;    /* its last collection failed or missed its deadline */
} SondePrometheusCollector;

typedef struct
{
  /* (nullable): the value of the `host` label on every series of this
   * source; NULL for none (the local machine: Prometheus' own `instance`
   * label already names it). */
  const char                     *host;
  GPtrArray                      *metrics;       /* (element-type SondeMetric): the catalog */
  const SondePrometheusCollector *collectors;
  guint                           n_collectors;
} SondePrometheusSource;

GBytes               *_sonde_prometheus_encode       (const SondePrometheusSource *sources,
                                                      guint                        n_sources,
                                                      SondePrometheusFormat        format);
SondePrometheusFormat _sonde_prometheus_negotiate    (const char                  *accept);
const char           *_sonde_prometheus_content_type (SondePrometheusFormat        format);

/* GET /metrics, an entry of the format table (sonde-prometheus-format.c). */
extern const SondeFormat _sonde_prometheus_format;

G_END_DECLS
