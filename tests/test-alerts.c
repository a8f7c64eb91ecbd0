/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <math.h>

#include "sonde-engine-private.h"
#include "sonde-test-util.h"

/* The alert engine on a collector whose values the test sets: a rule
 * fires once, waits for its cooldown, waits for its for-seconds, and
 * holds its collector only while it exists and is enabled. */

/* A dial: "level" (a gauge the test sets; NaN leaves it out), "label"
 * (text) and "disks" (a table of {name, id, used_percent}). */
#define SONDE_TYPE_DIAL_COLLECTOR (sonde_dial_collector_get_type ())
G_DECLARE_FINAL_TYPE (SondeDialCollector, sonde_dial_collector, SONDE, DIAL_COLLECTOR, SondeCollector)

struct _SondeDialCollector
{
  SondeCollector parent_instance;

  GMutex         lock;   /* collect() runs in a worker thread */
  double         level;
  double         sda;
  double         sdb;
};

G_DEFINE_FINAL_TYPE (SondeDialCollector, sonde_dial_collector, SONDE_TYPE_COLLECTOR)

static JsonObject *
new_disk (const char *name,
          gint64      id,
          double      used)
{
  JsonObject *disk = json_object_new ();

  json_object_set_string_member (disk, "name", name);
  json_object_set_int_member (disk, "id", id);
  json_object_set_double_member (disk, "used_percent", used);
  return disk;
}

static SondeSample *
sonde_dial_collector_collect (SondeCollector  *collector,
                              GError         **error)
{
  SondeDialCollector *self = SONDE_DIAL_COLLECTOR (collector);
  g_autoptr(JsonObject) data = json_object_new ();
  JsonArray *disks = json_array_new ();
  double level, sda, sdb;

  g_mutex_lock (&self->lock);
  level = self->level;
  sda = self->sda;
  sdb = self->sdb;
  g_mutex_unlock (&self->lock);

  if (!isnan (level))
    json_object_set_double_member (data, "level", level);
  json_object_set_string_member (data, "label", "dial");
  json_array_add_object_element (disks, new_disk ("sda", 7, sda));
  json_array_add_object_element (disks, new_disk ("sdb", 8, sdb));
  json_object_set_array_member (data, "disks", disks);

  return sonde_sample_new (sonde_collector_get_name (collector), g_get_real_time (), data);
}

static void
sonde_dial_collector_constructed (GObject *object)
{
  SondeCollector *collector = SONDE_COLLECTOR (object);

  G_OBJECT_CLASS (sonde_dial_collector_parent_class)->constructed (object);

  sonde_collector_add_metric (collector, "level", "percent", SONDE_METRIC_KIND_GAUGE, "Set by the test");
  sonde_collector_add_metric (collector, "label", "", SONDE_METRIC_KIND_INFO, "Text");
  sonde_collector_add_metric (collector, "disks", "", SONDE_METRIC_KIND_TABLE, "Two disks");
}

static void
sonde_dial_collector_finalize (GObject *object)
{
  g_mutex_clear (&SONDE_DIAL_COLLECTOR (object)->lock);
  G_OBJECT_CLASS (sonde_dial_collector_parent_class)->finalize (object);
}

static void
sonde_dial_collector_class_init (SondeDialCollectorClass *klass)
{
  G_OBJECT_CLASS (klass)->constructed = sonde_dial_collector_constructed;
  G_OBJECT_CLASS (klass)->finalize = sonde_dial_collector_finalize;
  SONDE_COLLECTOR_CLASS (klass)->collect = sonde_dial_collector_collect;
}

static void
sonde_dial_collector_init (SondeDialCollector *self)
{
  g_mutex_init (&self->lock);
}

static void
dial_set (SondeDialCollector *self,
          double              level)
{
  g_mutex_lock (&self->lock);
  self->level = level;
  g_mutex_unlock (&self->lock);
}

static void
dial_set_disks (SondeDialCollector *self,
                double              sda,
                double              sdb)
{
  g_mutex_lock (&self->lock);
  self->sda = sda;
  self->sdb = sdb;
  g_mutex_unlock (&self->lock);
}

/* Fixture --------------------------------------------------------------- */

