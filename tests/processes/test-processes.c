/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sonde.h"
#include "plugin-test-util.h"

#include "sonde-processes-collector.h"
#include "sonde-processes-parser.h"

#define EPSILON 1e-9

/* MemTotal of every fixture tree (make-fixtures.py). */
#define FIXTURE_MEM_TOTAL (8000000.0 * 1024)

static char *
fixture (const char *name)
{
  return sonde_plugin_test_fixture ("processes", name, "proc", NULL);
}

#define fake_now sonde_plugin_test_now

static SondeCollector *
new_collector (const char *case_name)
{
  SondeCollector *collector = sonde_processes_collector_new ();
  g_autofree char *root = fixture (case_name);

  sonde_collector_set_proc_root (collector, root);
  _sonde_processes_collector_set_clock (SONDE_PROCESSES_COLLECTOR (collector), sonde_plugin_test_clock, NULL);
  return collector;
}

static SondeSample *
collect (SondeCollector *collector)
{
  SondeSample *sample = sonde_plugin_test_collect (collector, "processes");
  JsonObject *data;

  data = sonde_sample_get_data (sample);
  g_assert_cmpint (json_object_get_size (data), ==, 4);
  g_assert_true (json_object_has_member (data, "count"));
  g_assert_true (json_object_has_member (data, "running"));
  g_assert_true (json_object_has_member (data, "top_memory"));
  g_assert_true (json_object_has_member (data, "top_cpu"));
  return sample;
}

static JsonArray *
get_array (SondeSample *sample,
           const char  *field)
{
  return json_object_get_array_member (sonde_sample_get_data (sample), field);
}

static void
assert_top_memory (SondeSample *sample,
                   guint        index,
                   gint64       pid,
                   const char  *name,
                   guint64      rss_pages)
{
  JsonObject *item = json_array_get_object_element (get_array (sample, "top_memory"), index);
  double rss = rss_pages * (double) sysconf (_SC_PAGESIZE);

  g_assert_cmpint (json_object_get_size (item), ==, 4);
  g_assert_cmpint (json_object_get_int_member (item, "pid"), ==, pid);
  g_assert_cmpstr (json_object_get_string_member (item, "name"), ==, name);
  g_assert_cmpint (json_object_get_int_member (item, "rss_bytes"), ==, (gint64) rss);
  g_assert_cmpfloat_with_epsilon (json_object_get_double_member (item, "memory_percent"),
                                  rss / FIXTURE_MEM_TOTAL * 100.0, EPSILON);
}

static void
assert_top_cpu (SondeSample *sample,
                guint        index,
                gint64       pid,
                const char  *name,
                double       cpu_percent)
{
  JsonObject *item = json_array_get_object_element (get_array (sample, "top_cpu"), index);

  g_assert_cmpint (json_object_get_size (item), ==, 3);
  g_assert_cmpint (json_object_get_int_member (item, "pid"), ==, pid);
  g_assert_cmpstr (json_object_get_string_member (item, "name"), ==, name);
  g_assert_cmpfloat_with_epsilon (json_object_get_double_member (item, "cpu_percent"), cpu_percent, EPSILON);
}

