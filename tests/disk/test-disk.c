/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "sonde.h"
#include "plugin-test-util.h"
#include "sonde-disk-collector.h"
#include "sonde-disk-parser.h"

/*
 * Fixtures (tests/fixtures/disk/):
 *   host/  mountinfo, filesystems and diskstats recorded on the development VM
 *   hand/  a hand-written mountinfo with every awkward case
 *   t0 t1 t2/  diskstats 2 s then 1 s apart (fake clock), t2 with resets
 *   sys/   block/{nvme0n1,sda,sdb,loop0,loop1,zram0}, dev/block/259:2
 */

static char *
fixture (const char *name)
{
  return sonde_plugin_test_fixture ("disk", name, NULL);
}

static char *
fixture_proc (const char *name)
{
  return sonde_plugin_test_fixture ("disk", name, "proc", NULL);
}

static char *
read_fixture (const char *name,
              const char *file)
{
  g_autofree char *path = sonde_plugin_test_fixture ("disk", name, "proc", file, NULL);
  char *contents = NULL;
  g_autoptr(GError) error = NULL;

  g_file_get_contents (path, &contents, NULL, &error);
  g_assert_no_error (error);
  return contents;
}

/* --- fake statvfs ------------------------------------------------------ */

typedef struct
{
  const char *path;
  guint64     blocks;
  guint64     bfree;
  guint64     bavail;
  guint64     frsize;
} FakeFs;

static const FakeFs fake_fs[] = {
  /* Recorded with os.statvfs('/') on the VM, with the host fixture. */
  { "/",                       66053021,  61853020,  20884296, 4096 },
};

static const FakeFs hand_fs[] = {
  { "/",                      120000000,  50000000,  44000000, 4096 },
  { "/boot/efi",                 130812,    114000,    114000, 4096 },
  { "/media/My Disk",         244190646, 200000000, 187790000, 4096 },
  { "/mnt/tab\tand\\back",      1000000,    250000,    250000, 4096 },
  { "/mnt/shadowed",            5000000,   4000000,   3990000, 4096 },
  { "/tank",                   20000000,  19000000,  19000000,  512 },
  { "/mnt/new\nline",              2048,      2048,      2048, 1024 },
  { "/mnt/empty",                     0,         0,         0, 4096 },
};

static const FakeFs *fake_table;
static gsize fake_table_len;
static guint fake_calls;

static int
fake_statvfs (const char     *path,
              struct statvfs *buf)
{
  fake_calls++;

  for (gsize i = 0; i < fake_table_len; i++)
    if (g_str_equal (fake_table[i].path, path))
      {
        memset (buf, 0, sizeof *buf);
        buf->f_bsize = fake_table[i].frsize;
        buf->f_frsize = fake_table[i].frsize;
        buf->f_blocks = fake_table[i].blocks;
        buf->f_bfree = fake_table[i].bfree;
        buf->f_bavail = fake_table[i].bavail;
        return 0;
      }

  /* The one kept mount the table leaves out on purpose, to test failure;
   * anything else means statvfs was called on a mount it must skip. */
  if (!g_str_equal (path, "/mnt/gone"))
    g_error ("statvfs called on unexpected path \"%s\"", path);

  errno = ENOENT;
  return -1;
}

#define USE_FAKE_FS(table) (fake_table = (table), fake_table_len = G_N_ELEMENTS (table))

#define fake_now sonde_plugin_test_now

static SondeCollector *
new_fixture_collector (const char *proc_case)
{
  SondeCollector *collector = sonde_disk_collector_new ();
  g_autofree char *proc = fixture_proc (proc_case);
  g_autofree char *sys = fixture ("sys");

  sonde_collector_set_proc_root (collector, proc);
  sonde_collector_set_sys_root (collector, sys);
  sonde_disk_collector_set_statvfs_func (SONDE_DISK_COLLECTOR (collector), fake_statvfs);
  sonde_disk_collector_set_clock_func (SONDE_DISK_COLLECTOR (collector), sonde_plugin_test_clock_void);
  return collector;
}

static SondeSample *
collect_ok (SondeCollector *collector)
{
  return sonde_plugin_test_collect (collector, "disk");
}