typedef struct
{
  SondeEngine        *engine;
  SondeDialCollector *dial;
  GPtrArray          *alerts;     /* SondeEvent of type "alert" */
  GArray             *high_ticks; /* ticks whose "level" sample exceeded high_mark */
  GArray             *low_ticks;
  double              high_mark;
  SondeSample        *seen;
  guint               hold;       /* the test's own 100 ms hold, if any */
} Fixture;

static void
event_cb (SondeEngine *engine,
          SondeEvent  *event,
          Fixture     *fixture)
{
  if (g_str_equal (sonde_event_get_event_type (event), "alert"))
    g_ptr_array_add (fixture->alerts, sonde_event_ref (event));
}

/* Records the ticks that bring a new sample, by whether its level was
 * above high_mark: the start of a streak, as the rule sees it. */
static void
tick_cb (SondeEngine *engine,
         gint64       tick_us,
         Fixture     *fixture)
{
  SondeSample *sample = sonde_engine_get_latest (engine, "dial");

  if (sample == NULL || sample == fixture->seen)
    return;
  g_clear_pointer (&fixture->seen, sonde_sample_unref);
  fixture->seen = sonde_sample_ref (sample);

  if (sonde_sample_has_field (sample, "level") &&
      sonde_sample_get_double (sample, "level") > fixture->high_mark)
    g_array_append_val (fixture->high_ticks, tick_us);
  else
    g_array_append_val (fixture->low_ticks, tick_us);
}

static void
fixture_setup (Fixture       *fixture,
               gconstpointer  data)
{
  fixture->engine = sonde_engine_new ();
  fixture->dial = g_object_new (SONDE_TYPE_DIAL_COLLECTOR, "name", "dial", NULL);
  fixture->alerts = g_ptr_array_new_with_free_func ((GDestroyNotify) sonde_event_unref);
  fixture->high_ticks = g_array_new (FALSE, FALSE, sizeof (gint64));
  fixture->low_ticks = g_array_new (FALSE, FALSE, sizeof (gint64));
  fixture->high_mark = 50;

  g_assert_true (sonde_engine_add_collector (fixture->engine, SONDE_COLLECTOR (fixture->dial), NULL));
  g_signal_connect (fixture->engine, "event", G_CALLBACK (event_cb), fixture);
}

static void
fixture_teardown (Fixture       *fixture,
                  gconstpointer  data)
{
  if (fixture->hold != 0)
    sonde_engine_release (fixture->engine, fixture->hold);
  g_clear_object (&fixture->engine);
  /* A collection may still be running in a worker: let it return. */
  sonde_test_wait_until (!sonde_collector_get_running (SONDE_COLLECTOR (fixture->dial)));
  g_clear_object (&fixture->dial);
  g_clear_pointer (&fixture->seen, sonde_sample_unref);
  g_ptr_array_unref (fixture->alerts);
  g_array_unref (fixture->high_ticks);
  g_array_unref (fixture->low_ticks);
}

/* Samples the dial every 100 ms, so that rules are evaluated every 100 ms
 * and the tests last a few seconds; and records the ticks. Connected
 * after the rules are added, so that it sees each tick after them. */
static void
sample_fast (Fixture *fixture)
{
  fixture->hold = sonde_engine_hold (fixture->engine, "dial", 100, NULL);
  g_assert_cmpuint (fixture->hold, !=, 0);
  g_signal_connect (fixture->engine, "tick", G_CALLBACK (tick_cb), fixture);
}

static SondeEvent *
alert_at (Fixture *fixture,
          guint    index)
{
  g_assert_cmpuint (index, <, fixture->alerts->len);
  return g_ptr_array_index (fixture->alerts, index);
}

static gint64
alert_time (Fixture *fixture,
            guint    index)
{
  return sonde_event_get_timestamp (alert_at (fixture, index));
}

static void
add_rule (Fixture        *fixture,
          SondeAlertRule *rule)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (sonde_engine_add_alert_rule (fixture->engine, rule, &error));
  g_assert_no_error (error);
  sonde_alert_rule_unref (rule);
}

/* Tests ----------------------------------------------------------------- */

