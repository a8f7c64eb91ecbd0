/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <math.h>

#include "sonde-alert-rule.h"

/**
 * SondeAlertRule:
 *
 * A threshold rule on one numeric metric: "cpu.usage_percent above 90,
 * at most one alert a minute". Rules are immutable; to change one, add a
 * new rule of the same name to the engine with
 * sonde_engine_add_alert_rule(), which replaces it.
 *
 * The metric is a full name, `collector.field`, of a gauge, counter or
 * rate of the catalog; or one field of one instance of a table,
 * `collector.table[key=value].field`, such as
 * `disk.partitions[mount=/home].usage_percent`.
 *
 * The condition must hold on consecutive samples for the rule's
 * for-seconds before it fires; after a firing it
 * fires again only once its cooldown has passed and the condition holds
 * (still, or again: a condition that stopped holding must hold for
 * for-seconds anew). See sonde_engine_add_alert_rule().
 */

struct _SondeAlertRule
{
  gatomicrefcount       ref_count;
  char                 *name;
  char                 *metric;
  char                 *message;
  SondeAlertComparison  comparison;
  double                threshold;
  double                for_seconds;
  double                cooldown_seconds;
  gboolean              enabled;
};

G_DEFINE_ENUM_TYPE (SondeAlertComparison, sonde_alert_comparison,
                    G_DEFINE_ENUM_VALUE (SONDE_ALERT_COMPARISON_ABOVE, "above"),
                    G_DEFINE_ENUM_VALUE (SONDE_ALERT_COMPARISON_BELOW, "below"))

G_DEFINE_BOXED_TYPE (SondeAlertRule, sonde_alert_rule, sonde_alert_rule_ref, sonde_alert_rule_unref)

/**
 * sonde_alert_comparison_to_string:
 * @comparison: a #SondeAlertComparison
 *
 * Returns: "above" or "below", as alert events and sonde.conf spell it
 */
const char *
sonde_alert_comparison_to_string (SondeAlertComparison comparison)
{
  switch (comparison)
    {
    case SONDE_ALERT_COMPARISON_ABOVE:
      return "above";
    case SONDE_ALERT_COMPARISON_BELOW:
      return "below";
    default:
      g_return_val_if_reached (NULL);
    }
}

static gboolean
valid_seconds (double seconds)
{
  return isfinite (seconds) && seconds >= 0 && seconds <= SONDE_ALERT_MAX_SECONDS;
}

/**
 * sonde_alert_rule_new:
 * @name: the rule's name, unique in an engine, such as "cpu"
 * @metric: a full metric name, such as "cpu.usage_percent"
 * @comparison: whether the value must be above or below @threshold
 * @threshold: a finite number
 *
 * An enabled rule that fires as soon as the condition holds, then at
 * most once every %SONDE_ALERT_DEFAULT_COOLDOWN_SECONDS.
 *
 * Returns: (transfer full): a new #SondeAlertRule
 */
SondeAlertRule *
sonde_alert_rule_new (const char           *name,
                      const char           *metric,
                      SondeAlertComparison  comparison,
                      double                threshold)
{
  return sonde_alert_rule_new_full (name, metric, comparison, threshold,
                                    0, SONDE_ALERT_DEFAULT_COOLDOWN_SECONDS, TRUE, NULL);
}

/**
 * sonde_alert_rule_new_full:
 * @name: the rule's name, unique in an engine, such as "cpu"
 * @metric: a full metric name, such as "cpu.usage_percent", or
 *   "disk.partitions[mount=/].usage_percent" for a field of one instance
 * @comparison: whether the value must be above or below @threshold
 * @threshold: a finite number
 * @for_seconds: how long the condition must hold before the rule fires,
 *   0 to %SONDE_ALERT_MAX_SECONDS
 * @cooldown_seconds: the least time between two firings, 0 to
 *   %SONDE_ALERT_MAX_SECONDS
 * @enabled: whether the rule is evaluated at all
 * @message: (nullable): the human text of its alerts; %NULL for
 *   "METRIC above THRESHOLD (VALUE)"
 *
 * The metric is checked against the catalog when the rule is added to an
 * engine, not here.
 *
 * Returns: (transfer full): a new #SondeAlertRule
 */
SondeAlertRule *
sonde_alert_rule_new_full (const char           *name,
                           const char           *metric,
                           SondeAlertComparison  comparison,
                           double                threshold,
                           double                for_seconds,
                           double                cooldown_seconds,
                           gboolean              enabled,
                           const char           *message)
{
  SondeAlertRule *self;

  g_return_val_if_fail (name != NULL && *name != '\0', NULL);
  g_return_val_if_fail (metric != NULL, NULL);
  g_return_val_if_fail (comparison == SONDE_ALERT_COMPARISON_ABOVE ||
                        comparison == SONDE_ALERT_COMPARISON_BELOW, NULL);
  g_return_val_if_fail (isfinite (threshold), NULL);
  g_return_val_if_fail (valid_seconds (for_seconds), NULL);
  g_return_val_if_fail (valid_seconds (cooldown_seconds), NULL);

  self = g_new0 (SondeAlertRule, 1);
  g_atomic_ref_count_init (&self->ref_count);
  self->name = g_strdup (name);
  self->metric = g_strdup (metric);
  self->message = g_strdup (message);
  self->comparison = comparison;
  self->threshold = threshold;
  self->for_seconds = for_seconds;
  self->cooldown_seconds = cooldown_seconds;
  self->enabled = !!enabled;

  return self;
}

