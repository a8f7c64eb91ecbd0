/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <glib/gi18n.h>
#include <locale.h>
#include <sys/resource.h>

#include "sonde-daemon.h"

/* Every client is a descriptor: take all the session allows (a soft limit
 * of 1,024 is common, the hard one much higher). The server caps its
 * connections below what this gives. */
static void
raise_descriptor_limit (void)
{
  struct rlimit limit;

  if (getrlimit (RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max)
    {
      limit.rlim_cur = limit.rlim_max;
      if (setrlimit (RLIMIT_NOFILE, &limit) != 0)
        g_debug ("Cannot raise the descriptor limit to %lu", (unsigned long) limit.rlim_max);
    }
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(SondeDaemon) daemon = NULL;
  const char *localedir = g_getenv ("SONDE_LOCALEDIR");

  setlocale (LC_ALL, "");
  /* SONDE_LOCALEDIR lets the tests use the build tree's catalogs. */
  bindtextdomain (GETTEXT_PACKAGE, localedir != NULL && *localedir != '\0' ? localedir : LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

  raise_descriptor_limit ();
  /* Each tick runs every due collector in a worker at once; GLib keeps 2
   * idle workers by default and would start the others anew every tick. */
  g_thread_pool_set_max_unused_threads (8);

  daemon = sonde_daemon_new ();
  return g_application_run (G_APPLICATION (daemon), argc, argv);
}
