/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "sonde-engine.h"
#include "sonde-filter-private.h"
#include "sonde-hub-private.h"

G_BEGIN_DECLS

/* Encoders of the native protocol's server messages. */

/* Snapshots: members join with their subscription id as the label. */
extern const SondeHubEncoding _sonde_native_snapshot_encoding;

GBytes     *_sonde_native_encode_catalog  (SondeEngine   *engine);
GBytes     *_sonde_native_encode_hello    (SondeEngine   *engine,
                                           guint          interval_min_ms,
                                           guint          interval_max_ms);
GBytes     *_sonde_native_encode_event    (SondeEvent    *event);
GBytes     *_sonde_native_encode_heartbeat (gint64        timestamp_us);
GBytes     *_sonde_frame_add_dropped      (GBytes        *frame,
                                           guint          dropped);

G_END_DECLS
