/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "sonde-collector.h"

G_BEGIN_DECLS

void _sonde_collector_set_engine    (SondeCollector *self,
                                     SondeEngine    *engine);
void _sonde_collector_emit_sampled  (SondeCollector *self,
                                     SondeSample    *sample);
void _sonde_collector_emit_failed   (SondeCollector *self,
                                     const GError   *error);

G_END_DECLS
