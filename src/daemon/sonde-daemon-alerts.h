/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gio/gio.h>

#include "sonde.h"

#include "sonde-config.h"

G_BEGIN_DECLS

/* The built-in rule: the servercontrol seed's CPU alert. */
#define SONDE_DAEMON_CPU_RULE        "cpu"
#define SONDE_DAEMON_CPU_METRIC      "cpu.usage_percent"
#define SONDE_DAEMON_CPU_THRESHOLD   90.0

gboolean sonde_daemon_add_alert_rules (SondeEngine  *engine,
                                       SondeConfig  *config,
                                       GError      **error);

/* [alerts] notify=true: each alert also becomes a desktop notification. */
typedef struct _SondeAlertNotifier SondeAlertNotifier;

SondeAlertNotifier *sonde_alert_notifier_new  (GApplication       *application,
                                               SondeEngine        *engine);
void                sonde_alert_notifier_free (SondeAlertNotifier *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SondeAlertNotifier, sonde_alert_notifier_free)

G_END_DECLS
