/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "sonde-collector-private.h"
#include "sonde-engine-private.h"
#include "sonde-test-util.h"

/*
 * The engine against handlers that change it while it emits, collectors
 * removed and added back while they collect, a wall clock stepped back,
 * and callers that share JSON with a worker thread.
 */

/* A collector that fails with the message it is given, or works. */
#define TEST_TYPE_MOODY_COLLECTOR (test_moody_collector_get_type ())
G_DECLARE_FINAL_TYPE (TestMoodyCollector, test_moody_collector, TEST, MOODY_COLLECTOR, SondeCollector)

struct _TestMoodyCollector
{
  SondeCollector parent_instance;
  GMutex         lock;
  char          *message;   /* NULL: works */
};

G_DEFINE_FINAL_TYPE (TestMoodyCollector, test_moody_collector, SONDE_TYPE_COLLECTOR)

static SondeSample *
test_moody_collector_collect (SondeCollector  *collector,
                              GError         **error)
{
  TestMoodyCollector *self = TEST_MOODY_COLLECTOR (collector);
  g_autoptr(JsonObject) data = NULL;
  g_autofree char *message = NULL;

  g_mutex_lock (&self->lock);
  message = g_strdup (self->message);
  g_mutex_unlock (&self->lock);

  if (message != NULL)
    {
      g_set_error_literal (error, SONDE_ERROR, SONDE_ERROR_COLLECTOR_FAILED, message);
      return NULL;
    }

  data = json_object_new ();
  json_object_set_int_member (data, "value", 1);
  return sonde_sample_new (sonde_collector_get_name (collector), g_get_real_time (), data);
}

static void
test_moody_collector_finalize (GObject *object)
{
  TestMoodyCollector *self = TEST_MOODY_COLLECTOR (object);

  g_free (self->message);
  g_mutex_clear (&self->lock);
  G_OBJECT_CLASS (test_moody_collector_parent_class)->finalize (object);
}

static void
test_moody_collector_class_init (TestMoodyCollectorClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = test_moody_collector_finalize;
  SONDE_COLLECTOR_CLASS (klass)->collect = test_moody_collector_collect;
}

static void
test_moody_collector_init (TestMoodyCollector *self)
{
  g_mutex_init (&self->lock);
}

static void
test_moody_collector_set_message (TestMoodyCollector *self,
                                  const char         *message)
{
  g_mutex_lock (&self->lock);
  g_free (self->message);
  self->message = g_strdup (message);
  g_mutex_unlock (&self->lock);
}

/* Helpers ----------------------------------------------------------------- */

static void
count_tick_cb (SondeEngine *engine,
               gint64       tick_us,
               GArray      *ticks)
{
  g_array_append_val (ticks, tick_us);
}

static void
event_cb (SondeEngine *engine,
          SondeEvent  *event,
          GPtrArray   *events)
{
  g_ptr_array_add (events, sonde_event_ref (event));
}

static void
count_failed_cb (SondeCollector *collector,
                 const GError   *error,
                 guint          *n_failed)
{
  (*n_failed)++;
}

static void
assert_ticks_distinct (GArray *ticks)
{
  for (guint i = 1; i < ticks->len; i++)
    g_assert_cmpint (g_array_index (ticks, gint64, i), !=, g_array_index (ticks, gint64, i - 1));
}

/* Finding 3: handlers that remove and add collectors ---------------------- */

typedef struct
{
  SondeEngine        *engine;
  SondeFakeCollector *replacement;
  guint               n_calls;
} Replace;

/* Replaces the collector that failed by a working one of the same name,
 * while the engine is reporting the failure from its dispatch loop. */
