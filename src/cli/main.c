/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <glib/gi18n.h>
#include <locale.h>
#include <stdlib.h>

#include "sonde-cli.h"

/* sonde: the command-line client of sonded.
 *
 *   sonde [--url URL] [--token TOKEN] COMMAND [ARGS...]
 *
 * The daemon is found from --url, else through D-Bus (the Uri property of
 * org.sonde.Sonde1, which starts the daemon on demand), else at the
 * default port. */

typedef struct
{
  const char      *name;
  SondeCliCommand  run;
  const char      *summary;
} Command;

static const Command commands[] = {
  { "status", sonde_cli_status, N_("Show the daemon, its clients and collectors") },
  { "list", sonde_cli_list, N_("List every metric with its unit and kind") },
  { "snapshot", sonde_cli_snapshot, N_("Print the current values as JSON") },
  { "watch", sonde_cli_watch, N_("Follow metrics live, as a table or JSON lines") },
  { "discover", sonde_cli_discover, N_("Find daemons that answer discovery probes (UDP)") },
};

static char *
commands_description (void)
{
  GString *text = g_string_new (_("Commands:"));
  g_autofree char *hint = NULL;

  g_string_append_c (text, '\n');
  for (guint i = 0; i < G_N_ELEMENTS (commands); i++)
    {
      g_autofree char *name = sonde_cli_pad (commands[i].name, 10, FALSE);

      g_string_append_printf (text, "  %s  %s\n", name, _(commands[i].summary));
    }

  hint = g_strdup (_("Run “sonde COMMAND --help” for the options of a command."));
  g_string_append_printf (text, "\n%s", hint);
  return g_string_free (text, FALSE);
}

static void
sonde_cli_clear (SondeCli *cli)
{
  g_free (cli->url_option);
  g_free (cli->token);
  g_free (cli->ws_url);
  g_free (cli->http_base);
  g_free (cli->how_found);
  g_free (cli->dbus_problem);
  g_clear_object (&cli->session);
}

int
main (int   argc,
      char *argv[])
{
  SondeCli cli = { 0 };
  g_autoptr(GOptionContext) context = NULL;
  g_autofree char *description = NULL;
  const char *localedir = g_getenv ("SONDE_LOCALEDIR");
  int status = SONDE_CLI_EXIT_USAGE;
  const GOptionEntry entries[] = {
    { "url", 'u', 0, G_OPTION_ARG_STRING, &cli.url_option,
      _("The daemon to talk to, such as ws://127.0.0.1:54112 (default: ask D-Bus, then that)"),
      _("URL") },
    { "token", 't', 0, G_OPTION_ARG_STRING, &cli.token,
      _("The daemon’s token (default: $SONDE_TOKEN, then [server] token of sonde.conf)"),
      _("TOKEN") },
    { NULL }
  };

  setlocale (LC_ALL, "");
  /* SONDE_LOCALEDIR lets the tests use the build tree's catalogs. */
  bindtextdomain (GETTEXT_PACKAGE, localedir != NULL && *localedir != '\0' ? localedir : LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

  context = sonde_cli_option_context (_("COMMAND [ARGS…]"),
                                      _("Query and watch the Sonde system-monitoring daemon."),
                                      entries);
  description = commands_description ();
  g_option_context_set_description (context, description);
  /* Options after the command belong to the command. */
  g_option_context_set_strict_posix (context, TRUE);

  if (!sonde_cli_parse (context, &argc, &argv, &status))
    goto out;
  cli.token_explicit = cli.token != NULL;

  if (argc < 2)
    {
      g_autofree char *help = g_option_context_get_help (context, TRUE, NULL);

      g_printerr ("%s", help);
      status = SONDE_CLI_EXIT_USAGE;
      goto out;
    }

  for (guint i = 0; i < G_N_ELEMENTS (commands); i++)
    if (g_str_equal (argv[1], commands[i].name))
      {
        status = commands[i].run (&cli, argc - 1, argv + 1);
        goto out;
      }

  g_printerr (_("sonde: unknown command “%s” (try sonde --help)\n"), argv[1]);
  status = SONDE_CLI_EXIT_USAGE;

out:
  sonde_cli_clear (&cli);
  return status;
}
