/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "sonde.h"

G_BEGIN_DECLS

#define SONDE_TYPE_PROCESSES_COLLECTOR (sonde_processes_collector_get_type ())

G_DECLARE_FINAL_TYPE (SondeProcessesCollector, sonde_processes_collector, SONDE, PROCESSES_COLLECTOR, SondeCollector)

SondeCollector *sonde_processes_collector_new       (void);
guint           sonde_processes_collector_get_top_n (SondeProcessesCollector *self);
void            sonde_processes_collector_set_top_n (SondeProcessesCollector *self,
                                                     guint                    top_n);

/*
 * For tests only. The clock replaces g_get_monotonic_time() as the source
 * of the elapsed time between two samples, so that CPU percentages are
 * exact; the open-file limit bounds the per-process stat files kept open
 * (0 keeps none), to exercise the open/read/close path.
 */
typedef gint64 (*SondeProcessesClockFunc) (gpointer user_data);

void  _sonde_processes_collector_set_clock          (SondeProcessesCollector *self,
                                                     SondeProcessesClockFunc  func,
                                                     gpointer                 user_data);
void  _sonde_processes_collector_set_max_open_files (SondeProcessesCollector *self,
                                                     guint                    max_open);
guint _sonde_processes_collector_get_open_files     (SondeProcessesCollector *self);

G_END_DECLS