static void
test_alerts_rule (void)
{
  g_autoptr(SondeAlertRule) cpu = sonde_alert_rule_new ("cpu", "cpu.usage_percent",
                                                        SONDE_ALERT_COMPARISON_ABOVE, 90);
  g_autoptr(SondeAlertRule) low = sonde_alert_rule_new_full ("low", "memory.available_bytes",
                                                             SONDE_ALERT_COMPARISON_BELOW, -1,
                                                             2.5, 0, FALSE, "Memory is low");
  g_autofree char *message = NULL;
  g_autofree char *custom = NULL;
  g_autofree char *negative = NULL;
  GEnumClass *enum_class;

  g_assert_cmpstr (sonde_alert_rule_get_name (cpu), ==, "cpu");
  g_assert_cmpstr (sonde_alert_rule_get_metric (cpu), ==, "cpu.usage_percent");
  g_assert_cmpint (sonde_alert_rule_get_comparison (cpu), ==, SONDE_ALERT_COMPARISON_ABOVE);
  g_assert_cmpfloat (sonde_alert_rule_get_threshold (cpu), ==, 90);
  g_assert_cmpfloat (sonde_alert_rule_get_for_seconds (cpu), ==, 0);
  g_assert_cmpfloat (sonde_alert_rule_get_cooldown_seconds (cpu), ==, 60);
  g_assert_true (sonde_alert_rule_get_enabled (cpu));
  g_assert_null (sonde_alert_rule_get_message (cpu));

  g_assert_cmpint (sonde_alert_rule_get_comparison (low), ==, SONDE_ALERT_COMPARISON_BELOW);
  g_assert_cmpfloat (sonde_alert_rule_get_for_seconds (low), ==, 2.5);
  g_assert_cmpfloat (sonde_alert_rule_get_cooldown_seconds (low), ==, 0);
  g_assert_false (sonde_alert_rule_get_enabled (low));
  g_assert_cmpstr (sonde_alert_rule_get_message (low), ==, "Memory is low");

  /* Strictly above or below; NaN never. */
  g_assert_false (sonde_alert_rule_matches (cpu, 90));
  g_assert_true (sonde_alert_rule_matches (cpu, 90.01));
  g_assert_false (sonde_alert_rule_matches (cpu, NAN));
  g_assert_true (sonde_alert_rule_matches (low, -1.5));
  g_assert_false (sonde_alert_rule_matches (low, -1));

  message = sonde_alert_rule_format_message (cpu, 94.5349);
  g_assert_cmpstr (message, ==, "cpu.usage_percent above 90 (94.5)");
  custom = sonde_alert_rule_format_message (low, 3);
  g_assert_cmpstr (custom, ==, "Memory is low");
  g_clear_pointer (&low, sonde_alert_rule_unref);
  low = sonde_alert_rule_new ("low", "dial.level", SONDE_ALERT_COMPARISON_BELOW, -0.25);
  negative = sonde_alert_rule_format_message (low, -0.04);
  g_assert_cmpstr (negative, ==, "dial.level below -0.25 (0)");

  g_assert_cmpstr (sonde_alert_comparison_to_string (SONDE_ALERT_COMPARISON_ABOVE), ==, "above");
  g_assert_cmpstr (sonde_alert_comparison_to_string (SONDE_ALERT_COMPARISON_BELOW), ==, "below");

  /* A GEnum, so that bindings and GValues know it. */
  g_assert_true (G_TYPE_IS_ENUM (SONDE_TYPE_ALERT_COMPARISON));
  enum_class = g_type_class_ref (SONDE_TYPE_ALERT_COMPARISON);
  g_assert_cmpstr (g_enum_get_value (enum_class, SONDE_ALERT_COMPARISON_BELOW)->value_nick, ==, "below");
  g_type_class_unref (enum_class);
  g_assert_true (G_TYPE_IS_BOXED (SONDE_TYPE_ALERT_RULE));

  /* Reference counted. */
  g_assert_true (sonde_alert_rule_ref (cpu) == cpu);
  sonde_alert_rule_unref (cpu);
  g_assert_cmpstr (sonde_alert_rule_get_name (cpu), ==, "cpu");
}

