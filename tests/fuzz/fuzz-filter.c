/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "sonde-engine-private.h"
#include "sonde-filter-private.h"

#include "fuzz-util.h"

/*
 * Metric patterns ("cpu.usage_percent", "cpu.*", "c?u", "*"), one per
 * line of the input, as a subscription's "metrics" or a ?metrics= query
 * gives them, made into a filter over a small fixed catalog and matched
 * against every metric of it and a few names it lacks. Checks that an
 * accepted exact name matches its own metric, that "*" matches
 * everything, and that the key is the same for the patterns in another
 * order.
 */

static const char * const other_names[][2] = {
  { "cpu", "" },
  { "", "usage_percent" },
  { "processes", "top_cpu" },
  { "gateway", "requests_total" },
  { "a-b_c", "x?y*z" },
};

int
LLVMFuzzerInitialize (int    *argc,
                      char ***argv)
{
  fuzz_init (argc, argv);
  fuzz_engine_get ();
  return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  SondeCatalog *catalog = _sonde_engine_get_catalog (fuzz_engine_get ());
  g_autofree char *text = fuzz_strndup (data, size);
  g_auto(GStrv) patterns = g_strsplit (text, "\n", -1);
  g_autoptr(GPtrArray) reversed = g_ptr_array_new ();
  g_autoptr(SondeFilter) filter = NULL;
  g_autoptr(SondeFilter) filter_reversed = NULL;
  g_autoptr(GError) error = NULL;
  GPtrArray *metrics = _sonde_catalog_get_metrics (catalog);
  guint n = g_strv_length (patterns);

  filter = _sonde_filter_new (catalog, (const char * const *) patterns, &error);
  if (filter == NULL)
    {
      fuzz_check (error != NULL, "no error");
      return 0;
    }

  for (guint i = 0; i < metrics->len; i++)
    {
      SondeMetric *metric = g_ptr_array_index (metrics, i);
      const char *collector = sonde_metric_get_collector (metric);
      const char *field = sonde_metric_get_field (metric);
      gboolean matches = _sonde_filter_matches (filter, collector, field);

      if (matches)
        fuzz_check (_sonde_filter_wants_collector (filter, collector), "%s.%s matches, %s unwanted",
                    collector, field, collector);
      if (g_strv_contains ((const char * const *) patterns, sonde_metric_get_name (metric)) ||
          g_strv_contains ((const char * const *) patterns, "*"))
        fuzz_check (matches, "%s does not match itself", sonde_metric_get_name (metric));
    }
  for (guint i = 0; i < G_N_ELEMENTS (other_names); i++)
    {
      _sonde_filter_matches (filter, other_names[i][0], other_names[i][1]);
      _sonde_filter_wants_collector (filter, other_names[i][0]);
    }
  for (guint i = 0; i < n; i++)
    _sonde_filter_is_exact_name (patterns[i]);

  /* The same patterns in another order: the same group key. */
  for (guint i = n; i > 0; i--)
    g_ptr_array_add (reversed, patterns[i - 1]);
  g_ptr_array_add (reversed, NULL);
  filter_reversed = _sonde_filter_new (catalog, (const char * const *) reversed->pdata, NULL);
  fuzz_check (filter_reversed != NULL, "refused in another order");
  fuzz_check (g_str_equal (_sonde_filter_get_key (filter), _sonde_filter_get_key (filter_reversed)),
              "keys differ: %s, %s", _sonde_filter_get_key (filter), _sonde_filter_get_key (filter_reversed));

  return 0;
}
