/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <glib/gstdio.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>

#include "sonde.h"
#include "plugin-test-util.h"
#include "sonde-host-collector.h"
#include "sonde-host-parser.h"

static char *
fixture (const char *name,
         const char *what)
{
  return sonde_plugin_test_fixture ("host", name, what, NULL);
}

static int
fake_uname (struct utsname *buf)
{
  memset (buf, 0, sizeof *buf);
  g_strlcpy (buf->machine, "riscv64", sizeof buf->machine);
  return 0;
}

/* A collector on a fixture tree, with a fixed arch so the results do not depend on the host. */
static SondeCollector *
fixture_collector (const char *name)
{
  SondeCollector *collector = sonde_host_collector_new ();
  g_autofree char *proc = fixture (name, "proc");
  g_autofree char *os_release = fixture (name, "os-release");

  sonde_collector_set_proc_root (collector, proc);
  g_object_set (collector, "os-release-path", os_release, NULL);
  sonde_host_collector_set_uname_func (SONDE_HOST_COLLECTOR (collector), fake_uname);
  return collector;
}

static SondeSample *
collect (SondeCollector *collector)
{
  SondeSample *sample = sonde_plugin_test_collect (collector, "host");

  /* Exactly the fields of the contract, nothing more. */
  g_assert_cmpuint (json_object_get_size (sonde_sample_get_data (sample)), ==, 7);
  return sample;
}

static void
test_parser_os_release_quoted (void)
{
  SondeHostOsRelease release = { 0 };

  sonde_host_parse_os_release ("NAME=\"A \\\"b\\\" \\$c \\`d\\` e\\\\f g\\h\"\n"
                               "VERSION_ID='1 $x \\n'\n",
                               &release);
  g_assert_cmpstr (release.name, ==, "A \"b\" $c `d` e\\f g\\h");
  g_assert_cmpstr (release.version, ==, "1 $x \\n");
  sonde_host_os_release_clear (&release);

  /* Bare words take backslash escapes; surrounding blanks are not part of a value. */
  sonde_host_parse_os_release ("  NAME=Plain\\ Name   \r\nVERSION_ID=3.1\t\n", &release);
  g_assert_cmpstr (release.name, ==, "Plain Name");
  g_assert_cmpstr (release.version, ==, "3.1");
  sonde_host_os_release_clear (&release);

  /* An unterminated quote is shown as written rather than dropped. */
  sonde_host_parse_os_release ("NAME=\"Broken\n", &release);
  g_assert_cmpstr (release.name, ==, "\"Broken");
  sonde_host_os_release_clear (&release);

  /* Comments, keys that merely start like ours, and the last assignment wins. */
  sonde_host_parse_os_release ("# NAME=comment\nNAMES=no\nVERSION_IDS=no\nNAME=first\nNAME=second\n"
                               "noequals\n=\n",
                               &release);
  g_assert_cmpstr (release.name, ==, "second");
  g_assert_cmpstr (release.version, ==, "");
  sonde_host_os_release_clear (&release);
}

static void
test_parser_os_release_defaults (void)
{
  SondeHostOsRelease release = { 0 };

  /* os-release(5): NAME defaults to "Linux"; there is no default version. */
  sonde_host_parse_os_release ("", &release);
  g_assert_cmpstr (release.name, ==, "Linux");
  g_assert_cmpstr (release.version, ==, "");

  /* Parsing again replaces the previous values without leaking them. */
  sonde_host_parse_os_release ("NAME=\"\"\nVERSION=\"7 (Seven)\"\nVERSION_ID=\"\"\n", &release);
  g_assert_cmpstr (release.name, ==, "Linux");
  g_assert_cmpstr (release.version, ==, "7 (Seven)");

  sonde_host_parse_os_release ("VERSION_ID=8\nVERSION=\"8 (Eight)\"\n", &release);
  g_assert_cmpstr (release.version, ==, "8");
  sonde_host_os_release_clear (&release);
  sonde_host_os_release_clear (&release);
  g_assert_null (release.name);
}

