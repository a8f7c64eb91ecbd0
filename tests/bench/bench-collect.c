/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * bench-collect: what one sample costs.
 *
 * Loads the real collector plugins the way sonded does, starts each
 * collector and calls sonde_collector_collect() N times in a row, timing
 * every call. Then it times the bare kernel reads the same data needs --
 * files opened once and re-read with pread(), statvfs(), a readdir of
 * /proc with one pread of each kept-open /proc/PID/stat -- so that the
 * price of parsing and building JSON on top of them can be read off.
 *
 * It prints figures and never judges them: timings depend on the machine.
 * Run it with SONDE_PLUGIN_PATH set to the build tree's plugin directories
 * (see README.md in this directory).
 */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <limits.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <sonde.h>

/* Allocation counter ---------------------------------------------------- */

/* Interposes malloc, calloc and realloc of the whole process (GLib and
 * json-glib included) to count the allocations one collection makes; the
 * memory still comes from glibc, and glibc's free releases it. */
extern void *__libc_malloc (size_t size);
extern void *__libc_calloc (size_t n, size_t size);
extern void *__libc_realloc (void *ptr, size_t size);

static gint n_allocs;

void *malloc (size_t size);
void *calloc (size_t n, size_t size);
void *realloc (void *ptr, size_t size);

void *
malloc (size_t size)
{
  g_atomic_int_inc (&n_allocs);
  return __libc_malloc (size);
}

void *
calloc (size_t n,
        size_t size)
{
  g_atomic_int_inc (&n_allocs);
  return __libc_calloc (n, size);
}

void *
realloc (void   *ptr,
         size_t  size)
{
  g_atomic_int_inc (&n_allocs);
  return __libc_realloc (ptr, size);
}

/* Timing ---------------------------------------------------------------- */

static inline gint64
now_ns (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (gint64) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

typedef struct
{
  double mean_us;
  double p50_us;
  double p99_us;
  double max_us;
} Stats;

static int
compare_double (gconstpointer a,
                gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return (x > y) - (x < y);
}

/* Sorts @samples_us in place. */
static Stats
compute_stats (double *samples_us,
               guint   n)
{
  Stats stats = { 0, };
  double sum = 0;

  if (n == 0)
    return stats;

  for (guint i = 0; i < n; i++)
    sum += samples_us[i];
  qsort (samples_us, n, sizeof (double), compare_double);

  stats.mean_us = sum / n;
  stats.p50_us = samples_us[(n - 1) / 2];
  stats.p99_us = samples_us[MIN (n - 1, (guint) (n * 0.99))];
  stats.max_us = samples_us[n - 1];
  return stats;
}

/* Collectors ------------------------------------------------------------ */

typedef struct
{
  const char     *name;
  SondeCollector *collector;
  Stats           stats;
  double          allocs;
  double          to_json_us;
  gsize           json_bytes;
  gboolean        ok;
} CollectorResult;

static gboolean
collect_once (SondeCollector  *collector,
              gsize           *json_bytes)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(SondeSample) sample = sonde_collector_collect (collector, &error);

  if (sample == NULL)
    {
      g_printerr ("bench-collect: %s: %s\n", sonde_collector_get_name (collector), error->message);
      return FALSE;
    }

  if (json_bytes != NULL)
    {
      g_autofree char *json = sonde_sample_to_json (sample);
      *json_bytes = strlen (json);
    }

  return TRUE;
}

static void
bench_collector (CollectorResult *result,
                 guint            n)
{
  g_autofree double *samples = g_new (double, n);
  g_autoptr(GError) error = NULL;
  gint allocs_before;
  double json_total = 0;

  if (!sonde_collector_start (result->collector, &error))
    {
      g_printerr ("bench-collect: cannot start %s: %s\n", result->name, error->message);
      return;
    }

  /* Two warm-up collections: the first one opens files and has no
   * previous counters, the second one is the first with rates. */
  if (!collect_once (result->collector, NULL) || !collect_once (result->collector, NULL))
    return;

  allocs_before = g_atomic_int_get (&n_allocs);
  for (guint i = 0; i < n; i++)
    {
      gint64 start = now_ns ();
      SondeSample *sample = sonde_collector_collect (result->collector, NULL);

      samples[i] = (now_ns () - start) / 1000.0;
      if (sample == NULL)
        {
          g_printerr ("bench-collect: %s failed at iteration %u\n", result->name, i);
          return;
        }
      sonde_sample_unref (sample);
    }
  result->allocs = (double) (g_atomic_int_get (&n_allocs) - allocs_before) / n;
  result->stats = compute_stats (samples, n);

  /* Serialising one sample, for scale: the daemon does this once per
   * subscription group and tick, not per client. */
  for (guint i = 0; i < MIN (n, 200u); i++)
    {
      g_autoptr(SondeSample) sample = sonde_collector_collect (result->collector, NULL);
      gint64 start = now_ns ();
      g_autofree char *json = sonde_sample_to_json (sample);

      json_total += (now_ns () - start) / 1000.0;
      result->json_bytes = strlen (json);
    }
  result->to_json_us = json_total / MIN (n, 200u);
  result->ok = TRUE;
}

