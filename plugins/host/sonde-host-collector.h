/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <sys/utsname.h>

#include "sonde.h"

G_BEGIN_DECLS

#define SONDE_TYPE_HOST_COLLECTOR (sonde_host_collector_get_type ())

G_DECLARE_FINAL_TYPE (SondeHostCollector, sonde_host_collector, SONDE, HOST_COLLECTOR, SondeCollector)

/* Same signature as uname(2), so tests can pretend to be another machine. */
typedef int (*SondeHostUnameFunc) (struct utsname *buf);

SondeCollector *sonde_host_collector_new                 (void);
const char     *sonde_host_collector_get_os_release_path (SondeHostCollector *self);
void            sonde_host_collector_set_os_release_path (SondeHostCollector *self,
                                                          const char         *path);
void            sonde_host_collector_set_uname_func      (SondeHostCollector *self,
                                                          SondeHostUnameFunc  func);

G_END_DECLS
