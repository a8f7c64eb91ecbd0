/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "sonde-alerts-private.h"
#include "sonde-engine-private.h"
#include "sonde-error.h"

/* The alert engine: an engine's threshold rules, evaluated once per tick
 * on the samples the engine took anyway. Like SondeHistory it is one
 * consumer of the engine, whatever the number of clients: it holds each
 * rule's collector at 1 s, and every client that subscribed to `alert`
 * events gets the same event.
 *
 * Times are the ticks' timestamps: wall-clock multiples of the interval,
 * so that a 2 s cooldown sampled at 1 s is exactly two ticks, with no
 * jitter. A wall clock stepped back restarts the pending for-seconds and
 * cooldown from the current tick, rather than firing twice or stalling
 * until the clock catches up. */

#define NO_TIME G_MININT64

typedef struct
{
  SondeAlertRule *rule;
  char           *collector;
  char           *field;       /* the top-level field, or the instance's field */
  char           *table;       /* NULL for a top-level field */
  char           *key;         /* instance selector: table[key=match] */
  char           *match;
  gint64          match_int;
  gboolean        match_is_int;
  gint64          for_us;
  gint64          cooldown_us;
  guint           hold_id;
  SondeSample    *last_sample; /* the sample evaluated last, held so that
                                * no new sample can reuse its address */
  gint64          since_us;    /* the tick the condition started holding at */
  gint64          fired_us;    /* the tick of the last firing */
  gboolean        removed;
} RuleState;

struct _SondeAlerts
{
  SondeEngine *engine;        /* owns us */
  GPtrArray   *rules;         /* RuleState, in the order added */
  gboolean     unwanted;      /* nobody receives alerts: hold nothing */
  gulong       tick_handler;
  gulong       added_handler;
  gulong       removed_handler;
};

static void
rule_state_clear (RuleState *state)
{
  g_clear_pointer (&state->rule, sonde_alert_rule_unref);
  g_clear_pointer (&state->last_sample, sonde_sample_unref);
  g_free (state->collector);
  g_free (state->field);
  g_free (state->table);
  g_free (state->key);
  g_free (state->match);
}

static RuleState *
rule_state_ref (RuleState *state)
{
  return g_rc_box_acquire (state);
}

static void
rule_state_unref (RuleState *state)
{
  g_rc_box_release_full (state, (GDestroyNotify) rule_state_clear);
}

/* Metric names --------------------------------------------------------- */

static gboolean
is_name (const char *text,
         gsize       length)
{
  if (length == 0)
    return FALSE;
  for (gsize i = 0; i < length; i++)
    if (text[i] == '.' || text[i] == '[' || text[i] == ']' || text[i] == '=' ||
        g_ascii_isspace (text[i]) || g_ascii_iscntrl (text[i]))
      return FALSE;
  return TRUE;
}

/* "collector.field", or "collector.table[key=value].field": the value may
 * hold anything but control characters (a mount point, a device name),
 * and ends at the last "].". */
static gboolean
parse_metric (const char *metric,
              RuleState  *state)
{
  const char *dot = strchr (metric, '.');
  const char *rest, *open, *close, *equals;

  if (dot == NULL || !is_name (metric, dot - metric))
    return FALSE;
  rest = dot + 1;

  open = strchr (rest, '[');
  if (open == NULL)
    {
      if (!is_name (rest, strlen (rest)))
        return FALSE;
      state->collector = g_strndup (metric, dot - metric);
      state->field = g_strdup (rest);
      return TRUE;
    }

  close = g_strrstr (open, "].");
  if (close == NULL || !is_name (rest, open - rest) || !is_name (close + 2, strlen (close + 2)))
    return FALSE;

  equals = memchr (open + 1, '=', close - (open + 1));
  if (equals == NULL || !is_name (open + 1, equals - (open + 1)) || equals + 1 == close)
    return FALSE;
  for (const char *c = equals + 1; c < close; c++)
    if (g_ascii_iscntrl (*c))
      return FALSE;

  state->collector = g_strndup (metric, dot - metric);
  state->table = g_strndup (rest, open - rest);
  state->key = g_strndup (open + 1, equals - (open + 1));
  state->match = g_strndup (equals + 1, close - (equals + 1));
  state->field = g_strdup (close + 2);
  state->match_is_int = g_ascii_string_to_signed (state->match, 10, G_MININT64, G_MAXINT64,
                                                  &state->match_int, NULL);
  return TRUE;
}

/* Refuses what no sample could give a number for: a name the catalog does
 * not know, text, a table without an instance selector. */
