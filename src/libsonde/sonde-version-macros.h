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
