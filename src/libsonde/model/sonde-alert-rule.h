/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#if !defined(SONDE_INSIDE) && !defined(SONDE_COMPILATION)
# error "Only <sonde.h> can be included directly."
#endif

#include <glib-object.h>

#include "sonde-version-macros.h"

G_BEGIN_DECLS

/**
 * SONDE_ALERT_DEFAULT_COOLDOWN_SECONDS:
 *
 * The cooldown of a rule made with sonde_alert_rule_new(): at most one
 * alert a minute, as the servercontrol CPU alert.
 */
#define SONDE_ALERT_DEFAULT_COOLDOWN_SECONDS 60.0

/**
 * SONDE_ALERT_MAX_SECONDS:
 *
 * The longest for-seconds or cooldown a rule may have: a week.
 */
#define SONDE_ALERT_MAX_SECONDS (7 * 86400.0)

/**
 * SondeAlertComparison:
 * @SONDE_ALERT_COMPARISON_ABOVE: the condition holds while the value is
 *   greater than the threshold
 * @SONDE_ALERT_COMPARISON_BELOW: the condition holds while the value is
 *   less than the threshold
 *
 * How a rule compares a metric's value with its threshold.
 */
typedef enum
{
  SONDE_ALERT_COMPARISON_ABOVE,
  SONDE_ALERT_COMPARISON_BELOW,
} SondeAlertComparison;

#define SONDE_TYPE_ALERT_COMPARISON (sonde_alert_comparison_get_type ())
#define SONDE_TYPE_ALERT_RULE (sonde_alert_rule_get_type ())

typedef struct _SondeAlertRule SondeAlertRule;
typedef struct _SondeEngine SondeEngine;

SONDE_AVAILABLE_IN_ALL
GType                 sonde_alert_comparison_get_type    (void) G_GNUC_CONST;
SONDE_AVAILABLE_IN_ALL
const char           *sonde_alert_comparison_to_string   (SondeAlertComparison  comparison);

SONDE_AVAILABLE_IN_ALL
GType                 sonde_alert_rule_get_type          (void) G_GNUC_CONST;
SONDE_AVAILABLE_IN_ALL
SondeAlertRule       *sonde_alert_rule_new               (const char           *name,
                                                          const char           *metric,
                                                          SondeAlertComparison  comparison,
                                                          double                threshold);
SONDE_AVAILABLE_IN_ALL
SondeAlertRule       *sonde_alert_rule_new_full          (const char           *name,
                                                          const char           *metric,
                                                          SondeAlertComparison  comparison,
                                                          double                threshold,
                                                          double                for_seconds,
                                                          double                cooldown_seconds,
                                                          gboolean              enabled,
                                                          const char           *message);
SONDE_AVAILABLE_IN_ALL
SondeAlertRule       *sonde_alert_rule_ref               (SondeAlertRule       *self);
SONDE_AVAILABLE_IN_ALL
void                  sonde_alert_rule_unref             (SondeAlertRule       *self);
SONDE_AVAILABLE_IN_ALL
const char           *sonde_alert_rule_get_name          (SondeAlertRule       *self);
SONDE_AVAILABLE_IN_ALL
const char           *sonde_alert_rule_get_metric        (SondeAlertRule       *self);
SONDE_AVAILABLE_IN_ALL
SondeAlertComparison  sonde_alert_rule_get_comparison    (SondeAlertRule       *self);
SONDE_AVAILABLE_IN_ALL
double                sonde_alert_rule_get_threshold     (SondeAlertRule       *self);
SONDE_AVAILABLE_IN_ALL
double                sonde_alert_rule_get_for_seconds   (SondeAlertRule       *self);
SONDE_AVAILABLE_IN_ALL
double                sonde_alert_rule_get_cooldown_seconds (SondeAlertRule    *self);
SONDE_AVAILABLE_IN_ALL
gboolean              sonde_alert_rule_get_enabled       (SondeAlertRule       *self);
SONDE_AVAILABLE_IN_ALL
const char           *sonde_alert_rule_get_message       (SondeAlertRule       *self);
SONDE_AVAILABLE_IN_ALL
gboolean              sonde_alert_rule_matches           (SondeAlertRule       *self,
                                                          double                value);
SONDE_AVAILABLE_IN_ALL
char                 *sonde_alert_rule_format_message    (SondeAlertRule       *self,
                                                          double                value);

/* The rules of an engine: in sonde-alerts.c. */
SONDE_AVAILABLE_IN_ALL
gboolean              sonde_engine_add_alert_rule        (SondeEngine          *self,
                                                          SondeAlertRule       *rule,
                                                          GError              **error);
SONDE_AVAILABLE_IN_ALL
gboolean              sonde_engine_remove_alert_rule     (SondeEngine          *self,
                                                          const char           *name);
SONDE_AVAILABLE_IN_ALL
SondeAlertRule       *sonde_engine_lookup_alert_rule     (SondeEngine          *self,
                                                          const char           *name);
SONDE_AVAILABLE_IN_ALL
GPtrArray            *sonde_engine_list_alert_rules      (SondeEngine          *self);
SONDE_AVAILABLE_IN_ALL
void                  sonde_engine_set_alerts_wanted     (SondeEngine          *self,
                                                          gboolean              wanted);
SONDE_AVAILABLE_IN_ALL
gboolean              sonde_engine_get_alerts_wanted     (SondeEngine          *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SondeAlertRule, sonde_alert_rule_unref)

G_END_DECLS
