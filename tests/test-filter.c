/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "sonde-engine-private.h"
#include "sonde-filter-private.h"
#include "sonde-test-util.h"

typedef struct
{
  SondeEngine *engine;
} Fixture;

static void
fixture_set_up (Fixture       *fixture,
                gconstpointer  data)
{
  g_autoptr(SondeFakeCollector) fake = sonde_fake_collector_new ("fake");
  g_autoptr(SondeFakeCollector) other = sonde_fake_collector_new ("other");

  fixture->engine = sonde_engine_new ();
  g_assert_true (sonde_engine_add_collector (fixture->engine, SONDE_COLLECTOR (fake), NULL));
  g_assert_true (sonde_engine_add_collector (fixture->engine, SONDE_COLLECTOR (other), NULL));
}

static void
fixture_tear_down (Fixture       *fixture,
                   gconstpointer  data)
{
  g_clear_object (&fixture->engine);
}

static SondeFilter *
filter_new (Fixture     *fixture,
            const char  *patterns,
            GError     **error)
{
  g_auto(GStrv) list = g_strsplit (patterns, " ", -1);

  return _sonde_filter_new (_sonde_engine_get_catalog (fixture->engine), (const char * const *) list, error);
}

static void
test_filter_exact (Fixture       *fixture,
                   gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(SondeFilter) filter = filter_new (fixture, "fake.value", &error);

  g_assert_no_error (error);
  g_assert_true (_sonde_filter_matches (filter, "fake", "value"));
  g_assert_false (_sonde_filter_matches (filter, "fake", "text"));
  g_assert_false (_sonde_filter_matches (filter, "other", "value"));
  g_assert_true (_sonde_filter_wants_collector (filter, "fake"));
  g_assert_false (_sonde_filter_wants_collector (filter, "other"));
}

static void
test_filter_collector (Fixture       *fixture,
                       gconstpointer  data)
{
  const char *forms[] = { "fake", "fake.*" };

  for (guint i = 0; i < G_N_ELEMENTS (forms); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(SondeFilter) filter = filter_new (fixture, forms[i], &error);

      g_assert_no_error (error);
      g_assert_true (_sonde_filter_matches (filter, "fake", "value"));
      g_assert_true (_sonde_filter_matches (filter, "fake", "items"));
      g_assert_false (_sonde_filter_matches (filter, "other", "value"));
      g_assert_false (_sonde_filter_wants_collector (filter, "other"));
    }
}

static void
test_filter_globs (Fixture       *fixture,
                   gconstpointer  data)
{
  g_autoptr(SondeFilter) all = filter_new (fixture, "*", NULL);
  g_autoptr(SondeFilter) field = filter_new (fixture, "*.value", NULL);
  g_autoptr(SondeFilter) question = filter_new (fixture, "f?ke.t*", NULL);

  g_assert_true (_sonde_filter_matches (all, "fake", "value"));
  g_assert_true (_sonde_filter_matches (all, "other", "anything"));
  g_assert_true (_sonde_filter_wants_collector (all, "later"));

  g_assert_true (_sonde_filter_matches (field, "fake", "value"));
  g_assert_true (_sonde_filter_matches (field, "other", "value"));
  g_assert_false (_sonde_filter_matches (field, "fake", "text"));

  g_assert_true (_sonde_filter_matches (question, "fake", "text"));
  g_assert_false (_sonde_filter_matches (question, "fake", "value"));
  g_assert_false (_sonde_filter_wants_collector (question, "other"));
}

static void
test_filter_unknown_exact_name (Fixture       *fixture,
                                gconstpointer  data)
{
  const char *unknown[] = { "fake.nope", "nope", "nope.value", "fake.value nope.*" };

  for (guint i = 0; i < G_N_ELEMENTS (unknown); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(SondeFilter) filter = filter_new (fixture, unknown[i], &error);

      g_assert_error (error, SONDE_ERROR, SONDE_ERROR_UNKNOWN_METRIC);
      g_assert_null (filter);
    }

  {
    /* A glob may match nothing yet: a collector can be added later. */
    g_autoptr(GError) error = NULL;
    g_autoptr(SondeFilter) filter = filter_new (fixture, "later*", &error);

    g_assert_no_error (error);
    g_assert_false (_sonde_filter_wants_collector (filter, "fake"));
  }
}

static void
test_filter_invalid (Fixture       *fixture,
                     gconstpointer  data)
{
  const char *invalid[] = { "", ".", "fake.", ".value", "fake..value", "fa ke", "fake.val\"ue", "fake/value" };
  g_autoptr(GPtrArray) many = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *long_pattern = g_strnfill (SONDE_FILTER_MAX_PATTERN_LENGTH + 1, 'a');
  const char *too_long[] = { long_pattern, NULL };
  const char *none[] = { NULL };
  g_autoptr(GError) error = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (invalid); i++)
    {
      const char *patterns[] = { invalid[i], NULL };
      g_autoptr(SondeFilter) filter = _sonde_filter_new (_sonde_engine_get_catalog (fixture->engine), patterns, &error);

      g_assert_null (filter);
      g_assert_error (error, SONDE_ERROR, SONDE_ERROR_INVALID_FILTER);
      g_clear_error (&error);
    }

  g_assert_null (_sonde_filter_new (_sonde_engine_get_catalog (fixture->engine), too_long, &error));
  g_assert_error (error, SONDE_ERROR, SONDE_ERROR_INVALID_FILTER);
  g_clear_error (&error);

  g_assert_null (_sonde_filter_new (_sonde_engine_get_catalog (fixture->engine), none, &error));
  g_assert_error (error, SONDE_ERROR, SONDE_ERROR_INVALID_FILTER);
  g_clear_error (&error);

  for (guint i = 0; i <= SONDE_FILTER_MAX_PATTERNS; i++)
    g_ptr_array_add (many, g_strdup ("fake.value"));
  g_ptr_array_add (many, NULL);
  g_assert_null (_sonde_filter_new (_sonde_engine_get_catalog (fixture->engine), (const char * const *) many->pdata, &error));
  g_assert_error (error, SONDE_ERROR, SONDE_ERROR_INVALID_FILTER);
}

static void
test_filter_key_is_canonical (Fixture       *fixture,
                              gconstpointer  data)
{
  g_autoptr(SondeFilter) a = filter_new (fixture, "other.value fake.value", NULL);
  g_autoptr(SondeFilter) b = filter_new (fixture, "fake.value other.value fake.value", NULL);
  g_autoptr(SondeFilter) c = filter_new (fixture, "fake.value", NULL);

  g_assert_cmpstr (_sonde_filter_get_key (a), ==, "fake.value,other.value");
  g_assert_cmpstr (_sonde_filter_get_key (a), ==, _sonde_filter_get_key (b));
  g_assert_cmpstr (_sonde_filter_get_key (a), !=, _sonde_filter_get_key (c));
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

#define ADD(path, func) g_test_add (path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)
  ADD ("/filter/exact", test_filter_exact);
  ADD ("/filter/collector", test_filter_collector);
  ADD ("/filter/globs", test_filter_globs);
  ADD ("/filter/unknown-exact-name", test_filter_unknown_exact_name);
  ADD ("/filter/invalid", test_filter_invalid);
  ADD ("/filter/key-is-canonical", test_filter_key_is_canonical);
#undef ADD

  return g_test_run ();
}