static void
test_parser_proc (void)
{
  double uptime = -1;
  gint64 btime = -1;
  g_autofree char *line1 = NULL;
  g_autofree char *line2 = NULL;
  g_autofree char *line3 = NULL;

  g_assert_true (sonde_host_parse_uptime ("446.92 857.15\n", &uptime));
  g_assert_cmpfloat (uptime, ==, 446.92);
  g_assert_true (sonde_host_parse_uptime ("7 1\n", &uptime));
  g_assert_cmpfloat (uptime, ==, 7.0);
  uptime = 5;
  g_assert_false (sonde_host_parse_uptime ("", &uptime));
  g_assert_false (sonde_host_parse_uptime ("garbage\n", &uptime));
  g_assert_false (sonde_host_parse_uptime ("-1.0 2\n", &uptime));
  g_assert_false (sonde_host_parse_uptime ("nan 2\n", &uptime));
  g_assert_cmpfloat (uptime, ==, 5);

  g_assert_true (sonde_host_parse_btime ("cpu 1 2\nbtime 1795697056\nprocesses 3\n", &btime));
  g_assert_cmpint (btime, ==, 1795697056);
  g_assert_true (sonde_host_parse_btime ("btime 12", &btime));
  g_assert_cmpint (btime, ==, 12);
  g_assert_true (sonde_host_parse_btime ("\n\nbtime 13\n", &btime));
  g_assert_cmpint (btime, ==, 13);
  g_assert_false (sonde_host_parse_btime ("cpu 1\nxbtime 5\nbtimes 6\n", &btime));
  g_assert_false (sonde_host_parse_btime ("btime \n", &btime));
  g_assert_false (sonde_host_parse_btime ("", &btime));
  g_assert_cmpint (btime, ==, 13);

  line1 = sonde_host_parse_line ("vm\n");
  line2 = sonde_host_parse_line ("6.1.0-13-amd64\nsecond\n");
  line3 = sonde_host_parse_line ("");
  g_assert_cmpstr (line1, ==, "vm");
  g_assert_cmpstr (line2, ==, "6.1.0-13-amd64");
  g_assert_cmpstr (line3, ==, "");
}

static void
test_collector_recorded (void)
{
  g_autoptr(SondeCollector) collector = fixture_collector ("recorded");
  g_autoptr(SondeSample) sample = collect (collector);

  /* Values as recorded from the build machine (tests/fixtures/host/recorded). */
  g_assert_cmpstr (sonde_sample_get_string (sample, "hostname"), ==, "vm");
  g_assert_cmpstr (sonde_sample_get_string (sample, "os_name"), ==, "Debian GNU/Linux");
  g_assert_cmpstr (sonde_sample_get_string (sample, "os_version"), ==, "12");
  g_assert_cmpstr (sonde_sample_get_string (sample, "kernel"), ==, "6.18.44-fc-v769");
  g_assert_cmpstr (sonde_sample_get_string (sample, "arch"), ==, "riscv64");
  g_assert_cmpfloat_with_epsilon (sonde_sample_get_double (sample, "uptime_seconds"), 446.92, 1e-9);
  g_assert_cmpint (sonde_sample_get_int (sample, "boot_time"), ==, 1795697056);
}

static void
test_collector_quoted (void)
{
  g_autoptr(SondeCollector) collector = fixture_collector ("quoted");
  g_autoptr(SondeSample) sample = collect (collector);

  g_assert_cmpstr (sonde_sample_get_string (sample, "hostname"), ==, "example-host");
  g_assert_cmpstr (sonde_sample_get_string (sample, "os_name"), ==, "Ex\"ample\" $OS `v` a\\b c\\d");
  g_assert_cmpstr (sonde_sample_get_string (sample, "os_version"), ==, "2024.1 $beta \\n");
  g_assert_cmpstr (sonde_sample_get_string (sample, "kernel"), ==, "6.1.0-13-amd64");
  g_assert_cmpfloat_with_epsilon (sonde_sample_get_double (sample, "uptime_seconds"), 12345.67, 1e-9);
  g_assert_cmpint (sonde_sample_get_int (sample, "boot_time"), ==, 1700000000);
}

static void
test_collector_no_version_id (void)
{
  g_autoptr(SondeCollector) collector = fixture_collector ("no-version-id");
  g_autoptr(SondeSample) sample = collect (collector);

  g_assert_cmpstr (sonde_sample_get_string (sample, "hostname"), ==, "other-host");
  g_assert_cmpstr (sonde_sample_get_string (sample, "os_name"), ==, "Sevenix");
  g_assert_cmpstr (sonde_sample_get_string (sample, "os_version"), ==, "7 (Seven)");
  g_assert_cmpstr (sonde_sample_get_string (sample, "kernel"), ==, "5.10.0-28-arm64");
  g_assert_cmpfloat_with_epsilon (sonde_sample_get_double (sample, "uptime_seconds"), 0.5, 1e-9);
  g_assert_cmpint (sonde_sample_get_int (sample, "boot_time"), ==, 1600000000);
}

