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
void                _sonde_access_guard_path          (SondeAccess        *self,
                                                       SoupServer         *soup_server,
                                                       const char         *path);
void                _sonde_access_skip_token          (SondeAccess        *self,
                                                       SoupServer         *soup_server,
                                                       const char         *path);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SondeAccess, _sonde_access_free)

G_END_DECLS
