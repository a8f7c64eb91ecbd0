/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "sonde-collector-state-private.h"

G_BEGIN_DECLS

/*
 * The engine's collections, each run in a worker thread, and what they
 * return handed back to the main context where the engine was made.
 *
 * A tick can wait a little for its own collections (they take a few
 * milliseconds) and take their results at once: otherwise each tick would
 * cost the main loop a second iteration, and GLib walks and polls every
 * source, one per connected client, at each iteration.
 */
typedef struct _SondeCollections SondeCollections;

/* Called in the main context for each collection that returned: @sample,
 * or NULL and @error. */
typedef void (*SondeCollectionDone) (CollectorState *state,
                                     SondeSample    *sample,
                                     const GError   *error);

SondeCollections *_sonde_collections_new           (SondeCollectionDone  done);
/* The owner's reference; collections still running keep their own, and
 * their results are still handed back. */
void              _sonde_collections_unref         (SondeCollections    *self);

/* Collections started from now on with @for_tick are the ones
 * _sonde_collections_wait_for_tick() waits for, which must follow; until
 * it does, collections that return wait for it too. */
void              _sonde_collections_begin_tick    (SondeCollections    *self);
void              _sonde_collections_start         (SondeCollections    *self,
                                                    CollectorState      *state,
                                                    gboolean             for_tick);
/* Waits at most @timeout_ms for the tick's collections (none: no wait),
 * then hands back every collection that has returned, before returning. */
void              _sonde_collections_wait_for_tick (SondeCollections    *self,
                                                    guint                timeout_ms);

G_END_DECLS