static gboolean
check_metric (SondeEngine  *engine,
              RuleState    *state,
              GError      **error)
{
  const char *metric = sonde_alert_rule_get_metric (state->rule);
  g_autofree char *catalog_name = NULL;
  SondeMetric *entry;
  SondeMetricKind kind;

  if (!parse_metric (metric, state))
    {
      g_set_error (error, SONDE_ERROR, SONDE_ERROR_UNKNOWN_METRIC,
                   "'%s' is not a metric name (collector.field, or "
                   "collector.table[key=value].field)", metric);
      return FALSE;
    }

  catalog_name = g_strconcat (state->collector, ".", state->table ? state->table : state->field, NULL);
  entry = sonde_engine_lookup_metric (engine, catalog_name);
  if (entry == NULL)
    {
      g_set_error (error, SONDE_ERROR, SONDE_ERROR_UNKNOWN_METRIC,
                   "No metric named %s", catalog_name);
      return FALSE;
    }

  kind = sonde_metric_get_kind (entry);
  if (state->table != NULL && kind != SONDE_METRIC_KIND_TABLE)
    {
      g_set_error (error, SONDE_ERROR, SONDE_ERROR_UNKNOWN_METRIC,
                   "%s is not a table of instances", catalog_name);
      return FALSE;
    }

  if (state->table == NULL &&
      kind != SONDE_METRIC_KIND_GAUGE && kind != SONDE_METRIC_KIND_COUNTER &&
      kind != SONDE_METRIC_KIND_RATE)
    {
      g_set_error (error, SONDE_ERROR, SONDE_ERROR_UNKNOWN_METRIC,
                   kind == SONDE_METRIC_KIND_TABLE
                   ? "%s is a table: name one instance's field, such as %s[KEY=VALUE].FIELD"
                   : "%s is not numeric",
                   catalog_name, catalog_name);
      return FALSE;
    }

  return TRUE;
}

/* Evaluation ----------------------------------------------------------- */

static gboolean
node_is_number (JsonNode *node)
{
  GType type;

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node))
    return FALSE;
  type = json_node_get_value_type (node);
  return type == G_TYPE_DOUBLE || type == G_TYPE_INT64;
}

static gboolean
instance_matches (RuleState  *state,
                  JsonObject *instance)
{
  JsonNode *node = json_object_get_member (instance, state->key);

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node))
    return FALSE;

  switch (json_node_get_value_type (node))
    {
    case G_TYPE_STRING:
      return g_strcmp0 (json_node_get_string (node), state->match) == 0;
    case G_TYPE_INT64:
      return state->match_is_int && json_node_get_int (node) == state->match_int;
    case G_TYPE_DOUBLE:
      return g_ascii_strtod (state->match, NULL) == json_node_get_double (node);
    default:
      return FALSE;
    }
}

/* The rule's value in @sample; FALSE when the sample has none (a rate's
 * first sample, an instance that is gone). */
static gboolean
read_value (RuleState   *state,
            SondeSample *sample,
            double      *value)
{
  JsonObject *holder = sonde_sample_get_data (sample);
  JsonNode *node;

  if (state->table != NULL)
    {
      JsonNode *table = json_object_get_member (holder, state->table);
      JsonArray *instances;

      if (table == NULL || !JSON_NODE_HOLDS_ARRAY (table))
        return FALSE;

      instances = json_node_get_array (table);
      holder = NULL;
      for (guint i = 0; i < json_array_get_length (instances) && holder == NULL; i++)
        {
          JsonNode *element = json_array_get_element (instances, i);

          if (JSON_NODE_HOLDS_OBJECT (element) && instance_matches (state, json_node_get_object (element)))
            holder = json_node_get_object (element);
        }
      if (holder == NULL)
        return FALSE;
    }

  node = json_object_get_member (holder, state->field);
  if (!node_is_number (node))
    return FALSE;

  *value = json_node_get_double (node);
  return TRUE;
}

static void
fire (SondeAlerts *self,
      RuleState   *state,
      double       value,
      gint64       tick_us)
{
  SondeAlertRule *rule = state->rule;
  g_autoptr(JsonObject) data = json_object_new ();
  g_autoptr(SondeEvent) event = NULL;
  g_autofree char *message = sonde_alert_rule_format_message (rule, value);

  json_object_set_string_member (data, "rule", sonde_alert_rule_get_name (rule));
  json_object_set_string_member (data, "metric", sonde_alert_rule_get_metric (rule));
  json_object_set_double_member (data, "value", value);
  json_object_set_double_member (data, "threshold", sonde_alert_rule_get_threshold (rule));
  json_object_set_string_member (data, "comparison",
                                 sonde_alert_comparison_to_string (sonde_alert_rule_get_comparison (rule)));
  json_object_set_string_member (data, "hostname", g_get_host_name ());
  json_object_set_string_member (data, "message", message);

  g_debug ("Alert %s: %s", sonde_alert_rule_get_name (rule), message);
  event = sonde_event_new ("alert", state->collector, tick_us, data);
  _sonde_engine_emit_event (self->engine, event);
}

