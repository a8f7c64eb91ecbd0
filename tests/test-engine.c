/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "sonde-engine-private.h"
#include "sonde-test-util.h"

static void
count_tick_cb (SondeEngine *engine,
               gint64       tick_us,
               GArray      *ticks)
{
  g_array_append_val (ticks, tick_us);
}

static void
test_engine_add_and_lookup (void)
{
  g_autoptr(SondeEngine) engine = sonde_engine_new ();
  g_autoptr(SondeFakeCollector) fake = sonde_fake_collector_new ("fake");
  g_autoptr(SondeFakeCollector) twin = sonde_fake_collector_new ("fake");
  g_autoptr(SondeFakeCollector) dotted = sonde_fake_collector_new ("fa.ke");
  g_autoptr(GPtrArray) collectors = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_true (sonde_engine_add_collector (engine, SONDE_COLLECTOR (fake), &error));
  g_assert_no_error (error);
  g_assert_true (sonde_collector_get_engine (SONDE_COLLECTOR (fake)) == engine);

  g_assert_false (sonde_engine_add_collector (engine, SONDE_COLLECTOR (twin), &error));
  g_assert_error (error, SONDE_ERROR, SONDE_ERROR_EXISTS);
  g_clear_error (&error);

  g_assert_false (sonde_engine_add_collector (engine, SONDE_COLLECTOR (dotted), &error));
  g_assert_error (error, SONDE_ERROR, SONDE_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  g_assert_true (sonde_engine_get_collector (engine, "fake") == SONDE_COLLECTOR (fake));
  g_assert_null (sonde_engine_get_collector (engine, "nope"));
  g_assert_nonnull (sonde_engine_lookup_metric (engine, "fake.value"));
  g_assert_null (sonde_engine_lookup_metric (engine, "fake.nope"));
  g_assert_null (sonde_engine_lookup_metric (engine, "fake"));

  collectors = sonde_engine_list_collectors (engine);
  g_assert_cmpuint (collectors->len, ==, 1);

  g_assert_true (sonde_engine_remove_collector (engine, "fake"));
  g_assert_false (sonde_engine_remove_collector (engine, "fake"));
  g_assert_null (sonde_collector_get_engine (SONDE_COLLECTOR (fake)));
}

static void
test_engine_hold_errors (void)
{
  g_autoptr(SondeEngine) engine = sonde_engine_new ();
  g_autoptr(SondeFakeCollector) fake = sonde_fake_collector_new ("fake");
  g_autoptr(GError) error = NULL;

  sonde_engine_add_collector (engine, SONDE_COLLECTOR (fake), NULL);

  g_assert_cmpuint (sonde_engine_hold (engine, "nope", 1000, &error), ==, 0);
  g_assert_error (error, SONDE_ERROR, SONDE_ERROR_UNKNOWN_COLLECTOR);
  g_clear_error (&error);

  g_assert_cmpuint (sonde_engine_hold (engine, "fake", 99, &error), ==, 0);
  g_assert_error (error, SONDE_ERROR, SONDE_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  g_assert_cmpuint (sonde_engine_hold (engine, "fake", 60001, &error), ==, 0);
  g_assert_error (error, SONDE_ERROR, SONDE_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  /* Releasing an unknown hold is harmless. */
  sonde_engine_release (engine, 12345);
}

static void
test_engine_once_per_tick (void)
{
  g_autoptr(SondeEngine) engine = sonde_engine_new ();
  g_autoptr(SondeFakeCollector) fake = sonde_fake_collector_new ("fake");
  g_autoptr(GArray) ticks = g_array_new (FALSE, FALSE, sizeof (gint64));
  guint holds[3];

  sonde_engine_add_collector (engine, SONDE_COLLECTOR (fake), NULL);
  g_signal_connect (engine, "tick", G_CALLBACK (count_tick_cb), ticks);

  /* Three consumers, two at 100 ms and one at 200 ms: one collection per
   * tick, never one per consumer. */
  holds[0] = sonde_engine_hold (engine, "fake", 100, NULL);
  holds[1] = sonde_engine_hold (engine, "fake", 100, NULL);
  holds[2] = sonde_engine_hold (engine, "fake", 200, NULL);
  g_assert_true (sonde_collector_get_running (SONDE_COLLECTOR (fake)) ||
                 sonde_fake_collector_get_n_collected (fake) == 0);

  sonde_test_wait_until (ticks->len >= 6);
  g_assert_cmpuint (sonde_fake_collector_get_n_collected (fake), <=, ticks->len + 1);
  g_assert_cmpuint (sonde_fake_collector_get_n_collected (fake), >=, ticks->len - 1);
  for (guint i = 0; i < ticks->len; i++)
    g_assert_cmpint (g_array_index (ticks, gint64, i) % (100 * 1000), ==, 0);
  for (guint i = 1; i < ticks->len; i++)
    g_assert_cmpint (g_array_index (ticks, gint64, i), >, g_array_index (ticks, gint64, i - 1));

  g_assert_nonnull (sonde_engine_get_latest (engine, "fake"));

  for (guint i = 0; i < G_N_ELEMENTS (holds); i++)
    sonde_engine_release (engine, holds[i]);
  sonde_test_wait_until (!sonde_collector_get_running (SONDE_COLLECTOR (fake)));
}

static void
failed_cb (SondeCollector *collector,
           const GError   *error,
           guint          *n_failed)
{
  (*n_failed)++;
}

static void
event_cb (SondeEngine *engine,
          SondeEvent  *event,
          GPtrArray   *events)
{
  g_ptr_array_add (events, sonde_event_ref (event));
}

static void
test_engine_failure_is_reported (void)
{
  g_autoptr(SondeEngine) engine = sonde_engine_new ();
  g_autoptr(SondeFakeCollector) fake = sonde_fake_collector_new ("fake");
  g_autoptr(GPtrArray) events = g_ptr_array_new_with_free_func ((GDestroyNotify) sonde_event_unref);
  guint n_failed = 0;
  guint hold;
  SondeEvent *event;

  sonde_engine_add_collector (engine, SONDE_COLLECTOR (fake), NULL);
  sonde_fake_collector_set_failing (fake, TRUE);
  g_signal_connect (fake, "failed", G_CALLBACK (failed_cb), &n_failed);
  g_signal_connect (engine, "event", G_CALLBACK (event_cb), events);

  hold = sonde_engine_hold (engine, "fake", 100, NULL);
  sonde_test_wait_until (n_failed >= 3);

  /* Every failed collection is a `failed` signal, but the same failure
   * again and again is one event, not one per tick. */
  g_assert_cmpuint (events->len, ==, 1);
  event = g_ptr_array_index (events, 0);
  g_assert_cmpstr (sonde_event_get_event_type (event), ==, "collector_error");
  g_assert_cmpstr (sonde_event_get_source (event), ==, "fake");
  g_assert_cmpstr (json_object_get_string_member (sonde_event_get_data (event), "collector"), ==, "fake");
  g_assert_null (sonde_engine_get_latest (engine, "fake"));

  /* It recovers as soon as a collection works again. */
  sonde_fake_collector_set_failing (fake, FALSE);
  sonde_test_wait_until (sonde_engine_get_latest (engine, "fake") != NULL);
  g_assert_cmpuint (events->len, ==, 1);

  /* Failing again after recovering is news. */
  n_failed = 0;
  sonde_fake_collector_set_failing (fake, TRUE);
  sonde_test_wait_until (n_failed >= 3);
  g_assert_cmpuint (events->len, ==, 2);
  event = g_ptr_array_index (events, 1);
  g_assert_cmpstr (sonde_event_get_event_type (event), ==, "collector_error");
  g_assert_cmpstr (sonde_event_get_source (event), ==, "fake");

  sonde_engine_release (engine, hold);
}

static void
test_engine_deadline (void)
{
  g_autoptr(SondeEngine) engine = sonde_engine_new ();
  g_autoptr(SondeFakeCollector) fake = sonde_fake_collector_new ("fake");
  g_autoptr(SondeGateCollector) stuck = sonde_test_gate_collector_new ("stuck");
  g_autoptr(GPtrArray) events = g_ptr_array_new_with_free_func ((GDestroyNotify) sonde_event_unref);
  g_autoptr(GArray) ticks = g_array_new (FALSE, FALSE, sizeof (gint64));
  guint hold_fake, hold_stuck;

  sonde_engine_add_collector (engine, SONDE_COLLECTOR (fake), NULL);
  sonde_engine_add_collector (engine, SONDE_COLLECTOR (stuck), NULL);
  g_signal_connect (engine, "event", G_CALLBACK (event_cb), events);
  g_signal_connect (engine, "tick", G_CALLBACK (count_tick_cb), ticks);

  hold_fake = sonde_engine_hold (engine, "fake", 100, NULL);
  hold_stuck = sonde_engine_hold (engine, "stuck", 100, NULL);

  /* The clock and the other collector go on while "stuck" hangs. */
  sonde_test_wait_until (ticks->len >= 5 && sonde_fake_collector_get_n_collected (fake) >= 5);
  g_assert_cmpuint (events->len, >=, 1);
  g_assert_cmpstr (sonde_event_get_event_type (g_ptr_array_index (events, 0)), ==, "collector_error");
  g_assert_cmpstr (sonde_event_get_source (g_ptr_array_index (events, 0)), ==, "stuck");
  g_assert_null (sonde_engine_get_latest (engine, "stuck"));

  sonde_test_gate_collector_open (stuck);
  sonde_test_wait_until (sonde_engine_get_latest (engine, "stuck") != NULL);
  g_assert_false (_sonde_engine_is_stale (engine, "stuck"));

  sonde_engine_release (engine, hold_fake);
  sonde_engine_release (engine, hold_stuck);
}

static void
test_engine_unstartable_is_skipped (void)
{
  if (g_test_subprocess ())
    {
      g_autoptr(SondeEngine) engine = sonde_engine_new ();
      g_autoptr(SondeFakeCollector) fake = sonde_fake_collector_new ("fake");
      g_autoptr(SondeCollector) broken = sonde_test_broken_collector_new ("broken");

      /* Logged, not fatal: the daemon runs on. */
      g_log_set_always_fatal (G_LOG_FATAL_MASK);
      sonde_engine_add_collector (engine, SONDE_COLLECTOR (fake), NULL);
      sonde_engine_add_collector (engine, SONDE_COLLECTOR (broken), NULL);
      sonde_engine_hold (engine, "fake", 100, NULL);
      sonde_engine_hold (engine, "broken", 100, NULL);

      sonde_test_wait_until (sonde_engine_get_collector (engine, "broken") == NULL);
      sonde_test_wait_until (sonde_fake_collector_get_n_collected (fake) >= 3);
      return;
    }

  g_test_trap_subprocess (NULL, 10 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
  g_test_trap_assert_stderr ("*Collector broken cannot start, skipping it: no such file*");
}

static void
refreshed_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  gboolean *done = user_data;

  g_assert_true (sonde_engine_refresh_finish (SONDE_ENGINE (source), result, NULL));
  *done = TRUE;
}

static void
test_engine_refresh (void)
{
  g_autoptr(SondeEngine) engine = sonde_engine_new ();
  g_autoptr(SondeFakeCollector) fake = sonde_fake_collector_new ("fake");
  g_autoptr(SondeFakeCollector) other = sonde_fake_collector_new ("other");
  const char *only_fake[] = { "fake", NULL };
  gboolean done = FALSE;

  sonde_engine_add_collector (engine, SONDE_COLLECTOR (fake), NULL);
  sonde_engine_add_collector (engine, SONDE_COLLECTOR (other), NULL);

  sonde_engine_refresh_async (engine, only_fake, NULL, refreshed_cb, &done);
  sonde_test_wait_until (done);

  g_assert_nonnull (sonde_engine_get_latest (engine, "fake"));
  g_assert_null (sonde_engine_get_latest (engine, "other"));
  /* Kept warm for a while, so that polling readers get rates. */
  g_assert_true (sonde_collector_get_running (SONDE_COLLECTOR (fake)));
}

static void
test_engine_load_plugins (void)
{
  static const char * const expected[] = {
    "cpu", "memory", "disk", "network", "processes", "gateway", "host"
  };
  g_autoptr(SondeEngine) engine = sonde_engine_new ();
  g_autoptr(GPtrArray) collectors = NULL;
  guint n_loaded;

  if (g_getenv ("SONDE_PLUGIN_PATH") == NULL)
    {
      g_test_skip ("SONDE_PLUGIN_PATH is not set");
      return;
    }

  /* The built-in collectors first, in docs/formats/native.md's order; others (logs)
   * follow by name. */
  n_loaded = sonde_engine_load_plugins (engine, NULL);
  g_assert_cmpuint (n_loaded, >=, G_N_ELEMENTS (expected));

  collectors = sonde_engine_list_collectors (engine);
  for (guint i = 0; i < G_N_ELEMENTS (expected); i++)
    {
      SondeCollector *collector = g_ptr_array_index (collectors, i);
      g_autoptr(GPtrArray) metrics = sonde_collector_get_metrics (collector);

      g_assert_cmpstr (sonde_collector_get_name (collector), ==, expected[i]);
      g_assert_cmpuint (metrics->len, >, 0);
    }

  /* Loading again finds the same modules and adds nothing. */
  g_assert_cmpuint (sonde_engine_load_plugins (engine, NULL), ==, 0);
}

/* A disabled collector leaves the lists and the catalog, and comes back
 * the same object. */
static void
test_engine_collector_enabled (void)
{
  g_autoptr(SondeEngine) engine = sonde_engine_new ();
  g_autoptr(SondeFakeCollector) fake = sonde_fake_collector_new ("fake");
  g_autoptr(SondeFakeCollector) twin = sonde_fake_collector_new ("fake");
  g_autoptr(GPtrArray) listed = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_true (sonde_engine_add_collector (engine, SONDE_COLLECTOR (fake), NULL));
  g_assert_true (sonde_engine_get_collector_enabled (engine, "fake"));

  g_assert_true (sonde_engine_set_collector_enabled (engine, "fake", FALSE, &error));
  g_assert_no_error (error);
  g_assert_false (sonde_engine_get_collector_enabled (engine, "fake"));
  g_assert_null (sonde_engine_get_collector (engine, "fake"));
  g_assert_null (sonde_engine_lookup_metric (engine, "fake.value"));
  listed = sonde_engine_list_collectors (engine);
  g_assert_cmpuint (listed->len, ==, 0);
  g_assert_cmpuint (sonde_engine_hold (engine, "fake", 1000, NULL), ==, 0);

  /* Disabling twice is no error; a disabled name is still taken. */
  g_assert_true (sonde_engine_set_collector_enabled (engine, "fake", FALSE, NULL));
  g_assert_false (sonde_engine_add_collector (engine, SONDE_COLLECTOR (twin), &error));
  g_assert_error (error, SONDE_ERROR, SONDE_ERROR_EXISTS);
  g_clear_error (&error);

  g_assert_true (sonde_engine_set_collector_enabled (engine, "fake", TRUE, NULL));
  g_assert_true (sonde_engine_get_collector (engine, "fake") == SONDE_COLLECTOR (fake));
  g_assert_nonnull (sonde_engine_lookup_metric (engine, "fake.value"));

  g_assert_false (sonde_engine_set_collector_enabled (engine, "nope", TRUE, &error));
  g_assert_error (error, SONDE_ERROR, SONDE_ERROR_UNKNOWN_COLLECTOR);

  /* Removing forgets a disabled collector too. */
  g_assert_true (sonde_engine_set_collector_enabled (engine, "fake", FALSE, NULL));
  g_assert_true (sonde_engine_remove_collector (engine, "fake"));
  g_assert_false (sonde_engine_set_collector_enabled (engine, "fake", TRUE, NULL));
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/engine/add-and-lookup", test_engine_add_and_lookup);
  g_test_add_func ("/engine/collector-enabled", test_engine_collector_enabled);
  g_test_add_func ("/engine/hold-errors", test_engine_hold_errors);
  g_test_add_func ("/engine/once-per-tick", test_engine_once_per_tick);
  g_test_add_func ("/engine/failure-is-reported", test_engine_failure_is_reported);
  g_test_add_func ("/engine/deadline", test_engine_deadline);
  g_test_add_func ("/engine/unstartable-is-skipped", test_engine_unstartable_is_skipped);
  g_test_add_func ("/engine/refresh", test_engine_refresh);
  g_test_add_func ("/engine/load-plugins", test_engine_load_plugins);

  return g_test_run ();
}