static void
test_alerts_unknown_metric (Fixture       *fixture,
                            gconstpointer  data)
{
  const char * const refused[] = {
    "nope.level",                       /* no such collector */
    "dial.nope",                        /* no such field */
    "dial.label",                       /* text */
    "dial.disks",                       /* a table without an instance */
    "dial.level[name=sda].used",        /* not a table */
    "dial.nope[name=sda].used",
    "dial",                             /* not a metric name */
    "dial.",
    "dial.level.x",
    "dial.disks[name=sda]",
    "dial.disks[=sda].used",
    "dial.disks[name=].used",
    "dial.disks[name].used",
    "*.level",
    "",
  };

  for (guint i = 0; i < G_N_ELEMENTS (refused); i++)
    {
      g_autoptr(SondeAlertRule) rule = sonde_alert_rule_new ("bad", refused[i],
                                                             SONDE_ALERT_COMPARISON_ABOVE, 1);
      g_autoptr(GError) error = NULL;

      g_test_message ("metric '%s'", refused[i]);
      g_assert_false (sonde_engine_add_alert_rule (fixture->engine, rule, &error));
      g_assert_error (error, SONDE_ERROR, SONDE_ERROR_UNKNOWN_METRIC);
    }

  {
    g_autoptr(SondeAlertRule) rule = sonde_alert_rule_new ("bad", "dial.label", SONDE_ALERT_COMPARISON_ABOVE, 1);
    g_autoptr(GError) error = NULL;

    sonde_engine_add_alert_rule (fixture->engine, rule, &error);
    g_assert_cmpstr (error->message, ==, "dial.label is not numeric");
  }

  /* Nothing was added, and nothing is held. */
  {
    g_autoptr(GPtrArray) rules = sonde_engine_list_alert_rules (fixture->engine);

    g_assert_cmpuint (rules->len, ==, 0);
  }
  g_assert_null (sonde_engine_lookup_alert_rule (fixture->engine, "bad"));
  sonde_test_spin_for (1200);
  g_assert_cmpuint (sonde_collector_get_running (SONDE_COLLECTOR (fixture->dial)), ==, FALSE);
}

static void
test_alerts_fires_then_cooldown (Fixture       *fixture,
                                 gconstpointer  data)
{
  JsonObject *alert;
  SondeEvent *event;

  dial_set (fixture->dial, 80);
  add_rule (fixture, sonde_alert_rule_new_full ("hot", "dial.level", SONDE_ALERT_COMPARISON_ABOVE, 50,
                                                0, 0.5, TRUE, NULL));
  sample_fast (fixture);

  sonde_test_wait_until (fixture->alerts->len >= 4);

  event = alert_at (fixture, 0);
  g_assert_cmpstr (sonde_event_get_event_type (event), ==, "alert");
  g_assert_cmpstr (sonde_event_get_source (event), ==, "dial");
  alert = sonde_event_get_data (event);
  sonde_test_assert_members (alert, "comparison,hostname,message,metric,rule,threshold,value");
  g_assert_cmpstr (json_object_get_string_member (alert, "rule"), ==, "hot");
  g_assert_cmpstr (json_object_get_string_member (alert, "metric"), ==, "dial.level");
  g_assert_cmpfloat (json_object_get_double_member (alert, "value"), ==, 80);
  g_assert_cmpfloat (json_object_get_double_member (alert, "threshold"), ==, 50);
  g_assert_cmpstr (json_object_get_string_member (alert, "comparison"), ==, "above");
  g_assert_cmpstr (json_object_get_string_member (alert, "hostname"), ==, g_get_host_name ());
  g_assert_cmpstr (json_object_get_string_member (alert, "message"), ==, "dial.level above 50 (80)");

  /* The first sample that meets the condition fires (for-seconds 0). */
  g_assert_cmpuint (fixture->high_ticks->len, >=, 1);
  g_assert_cmpint (alert_time (fixture, 0), ==, g_array_index (fixture->high_ticks, gint64, 0));

  /* The condition keeps holding: one alert per cooldown, never sooner.
   * Times are tick times, multiples of 100 ms; a late tick on a busy
   * machine may delay one, never advance it. */
  for (guint i = 1; i < fixture->alerts->len; i++)
    {
      gint64 gap = alert_time (fixture, i) - alert_time (fixture, i - 1);

      g_assert_cmpint (alert_time (fixture, i) % (100 * 1000), ==, 0);
      g_assert_cmpint (gap, >=, 500 * 1000);
      g_assert_cmpint (gap, <=, 1500 * 1000);
    }
}