static void
test_collector_minimal (void)
{
  g_autoptr(SondeCollector) collector = fixture_collector ("minimal");
  g_autoptr(SondeSample) sample = collect (collector);

  /* No hostname file: the C library's idea of the hostname; no osrelease, no os-release file. */
  g_assert_cmpstr (sonde_sample_get_string (sample, "hostname"), ==, g_get_host_name ());
  g_assert_cmpstr (sonde_sample_get_string (sample, "kernel"), ==, "");
  g_assert_cmpstr (sonde_sample_get_string (sample, "os_name"), ==, "Linux");
  g_assert_cmpstr (sonde_sample_get_string (sample, "os_version"), ==, "");
  g_assert_cmpfloat_with_epsilon (sonde_sample_get_double (sample, "uptime_seconds"), 99.5, 1e-9);
  g_assert_cmpint (sonde_sample_get_int (sample, "boot_time"), ==, 1234567890);
}

static void
test_collector_broken (void)
{
  g_autoptr(SondeCollector) collector = fixture_collector ("broken");
  g_autoptr(GError) error = NULL;
  g_autoptr(SondeSample) sample = NULL;

  sample = sonde_collector_collect (collector, &error);
  g_assert_error (error, SONDE_ERROR, SONDE_ERROR_COLLECTOR_FAILED);
  g_assert_null (sample);
  g_clear_error (&error);

  /* A missing /proc/uptime is an error too, not a zero. */
  sonde_collector_set_proc_root (collector, "/nonexistent");
  sample = sonde_collector_collect (collector, &error);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_assert_null (sample);
}

static void
test_collector_switch_root (void)
{
  g_autoptr(SondeCollector) collector = fixture_collector ("recorded");
  g_autoptr(GError) error = NULL;
  g_autoptr(SondeSample) first = NULL;
  g_autoptr(SondeSample) second = NULL;
  g_autoptr(SondeSample) third = NULL;
  g_autofree char *quoted_proc = fixture ("quoted", "proc");
  g_autofree char *quoted_os_release = fixture ("quoted", "os-release");

  g_assert_true (sonde_collector_start (collector, &error));
  g_assert_no_error (error);
  first = collect (collector);
  g_assert_cmpint (sonde_sample_get_int (first, "boot_time"), ==, 1795697056);

  /* A new proc root reopens every file, including the ones read once. */
  sonde_collector_set_proc_root (collector, quoted_proc);
  second = collect (collector);
  g_assert_cmpstr (sonde_sample_get_string (second, "hostname"), ==, "example-host");
  g_assert_cmpstr (sonde_sample_get_string (second, "kernel"), ==, "6.1.0-13-amd64");
  g_assert_cmpint (sonde_sample_get_int (second, "boot_time"), ==, 1700000000);
  g_assert_cmpstr (sonde_sample_get_string (second, "os_name"), ==, "Debian GNU/Linux");

  /* A new os-release path is read at the next collection. */
  sonde_host_collector_set_os_release_path (SONDE_HOST_COLLECTOR (collector), quoted_os_release);
  g_assert_cmpstr (sonde_host_collector_get_os_release_path (SONDE_HOST_COLLECTOR (collector)), ==,
                   quoted_os_release);
  third = collect (collector);
  g_assert_cmpstr (sonde_sample_get_string (third, "os_version"), ==, "2024.1 $beta \\n");

  sonde_collector_stop (collector);
  g_assert_false (sonde_collector_get_running (collector));
}

static void
test_collector_hostname_changes (void)
{
  g_autoptr(SondeCollector) collector = sonde_host_collector_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *root = g_dir_make_tmp ("sonde-host-XXXXXX", &error);
  g_autofree char *kernel_dir = NULL;
  g_autofree char *hostname_path = NULL;
  g_autofree char *uptime_path = NULL;
  g_autofree char *stat_path = NULL;
  g_autoptr(SondeSample) before = NULL;
  g_autoptr(SondeSample) after = NULL;
  FILE *file;

  g_assert_no_error (error);
  kernel_dir = g_build_filename (root, "sys", "kernel", NULL);
  hostname_path = g_build_filename (kernel_dir, "hostname", NULL);
  uptime_path = g_build_filename (root, "uptime", NULL);
  stat_path = g_build_filename (root, "stat", NULL);
  g_assert_cmpint (g_mkdir_with_parents (kernel_dir, 0700), ==, 0);
  g_assert_true (g_file_set_contents (hostname_path, "first\n", -1, NULL));
  g_assert_true (g_file_set_contents (uptime_path, "1.0 1.0\n", -1, NULL));
  g_assert_true (g_file_set_contents (stat_path, "btime 10\n", -1, NULL));

  sonde_collector_set_proc_root (collector, root);
  g_assert_true (sonde_collector_start (collector, &error));
  before = collect (collector);
  g_assert_cmpstr (sonde_sample_get_string (before, "hostname"), ==, "first");

  /* Rewritten in place, as the kernel's file changes under the kept-open descriptor. */
  file = fopen (hostname_path, "w");
  g_assert_nonnull (file);
  fputs ("renamed\n", file);
  fclose (file);
  file = fopen (uptime_path, "w");
  g_assert_nonnull (file);
  fputs ("2.5 1.0\n", file);
  fclose (file);

  after = collect (collector);
  g_assert_cmpstr (sonde_sample_get_string (after, "hostname"), ==, "renamed");
  g_assert_cmpfloat (sonde_sample_get_double (after, "uptime_seconds"), ==, 2.5);
  sonde_collector_stop (collector);

  g_remove (hostname_path);
  g_remove (uptime_path);
  g_remove (stat_path);
  g_rmdir (kernel_dir);
  *strrchr (kernel_dir, '/') = '\0';
  g_rmdir (kernel_dir);
  g_rmdir (root);
}

