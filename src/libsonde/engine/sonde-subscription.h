/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#if !defined(SONDE_INSIDE) && !defined(SONDE_COMPILATION)
# error "Only <sonde.h> can be included directly."
#endif

#include "sonde-engine.h"
#include "sonde-version-macros.h"

G_BEGIN_DECLS

#define SONDE_TYPE_SUBSCRIPTION (sonde_subscription_get_type ())

SONDE_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (SondeSubscription, sonde_subscription, SONDE, SUBSCRIPTION, GObject)

SONDE_AVAILABLE_IN_ALL
SondeSubscription *sonde_subscription_new          (SondeEngine        *engine,
                                                    const char         *id,
                                                    const char * const *patterns,
                                                    guint               interval_ms,
                                                    GError            **error);
SONDE_AVAILABLE_IN_ALL
const char        *sonde_subscription_get_id       (SondeSubscription  *self);
SONDE_AVAILABLE_IN_ALL
guint              sonde_subscription_get_interval (SondeSubscription  *self);
SONDE_AVAILABLE_IN_ALL
void               sonde_subscription_cancel       (SondeSubscription  *self);

G_END_DECLS