static void
test_alerts_cooldown_needs_condition (Fixture       *fixture,
                                      gconstpointer  data)
{
  gint64 set_high_us;
  guint n_low;

  dial_set (fixture->dial, 80);
  add_rule (fixture, sonde_alert_rule_new_full ("hot", "dial.level", SONDE_ALERT_COMPARISON_ABOVE, 50,
                                                0, 0.6, TRUE, NULL));
  sample_fast (fixture);
  sonde_test_wait_until (fixture->alerts->len == 1);

  /* The cooldown passes while the condition does not hold: nothing. */
  dial_set (fixture->dial, 10);
  n_low = fixture->low_ticks->len;
  sonde_test_wait_until (fixture->low_ticks->len >= n_low + 10);
  g_assert_cmpuint (fixture->alerts->len, ==, 1);

  /* It holds again after the cooldown: at once. */
  dial_set (fixture->dial, 80);
  set_high_us = g_get_real_time ();
  sonde_test_wait_until (fixture->alerts->len == 2);
  g_assert_cmpint (alert_time (fixture, 1) - alert_time (fixture, 0), >=, 1000 * 1000);
  g_assert_cmpint (alert_time (fixture, 1) - set_high_us, <=, 1000 * 1000);

  /* It stops and holds again within the cooldown: not before the end of
   * the cooldown. */
  dial_set (fixture->dial, 10);
  n_low = fixture->low_ticks->len;
  sonde_test_wait_until (fixture->low_ticks->len >= n_low + 1);
  dial_set (fixture->dial, 80);
  sonde_test_wait_until (fixture->alerts->len == 3);
  g_assert_cmpint (alert_time (fixture, 2) - alert_time (fixture, 1), >=, 600 * 1000);
}

static void
test_alerts_for_seconds (Fixture       *fixture,
                         gconstpointer  data)
{
  gint64 streak_start;
  guint n_low;

  add_rule (fixture, sonde_alert_rule_new_full ("slow", "dial.level", SONDE_ALERT_COMPARISON_ABOVE, 50,
                                                0.8, 60, TRUE, NULL));
  sample_fast (fixture);

  /* A streak shorter than for-seconds fires nothing... */
  dial_set (fixture->dial, 80);
  sonde_test_wait_until (fixture->high_ticks->len >= 2);
  dial_set (fixture->dial, 10);
  n_low = fixture->low_ticks->len;
  sonde_test_wait_until (fixture->low_ticks->len >= n_low + 2);
  g_assert_cmpuint (fixture->alerts->len, ==, 0);

  /* ...and does not count towards the next one. */
  g_array_set_size (fixture->high_ticks, 0);
  dial_set (fixture->dial, 80);
  sonde_test_wait_until (fixture->alerts->len == 1);
  streak_start = g_array_index (fixture->high_ticks, gint64, 0);
  g_assert_cmpint (alert_time (fixture, 0) - streak_start, >=, 800 * 1000);
  g_assert_cmpint (alert_time (fixture, 0) - streak_start, <=, 1800 * 1000);
}

static void
test_alerts_below (Fixture       *fixture,
                   gconstpointer  data)
{
  JsonObject *alert;
  guint n_low;

  dial_set (fixture->dial, 50);
  add_rule (fixture, sonde_alert_rule_new ("cold", "dial.level", SONDE_ALERT_COMPARISON_BELOW, 10));
  sample_fast (fixture);

  /* 50 is not below 10. */
  n_low = fixture->low_ticks->len;
  sonde_test_wait_until (fixture->low_ticks->len >= n_low + 5);
  g_assert_cmpuint (fixture->alerts->len, ==, 0);

  dial_set (fixture->dial, 5);
  sonde_test_wait_until (fixture->alerts->len == 1);
  alert = sonde_event_get_data (alert_at (fixture, 0));
  g_assert_cmpstr (json_object_get_string_member (alert, "comparison"), ==, "below");
  g_assert_cmpfloat (json_object_get_double_member (alert, "value"), ==, 5);
  g_assert_cmpstr (json_object_get_string_member (alert, "message"), ==, "dial.level below 10 (5)");

  /* The default cooldown is a minute. */
  n_low = fixture->low_ticks->len;
  sonde_test_wait_until (fixture->low_ticks->len >= n_low + 5);
  g_assert_cmpuint (fixture->alerts->len, ==, 1);
}

