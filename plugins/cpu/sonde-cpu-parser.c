/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <math.h>
#include <string.h>

#include "sonde-cpu-parser.h"

/* Reads one unsigned decimal, skipping blanks first; FALSE at end of line. */
static gboolean
read_u64 (const char **pos,
          guint64     *value)
{
  const char *p = *pos;
  guint64 v = 0;

  while (*p == ' ' || *p == '\t')
    p++;
  if (!g_ascii_isdigit (*p))
    return FALSE;
  while (g_ascii_isdigit (*p))
    v = v * 10 + (guint64) (*p++ - '0');
  *pos = p;
  *value = v;
  return TRUE;
}

/*
 * Kernels before 2.6.11 print fewer columns: the missing ones stay 0.
 * Fewer than four (user nice system idle) is not a cpu line.
 */
static gboolean
parse_times (const char    *p,
             SondeCpuTimes *times)
{
  guint64 *fields[] = {
    &times->user, &times->nice, &times->system, &times->idle, &times->iowait,
    &times->irq, &times->softirq, &times->steal, &times->guest, &times->guest_nice,
  };
  guint n = 0;

  memset (times, 0, sizeof *times);
  while (n < G_N_ELEMENTS (fields) && read_u64 (&p, fields[n]))
    n++;
  return n >= 4;
}

/**
 * sonde_cpu_parse_stat:
 * @text: the contents of /proc/stat
 * @total: (out): the aggregate "cpu" line
 * @cores: (element-type SondeCpuCoreTimes): emptied, then filled with one
 *   entry per "cpuN" line, in file order (cpu-number order)
 *
 * The kernel prints a "cpuN" line for online CPUs only, so @cores holds
 * exactly the online CPUs. @cores is reused from tick to tick so that a
 * tick allocates nothing once it has grown to the number of CPUs.
 *
 * Returns: %FALSE if there is no well-formed aggregate line
 */
gboolean
sonde_cpu_parse_stat (const char    *text,
                      SondeCpuTimes *total,
                      GArray        *cores)
{
  const char *line = text;
  gboolean have_total = FALSE;

  g_return_val_if_fail (text != NULL, FALSE);
  g_return_val_if_fail (total != NULL, FALSE);
  g_return_val_if_fail (cores != NULL, FALSE);

  g_array_set_size (cores, 0);

  /* The cpu lines come first; stop at the first other line rather than
   * scanning the long "intr" line of a big machine. */
  while (line != NULL && *line != '\0' && strncmp (line, "cpu", 3) == 0)
    {
      const char *p = line + 3;
      const char *nl;

      if (*p == ' ')
        {
          have_total = parse_times (p, total);
        }
      else if (g_ascii_isdigit (*p))
        {
          SondeCpuCoreTimes core;
          guint64 cpu;

          if (read_u64 (&p, &cpu) && cpu <= G_MAXUINT && parse_times (p, &core.times))
            {
              core.cpu = (guint) cpu;
              g_array_append_val (cores, core);
            }
        }

      nl = strchr (line, '\n');
      line = nl != NULL ? nl + 1 : NULL;
    }

  return have_total;
}

static inline guint64
delta (guint64 prev,
       guint64 cur)
{
  /* A counter that went down (an iowait hiccup on NOHZ kernels) counts as
   * no time spent, as psutil and top do. */
  return cur > prev ? cur - prev : 0;
}

static inline guint64
times_sum (const SondeCpuTimes *t)
{
  /* guest and guest_nice are already included in user and nice. */
  return t->user + t->nice + t->system + t->idle + t->iowait
         + t->irq + t->softirq + t->steal;
}

static inline double
clamp_percent (double value)
{
  return CLAMP (value, 0.0, 100.0);
}

/**
 * sonde_cpu_times_percent:
 * @prev: (nullable): the counters of the previous sample, or %NULL
 * @cur: the counters now
 * @percent: (out): the percentages of the interval between them
 *
 * Computes what psutil.cpu_percent() and psutil.cpu_times_percent() do:
 * the total is the sum of every column but guest and guest_nice (already
 * counted in user and nice); idle time is idle + iowait, everything else
 * (nice, irq, softirq, steal included) is busy.
 *
 * When there is no previous sample, or when the counters as a whole went
 * backwards (the CPU was unplugged and its counters reset), there is no
 * meaningful interval and every percentage is 0, as for a first sample.
 *
 * Returns: %TRUE if @percent describes a real interval
 */
gboolean
sonde_cpu_times_percent (const SondeCpuTimes *prev,
                         const SondeCpuTimes *cur,
                         SondeCpuPercent     *percent)
{
  guint64 d_user, d_system, d_idle, d_iowait, d_total;

  g_return_val_if_fail (cur != NULL, FALSE);
  g_return_val_if_fail (percent != NULL, FALSE);

  memset (percent, 0, sizeof *percent);

  if (prev == NULL || times_sum (cur) < times_sum (prev))
    return FALSE;

  d_user = delta (prev->user, cur->user);
  d_system = delta (prev->system, cur->system);
  d_idle = delta (prev->idle, cur->idle);
  d_iowait = delta (prev->iowait, cur->iowait);
  d_total = d_user + delta (prev->nice, cur->nice) + d_system + d_idle + d_iowait
            + delta (prev->irq, cur->irq) + delta (prev->softirq, cur->softirq)
            + delta (prev->steal, cur->steal);

  if (d_total == 0)
    return TRUE;

  percent->usage = clamp_percent (100.0 * (double) (d_total - d_idle - d_iowait) / (double) d_total);
  percent->user = clamp_percent (100.0 * (double) d_user / (double) d_total);
  percent->system = clamp_percent (100.0 * (double) d_system / (double) d_total);
  percent->iowait = clamp_percent (100.0 * (double) d_iowait / (double) d_total);
  return TRUE;
}

