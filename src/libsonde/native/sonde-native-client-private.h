/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "sonde-format-private.h"

G_BEGIN_DECLS

/* One connection speaking the native protocol. */
typedef struct _SondeNativeClient SondeNativeClient;

extern const SondeClientOps _sonde_native_client_ops;

/* Whether one of @self's subscriptions asked for events of @event_type. */
gboolean _sonde_native_client_wants_event (SondeNativeClient *self,
                                           const char        *event_type);
void     _sonde_native_client_send_event  (SondeNativeClient *self,
                                           GBytes            *frame);

G_END_DECLS
