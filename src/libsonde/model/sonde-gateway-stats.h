/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#if !defined(SONDE_INSIDE) && !defined(SONDE_COMPILATION)
# error "Only <sonde.h> can be included directly."
#endif

#include <json-glib/json-glib.h>

#include "sonde-version-macros.h"

G_BEGIN_DECLS

#define SONDE_TYPE_GATEWAY_STATS (sonde_gateway_stats_get_type ())

SONDE_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (SondeGatewayStats, sonde_gateway_stats, SONDE, GATEWAY_STATS, GObject)

SONDE_AVAILABLE_IN_ALL
SondeGatewayStats *sonde_gateway_stats_new                (void);
SONDE_AVAILABLE_IN_ALL
void               sonde_gateway_stats_record_request     (SondeGatewayStats *self,
                                                           gboolean           success,
                                                           gint64             duration_us);
SONDE_AVAILABLE_IN_ALL
void               sonde_gateway_stats_connection_opened  (SondeGatewayStats *self,
                                                           const char        *route);
SONDE_AVAILABLE_IN_ALL
void               sonde_gateway_stats_connection_closed  (SondeGatewayStats *self,
                                                           const char        *route);
SONDE_AVAILABLE_IN_ALL
void               sonde_gateway_stats_add_messages_sent  (SondeGatewayStats *self,
                                                           guint              n_messages);
SONDE_AVAILABLE_IN_ALL
void               sonde_gateway_stats_add_frames_dropped (SondeGatewayStats *self,
                                                           guint              n_frames);
SONDE_AVAILABLE_IN_ALL
guint              sonde_gateway_stats_get_active_connections (SondeGatewayStats *self);
SONDE_AVAILABLE_IN_ALL
JsonObject        *sonde_gateway_stats_to_json            (SondeGatewayStats *self);

G_END_DECLS
