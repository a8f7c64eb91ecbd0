/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#if !defined(SONDE_INSIDE) && !defined(SONDE_COMPILATION)
# error "Only <sonde.h> can be included directly."
#endif

#include <json-glib/json-glib.h>

#include "sonde-version-macros.h"

G_BEGIN_DECLS

#define SONDE_TYPE_EVENT (sonde_event_get_type ())

typedef struct _SondeEvent SondeEvent;

SONDE_AVAILABLE_IN_ALL
GType       sonde_event_get_type      (void) G_GNUC_CONST;
SONDE_AVAILABLE_IN_ALL
SondeEvent *sonde_event_new           (const char *event_type,
                                       const char *source,
                                       gint64      timestamp_us,
                                       JsonObject *data);
SONDE_AVAILABLE_IN_ALL
SondeEvent *sonde_event_ref           (SondeEvent *self);
SONDE_AVAILABLE_IN_ALL
void        sonde_event_unref         (SondeEvent *self);
SONDE_AVAILABLE_IN_ALL
const char *sonde_event_get_event_type (SondeEvent *self);
SONDE_AVAILABLE_IN_ALL
const char *sonde_event_get_source    (SondeEvent *self);
SONDE_AVAILABLE_IN_ALL
gint64      sonde_event_get_timestamp (SondeEvent *self);
SONDE_AVAILABLE_IN_ALL
JsonObject *sonde_event_get_data      (SondeEvent *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SondeEvent, sonde_event_unref)

G_END_DECLS
