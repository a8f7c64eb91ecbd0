/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Whether a datagram is a discovery probe: exactly SONDE_DISCOVERY_PROBE,
 * or a JSON object whose "type" is "discover". The datagram comes from
 * anyone on the network. */
gboolean _sonde_discovery_is_probe (const char *data,
                                    gsize       length);

G_END_DECLS
