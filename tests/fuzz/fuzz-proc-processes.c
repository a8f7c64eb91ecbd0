/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "sonde-processes-parser.h"

#include "fuzz-util.h"

/*
 * The processes collector's parsers, on any text as /proc/PID/stat (by
 * length, not NUL-terminated, as the collector reads it), as
 * /proc/meminfo, and as a directory name of /proc.
 */

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  /* A copy of exactly @size bytes, so that reading past it is caught. */
  g_autofree char *stat_text = g_memdup2 (data, size);
  g_autofree char *text = fuzz_strndup (data, size);
  SondeProcStat stat;
  guint64 mem_total;
  int pid;

  if (sonde_proc_parse_stat (stat_text, size, &stat))
    fuzz_check (memchr (stat.name, '\0', sizeof stat.name) != NULL, "name not terminated");

  if (sonde_proc_parse_mem_total (text, &mem_total))
    fuzz_check (mem_total > 0, "MemTotal 0");

  if (sonde_proc_is_pid (text, &pid))
    fuzz_check (pid >= 0, "pid %d", pid);

  return 0;
}
