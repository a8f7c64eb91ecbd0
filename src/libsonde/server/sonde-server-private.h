/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <libsoup/soup.h>

#include "sonde-hub-private.h"
#include "sonde-server.h"

G_BEGIN_DECLS

typedef struct _SondeNativeClient SondeNativeClient;

/* A wire format served on WebSocket routes. */
typedef struct
{
  const char *name;
  /* Creates the client of a new connection on @route. */
  gpointer  (*accept)     (SondeServer             *server,
                           SoupWebsocketConnection *websocket,
                           const char              *route,
                           GHashTable              *query);
  void      (*free)       (gpointer                 client);
  /* Optional: an engine event, with its native frame built once for all. */
  void      (*send_event) (gpointer                 client,
                           SondeEvent              *event,
                           GBytes                  *native_frame);
} SondeDialect;

extern const SondeDialect _sonde_native_dialect;

/* Incoming client frames above this get `too_large`; libsoup closes the
 * connection (1009) above SONDE_MAX_INCOMING_PAYLOAD. */
#define SONDE_MAX_CLIENT_MESSAGE    (64 * 1024)
#define SONDE_MAX_INCOMING_PAYLOAD  (1024 * 1024)
/* A client whose socket stays full this long is disconnected. */
#define SONDE_STALL_TIMEOUT_SECONDS 30

SondeHub *_sonde_server_get_hub            (SondeServer       *self);
GBytes   *_sonde_server_get_catalog_frame  (SondeServer       *self);
GBytes   *_sonde_server_get_hello_frame    (SondeServer       *self);
guint     _sonde_server_get_n_groups       (SondeServer       *self);
void      _sonde_server_client_closed      (SondeServer       *self,
                                            gpointer           client);
void      _sonde_server_add_websocket_route (SondeServer        *self,
                                             SoupServer         *soup_server,
                                             const char         *path,
                                             const SondeDialect *dialect);

void      _sonde_server_guard_path          (SondeServer        *self,
                                             SoupServer         *soup_server,
                                             const char         *path);

void _sonde_rest_respond_json  (SoupServerMessage *msg,
                                guint              status,
                                JsonObject        *object);
void _sonde_rest_respond_error (SoupServerMessage *msg,
                                guint              status,
                                const char        *code,
                                const char        *message);

void _sonde_rest_register (SondeServer *self,
                           SoupServer  *soup_server);

G_END_DECLS
