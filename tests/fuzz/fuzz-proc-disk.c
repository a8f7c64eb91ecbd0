/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <math.h>
#include <string.h>

#include "sonde-disk-parser.h"

#include "fuzz-util.h"

/*
 * The disk collector's parsers. The input is up to three texts separated
 * by NUL bytes: /proc/self/mountinfo, /proc/filesystems and
 * /proc/diskstats (a missing one is empty; with no NUL at all, the whole
 * input is each of them). The mounts are then filtered into partitions
 * as the collector does, and the device counters turned into rates.
 */

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autofree char *text = fuzz_strndup (data, size);
  const char *parts[3] = { text, text, text };
  g_autoptr(GPtrArray) mounts = NULL;
  g_autoptr(GHashTable) types = NULL;
  g_autoptr(GArray) stats = g_array_new (FALSE, FALSE, sizeof (SondeDiskStat));
  guint n_mounts, n_stats;

  if (memchr (data, '\0', size) != NULL)
    {
      const char *end = text + size;
      const char *p = text;

      for (guint i = 0; i < G_N_ELEMENTS (parts); i++)
        {
          if (p >= end)
            {
              parts[i] = "";
              continue;
            }
          parts[i] = p;
          p += strlen (p) + 1;
        }
    }

  mounts = sonde_disk_parse_mountinfo (parts[0]);
  for (guint i = 0; i < mounts->len; i++)
    {
      SondeDiskMount *mount = g_ptr_array_index (mounts, i);

      fuzz_check (mount->root != NULL && mount->mount_point != NULL &&
                  mount->fs_type != NULL && mount->device != NULL, "a mount without its strings");
      fuzz_check (mount->id >= 0 && mount->parent_id >= 0, "negative id");
    }

  types = sonde_disk_parse_filesystems (parts[1]);
  n_mounts = mounts->len;
  sonde_disk_filter_partitions (mounts, types);
  fuzz_check (mounts->len <= n_mounts, "filtering added mounts");
  for (guint i = 0; i < mounts->len; i++)
    {
      SondeDiskMount *mount = g_ptr_array_index (mounts, i);

      fuzz_check (g_hash_table_contains (types, mount->fs_type), "kept %s", mount->fs_type);
      fuzz_check (*mount->device != '\0', "kept a mount without a source");
    }

  n_stats = sonde_disk_parse_diskstats (parts[2], stats);
  fuzz_check (n_stats == stats->len, "count");
  for (guint i = 0; i < stats->len; i++)
    {
      SondeDiskStat *stat = &g_array_index (stats, SondeDiskStat, i);
      SondeDiskStat *first = &g_array_index (stats, SondeDiskStat, 0);
      double rate;

      fuzz_check (memchr (stat->name, '\0', sizeof stat->name) != NULL && stat->name[0] != '\0',
                  "name not terminated or empty");
      sonde_disk_is_idle_virtual (stat);
      rate = sonde_disk_rate (first->read_sectors, stat->read_sectors, 1.0);
      fuzz_check (isfinite (rate) && rate >= 0, "rate %g", rate);
    }

  return 0;
}
