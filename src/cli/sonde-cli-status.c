/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <glib/gi18n.h>

#include "sonde-cli.h"

/* sonde status: GET /status, for a human. */

static void
print_field (const char *label,
             guint       width,
             const char *value)
{
  g_autofree char *padded = sonde_cli_pad (label, width, FALSE);

  g_print ("%s %s\n", padded, value);
}

int
sonde_cli_status (SondeCli  *cli,
                  int        argc,
                  char     **argv)
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) root = NULL;
  g_autofree char *clients = NULL;
  g_autofree char *groups = NULL;
  const char *labels[4];
  JsonObject *status;
  JsonArray *collectors;
  guint label_width = 0;
  guint name_width = 0;
  int exit_status;

  context = sonde_cli_option_context (NULL, _("Show the daemon, its clients and collectors."), NULL);
  if (!sonde_cli_parse (context, &argc, &argv, &exit_status))
    return exit_status;
  if (argc > 1)
    {
      g_printerr (_("sonde status: unexpected argument “%s”\n"), argv[1]);
      return SONDE_CLI_EXIT_USAGE;
    }

  if (!sonde_cli_resolve (cli, &error) ||
      (root = sonde_cli_get_json (cli, "/status", TRUE, &error)) == NULL)
    return sonde_cli_fail (cli, error);

  status = json_node_get_object (root);
  collectors = sonde_cli_array (status, "collectors");

  labels[0] = _("Daemon:");
  labels[1] = _("Host:");
  labels[2] = _("Clients:");
  labels[3] = _("Subscription groups:");
  for (guint i = 0; i < G_N_ELEMENTS (labels); i++)
    label_width = MAX (label_width, sonde_cli_width (labels[i]));

  {
    g_autofree char *url = sonde_cli_escape (cli->ws_url);
    g_autofree char *daemon = g_strdup_printf ("sonded %s, %s", sonde_cli_string (status, "version", "?"), url);

    print_field (labels[0], label_width, daemon);
  }
  print_field (labels[1], label_width, sonde_cli_string (status, "hostname", "?"));
  clients = g_strdup_printf ("%" G_GINT64_FORMAT, sonde_cli_int (status, "clients", 0));
  print_field (labels[2], label_width, clients);
  groups = g_strdup_printf ("%" G_GINT64_FORMAT, sonde_cli_int (status, "subscription_groups", 0));
  print_field (labels[3], label_width, groups);

  g_print ("%s\n", _("Collectors:"));
  if (collectors == NULL || json_array_get_length (collectors) == 0)
    {
      g_print ("  %s\n", _("(none)"));
      return SONDE_CLI_EXIT_OK;
    }

  for (guint i = 0; i < json_array_get_length (collectors); i++)
    {
      JsonObject *entry = sonde_cli_object_at (collectors, i);

      name_width = MAX (name_width, sonde_cli_width (sonde_cli_string (entry, "name", "")));
    }

  for (guint i = 0; i < json_array_get_length (collectors); i++)
    {
      JsonObject *entry = sonde_cli_object_at (collectors, i);
      g_autofree char *name = sonde_cli_pad (sonde_cli_string (entry, "name", ""), name_width, FALSE);
      const char *state = sonde_cli_bool (entry, "running", FALSE)
                          ? _("running") : _("idle");
      g_autofree char *state_padded = sonde_cli_pad (state, MAX (sonde_cli_width (_("running")),
                                                                 sonde_cli_width (_("idle"))), FALSE);
      const char *last = sonde_cli_string (entry, "last_sample", NULL);
      g_autofree char *last_text = NULL;

      if (last != NULL)
        last_text = g_strdup_printf (_("last sample %s"), last);
      else
        last_text = g_strdup (_("not sampled yet"));

      g_print ("  %s  %s  %s%s\n", name, state_padded, last_text,
               sonde_cli_bool (entry, "stale", FALSE) ? _(" (stale)") : "");
    }

  return SONDE_CLI_EXIT_OK;
}