static void
evaluate (SondeAlerts *self,
          RuleState   *state,
          SondeSample *sample,
          gint64       tick_us)
{
  double value = 0;

  if (!read_value (state, sample, &value) || !sonde_alert_rule_matches (state->rule, value))
    {
      /* for-seconds counts consecutive samples that hold. */
      state->since_us = NO_TIME;
      return;
    }

  /* The wall clock went back: count from now. */
  if (state->since_us != NO_TIME && state->since_us > tick_us)
    state->since_us = tick_us;
  if (state->fired_us != NO_TIME && state->fired_us > tick_us)
    state->fired_us = tick_us;

  if (state->since_us == NO_TIME)
    state->since_us = tick_us;

  if (tick_us - state->since_us < state->for_us)
    return;
  if (state->fired_us != NO_TIME && tick_us - state->fired_us < state->cooldown_us)
    return;

  state->fired_us = tick_us;
  fire (self, state, value, tick_us);
}

static void
tick_cb (SondeEngine *engine,
         gint64       tick_us,
         SondeAlerts *self)
{
  g_autoptr(GPtrArray) states = NULL;

  if (self->rules->len == 0)
    return;

  /* A snapshot: the handlers of an alert may add or remove rules. */
  states = g_ptr_array_new_full (self->rules->len, (GDestroyNotify) rule_state_unref);
  for (guint i = 0; i < self->rules->len; i++)
    g_ptr_array_add (states, rule_state_ref (g_ptr_array_index (self->rules, i)));

  for (guint i = 0; i < states->len; i++)
    {
      RuleState *state = g_ptr_array_index (states, i);
      SondeSample *sample;

      if (state->removed || !sonde_alert_rule_get_enabled (state->rule))
        continue;

      /* Only new samples count: a tick of another collector, or of
       * another interval, says nothing new about this rule. */
      sample = sonde_engine_get_latest (engine, state->collector);
      if (sample == NULL || sample == state->last_sample)
        continue;

      g_clear_pointer (&state->last_sample, sonde_sample_unref);
      state->last_sample = sonde_sample_ref (sample);
      evaluate (self, state, sample, tick_us);
    }
}

/* Holds ---------------------------------------------------------------- */

static void
hold_rule (SondeAlerts *self,
           RuleState   *state)
{
  if (state->hold_id != 0 || self->unwanted || !sonde_alert_rule_get_enabled (state->rule))
    return;

  /* Fails only while the collector is not in the engine (disabled by the
   * daemon): it is held again when it comes back. */
  state->hold_id = sonde_engine_hold (self->engine, state->collector,
                                      SONDE_ALERTS_HOLD_INTERVAL_MS, NULL);
}

static void
release_rule (SondeAlerts *self,
              RuleState   *state)
{
  guint hold_id = state->hold_id;

  state->hold_id = 0;
  if (hold_id != 0)
    sonde_engine_release (self->engine, hold_id);
}

static void
collector_added_cb (SondeEngine    *engine,
                    SondeCollector *collector,
                    SondeAlerts    *self)
{
  const char *name = sonde_collector_get_name (collector);

  for (guint i = 0; i < self->rules->len; i++)
    {
      RuleState *state = g_ptr_array_index (self->rules, i);

      if (g_str_equal (state->collector, name))
        hold_rule (self, state);
    }
}

static void
collector_removed_cb (SondeEngine    *engine,
                      SondeCollector *collector,
                      SondeAlerts    *self)
{
  const char *name = sonde_collector_get_name (collector);

  for (guint i = 0; i < self->rules->len; i++)
    {
      RuleState *state = g_ptr_array_index (self->rules, i);

      if (!g_str_equal (state->collector, name))
        continue;

      /* The engine dropped the collector's holds itself. A collector that
       * comes back starts a new streak, but the cooldown still counts. */
      state->hold_id = 0;
      state->since_us = NO_TIME;
      g_clear_pointer (&state->last_sample, sonde_sample_unref);
    }
}

