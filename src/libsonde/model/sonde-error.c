/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "sonde-error.h"

/**
 * sonde_error_quark:
 *
 * The error domain of libsonde, `SONDE_ERROR`: its errors carry a
 * #SondeError code.
 *
 * Returns: the quark of the domain
 *
 * Since: 0.1
 */
G_DEFINE_QUARK (sonde-error-quark, sonde_error)
