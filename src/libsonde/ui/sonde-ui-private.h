/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "sonde-format-private.h"

G_BEGIN_DECLS

/* The web dashboard: GET / serves the page, GET /ui/NAME its assets, all
 * compiled into the library as a GResource (data/ui/). Every other path
 * below "/" without a route of its own answers 404 `not_found`. The page
 * and its assets load without the token (the page asks for it); they
 * hold no data, which the page reads over /ws/v1. */
extern const SondeFormat _sonde_ui_format;

G_END_DECLS
