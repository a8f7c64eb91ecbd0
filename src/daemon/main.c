/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <glib/gi18n.h>
#include <locale.h>

#include "sonde-daemon.h"

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

  daemon = sonde_daemon_new ();
  return g_application_run (G_APPLICATION (daemon), argc, argv);
}