SondeAlerts *
_sonde_alerts_new (SondeEngine *engine)
{
  SondeAlerts *self = g_new0 (SondeAlerts, 1);

  self->engine = engine;
  self->rules = g_ptr_array_new_with_free_func ((GDestroyNotify) rule_state_unref);
  self->tick_handler = g_signal_connect (engine, "tick", G_CALLBACK (tick_cb), self);
  self->added_handler = g_signal_connect (engine, "collector-added",
                                          G_CALLBACK (collector_added_cb), self);
  self->removed_handler = g_signal_connect (engine, "collector-removed",
                                            G_CALLBACK (collector_removed_cb), self);
  return self;
}

void
_sonde_alerts_free (SondeAlerts *self)
{
  g_clear_signal_handler (&self->tick_handler, self->engine);
  g_clear_signal_handler (&self->added_handler, self->engine);
  g_clear_signal_handler (&self->removed_handler, self->engine);

  for (guint i = 0; i < self->rules->len; i++)
    {
      RuleState *state = g_ptr_array_index (self->rules, i);

      state->removed = TRUE;
      release_rule (self, state);
    }
  g_ptr_array_unref (self->rules);
  g_free (self);
}

static guint
find_rule (SondeAlerts *self,
           const char  *name)
{
  for (guint i = 0; self != NULL && i < self->rules->len; i++)
    {
      RuleState *state = g_ptr_array_index (self->rules, i);

      if (g_str_equal (sonde_alert_rule_get_name (state->rule), name))
        return i;
    }
  return G_MAXUINT;
}

/* Public API ----------------------------------------------------------- */

/**
 * sonde_engine_add_alert_rule:
 * @self: a #SondeEngine
 * @rule: the rule
 * @error: return location for a #GError
 *
 * Evaluates @rule on every new sample of its collector, from now on. An
 * enabled rule keeps its collector sampled at 1 s (or faster, when
 * something else asks for it): rules cost one collection per tick, not
 * one per client. A rule with the name of an existing rule replaces it,
 * and starts afresh.
 *
 * When the rule fires, the engine emits #SondeEngine::event with an
 * `alert` event whose source is the collector and whose data is
 * `{rule, metric, value, threshold, comparison ("above" or "below"),
 * hostname, message}`.
 *
 * A rule fires at a tick when:
 *
 * - its condition held on each new sample of the collector for at least
 *   its for-seconds (0: on the first sample that meets it; a sample
 *   without the value, such as a rate's first, breaks the streak), and
 * - it never fired, or at least its cooldown has passed since it last
 *   fired.
 *
 * So a condition that keeps holding fires once per cooldown (the seed's
 * "at most one alert per 60 s"); one that stops and comes back within
 * the cooldown fires once the cooldown is over, if it then has held for
 * for-seconds. The times are the ticks': with samples at 1 s, a rule
 * fires within one second of its for-seconds and cooldown.
 *
 * The metric is a gauge, counter or rate of the catalog, or one field of
 * one instance of a table: `collector.table[key=value].field`, such as
 * `disk.partitions[mount=/].usage_percent`; that instance is the first
 * object of the table whose @key member equals @value (text, or an
 * integer), and its field is checked on each sample: a sample without
 * such an instance, or whose field is not a number, breaks the streak.
 *
 * Returns: %TRUE on success; %FALSE with %SONDE_ERROR_UNKNOWN_METRIC if
 *   the metric is not in the catalog, not numeric, or not a table when an
 *   instance is named
 */
gboolean
sonde_engine_add_alert_rule (SondeEngine     *self,
                             SondeAlertRule  *rule,
                             GError         **error)
{
  SondeAlerts *alerts;
  RuleState *state;
  guint index;

  g_return_val_if_fail (SONDE_IS_ENGINE (self), FALSE);
  g_return_val_if_fail (rule != NULL, FALSE);

  state = g_rc_box_new0 (RuleState);
  state->rule = sonde_alert_rule_ref (rule);
  if (!check_metric (self, state, error))
    {
      rule_state_unref (state);
      return FALSE;
    }

  state->for_us = (gint64) (sonde_alert_rule_get_for_seconds (rule) * G_USEC_PER_SEC + 0.5);
  state->cooldown_us = (gint64) (sonde_alert_rule_get_cooldown_seconds (rule) * G_USEC_PER_SEC + 0.5);
  state->since_us = NO_TIME;
  state->fired_us = NO_TIME;

  alerts = _sonde_engine_get_alerts (self, TRUE);

  /* Held before the rule it replaces lets go, so that the collector does
   * not stop and start again. */
  hold_rule (alerts, state);

  index = find_rule (alerts, sonde_alert_rule_get_name (rule));
  if (index != G_MAXUINT)
    {
      RuleState *old = g_ptr_array_index (alerts->rules, index);

      old->removed = TRUE;
      release_rule (alerts, old);
      g_ptr_array_index (alerts->rules, index) = state;
      rule_state_unref (old);
    }
  else
    g_ptr_array_add (alerts->rules, state);

  return TRUE;
}

