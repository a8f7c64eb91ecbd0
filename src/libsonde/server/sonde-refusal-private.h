/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <libsoup/soup.h>

#include "sonde-gateway-stats.h"

G_BEGIN_DECLS

/* Answers @msg with @status and a JSON error, then closes its connection
 * without reading the request's body, which libsoup 3.2 would read whole
 * into memory first; the refusal is counted in @stats. */
void _sonde_refuse_unread (SoupServerMessage *msg,
                           SondeGatewayStats *stats,
                           guint              status,
                           const char        *code,
                           const char        *message);

G_END_DECLS
