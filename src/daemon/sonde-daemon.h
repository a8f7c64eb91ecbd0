/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gio/gio.h>

#include "sonde.h"

G_BEGIN_DECLS

#define SONDE_DAEMON_BUS_NAME    "org.sonde.Sonde1"
#define SONDE_DAEMON_OBJECT_PATH "/org/sonde/Sonde1"

#define SONDE_TYPE_DAEMON (sonde_daemon_get_type ())

G_DECLARE_FINAL_TYPE (SondeDaemon, sonde_daemon, SONDE, DAEMON, GApplication)

SondeDaemon *sonde_daemon_new                 (void);
SondeEngine *sonde_daemon_get_engine          (SondeDaemon  *self);
SondeServer *sonde_daemon_get_server          (SondeDaemon  *self);
gboolean     sonde_daemon_enable_collector    (SondeDaemon  *self,
                                               const char   *name,
                                               GError      **error);
gboolean     sonde_daemon_disable_collector   (SondeDaemon  *self,
                                               const char   *name,
                                               GError      **error);

G_END_DECLS
