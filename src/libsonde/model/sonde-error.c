/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "sonde-error.h"

G_DEFINE_QUARK (sonde-error-quark, sonde_error)