static void
test_alerts_disabled (Fixture       *fixture,
                      gconstpointer  data)
{
  dial_set (fixture->dial, 80);
  add_rule (fixture, sonde_alert_rule_new_full ("off", "dial.level", SONDE_ALERT_COMPARISON_ABOVE, 50,
                                                0, 0, FALSE, NULL));

  /* Listed, but it keeps nothing sampled... */
  g_assert_nonnull (sonde_engine_lookup_alert_rule (fixture->engine, "off"));
  sonde_test_spin_for (1200);
  g_assert_false (sonde_collector_get_running (SONDE_COLLECTOR (fixture->dial)));
  g_assert_null (sonde_engine_get_latest (fixture->engine, "dial"));

  /* ...and never fires, even on samples taken for someone else. */
  sample_fast (fixture);
  sonde_test_wait_until (fixture->high_ticks->len >= 8);
  g_assert_cmpuint (fixture->alerts->len, ==, 0);
}

static void
test_alerts_remove_releases_hold (Fixture       *fixture,
                                  gconstpointer  data)
{
  g_autoptr(GPtrArray) rules = NULL;
  SondeSample *last;

  dial_set (fixture->dial, 10);
  add_rule (fixture, sonde_alert_rule_new ("watch", "dial.level", SONDE_ALERT_COMPARISON_ABOVE, 50));

  /* The rule alone keeps the dial sampled, at 1 s. */
  sonde_test_wait_until (sonde_engine_get_latest (fixture->engine, "dial") != NULL);
  g_assert_true (sonde_collector_get_running (SONDE_COLLECTOR (fixture->dial)));

  /* Replacing it keeps it sampled, with the new rule. */
  add_rule (fixture, sonde_alert_rule_new ("watch", "dial.level", SONDE_ALERT_COMPARISON_ABOVE, 60));
  rules = sonde_engine_list_alert_rules (fixture->engine);
  g_assert_cmpuint (rules->len, ==, 1);
  g_assert_cmpfloat (sonde_alert_rule_get_threshold (g_ptr_array_index (rules, 0)), ==, 60);
  g_assert_true (sonde_collector_get_running (SONDE_COLLECTOR (fixture->dial)));

  g_assert_true (sonde_engine_remove_alert_rule (fixture->engine, "watch"));
  g_assert_false (sonde_engine_remove_alert_rule (fixture->engine, "watch"));
  g_assert_null (sonde_engine_lookup_alert_rule (fixture->engine, "watch"));
  g_clear_pointer (&rules, g_ptr_array_unref);
  rules = sonde_engine_list_alert_rules (fixture->engine);
  g_assert_cmpuint (rules->len, ==, 0);

  /* No hold left: the collector stops and is not sampled any more. */
  sonde_test_wait_until (!sonde_collector_get_running (SONDE_COLLECTOR (fixture->dial)));
  last = sonde_engine_get_latest (fixture->engine, "dial");
  sonde_test_spin_for (1500);
  g_assert_false (sonde_collector_get_running (SONDE_COLLECTOR (fixture->dial)));
  g_assert_true (sonde_engine_get_latest (fixture->engine, "dial") == last);
}

/* Unwanted (nobody would receive them), rules hold nothing, but still
 * judge the samples taken for someone else; wanted again, they hold. */
