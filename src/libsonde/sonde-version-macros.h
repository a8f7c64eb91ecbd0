/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#if !defined(SONDE_INSIDE) && !defined(SONDE_COMPILATION)
# error "Only <sonde.h> can be included directly."
#endif

#include <glib.h>

#ifndef _SONDE_EXTERN
# define _SONDE_EXTERN __attribute__((visibility ("default"))) extern
#endif

#define SONDE_AVAILABLE_IN_ALL _SONDE_EXTERN

/* Symbols added in 0.2 (the versions of the API, not of the ABI: every
 * release of libsonde-1 keeps the symbols of the earlier ones). */
#define SONDE_AVAILABLE_IN_0_2 _SONDE_EXTERN

/**
 * SONDE_DEPRECATED_IN_0_2_FOR:
 * @f: the symbol to use instead
 *
 * Marks a symbol deprecated in 0.2 in favour of @f. Define
 * `SONDE_DISABLE_DEPRECATION_WARNINGS` before including `sonde.h` to
 * silence the compiler's warnings.
 *
 * Since: 0.2
 */
#ifdef SONDE_DISABLE_DEPRECATION_WARNINGS
# define SONDE_DEPRECATED_IN_0_2_FOR(f) _SONDE_EXTERN
#else
# define SONDE_DEPRECATED_IN_0_2_FOR(f) G_DEPRECATED_FOR (f) _SONDE_EXTERN
#endif
