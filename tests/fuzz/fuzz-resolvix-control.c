/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "sonde-json-private.h"
#include "sonde-resolvix-private.h"
#include "sonde-server-private.h"

#include "fuzz-util.h"

/*
 * The body of a resolvix POST /control, answered as the handler answers
 * it (the commands pause and resume the streams of a server with no
 * clients): 200 and a "status", or 400 and an "error", always JSON.
 */

static SondeResolvix *state;

int
LLVMFuzzerInitialize (int    *argc,
                      char ***argv)
{
  fuzz_init (argc, argv);
  state = _sonde_server_get_format_state (fuzz_server_get (), &_sonde_resolvix_format);
  g_assert (state != NULL);
  return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autoptr(JsonObject) answer = NULL;
  g_autoptr(GBytes) body = NULL;
  guint status = 0;

  answer = _sonde_resolvix_control_answer (state, (const char *) data, size, &status);
  fuzz_check (answer != NULL, "no answer");
  if (status == 200)
    fuzz_check (json_object_has_member (answer, "status"), "200 without a status");
  else
    fuzz_check (status == 400 && json_object_has_member (answer, "error"), "status %u", status);

  body = _sonde_json_object_to_bytes (answer);
  fuzz_assert_json_bytes (body);
  return 0;
}
