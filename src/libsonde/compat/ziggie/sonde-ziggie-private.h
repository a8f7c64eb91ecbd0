/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "sonde-format-private.h"

G_BEGIN_DECLS

/* The ziggie control center's metrics stream (docs/formats/ziggie.md). */
extern const SondeFormat _sonde_ziggie_format;

G_END_DECLS