static void
test_parse_stat (void)
{
  static const struct { const char *line; const char *name; char state; } cases[] = {
    { "812 ((sd-pam)) S 1 812 812 0 -1 4194560 1000 0 2 0 11 22 7 3 20 0 1 0 900 123456789 500 1 2 3\n",
      "(sd-pam)", 'S' },
    { "1500 (tmux: server) S 1 812 812 0 -1 4194560 1000 0 2 0 11 22 7 3 20 0 1 0 900 123456789 500 1\n",
      "tmux: server", 'S' },
    { "2001 (a) b (c) R 1 812 812 0 -1 4194560 1000 0 2 0 11 22 7 3 20 0 1 0 900 123456789 500 1",
      "a) b (c", 'R' },
    { "7 () Z 1 812 812 0 -1 4194560 1000 0 2 0 11 22 7 3 -20 -5 1 0 900 123456789 500 1\n", "", 'Z' },
  };
  static const char * const bad[] = {
    "",
    "123",
    "123 (name",
    "123 (name) S 1 2 3\n",      /* truncated */
    "123 (name)S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22\n",
    "123 (name) S 1 812 812 0 -1 4194560 1000 0 2 0 x 22 7 3 20 0 1 0 900 123456789 500\n",
  };
  g_autofree char *long_line = NULL;
  g_autofree char *long_name = g_strnfill (200, 'n');
  SondeProcStat st;

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      memset (&st, 0xaa, sizeof st);
      g_assert_true (sonde_proc_parse_stat (cases[i].line, strlen (cases[i].line), &st));
      g_assert_cmpstr (st.name, ==, cases[i].name);
      g_assert_cmpint (st.state, ==, cases[i].state);
      g_assert_cmpuint (st.utime, ==, 11);
      g_assert_cmpuint (st.stime, ==, 22);
      g_assert_cmpuint (st.start_time, ==, 900);
      g_assert_cmpuint (st.rss_pages, ==, 500);
    }

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    g_assert_false (sonde_proc_parse_stat (bad[i], strlen (bad[i]), &st));
  /* Found by tests/fuzz/fuzz-proc-processes: NULL + 0 was computed
   * before NULL was checked, undefined behaviour (UBSan). */
  g_assert_false (sonde_proc_parse_stat (NULL, 0, &st));

  /* Longer names than the kernel prints are truncated, not overflowed. */
  long_line = g_strdup_printf ("9 (%s) S 1 1 1 0 -1 0 0 0 0 0 1 2 0 0 20 0 1 0 3 0 4 0\n", long_name);
  g_assert_true (sonde_proc_parse_stat (long_line, strlen (long_line), &st));
  g_assert_cmpuint (strlen (st.name), ==, SONDE_PROC_NAME_MAX - 1);
  g_assert_cmpuint (st.rss_pages, ==, 4);
}

static void
test_parse_meminfo (void)
{
  guint64 total = 0;

  g_assert_true (sonde_proc_parse_mem_total ("MemTotal:       24683656 kB\nMemFree: 1 kB\n", &total));
  g_assert_cmpuint (total, ==, G_GUINT64_CONSTANT (24683656) * 1024);
  g_assert_true (sonde_proc_parse_mem_total ("Foo: 1 kB\nMemTotal: 2 kB", &total));
  g_assert_cmpuint (total, ==, 2048);
  g_assert_false (sonde_proc_parse_mem_total ("SwapTotal: 2 kB\n", &total));
  g_assert_false (sonde_proc_parse_mem_total ("", &total));

  /* Found by tests/fuzz/fuzz-proc-processes: 2^54 KiB is 2^64 bytes,
   * which wrapped to a MemTotal of 0 that the collector divided by. */
  g_assert_true (sonde_proc_parse_mem_total ("MemTotal: 18014398509481983 kB\n", &total));
  g_assert_cmpuint (total, ==, G_GUINT64_CONSTANT (18014398509481983) * 1024);
  g_assert_false (sonde_proc_parse_mem_total ("MemTotal: 18014398509481984 kB\n", &total));
  g_assert_false (sonde_proc_parse_mem_total ("MemTotal: 88888888888888888888888885888888800 kB\n", &total));
}

static void
test_parse_pid (void)
{
  int pid = 0;

  g_assert_true (sonde_proc_is_pid ("1", &pid));
  g_assert_cmpint (pid, ==, 1);
  g_assert_true (sonde_proc_is_pid ("4194304", &pid));
  g_assert_cmpint (pid, ==, 4194304);
  g_assert_false (sonde_proc_is_pid ("", &pid));
  g_assert_false (sonde_proc_is_pid ("self", &pid));
  g_assert_false (sonde_proc_is_pid ("12a", &pid));
  g_assert_false (sonde_proc_is_pid ("99999999999", &pid));
}

/* pids 1, 812, 1500, 2001, 4000 are readable; 3000 has an empty stat and
 * 3001 none (both exited mid-scan); sys/ and net/ are not processes. */