static Stats
bench_full_sample (SondeCollector **collectors,
                   guint            n_collectors,
                   guint            n,
                   double          *allocs,
                   gsize           *json_bytes)
{
  g_autofree double *samples = g_new (double, n);
  gint allocs_before = g_atomic_int_get (&n_allocs);

  for (guint i = 0; i < n; i++)
    {
      gint64 start = now_ns ();

      for (guint c = 0; c < n_collectors; c++)
        {
          SondeSample *sample = sonde_collector_collect (collectors[c], NULL);

          if (sample != NULL)
            sonde_sample_unref (sample);
        }
      samples[i] = (now_ns () - start) / 1000.0;
    }
  *allocs = (double) (g_atomic_int_get (&n_allocs) - allocs_before) / n;

  *json_bytes = 0;
  for (guint c = 0; c < n_collectors; c++)
    {
      gsize bytes = 0;

      if (collect_once (collectors[c], &bytes))
        *json_bytes += bytes;
    }

  return compute_stats (samples, n);
}

/* Bare kernel reads ------------------------------------------------------ */

typedef struct
{
  const char *path;
  int         fd;
  gsize       chunk;
} BareFile;

/* Scratch space for the bare reads: one buffer, as a collector would keep. */
static char bare_buffer[64 * 1024];

/* Files are read in 4 KiB requests, as the collectors do; /proc/net/tcp*
 * in 64 KiB ones like the network collector. The size matters: a sysctl
 * file (/proc/sys/...) allocates and clears a kernel buffer of the size
 * asked for on every read. */
static gboolean
bare_open (BareFile   *file,
           const char *path)
{
  file->path = path;
  file->fd = open (path, O_RDONLY | O_CLOEXEC);
  file->chunk = g_str_has_prefix (path, "/proc/net/tcp") ? sizeof bare_buffer : 4096;
  return file->fd >= 0;
}

/* Reads the whole file from offset 0, until pread() says end of file. */
static gsize
bare_read (BareFile *file)
{
  gsize total = 0;
  gssize n;

  if (file->fd < 0)
    return 0;

  while ((n = pread (file->fd, bare_buffer, file->chunk, total)) > 0)
    total += n;

  return total;
}

typedef struct
{
  DIR        *dir;
  GHashTable *fds;          /* pid -> fd of PID/stat, kept open */
  guint       count;
} BareProc;

static void
close_fd (gpointer data)
{
  close (GPOINTER_TO_INT (data) - 1);
}

/* The pid -> fd table allocates only when it grows: a scan of known
 * processes allocates nothing. */
static void
bare_proc_init (BareProc   *proc,
                const char *root)
{
  proc->dir = opendir (root);
  proc->fds = g_hash_table_new_full (NULL, NULL, NULL, close_fd);
}

static void
bare_proc_clear (BareProc *proc)
{
  closedir (proc->dir);
  g_hash_table_unref (proc->fds);
}

/* One scan: readdir of /proc, one pread of each PID/stat; fds are opened
 * at first sight and kept (stored +1 so that fd 0 is not NULL). */
static void
bare_proc_scan (BareProc *proc)
{
  struct dirent *dent;
  char buffer[1024];

  proc->count = 0;
  rewinddir (proc->dir);
  while ((dent = readdir (proc->dir)) != NULL)
    {
      gpointer key;
      int fd;

      if (dent->d_name[0] < '1' || dent->d_name[0] > '9')
        continue;

      key = GINT_TO_POINTER (atoi (dent->d_name));
      fd = GPOINTER_TO_INT (g_hash_table_lookup (proc->fds, key)) - 1;
      if (fd < 0)
        {
          char path[64];

          g_snprintf (path, sizeof path, "%s/stat", dent->d_name);
          fd = openat (dirfd (proc->dir), path, O_RDONLY | O_CLOEXEC);
          if (fd < 0)
            continue;
          g_hash_table_insert (proc->fds, key, GINT_TO_POINTER (fd + 1));
        }

      if (pread (fd, buffer, sizeof buffer, 0) > 0)
        proc->count++;
      else
        g_hash_table_remove (proc->fds, key);
    }
}

/* Counts the established TCP sockets of @family with a sock_diag dump
 * filtered in the kernel: what `ss -t state established` does. */
