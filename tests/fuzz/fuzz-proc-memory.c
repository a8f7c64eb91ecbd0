/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <math.h>

#include "sonde-memory-parser.h"

#include "fuzz-util.h"

/*
 * The memory collector's parser, on any text as /proc/meminfo, and what
 * the collector derives from it: used never exceeds total and the
 * percentages stay between 0 and 100.
 */

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autofree char *text = fuzz_strndup (data, size);
  SondeMeminfo info;
  SondeMemoryStats stats;

  if (!sonde_memory_parse_meminfo (text, &info))
    return 0;

  sonde_memory_compute (&info, &stats);
  fuzz_check (stats.used <= stats.total, "used %" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT,
              stats.used, stats.total);
  fuzz_check (stats.available <= stats.total, "available %" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT,
              stats.available, stats.total);
  fuzz_check (stats.swap_used <= stats.swap_total, "swap");
  fuzz_check (stats.usage_percent >= 0 && stats.usage_percent <= 100, "usage %g", stats.usage_percent);
  fuzz_check (stats.swap_usage_percent >= 0 && stats.swap_usage_percent <= 100, "swap usage %g",
              stats.swap_usage_percent);
  return 0;
}
