/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "ipc-sonde.h"
#include "sonde-daemon.h"

G_BEGIN_DECLS

#define IPC_TYPE_SONDE1_IMPL (ipc_sonde1_impl_get_type ())

G_DECLARE_FINAL_TYPE (IpcSonde1Impl, ipc_sonde1_impl, IPC, SONDE1_IMPL, IpcSonde1Skeleton)

IpcSonde1Impl *ipc_sonde1_impl_new (SondeDaemon *daemon);

G_END_DECLS
