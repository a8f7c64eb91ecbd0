/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/*
 * Pure parsers and arithmetic of the cpu collector: they take text and
 * fill structs, so that they can be tested on strings and fixtures.
 */

/* One "cpu" line of /proc/stat, in clock ticks. */
typedef struct
{
  guint64 user;
  guint64 nice;
  guint64 system;
  guint64 idle;
  guint64 iowait;
  guint64 irq;
  guint64 softirq;
  guint64 steal;
  guint64 guest;
  guint64 guest_nice;
} SondeCpuTimes;

typedef struct
{
  guint         cpu;    /* the N of "cpuN" */
  SondeCpuTimes times;
} SondeCpuCoreTimes;

typedef struct
{
  double usage;
  double user;
  double system;
  double iowait;
} SondeCpuPercent;

gboolean sonde_cpu_parse_stat         (const char            *text,
                                       SondeCpuTimes         *total,
                                       GArray                *cores);
gboolean sonde_cpu_times_percent      (const SondeCpuTimes   *prev,
                                       const SondeCpuTimes   *cur,
                                       SondeCpuPercent       *percent);
gboolean sonde_cpu_parse_loadavg      (const char            *text,
                                       double                *load1,
                                       double                *load5,
                                       double                *load15);
char    *sonde_cpu_parse_brand        (const char            *cpuinfo);
double   sonde_cpu_parse_cpuinfo_mhz  (const char            *cpuinfo);

G_END_DECLS
