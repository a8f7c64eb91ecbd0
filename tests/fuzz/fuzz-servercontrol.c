/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "sonde-servercontrol-private.h"

#include "fuzz-util.h"

/*
 * What servercontrol clients send (sonde-servercontrol-messages.c). The
 * first byte picks the parser, the rest is its input:
 *
 *   even  a POST /exec body: an argv of at least one string and the
 *         command task_start shows, which splits back into that argv
 *         when the body gave an "argv"; or an error for the 400 answer
 *   odd   a WebSocket text message (bit 1 set: a binary one): a ping,
 *         or what the error frame says
 */

static void
check_exec (const char *text,
            gsize       length)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *command = NULL;
  g_auto(GStrv) argv = NULL;

  argv = _sonde_servercontrol_parse_exec (text, length, &command, &error);
  if (argv == NULL)
    {
      fuzz_check (error != NULL && *error->message != '\0', "no error");
      fuzz_check (g_utf8_validate (error->message, -1, NULL), "error not UTF-8");
      fuzz_check (command == NULL, "a command without an argv");
      return;
    }

  fuzz_check (error == NULL, "an argv and an error");
  fuzz_check (argv[0] != NULL, "an empty argv");
  fuzz_check (command != NULL && g_utf8_validate (command, -1, NULL), "command");

  /* The command shown is what the shell rules split into the argv. */
  {
    g_auto(GStrv) again = NULL;
    g_autoptr(GError) split_error = NULL;

    fuzz_check (g_shell_parse_argv (command, NULL, &again, &split_error),
                "'%s' does not split: %s", command, split_error->message);
    fuzz_check (g_strv_equal ((const char * const *) argv, (const char * const *) again),
                "'%s' splits into another argv", command);
  }
}

static void
check_message (SoupWebsocketDataType  type,
               const char            *text,
               gsize                  length)
{
  g_autofree char *refusal = _sonde_servercontrol_parse_message (type, text, length);

  if (refusal == NULL)
    {
      fuzz_check (type == SOUP_WEBSOCKET_DATA_TEXT, "a binary ping");
      fuzz_check (length > 0 && memchr (text, '{', length) != NULL, "a ping without an object");
      return;
    }

  fuzz_check (*refusal != '\0', "an empty refusal");
  fuzz_check (g_utf8_validate (refusal, -1, NULL), "refusal not UTF-8");
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  const char *text;

  if (size == 0)
    return 0;
  text = (const char *) data + 1;

  if ((data[0] & 1) == 0)
    check_exec (text, size - 1);
  else
    check_message ((data[0] & 2) ? SOUP_WEBSOCKET_DATA_BINARY : SOUP_WEBSOCKET_DATA_TEXT,
                   text, size - 1);
  return 0;
}