static guint
bare_diag_count (int fd,
                 int family)
{
  struct
  {
    struct nlmsghdr         header;
    struct inet_diag_req_v2 request;
  } message = { 0, };
  guint count = 0;

  message.header.nlmsg_len = sizeof message;
  message.header.nlmsg_type = SOCK_DIAG_BY_FAMILY;
  message.header.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  message.request.sdiag_family = family;
  message.request.sdiag_protocol = IPPROTO_TCP;
  message.request.idiag_states = 1 << TCP_ESTABLISHED;

  if (send (fd, &message, sizeof message, 0) < 0)
    return 0;

  for (;;)
    {
      gssize n = recv (fd, bare_buffer, sizeof bare_buffer, 0);
      struct nlmsghdr *header = (struct nlmsghdr *) bare_buffer;

      if (n <= 0)
        return count;
      for (; NLMSG_OK (header, (gsize) n); header = NLMSG_NEXT (header, n))
        {
          if (header->nlmsg_type == NLMSG_DONE || header->nlmsg_type == NLMSG_ERROR)
            return count;
          count++;
        }
    }
}

typedef enum
{
  OP_FILE,
  OP_STATVFS,
  OP_PROC_SCAN,
  OP_DIAG,
} OpKind;

/* BASIC: the headline set a full sample cannot do without. EXTRA: every
 * other file the collectors read each tick. ALTERNATIVE: cheaper ways to
 * get the same answer, which sonde does not use (not in the totals). */
typedef enum
{
  SET_BASIC,
  SET_EXTRA,
  SET_ALTERNATIVE,
} OpSet;

typedef struct
{
  const char *label;
  OpKind      kind;
  BareFile    file;          /* OP_FILE; OP_DIAG keeps its socket in file.fd */
  const char *statvfs_path;
  OpSet       set;
  gboolean    available;
  gboolean    floor;         /* in the kernel-read floor of the paced run */
  Stats       stats;
} BareOp;

static void
bare_op_run (BareOp   *op,
             BareProc *proc)
{
  struct statvfs st;

  switch (op->kind)
    {
    case OP_FILE:
      bare_read (&op->file);
      break;

    case OP_STATVFS:
      statvfs (op->statvfs_path, &st);
      break;

    case OP_PROC_SCAN:
      bare_proc_scan (proc);
      break;

    case OP_DIAG:
      bare_diag_count (op->file.fd, AF_INET);
      bare_diag_count (op->file.fd, AF_INET6);
      break;

    default:
      g_assert_not_reached ();
    }
}

/* Times each op alone, then the basic set and everything together, one
 * iteration after another. */
static void
bench_bare (BareOp   *ops,
            guint     n_ops,
            BareProc *proc,
            guint     n,
            Stats    *basic,
            Stats    *all)
{
  g_autofree double *samples = g_new (double, n);

  for (guint o = 0; o < n_ops; o++)
    {
      if (!ops[o].available)
        continue;
      bare_op_run (&ops[o], proc);
      for (guint i = 0; i < n; i++)
        {
          gint64 start = now_ns ();

          bare_op_run (&ops[o], proc);
          samples[i] = (now_ns () - start) / 1000.0;
        }
      ops[o].stats = compute_stats (samples, n);
    }

  for (int pass = 0; pass < 2; pass++)
    {
      for (guint i = 0; i < n; i++)
        {
          gint64 start = now_ns ();

          for (guint o = 0; o < n_ops; o++)
            if (ops[o].available &&
                (ops[o].set == SET_BASIC || (pass == 1 && ops[o].set == SET_EXTRA)))
              bare_op_run (&ops[o], proc);
          samples[i] = (now_ns () - start) / 1000.0;
        }
      if (pass == 0)
        *basic = compute_stats (samples, n);
      else
        *all = compute_stats (samples, n);
    }
}

/* The mount points the disk collector reports, from its own sample, so
 * that the bare reads statvfs() the same filesystems. */
static GPtrArray *
disk_mounts (SondeCollector *disk)
{
  GPtrArray *mounts = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(SondeSample) sample = NULL;
  JsonObject *data;
  JsonArray *partitions;

  if (disk == NULL || (sample = sonde_collector_collect (disk, NULL)) == NULL)
    return mounts;

  data = sonde_sample_get_data (sample);
  if (!json_object_has_member (data, "partitions"))
    return mounts;

  partitions = json_object_get_array_member (data, "partitions");
  for (guint i = 0; i < json_array_get_length (partitions); i++)
    {
      JsonObject *partition = json_array_get_object_element (partitions, i);
      const char *mount = json_object_get_string_member_with_default (partition, "mount", NULL);

      if (mount != NULL && !g_str_equal (mount, "/"))
        g_ptr_array_add (mounts, g_strdup (mount));
    }

  return mounts;
}

static void
print_rule (void)
{
  printf ("%s\n", "----------------------------------------------------------------------------");
}

/* Paced: the floor against a full sample, at the daemon's rate ---------- */

/* CPU time of the process, user + system, in µs. */
static double
process_cpu_us (void)
{
  struct rusage usage;

  getrusage (RUSAGE_SELF, &usage);
  return (usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) * 1e6 +
         usage.ru_utime.tv_usec + usage.ru_stime.tv_usec;
}

typedef struct
{
  double *wall_us;
  double  cpu_us;       /* sum */
  gint    allocs;       /* sum */
  guint   n;
} Paced;

