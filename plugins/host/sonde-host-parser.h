/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/*
 * Pure parsers of the host collector: each takes the text of a file and
 * never touches the file system, so they are tested on strings.
 */

typedef struct
{
  char *name;      /* NAME, or "Linux" as os-release(5) says when unset */
  char *version;   /* VERSION_ID, else VERSION, else "" */
} SondeHostOsRelease;

void      sonde_host_os_release_clear  (SondeHostOsRelease *release);
void      sonde_host_parse_os_release  (const char         *text,
                                        SondeHostOsRelease *release);
char     *sonde_host_os_release_unquote (const char        *value);
gboolean  sonde_host_parse_uptime      (const char         *text,
                                        double             *uptime_seconds);
gboolean  sonde_host_parse_btime       (const char         *text,
                                        gint64             *boot_time);
char     *sonde_host_parse_line        (const char         *text);

G_END_DECLS
