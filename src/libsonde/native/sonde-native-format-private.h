/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "sonde-format-private.h"

G_BEGIN_DECLS

/* The native protocol, /ws/v1 (docs/formats/native.md), as one entry of
 * the format table. */
extern const SondeFormat _sonde_native_format;

typedef struct _SondeNative SondeNative;

/* What every native client of one server shares: the hello and catalog
 * frames, built once until the catalog or the interval bounds change. */
GBytes *_sonde_native_get_hello_frame   (SondeNative *self);
GBytes *_sonde_native_get_catalog_frame (SondeNative *self);
void    _sonde_native_add_client        (SondeNative *self,
                                         gpointer     client);
void    _sonde_native_remove_client     (SondeNative *self,
                                         gpointer     client);

G_END_DECLS
