/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "sonde-collector-state-private.h"
#include "sonde-engine.h"

G_BEGIN_DECLS

/* The engine's clock (sonde-clock.c): ticks aligned to the wall clock, a
 * collection per due collector with a deadline, the holds that make
 * collectors due, and refreshes. sonde_engine_hold(), _release() and
 * _refresh_async() are implemented there. */
typedef struct _SondeClock SondeClock;

SondeClock *_sonde_clock_new            (SondeEngine     *engine);
void        _sonde_clock_free           (SondeClock      *self);
/* Sets the timer for the next tick a hold makes due. */
void        _sonde_clock_schedule       (SondeClock      *self);
/* @state leaves the engine: its holds go, and the tick stops waiting. */
void        _sonde_clock_forget_state   (SondeClock      *self,
                                         CollectorState  *state);
/* For tests: how many holds there are. */
guint       _sonde_clock_get_n_holds    (SondeClock      *self);
/* For tests: the wall clock the ticks are aligned to, in microseconds. */
void        _sonde_clock_set_wall_clock (SondeClock      *self,
                                         gint64         (*wall_clock) (void));

G_END_DECLS
