/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <libsoup/soup.h>

#include "sonde-server.h"

G_BEGIN_DECLS

/*
 * The WebSocket and HTTP formats of the products Sonde replaces. Each is
 * served on the main listener at its own path, and can also get a
 * compatibility listener at its seed's own port and path, so that the
 * seed documents' clients run unchanged.
 */
typedef void (*SondeRegisterRoutes) (SondeServer *server,
                                     SoupServer  *soup_server,
                                     const char  *path);

typedef struct
{
  const char          *name;         /* for sonde_server_listen_compat() */
  const char          *main_path;    /* on the main listener, or NULL */
  const char          *compat_path;  /* on its compatibility listener */
  guint                compat_port;  /* the seed's port */
  SondeRegisterRoutes  register_routes;
} SondeDialectRoute;

extern const SondeDialectRoute _sonde_dialect_routes[];
extern const guint             _sonde_n_dialect_routes;

const SondeDialectRoute *_sonde_dialect_route_lookup (const char *name);

/* One function per dialect, in sonde-dialect-NAME.c. */
void _sonde_kairos_register (SondeServer *server, SoupServer *soup_server, const char *path);
void _sonde_resolvix_telemetry_register (SondeServer *server, SoupServer *soup_server, const char *path);
void _sonde_resolvix_logs_register (SondeServer *server, SoupServer *soup_server, const char *path);
void _sonde_resolvix_control_register (SondeServer *server, SoupServer *soup_server, const char *path);
void _sonde_ziggie_register (SondeServer *server,
                             SoupServer  *soup_server,
                             const char  *path);

G_END_DECLS
