/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/*
 * Pure parsers of the processes collector: they take text and fill
 * structs, never touching the file system, so that they are tested on
 * strings and recorded fixtures.
 */

/* The kernel prints at most 64 bytes of name (workqueue threads); comm
 * itself is 16. */
#define SONDE_PROC_NAME_MAX 64

/* What the collector needs from /proc/PID/stat. */
typedef struct
{
  char    name[SONDE_PROC_NAME_MAX];
  char    state;          /* field 3: R, S, D, Z, ... */
  guint64 utime;          /* field 14, clock ticks */
  guint64 stime;          /* field 15, clock ticks */
  guint64 start_time;     /* field 22, clock ticks after boot */
  guint64 rss_pages;      /* field 24 */
} SondeProcStat;

gboolean sonde_proc_parse_stat       (const char    *text,
                                      gsize          length,
                                      SondeProcStat *stat);
gboolean sonde_proc_parse_mem_total  (const char    *meminfo,
                                      guint64       *bytes);
gboolean sonde_proc_is_pid           (const char    *name,
                                      int           *pid);

G_END_DECLS