/**
 * sonde_alert_rule_ref:
 * @self: a #SondeAlertRule
 *
 * Returns: (transfer full): @self
 */
SondeAlertRule *
sonde_alert_rule_ref (SondeAlertRule *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  g_atomic_ref_count_inc (&self->ref_count);
  return self;
}

/**
 * sonde_alert_rule_unref:
 * @self: (transfer full): a #SondeAlertRule
 */
void
sonde_alert_rule_unref (SondeAlertRule *self)
{
  g_return_if_fail (self != NULL);

  if (!g_atomic_ref_count_dec (&self->ref_count))
    return;

  g_free (self->name);
  g_free (self->metric);
  g_free (self->message);
  g_free (self);
}

/**
 * sonde_alert_rule_get_name:
 * @self: a #SondeAlertRule
 *
 * Returns: the rule's name
 */
const char *
sonde_alert_rule_get_name (SondeAlertRule *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->name;
}

/**
 * sonde_alert_rule_get_metric:
 * @self: a #SondeAlertRule
 *
 * Returns: the full name of the metric the rule watches
 */
const char *
sonde_alert_rule_get_metric (SondeAlertRule *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->metric;
}

/**
 * sonde_alert_rule_get_comparison:
 * @self: a #SondeAlertRule
 *
 * Returns: whether the value must be above or below the threshold
 */
SondeAlertComparison
sonde_alert_rule_get_comparison (SondeAlertRule *self)
{
  g_return_val_if_fail (self != NULL, SONDE_ALERT_COMPARISON_ABOVE);
  return self->comparison;
}

/**
 * sonde_alert_rule_get_threshold:
 * @self: a #SondeAlertRule
 *
 * Returns: the threshold
 */
double
sonde_alert_rule_get_threshold (SondeAlertRule *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return self->threshold;
}

/**
 * sonde_alert_rule_get_for_seconds:
 * @self: a #SondeAlertRule
 *
 * Returns: how long the condition must hold before the rule fires
 */
double
sonde_alert_rule_get_for_seconds (SondeAlertRule *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return self->for_seconds;
}

/**
 * sonde_alert_rule_get_cooldown_seconds:
 * @self: a #SondeAlertRule
 *
 * Returns: the least time between two firings, in seconds
 */
double
sonde_alert_rule_get_cooldown_seconds (SondeAlertRule *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return self->cooldown_seconds;
}

/**
 * sonde_alert_rule_get_enabled:
 * @self: a #SondeAlertRule
 *
 * A disabled rule is kept by the engine but never evaluated, and keeps
 * no collector sampled.
 *
 * Returns: whether the rule is evaluated
 */
gboolean
sonde_alert_rule_get_enabled (SondeAlertRule *self)
{
  g_return_val_if_fail (self != NULL, FALSE);
  return self->enabled;
}

/**
 * sonde_alert_rule_get_message:
 * @self: a #SondeAlertRule
 *
 * Returns: (nullable): the rule's own alert text, if it has one
 */
const char *
sonde_alert_rule_get_message (SondeAlertRule *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->message;
}

/**
 * sonde_alert_rule_matches:
 * @self: a #SondeAlertRule
 * @value: a value of the rule's metric
 *
 * Whether @value meets the condition: strictly above, or strictly below,
 * the threshold. A NaN never does.
 *
 * Returns: %TRUE if the condition holds for @value
 */
gboolean
sonde_alert_rule_matches (SondeAlertRule *self,
                          double          value)
{
  g_return_val_if_fail (self != NULL, FALSE);

  if (isnan (value))
    return FALSE;
  if (self->comparison == SONDE_ALERT_COMPARISON_ABOVE)
    return value > self->threshold;
  return value < self->threshold;
}

/* The shortest text that reads back as @value: "90", "0.5". */
static void
append_number (GString *out,
               double   value)
{
  static const char * const formats[] = { "%.15g", "%.16g", "%.17g" };
  char buffer[G_ASCII_DTOSTR_BUF_SIZE];

  for (guint i = 0; i < G_N_ELEMENTS (formats); i++)
    {
      g_ascii_formatd (buffer, sizeof buffer, formats[i], value);
      if (g_ascii_strtod (buffer, NULL) == value)
        break;
    }
  g_string_append (out, buffer);
}

/**
 * sonde_alert_rule_format_message:
 * @self: a #SondeAlertRule
 * @value: the value that made the rule fire
 *
 * The human text of an alert: the rule's message if it has one, else
 * "METRIC above THRESHOLD (VALUE)" with the value to one decimal, such as
 * "memory.usage_percent above 80 (85.2)". It is not translated: it goes
 * into protocol frames read by scripts.
 *
 * Returns: (transfer full): the text
 */
char *
sonde_alert_rule_format_message (SondeAlertRule *self,
                                 double          value)
{
  GString *text;

  g_return_val_if_fail (self != NULL, NULL);

  if (self->message != NULL)
    return g_strdup (self->message);

  text = g_string_new (self->metric);
  g_string_append_c (text, ' ');
  g_string_append (text, sonde_alert_comparison_to_string (self->comparison));
  g_string_append_c (text, ' ');
  append_number (text, self->threshold);
  g_string_append (text, " (");
  /* One decimal is what a reader wants of a percentage or a load; the
   * exact value is in the event's "value". Adding 0.0 turns -0 into 0. */
  append_number (text, isfinite (value) ? round (value * 10) / 10 + 0.0 : value);
  g_string_append_c (text, ')');

  return g_string_free (text, FALSE);
}
