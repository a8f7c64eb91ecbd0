/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "sonde-alert-rule.h"
#include "sonde-engine.h"

G_BEGIN_DECLS

/* The hold interval of a rule's collector: rules are evaluated on the
 * samples the engine takes anyway, at 1 s unless a client asks faster. */
#define SONDE_ALERTS_HOLD_INTERVAL_MS 1000

/* An engine's alert rules and their evaluation, created with the first
 * rule and freed by the engine's dispose (while its collectors are there,
 * so that the holds are released). */
typedef struct _SondeAlerts SondeAlerts;

SondeAlerts *_sonde_alerts_new  (SondeEngine *engine);
void         _sonde_alerts_free (SondeAlerts *self);

/* In sonde-engine.c: the engine's rules, made with the first one if
 * @create, else possibly NULL. */
SondeAlerts *_sonde_engine_get_alerts (SondeEngine *engine,
                                       gboolean     create);

G_END_DECLS