static void
test_collector_catalog (void)
{
  static const SondePluginTestMetric expected[] = {
    { "hostname", "", SONDE_METRIC_KIND_INFO },
    { "os_name", "", SONDE_METRIC_KIND_INFO },
    { "os_version", "", SONDE_METRIC_KIND_INFO },
    { "kernel", "", SONDE_METRIC_KIND_INFO },
    { "arch", "", SONDE_METRIC_KIND_INFO },
    { "uptime_seconds", "seconds", SONDE_METRIC_KIND_COUNTER },
    { "boot_time", "seconds", SONDE_METRIC_KIND_GAUGE },
  };
  g_autoptr(SondeCollector) collector = sonde_host_collector_new ();

  sonde_plugin_test_assert_catalog (collector, "host", expected, G_N_ELEMENTS (expected), FALSE);
}

static void
test_collector_live (void)
{
  g_autoptr(SondeCollector) collector = sonde_host_collector_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(SondeSample) sample = NULL;
  g_autofree char *hostname = NULL;
  struct utsname uts;
  double uptime;
  gint64 boot_time;
  double now;

  g_assert_true (sonde_collector_start (collector, &error));
  g_assert_no_error (error);
  sample = collect (collector);
  g_assert_cmpint (uname (&uts), ==, 0);

  if (g_file_get_contents ("/proc/sys/kernel/hostname", &hostname, NULL, NULL))
    g_strchomp (hostname);
  else
    hostname = g_strdup (g_get_host_name ());
  g_assert_cmpstr (sonde_sample_get_string (sample, "hostname"), ==, hostname);
  g_assert_cmpstr (sonde_sample_get_string (sample, "kernel"), ==, uts.release);
  g_assert_cmpstr (sonde_sample_get_string (sample, "arch"), ==, uts.machine);
  g_assert_cmpstr (sonde_sample_get_string (sample, "os_name"), !=, "");
  g_assert_nonnull (sonde_sample_get_string (sample, "os_version"));

  /* The kernel derives btime from the same clock as the uptime: they agree to the second. */
  uptime = sonde_sample_get_double (sample, "uptime_seconds");
  boot_time = sonde_sample_get_int (sample, "boot_time");
  now = g_get_real_time () / (double) G_USEC_PER_SEC;
  g_assert_cmpfloat (uptime, >, 0);
  g_assert_cmpfloat (fabs (now - uptime - boot_time), <=, 2.0);

  sonde_collector_stop (collector);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/host/parser/os-release/quoted", test_parser_os_release_quoted);
  g_test_add_func ("/host/parser/os-release/defaults", test_parser_os_release_defaults);
  g_test_add_func ("/host/parser/proc", test_parser_proc);
  g_test_add_func ("/host/collector/recorded", test_collector_recorded);
  g_test_add_func ("/host/collector/quoted", test_collector_quoted);
  g_test_add_func ("/host/collector/no-version-id", test_collector_no_version_id);
  g_test_add_func ("/host/collector/minimal", test_collector_minimal);
  g_test_add_func ("/host/collector/broken", test_collector_broken);
  g_test_add_func ("/host/collector/switch-root", test_collector_switch_root);
  g_test_add_func ("/host/collector/hostname-changes", test_collector_hostname_changes);
  g_test_add_func ("/host/collector/catalog", test_collector_catalog);
  g_test_add_func ("/host/collector/live", test_collector_live);

  return g_test_run ();
}
