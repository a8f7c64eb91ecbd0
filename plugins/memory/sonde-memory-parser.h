/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The /proc/meminfo fields the memory collector needs, in bytes. */
typedef struct
{
  guint64  total;
  guint64  free;
  guint64  available;
  guint64  buffers;
  guint64  cached;
  guint64  sreclaimable;
  guint64  swap_total;
  guint64  swap_free;
  gboolean has_available;   /* MemAvailable appeared in Linux 3.14 */
} SondeMeminfo;

/* What the collector reports, derived as free(1) and psutil do. */
typedef struct
{
  guint64 total;
  guint64 used;
  guint64 available;
  guint64 free;
  guint64 cached;
  double  usage_percent;
  guint64 swap_total;
  guint64 swap_used;
  double  swap_usage_percent;
} SondeMemoryStats;

gboolean sonde_memory_parse_meminfo (const char         *text,
                                     SondeMeminfo       *info);
void     sonde_memory_compute       (const SondeMeminfo *info,
                                     SondeMemoryStats   *stats);

G_END_DECLS
