/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <glib/gi18n.h>

#include "sonde-cli.h"

/* sonde list: the catalog (GET /api/v1/catalog) as an aligned table. */

int
sonde_cli_list (SondeCli  *cli,
                int        argc,
                char     **argv)
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) root = NULL;
  const char *headers[4] = { _("METRIC"), _("UNIT"), _("KIND"), _("DESCRIPTION") };
  const char *members[4] = { "name", "unit", "kind", "description" };
  guint widths[3];
  JsonArray *metrics;
  int exit_status;

  context = sonde_cli_option_context (NULL, _("List every metric with its unit and kind."), NULL);
  if (!sonde_cli_parse (context, &argc, &argv, &exit_status))
    return exit_status;
  if (argc > 1)
    {
      g_printerr (_("sonde list: unexpected argument “%s”\n"), argv[1]);
      return SONDE_CLI_EXIT_USAGE;
    }

  if (!sonde_cli_resolve (cli, &error) ||
      (root = sonde_cli_get_json (cli, "/api/v1/catalog", TRUE, &error)) == NULL)
    return sonde_cli_fail (cli, error);

  metrics = sonde_cli_array (json_node_get_object (root), "metrics");
  if (metrics == NULL)
    {
      g_printerr (_("sonde: the daemon sent no catalog\n"));
      return SONDE_CLI_EXIT_FAILED;
    }

  for (guint c = 0; c < G_N_ELEMENTS (widths); c++)
    widths[c] = sonde_cli_width (headers[c]);

  for (guint i = 0; i < json_array_get_length (metrics); i++)
    {
      JsonObject *metric = sonde_cli_object_at (metrics, i);

      for (guint c = 0; c < G_N_ELEMENTS (widths); c++)
        widths[c] = MAX (widths[c], sonde_cli_width (sonde_cli_string (metric, members[c], "")));
    }

  for (guint c = 0; c < G_N_ELEMENTS (widths); c++)
    {
      g_autofree char *cell = sonde_cli_pad (headers[c], widths[c], FALSE);
      g_print ("%s  ", cell);
    }
  g_print ("%s\n", headers[3]);

  for (guint i = 0; i < json_array_get_length (metrics); i++)
    {
      JsonObject *metric = sonde_cli_object_at (metrics, i);

      for (guint c = 0; c < G_N_ELEMENTS (widths); c++)
        {
          const char *text = sonde_cli_string (metric, members[c], "");
          g_autofree char *cell = sonde_cli_pad (*text ? text : "-", widths[c], FALSE);

          g_print ("%s  ", cell);
        }
      g_print ("%s\n", sonde_cli_string (metric, "description", ""));
    }

  return SONDE_CLI_EXIT_OK;
}
