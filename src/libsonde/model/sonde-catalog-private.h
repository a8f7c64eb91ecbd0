/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "sonde-collector.h"

G_BEGIN_DECLS

/* Every metric of a set of collectors, looked up by name: an immutable
 * value, so that filters and encoders can hold it without the engine. */
typedef struct _SondeCatalog SondeCatalog;

SondeCatalog *_sonde_catalog_new            (GPtrArray    *collectors);
SondeCatalog *_sonde_catalog_ref            (SondeCatalog *self);
void          _sonde_catalog_unref          (SondeCatalog *self);
/* SondeMetric, in the collectors' order; borrowed. */
GPtrArray    *_sonde_catalog_get_metrics    (SondeCatalog *self);
gboolean      _sonde_catalog_has_collector  (SondeCatalog *self,
                                             const char   *collector);
/* A full name, such as "cpu.usage_percent". */
SondeMetric  *_sonde_catalog_lookup         (SondeCatalog *self,
                                             const char   *name);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SondeCatalog, _sonde_catalog_unref)

G_END_DECLS
