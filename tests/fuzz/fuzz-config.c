/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "sonde-config.h"
#include "sonde-daemon-alerts.h"

#include "fuzz-util.h"

/*
 * sonded's configuration file, as the daemon takes it: sonde.conf text
 * loaded and checked into a SondeConfig, the formats' groups
 * ([resolvix]) applied with sonde_server_configure(), and the [alert
 * NAME] groups made into rules on an engine (which parses their metric
 * selectors, such as disk.partitions[mount=/].usage_percent). The rules
 * are removed again after each input.
 *
 * The file is said to be in a directory that does not exist, so that
 * relative TLS paths name nothing.
 */

#define CONFIG_PATH "/nonexistent-sonde-fuzz/sonde.conf"

int
LLVMFuzzerInitialize (int    *argc,
                      char ***argv)
{
  fuzz_init (argc, argv);
  fuzz_server_get ();
  return 0;
}

static void
remove_rules (SondeEngine *engine)
{
  g_autoptr(GPtrArray) rules = sonde_engine_list_alert_rules (engine);

  for (guint i = 0; i < rules->len; i++)
    sonde_engine_remove_alert_rule (engine, sonde_alert_rule_get_name (g_ptr_array_index (rules, i)));
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autoptr(SondeConfig) config = sonde_config_new ();
  g_autoptr(GError) error = NULL;
  SondeEngine *engine = fuzz_engine_get ();

  if (!sonde_config_load_from_data (config, CONFIG_PATH, (const char *) data, size, &error))
    {
      fuzz_check (error != NULL && g_str_has_prefix (error->message, CONFIG_PATH),
                  "error without the file's name: %s", error ? error->message : "(none)");
      return 0;
    }

  if (!sonde_config_apply_to_server (config, fuzz_server_get (), &error))
    {
      fuzz_check (error != NULL, "no error");
      return 0;
    }

  if (!sonde_daemon_add_alert_rules (engine, config, &error))
    fuzz_check (error != NULL, "no error");
  remove_rules (engine);

  return 0;
}