static void
run_floor (BareOp   *ops,
           guint     n_ops,
           BareProc *proc)
{
  for (guint o = 0; o < n_ops; o++)
    if (ops[o].available && ops[o].floor)
      bare_op_run (&ops[o], proc);
}

static void
run_full (SondeCollector **collectors,
          guint            n_collectors)
{
  for (guint c = 0; c < n_collectors; c++)
    {
      SondeSample *sample = sonde_collector_collect (collectors[c], NULL);

      if (sample != NULL)
        sonde_sample_unref (sample);
    }
}

/*
 * At @rate Hz for @seconds, each tick runs the kernel-read floor and a full
 * sample one after the other, the order alternating so that neither always
 * finds the caches warmed by the other. A loop of back-to-back calls keeps
 * every cache hot; a daemon sampling at 10 Hz does not, so this is the
 * figure to hold a daemon's CPU per sample against.
 */
static void
bench_paced (BareOp          *ops,
             guint            n_ops,
             BareProc        *proc,
             SondeCollector **collectors,
             guint            n_collectors,
             guint            rate,
             guint            seconds,
             Paced           *floor,
             Paced           *full)
{
  guint ticks = rate * seconds;
  gint64 period_ns = 1000000000 / rate;
  struct timespec next;

  floor->wall_us = g_new0 (double, ticks);
  full->wall_us = g_new0 (double, ticks);
  clock_gettime (CLOCK_MONOTONIC, &next);
  for (guint t = 0; t < ticks; t++)
    {
      gint64 ns = next.tv_nsec + period_ns;

      next.tv_sec += ns / 1000000000;
      next.tv_nsec = ns % 1000000000;
      while (clock_nanosleep (CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL) == EINTR)
        ;

      for (guint k = 0; k < 2; k++)
        {
          gboolean is_floor = (k ^ (t & 1)) == 0;
          Paced *paced = is_floor ? floor : full;
          gint allocs = g_atomic_int_get (&n_allocs);
          double cpu = process_cpu_us ();
          gint64 start = now_ns ();

          if (is_floor)
            run_floor (ops, n_ops, proc);
          else
            run_full (collectors, n_collectors);

          paced->wall_us[paced->n++] = (now_ns () - start) / 1000.0;
          paced->cpu_us += process_cpu_us () - cpu;
          paced->allocs += g_atomic_int_get (&n_allocs) - allocs;
        }
    }
}

static void
print_paced (const char *label,
             Paced      *paced)
{
  Stats wall = compute_stats (paced->wall_us, paced->n);

  printf ("%-34s %12.1f %11.1f %11.1f %11.1f %9.1f\n", label,
          paced->n ? paced->cpu_us / paced->n : 0.0, wall.p50_us, wall.mean_us,
          paced->wall_us[MIN (paced->n - 1, (guint) (paced->n * 0.9))],
          paced->n ? (double) paced->allocs / paced->n : 0.0);
}

/* Fixture /proc trees ----------------------------------------------------- */

/* The processes collector reads ROOT/meminfo and ROOT/PID/stat, nothing
 * else (see plugins/processes/): a tree of @n_processes such stat files
 * is enough to see how its cost grows with the processes. */
static char *
fixture_create (guint    n_processes,
                GError **error)
{
  g_autofree char *root = g_dir_make_tmp ("sonde-proc-XXXXXX", error);
  g_autofree char *meminfo = NULL;
  g_autofree char *meminfo_path = NULL;

  if (root == NULL)
    return NULL;
  meminfo_path = g_build_filename (root, "meminfo", NULL);
  if (!g_file_get_contents ("/proc/meminfo", &meminfo, NULL, error) ||
      !g_file_set_contents (meminfo_path, meminfo, -1, error))
    return NULL;

  for (guint i = 0; i < n_processes; i++)
    {
      guint pid = 100 + i;
      char path[PATH_MAX], line[512];
      int length, fd;

      g_snprintf (path, sizeof path, "%s/%u", root, pid);
      if (mkdir (path, 0755) != 0)
        {
          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno),
                       "mkdir %s: %s", path, g_strerror (errno));
          return NULL;
        }
      /* 52 fields, as Linux 6 writes them; the collector keeps the name,
       * the state (3), utime (14), stime (15), starttime (22), rss (24). */
      length = g_snprintf (line, sizeof line,
                           "%u (worker-%u) %c 1 %u %u 0 -1 4194560 %u 0 0 0 %u %u 0 0 20 0 1 0 %u "
                           "%u %u 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 %u 0 0 0 0 0 "
                           "0 0 0 0 0 0 0 0\n",
                           pid, pid, i % 50 == 0 ? 'R' : 'S', pid, pid, 1000 + i, i % 997, i % 331,
                           5000 + i, 10000000 + i * 4096, 200 + (i * 7919) % 100000, i % 2);
      g_strlcat (path, "/stat", sizeof path);
      fd = open (path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
      if (fd < 0 || write (fd, line, length) != length)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "cannot write %s", path);
          if (fd >= 0)
            close (fd);
          return NULL;
        }
      close (fd);
    }

  return g_steal_pointer (&root);
}

