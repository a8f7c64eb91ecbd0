/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/*
 * A /proc or /sys file that is read every tick: opened once, then re-read
 * with pread() from offset 0 into a buffer that grows to fit and is reused,
 * so a tick costs one syscall and no allocation.
 */
typedef struct _SondeProcFile SondeProcFile;

SondeProcFile *sonde_proc_file_new   (const char     *path);
const char    *sonde_proc_file_get_path (SondeProcFile *self);
const char    *sonde_proc_file_read  (SondeProcFile  *self,
                                      gsize          *length,
                                      GError        **error);
void           sonde_proc_file_close (SondeProcFile  *self);
void           sonde_proc_file_free  (SondeProcFile  *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SondeProcFile, sonde_proc_file_free)

G_END_DECLS
