/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* A source dispatched at its ready time only (g_source_set_ready_time(),
 * monotonic microseconds; -1 when made): a timer that can be moved
 * without being re-created, and that is due to the microsecond where
 * g_timeout_add() counts in whole milliseconds from when it is added.
 * @func returns G_SOURCE_CONTINUE to be dispatched again at the ready
 * time set meanwhile. Not attached. */
GSource *_sonde_ready_time_source_new (GSourceFunc  func,
                                       gpointer     data,
                                       const char  *name);

G_END_DECLS
