/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#if !defined(SONDE_INSIDE) && !defined(SONDE_COMPILATION)
# error "Only <sonde.h> can be included directly."
#endif

#include <json-glib/json-glib.h>

#include "sonde-version-macros.h"

G_BEGIN_DECLS

#define SONDE_TYPE_SAMPLE (sonde_sample_get_type ())

typedef struct _SondeSample SondeSample;

SONDE_AVAILABLE_IN_ALL
GType        sonde_sample_get_type      (void) G_GNUC_CONST;
SONDE_AVAILABLE_IN_ALL
SondeSample *sonde_sample_new           (const char  *collector,
                                         gint64       timestamp_us,
                                         JsonObject  *data);
SONDE_AVAILABLE_IN_ALL
SondeSample *sonde_sample_new_from_json (const char  *collector,
                                         gint64       timestamp_us,
                                         const char  *json,
                                         GError     **error);
SONDE_AVAILABLE_IN_ALL
SondeSample *sonde_sample_ref           (SondeSample *self);
SONDE_AVAILABLE_IN_ALL
void         sonde_sample_unref         (SondeSample *self);
SONDE_AVAILABLE_IN_ALL
const char  *sonde_sample_get_collector (SondeSample *self);
SONDE_AVAILABLE_IN_ALL
gint64       sonde_sample_get_timestamp (SondeSample *self);
SONDE_AVAILABLE_IN_ALL
JsonObject  *sonde_sample_get_data      (SondeSample *self);
SONDE_AVAILABLE_IN_ALL
gboolean     sonde_sample_has_field     (SondeSample *self,
                                         const char  *field);
SONDE_AVAILABLE_IN_ALL
double       sonde_sample_get_double    (SondeSample *self,
                                         const char  *field);
SONDE_AVAILABLE_IN_ALL
gint64       sonde_sample_get_int       (SondeSample *self,
                                         const char  *field);
SONDE_AVAILABLE_IN_ALL
const char  *sonde_sample_get_string    (SondeSample *self,
                                         const char  *field);
SONDE_AVAILABLE_IN_ALL
char        *sonde_sample_to_json       (SondeSample *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SondeSample, sonde_sample_unref)

G_END_DECLS