static void
replace_failed_cb (SondeCollector *collector,
                   const GError   *error,
                   Replace        *replace)
{
  const char *name = sonde_collector_get_name (collector);

  if (replace->n_calls++ > 0)
    return;

  g_assert_true (sonde_engine_remove_collector (replace->engine, name));
  g_assert_true (sonde_engine_add_collector (replace->engine,
                                             SONDE_COLLECTOR (replace->replacement), NULL));
  g_assert_cmpuint (sonde_engine_hold (replace->engine, name, 100, NULL), !=, 0);
}

static void
test_unstartable_replaced_by_handler (void)
{
  if (g_test_subprocess ())
    {
      g_autoptr(SondeEngine) engine = sonde_engine_new ();
      g_autoptr(SondeFakeCollector) fake = sonde_fake_collector_new ("fake");
      g_autoptr(SondeCollector) broken = sonde_test_broken_collector_new ("broken");
      g_autoptr(SondeFakeCollector) replacement = sonde_fake_collector_new ("broken");
      Replace replace = { engine, replacement, 0 };

      /* The skipped collector's warning is expected; criticals are not. */
      g_log_set_always_fatal (G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL);
      sonde_engine_add_collector (engine, SONDE_COLLECTOR (fake), NULL);
      sonde_engine_add_collector (engine, SONDE_COLLECTOR (broken), NULL);
      g_signal_connect (broken, "failed", G_CALLBACK (replace_failed_cb), &replace);
      sonde_engine_hold (engine, "fake", 100, NULL);
      sonde_engine_hold (engine, "broken", 100, NULL);

      /* The skipped collector's delayed removal leaves its replacement,
       * of the same name, alone. */
      sonde_test_wait_until (sonde_fake_collector_get_n_collected (replacement) >= 3);
      g_assert_cmpuint (replace.n_calls, ==, 1);
      g_assert_true (sonde_engine_get_collector (engine, "broken") == SONDE_COLLECTOR (replacement));
      g_assert_null (sonde_collector_get_engine (SONDE_COLLECTOR (broken)));
      g_assert_cmpuint (sonde_fake_collector_get_n_collected (fake), >=, 2);
      return;
    }

  g_test_trap_subprocess (NULL, 10 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
  g_test_trap_assert_stderr ("*Collector broken cannot start, skipping it: no such file*");
  g_test_trap_assert_stderr_unmatched ("*CRITICAL*");
}

static void
remove_on_failure_cb (SondeCollector *collector,
                      const GError   *error,
                      SondeEngine    *engine)
{
  sonde_engine_remove_collector (engine, sonde_collector_get_name (collector));
}

/* A collector that misses its deadline and whose failure handler removes
 * it, while the engine expires the tick. */
static void
test_expired_removed_by_handler (void)
{
  g_autoptr(SondeEngine) engine = sonde_engine_new ();
  g_autoptr(SondeFakeCollector) fake = sonde_fake_collector_new ("fake");
  g_autoptr(SondeGateCollector) gate = sonde_test_gate_collector_new ("gate");
  g_autoptr(GArray) ticks = g_array_new (FALSE, FALSE, sizeof (gint64));
  guint n_ticks;

  sonde_engine_add_collector (engine, SONDE_COLLECTOR (fake), NULL);
  sonde_engine_add_collector (engine, SONDE_COLLECTOR (gate), NULL);
  g_signal_connect (gate, "failed", G_CALLBACK (remove_on_failure_cb), engine);
  g_signal_connect (engine, "tick", G_CALLBACK (count_tick_cb), ticks);

  sonde_engine_hold (engine, "fake", 100, NULL);
  sonde_engine_hold (engine, "gate", 100, NULL);

  sonde_test_wait_until (sonde_engine_get_collector (engine, "gate") == NULL);
  n_ticks = ticks->len;
  sonde_test_wait_until (ticks->len >= n_ticks + 3);
  assert_ticks_distinct (ticks);

  /* The removed collector is stopped once its collection returns. */
  g_assert_true (sonde_collector_get_running (SONDE_COLLECTOR (gate)));
  sonde_test_gate_collector_open (gate);
  sonde_test_wait_until (!sonde_collector_get_running (SONDE_COLLECTOR (gate)));
}

/* Finding 4: removed and added back while collecting ---------------------- */

static void
count_stops_cb (SondeCollector *collector,
                GParamSpec     *pspec,
                guint          *n_stops)
{
  if (!sonde_collector_get_running (collector))
    (*n_stops)++;
}

static void
test_readded_while_collecting (void)
{
  g_autoptr(SondeEngine) engine = sonde_engine_new ();
  g_autoptr(SondeGateCollector) gate = sonde_test_gate_collector_new ("gate");
  g_autoptr(GArray) ticks = g_array_new (FALSE, FALSE, sizeof (gint64));
  guint n_stops = 0;
  guint n_ticks;
  guint hold;

  sonde_engine_add_collector (engine, SONDE_COLLECTOR (gate), NULL);
  g_signal_connect (engine, "tick", G_CALLBACK (count_tick_cb), ticks);
  sonde_engine_hold (engine, "gate", 100, NULL);
  sonde_test_wait_until (sonde_test_gate_collector_get_entered (gate) == 1);

  /* Disabled and enabled again while its collection hangs. */
  g_assert_true (sonde_engine_remove_collector (engine, "gate"));
  g_assert_true (sonde_collector_get_running (SONDE_COLLECTOR (gate)));
  g_assert_true (sonde_engine_add_collector (engine, SONDE_COLLECTOR (gate), NULL));
  g_signal_connect (gate, "notify::running", G_CALLBACK (count_stops_cb), &n_stops);
  hold = sonde_engine_hold (engine, "gate", 100, NULL);

  /* Ticks go by without a second collect() of the same object. */
  n_ticks = ticks->len;
  sonde_test_wait_until (ticks->len >= n_ticks + 3);
  g_assert_cmpuint (sonde_test_gate_collector_get_entered (gate), ==, 1);
  g_assert_cmpuint (sonde_test_gate_collector_get_max_active (gate), ==, 1);

  /* The old collection's end does not stop the collector, which is held
   * in the engine again, and collecting resumes. */
  sonde_test_gate_collector_open (gate);
  sonde_test_wait_until (sonde_test_gate_collector_get_entered (gate) >= 3 &&
                         sonde_engine_get_latest (engine, "gate") != NULL);
  g_assert_cmpuint (n_stops, ==, 0);
  g_assert_cmpuint (sonde_test_gate_collector_get_max_active (gate), ==, 1);

  sonde_engine_release (engine, hold);
  sonde_test_wait_until (!sonde_collector_get_running (SONDE_COLLECTOR (gate)));
}

/* Finding 10: removing the collector a tick waits for --------------------- */

static void
test_remove_publishes_tick (void)
{
  g_autoptr(SondeEngine) engine = sonde_engine_new ();
  g_autoptr(SondeGateCollector) gate = sonde_test_gate_collector_new ("gate");
  g_autoptr(GArray) ticks = g_array_new (FALSE, FALSE, sizeof (gint64));
  guint n_ticks;

  sonde_engine_add_collector (engine, SONDE_COLLECTOR (gate), NULL);
  g_signal_connect (engine, "tick", G_CALLBACK (count_tick_cb), ticks);

  /* At 1 s, the tick would wait 900 ms for its deadline. */
  sonde_engine_hold (engine, "gate", 1000, NULL);
  sonde_test_wait_until (sonde_test_gate_collector_get_entered (gate) == 1);
  n_ticks = ticks->len;

  /* The tick waited for nobody else: it is complete at once. */
  sonde_engine_remove_collector (engine, "gate");
  g_assert_cmpuint (ticks->len, ==, n_ticks + 1);

  /* And not published a second time by its deadline. */
  sonde_test_spin_for (1000);
  g_assert_cmpuint (ticks->len, ==, n_ticks + 1);

  sonde_test_gate_collector_open (gate);
  sonde_test_wait_until (!sonde_collector_get_running (SONDE_COLLECTOR (gate)));
}

/* Finding 7: the wall clock stepped back ---------------------------------- */

/* Only read by the engine's clock, on the main thread. */
static gint64 clock_offset_us;

static gint64
stepped_clock (void)
{
  return g_get_real_time () + clock_offset_us;
}

static void
test_clock_stepped_back (void)
{
  g_autoptr(SondeEngine) engine = sonde_engine_new ();
  g_autoptr(SondeFakeCollector) fake = sonde_fake_collector_new ("fake");
  g_autoptr(GArray) ticks = g_array_new (FALSE, FALSE, sizeof (gint64));
  gint64 before_step;
  guint n_ticks;

  clock_offset_us = 0;
  _sonde_engine_set_wall_clock (engine, stepped_clock);
  sonde_engine_add_collector (engine, SONDE_COLLECTOR (fake), NULL);
  g_signal_connect (engine, "tick", G_CALLBACK (count_tick_cb), ticks);
  sonde_engine_hold (engine, "fake", 100, NULL);

  sonde_test_wait_until (ticks->len >= 3);
  before_step = g_array_index (ticks, gint64, ticks->len - 1);

  /* NTP steps the clock back a minute: the ticks go on at once, aligned
   * to the new time, instead of stalling for a minute. */
  clock_offset_us = -60 * G_USEC_PER_SEC;
  n_ticks = ticks->len;
  sonde_test_wait_until_full (ticks->len >= n_ticks + 5, 3000);
  /* The timer set before the step may still produce one tick on the old
   * time; after it, the ticks follow the new one. */
  for (guint i = n_ticks + 1; i < ticks->len; i++)
    {
      gint64 tick = g_array_index (ticks, gint64, i);

      g_assert_cmpint (tick, <, before_step - 50 * G_USEC_PER_SEC);
      g_assert_cmpint (tick % (100 * 1000), ==, 0);
      if (i > n_ticks + 1)
        g_assert_cmpint (tick, >, g_array_index (ticks, gint64, i - 1));
    }

  /* A clock stepped back by less than an interval (a timer firing a
   * little early, in wall-clock terms) never repeats a tick. */
  clock_offset_us -= 30 * 1000;
  n_ticks = ticks->len;
  sonde_test_wait_until (ticks->len >= n_ticks + 3);
  for (guint i = n_ticks; i < ticks->len; i++)
    g_assert_cmpint (g_array_index (ticks, gint64, i), >, g_array_index (ticks, gint64, i - 1));
}

/* Finding 13: refreshes of a collector that has no fresh sample ----------- */

static void
refreshed_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  guint *n_done = user_data;

  g_assert_true (sonde_engine_refresh_finish (SONDE_ENGINE (source), result, NULL));
  (*n_done)++;
}

