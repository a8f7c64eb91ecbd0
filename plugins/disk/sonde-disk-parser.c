/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "sonde-disk-parser.h"

void
sonde_disk_mount_free (SondeDiskMount *mount)
{
  if (mount == NULL)
    return;

  g_free (mount->root);
  g_free (mount->mount_point);
  g_free (mount->fs_type);
  g_free (mount->device);
  g_free (mount);
}

static inline gboolean
is_octal (char c)
{
  return c >= '0' && c <= '7';
}

/*
 * The kernel writes space, tab, newline and backslash in mountinfo paths
 * as three-digit octal escapes (\040, \011, \012, \134) so that fields stay
 * space-separated. Undone in place; returns @str.
 */
char *
sonde_disk_unescape (char *str)
{
  char *in = str;
  char *out = str;

  while (*in != '\0')
    {
      if (in[0] == '\\' && is_octal (in[1]) && is_octal (in[2]) && is_octal (in[3]))
        {
          *out++ = (char) (((in[1] - '0') << 6) | ((in[2] - '0') << 3) | (in[3] - '0'));
          in += 4;
        }
      else
        *out++ = *in++;
    }
  *out = '\0';

  return str;
}

static gboolean
parse_int (const char *str,
           int        *value)
{
  char *end;
  long v = strtol (str, &end, 10);

  if (end == str || *end != '\0' || v < 0 || v > G_MAXINT)
    return FALSE;
  *value = (int) v;
  return TRUE;
}

static SondeDiskMount *
parse_mountinfo_line (const char *line)
{
  g_auto(GStrv) fields = g_strsplit (line, " ", -1);
  guint n_fields = g_strv_length (fields);
  SondeDiskMount *mount;
  guint separator;
  guint major, minor;
  int id, parent_id;
  char *end;

  /* id parent major:minor root mount-point options [optional...] - type source super-options */
  if (n_fields < 10)
    return NULL;

  if (!parse_int (fields[0], &id) || !parse_int (fields[1], &parent_id))
    return NULL;

  major = strtoul (fields[2], &end, 10);
  if (*end != ':')
    return NULL;
  minor = strtoul (end + 1, &end, 10);
  if (*end != '\0')
    return NULL;

  /* The optional fields (shared:N, master:N ...) are ended by a lone "-". */
  for (separator = 6; separator < n_fields; separator++)
    if (g_str_equal (fields[separator], "-"))
      break;
  if (separator + 2 >= n_fields)
    return NULL;

  mount = g_new0 (SondeDiskMount, 1);
  mount->id = id;
  mount->parent_id = parent_id;
  mount->major = major;
  mount->minor = minor;
  mount->root = sonde_disk_unescape (g_strdup (fields[3]));
  mount->mount_point = sonde_disk_unescape (g_strdup (fields[4]));
  mount->fs_type = sonde_disk_unescape (g_strdup (fields[separator + 1]));
  mount->device = sonde_disk_unescape (g_strdup (fields[separator + 2]));
  return mount;
}

/*
 * Returns: (transfer full) (element-type SondeDiskMount): every well-formed
 * line of @text, in order. Malformed lines are skipped.
 */
GPtrArray *
sonde_disk_parse_mountinfo (const char *text)
{
  GPtrArray *mounts = g_ptr_array_new_with_free_func ((GDestroyNotify) sonde_disk_mount_free);
  const char *line = text;

  while (line != NULL && *line != '\0')
    {
      const char *eol = strchr (line, '\n');
      g_autofree char *copy = eol ? g_strndup (line, eol - line) : g_strdup (line);
      SondeDiskMount *mount = parse_mountinfo_line (copy);

      if (mount != NULL)
        g_ptr_array_add (mounts, mount);
      line = eol ? eol + 1 : NULL;
    }

  return mounts;
}

/*
 * /proc/filesystems lists every filesystem type the kernel knows, with
 * "nodev" before those that need no block device. psutil's
 * disk_partitions(all=False) takes the others, plus zfs (a pool is not a
 * block device but is real storage); so does this.
 *
 * Returns: (transfer full): a set of type names
 */
GHashTable *
sonde_disk_parse_filesystems (const char *text)
{
  GHashTable *types = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_auto(GStrv) lines = g_strsplit (text, "\n", -1);

  for (guint i = 0; lines[i] != NULL; i++)
    {
      char *tab = strchr (lines[i], '\t');
      char *name;

      if (tab == NULL)
        continue;

      *tab = '\0';
      name = g_strstrip (tab + 1);
      if (*name == '\0')
        continue;

      if (g_str_equal (g_strstrip (lines[i]), "nodev") && !g_str_equal (name, "zfs"))
        continue;

      g_hash_table_add (types, g_strdup (name));
    }

  return types;
}