static void
test_tree (void)
{
  g_autoptr(SondeCollector) collector = new_collector ("tree");
  g_autoptr(SondeSample) sample = NULL;
  JsonArray *top_cpu;

  fake_now = 1;
  sample = collect (collector);

  /* psutil.pids() counts the exited ones too: they were listed. */
  g_assert_cmpint (sonde_sample_get_int (sample, "count"), ==, 7);
  g_assert_cmpint (sonde_sample_get_int (sample, "running"), ==, 2);

  g_assert_cmpuint (json_array_get_length (get_array (sample, "top_memory")), ==, 5);
  assert_top_memory (sample, 0, 4000, "Web Content", 250000);
  assert_top_memory (sample, 1, 1, "systemd", 3000);
  assert_top_memory (sample, 2, 1500, "tmux: server", 1200);
  assert_top_memory (sample, 3, 812, "(sd-pam)", 500);
  assert_top_memory (sample, 4, 2001, "a) b (c", 100);

  /* First sample: nobody has a CPU percentage yet; ties go by pid. */
  top_cpu = get_array (sample, "top_cpu");
  g_assert_cmpuint (json_array_get_length (top_cpu), ==, 5);
  assert_top_cpu (sample, 0, 1, "systemd", 0.0);
  assert_top_cpu (sample, 1, 812, "(sd-pam)", 0.0);
  assert_top_cpu (sample, 2, 1500, "tmux: server", 0.0);
  assert_top_cpu (sample, 3, 2001, "a) b (c", 0.0);
  assert_top_cpu (sample, 4, 4000, "Web Content", 0.0);

  /* The five readable stat files are kept open; not the empty one. */
  g_assert_cmpuint (_sonde_processes_collector_get_open_files (SONDE_PROCESSES_COLLECTOR (collector)), ==, 5);
}

static void
test_top_n (void)
{
  g_autoptr(SondeCollector) collector = new_collector ("tree");
  g_autoptr(SondeSample) sample = NULL;
  guint top_n = 0;

  g_object_get (collector, "top-n", &top_n, NULL);
  g_assert_cmpuint (top_n, ==, 5);

  g_object_set (collector, "top-n", 3, NULL);
  g_assert_cmpuint (sonde_processes_collector_get_top_n (SONDE_PROCESSES_COLLECTOR (collector)), ==, 3);
  sample = collect (collector);
  g_assert_cmpuint (json_array_get_length (get_array (sample, "top_memory")), ==, 3);
  g_assert_cmpuint (json_array_get_length (get_array (sample, "top_cpu")), ==, 3);
  assert_top_memory (sample, 2, 1500, "tmux: server", 1200);
  g_clear_pointer (&sample, sonde_sample_unref);

  /* More than there are processes: all of them. */
  g_object_set (collector, "top-n", 100, NULL);
  sample = collect (collector);
  g_assert_cmpuint (json_array_get_length (get_array (sample, "top_memory")), ==, 5);
  g_assert_cmpuint (json_array_get_length (get_array (sample, "top_cpu")), ==, 5);
}

static void
test_cpu_percent (void)
{
  g_autoptr(SondeCollector) collector = new_collector ("cpu-t0");
  g_autoptr(SondeSample) s0 = NULL;
  g_autoptr(SondeSample) s1 = NULL;
  g_autofree char *t1 = fixture ("cpu-t1");
  /* Seconds per clock tick, over 2 s, in percent: 100 % per 2*CLK_TCK ticks. */
  double per_tick = 100.0 / sysconf (_SC_CLK_TCK) / 2.0;

  fake_now = 10 * G_USEC_PER_SEC;
  s0 = collect (collector);
  g_assert_cmpint (sonde_sample_get_int (s0, "count"), ==, 5);
  g_assert_cmpint (sonde_sample_get_int (s0, "running"), ==, 2);

  sonde_collector_set_proc_root (collector, t1);
  fake_now += 2 * G_USEC_PER_SEC;
  s1 = collect (collector);
  g_assert_cmpint (sonde_sample_get_int (s1, "count"), ==, 5);

  /* With CLK_TCK 100: 30 used 400 ticks in 2 s = 200 % (two cores),
   * 10 used 200 = 100 %, 20 used 1 = 0.5 %. 50 is a reused pid (new start
   * time) and 60 is new: 0, ordered by pid. 40 exited. */
  g_assert_cmpuint (json_array_get_length (get_array (s1, "top_cpu")), ==, 5);
  assert_top_cpu (s1, 0, 30, "threads", 400 * per_tick);
  assert_top_cpu (s1, 1, 10, "busy", 200 * per_tick);
  assert_top_cpu (s1, 2, 20, "idle", 1 * per_tick);
  assert_top_cpu (s1, 3, 50, "new", 0.0);
  assert_top_cpu (s1, 4, 60, "born", 0.0);

  assert_top_memory (s1, 0, 60, "born", 700);
  assert_top_memory (s1, 1, 50, "new", 600);
  assert_top_memory (s1, 4, 10, "busy", 100);
}

