/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#if !defined(SONDE_INSIDE) && !defined(SONDE_COMPILATION)
# error "Only <sonde.h> can be included directly."
#endif

#include <gio/gio.h>

#include "sonde-server.h"
#include "sonde-version-macros.h"

G_BEGIN_DECLS

/**
 * SONDE_DISCOVERY_DEFAULT_PORT:
 *
 * The UDP port a #SondeDiscovery answers on unless told otherwise: the
 * servercontrol product's.
 */
#define SONDE_DISCOVERY_DEFAULT_PORT 8082

/**
 * SONDE_DISCOVERY_PROBE:
 *
 * The text probe: a datagram of exactly these 14 bytes. The JSON probe
 * `{"type":"discover"}` is answered too.
 */
#define SONDE_DISCOVERY_PROBE "SONDE_DISCOVER"

/**
 * SONDE_DISCOVERY_MAX_DATAGRAM:
 *
 * Datagrams longer than this are ignored.
 */
#define SONDE_DISCOVERY_MAX_DATAGRAM 512

/**
 * SONDE_DISCOVERY_DEFAULT_MAX_REPLIES:
 *
 * How many replies a #SondeDiscovery sends per second at most, overall.
 */
#define SONDE_DISCOVERY_DEFAULT_MAX_REPLIES 10

#define SONDE_TYPE_DISCOVERY (sonde_discovery_get_type ())

SONDE_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (SondeDiscovery, sonde_discovery, SONDE, DISCOVERY, GObject)

SONDE_AVAILABLE_IN_ALL
SondeDiscovery *sonde_discovery_new             (SondeServer     *server);
SONDE_AVAILABLE_IN_ALL
SondeServer    *sonde_discovery_get_server      (SondeDiscovery  *self);
SONDE_AVAILABLE_IN_ALL
gboolean        sonde_discovery_start           (SondeDiscovery  *self,
                                                 const char      *address,
                                                 guint            port,
                                                 GError         **error);
SONDE_AVAILABLE_IN_ALL
void            sonde_discovery_stop            (SondeDiscovery  *self);
SONDE_AVAILABLE_IN_ALL
guint           sonde_discovery_get_port        (SondeDiscovery  *self);
SONDE_AVAILABLE_IN_ALL
guint           sonde_discovery_get_max_replies (SondeDiscovery  *self);
SONDE_AVAILABLE_IN_ALL
void            sonde_discovery_set_max_replies (SondeDiscovery  *self,
                                                 guint            per_second);
SONDE_AVAILABLE_IN_ALL
char           *sonde_discovery_build_announce  (SondeDiscovery  *self);
SONDE_AVAILABLE_IN_ALL
guint64         sonde_discovery_get_n_answered  (SondeDiscovery  *self);
SONDE_AVAILABLE_IN_ALL
guint64         sonde_discovery_get_n_ignored   (SondeDiscovery  *self);
SONDE_AVAILABLE_IN_ALL
guint64         sonde_discovery_get_n_limited   (SondeDiscovery  *self);

G_END_DECLS
