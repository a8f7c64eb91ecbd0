/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gio/gio.h>

#include "sonde.h"

G_BEGIN_DECLS

#define SONDE_TYPE_DAEMON (sonde_daemon_get_type ())

G_DECLARE_FINAL_TYPE (SondeDaemon, sonde_daemon, SONDE, DAEMON, GApplication)

SondeDaemon *sonde_daemon_new                 (void);

G_END_DECLS
