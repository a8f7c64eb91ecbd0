/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <libsoup/soup.h>

#include "sonde-gateway-stats.h"

G_BEGIN_DECLS

/* Who may talk to a server, and what they may send: the token, the
 * allowed browser origins and the size of request bodies, checked once a
 * request's headers are read, before any route. */
typedef struct _SondeAccess SondeAccess;

SondeAccess        *_sonde_access_new                 (SondeGatewayStats  *stats);
void                _sonde_access_free                (SondeAccess        *self);
const char         *_sonde_access_get_token           (SondeAccess        *self);
void                _sonde_access_set_token           (SondeAccess        *self,
                                                       const char         *token);
const char * const *_sonde_access_get_allowed_origins (SondeAccess        *self);
void                _sonde_access_set_allowed_origins (SondeAccess        *self,
                                                       const char * const *origins);
/* @sensitive: the route reveals more than metrics or changes state, and
 * needs the token whenever there is one; other routes need it for
 * anything but GET and HEAD, and for those too unless reads are open. */
void                _sonde_access_guard_path          (SondeAccess        *self,
                                                       SoupServer         *soup_server,
                                                       const char         *path,
                                                       gboolean            sensitive);
/* No token is set, or @msg carries it: what sensitive routes ask. */
gboolean            _sonde_access_request_is_trusted  (SondeAccess        *self,
                                                       SoupServerMessage  *msg);
gboolean            _sonde_access_get_token_for_reads (SondeAccess        *self);
void                _sonde_access_set_token_for_reads (SondeAccess        *self,
                                                       gboolean            for_reads);
void                _sonde_access_set_allowed_hosts   (SondeAccess        *self,
                                                       const char * const *hosts);
void                _sonde_access_add_listen_address  (SondeAccess        *self,
                                                       GInetAddress       *address);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SondeAccess, _sonde_access_free)

G_END_DECLS