/* The open/read/close path beyond the kept-open bound gives the same data. */
static void
test_fd_bound (void)
{
  g_autoptr(SondeCollector) collector = new_collector ("cpu-t0");
  SondeProcessesCollector *self = SONDE_PROCESSES_COLLECTOR (collector);
  g_autoptr(SondeSample) s0 = NULL;
  g_autoptr(SondeSample) s1 = NULL;
  g_autofree char *t1 = fixture ("cpu-t1");
  g_autoptr(GError) error = NULL;
  double per_tick = 100.0 / sysconf (_SC_CLK_TCK) / 2.0;

  _sonde_processes_collector_set_max_open_files (self, 2);
  g_assert_true (sonde_collector_start (collector, &error));
  g_assert_no_error (error);

  fake_now = 0;
  s0 = collect (collector);
  g_assert_cmpuint (_sonde_processes_collector_get_open_files (self), ==, 2);

  sonde_collector_set_proc_root (collector, t1);
  fake_now += 2 * G_USEC_PER_SEC;
  s1 = collect (collector);
  g_assert_cmpuint (_sonde_processes_collector_get_open_files (self), ==, 2);
  assert_top_cpu (s1, 0, 30, "threads", 400 * per_tick);
  assert_top_cpu (s1, 1, 10, "busy", 200 * per_tick);
  assert_top_cpu (s1, 2, 20, "idle", 1 * per_tick);

  sonde_collector_stop (collector);
  g_assert_cmpuint (_sonde_processes_collector_get_open_files (self), ==, 0);
}

static void
copy_tree (const char *src,
           const char *dst)
{
  g_autoptr(GDir) dir = g_dir_open (src, 0, NULL);
  const char *name;

  g_assert_nonnull (dir);
  g_assert_cmpint (g_mkdir_with_parents (dst, 0755), ==, 0);
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *from = g_build_filename (src, name, NULL);
      g_autofree char *to = g_build_filename (dst, name, NULL);

      if (g_file_test (from, G_FILE_TEST_IS_DIR))
        copy_tree (from, to);
      else
        {
          g_autofree char *contents = NULL;
          gsize length;

          g_assert_true (g_file_get_contents (from, &contents, &length, NULL));
          g_assert_true (g_file_set_contents (to, contents, length, NULL));
        }
    }
}

static void
rm_tree (const char *path)
{
  if (g_file_test (path, G_FILE_TEST_IS_DIR))
    {
      g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
      const char *name;

      while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
        {
          g_autofree char *child = g_build_filename (path, name, NULL);

          rm_tree (child);
        }
      g_rmdir (path);
    }
  else
    g_remove (path);
}

/* A process whose kept-open stat reads empty has exited: skipped silently,
 * and its fd is released. */
static void
test_exits_between_ticks (void)
{
  g_autoptr(SondeCollector) collector = sonde_processes_collector_new ();
  SondeProcessesCollector *self = SONDE_PROCESSES_COLLECTOR (collector);
  g_autoptr(SondeSample) s0 = NULL;
  g_autoptr(SondeSample) s1 = NULL;
  g_autofree char *src = fixture ("tree");
  g_autofree char *tmp = g_dir_make_tmp ("sonde-processes-XXXXXX", NULL);
  g_autofree char *root = g_build_filename (tmp, "proc", NULL);
  g_autofree char *stat_path = g_build_filename (root, "4000", "stat", NULL);

  copy_tree (src, root);
  sonde_collector_set_proc_root (collector, root);
  s0 = collect (collector);
  g_assert_cmpuint (_sonde_processes_collector_get_open_files (self), ==, 5);

  /* In place: the collector holds the file open. */
  g_assert_cmpint (truncate (stat_path, 0), ==, 0);
  s1 = collect (collector);
  g_assert_cmpint (sonde_sample_get_int (s1, "count"), ==, 7);
  g_assert_cmpint (sonde_sample_get_int (s1, "running"), ==, 1);
  g_assert_cmpuint (json_array_get_length (get_array (s1, "top_memory")), ==, 4);
  assert_top_memory (s1, 0, 1, "systemd", 3000);
  g_assert_cmpuint (_sonde_processes_collector_get_open_files (self), ==, 4);

  g_clear_object (&collector);
  rm_tree (tmp);
}

