/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* sonde_server_get_node_id() tells what [resolvix] node-id did. */
#define SONDE_DISABLE_DEPRECATION_WARNINGS
#include "sonde-test-util.h"

/* The format table: what every format maps to exists, and the server's
 * configuration reaches the formats through it. */

/* Each compatibility format maps its fields to catalog metrics; a metric
 * renamed in a plugin must not silently turn a field into null. */
static void
test_formats_metrics_in_catalog (void)
{
  g_autoptr(SondeEngine) engine = sonde_engine_new ();
  const SondeFormat * const *formats = _sonde_formats_get ();
  guint n_checked = 0;

  g_assert_cmpuint (sonde_engine_load_plugins (engine, NULL), >=, 7);

  for (guint i = 0; formats[i] != NULL; i++)
    {
      const char * const *metrics;

      if (formats[i]->list_catalog_metrics == NULL)
        continue;

      metrics = formats[i]->list_catalog_metrics ();
      for (guint j = 0; metrics[j] != NULL; j++, n_checked++)
        if (sonde_engine_lookup_metric (engine, metrics[j]) == NULL)
          g_error ("%s maps a field to %s, which is not in the catalog", formats[i]->name, metrics[j]);
    }

  /* ziggie's 3, kairos' 6, resolvix's 22 and servercontrol's 3 at least. */
  g_assert_cmpuint (n_checked, >=, 34);
}

/* Every listener of the table can be opened by name, and names are unique. */
static void
test_formats_listener_names (void)
{
  const SondeFormat * const *formats = _sonde_formats_get ();
  g_autoptr(GHashTable) names = g_hash_table_new (g_str_hash, g_str_equal);

  g_assert_cmpstr (formats[0]->name, ==, "native");
  for (guint i = 0; formats[i] != NULL; i++)
    for (const SondeFormatListener *l = formats[i]->listeners; l->name != NULL; l++)
      {
        const SondeFormat *found = NULL;

        g_assert_true (g_hash_table_add (names, (gpointer) l->name));
        if (l->compat_path == NULL)
          continue;
        g_assert_true (_sonde_formats_find_listener (l->name, &found) == l);
        g_assert_true (found == formats[i]);
        g_assert_cmpuint (sonde_server_get_compat_port (l->name), ==, l->compat_port);
      }

  g_assert_null (_sonde_formats_find_listener ("native", NULL));
  g_assert_null (_sonde_formats_find_listener ("nope", NULL));
}

static GKeyFile *
keyfile_from (const char *text)
{
  GKeyFile *keyfile = g_key_file_new ();

  g_assert_true (g_key_file_load_from_data (keyfile, text, -1, G_KEY_FILE_NONE, NULL));
  return keyfile;
}

static void
test_formats_configure (void)
{
  g_autoptr(SondeEngine) engine = sonde_engine_new ();
  g_autoptr(SondeServer) server = sonde_server_new (engine);
  g_autoptr(GKeyFile) good = keyfile_from ("[server]\nport=1\n[resolvix]\nnode-id=node-7\ntelemetry-interval=5\n");
  g_autoptr(GKeyFile) unknown = keyfile_from ("[resolvix]\nnode=x\n");
  g_autoptr(GKeyFile) bad = keyfile_from ("[resolvix]\ntelemetry-interval=0\n");
  g_autoptr(GError) error = NULL;

  g_assert_true (sonde_server_handles_config_group ("resolvix"));
  g_assert_true (sonde_server_handles_config_group ("exec"));
  g_assert_false (sonde_server_handles_config_group ("server"));
  g_assert_false (sonde_server_handles_config_group ("nope"));

  /* Groups the server does not read are left alone. */
  g_assert_true (sonde_server_configure (server, good, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (sonde_server_get_node_id (server), ==, "node-7");
  g_assert_cmpuint (sonde_server_get_telemetry_interval (server), ==, 5);

  g_assert_false (sonde_server_configure (server, unknown, &error));
  g_assert_error (error, SONDE_ERROR, SONDE_ERROR_INVALID_ARGUMENT);
  g_assert_cmpstr (error->message, ==, "[resolvix] node: unknown key");
  g_clear_error (&error);

  g_assert_false (sonde_server_configure (server, bad, &error));
  g_assert_error (error, SONDE_ERROR, SONDE_ERROR_INVALID_ARGUMENT);
  g_assert_cmpstr (error->message, ==, "[resolvix] telemetry-interval: 0 is not a number of seconds (1-3600)");
  /* A refused value changes nothing. */
  g_assert_cmpuint (sonde_server_get_telemetry_interval (server), ==, 5);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/formats/metrics-in-catalog", test_formats_metrics_in_catalog);
  g_test_add_func ("/formats/listener-names", test_formats_listener_names);
  g_test_add_func ("/formats/configure", test_formats_configure);

  return g_test_run ();
}
