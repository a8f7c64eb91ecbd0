/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <string.h>

#include "sonde-engine-private.h"
#include "sonde-json-private.h"
#include "sonde-tick-view-private.h"
#include "sonde-test-util.h"

/* A tick's data written as text for a filter: each collector serialised
 * once per view and copied into every filter's frame, the same bytes as
 * the JSON object the view builds for that filter, written compactly. */

typedef struct
{
  SondeEngine   *engine;
  SondeTickView *view;
} Fixture;

/* Every plugin's sample (the first without previous counters, then a
 * second with rates), plus a collector of odd text, a stale one and one
 * not collected yet. */
static void
fixture_set_up (Fixture       *fixture,
                gconstpointer  data)
{
  g_autoptr(GPtrArray) collectors = NULL;
  g_autoptr(JsonObject) text = json_object_new ();
  g_autoptr(SondeSample) text_sample = NULL;
  JsonObject *nested = json_object_new ();

  fixture->engine = sonde_engine_new ();
  g_assert_cmpuint (sonde_engine_load_plugins (fixture->engine, NULL), >, 0);
  collectors = sonde_engine_list_collectors (fixture->engine);
  fixture->view = _sonde_tick_view_new (g_get_real_time (), collectors->len + 3);

  for (guint i = 0; i < collectors->len; i++)
    {
      SondeCollector *collector = g_ptr_array_index (collectors, i);
      g_autoptr(SondeSample) sample = NULL;

      if (!sonde_collector_start (collector, NULL))
        continue;
      g_clear_pointer (&sample, sonde_sample_unref);
      sample = sonde_collector_collect (collector, NULL);
      g_clear_pointer (&sample, sonde_sample_unref);
      sample = sonde_collector_collect (collector, NULL);
      sonde_collector_stop (collector);
      if (sample != NULL)
        _sonde_tick_view_add (fixture->view, sonde_collector_get_name (collector), sample, NULL,
                              g_str_equal (sonde_collector_get_name (collector), "disk"));
    }

  json_object_set_string_member (text, "quote", "a \"quoted\" \\ back\tslash\n\x01");
  json_object_set_string_member (text, "unicode", "é — 😀");
  json_object_set_double_member (text, "third", 1.0 / 3.0);
  json_object_set_double_member (text, "whole", 100.0);
  json_object_set_int_member (text, "negative", -42);
  json_object_set_boolean_member (text, "flag", TRUE);
  json_object_set_null_member (text, "nothing");
  json_object_set_int_member (nested, "depth", 2);
  json_object_set_object_member (text, "nested", nested);
  text_sample = sonde_sample_new ("text", g_get_real_time (), text);
  _sonde_tick_view_add (fixture->view, "text", text_sample, NULL, TRUE);
  _sonde_tick_view_add (fixture->view, "waiting", NULL, "not collected yet", FALSE);
}

static void
fixture_tear_down (Fixture       *fixture,
                   gconstpointer  data)
{
  g_clear_pointer (&fixture->view, _sonde_tick_view_unref);
  g_clear_object (&fixture->engine);
}

