/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <glib/gi18n.h>

#include "sonde-cli.h"

/* sonde snapshot [PATTERN...]: fresh values (GET /api/v1/snapshot) as
 * pretty JSON. */

int
sonde_cli_snapshot (SondeCli  *cli,
                    int        argc,
                    char     **argv)
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  g_autoptr(GString) path = g_string_new ("/api/v1/snapshot");
  g_autofree char *text = NULL;
  g_autofree char *safe = NULL;
  int exit_status;

  context = sonde_cli_option_context (_("[PATTERN…]"),
                                      _("Print the current values of the metrics matching "
                                        "PATTERN (cpu.usage_percent, cpu.*, cpu, *.usage_percent; "
                                        "default: all) as JSON."),
                                      NULL);
  if (!sonde_cli_parse (context, &argc, &argv, &exit_status))
    return exit_status;

  if (argc > 1)
    {
      g_string_append (path, "?metrics=");
      for (int i = 1; i < argc; i++)
        {
          g_autofree char *escaped = g_uri_escape_string (argv[i], "*?.-_", FALSE);

          if (i > 1)
            g_string_append_c (path, ',');
          g_string_append (path, escaped);
        }
    }

  if (!sonde_cli_resolve (cli, &error) ||
      (root = sonde_cli_get_json (cli, path->str, FALSE, &error)) == NULL)
    return sonde_cli_fail (cli, error);

  json_generator_set_root (generator, root);
  json_generator_set_pretty (generator, TRUE);
  json_generator_set_indent (generator, 2);
  text = json_generator_to_data (generator, NULL);
  safe = sonde_cli_escape_json_output (text);
  g_print ("%s\n", safe);
  return SONDE_CLI_EXIT_OK;
}