static JsonArray *
get_array (SondeSample *sample,
           const char  *field)
{
  JsonObject *data = sonde_sample_get_data (sample);

  g_assert_true (json_object_has_member (data, field));
  return json_object_get_array_member (data, field);
}

static void
assert_fields (SondeSample *sample)
{
  static const char * const fields[] = {
    "usage_percent", "partitions", "read_bytes_per_sec", "write_bytes_per_sec", "devices",
  };
  JsonObject *data = sonde_sample_get_data (sample);

  g_assert_cmpuint (json_object_get_size (data), ==, G_N_ELEMENTS (fields));
  for (guint i = 0; i < G_N_ELEMENTS (fields); i++)
    g_assert_true (json_object_has_member (data, fields[i]));
}

static void
assert_partition (JsonArray  *partitions,
                  guint       index,
                  const char *mount,
                  const char *device,
                  const char *fs_type,
                  guint64     blocks,
                  guint64     bfree,
                  guint64     bavail,
                  guint64     frsize)
{
  JsonObject *p = json_array_get_object_element (partitions, index);
  gint64 total = blocks * frsize;
  gint64 used = (blocks - bfree) * frsize;
  gint64 free_bytes = bavail * frsize;
  double percent = used + free_bytes > 0 ? used * 100.0 / (used + free_bytes) : 0;

  g_assert_cmpuint (json_object_get_size (p), ==, 7);
  g_assert_cmpstr (json_object_get_string_member (p, "mount"), ==, mount);
  g_assert_cmpstr (json_object_get_string_member (p, "device"), ==, device);
  g_assert_cmpstr (json_object_get_string_member (p, "fs_type"), ==, fs_type);
  g_assert_cmpint (json_object_get_int_member (p, "total_bytes"), ==, total);
  g_assert_cmpint (json_object_get_int_member (p, "used_bytes"), ==, used);
  g_assert_cmpint (json_object_get_int_member (p, "free_bytes"), ==, free_bytes);
  g_assert_cmpfloat_with_epsilon (json_object_get_double_member (p, "usage_percent"), percent, 1e-9);
}

static void
assert_device (JsonArray  *devices,
               guint       index,
               const char *name,
               double      read_bytes,
               double      write_bytes,
               double      reads,
               double      writes)
{
  JsonObject *d = json_array_get_object_element (devices, index);

  g_assert_cmpuint (json_object_get_size (d), ==, 5);
  g_assert_cmpstr (json_object_get_string_member (d, "name"), ==, name);
  g_assert_cmpfloat_with_epsilon (json_object_get_double_member (d, "read_bytes_per_sec"), read_bytes, 1e-6);
  g_assert_cmpfloat_with_epsilon (json_object_get_double_member (d, "write_bytes_per_sec"), write_bytes, 1e-6);
  g_assert_cmpfloat_with_epsilon (json_object_get_double_member (d, "reads_per_sec"), reads, 1e-9);
  g_assert_cmpfloat_with_epsilon (json_object_get_double_member (d, "writes_per_sec"), writes, 1e-9);
}

/* --- parsers ----------------------------------------------------------- */