static void
test_refresh_linger_is_shared (void)
{
  SondeEngine *engine = sonde_engine_new ();
  g_autoptr(SondeFakeCollector) fake = sonde_fake_collector_new ("fake");
  const char *only_fake[] = { "fake", NULL };
  CollectorState *state;
  gint64 first_deadline;
  guint n_done = 0;

  sonde_engine_add_collector (engine, SONDE_COLLECTOR (fake), NULL);
  sonde_fake_collector_set_failing (fake, TRUE);
  state = _sonde_engine_find_state (engine, "fake");

  sonde_engine_refresh_async (engine, only_fake, NULL, refreshed_cb, &n_done);
  sonde_test_wait_until (n_done == 1);
  first_deadline = state->linger_deadline_us;

  /* A client polling a failing collector: one hold, put off each time. */
  for (guint i = 2; i <= 20; i++)
    {
      sonde_engine_refresh_async (engine, only_fake, NULL, refreshed_cb, &n_done);
      sonde_test_wait_until (n_done == i);
    }
  g_assert_cmpuint (_sonde_clock_get_n_holds (_sonde_engine_get_clock (engine)), ==, 1);
  g_assert_cmpuint (state->hold_intervals->len, ==, 1);
  g_assert_cmpint (state->linger_deadline_us, >, first_deadline);
  g_assert_true (sonde_collector_get_running (SONDE_COLLECTOR (fake)));

  /* The lingering hold does not keep the engine alive. */
  g_object_add_weak_pointer (G_OBJECT (engine), (gpointer *) &engine);
  g_object_unref (engine);
  g_assert_null (engine);
  g_assert_false (sonde_collector_get_running (SONDE_COLLECTOR (fake)));

  /* Nor does anything fire on the disposed engine afterwards. */
  sonde_test_spin_for (300);
}

