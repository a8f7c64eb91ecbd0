/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* The token of a daemon configured with none: made at the first start
 * and kept in a file only its user can read ($XDG_CONFIG_HOME/sonde/token,
 * mode 0600), where the sonde CLI finds it; D-Bus callers of the same
 * user read it from the Token property. */
char *sonde_daemon_token_path (void);
char *sonde_daemon_load_token (GError **error);

G_END_DECLS