static void
test_unescape (void)
{
  struct { const char *in, *out; } cases[] = {
    { "/media/My\\040Disk", "/media/My Disk" },
    { "/a\\011b\\012c\\134d", "/a\tb\nc\\d" },
    { "\\040", " " },
    { "/plain", "/plain" },
    { "", "" },
    { "/trailing\\", "/trailing\\" },       /* not an escape: kept as is */
    { "/short\\04", "/short\\04" },
    { "/not\\089octal", "/not\\089octal" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *s = g_strdup (cases[i].in);

      g_assert_cmpstr (sonde_disk_unescape (s), ==, cases[i].out);
    }
}

static void
test_parse_mountinfo (void)
{
  g_autofree char *text = read_fixture ("hand", "self/mountinfo");
  g_autoptr(GPtrArray) mounts = sonde_disk_parse_mountinfo (text);
  SondeDiskMount *m;

  g_assert_cmpuint (mounts->len, ==, 25);

  /* A bind of a subdirectory: root is the directory inside the fs. */
  m = g_ptr_array_index (mounts, 0);
  g_assert_cmpint (m->id, ==, 20);
  g_assert_cmpint (m->parent_id, ==, 21);
  g_assert_cmpuint (m->major, ==, 259);
  g_assert_cmpuint (m->minor, ==, 2);
  g_assert_cmpstr (m->root, ==, "/home/user/data");
  g_assert_cmpstr (m->mount_point, ==, "/srv/data");
  g_assert_cmpstr (m->fs_type, ==, "ext4");
  g_assert_cmpstr (m->device, ==, "/dev/root");

  /* Two optional fields before the separator. */
  m = g_ptr_array_index (mounts, 10);
  g_assert_cmpint (m->id, ==, 30);
  g_assert_cmpstr (m->mount_point, ==, "/media/My Disk");
  g_assert_cmpstr (m->fs_type, ==, "ext4");
  g_assert_cmpstr (m->device, ==, "/dev/sda1");

  m = g_ptr_array_index (mounts, 14);
  g_assert_cmpstr (m->mount_point, ==, "/mnt/tab\tand\\back");

  /* No optional field at all. */
  m = g_ptr_array_index (mounts, 12);
  g_assert_cmpstr (m->fs_type, ==, "overlay");
  g_assert_cmpstr (m->device, ==, "overlay");
}

static void
test_parse_mountinfo_malformed (void)
{
  const char *text =
    "garbage\n"
    "\n"
    "1 2 3 4\n"
    "25 1 8:1 / /ok rw - ext4 /dev/sda1 rw\n"            /* the only good line */
    "26 1 8:1 / /no-separator rw ext4 /dev/sda1 rw\n"
    "27 1 8x1 / /bad-majmin rw - ext4 /dev/sda1 rw\n"
    "x 1 8:1 / /bad-id rw - ext4 /dev/sda1 rw\n"
    "28 1 8:1 / /truncated rw - ext4";
  g_autoptr(GPtrArray) mounts = sonde_disk_parse_mountinfo (text);

  g_assert_cmpuint (mounts->len, ==, 1);
  g_assert_cmpstr (((SondeDiskMount *) mounts->pdata[0])->mount_point, ==, "/ok");
}

static void
test_parse_filesystems (void)
{
  g_autofree char *text = read_fixture ("hand", "filesystems");
  g_autoptr(GHashTable) types = sonde_disk_parse_filesystems (text);

  /* ext3 ext2 ext4 squashfs vfat fuseblk btrfs xfs + zfs */
  g_assert_cmpuint (g_hash_table_size (types), ==, 9);
  g_assert_true (g_hash_table_contains (types, "ext4"));
  g_assert_true (g_hash_table_contains (types, "vfat"));
  g_assert_true (g_hash_table_contains (types, "xfs"));
  g_assert_true (g_hash_table_contains (types, "zfs"));
  g_assert_true (g_hash_table_contains (types, "squashfs"));
  g_assert_false (g_hash_table_contains (types, "tmpfs"));
  g_assert_false (g_hash_table_contains (types, "nfs4"));
  g_assert_false (g_hash_table_contains (types, "overlay"));
}

static void
test_filter_partitions (void)
{
  static const char * const expected[] = {
    "/", "/boot/efi", "/media/My Disk", "/mnt/tab\tand\\back", "/mnt/shadowed",
    "/tank", "/mnt/new\nline", "/mnt/gone", "/mnt/empty",
  };
  g_autofree char *text = read_fixture ("hand", "self/mountinfo");
  g_autofree char *fs_text = read_fixture ("hand", "filesystems");
  g_autoptr(GPtrArray) mounts = sonde_disk_parse_mountinfo (text);
  g_autoptr(GHashTable) types = sonde_disk_parse_filesystems (fs_text);

  sonde_disk_filter_partitions (mounts, types);

  g_assert_cmpuint (mounts->len, ==, G_N_ELEMENTS (expected));
  for (guint i = 0; i < mounts->len; i++)
    g_assert_cmpstr (((SondeDiskMount *) mounts->pdata[i])->mount_point, ==, expected[i]);

  /* The over-mount (btrfs on sda4), not the ext4 it hides. */
  g_assert_cmpstr (((SondeDiskMount *) mounts->pdata[4])->fs_type, ==, "btrfs");
}

static void
test_filter_partitions_host (void)
{
  g_autofree char *text = read_fixture ("host", "self/mountinfo");
  g_autofree char *fs_text = read_fixture ("host", "filesystems");
  g_autoptr(GPtrArray) mounts = sonde_disk_parse_mountinfo (text);
  g_autoptr(GHashTable) types = sonde_disk_parse_filesystems (fs_text);
  SondeDiskMount *m;

  g_assert_cmpuint (mounts->len, ==, 20);
  sonde_disk_filter_partitions (mounts, types);

  /* As psutil.disk_partitions() on that VM: only /dev/vda on / (ext4). */
  g_assert_cmpuint (mounts->len, ==, 1);
  m = mounts->pdata[0];
  g_assert_cmpstr (m->mount_point, ==, "/");
  g_assert_cmpstr (m->device, ==, "/dev/vda");
  g_assert_cmpstr (m->fs_type, ==, "ext4");
}

/* Found by tests/fuzz/fuzz-proc-disk: a device number's major of 2^31
 * or more overflowed a signed shift (undefined behaviour, caught by
 * UBSan). Different majors stay different filesystems. */
static void
test_filter_partitions_huge_major (void)
{
  g_autoptr(GPtrArray) mounts =
    sonde_disk_parse_mountinfo ("20 1 4294967295:4294967295 / /a rw - ext4 /dev/a rw\n"
                                "21 1 2147483648:0 / /b rw - ext4 /dev/b rw\n"
                                "22 1 4294967295:4294967295 / /c rw - ext4 /dev/c rw\n");
  g_autoptr(GHashTable) types = sonde_disk_parse_filesystems ("\text4\n");

  g_assert_cmpuint (mounts->len, ==, 3);
  sonde_disk_filter_partitions (mounts, types);

  /* /c is /a's filesystem again. */
  g_assert_cmpuint (mounts->len, ==, 2);
  g_assert_cmpstr (((SondeDiskMount *) mounts->pdata[0])->mount_point, ==, "/a");
  g_assert_cmpstr (((SondeDiskMount *) mounts->pdata[1])->mount_point, ==, "/b");
}

static void
test_parse_diskstats (void)
{
  g_autofree char *text = read_fixture ("t0", "diskstats");
  g_autoptr(GArray) stats = g_array_new (FALSE, TRUE, sizeof (SondeDiskStat));
  SondeDiskStat *s;

  g_assert_cmpuint (sonde_disk_parse_diskstats (text, stats), ==, 8);

  s = &g_array_index (stats, SondeDiskStat, 2);
  g_assert_cmpstr (s->name, ==, "nvme0n1");
  g_assert_cmpuint (s->major, ==, 259);
  g_assert_cmpuint (s->minor, ==, 0);
  g_assert_cmpuint (s->reads, ==, 100000);
  g_assert_cmpuint (s->read_sectors, ==, 4000000);
  g_assert_cmpuint (s->writes, ==, 50000);
  g_assert_cmpuint (s->write_sectors, ==, 2000000);

  /* 15 fields (no flush counters) */
  s = &g_array_index (stats, SondeDiskStat, 5);
  g_assert_cmpstr (s->name, ==, "sda");
  g_assert_cmpuint (s->read_sectors, ==, 800000);
  g_assert_cmpuint (s->write_sectors, ==, 600000);

  /* The 4-field partition line of kernels before 2.6.25. */
  s = &g_array_index (stats, SondeDiskStat, 6);
  g_assert_cmpstr (s->name, ==, "sda1");
  g_assert_cmpuint (s->reads, ==, 1200);
  g_assert_cmpuint (s->read_sectors, ==, 96000);
  g_assert_cmpuint (s->writes, ==, 800);
  g_assert_cmpuint (s->write_sectors, ==, 64000);

  g_assert_true (sonde_disk_is_idle_virtual (&g_array_index (stats, SondeDiskStat, 0)));   /* loop0 */
  g_assert_false (sonde_disk_is_idle_virtual (&g_array_index (stats, SondeDiskStat, 1)));  /* loop1 */
  g_assert_true (sonde_disk_is_idle_virtual (&g_array_index (stats, SondeDiskStat, 7)));   /* zram0 */

  /* Junk and truncated lines are skipped; no trailing newline is fine. */
  g_assert_cmpuint (sonde_disk_parse_diskstats ("junk\n 8 0 sda 1 2\n\n 8 16 sdb 1 0 2 0 3 0 4 0 0 0 0", stats), ==, 1);
  g_assert_cmpstr (g_array_index (stats, SondeDiskStat, 0).name, ==, "sdb");
  g_assert_cmpuint (g_array_index (stats, SondeDiskStat, 0).write_sectors, ==, 4);
  g_assert_cmpuint (sonde_disk_parse_diskstats ("", stats), ==, 0);
}

static void
test_rate (void)
{
  g_assert_cmpfloat (sonde_disk_rate (100, 300, 2.0), ==, 100.0);
  g_assert_cmpfloat (sonde_disk_rate (300, 300, 2.0), ==, 0.0);
  /* reset or 32-bit wrap: 0, never negative or huge */
  g_assert_cmpfloat (sonde_disk_rate (G_MAXUINT32 - 5, 10, 1.0), ==, 0.0);
  g_assert_cmpfloat (sonde_disk_rate (300, 100, 2.0), ==, 0.0);
  g_assert_cmpfloat (sonde_disk_rate (100, 300, 0.0), ==, 0.0);
  g_assert_cmpfloat (sonde_disk_rate (100, 300, -1.0), ==, 0.0);
}

static void
test_usage (void)
{
  struct statvfs st = { 0 };
  SondeDiskUsage usage;

  /* The VM's root filesystem (ext4 with a large reserve), as psutil: */
  st.f_frsize = 4096;
  st.f_blocks = 66053021;
  st.f_bfree = 61853020;
  st.f_bavail = 20884296;
  sonde_disk_usage_from_statvfs (&st, &usage);
  g_assert_cmpuint (usage.total_bytes, ==, G_GUINT64_CONSTANT (270553174016));
  g_assert_cmpuint (usage.used_bytes, ==, G_GUINT64_CONSTANT (17203204096));
  g_assert_cmpuint (usage.free_bytes, ==, G_GUINT64_CONSTANT (85542076416));
  g_assert_cmpfloat_with_epsilon (usage.usage_percent,
                                  17203204096.0 * 100 / (17203204096.0 + 85542076416.0), 1e-12);

  /* An empty (zero-sized) filesystem is 0 %, not NaN. */
  memset (&st, 0, sizeof st);
  st.f_frsize = 4096;
  sonde_disk_usage_from_statvfs (&st, &usage);
  g_assert_cmpuint (usage.total_bytes, ==, 0);
  g_assert_cmpfloat (usage.usage_percent, ==, 0.0);

  /* f_frsize 0 (some FUSE filesystems): fall back to f_bsize. */
  st.f_frsize = 0;
  st.f_bsize = 1024;
  st.f_blocks = 10;
  st.f_bfree = 5;
  st.f_bavail = 5;
  sonde_disk_usage_from_statvfs (&st, &usage);
  g_assert_cmpuint (usage.total_bytes, ==, 10240);
  g_assert_cmpfloat (usage.usage_percent, ==, 50.0);
}

/* --- collector --------------------------------------------------------- */

static void
test_catalog (void)
{
  static const SondePluginTestMetric expected[] = {
    { "usage_percent", "percent", SONDE_METRIC_KIND_GAUGE },
    { "partitions", "", SONDE_METRIC_KIND_TABLE },
    { "read_bytes_per_sec", "bytes/s", SONDE_METRIC_KIND_RATE },
    { "write_bytes_per_sec", "bytes/s", SONDE_METRIC_KIND_RATE },
    { "devices", "", SONDE_METRIC_KIND_TABLE },
  };
  g_autoptr(SondeCollector) collector = sonde_disk_collector_new ();

  sonde_plugin_test_assert_catalog (collector, "disk", expected, G_N_ELEMENTS (expected), TRUE);
}

static void
test_collect_host_fixture (void)
{
  g_autoptr(SondeCollector) collector = new_fixture_collector ("host");
  g_autoptr(SondeSample) sample = NULL;
  g_autofree char *sys = NULL;
  JsonArray *partitions, *devices;

  USE_FAKE_FS (fake_fs);
  fake_now = 1000000;

  /* Recorded with vda, loop0 and zram0 of the VM's /sys/block (loop1-7 are
   * left out: idle like loop0, and their absence also hides them). */
  sys = g_test_build_filename (G_TEST_DIST, "fixtures", "disk", "host", "sys", NULL);
  sonde_collector_set_sys_root (collector, sys);
  sample = collect_ok (collector);
  assert_fields (sample);

  partitions = get_array (sample, "partitions");
  g_assert_cmpuint (json_array_get_length (partitions), ==, 1);
  assert_partition (partitions, 0, "/", "/dev/vda", "ext4", 66053021, 61853020, 20884296, 4096);
  g_assert_cmpfloat_with_epsilon (sonde_sample_get_double (sample, "usage_percent"),
                                  17203204096.0 * 100 / (17203204096.0 + 85542076416.0), 1e-9);

  /* First sample: vda only, rates 0. */
  devices = get_array (sample, "devices");
  g_assert_cmpuint (json_array_get_length (devices), ==, 1);
  assert_device (devices, 0, "vda", 0, 0, 0, 0);
  g_assert_cmpfloat (sonde_sample_get_double (sample, "read_bytes_per_sec"), ==, 0.0);
  g_assert_cmpfloat (sonde_sample_get_double (sample, "write_bytes_per_sec"), ==, 0.0);
}

static void
test_collect_hand_fixture (void)
{
  g_autoptr(SondeCollector) collector = new_fixture_collector ("hand");
  g_autoptr(SondeSample) sample = NULL;
  JsonArray *partitions;

  USE_FAKE_FS (hand_fs);
  fake_now = 1000000;
  fake_calls = 0;

  sample = collect_ok (collector);
  assert_fields (sample);

  /* statvfs on the 9 kept mounts only; /mnt/gone fails and is left out. */
  g_assert_cmpuint (fake_calls, ==, 9);

  partitions = get_array (sample, "partitions");
  g_assert_cmpuint (json_array_get_length (partitions), ==, 8);
  /* /dev/root resolved through sys/dev/block/259:2 */
  assert_partition (partitions, 0, "/", "/dev/nvme0n1p2", "ext4", 120000000, 50000000, 44000000, 4096);
  assert_partition (partitions, 1, "/boot/efi", "/dev/nvme0n1p1", "vfat", 130812, 114000, 114000, 4096);
  assert_partition (partitions, 2, "/media/My Disk", "/dev/sda1", "ext4", 244190646, 200000000, 187790000, 4096);
  assert_partition (partitions, 3, "/mnt/tab\tand\\back", "/dev/sda2", "xfs", 1000000, 250000, 250000, 4096);
  assert_partition (partitions, 4, "/mnt/shadowed", "/dev/sda4", "btrfs", 5000000, 4000000, 3990000, 4096);
  assert_partition (partitions, 5, "/tank", "tank", "zfs", 20000000, 19000000, 19000000, 512);
  assert_partition (partitions, 6, "/mnt/new\nline", "/dev/sda5", "ext4", 2048, 2048, 2048, 1024);
  assert_partition (partitions, 7, "/mnt/empty", "/dev/sdc1", "fuseblk", 0, 0, 0, 4096);

  g_assert_cmpfloat_with_epsilon (sonde_sample_get_double (sample, "usage_percent"),
                                  70000000.0 * 100 / (70000000.0 + 44000000.0), 1e-9);

  /* mountinfo is cached: the next tick only calls statvfs again. */
  g_clear_pointer (&sample, sonde_sample_unref);
  sample = collect_ok (collector);
  g_assert_cmpuint (json_array_get_length (get_array (sample, "partitions")), ==, 8);
  g_assert_cmpuint (fake_calls, ==, 18);
}

static void
test_collect_rates (void)
{
  g_autoptr(SondeCollector) collector = new_fixture_collector ("t0");
  g_autoptr(SondeSample) s0 = NULL, s1 = NULL, s2 = NULL, s3 = NULL;
  g_autofree char *t1 = fixture_proc ("t1");
  g_autofree char *t2 = fixture_proc ("t2");
  g_autofree char *t0 = fixture_proc ("t0");
  g_autoptr(GError) error = NULL;
  JsonArray *devices;

  USE_FAKE_FS (fake_fs);

  g_assert_true (sonde_collector_start (collector, &error));
  g_assert_no_error (error);

  /* First sample: devices listed, every rate 0. loop0 and zram0 (idle)
   * and the partitions (not in sys/block) are left out. */
  fake_now = 5000000;
  s0 = collect_ok (collector);
  assert_fields (s0);
  devices = get_array (s0, "devices");
  g_assert_cmpuint (json_array_get_length (devices), ==, 3);
  assert_device (devices, 0, "loop1", 0, 0, 0, 0);
  assert_device (devices, 1, "nvme0n1", 0, 0, 0, 0);
  assert_device (devices, 2, "sda", 0, 0, 0, 0);
  g_assert_cmpfloat (sonde_sample_get_double (s0, "read_bytes_per_sec"), ==, 0.0);
  g_assert_cmpfloat (sonde_sample_get_double (s0, "write_bytes_per_sec"), ==, 0.0);

  /* 2 s later */
  fake_now += 2 * G_USEC_PER_SEC;
  sonde_collector_set_proc_root (collector, t1);
  s1 = collect_ok (collector);
  devices = get_array (s1, "devices");
  g_assert_cmpuint (json_array_get_length (devices), ==, 3);
  /* +16 sectors, +4 reads */
  assert_device (devices, 0, "loop1", 16 * 512 / 2.0, 0, 2, 0);
  /* +20480 and +4096 sectors, +400 reads, +100 writes */
  assert_device (devices, 1, "nvme0n1", 20480 * 512 / 2.0, 4096 * 512 / 2.0, 200, 50);
  /* +256 sectors, +10 reads, no writes */
  assert_device (devices, 2, "sda", 256 * 512 / 2.0, 0, 5, 0);
  g_assert_cmpfloat_with_epsilon (sonde_sample_get_double (s1, "read_bytes_per_sec"), 5312512.0, 1e-6);
  g_assert_cmpfloat_with_epsilon (sonde_sample_get_double (s1, "write_bytes_per_sec"), 1048576.0, 1e-6);

  /* 1 s later: nvme0n1's write count went back (wrap), sda was reset,
   * sdb is new. Those counters give 0, never a negative rate. */
  fake_now += 1 * G_USEC_PER_SEC;
  sonde_collector_set_proc_root (collector, t2);
  s2 = collect_ok (collector);
  devices = get_array (s2, "devices");
  g_assert_cmpuint (json_array_get_length (devices), ==, 4);
  assert_device (devices, 0, "loop1", 0, 0, 0, 0);
  assert_device (devices, 1, "nvme0n1", 8192 * 512, 0, 1000, 0);
  assert_device (devices, 2, "sda", 0, 0, 0, 0);
  assert_device (devices, 3, "sdb", 0, 0, 0, 0);
  g_assert_cmpfloat_with_epsilon (sonde_sample_get_double (s2, "read_bytes_per_sec"), 4194304.0, 1e-6);
  g_assert_cmpfloat (sonde_sample_get_double (s2, "write_bytes_per_sec"), ==, 0.0);

  /* After a stop and start, the first sample reports 0 again even though
   * the counters moved (t0 -> t1). */
  sonde_collector_stop (collector);
  sonde_collector_set_proc_root (collector, t0);
  g_assert_true (sonde_collector_start (collector, &error));
  g_clear_pointer (&s3, sonde_sample_unref);
  fake_now += G_USEC_PER_SEC;
  s3 = collect_ok (collector);
  sonde_collector_set_proc_root (collector, t1);
  g_clear_pointer (&s3, sonde_sample_unref);
  s3 = collect_ok (collector);   /* same fake time: no interval, rates 0 */
  devices = get_array (s3, "devices");
  assert_device (devices, 1, "nvme0n1", 0, 0, 0, 0);
  sonde_collector_stop (collector);
}

static void
test_collect_missing_proc (void)
{
  g_autoptr(SondeCollector) collector = sonde_disk_collector_new ();

  sonde_plugin_test_assert_missing_proc (collector, "/nonexistent/proc", FALSE);
}

static void
test_collect_live (void)
{
  g_autoptr(SondeCollector) collector = sonde_disk_collector_new ();
  g_autoptr(SondeSample) s0 = NULL, s1 = NULL;
  g_autoptr(GError) error = NULL;
  JsonArray *partitions, *devices;
  double usage;

  g_assert_true (sonde_collector_start (collector, &error));
  g_assert_no_error (error);
  s0 = collect_ok (collector);
  g_usleep (100 * 1000);
  s1 = collect_ok (collector);
  assert_fields (s1);

  usage = sonde_sample_get_double (s1, "usage_percent");
  g_assert_cmpfloat (usage, >=, 0);
  g_assert_cmpfloat (usage, <=, 100);

  partitions = get_array (s1, "partitions");
  for (guint i = 0; i < json_array_get_length (partitions); i++)
    {
      JsonObject *p = json_array_get_object_element (partitions, i);
      double percent = json_object_get_double_member (p, "usage_percent");
      gint64 total = json_object_get_int_member (p, "total_bytes");
      gint64 used = json_object_get_int_member (p, "used_bytes");
      gint64 free_bytes = json_object_get_int_member (p, "free_bytes");

      g_test_message ("%s %s %s total %" G_GINT64_FORMAT " used %" G_GINT64_FORMAT " free %" G_GINT64_FORMAT " %.2f%%",
                      json_object_get_string_member (p, "mount"),
                      json_object_get_string_member (p, "device"),
                      json_object_get_string_member (p, "fs_type"),
                      total, used, free_bytes, percent);
      g_assert_cmpint (total, >=, 0);
      g_assert_cmpint (used, >=, 0);
      g_assert_cmpint (free_bytes, >=, 0);
      g_assert_cmpint (used + free_bytes, <=, total);
      g_assert_cmpfloat (percent, >=, 0);
      g_assert_cmpfloat (percent, <=, 100);

      /* Where / is a real filesystem, it is listed and matches statvfs. */
      if (g_str_equal (json_object_get_string_member (p, "mount"), "/"))
        {
          struct statvfs st;

          g_assert_cmpint (statvfs ("/", &st), ==, 0);
          g_assert_cmpint (total, ==, (gint64) st.f_blocks * st.f_frsize);
          g_assert_cmpfloat_with_epsilon (percent, usage, 1e-9);
        }
    }

  devices = get_array (s1, "devices");
  for (guint i = 0; i < json_array_get_length (devices); i++)
    {
      JsonObject *d = json_array_get_object_element (devices, i);
      static const char * const rates[] = {
        "read_bytes_per_sec", "write_bytes_per_sec", "reads_per_sec", "writes_per_sec",
      };
      g_autofree char *sys_path = g_build_filename ("/sys/block",
                                                    json_object_get_string_member (d, "name"), NULL);

      g_test_message ("device %s", json_object_get_string_member (d, "name"));
      g_assert_true (g_file_test (sys_path, G_FILE_TEST_IS_DIR));
      for (guint j = 0; j < G_N_ELEMENTS (rates); j++)
        g_assert_cmpfloat (json_object_get_double_member (d, rates[j]), >=, 0);
    }
  g_assert_cmpfloat (sonde_sample_get_double (s1, "read_bytes_per_sec"), >=, 0);
  g_assert_cmpfloat (sonde_sample_get_double (s1, "write_bytes_per_sec"), >=, 0);

  sonde_collector_stop (collector);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/disk/parser/unescape", test_unescape);
  g_test_add_func ("/disk/parser/mountinfo", test_parse_mountinfo);
  g_test_add_func ("/disk/parser/mountinfo-malformed", test_parse_mountinfo_malformed);
  g_test_add_func ("/disk/parser/filesystems", test_parse_filesystems);
  g_test_add_func ("/disk/parser/filter-partitions", test_filter_partitions);
  g_test_add_func ("/disk/parser/filter-partitions-host", test_filter_partitions_host);
  g_test_add_func ("/disk/parser/filter-partitions-huge-major", test_filter_partitions_huge_major);
  g_test_add_func ("/disk/parser/diskstats", test_parse_diskstats);
  g_test_add_func ("/disk/parser/rate", test_rate);
  g_test_add_func ("/disk/parser/usage", test_usage);
  g_test_add_func ("/disk/collector/catalog", test_catalog);
  g_test_add_func ("/disk/collector/host-fixture", test_collect_host_fixture);
  g_test_add_func ("/disk/collector/hand-fixture", test_collect_hand_fixture);
  g_test_add_func ("/disk/collector/rates", test_collect_rates);
  g_test_add_func ("/disk/collector/missing-proc", test_collect_missing_proc);
  g_test_add_func ("/disk/collector/live", test_collect_live);

  return g_test_run ();
}