static void
fixture_remove (const char *root,
                guint       n_processes)
{
  char path[PATH_MAX];

  for (guint i = 0; i < n_processes; i++)
    {
      g_snprintf (path, sizeof path, "%s/%u/stat", root, 100 + i);
      unlink (path);
      *strrchr (path, '/') = '\0';
      rmdir (path);
    }
  g_snprintf (path, sizeof path, "%s/meminfo", root);
  unlink (path);
  rmdir (root);
}

/* Times the processes collector and the bare scan on one root. */
static void
bench_processes_at (SondeCollector *collector,
                    const char     *root,
                    const char     *label,
                    guint           n)
{
  g_autofree double *collect_us = g_new (double, n);
  g_autofree double *scan_us = g_new (double, n);
  g_autoptr(GError) error = NULL;
  BareProc proc;
  Stats collect, scan;
  double cpu, collect_cpu_us;

  sonde_collector_stop (collector);
  sonde_collector_set_proc_root (collector, root);
  if (!sonde_collector_start (collector, &error) ||
      !collect_once (collector, NULL) || !collect_once (collector, NULL))
    {
      printf ("%-22s failed: %s\n", label, error ? error->message : "collect");
      return;
    }

  cpu = process_cpu_us ();
  for (guint i = 0; i < n; i++)
    {
      gint64 start = now_ns ();
      SondeSample *sample = sonde_collector_collect (collector, NULL);

      collect_us[i] = (now_ns () - start) / 1000.0;
      g_clear_pointer (&sample, sonde_sample_unref);
    }
  collect_cpu_us = (process_cpu_us () - cpu) / n;
  collect = compute_stats (collect_us, n);

  bare_proc_init (&proc, root);
  bare_proc_scan (&proc);
  for (guint i = 0; i < n; i++)
    {
      gint64 start = now_ns ();

      bare_proc_scan (&proc);
      scan_us[i] = (now_ns () - start) / 1000.0;
    }
  scan = compute_stats (scan_us, n);

  printf ("%-22s %6u %6u %10.1f %10.1f %10.1f %10.1f %7.2fx %9.2f\n",
          label, proc.count, n, collect.p50_us, collect.p99_us, collect_cpu_us, scan.p50_us,
          collect.p50_us / scan.p50_us, proc.count ? collect.p50_us / proc.count : 0.0);
  bare_proc_clear (&proc);
  sonde_collector_stop (collector);
}

static int
bench_fixtures (SondeEngine *engine,
                const char  *sizes,
                guint        iterations)
{
  SondeCollector *collector = sonde_engine_get_collector (engine, "processes");
  g_auto(GStrv) list = g_strsplit (sizes, ",", 0);
  struct rlimit limit;

  if (collector == NULL)
    {
      g_printerr ("bench-collect: no processes collector\n");
      return EXIT_FAILURE;
    }

  /* The bare scan keeps every stat file open; the collector keeps at most
   * min (4096, RLIMIT_NOFILE / 4) of them and reopens the rest each tick. */
  getrlimit (RLIMIT_NOFILE, &limit);
  limit.rlim_cur = limit.rlim_max;
  setrlimit (RLIMIT_NOFILE, &limit);
  getrlimit (RLIMIT_NOFILE, &limit);

  printf ("processes collector on fixture trees of ROOT/PID/stat in %s (RLIMIT_NOFILE %lu)\n",
          g_get_tmp_dir (), (unsigned long) limit.rlim_cur);
  printf ("(µs of wall time per collect; CPU = getrusage user+sys per collect; bare = readdir + pread\n"
          " of every kept-open PID/stat; a fixture's files are not procfs: the kernel does not\n"
          " generate them, so a fixture measures the collector's own work per process)\n\n");
  printf ("%-22s %6s %6s %10s %10s %10s %10s %8s %9s\n",
          "root", "procs", "n", "p50 µs", "p99 µs", "CPU µs", "bare p50", "ratio", "µs/proc");
  print_rule ();
  bench_processes_at (collector, "/proc", "live /proc", MIN (iterations, 500u));

  for (guint i = 0; list[i] != NULL; i++)
    {
      guint n_processes = atoi (list[i]);
      g_autoptr(GError) error = NULL;
      g_autofree char *root = NULL;
      char label[64];

      if (n_processes == 0)
        continue;
      root = fixture_create (n_processes, &error);
      if (root == NULL)
        {
          g_printerr ("bench-collect: fixture of %u processes: %s\n", n_processes, error->message);
          return EXIT_FAILURE;
        }
      g_snprintf (label, sizeof label, "fixture %u", n_processes);
      bench_processes_at (collector, root, label,
                          CLAMP (500000 / n_processes, 50u, iterations));
      fixture_remove (root, n_processes);
    }

  return EXIT_SUCCESS;
}

/* Output ---------------------------------------------------------------- */