static pid_t
spawn_sleeper (const char *name)
{
  pid_t child = fork ();

  g_assert_cmpint (child, >=, 0);
  if (child == 0)
    {
      /* If an assertion kills the test, do not outlive it holding its
       * output pipe open (the harness would wait for EOF). */
      prctl (PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
      close (STDOUT_FILENO);
      close (STDERR_FILENO);
      prctl (PR_SET_NAME, name, 0, 0, 0);
      for (;;)
        pause ();
    }
  return child;
}

static void
reap (pid_t child)
{
  int status;

  kill (child, SIGKILL);
  g_assert_cmpint (waitpid (child, &status, 0), ==, child);
}

static gboolean
has_name (pid_t       pid,
          const char *name)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/stat", pid);
  g_autofree char *contents = NULL;
  g_autofree char *needle = g_strdup_printf ("(%s)", name);

  return g_file_get_contents (path, &contents, NULL, NULL) && strstr (contents, needle) != NULL;
}

/*
 * Pid reuse: a kept-open /proc/PID/stat of a process that was reaped fails
 * with ESRCH even if the pid now belongs to another process. The fixture
 * root holds "777", a symlink to a live process's /proc directory; it is
 * re-pointed to another process as if pid 777 had been reused.
 */
static void
test_pid_reuse (void)
{
  g_autoptr(SondeCollector) collector = sonde_processes_collector_new ();
  SondeProcessesCollector *self = SONDE_PROCESSES_COLLECTOR (collector);
  g_autoptr(SondeSample) s0 = NULL;
  g_autoptr(SondeSample) s1 = NULL;
  g_autofree char *root = g_dir_make_tmp ("sonde-processes-XXXXXX", NULL);
  g_autofree char *link = g_build_filename (root, "777", NULL);
  g_autofree char *meminfo = g_build_filename (root, "meminfo", NULL);
  g_autofree char *target = NULL;
  pid_t first, second;

  if (!g_file_test ("/proc/self/stat", G_FILE_TEST_EXISTS))
    {
      g_test_skip ("no /proc");
      return;
    }

  g_assert_true (g_file_set_contents (meminfo, "MemTotal: 8000000 kB\n", -1, NULL));
  first = spawn_sleeper ("first");
  second = spawn_sleeper ("second");
  while (!has_name (first, "first") || !has_name (second, "second"))
    g_usleep (1000);

  target = g_strdup_printf ("/proc/%d", first);
  g_assert_cmpint (symlink (target, link), ==, 0);
  sonde_collector_set_proc_root (collector, root);
  fake_now = 0;
  _sonde_processes_collector_set_clock (self, sonde_plugin_test_clock, NULL);
  s0 = collect (collector);
  g_assert_cmpuint (_sonde_processes_collector_get_open_files (self), ==, 1);
  assert_top_cpu (s0, 0, 777, "first", 0.0);

  reap (first);
  g_remove (link);
  g_free (target);
  target = g_strdup_printf ("/proc/%d", second);
  g_assert_cmpint (symlink (target, link), ==, 0);

  fake_now += G_USEC_PER_SEC;
  s1 = collect (collector);
  g_assert_cmpint (sonde_sample_get_int (s1, "count"), ==, 1);
  g_assert_cmpuint (json_array_get_length (get_array (s1, "top_cpu")), ==, 1);
  /* Reopened, and seen as a new process: no CPU share from the old one's. */
  assert_top_cpu (s1, 0, 777, "second", 0.0);
  g_assert_cmpuint (_sonde_processes_collector_get_open_files (self), ==, 1);

  reap (second);
  g_clear_object (&collector);
  g_remove (link);
  g_remove (meminfo);
  g_rmdir (root);
}

static JsonObject *
find_pid (JsonArray *array,
          gint64     pid)
{
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonObject *item = json_array_get_object_element (array, i);

      if (json_object_get_int_member (item, "pid") == pid)
        return item;
    }
  return NULL;
}

