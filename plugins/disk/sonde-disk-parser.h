/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>
#include <sys/statvfs.h>

G_BEGIN_DECLS

/*
 * Pure parsers of the disk collector: they take text (the contents of
 * /proc/self/mountinfo, /proc/filesystems, /proc/diskstats) and fill plain
 * structs, so they can be tested on strings and recorded fixtures.
 */

/* One line of mountinfo, with the octal escapes of its strings undone. */
typedef struct
{
  int    id;
  int    parent_id;
  guint  major;
  guint  minor;
  char  *root;         /* the path inside the filesystem: not "/" for a bind of a subdirectory */
  char  *mount_point;
  char  *fs_type;
  char  *device;       /* the mount source, e.g. "/dev/sda1" */
} SondeDiskMount;

void        sonde_disk_mount_free             (SondeDiskMount   *mount);

char       *sonde_disk_unescape               (char             *str);

GPtrArray  *sonde_disk_parse_mountinfo        (const char       *text);
GHashTable *sonde_disk_parse_filesystems      (const char       *text);
void        sonde_disk_filter_partitions      (GPtrArray        *mounts,
                                               GHashTable       *real_fs_types);

/* One line of /proc/diskstats, reduced to what the collector reports. */
typedef struct
{
  char    name[64];
  guint   major;
  guint   minor;
  guint64 reads;           /* reads completed */
  guint64 read_sectors;    /* always 512-byte units, whatever the device's sector size */
  guint64 writes;          /* writes completed */
  guint64 write_sectors;
} SondeDiskStat;

#define SONDE_DISK_SECTOR_SIZE 512

guint       sonde_disk_parse_diskstats        (const char       *text,
                                               GArray           *stats);
gboolean    sonde_disk_is_idle_virtual        (const SondeDiskStat *stat);
double      sonde_disk_rate                   (guint64           previous,
                                               guint64           current,
                                               double            seconds);

typedef struct
{
  guint64 total_bytes;
  guint64 used_bytes;
  guint64 free_bytes;
  double  usage_percent;
} SondeDiskUsage;

void        sonde_disk_usage_from_statvfs     (const struct statvfs *st,
                                               SondeDiskUsage       *usage);

G_END_DECLS
