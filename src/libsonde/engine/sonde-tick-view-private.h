/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <json-glib/json-glib.h>

#include "sonde-filter-private.h"
#include "sonde-sample.h"

G_BEGIN_DECLS

/*
 * What the engine has to say at one tick: for each collector, in the
 * engine's order, its latest sample, whether it is stale and why it
 * failed. Built once per tick and handed to every group's encoder and
 * every format, so that no encoder asks the engine anything; immutable,
 * and so shareable between threads.
 */
typedef struct _SondeTickView SondeTickView;

typedef struct
{
  const char  *name;
  SondeSample *sample;    /* NULL until the first collection */
  const char  *failure;   /* why the last collection failed, or NULL */
  gboolean     stale;     /* the sample is older than the last collection */
} SondeTickEntry;

SondeTickView        *_sonde_tick_view_new           (gint64              timestamp_us,
                                                      guint               n_collectors);
/* While building: the entries come in the engine's order. */
void                  _sonde_tick_view_add           (SondeTickView      *self,
                                                      const char         *name,
                                                      SondeSample        *sample,
                                                      const char         *failure,
                                                      gboolean            stale);
SondeTickView        *_sonde_tick_view_ref           (SondeTickView      *self);
void                  _sonde_tick_view_unref         (SondeTickView      *self);

gint64                _sonde_tick_view_get_timestamp (SondeTickView      *self);
/* The timestamp as _sonde_format_timestamp() writes it, made once per view
 * for every frame of the tick; any thread. */
const char           *_sonde_tick_view_get_timestamp_text (SondeTickView *self);
guint                 _sonde_tick_view_get_n_entries (SondeTickView      *self);
const SondeTickEntry *_sonde_tick_view_get_entry     (SondeTickView      *self,
                                                      guint               index);
const SondeTickEntry *_sonde_tick_view_lookup        (SondeTickView      *self,
                                                      const char         *collector);
/* The latest data of @collector, or NULL. */
JsonObject           *_sonde_tick_view_get_data      (SondeTickView      *self,
                                                      const char         *collector);
/* Why @collector has no fresh data ("no such collector", its failure), or
 * NULL when it has. */
const char           *_sonde_tick_view_get_failure   (SondeTickView      *self,
                                                      const char         *collector);
/* {collector: {field: value}} with only the fields @filter matches;
 * collectors whose data is stale are listed in @stale. Member nodes share
 * the samples' objects: main thread only (json-glib's reference counts
 * are not atomic). */
JsonObject           *_sonde_tick_view_to_json       (SondeTickView      *self,
                                                      SondeFilter        *filter,
                                                      JsonArray         **stale);

/* The same object as _sonde_tick_view_to_json(), appended to @data as
 * compact JSON text, and the array of stale collectors appended to @stale
 * (nothing when none is stale). Each collector's data is serialised once
 * per view, whatever the number of filters; any thread. */
void                  _sonde_tick_view_write_data    (SondeTickView      *self,
                                                      SondeFilter        *filter,
                                                      GString            *data,
                                                      GString            *stale);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SondeTickView, _sonde_tick_view_unref)

G_END_DECLS