/* Finding 14: one event per failure, not per failed collection ------------ */

static void
test_failure_events_on_change (void)
{
  g_autoptr(SondeEngine) engine = sonde_engine_new ();
  g_autoptr(TestMoodyCollector) moody = g_object_new (TEST_TYPE_MOODY_COLLECTOR, "name", "moody", NULL);
  g_autoptr(GPtrArray) events = g_ptr_array_new_with_free_func ((GDestroyNotify) sonde_event_unref);
  guint n_failed = 0;

  sonde_engine_add_collector (engine, SONDE_COLLECTOR (moody), NULL);
  g_signal_connect (moody, "failed", G_CALLBACK (count_failed_cb), &n_failed);
  g_signal_connect (engine, "event", G_CALLBACK (event_cb), events);

  test_moody_collector_set_message (moody, "disk gone");
  sonde_engine_hold (engine, "moody", 100, NULL);
  sonde_test_wait_until (n_failed >= 3);
  g_assert_cmpuint (events->len, ==, 1);

  /* Another reason is news. */
  test_moody_collector_set_message (moody, "permission denied");
  n_failed = 0;
  sonde_test_wait_until (n_failed >= 3);
  g_assert_cmpuint (events->len, ==, 2);
  g_assert_cmpstr (json_object_get_string_member (sonde_event_get_data (g_ptr_array_index (events, 0)), "message"),
                   ==, "disk gone");
  g_assert_cmpstr (json_object_get_string_member (sonde_event_get_data (g_ptr_array_index (events, 1)), "message"),
                   ==, "permission denied");
  g_assert_cmpstr (_sonde_engine_get_failure (engine, "moody"), ==, "permission denied");
}

