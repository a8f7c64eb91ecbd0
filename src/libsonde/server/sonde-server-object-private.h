/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "sonde-listener-private.h"
#include "sonde-server-access-private.h"
#include "sonde-server-private.h"

G_BEGIN_DECLS

/* The instance of SondeServer, for the files that implement it
 * (sonde-server.c, sonde-server-clients.c, sonde-server-listen.c,
 * sonde-server-settings.c) and no other. */
struct _SondeServer
{
  GObject      parent_instance;

  SondeEngine    *engine;
  SondeAccess    *access;
  SondeAdmission *admission;      /* the connections of every listener */
  GTlsCertificate *tls_certificate;
  SoupServer  *soup_server;
  GPtrArray   *listeners;      /* SondeListener, of every SoupServer */
  GPtrArray   *clients;        /* ServerClient */
  GPtrArray   *routes;         /* Route, alive as long as the handlers */
  GPtrArray   *compat_servers; /* SoupServer of compatibility listeners */
  gpointer    *format_states;  /* one per entry of _sonde_formats_get() */
  guint        heartbeat_interval;
  SondeTimerQueue *heartbeats;   /* of every WebSocket client */
  /* The last stream frame framed for WebSocket, and its payload: every
   * member of a group is sent the same payload in turn. */
  GBytes          *framed_payload;
  GBytes          *framed;
  guint64          n_framed;
  guint        interval_min_ms;
  guint        interval_max_ms;
  gulong       event_handler;
  gulong       added_handler;
  gulong       removed_handler;
};

/* Formats cache what they build from the catalog and the settings. */
void _sonde_server_invalidate_formats (SondeServer *self);

/* sonde-server.c owns the properties; the other files notify through it. */
void _sonde_server_notify_port        (SondeServer *self);
void _sonde_server_notify_n_clients   (SondeServer *self);

/* In sonde-server-clients.c: the clients' and routes' lists, a
 * SoupServer whose requests count in the gateway statistics, and closing
 * every client (without notifying n-clients, as sonde_server_disconnect()
 * never did). */
void        _sonde_server_init_clients       (SondeServer *self);
SoupServer *_sonde_server_create_soup_server (SondeServer *self);
void        _sonde_server_close_clients      (SondeServer *self);

G_END_DECLS