/*
 * Block-backed or not, these are never storage the user thinks of as a disk:
 * squashfs is mostly snap images (one mount per snap), overlay is a
 * container's view of other filesystems.
 */
static const char * const skipped_fs_types[] = {
  "proc", "sysfs", "tmpfs", "devtmpfs", "overlay", "squashfs",
};

static gboolean
is_real_fs (const SondeDiskMount *mount,
            GHashTable           *real_fs_types)
{
  for (guint i = 0; i < G_N_ELEMENTS (skipped_fs_types); i++)
    if (g_str_equal (mount->fs_type, skipped_fs_types[i]))
      return FALSE;

  /* psutil skips sources "" and "none": nothing to name the partition by. */
  if (*mount->device == '\0' || g_str_equal (mount->device, "none"))
    return FALSE;

  return g_hash_table_contains (real_fs_types, mount->fs_type);
}

static inline gint64
device_key (const SondeDiskMount *mount)
{
  /* Unsigned: a major of 2^31 or more (never in a real mountinfo) would
   * overflow a signed shift. */
  return (gint64) (((guint64) mount->major << 32) | mount->minor);
}

/*
 * Keeps, in place and in order, the mounts of @mounts that are real
 * filesystems the user can see, once each:
 *
 * - the type must be in @real_fs_types and not in skipped_fs_types;
 * - a mount hidden by another mounted on the same point over it is
 *   dropped: statvfs() on that path reports the upper one;
 * - one filesystem (one major:minor, which bind mounts and repeated mounts
 *   share) is reported once, at its first mount, except that the mount on
 *   "/" always wins for its own filesystem, so the root filesystem is listed
 *   as "/" even when it was also mounted (or bound) elsewhere first.
 */
void
sonde_disk_filter_partitions (GPtrArray  *mounts,
                              GHashTable *real_fs_types)
{
  g_autoptr(GHashTable) by_id = g_hash_table_new (g_direct_hash, g_direct_equal);
  g_autoptr(GHashTable) hidden = g_hash_table_new (g_direct_hash, g_direct_equal);
  g_autoptr(GHashTable) seen = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  g_autofree gboolean *keep = g_new0 (gboolean, mounts->len + 1);
  const SondeDiskMount *root_mount = NULL;

  for (guint i = 0; i < mounts->len; i++)
    {
      SondeDiskMount *mount = g_ptr_array_index (mounts, i);

      g_hash_table_insert (by_id, GINT_TO_POINTER (mount->id), mount);
    }

  for (guint i = 0; i < mounts->len; i++)
    {
      SondeDiskMount *mount = g_ptr_array_index (mounts, i);
      SondeDiskMount *parent = g_hash_table_lookup (by_id, GINT_TO_POINTER (mount->parent_id));

      if (parent != NULL && parent != mount &&
          g_str_equal (parent->mount_point, mount->mount_point))
        g_hash_table_add (hidden, parent);
    }

  for (guint i = 0; i < mounts->len; i++)
    {
      SondeDiskMount *mount = g_ptr_array_index (mounts, i);

      if (g_str_equal (mount->mount_point, "/") &&
          !g_hash_table_contains (hidden, mount) &&
          is_real_fs (mount, real_fs_types))
        root_mount = mount;
    }

  if (root_mount != NULL)
    g_hash_table_add (seen, g_memdup2 (&(gint64) { device_key (root_mount) }, sizeof (gint64)));

  for (guint i = 0; i < mounts->len; i++)
    {
      SondeDiskMount *mount = g_ptr_array_index (mounts, i);
      gint64 key = device_key (mount);

      if (mount == root_mount)
        keep[i] = TRUE;
      else if (!g_hash_table_contains (hidden, mount) &&
               is_real_fs (mount, real_fs_types) &&
               !g_hash_table_contains (seen, &key))
        {
          keep[i] = TRUE;
          g_hash_table_add (seen, g_memdup2 (&key, sizeof key));
        }
    }

  for (guint i = mounts->len; i > 0; i--)
    if (!keep[i - 1])
      g_ptr_array_remove_index (mounts, i - 1);
}