/* Finding 5: event data handed to the main thread ------------------------- */

static void
collector_event_cb (SondeCollector *collector,
                    SondeEvent     *event,
                    GPtrArray      *events)
{
  g_ptr_array_add (events, sonde_event_ref (event));
}

static JsonObject *
new_event_data (int n)
{
  JsonObject *data = json_object_new ();
  JsonObject *nested = json_object_new ();
  JsonArray *array = json_array_new ();

  json_object_set_int_member (nested, "n", n);
  json_array_add_int_element (array, n);
  json_array_add_string_element (array, "x");
  json_array_add_null_element (array);
  json_array_add_boolean_element (array, TRUE);
  json_array_add_double_element (array, 2.5);
  json_array_add_object_element (array, json_object_new ());
  json_object_set_string_member (data, "file", "/var/log/syslog");
  json_object_set_object_member (data, "nested", nested);
  json_object_set_array_member (data, "array", array);
  json_object_set_null_member (data, "none");
  return data;
}

static void
test_event_data_is_copied (void)
{
  g_autoptr(SondeFakeCollector) fake = sonde_fake_collector_new ("fake");
  g_autoptr(GPtrArray) events = g_ptr_array_new_with_free_func ((GDestroyNotify) sonde_event_unref);
  g_autoptr(JsonObject) data = new_event_data (7);
  g_autofree char *before = sonde_test_to_json (data);
  g_autofree char *copied = NULL;
  JsonObject *event_data;

  g_signal_connect (fake, "event", G_CALLBACK (collector_event_cb), events);
  sonde_collector_emit_event (SONDE_COLLECTOR (fake), "log_line", data);
  sonde_test_wait_until (events->len == 1);

  /* The event has its own copy, down to the nested values; the caller's
   * object is neither shared nor sealed. */
  event_data = sonde_event_get_data (g_ptr_array_index (events, 0));
  g_assert_true (event_data != data);
  g_assert_true (json_object_get_object_member (event_data, "nested") !=
                 json_object_get_object_member (data, "nested"));
  g_assert_true (json_object_get_array_member (event_data, "array") !=
                 json_object_get_array_member (data, "array"));
  g_assert_true (json_object_get_member (event_data, "file") != json_object_get_member (data, "file"));
  g_assert_false (json_object_is_immutable (data));
  g_assert_true (json_object_is_immutable (event_data));
  copied = sonde_test_to_json (event_data);
  g_assert_cmpstr (copied, ==, before);

  /* So the caller may change it at once. */
  json_object_set_int_member (json_object_get_object_member (data, "nested"), "n", 8);
  g_clear_pointer (&copied, g_free);
  copied = sonde_test_to_json (event_data);
  g_assert_cmpstr (copied, ==, before);
}