/**
 * sonde_cpu_parse_loadavg:
 * @text: the contents of /proc/loadavg ("0.00 0.03 0.00 1/80 3769")
 *
 * Returns: %FALSE unless the three averages are there
 */
gboolean
sonde_cpu_parse_loadavg (const char *text,
                         double     *load1,
                         double     *load5,
                         double     *load15)
{
  double *out[] = { load1, load5, load15 };
  const char *p = text;

  g_return_val_if_fail (text != NULL, FALSE);

  for (guint i = 0; i < G_N_ELEMENTS (out); i++)
    {
      char *end;
      double v = g_ascii_strtod (p, &end);

      /* g_ascii_strtod() also reads "nan" and "inf", which are no load
       * average (and no JSON number). */
      if (end == p || !isfinite (v) || v < 0)
        return FALSE;
      *out[i] = v;
      p = end;
    }
  return TRUE;
}

/*
 * Calls @func with the key and value of each "key<TAB>: value" line of
 * /proc/cpuinfo, without copying; stops when @func returns FALSE.
 */
typedef gboolean (*CpuinfoFunc) (const char *key,
                                 gsize       key_len,
                                 const char *value,
                                 gsize       value_len,
                                 gpointer    user_data);

static void
foreach_cpuinfo_line (const char  *cpuinfo,
                      CpuinfoFunc  func,
                      gpointer     user_data)
{
  const char *line = cpuinfo;

  while (line != NULL && *line != '\0')
    {
      const char *nl = strchr (line, '\n');
      const char *eol = nl != NULL ? nl : line + strlen (line);
      const char *colon = memchr (line, ':', eol - line);

      if (colon != NULL)
        {
          const char *key_end = colon;
          const char *value = colon + 1;
          const char *value_end = eol;

          while (key_end > line && g_ascii_isspace (key_end[-1]))
            key_end--;
          while (value < value_end && g_ascii_isspace (*value))
            value++;
          while (value_end > value && g_ascii_isspace (value_end[-1]))
            value_end--;

          if (!func (line, key_end - line, value, value_end - value, user_data))
            return;
        }

      line = nl != NULL ? nl + 1 : NULL;
    }
}

static gboolean
key_is (const char *key,
        gsize       key_len,
        const char *name)
{
  /* Case matters: x86's "processor : 0" is not ARM's "Processor : ...". */
  return strlen (name) == key_len && strncmp (key, name, key_len) == 0;
}

/* Keys naming the processor, best first: x86 and most others print
 * "model name"; 32-bit ARM prints "Hardware" (the SoC) or "Processor";
 * MIPS "cpu model"; PowerPC "cpu"; "vendor_id" is the last resort. */
static const char * const brand_keys[] = {
  "model name", "Hardware", "Processor", "cpu model", "cpu", "vendor_id",
};

typedef struct
{
  const char *value;
  gsize       value_len;
  guint       rank;
} BrandSearch;

static gboolean
brand_cb (const char *key,
          gsize       key_len,
          const char *value,
          gsize       value_len,
          gpointer    user_data)
{
  BrandSearch *search = user_data;

  if (value_len == 0)
    return TRUE;

  for (guint i = 0; i < search->rank; i++)
    {
      if (key_is (key, key_len, brand_keys[i]))
        {
          search->value = value;
          search->value_len = value_len;
          search->rank = i;
          break;
        }
    }

  /* The first CPU's block says it all once the best key is found. */
  return search->rank != 0;
}

/**
 * sonde_cpu_parse_brand:
 * @cpuinfo: the contents of /proc/cpuinfo
 *
 * Returns: (transfer full): the processor's name, or "" if unknown
 */
char *
sonde_cpu_parse_brand (const char *cpuinfo)
{
  BrandSearch search = { NULL, 0, G_N_ELEMENTS (brand_keys) };

  g_return_val_if_fail (cpuinfo != NULL, NULL);

  foreach_cpuinfo_line (cpuinfo, brand_cb, &search);

  return g_strndup (search.value != NULL ? search.value : "", search.value_len);
}

typedef struct
{
  double sum;
  guint  count;
} MhzSearch;

static gboolean
mhz_cb (const char *key,
        gsize       key_len,
        const char *value,
        gsize       value_len,
        gpointer    user_data)
{
  MhzSearch *search = user_data;

  if (key_is (key, key_len, "cpu MHz"))
    {
      char *end;
      double mhz = g_ascii_strtod (value, &end);

      if (end != value && isfinite (mhz) && mhz > 0)
        {
          search->sum += mhz;
          search->count++;
        }
    }
  return TRUE;
}

/**
 * sonde_cpu_parse_cpuinfo_mhz:
 * @cpuinfo: the contents of /proc/cpuinfo
 *
 * /proc/cpuinfo lists online CPUs only, so this is the average over the
 * online CPUs.
 *
 * Returns: the average "cpu MHz", or 0 if no CPU has one
 */
double
sonde_cpu_parse_cpuinfo_mhz (const char *cpuinfo)
{
  MhzSearch search = { 0, 0 };

  g_return_val_if_fail (cpuinfo != NULL, 0);

  foreach_cpuinfo_line (cpuinfo, mhz_cb, &search);

  if (search.count == 0 || !isfinite (search.sum))
    return 0;
  return search.sum / search.count;
}
