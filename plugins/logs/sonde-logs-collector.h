/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "sonde.h"

G_BEGIN_DECLS

#define SONDE_TYPE_LOGS_COLLECTOR (sonde_logs_collector_get_type ())

G_DECLARE_FINAL_TYPE (SondeLogsCollector, sonde_logs_collector, SONDE, LOGS_COLLECTOR, SondeCollector)

SondeCollector     *sonde_logs_collector_new               (void);
/* (transfer full): the configured files, refused ones included */
GStrv               sonde_logs_collector_dup_files         (SondeLogsCollector *self);
void                sonde_logs_collector_set_files         (SondeLogsCollector *self,
                                                            const char * const *files);
GStrv               sonde_logs_collector_dup_allowed_paths (SondeLogsCollector *self);
void                sonde_logs_collector_set_allowed_paths (SondeLogsCollector *self,
                                                            const char * const *paths);

G_END_DECLS