static void
test_live (void)
{
  g_autoptr(SondeCollector) collector = sonde_processes_collector_new ();
  g_autoptr(SondeSample) s0 = NULL;
  g_autoptr(SondeSample) s1 = NULL;
  g_autoptr(GError) error = NULL;
  JsonArray *top_memory, *top_cpu;
  JsonObject *me;
  double max_cpu = 100.0 * g_get_num_processors ();
  gint64 until;
  pid_t child;

  if (!g_file_test ("/proc/self/stat", G_FILE_TEST_EXISTS))
    {
      g_test_skip ("no /proc");
      return;
    }

  /* A child that exits between two ticks disappears without fuss. */
  child = spawn_sleeper ("sleeper");

  g_object_set (collector, "top-n", 100, NULL);
  g_assert_true (sonde_collector_start (collector, &error));
  g_assert_no_error (error);
  s0 = collect (collector);

  reap (child);

  /* Burn CPU so that this process has a measurable share. */
  until = g_get_monotonic_time () + G_USEC_PER_SEC / 5;
  while (g_get_monotonic_time () < until)
    ;
  s1 = collect (collector);
  sonde_collector_stop (collector);

  g_assert_cmpint (sonde_sample_get_int (s1, "count"), >, 1);
  g_assert_cmpint (sonde_sample_get_int (s1, "running"), >=, 1);   /* us */
  g_assert_cmpint (sonde_sample_get_int (s1, "running"), <=, sonde_sample_get_int (s1, "count"));

  top_memory = get_array (s1, "top_memory");
  top_cpu = get_array (s1, "top_cpu");
  g_assert_cmpuint (json_array_get_length (top_memory), >, 0);
  g_assert_cmpuint (json_array_get_length (top_memory), <=, 100);
  for (guint i = 0; i < json_array_get_length (top_memory); i++)
    {
      JsonObject *item = json_array_get_object_element (top_memory, i);
      double percent = json_object_get_double_member (item, "memory_percent");

      g_assert_cmpfloat (percent, >=, 0.0);
      g_assert_cmpfloat (percent, <=, 100.0);
      g_assert_cmpint (json_object_get_int_member (item, "rss_bytes"), >=, 0);
      g_assert_cmpint (json_object_get_int_member (item, "pid"), !=, child);
      if (i > 0)
        g_assert_cmpint (json_object_get_int_member (item, "rss_bytes"), <=,
                         json_object_get_int_member (json_array_get_object_element (top_memory, i - 1),
                                                     "rss_bytes"));
    }
  for (guint i = 0; i < json_array_get_length (top_cpu); i++)
    {
      JsonObject *item = json_array_get_object_element (top_cpu, i);
      double percent = json_object_get_double_member (item, "cpu_percent");

      g_assert_cmpfloat (percent, >=, 0.0);
      /* Clock ticks against a slightly earlier clock reading: allow 10 %. */
      g_assert_cmpfloat (percent, <=, max_cpu * 1.1);
    }

  me = find_pid (top_cpu, getpid ());
  if (me != NULL)
    {
      g_assert_cmpfloat (json_object_get_double_member (me, "cpu_percent"), >, 0.0);
      g_assert_cmpfloat (json_object_get_double_member (me, "cpu_percent"), <=, 110.0);
    }
  else
    g_test_message ("this process is not among the 100 busiest");
}

static void
test_missing_root (void)
{
  g_autoptr(SondeCollector) collector = sonde_processes_collector_new ();

  sonde_plugin_test_assert_missing_proc (collector, "/nonexistent", TRUE);
}

static void
test_catalog (void)
{
  static const SondePluginTestMetric expected[] = {
    { "count", "count", SONDE_METRIC_KIND_GAUGE },
    { "running", "count", SONDE_METRIC_KIND_GAUGE },
    { "top_memory", "", SONDE_METRIC_KIND_TABLE },
    { "top_cpu", "", SONDE_METRIC_KIND_TABLE },
  };
  g_autoptr(SondeCollector) collector = sonde_processes_collector_new ();

  sonde_plugin_test_assert_catalog (collector, "processes", expected, G_N_ELEMENTS (expected), FALSE);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/processes/parse/stat", test_parse_stat);
  g_test_add_func ("/processes/parse/meminfo", test_parse_meminfo);
  g_test_add_func ("/processes/parse/pid", test_parse_pid);
  g_test_add_func ("/processes/collect/tree", test_tree);
  g_test_add_func ("/processes/collect/top-n", test_top_n);
  g_test_add_func ("/processes/collect/cpu-percent", test_cpu_percent);
  g_test_add_func ("/processes/collect/fd-bound", test_fd_bound);
  g_test_add_func ("/processes/collect/exits-between-ticks", test_exits_between_ticks);
  g_test_add_func ("/processes/collect/pid-reuse", test_pid_reuse);
  g_test_add_func ("/processes/collect/missing-root", test_missing_root);
  g_test_add_func ("/processes/catalog", test_catalog);
  g_test_add_func ("/processes/live", test_live);

  return g_test_run ();
}
