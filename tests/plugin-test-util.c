/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <stdarg.h>

#include "plugin-test-util.h"

gint64 sonde_plugin_test_now;

char *
sonde_plugin_test_fixture (const char *plugin,
                           ...)
{
  g_autoptr(GPtrArray) parts = g_ptr_array_new ();
  g_autofree char *dir = g_test_build_filename (G_TEST_DIST, "fixtures", plugin, NULL);
  const char *part;
  va_list args;

  if (!g_file_test (dir, G_FILE_TEST_IS_DIR))
    {
      g_free (dir);
      dir = g_test_build_filename (G_TEST_DIST, "..", "fixtures", plugin, NULL);
    }

  g_ptr_array_add (parts, dir);
  va_start (args, plugin);
  while ((part = va_arg (args, const char *)) != NULL)
    g_ptr_array_add (parts, (gpointer) part);
  va_end (args);
  g_ptr_array_add (parts, NULL);

  return g_build_filenamev ((char **) parts->pdata);
}

gint64
sonde_plugin_test_clock (gpointer user_data)
{
  return sonde_plugin_test_now;
}

gint64
sonde_plugin_test_clock_void (void)
{
  return sonde_plugin_test_now;
}

SondeSample *
sonde_plugin_test_collect (SondeCollector *collector,
                           const char     *collector_name)
{
  g_autoptr(GError) error = NULL;
  SondeSample *sample;

  sample = sonde_collector_collect (collector, &error);
  g_assert_no_error (error);
  g_assert_nonnull (sample);
  g_assert_cmpstr (sonde_sample_get_collector (sample), ==, collector_name);
  return sample;
}

void
sonde_plugin_test_assert_missing_proc (SondeCollector *collector,
                                       const char     *proc_root,
                                       gboolean        check_start)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(SondeSample) sample = NULL;

  sonde_collector_set_proc_root (collector, proc_root);
  if (check_start)
    {
      g_assert_false (sonde_collector_start (collector, &error));
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
      g_clear_error (&error);
    }

  sample = sonde_collector_collect (collector, &error);
  g_assert_null (sample);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
}

void
sonde_plugin_test_assert_catalog (SondeCollector              *collector,
                                  const char                  *name,
                                  const SondePluginTestMetric *expected,
                                  gsize                        n_expected,
                                  gboolean                     check_names)
{
  g_autoptr(GPtrArray) metrics = sonde_collector_get_metrics (collector);

  g_assert_cmpstr (sonde_collector_get_name (collector), ==, name);
  g_assert_cmpuint (metrics->len, ==, n_expected);
  for (gsize i = 0; i < n_expected; i++)
    {
      SondeMetric *metric = sonde_collector_lookup_metric (collector, expected[i].field);

      g_assert_nonnull (metric);
      if (check_names)
        {
          g_autofree char *full = g_strconcat (name, ".", expected[i].field, NULL);

          g_assert_cmpstr (sonde_metric_get_name (metric), ==, full);
        }
      g_assert_cmpstr (sonde_metric_get_unit (metric), ==, expected[i].unit);
      g_assert_cmpint (sonde_metric_get_kind (metric), ==, expected[i].kind);
    }
}