static char *
expected_text (SondeTickView *view,
               SondeFilter   *filter,
               char         **stale_text)
{
  JsonArray *stale = NULL;
  g_autoptr(JsonObject) data = _sonde_tick_view_to_json (view, filter, &stale);
  g_autoptr(GBytes) bytes = _sonde_json_object_to_bytes (data);

  *stale_text = NULL;
  if (stale != NULL)
    {
      g_autoptr(JsonNode) node = json_node_init_array (json_node_alloc (), stale);
      g_autoptr(GBytes) stale_bytes = _sonde_json_node_to_bytes (node);

      json_array_unref (stale);
      *stale_text = g_strndup (g_bytes_get_data (stale_bytes, NULL), g_bytes_get_size (stale_bytes));
    }
  return g_strndup (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
}

static SondeFilter *
filter_new (Fixture    *fixture,
            const char *patterns)
{
  g_auto(GStrv) list = g_strsplit (patterns, ",", -1);
  g_autoptr(GError) error = NULL;
  SondeFilter *filter = _sonde_filter_new (_sonde_engine_get_catalog (fixture->engine),
                                           (const char * const *) list, &error);

  g_assert_no_error (error);
  return filter;
}

static void
test_tick_view_text_matches_object (Fixture       *fixture,
                                    gconstpointer  data)
{
  static const char * const filters[] = {
    "*",
    "cpu.*",
    "cpu.usage_percent,memory.*",
    "*.u*",
    "processes.top_cpu,network.interfaces",
    "te?t.*",
    "t*.n*",
    "disk.*,te?t.quote",
    "nomatch*",
    "*.nomatch*",
    "memory.usage_percent,memory.usage_percent",
  };

  /* Twice: the second round writes from the texts the first one made. */
  for (guint round = 0; round < 2; round++)
    for (guint i = 0; i < G_N_ELEMENTS (filters); i++)
      {
        SondeFilter *filter = filter_new (fixture, filters[i]);
        g_autoptr(GString) text = g_string_new (NULL);
        g_autoptr(GString) stale = g_string_new (NULL);
        g_autofree char *expected_stale = NULL;
        g_autofree char *expected = expected_text (fixture->view, filter, &expected_stale);

        g_test_message ("filter %s", filters[i]);
        _sonde_tick_view_write_data (fixture->view, filter, text, stale);
        g_assert_cmpstr (text->str, ==, expected);
        g_assert_cmpstr (stale->len > 0 ? stale->str : NULL, ==, expected_stale);
        _sonde_filter_free (filter);
      }
}

static void
test_tick_view_timestamp_text (Fixture       *fixture,
                               gconstpointer  data)
{
  g_autofree char *expected = _sonde_format_timestamp (_sonde_tick_view_get_timestamp (fixture->view));
  const char *text = _sonde_tick_view_get_timestamp_text (fixture->view);

  g_assert_cmpstr (text, ==, expected);
  /* Made once: every frame of the tick gets the same string. */
  g_assert_true (_sonde_tick_view_get_timestamp_text (fixture->view) == text);
}

/* The view's texts are made once and shared: frames written for the same
 * filter from several threads at once are the same bytes. */
typedef struct
{
  SondeTickView *view;
  SondeFilter   *filter;
  char          *text;
} WriterData;

static gpointer
write_in_thread (gpointer user_data)
{
  WriterData *writer = user_data;
  GString *text = g_string_new (NULL);
  g_autoptr(GString) stale = g_string_new (NULL);

  _sonde_tick_view_write_data (writer->view, writer->filter, text, stale);
  writer->text = g_string_free (text, FALSE);
  return NULL;
}

static void
test_tick_view_text_threads (Fixture       *fixture,
                             gconstpointer  data)
{
  SondeFilter *filter = filter_new (fixture, "*");
  g_autofree char *expected_stale = NULL;
  g_autofree char *expected = expected_text (fixture->view, filter, &expected_stale);
  WriterData writers[8];
  GThread *threads[G_N_ELEMENTS (writers)];

  for (guint i = 0; i < G_N_ELEMENTS (writers); i++)
    {
      writers[i] = (WriterData) { fixture->view, filter, NULL };
      threads[i] = g_thread_new ("writer", write_in_thread, &writers[i]);
    }
  for (guint i = 0; i < G_N_ELEMENTS (writers); i++)
    {
      g_thread_join (threads[i]);
      g_assert_cmpstr (writers[i].text, ==, expected);
      g_free (writers[i].text);
    }
  _sonde_filter_free (filter);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add ("/tick-view/text-matches-object", Fixture, NULL,
              fixture_set_up, test_tick_view_text_matches_object, fixture_tear_down);
  g_test_add ("/tick-view/timestamp-text", Fixture, NULL,
              fixture_set_up, test_tick_view_timestamp_text, fixture_tear_down);
  g_test_add ("/tick-view/text-threads", Fixture, NULL,
              fixture_set_up, test_tick_view_text_threads, fixture_tear_down);

  return g_test_run ();
}