/**
 * sonde_engine_remove_alert_rule:
 * @self: a #SondeEngine
 * @name: the name of a rule
 *
 * Stops evaluating a rule, and releases its hold on its collector.
 *
 * Returns: %TRUE if a rule was removed
 */
gboolean
sonde_engine_remove_alert_rule (SondeEngine *self,
                                const char  *name)
{
  SondeAlerts *alerts;
  RuleState *state;
  guint index;

  g_return_val_if_fail (SONDE_IS_ENGINE (self), FALSE);
  g_return_val_if_fail (name != NULL, FALSE);

  alerts = _sonde_engine_get_alerts (self, FALSE);
  index = find_rule (alerts, name);
  if (index == G_MAXUINT)
    return FALSE;

  state = g_ptr_array_steal_index (alerts->rules, index);
  state->removed = TRUE;
  release_rule (alerts, state);
  rule_state_unref (state);
  return TRUE;
}

/**
 * sonde_engine_lookup_alert_rule:
 * @self: a #SondeEngine
 * @name: the name of a rule
 *
 * Returns: (transfer none) (nullable): the rule named @name
 */
SondeAlertRule *
sonde_engine_lookup_alert_rule (SondeEngine *self,
                                const char  *name)
{
  SondeAlerts *alerts;
  guint index;

  g_return_val_if_fail (SONDE_IS_ENGINE (self), NULL);
  g_return_val_if_fail (name != NULL, NULL);

  alerts = _sonde_engine_get_alerts (self, FALSE);
  index = find_rule (alerts, name);
  if (index == G_MAXUINT)
    return NULL;
  return ((RuleState *) g_ptr_array_index (alerts->rules, index))->rule;
}

/**
 * sonde_engine_list_alert_rules:
 * @self: a #SondeEngine
 *
 * Returns: (transfer container) (element-type SondeAlertRule): the rules,
 *   in the order they were first added
 */
GPtrArray *
sonde_engine_list_alert_rules (SondeEngine *self)
{
  SondeAlerts *alerts;
  GPtrArray *ret;

  g_return_val_if_fail (SONDE_IS_ENGINE (self), NULL);

  alerts = _sonde_engine_get_alerts (self, FALSE);
  ret = g_ptr_array_new_with_free_func ((GDestroyNotify) sonde_alert_rule_unref);
  for (guint i = 0; alerts != NULL && i < alerts->rules->len; i++)
    {
      RuleState *state = g_ptr_array_index (alerts->rules, i);

      g_ptr_array_add (ret, sonde_alert_rule_ref (state->rule));
    }
  return ret;
}

/**
 * sonde_engine_set_alerts_wanted:
 * @self: a #SondeEngine
 * @wanted: whether anyone receives the engine's alerts now
 *
 * Says whether the engine's alerts reach anyone. While they do not, its
 * rules keep no collector sampled: they are evaluated only on the samples
 * the engine takes for something else (its history, a client), and the
 * streaks of their for-seconds start again. sonded sets it to %FALSE while
 * it has no client and no desktop to notify, so that with its history
 * off nothing is sampled and it does not wake up at all.
 *
 * An engine wants its alerts when it is created.
 *
 * Since: 0.1
 */
void
sonde_engine_set_alerts_wanted (SondeEngine *self,
                                gboolean     wanted)
{
  SondeAlerts *alerts;

  g_return_if_fail (SONDE_IS_ENGINE (self));

  alerts = _sonde_engine_get_alerts (self, TRUE);
  if (alerts->unwanted == !wanted)
    return;

  alerts->unwanted = !wanted;
  for (guint i = 0; i < alerts->rules->len; i++)
    {
      RuleState *state = g_ptr_array_index (alerts->rules, i);

      if (wanted)
        {
          hold_rule (alerts, state);
        }
      else
        {
          release_rule (alerts, state);
          state->since_us = NO_TIME;
        }
    }
}

/**
 * sonde_engine_get_alerts_wanted:
 * @self: a #SondeEngine
 *
 * Returns: whether the engine's alerts reach anyone, as
 *   sonde_engine_set_alerts_wanted() last said
 *
 * Since: 0.1
 */
gboolean
sonde_engine_get_alerts_wanted (SondeEngine *self)
{
  SondeAlerts *alerts;

  g_return_val_if_fail (SONDE_IS_ENGINE (self), TRUE);

  alerts = _sonde_engine_get_alerts (self, FALSE);
  return alerts == NULL || !alerts->unwanted;
}
