/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#if !defined(SONDE_INSIDE) && !defined(SONDE_COMPILATION)
# error "Only <sonde.h> can be included directly."
#endif

#include <glib-object.h>

#include "sonde-version-macros.h"

G_BEGIN_DECLS

#define SONDE_TYPE_HISTORY (sonde_history_get_type ())

SONDE_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (SondeHistory, sonde_history, SONDE, HISTORY, GObject)

typedef struct _SondeEngine SondeEngine;

SONDE_AVAILABLE_IN_ALL
SondeHistory *sonde_history_new             (SondeEngine   *engine,
                                             guint          seconds);
SONDE_AVAILABLE_IN_ALL
guint         sonde_history_get_length      (SondeHistory  *self);
SONDE_AVAILABLE_IN_ALL
guint         sonde_history_get_n_metrics   (SondeHistory  *self);
SONDE_AVAILABLE_IN_ALL
gsize         sonde_history_get_memory_size (SondeHistory  *self);
SONDE_AVAILABLE_IN_ALL
gboolean      sonde_history_has_metric      (SondeHistory  *self,
                                             const char    *metric);
SONDE_AVAILABLE_IN_ALL
guint         sonde_history_get_points      (SondeHistory  *self,
                                             const char    *metric,
                                             guint          seconds,
                                             GArray       **timestamps_ms,
                                             GArray       **values);

G_END_DECLS
