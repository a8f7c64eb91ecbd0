/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <sys/statvfs.h>

#include "sonde.h"

G_BEGIN_DECLS

#define SONDE_TYPE_DISK_COLLECTOR (sonde_disk_collector_get_type ())

G_DECLARE_FINAL_TYPE (SondeDiskCollector, sonde_disk_collector, SONDE, DISK_COLLECTOR, SondeCollector)

/* Same signature as statvfs(3), which is the default. */
typedef int    (*SondeDiskStatvfsFunc) (const char     *path,
                                        struct statvfs *buf);
/* Microseconds on a monotonic clock; g_get_monotonic_time() by default. */
typedef gint64 (*SondeDiskClockFunc)   (void);

SondeCollector *sonde_disk_collector_new              (void);

/*
 * Test hooks: fixture mountinfo names mount points of another machine, and
 * exact rates need a known interval, so tests replace both. Set them before
 * collecting; NULL restores the default.
 */
void            sonde_disk_collector_set_statvfs_func (SondeDiskCollector   *self,
                                                       SondeDiskStatvfsFunc  func);
void            sonde_disk_collector_set_clock_func   (SondeDiskCollector   *self,
                                                       SondeDiskClockFunc    func);

G_END_DECLS
