/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#if !defined(SONDE_INSIDE) && !defined(SONDE_COMPILATION)
# error "Only <sonde.h> can be included directly."
#endif

#include <gio/gio.h>

#include "sonde-defaults.h"
#include "sonde-engine.h"
#include "sonde-version-macros.h"

G_BEGIN_DECLS

#define SONDE_TYPE_SERVER (sonde_server_get_type ())

SONDE_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (SondeServer, sonde_server, SONDE, SERVER, GObject)

SONDE_AVAILABLE_IN_ALL
SondeServer *sonde_server_new           (SondeEngine  *engine);
SONDE_AVAILABLE_IN_ALL
SondeEngine *sonde_server_get_engine    (SondeServer  *self);
SONDE_AVAILABLE_IN_ALL
gboolean     sonde_server_listen        (SondeServer  *self,
                                         const char   *address,
                                         guint         port,
                                         GError      **error);
SONDE_AVAILABLE_IN_ALL
guint        sonde_server_listen_compat (SondeServer  *self,
                                         const char   *dialect,
                                         const char   *address,
                                         guint         port,
                                         GError      **error);
SONDE_AVAILABLE_IN_ALL
guint        sonde_server_get_compat_port (const char *dialect);
SONDE_AVAILABLE_IN_ALL
void         sonde_server_disconnect    (SondeServer  *self);
SONDE_AVAILABLE_IN_ALL
guint        sonde_server_get_port      (SondeServer  *self);
SONDE_AVAILABLE_IN_ALL
char        *sonde_server_get_uri       (SondeServer  *self);
SONDE_AVAILABLE_IN_ALL
guint        sonde_server_get_n_clients (SondeServer  *self);
SONDE_AVAILABLE_IN_ALL
guint        sonde_server_get_heartbeat_interval (SondeServer *self);
SONDE_AVAILABLE_IN_ALL
void         sonde_server_set_heartbeat_interval (SondeServer *self,
                                                  guint        seconds);

SONDE_AVAILABLE_IN_ALL
const char  *sonde_server_get_token     (SondeServer  *self);
SONDE_AVAILABLE_IN_ALL
void         sonde_server_set_token     (SondeServer  *self,
                                         const char   *token);
SONDE_AVAILABLE_IN_0_2
gboolean     sonde_server_get_reads_need_token (SondeServer  *self);
SONDE_AVAILABLE_IN_0_2
void         sonde_server_set_reads_need_token (SondeServer  *self,
                                                gboolean      need_token);
SONDE_AVAILABLE_IN_0_2
void         sonde_server_set_allowed_hosts   (SondeServer        *self,
                                               const char * const *hosts);
SONDE_AVAILABLE_IN_ALL
const char * const *sonde_server_get_allowed_origins (SondeServer        *self);
SONDE_AVAILABLE_IN_ALL
void         sonde_server_set_allowed_origins (SondeServer        *self,
                                               const char * const *origins);
SONDE_AVAILABLE_IN_ALL
void         sonde_server_set_tls_certificate (SondeServer      *self,
                                               GTlsCertificate  *certificate);
SONDE_AVAILABLE_IN_ALL
guint        sonde_server_get_interval_min (SondeServer  *self);
SONDE_AVAILABLE_IN_ALL
guint        sonde_server_get_interval_max (SondeServer  *self);
SONDE_AVAILABLE_IN_ALL
gboolean     sonde_server_set_interval_bounds (SondeServer  *self,
                                               guint         min_ms,
                                               guint         max_ms,
                                               GError      **error);

SONDE_AVAILABLE_IN_0_2
gboolean     sonde_server_configure     (SondeServer  *self,
                                         GKeyFile     *keyfile,
                                         GError      **error);
SONDE_AVAILABLE_IN_0_2
gboolean     sonde_server_handles_config_group (const char *group);

/* The settings of one format, from before sonde_server_configure(); they
 * are implemented by that format, in its folder under compat/. */
SONDE_DEPRECATED_IN_0_2_FOR (sonde_server_configure)
const char  *sonde_server_get_node_id   (SondeServer  *self);
SONDE_DEPRECATED_IN_0_2_FOR (sonde_server_configure)
void         sonde_server_set_node_id   (SondeServer  *self,
                                         const char   *node_id);
SONDE_DEPRECATED_IN_0_2_FOR (sonde_server_configure)
guint        sonde_server_get_telemetry_interval (SondeServer *self);
SONDE_DEPRECATED_IN_0_2_FOR (sonde_server_configure)
void         sonde_server_set_telemetry_interval (SondeServer *self,
                                                  guint        seconds);

G_END_DECLS