static const char *
skip_blanks (const char *p)
{
  while (*p == ' ' || *p == '\t')
    p++;
  return p;
}

/* Reads up to @max numbers from @p, stopping at the end of the line. */
static guint
parse_numbers (const char **p,
               guint64     *values,
               guint        max)
{
  guint n = 0;

  while (n < max)
    {
      char *end;

      *p = skip_blanks (*p);
      if (!g_ascii_isdigit (**p))
        break;
      values[n++] = g_ascii_strtoull (*p, &end, 10);
      *p = end;
    }

  return n;
}

/*
 * Parses /proc/diskstats into @stats (an array of SondeDiskStat, emptied
 * first). Lines have 14 fields since 2.6, 18 with discards (4.18), 20 with
 * flushes (5.5); only the first 7 counters are used. Partitions on kernels
 * before 2.6.25 had only 4 (reads, sectors read, writes, sectors written).
 *
 * Returns: the number of devices parsed
 */
guint
sonde_disk_parse_diskstats (const char *text,
                            GArray     *stats)
{
  const char *p = text;

  g_array_set_size (stats, 0);

  while (*p != '\0')
    {
      SondeDiskStat stat = { 0 };
      guint64 head[2];
      guint64 v[7];
      const char *name;
      gsize name_len;
      guint n;

      if (parse_numbers (&p, head, 2) == 2)
        {
          p = skip_blanks (p);
          name = p;
          while (*p != '\0' && *p != ' ' && *p != '\t' && *p != '\n')
            p++;
          name_len = p - name;

          n = parse_numbers (&p, v, G_N_ELEMENTS (v));
          if (name_len > 0 && name_len < sizeof stat.name && (n == 7 || n == 4))
            {
              memcpy (stat.name, name, name_len);
              stat.name[name_len] = '\0';
              stat.major = (guint) head[0];
              stat.minor = (guint) head[1];
              if (n == 7)
                {
                  stat.reads = v[0];
                  stat.read_sectors = v[2];
                  stat.writes = v[4];
                  stat.write_sectors = v[6];
                }
              else
                {
                  stat.reads = v[0];
                  stat.read_sectors = v[1];
                  stat.writes = v[2];
                  stat.write_sectors = v[3];
                }
              g_array_append_val (stats, stat);
            }
        }

      p = strchr (p, '\n');
      if (p == NULL)
        break;
      p++;
    }

  return stats->len;
}

/*
 * Every system has a few unused loop, ram and zram devices: listing them
 * adds noise, not information. Once one sees I/O it is reported.
 */
gboolean
sonde_disk_is_idle_virtual (const SondeDiskStat *stat)
{
  if (!g_str_has_prefix (stat->name, "loop") &&
      !g_str_has_prefix (stat->name, "ram") &&
      !g_str_has_prefix (stat->name, "zram"))
    return FALSE;

  return stat->reads == 0 && stat->writes == 0 &&
         stat->read_sectors == 0 && stat->write_sectors == 0;
}

/*
 * A counter lower than before means the device was reset (or a 32-bit
 * counter wrapped on an old kernel): the true delta is unknown, so the rate
 * is 0 for this tick rather than a huge or negative number.
 */
double
sonde_disk_rate (guint64 previous,
                 guint64 current,
                 double  seconds)
{
  if (seconds <= 0 || current < previous)
    return 0;

  return (double) (current - previous) / seconds;
}

/*
 * As psutil.disk_usage() and df compute it: "free" is what an unprivileged
 * user may still write (f_bavail), "used" excludes the root-reserved blocks,
 * and the percentage is of used + free, so a full disk shows 100 % even
 * though root could still write to the reserve.
 */
void
sonde_disk_usage_from_statvfs (const struct statvfs *st,
                               SondeDiskUsage       *usage)
{
  guint64 frsize = st->f_frsize ? st->f_frsize : st->f_bsize;
  guint64 blocks_used = st->f_blocks >= st->f_bfree ? st->f_blocks - st->f_bfree : 0;

  usage->total_bytes = (guint64) st->f_blocks * frsize;
  usage->free_bytes = (guint64) st->f_bavail * frsize;
  usage->used_bytes = blocks_used * frsize;

  if (usage->used_bytes + usage->free_bytes > 0)
    usage->usage_percent = (double) usage->used_bytes * 100.0 /
                           (double) (usage->used_bytes + usage->free_bytes);
  else
    usage->usage_percent = 0;
}
