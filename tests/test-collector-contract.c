/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "sonde-test-util.h"

/* The collector contract: the base class runs start(), stop() and
 * collect() of one collector one at a time, whatever the threads that
 * call them, so that a subclass needs no lock. Run under valgrind
 * (meson test --setup valgrind) or a TSan build, these also catch races
 * in the real plugins. */

#define N_THREADS 3

/* Probe ------------------------------------------------------------------ */

/* A collector that fails the test if two of its calls overlap. */
#define PROBE_TYPE_COLLECTOR (probe_collector_get_type ())
G_DECLARE_FINAL_TYPE (ProbeCollector, probe_collector, PROBE, COLLECTOR, SondeCollector)

struct _ProbeCollector
{
  SondeCollector parent_instance;
  int            inside;       /* atomic: calls in progress */
  int            overlaps;     /* atomic */
  guint          n_collected;  /* under the contract: no atomics needed */
  gboolean       started;
};

G_DEFINE_FINAL_TYPE (ProbeCollector, probe_collector, SONDE_TYPE_COLLECTOR)

static void
enter (ProbeCollector *self)
{
  if (g_atomic_int_add (&self->inside, 1) != 0)
    g_atomic_int_inc (&self->overlaps);
  /* Long enough for another thread to come in, were it let in. */
  g_usleep (50);
}

static void
leave (ProbeCollector *self)
{
  g_atomic_int_add (&self->inside, -1);
}

static gboolean
probe_start (SondeCollector  *collector,
             GError         **error)
{
  ProbeCollector *self = PROBE_COLLECTOR (collector);

  enter (self);
  self->started = TRUE;
  leave (self);
  return TRUE;
}

static void
probe_stop (SondeCollector *collector)
{
  ProbeCollector *self = PROBE_COLLECTOR (collector);

  enter (self);
  self->started = FALSE;
  leave (self);
}

static SondeSample *
probe_collect (SondeCollector  *collector,
               GError         **error)
{
  ProbeCollector *self = PROBE_COLLECTOR (collector);
  g_autoptr(JsonObject) data = json_object_new ();

  enter (self);
  self->n_collected++;
  json_object_set_int_member (data, "value", self->n_collected);
  json_object_set_boolean_member (data, "started", self->started);
  leave (self);
  return sonde_sample_new ("probe", g_get_real_time (), data);
}

static void
probe_collector_class_init (ProbeCollectorClass *klass)
{
  SONDE_COLLECTOR_CLASS (klass)->start = probe_start;
  SONDE_COLLECTOR_CLASS (klass)->stop = probe_stop;
  SONDE_COLLECTOR_CLASS (klass)->collect = probe_collect;
}

static void
probe_collector_init (ProbeCollector *self)
{
}

/* Hammering -------------------------------------------------------------- */

typedef struct
{
  SondeCollector *collector;
  gint64          until_us;
  guint           n_samples;
} Worker;

static gpointer
collect_thread (gpointer data)
{
  Worker *worker = data;

  while (g_get_monotonic_time () < worker->until_us)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(SondeSample) sample = sonde_collector_collect (worker->collector, &error);

      /* A collector stopped under its feet may refuse; never crash. */
      if (sample != NULL)
        worker->n_samples++;
    }

  return NULL;
}

/* Collects @collector from N_THREADS threads while the calling thread
 * starts, stops and reconfigures it, for @ms milliseconds. Returns the
 * samples collected. */
static guint
hammer (SondeCollector *collector,
        guint           ms)
{
  Worker workers[N_THREADS];
  GThread *threads[N_THREADS];
  gint64 until_us = g_get_monotonic_time () + ms * G_TIME_SPAN_MILLISECOND;
  const char *proc_root = sonde_collector_get_proc_root (collector);
  g_autofree char *same_root = g_strdup (proc_root);
  guint n_samples = 0;

  for (guint i = 0; i < N_THREADS; i++)
    {
      workers[i] = (Worker) { collector, until_us, 0 };
      threads[i] = g_thread_new ("collect", collect_thread, &workers[i]);
    }

  while (g_get_monotonic_time () < until_us)
    {
      g_autoptr(GError) error = NULL;

      if (!sonde_collector_start (collector, &error))
        g_test_message ("%s did not start: %s", sonde_collector_get_name (collector), error->message);
      g_thread_yield ();
      sonde_collector_set_proc_root (collector, same_root);
      sonde_collector_stop (collector);
    }

  for (guint i = 0; i < N_THREADS; i++)
    {
      g_thread_join (threads[i]);
      n_samples += workers[i].n_samples;
    }

  return n_samples;
}

static void
test_contract_serialises_calls (void)
{
  g_autoptr(ProbeCollector) probe = g_object_new (PROBE_TYPE_COLLECTOR, "name", "probe", NULL);

  g_assert_cmpuint (hammer (SONDE_COLLECTOR (probe), 300), >, 0);
  g_assert_cmpint (g_atomic_int_get (&probe->overlaps), ==, 0);
  g_assert_false (probe->started);
}

/* Every real plugin, on this host: start() and stop() reset the files and
 * counters that collect() uses. */
static void
test_contract_plugins (void)
{
  g_autoptr(SondeEngine) engine = sonde_engine_new ();
  g_autoptr(GPtrArray) collectors = NULL;

  if (sonde_engine_load_plugins (engine, NULL) == 0)
    {
      g_test_skip ("No collector plugins (SONDE_PLUGIN_PATH)");
      return;
    }

  collectors = sonde_engine_list_collectors (engine);
  for (guint i = 0; i < collectors->len; i++)
    {
      SondeCollector *collector = g_ptr_array_index (collectors, i);
      guint n_samples = hammer (collector, 150);

      g_test_message ("%s: %u samples", sonde_collector_get_name (collector), n_samples);
      g_assert_false (sonde_collector_get_running (collector));
    }
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/collector/contract/serialises-calls", test_contract_serialises_calls);
  g_test_add_func ("/collector/contract/plugins", test_contract_plugins);

  return g_test_run ();
}
