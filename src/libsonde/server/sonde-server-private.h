/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <libsoup/soup.h>

#include "sonde-format-private.h"
#include "sonde-timer-queue-private.h"
#include "sonde-hub-private.h"
#include "sonde-server.h"
#include "sonde-server-access-private.h"

G_BEGIN_DECLS

/* Incoming client frames above this get the format's "too large" error;
 * libsoup closes the connection (1009) above SONDE_MAX_INCOMING_PAYLOAD. */
#define SONDE_MAX_CLIENT_MESSAGE    (64 * 1024)
#define SONDE_MAX_INCOMING_PAYLOAD  (1024 * 1024)
/* A client whose socket stays full this long is disconnected. */
#define SONDE_STALL_TIMEOUT_SECONDS 30

SondeHub *_sonde_server_get_hub            (SondeServer          *self);
/* When each WebSocket client is due a heartbeat. */
SondeTimerQueue *_sonde_server_get_heartbeats (SondeServer        *self);
/* @payload as a WebSocket text frame, unowned; see sonde-connection.c. */
GBytes   *_sonde_server_get_framed         (SondeServer          *self,
                                            GBytes               *payload);
/* Stream frames framed since start for plain connections: a group's
 * snapshot once per tick, whatever the number of members. */
guint64   _sonde_server_get_n_framed       (SondeServer          *self);
guint     _sonde_server_get_n_groups       (SondeServer          *self);
/* Frames encoded by the hub since start: one per group per tick. */
guint64   _sonde_server_get_n_encoded      (SondeServer          *self);
SoupServer *_sonde_server_get_soup_server  (SondeServer          *self);
/* The port @soup_server (the main one or a compatibility listener's)
 * listens on, or 0. */
guint     _sonde_server_get_listener_port  (SondeServer          *self,
                                            SoupServer           *soup_server);
gpointer  _sonde_server_get_format_state   (SondeServer          *self,
                                            const SondeFormat    *format);
void      _sonde_server_client_closed      (SondeServer          *self,
                                            gpointer              client);
/* Serves @ops's clients at @path of @soup_server (the main listener or a
 * compatibility listener), behind the access checks. */
void      _sonde_server_add_websocket_route (SondeServer          *self,
                                             SoupServer           *soup_server,
                                             const char           *path,
                                             const SondeClientOps *ops,
                                             gpointer              format_state);
/* GET /status: the members the formats add. */
void      _sonde_server_add_status_members  (SondeServer          *self,
                                             JsonObject           *status);
/* The access checks (body size, Host, Origin, token) before @path's
 * handler; a sensitive path needs the token whenever there is one. */
void      _sonde_server_guard_path          (SondeServer          *self,
                                             SoupServer           *soup_server,
                                             const char           *path);
void      _sonde_server_guard_sensitive_path (SondeServer         *self,
                                              SoupServer          *soup_server,
                                              const char          *path);
/* The same checks, except that a GET or HEAD of a path @is_public accepts
 * (static files holding no data) needs no token. */
void      _sonde_server_guard_public_path   (SondeServer          *self,
                                             SoupServer           *soup_server,
                                             const char           *path,
                                             SondeAccessPublicFunc is_public,
                                             gpointer              user_data,
                                             GDestroyNotify        destroy);
/* For a route of SONDE_ROUTE_OWN_TOKENS: the index in @tokens
 * (NULL-terminated) of the token @websocket's handshake carried
 * (`?token=`), every one compared in constant time; -1 for none. Neither
 * the token nor anything derived from it is logged. */
int       _sonde_server_match_client_token  (SoupWebsocketConnection *websocket,
                                             const char * const   *tokens);

/* Hosts other than this one, from the formats that receive their data
 * (see SondeFormat; in sonde-server-hosts.c): NULL for a host none of
 * them knows. */
SondeTickView *_sonde_server_ref_host_view  (SondeServer          *self,
                                             const char           *host);
JsonArray *_sonde_server_get_host_history   (SondeServer          *self,
                                             const char           *host,
                                             const char           *metric,
                                             guint                 seconds,
                                             GError              **error);
SondeHub  *_sonde_server_get_host_hub       (SondeServer          *self,
                                             const char           *host);
/* The other hosts online now (element-type utf8), sorted; NULL when no
 * format takes other hosts' data (this server is no hub). */
GPtrArray *_sonde_server_list_hosts         (SondeServer          *self);
gboolean  _sonde_server_websocket_is_trusted (SondeServer             *self,
                                              SoupWebsocketConnection *websocket);

G_END_DECLS
