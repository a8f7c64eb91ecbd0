/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#if !defined(SONDE_INSIDE) && !defined(SONDE_COMPILATION)
# error "Only <sonde.h> can be included directly."
#endif

#include <glib.h>

#include "sonde-version-macros.h"

G_BEGIN_DECLS

#define SONDE_ERROR (sonde_error_quark ())

/**
 * SondeError:
 * @SONDE_ERROR_FAILED: generic failure
 * @SONDE_ERROR_INVALID_FILTER: a metric pattern is malformed
 * @SONDE_ERROR_UNKNOWN_METRIC: an exact metric name names no known metric
 * @SONDE_ERROR_UNKNOWN_COLLECTOR: no collector of that name is loaded
 * @SONDE_ERROR_COLLECTOR_FAILED: a collector could not produce a sample
 * @SONDE_ERROR_TIMED_OUT: a collection missed its deadline
 * @SONDE_ERROR_EXISTS: an object of that name is already registered
 * @SONDE_ERROR_INVALID_ARGUMENT: an argument is out of range
 *
 * Error codes in the %SONDE_ERROR domain.
 *
 * Since: 0.1
 */
typedef enum
{
  SONDE_ERROR_FAILED,
  SONDE_ERROR_INVALID_FILTER,
  SONDE_ERROR_UNKNOWN_METRIC,
  SONDE_ERROR_UNKNOWN_COLLECTOR,
  SONDE_ERROR_COLLECTOR_FAILED,
  SONDE_ERROR_TIMED_OUT,
  SONDE_ERROR_EXISTS,
  SONDE_ERROR_INVALID_ARGUMENT,
} SondeError;

SONDE_AVAILABLE_IN_ALL
GQuark sonde_error_quark (void);

G_END_DECLS
