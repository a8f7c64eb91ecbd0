/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <math.h>
#include <string.h>

#include "sonde-cpu-parser.h"

#include "fuzz-util.h"

/*
 * The cpu collector's parsers, on any text as /proc/stat, /proc/loadavg
 * and /proc/cpuinfo: each is given the whole input. Two readings of
 * /proc/stat (the input, and the input with its first line dropped) make
 * an interval whose percentages must be between 0 and 100; the load
 * averages and the frequency must be finite and not negative, as the
 * collector reports them as numbers.
 */

static void
check_percent (const SondeCpuPercent *percent)
{
  const double values[] = { percent->usage, percent->user, percent->system, percent->iowait };

  for (guint i = 0; i < G_N_ELEMENTS (values); i++)
    fuzz_check (values[i] >= 0 && values[i] <= 100, "percentage %g", values[i]);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autofree char *text = fuzz_strndup (data, size);
  g_autoptr(GArray) cores = g_array_new (FALSE, FALSE, sizeof (SondeCpuCoreTimes));
  g_autoptr(GArray) later_cores = g_array_new (FALSE, FALSE, sizeof (SondeCpuCoreTimes));
  g_autofree char *brand = NULL;
  const char *second_line = strchr (text, '\n');
  SondeCpuTimes total, later;
  SondeCpuPercent percent;
  double load1, load5, load15, mhz;

  if (sonde_cpu_parse_stat (text, &total, cores))
    {
      sonde_cpu_times_percent (NULL, &total, &percent);
      check_percent (&percent);
      sonde_cpu_times_percent (&total, &total, &percent);
      check_percent (&percent);

      if (second_line != NULL && sonde_cpu_parse_stat (second_line + 1, &later, later_cores))
        {
          sonde_cpu_times_percent (&total, &later, &percent);
          check_percent (&percent);
          sonde_cpu_times_percent (&later, &total, &percent);
          check_percent (&percent);
        }

      for (guint i = 0; i < cores->len; i++)
        {
          SondeCpuCoreTimes *core = &g_array_index (cores, SondeCpuCoreTimes, i);

          sonde_cpu_times_percent (&total, &core->times, &percent);
          check_percent (&percent);
        }
    }

  if (sonde_cpu_parse_loadavg (text, &load1, &load5, &load15))
    {
      fuzz_check (isfinite (load1) && load1 >= 0, "load1 %g", load1);
      fuzz_check (isfinite (load5) && load5 >= 0, "load5 %g", load5);
      fuzz_check (isfinite (load15) && load15 >= 0, "load15 %g", load15);
    }

  brand = sonde_cpu_parse_brand (text);
  fuzz_check (brand != NULL && strlen (brand) <= size, "brand");

  mhz = sonde_cpu_parse_cpuinfo_mhz (text);
  fuzz_check (isfinite (mhz) && mhz >= 0, "frequency %g", mhz);

  return 0;
}
