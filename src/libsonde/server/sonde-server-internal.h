/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The server's insides, shared by sonde-server.c (listeners, clients,
 * routes) and sonde-server-access.c (token and Origin checks). */

#include "sonde-server-private.h"

G_BEGIN_DECLS

struct _SondeServer
{
  GObject      parent_instance;

  SondeEngine *engine;
  SoupServer  *soup_server;
  GPtrArray   *clients;        /* ServerClient */
  GPtrArray   *routes;         /* Route, alive as long as the handlers */
  GPtrArray   *compat_servers; /* SoupServer of compatibility listeners */
  GBytes      *catalog_frame;  /* cached until the catalog changes */
  GBytes      *hello_frame;
  guint        heartbeat_interval;
  guint        interval_min_ms;
  guint        interval_max_ms;
  char        *token;
  GStrv        allowed_origins;
  gboolean     tls;
  gulong       event_handler;
  gulong       added_handler;
  gulong       removed_handler;
};

G_END_DECLS
