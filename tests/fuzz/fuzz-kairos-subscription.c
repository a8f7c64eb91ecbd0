/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "sonde-kairos-private.h"

#include "fuzz-util.h"

/*
 * A kairos client's subscription message, as /ws/metrics reads it:
 * serde's syntax check in sonde-kairos-errors.c, then the message into a
 * SondeKairosSubscription whose names resolve against the catalog. The
 * first byte picks the server: with or without a gateway collector, and
 * its interval bounds; the rest is the message.
 */

static const guint bounds[][2] = {
  { 100, 60000 },
  { 1000, 1000 },
  { 100, 999 },
  { 1500, 2500 },
  { 60000, 60000 },
  { 100, 100 },
  { 5000, 30000 },
  { 999, 1001 },
};

static SondeServer *servers[2];   /* with, without a gateway */

int
LLVMFuzzerInitialize (int    *argc,
                      char ***argv)
{
  fuzz_init (argc, argv);
  servers[0] = fuzz_server_get ();
  servers[1] = sonde_server_new (fuzz_engine_new (FALSE));
  return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  SondeKairosSubscription sub = { NULL, NULL, NULL, 0, FALSE };
  g_autofree char *error = NULL;
  g_autofree char *syntax = NULL;
  SondeServer *server;
  guint choice;

  if (size == 0)
    return 0;

  choice = data[0];
  data++;
  size--;
  server = servers[choice & 1];
  if (!sonde_server_set_interval_bounds (server, bounds[(choice >> 1) % G_N_ELEMENTS (bounds)][0],
                                         bounds[(choice >> 1) % G_N_ELEMENTS (bounds)][1], NULL))
    abort ();

  /* Alone, as for a message the parser refuses anyway. */
  syntax = _sonde_kairos_check_syntax ((const char *) data, size);
  if (syntax != NULL)
    fuzz_check (strstr (syntax, " at line ") != NULL, "no position: %s", syntax);

  error = _sonde_kairos_parse_subscription (server, (const char *) data, size, &sub);
  if (error != NULL)
    {
      g_autoptr(GBytes) frame = _sonde_kairos_encode_error (error);

      fuzz_check (g_str_has_prefix (error, "Invalid subscription: "), "%s", error);
      fuzz_check (syntax == NULL || strstr (error, syntax) != NULL, "%s is not %s", error, syntax);
      fuzz_assert_json_bytes (frame);
    }
  else
    {
      fuzz_check (syntax == NULL, "accepted despite %s", syntax);
      fuzz_check (sub.names != NULL && sub.names[0] != NULL, "no names");
      fuzz_check (sub.id != NULL && sub.filter != NULL, "not resolved");
      fuzz_check (sub.interval_seconds >= 1 && sub.interval_seconds <= 60, "interval %u",
                  sub.interval_seconds);
      fuzz_check (g_strv_length (sub.names) <= SONDE_FILTER_MAX_PATTERNS, "too many names");
    }

  _sonde_kairos_subscription_clear (&sub);
  return 0;
}
