/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "ipc-sonde.h"
#include "sonde.h"

G_BEGIN_DECLS

#define IPC_TYPE_SONDE1_IMPL (ipc_sonde1_impl_get_type ())

G_DECLARE_FINAL_TYPE (IpcSonde1Impl, ipc_sonde1_impl, IPC, SONDE1_IMPL, IpcSonde1Skeleton)

/* The org.sonde.Sonde1 object of @engine and @server; @application is
 * held while D-Bus callers are around. */
IpcSonde1Impl *ipc_sonde1_impl_new (GApplication *application,
                                    SondeEngine  *engine,
                                    SondeServer  *server);

G_END_DECLS
