/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <stddef.h>
#include <string.h>

#include "sonde-memory-parser.h"

typedef struct
{
  const char *key;      /* with the colon, so "Cached:" is not "SwapCached:" */
  gsize       offset;
} Field;

static const Field fields[] = {
  { "MemTotal:",     G_STRUCT_OFFSET (SondeMeminfo, total) },
  { "MemFree:",      G_STRUCT_OFFSET (SondeMeminfo, free) },
  { "MemAvailable:", G_STRUCT_OFFSET (SondeMeminfo, available) },
  { "Buffers:",      G_STRUCT_OFFSET (SondeMeminfo, buffers) },
  { "Cached:",       G_STRUCT_OFFSET (SondeMeminfo, cached) },
  { "SReclaimable:", G_STRUCT_OFFSET (SondeMeminfo, sreclaimable) },
  { "SwapTotal:",    G_STRUCT_OFFSET (SondeMeminfo, swap_total) },
  { "SwapFree:",     G_STRUCT_OFFSET (SondeMeminfo, swap_free) },
};

/**
 * sonde_memory_parse_meminfo:
 * @text: the contents of /proc/meminfo
 * @info: (out): the fields, converted from kB to bytes; absent ones are 0
 *
 * Returns: %FALSE if MemTotal or MemFree is missing (not a meminfo file)
 */
gboolean
sonde_memory_parse_meminfo (const char   *text,
                            SondeMeminfo *info)
{
  const char *line = text;
  guint seen = 0;

  g_return_val_if_fail (text != NULL, FALSE);
  g_return_val_if_fail (info != NULL, FALSE);

  memset (info, 0, sizeof *info);

  while (line != NULL && *line != '\0')
    {
      const char *nl = strchr (line, '\n');

      for (guint i = 0; i < G_N_ELEMENTS (fields); i++)
        {
          gsize len = strlen (fields[i].key);

          if (strncmp (line, fields[i].key, len) == 0)
            {
              const char *p = line + len;
              guint64 kb = 0;

              while (*p == ' ' || *p == '\t')
                p++;
              while (g_ascii_isdigit (*p))
                kb = kb * 10 + (guint64) (*p++ - '0');

              /* Every field read here is in kB (KiB, really). */
              G_STRUCT_MEMBER (guint64, info, fields[i].offset) = kb * 1024;
              seen |= 1u << i;
              break;
            }
        }

      line = nl != NULL ? nl + 1 : NULL;
    }

  info->has_available = (seen & (1u << 2)) != 0;
  return (seen & 3u) == 3u;
}

/**
 * sonde_memory_compute:
 * @info: parsed /proc/meminfo
 * @stats: (out): the collector's fields
 *
 * used is total - available, as `free` of procps 4 prints it and as
 * psutil's percent counts it; cached is Cached + SReclaimable (free's
 * buff/cache less buffers, psutil's cached). Without MemAvailable (Linux
 * before 3.14) available falls back to free + buffers + cached, the old
 * "-/+ buffers/cache" figure.
 */
void
sonde_memory_compute (const SondeMeminfo *info,
                      SondeMemoryStats   *stats)
{
  guint64 available;

  g_return_if_fail (info != NULL);
  g_return_if_fail (stats != NULL);

  memset (stats, 0, sizeof *stats);

  stats->total = info->total;
  stats->free = info->free;
  stats->cached = info->cached + info->sreclaimable;

  if (info->has_available)
    available = info->available;
  else
    available = info->free + info->buffers + stats->cached;

  /* In some containers meminfo mixes host and container figures; like
   * psutil, fall back to MemFree rather than report more than total. */
  if (available > info->total)
    available = MIN (info->free, info->total);

  stats->available = available;
  stats->used = info->total - available;
  /* The ratio first: 100.0 * used / total may round to just above 100
   * for huge values, the ratio of used <= total never above 1. */
  if (info->total > 0)
    stats->usage_percent = 100.0 * ((double) stats->used / (double) info->total);

  stats->swap_total = info->swap_total;
  stats->swap_used = info->swap_total > info->swap_free ? info->swap_total - info->swap_free : 0;
  /* No swap is 0 %, not 0/0. */
  if (info->swap_total > 0)
    stats->swap_usage_percent = 100.0 * ((double) stats->swap_used / (double) info->swap_total);
}
