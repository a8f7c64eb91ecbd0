/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <glib-unix.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>

#include "sonde.h"

/* sonded: loads the collector plugins and serves them over WebSocket. */

typedef struct
{
  GMainLoop *loop;
  int        signal_number;
} Quit;

static gboolean
quit_on_signal_cb (gpointer data)
{
  Quit *quit = data;

  g_message ("Received signal %d, shutting down", quit->signal_number);
  g_main_loop_quit (quit->loop);
  return G_SOURCE_REMOVE;
}

/* The build tree's plugin directories, when this binary runs from the
 * build tree; NULL once installed. */
static char **
build_tree_plugin_dirs (void)
{
  g_autofree char *exe = g_file_read_link ("/proc/self/exe", NULL);

  if (exe == NULL || !g_str_has_prefix (exe, SONDE_BUILD_ROOT "/"))
    return NULL;

  return g_strsplit (SONDE_BUILD_PLUGIN_PATH, ":", -1);
}

static gboolean
is_known_collector (SondeEngine *engine,
                    const char  *name)
{
  return sonde_engine_get_collector (engine, name) != NULL;
}

int
main (int   argc,
      char *argv[])
{
  g_autofree char *address = g_strdup ("127.0.0.1");
  int port = SONDE_DEFAULT_PORT;
  g_auto(GStrv) plugin_dirs_opt = NULL;
  g_auto(GStrv) disabled = NULL;
  gboolean version = FALSE;
  GOptionEntry entries[] = {
    { "address", 'a', 0, G_OPTION_ARG_STRING, &address, "Address to listen on (default 127.0.0.1)", "ADDRESS" },
    { "port", 'p', 0, G_OPTION_ARG_INT, &port, "Port to listen on (default 54112; 0 picks a free port)", "PORT" },
    { "plugin-dir", 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &plugin_dirs_opt, "Also load collector plugins from DIR", "DIR" },
    { "disable", 'd', 0, G_OPTION_ARG_STRING_ARRAY, &disabled, "Do not load the collector COLLECTOR", "COLLECTOR" },
    { "version", 0, 0, G_OPTION_ARG_NONE, &version, "Print the version and exit", NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GStrvBuilder) dirs_builder = g_strv_builder_new ();
  g_auto(GStrv) build_dirs = NULL;
  g_auto(GStrv) plugin_dirs = NULL;
  g_autoptr(SondeEngine) engine = NULL;
  g_autoptr(SondeServer) server = NULL;
  g_autoptr(GMainLoop) loop = NULL;
  g_autofree char *uri = NULL;
  Quit quit_int, quit_term;
  guint n_loaded;

  setlocale (LC_ALL, "");

  context = g_option_context_new (NULL);
  g_option_context_set_summary (context, "Serve live system metrics over WebSocket.");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("sonded: %s\n", error->message);
      return EXIT_FAILURE;
    }

  if (version)
    {
      g_print ("sonded %s\n", SONDE_VERSION_S);
      return EXIT_SUCCESS;
    }

  if (port < 0 || port > G_MAXUINT16)
    {
      g_printerr ("sonded: port %d is out of range (0-65535)\n", port);
      return EXIT_FAILURE;
    }

  if (plugin_dirs_opt != NULL)
    g_strv_builder_addv (dirs_builder, (const char **) plugin_dirs_opt);
  build_dirs = build_tree_plugin_dirs ();
  if (build_dirs != NULL)
    g_strv_builder_addv (dirs_builder, (const char **) build_dirs);
  plugin_dirs = g_strv_builder_end (dirs_builder);

  engine = sonde_engine_new ();
  n_loaded = sonde_engine_load_plugins (engine, (const char * const *) plugin_dirs);

  for (guint i = 0; disabled != NULL && disabled[i] != NULL; i++)
    {
      if (!is_known_collector (engine, disabled[i]))
        g_warning ("--disable %s: no such collector", disabled[i]);
      else
        sonde_engine_remove_collector (engine, disabled[i]);
    }

  if (n_loaded == 0)
    g_warning ("No collector plugins were found; set SONDE_PLUGIN_PATH or --plugin-dir");

  server = sonde_server_new (engine);
  if (!sonde_server_listen (server, address, port, &error))
    {
      g_printerr ("sonded: cannot listen on %s port %d: %s\n", address, port, error->message);
      return EXIT_FAILURE;
    }

  uri = sonde_server_get_uri (server);
  /* The first line of stdout is the URL: scripts and tests read it. */
  printf ("listening on %s\n", uri);
  fflush (stdout);

  loop = g_main_loop_new (NULL, FALSE);
  quit_int = (Quit) { loop, SIGINT };
  quit_term = (Quit) { loop, SIGTERM };
  g_unix_signal_add (SIGINT, quit_on_signal_cb, &quit_int);
  g_unix_signal_add (SIGTERM, quit_on_signal_cb, &quit_term);

  g_main_loop_run (loop);

  sonde_server_disconnect (server);
  return EXIT_SUCCESS;
}
