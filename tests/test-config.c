/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <string.h>

#include "sonde.h"
#include "sonde-config.h"

/* sonded's configuration, loaded from text: what tests/dbus/test_config.py
 * checks through the daemon, for the inputs tests/fuzz/fuzz-config found. */

#define PATH "/etc/sonde/sonde.conf"

static SondeConfig *
load (const char  *text,
      GError     **error)
{
  g_autoptr(SondeConfig) config = sonde_config_new ();

  if (!sonde_config_load_from_data (config, PATH, text, -1, error))
    return NULL;
  return g_steal_pointer (&config);
}

static void
test_example (void)
{
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "..", "data", "sonde.conf.example", NULL);
  g_autofree char *text = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(SondeConfig) config = NULL;

  g_assert_true (g_file_get_contents (path, &text, NULL, &error));
  config = load (text, &error);
  g_assert_no_error (error);
  g_assert_nonnull (config);
  g_assert_cmpstr (config->path, ==, PATH);
}

static void
test_escapes (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(SondeConfig) config = NULL;

  config = load ("[server]\ntoken=a\\sb\\\\c\n[logs]\nfiles=/var/log/a\\;b;/var/log/c\n", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (config->token, ==, "a b\\c");
  g_assert_cmpstrv (config->log_files, ((const char * const []) { "/var/log/a;b", "/var/log/c", NULL }));
}

/* Found by tests/fuzz/fuzz-config: GLib 2.74 sets its GError twice, with
 * a warning (fatal here), on an invalid escape followed by a backslash at
 * the end; and an invalid escape in a list made the list silently
 * empty. Each is now an error that names the escape. */
static void
test_bad_escapes (void)
{
  static const struct {
    const char *text;
    const char *message;
  } cases[] = {
    { "[logs]\nfiles=\\]\\\n", PATH ": [logs] files: “\\]” is not an escape sequence" },
    { "[logs]\nfiles=/var/log/a\\x\n", PATH ": [logs] files: “\\x” is not an escape sequence" },
    { "[logs]\nallowed-paths=/var/log;\\\n", PATH ": [logs] allowed-paths: “\\” is not an escape sequence" },
    { "[server]\ntoken=a\\x\\\n", PATH ": [server] token: “\\x” is not an escape sequence" },
    { "[server]\ntoken=a\\;b\n", PATH ": [server] token: “\\;” is not an escape sequence" },
    { "[alert a]\nmetric=cpu.cores\nabove=1\nmessage=\\é\n", PATH ": [alert a] message: “\\é” is not an escape sequence" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(SondeConfig) config = load (cases[i].text, &error);

      g_assert_null (config);
      g_assert_error (error, SONDE_CONFIG_ERROR, SONDE_CONFIG_ERROR_INVALID);
      g_assert_true (g_str_has_prefix (error->message, cases[i].message));
    }
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/config/example", test_example);
  g_test_add_func ("/config/escapes", test_escapes);
  g_test_add_func ("/config/bad-escapes", test_bad_escapes);

  return g_test_run ();
}
