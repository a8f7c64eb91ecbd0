/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <math.h>
#include <string.h>

#include "sonde-host-parser.h"

#include "fuzz-util.h"

/*
 * The host collector's parsers, on any text as /etc/os-release,
 * /proc/uptime, /proc/stat (its btime line) and a one-line file
 * (/proc/sys/kernel/hostname).
 */

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autofree char *text = fuzz_strndup (data, size);
  g_autofree char *line = NULL;
  g_autofree char *unquoted = NULL;
  SondeHostOsRelease release = { NULL, NULL };
  double uptime;
  gint64 boot_time;

  sonde_host_parse_os_release (text, &release);
  fuzz_check (release.name != NULL && *release.name != '\0', "no name");
  fuzz_check (release.version != NULL, "no version");
  sonde_host_os_release_clear (&release);

  unquoted = sonde_host_os_release_unquote (text);
  fuzz_check (unquoted != NULL, "unquote");

  if (sonde_host_parse_uptime (text, &uptime))
    fuzz_check (isfinite (uptime) && uptime >= 0, "uptime %g", uptime);

  if (sonde_host_parse_btime (text, &boot_time))
    fuzz_check (boot_time >= 0, "btime %" G_GINT64_FORMAT, boot_time);

  line = sonde_host_parse_line (text);
  fuzz_check (line != NULL && strchr (line, '\n') == NULL, "line");

  return 0;
}
