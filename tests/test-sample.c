/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <math.h>

#include "sonde.h"

static void
test_sample_getters (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(SondeSample) sample = NULL;
  g_autofree char *json = NULL;

  sample = sonde_sample_new_from_json ("cpu", 1234567,
                                       "{\"usage_percent\": 12.5, \"cores\": 4, "
                                       "\"brand\": \"Xeon\", \"per_core_percent\": [1, 2]}",
                                       &error);
  g_assert_no_error (error);
  g_assert_nonnull (sample);

  g_assert_cmpstr (sonde_sample_get_collector (sample), ==, "cpu");
  g_assert_cmpint (sonde_sample_get_timestamp (sample), ==, 1234567);
  g_assert_true (sonde_sample_has_field (sample, "cores"));
  g_assert_false (sonde_sample_has_field (sample, "nope"));

  g_assert_cmpfloat (sonde_sample_get_double (sample, "usage_percent"), ==, 12.5);
  g_assert_cmpfloat (sonde_sample_get_double (sample, "cores"), ==, 4.0);
  g_assert_true (isnan (sonde_sample_get_double (sample, "brand")));
  g_assert_true (isnan (sonde_sample_get_double (sample, "per_core_percent")));
  g_assert_true (isnan (sonde_sample_get_double (sample, "missing")));

  g_assert_cmpint (sonde_sample_get_int (sample, "cores"), ==, 4);
  g_assert_cmpint (sonde_sample_get_int (sample, "usage_percent"), ==, 12);
  g_assert_cmpint (sonde_sample_get_int (sample, "brand"), ==, 0);

  g_assert_cmpstr (sonde_sample_get_string (sample, "brand"), ==, "Xeon");
  g_assert_null (sonde_sample_get_string (sample, "cores"));

  json = sonde_sample_to_json (sample);
  g_assert_true (g_str_has_prefix (json, "{\"usage_percent\":12.5"));
}

static void
test_sample_rejects_non_object (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(SondeSample) sample = NULL;

  sample = sonde_sample_new_from_json ("cpu", 0, "[1, 2, 3]", &error);
  g_assert_error (error, SONDE_ERROR, SONDE_ERROR_INVALID_ARGUMENT);
  g_assert_null (sample);
  g_clear_error (&error);

  sample = sonde_sample_new_from_json ("cpu", 0, "{oops", &error);
  g_assert_nonnull (error);
  g_assert_null (sample);
}

static void
test_sample_is_sealed (void)
{
  g_autoptr(JsonObject) data = json_object_new ();
  g_autoptr(SondeSample) sample = NULL;

  json_object_set_int_member (data, "value", 1);
  sample = sonde_sample_new ("fake", 0, data);

  /* Shared between threads and clients: the sample's data can't change. */
  g_assert_true (json_object_is_immutable (sonde_sample_get_data (sample)));
}

static void
test_metric_catalog_entry (void)
{
  g_autoptr(SondeMetric) metric = sonde_metric_new ("disk", "read_bytes_per_sec", "bytes/s",
                                                    SONDE_METRIC_KIND_RATE, "Bytes read per second");

  g_assert_cmpstr (sonde_metric_get_name (metric), ==, "disk.read_bytes_per_sec");
  g_assert_cmpstr (sonde_metric_get_collector (metric), ==, "disk");
  g_assert_cmpstr (sonde_metric_get_field (metric), ==, "read_bytes_per_sec");
  g_assert_cmpstr (sonde_metric_get_unit (metric), ==, "bytes/s");
  g_assert_cmpint (sonde_metric_get_kind (metric), ==, SONDE_METRIC_KIND_RATE);
  g_assert_cmpstr (sonde_metric_kind_to_string (SONDE_METRIC_KIND_TABLE), ==, "table");
}

static void
test_event_fields (void)
{
  g_autoptr(JsonObject) data = json_object_new ();
  g_autoptr(SondeEvent) event = NULL;

  json_object_set_string_member (data, "line", "hello");
  event = sonde_event_new ("log_line", "logs", 42, data);

  g_assert_cmpstr (sonde_event_get_event_type (event), ==, "log_line");
  g_assert_cmpstr (sonde_event_get_source (event), ==, "logs");
  g_assert_cmpint (sonde_event_get_timestamp (event), ==, 42);
  g_assert_cmpstr (json_object_get_string_member (sonde_event_get_data (event), "line"), ==, "hello");
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/sample/getters", test_sample_getters);
  g_test_add_func ("/sample/rejects-non-object", test_sample_rejects_non_object);
  g_test_add_func ("/sample/sealed", test_sample_is_sealed);
  g_test_add_func ("/metric/catalog-entry", test_metric_catalog_entry);
  g_test_add_func ("/event/fields", test_event_fields);

  return g_test_run ();
}