static guint
count_lines (const char *path)
{
  g_autofree char *text = NULL;
  guint lines = 0;

  if (!g_file_get_contents (path, &text, NULL, NULL))
    return 0;
  for (const char *p = text; (p = strchr (p, '\n')) != NULL; p++)
    lines++;
  return lines > 0 ? lines - 1 : 0;   /* the header */
}

static guint
count_tcp_sockets (void)
{
  return count_lines ("/proc/net/tcp") + count_lines ("/proc/net/tcp6");
}

static guint
count_processes (void)
{
  g_autoptr(GDir) dir = g_dir_open ("/proc", 0, NULL);
  const char *name;
  guint count = 0;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    if (g_ascii_isdigit (name[0]))
      count++;
  return count;
}

static const char *
load_average (void)
{
  static char text[64];
  g_autofree char *contents = NULL;
  g_auto(GStrv) fields = NULL;

  if (!g_file_get_contents ("/proc/loadavg", &contents, NULL, NULL))
    return "?";
  fields = g_strsplit (contents, " ", 4);
  g_snprintf (text, sizeof text, "%s %s %s", fields[0], fields[1] ? fields[1] : "",
              fields[1] && fields[2] ? fields[2] : "");
  return text;
}

int
main (int   argc,
      char *argv[])
{
  static const char * const full_names[] = {
    "cpu", "memory", "disk", "network", "processes", "host", NULL
  };
  int iterations = 2000, paced_seconds = 10, rate = 10;
  gboolean paced_only = FALSE;
  g_autofree char *fixture_sizes = NULL;
  g_auto(GStrv) only = NULL;
  GOptionEntry entries[] = {
    { "iterations", 'n', 0, G_OPTION_ARG_INT, &iterations, "Collections per collector (default 2000)", "N" },
    { "only", 0, 0, G_OPTION_ARG_STRING_ARRAY, &only, "Benchmark only this collector (repeatable)", "NAME" },
    { "paced", 0, 0, G_OPTION_ARG_INT, &paced_seconds, "Seconds of the paced floor-vs-full-sample run (default 10; 0 skips it)", "S" },
    { "rate", 0, 0, G_OPTION_ARG_INT, &rate, "Samples per second of the paced run (default 10, sonded's fastest)", "HZ" },
    { "paced-only", 0, 0, G_OPTION_ARG_NONE, &paced_only, "Only the paced run: no back-to-back tables", NULL },
    { "fixture-processes", 0, 0, G_OPTION_ARG_STRING, &fixture_sizes, "Only the processes collector, on generated /proc trees of these sizes (e.g. 100,1000,10000)", "LIST" },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new (NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(SondeEngine) engine = NULL;
  g_autoptr(GPtrArray) collectors = NULL;
  g_autoptr(GArray) results = g_array_new (FALSE, TRUE, sizeof (CollectorResult));
  g_autoptr(GPtrArray) full = g_ptr_array_new ();
  g_autoptr(GPtrArray) mounts = NULL;
  g_autoptr(GArray) ops = g_array_new (FALSE, TRUE, sizeof (BareOp));
  g_autoptr(GPtrArray) labels = g_ptr_array_new_with_free_func (g_free);
  BareProc proc;
  Stats full_stats = { 0, }, basic_stats = { 0, }, all_stats = { 0, };
  double full_allocs = 0;
  gsize full_bytes = 0;
  struct utsname uts;
  guint n;

  g_option_context_set_summary (context,
                                "Times each collector plugin's collect() and the bare kernel reads it needs.\n"
                                "Set SONDE_PLUGIN_PATH to the build tree's plugin directories.");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("bench-collect: %s\n", error->message);
      return EXIT_FAILURE;
    }
  if (iterations < 1 || paced_seconds < 0 || rate < 1 || rate > 1000)
    {
      g_printerr ("bench-collect: --iterations and --rate must be positive, --paced not negative\n");
      return EXIT_FAILURE;
    }
  n = iterations;

  engine = sonde_engine_new ();
  if (sonde_engine_load_plugins (engine, NULL) == 0)
    {
      g_printerr ("bench-collect: no collector plugins found; set SONDE_PLUGIN_PATH, e.g.\n"
                  "  SONDE_PLUGIN_PATH=BUILD/plugins %s\n", argv[0]);
      return EXIT_FAILURE;
    }
  collectors = sonde_engine_list_collectors (engine);

  uname (&uts);
  printf ("bench-collect: %u collections per collector; %u CPUs; kernel %s; %s\n",
          n, g_get_num_processors (), uts.release, uts.machine);
  /* The network collector's cost grows with the host's TCP sockets (TIME_WAIT
   * included: a benchmark that just closed 10,000 connections leaves them). */
  printf ("host: %u processes, %u lines in /proc/net/tcp + tcp6, load average %s\n",
          count_processes (), count_tcp_sockets (), load_average ());

  if (fixture_sizes != NULL)
    return bench_fixtures (engine, fixture_sizes, n);

  if (!paced_only)
    {
      printf ("(µs of wall time per call, one thread; allocs = malloc/calloc/realloc calls per collect)\n\n");
      printf ("%-12s %9s %9s %9s %9s %8s %8s %10s\n",
              "collector", "mean µs", "p50 µs", "p99 µs", "max µs", "allocs", "bytes", "to_json µs");
      print_rule ();
    }
  for (guint i = 0; i < collectors->len; i++)
    {
      SondeCollector *collector = g_ptr_array_index (collectors, i);
      CollectorResult result = { sonde_collector_get_name (collector), collector, };

      if (only != NULL && !g_strv_contains ((const char * const *) only, result.name))
        continue;

      if (paced_only)
        {
          /* Started and warmed up as bench_collector() does, untimed. */
          if (g_strv_contains (full_names, result.name) &&
              sonde_collector_start (collector, NULL))
            {
              collect_once (collector, NULL);
              collect_once (collector, NULL);
            }
          continue;
        }

      bench_collector (&result, n);
      g_array_append_val (results, result);
      if (!result.ok)
        {
          printf ("%-12s failed\n", result.name);
          continue;
        }
      printf ("%-12s %9.1f %9.1f %9.1f %9.1f %8.1f %8" G_GSIZE_FORMAT " %10.1f\n",
              result.name, result.stats.mean_us, result.stats.p50_us, result.stats.p99_us,
              result.stats.max_us, result.allocs, result.json_bytes, result.to_json_us);
    }

  for (guint i = 0; full_names[i] != NULL; i++)
    {
      SondeCollector *collector = sonde_engine_get_collector (engine, full_names[i]);

      if (collector != NULL && sonde_collector_get_running (collector))
        g_ptr_array_add (full, collector);
    }

  if (full->len > 0 && !paced_only)
    {
      full_stats = bench_full_sample ((SondeCollector **) full->pdata, full->len, n,
                                      &full_allocs, &full_bytes);
      print_rule ();
      printf ("%-12s %9.1f %9.1f %9.1f %9.1f %8.1f %8" G_GSIZE_FORMAT "\n",
              "full sample", full_stats.mean_us, full_stats.p50_us, full_stats.p99_us,
              full_stats.max_us, full_allocs, full_bytes);
      printf ("  = ");
      for (guint i = 0; i < full->len; i++)
        printf ("%s%s", i ? " + " : "", sonde_collector_get_name (g_ptr_array_index (full, i)));
      printf (", one after another in one thread\n");
    }

  /* The bare reads. The basic set is the one a full sample cannot do
   * without; the rest is every other file the collectors read each tick. */
  mounts = disk_mounts (sonde_engine_get_collector (engine, "disk"));
#define ADD_FILE(label_, path_, set_) \
  G_STMT_START { \
    BareOp op_ = { label_, OP_FILE, { 0, }, NULL, set_, FALSE, }; \
    op_.available = bare_open (&op_.file, path_); \
    g_array_append_val (ops, op_); \
  } G_STMT_END
#define ADD_STATVFS(label_, path_, set_) \
  G_STMT_START { \
    BareOp op_ = { label_, OP_STATVFS, { NULL, -1, 0 }, path_, set_, TRUE, }; \
    g_array_append_val (ops, op_); \
  } G_STMT_END

  bare_proc_init (&proc, "/proc");
  bare_proc_scan (&proc);

  ADD_FILE ("pread /proc/stat", "/proc/stat", SET_BASIC);
  ADD_FILE ("pread /proc/meminfo", "/proc/meminfo", SET_BASIC);
  ADD_FILE ("pread /proc/net/dev", "/proc/net/dev", SET_BASIC);
  ADD_FILE ("pread /proc/diskstats", "/proc/diskstats", SET_BASIC);
  ADD_STATVFS ("statvfs(\"/\")", "/", SET_BASIC);
  {
    char *label = g_strdup_printf ("readdir /proc + %u x pread PID/stat", proc.count);
    BareOp op = { label, OP_PROC_SCAN, { NULL, -1, 0 }, NULL, SET_BASIC, TRUE, };

    g_ptr_array_add (labels, label);
    g_array_append_val (ops, op);
  }
  ADD_FILE ("pread /proc/loadavg", "/proc/loadavg", SET_EXTRA);
  ADD_FILE ("pread /proc/cpuinfo", "/proc/cpuinfo", SET_EXTRA);
  ADD_FILE ("pread /proc/net/tcp", "/proc/net/tcp", SET_EXTRA);
  ADD_FILE ("pread /proc/net/tcp6", "/proc/net/tcp6", SET_EXTRA);
  ADD_FILE ("pread /proc/uptime", "/proc/uptime", SET_EXTRA);
  ADD_FILE ("pread /proc/sys/kernel/hostname", "/proc/sys/kernel/hostname", SET_EXTRA);
  for (guint i = 0; i < mounts->len; i++)
    {
      char *label = g_strdup_printf ("statvfs(\"%s\")", (char *) g_ptr_array_index (mounts, i));

      g_ptr_array_add (labels, label);
      ADD_STATVFS (label, g_ptr_array_index (mounts, i), SET_EXTRA);
    }
  /* Two cheaper sources of active_connections, for comparison. */
  ADD_FILE ("pread /proc/net/snmp (Tcp CurrEstab)", "/proc/net/snmp", SET_ALTERNATIVE);
  {
    BareOp op = { "sock_diag dump, established, v4+v6", OP_DIAG, { NULL, -1, 0 }, NULL,
                  SET_ALTERNATIVE, FALSE, };

    op.file.fd = socket (AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
    op.available = op.file.fd >= 0;
    g_array_append_val (ops, op);
  }
#undef ADD_FILE
#undef ADD_STATVFS

  /* The floor: every file the collectors read, each once, with TCP counted
   * from /proc/net/snmp (O(1)) instead of /proc/net/tcp and tcp6 (a walk of
   * the whole established hash, twice). */
  for (guint o = 0; o < ops->len; o++)
    {
      BareOp *op = &g_array_index (ops, BareOp, o);
      gboolean tcp_walk = op->kind == OP_FILE && g_str_has_prefix (op->file.path, "/proc/net/tcp");
      gboolean snmp = op->kind == OP_FILE && g_str_equal (op->file.path, "/proc/net/snmp");

      op->floor = ((op->set == SET_BASIC || op->set == SET_EXTRA) && !tcp_walk) || snmp;
    }

  if (!paced_only)
    {
      bench_bare ((BareOp *) ops->data, ops->len, &proc, n, &basic_stats, &all_stats);

      printf ("\nbare kernel reads (fds opened once, re-read with pread; %u iterations)\n", n);
      printf ("%-40s %9s %9s %9s\n", "read", "mean µs", "p50 µs", "p99 µs");
      print_rule ();
      for (guint o = 0; o < ops->len; o++)
        {
          BareOp *op = &g_array_index (ops, BareOp, o);

          if (!op->available)
            printf ("%-40s %9s\n", op->label, "absent");
          else
            printf ("%-40s %9.1f %9.1f %9.1f%s\n", op->label, op->stats.mean_us, op->stats.p50_us,
                    op->stats.p99_us,
                    op->set == SET_BASIC ? "" : op->set == SET_EXTRA ? "  (extra)" : "  (alternative)");
        }
      print_rule ();
      printf ("%-40s %9.1f %9.1f %9.1f\n", "basic set (first six), together",
              basic_stats.mean_us, basic_stats.p50_us, basic_stats.p99_us);
      printf ("%-40s %9.1f %9.1f %9.1f\n", "basic + extra, together",
              all_stats.mean_us, all_stats.p50_us, all_stats.p99_us);

      if (full->len > 0)
        printf ("\nA full sample costs %.0f µs (p50) vs %.0f µs of bare kernel reads "
                "(%.0f µs with every file the collectors read): %.2fx / %.2fx.\n",
                full_stats.p50_us, basic_stats.p50_us, all_stats.p50_us,
                full_stats.p50_us / basic_stats.p50_us, full_stats.p50_us / all_stats.p50_us);
    }

  if (paced_seconds > 0 && full->len > 0)
    {
      Paced floor = { 0, }, sample = { 0, };

      bench_paced ((BareOp *) ops->data, ops->len, &proc, (SondeCollector **) full->pdata,
                   full->len, rate, paced_seconds, &floor, &sample);
      printf ("\npaced: %d Hz for %d s, the floor and a full sample each tick, order alternating\n",
              rate, paced_seconds);
      printf ("(floor = every file the collectors read, once, kept open and pread, TCP from\n"
              " /proc/net/snmp CurrEstab, /proc scan with kept-open PID/stat; CPU = getrusage\n"
              " user+sys / samples; wall = time of the sample)\n");
      printf ("%-34s %12s %11s %11s %11s %9s\n",
              "", "CPU µs/smp", "wall p50", "wall mean", "wall p90", "allocs");
      print_rule ();
      print_paced ("kernel-read floor", &floor);
      print_paced ("full sample", &sample);
      print_rule ();
      printf ("%-34s %11.2fx %10.2fx\n", "full / floor",
              sample.cpu_us / MAX (floor.cpu_us, 1.0),
              compute_stats (sample.wall_us, sample.n).p50_us /
                MAX (compute_stats (floor.wall_us, floor.n).p50_us, 0.001));
      g_free (floor.wall_us);
      g_free (sample.wall_us);
    }

  for (guint o = 0; o < ops->len; o++)
    {
      BareOp *op = &g_array_index (ops, BareOp, o);

      if ((op->kind == OP_FILE || op->kind == OP_DIAG) && op->file.fd >= 0)
        close (op->file.fd);
    }
  bare_proc_clear (&proc);

  for (guint i = 0; i < collectors->len; i++)
    sonde_collector_stop (g_ptr_array_index (collectors, i));

  return EXIT_SUCCESS;
}