static void
test_alerts_unwanted (Fixture       *fixture,
                      gconstpointer  data)
{
  g_assert_true (sonde_engine_get_alerts_wanted (fixture->engine));
  sonde_engine_set_alerts_wanted (fixture->engine, FALSE);
  g_assert_false (sonde_engine_get_alerts_wanted (fixture->engine));

  dial_set (fixture->dial, 80);
  add_rule (fixture, sonde_alert_rule_new_full ("watch", "dial.level", SONDE_ALERT_COMPARISON_ABOVE, 50,
                                                0, 1, TRUE, NULL));
  sonde_test_spin_for (1200);
  g_assert_false (sonde_collector_get_running (SONDE_COLLECTOR (fixture->dial)));
  g_assert_null (sonde_engine_get_latest (fixture->engine, "dial"));
  g_assert_cmpuint (fixture->alerts->len, ==, 0);

  /* Samples taken for someone else are judged all the same. */
  sample_fast (fixture);
  sonde_test_wait_until (fixture->alerts->len >= 1);
  sonde_engine_release (fixture->engine, fixture->hold);
  fixture->hold = 0;
  sonde_test_wait_until (!sonde_collector_get_running (SONDE_COLLECTOR (fixture->dial)));

  /* Wanted: the rule keeps the dial sampled again, at 1 s. */
  sonde_engine_set_alerts_wanted (fixture->engine, TRUE);
  sonde_test_wait_until (sonde_collector_get_running (SONDE_COLLECTOR (fixture->dial)));

  /* Unwanted again: the hold goes. */
  sonde_engine_set_alerts_wanted (fixture->engine, FALSE);
  sonde_test_wait_until (!sonde_collector_get_running (SONDE_COLLECTOR (fixture->dial)));
}

static void
test_alerts_instance (Fixture       *fixture,
                      gconstpointer  data)
{
  JsonObject *alert;
  guint n_low;

  dial_set (fixture->dial, 0);
  dial_set_disks (fixture->dial, 95, 10);
  add_rule (fixture, sonde_alert_rule_new ("sdb-full", "dial.disks[name=sdb].used_percent",
                                           SONDE_ALERT_COMPARISON_ABOVE, 90));
  add_rule (fixture, sonde_alert_rule_new ("id8-full", "dial.disks[id=8].used_percent",
                                           SONDE_ALERT_COMPARISON_ABOVE, 90));
  add_rule (fixture, sonde_alert_rule_new ("gone", "dial.disks[name=sdz].used_percent",
                                           SONDE_ALERT_COMPARISON_BELOW, 1000));
  add_rule (fixture, sonde_alert_rule_new ("no-field", "dial.disks[name=sda].nope",
                                           SONDE_ALERT_COMPARISON_BELOW, 1000));
  sample_fast (fixture);

  /* sda is full, but the rules watch sdb; sdz and the field are missing. */
  n_low = fixture->low_ticks->len;
  sonde_test_wait_until (fixture->low_ticks->len >= n_low + 5);
  g_assert_cmpuint (fixture->alerts->len, ==, 0);

  dial_set_disks (fixture->dial, 95, 97.25);
  sonde_test_wait_until (fixture->alerts->len == 2);
  for (guint i = 0; i < 2; i++)
    {
      alert = sonde_event_get_data (alert_at (fixture, i));
      g_assert_cmpfloat (json_object_get_double_member (alert, "value"), ==, 97.25);
      if (g_str_equal (json_object_get_string_member (alert, "rule"), "sdb-full"))
        {
          g_assert_cmpstr (json_object_get_string_member (alert, "metric"), ==,
                           "dial.disks[name=sdb].used_percent");
          g_assert_cmpstr (json_object_get_string_member (alert, "message"), ==,
                           "dial.disks[name=sdb].used_percent above 90 (97.3)");
        }
      else
        g_assert_cmpstr (json_object_get_string_member (alert, "rule"), ==, "id8-full");
    }

  n_low = fixture->low_ticks->len;
  sonde_test_wait_until (fixture->low_ticks->len >= n_low + 3);
  g_assert_cmpuint (fixture->alerts->len, ==, 2);
}

static void
test_alerts_missing_value (Fixture       *fixture,
                           gconstpointer  data)
{
  guint n_low;

  add_rule (fixture, sonde_alert_rule_new_full ("slow", "dial.level", SONDE_ALERT_COMPARISON_BELOW, 50,
                                                0.5, 60, TRUE, NULL));
  sample_fast (fixture);

  /* A sample without the value is not below anything, and breaks the
   * streak: alternate 10 and nothing, never 500 ms in a row. */
  for (guint i = 0; i < 8; i++)
    {
      n_low = fixture->low_ticks->len;
      dial_set (fixture->dial, i % 2 == 0 ? 10 : NAN);
      sonde_test_wait_until (fixture->low_ticks->len >= n_low + 2);
    }
  g_assert_cmpuint (fixture->alerts->len, ==, 0);

  dial_set (fixture->dial, 10);
  sonde_test_wait_until (fixture->alerts->len == 1);
}