#define N_THREAD_EVENTS 200

/* What the logs collector does: emit objects it also keeps, then unref. */
static gpointer
emit_events_thread (gpointer data)
{
  SondeCollector *collector = data;
  g_autoptr(GPtrArray) kept = g_ptr_array_new_with_free_func ((GDestroyNotify) json_object_unref);

  for (int i = 0; i < N_THREAD_EVENTS; i++)
    {
      JsonObject *object = new_event_data (i);

      g_ptr_array_add (kept, object);
      sonde_collector_emit_event (collector, "log_line", object);
      json_object_set_int_member (object, "changed_after", i);
    }

  return NULL;
}

static void
test_event_data_from_thread (void)
{
  g_autoptr(SondeFakeCollector) fake = sonde_fake_collector_new ("fake");
  g_autoptr(GPtrArray) events = g_ptr_array_new_with_free_func ((GDestroyNotify) sonde_event_unref);
  GThread *thread;

  g_signal_connect (fake, "event", G_CALLBACK (collector_event_cb), events);
  thread = g_thread_new ("emitter", emit_events_thread, fake);
  sonde_test_wait_until (events->len == N_THREAD_EVENTS);
  g_thread_join (thread);

  for (int i = 0; i < N_THREAD_EVENTS; i++)
    {
      JsonObject *event_data = sonde_event_get_data (g_ptr_array_index (events, i));
      JsonObject *nested = json_object_get_object_member (event_data, "nested");

      g_assert_cmpint (json_object_get_int_member (nested, "n"), ==, i);
      g_assert_false (json_object_has_member (event_data, "changed_after"));
      g_assert_cmpuint (json_array_get_length (json_object_get_array_member (event_data, "array")), ==, 6);
    }
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/engine/races/unstartable-replaced-by-handler", test_unstartable_replaced_by_handler);
  g_test_add_func ("/engine/races/expired-removed-by-handler", test_expired_removed_by_handler);
  g_test_add_func ("/engine/races/readded-while-collecting", test_readded_while_collecting);
  g_test_add_func ("/engine/races/remove-publishes-tick", test_remove_publishes_tick);
  g_test_add_func ("/engine/races/clock-stepped-back", test_clock_stepped_back);
  g_test_add_func ("/engine/races/refresh-linger-is-shared", test_refresh_linger_is_shared);
  g_test_add_func ("/engine/races/failure-events-on-change", test_failure_events_on_change);
  g_test_add_func ("/engine/races/event-data-is-copied", test_event_data_is_copied);
  g_test_add_func ("/engine/races/event-data-from-thread", test_event_data_from_thread);

  return g_test_run ();
}