static void
test_alerts_collector_back (Fixture       *fixture,
                            gconstpointer  data)
{
  dial_set (fixture->dial, 80);
  add_rule (fixture, sonde_alert_rule_new ("hot", "dial.level", SONDE_ALERT_COMPARISON_ABOVE, 50));
  sonde_test_wait_until (fixture->alerts->len == 1);

  /* The collector leaves: its holds go with it. */
  g_assert_true (sonde_engine_remove_collector (fixture->engine, "dial"));
  sonde_test_wait_until (!sonde_collector_get_running (SONDE_COLLECTOR (fixture->dial)));
  g_assert_nonnull (sonde_engine_lookup_alert_rule (fixture->engine, "hot"));

  /* It comes back: the rule holds it again, and the cooldown still
   * counts from the first alert (a minute). */
  g_assert_true (sonde_engine_add_collector (fixture->engine, SONDE_COLLECTOR (fixture->dial), NULL));
  sonde_test_wait_until (sonde_engine_get_latest (fixture->engine, "dial") != NULL);
  g_assert_true (sonde_collector_get_running (SONDE_COLLECTOR (fixture->dial)));
  sonde_test_spin_for (1200);
  g_assert_cmpuint (fixture->alerts->len, ==, 1);

  /* A new rule of the same name starts afresh. */
  add_rule (fixture, sonde_alert_rule_new ("hot", "dial.level", SONDE_ALERT_COMPARISON_ABOVE, 50));
  sonde_test_wait_until (fixture->alerts->len == 2);
}

static void
remove_rules_cb (SondeEngine *engine,
                 SondeEvent  *event,
                 Fixture     *fixture)
{
  sonde_engine_remove_alert_rule (engine, "a");
  sonde_engine_remove_alert_rule (engine, "b");
}

static void
test_alerts_handler_removes_rules (Fixture       *fixture,
                                   gconstpointer  data)
{
  dial_set (fixture->dial, 80);
  add_rule (fixture, sonde_alert_rule_new ("a", "dial.level", SONDE_ALERT_COMPARISON_ABOVE, 50));
  add_rule (fixture, sonde_alert_rule_new ("b", "dial.level", SONDE_ALERT_COMPARISON_ABOVE, 50));
  g_signal_connect (fixture->engine, "event", G_CALLBACK (remove_rules_cb), fixture);

  /* The first alert's handler removes both rules: "b" does not fire
   * after it was removed, and nothing is left holding the dial. */
  sonde_test_wait_until (fixture->alerts->len == 1);
  sonde_test_wait_until (!sonde_collector_get_running (SONDE_COLLECTOR (fixture->dial)));
  sonde_test_spin_for (300);
  g_assert_cmpuint (fixture->alerts->len, ==, 1);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/alerts/rule", test_alerts_rule);
#define ADD(path, func) g_test_add (path, Fixture, NULL, fixture_setup, func, fixture_teardown)
  ADD ("/alerts/unknown-metric", test_alerts_unknown_metric);
  ADD ("/alerts/fires-then-cooldown", test_alerts_fires_then_cooldown);
  ADD ("/alerts/cooldown-needs-condition", test_alerts_cooldown_needs_condition);
  ADD ("/alerts/for-seconds", test_alerts_for_seconds);
  ADD ("/alerts/below", test_alerts_below);
  ADD ("/alerts/disabled", test_alerts_disabled);
  ADD ("/alerts/remove-releases-hold", test_alerts_remove_releases_hold);
  ADD ("/alerts/unwanted", test_alerts_unwanted);
  ADD ("/alerts/instance", test_alerts_instance);
  ADD ("/alerts/missing-value", test_alerts_missing_value);
  ADD ("/alerts/collector-back", test_alerts_collector_back);
  ADD ("/alerts/handler-removes-rules", test_alerts_handler_removes_rules);
#undef ADD

  return g_test_run ();
}
