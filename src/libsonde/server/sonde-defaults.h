/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#if !defined(SONDE_INSIDE) && !defined(SONDE_COMPILATION) && !defined(SONDE_DEFAULTS_ONLY)
# error "Only <sonde.h> can be included directly."
#endif

/* What sonded and its clients (the sonde CLI, D-Bus callers) agree on.
 * Defines only: a pure protocol client may include this header alone,
 * with SONDE_DEFAULTS_ONLY, without linking libsonde. */

/**
 * SONDE_DEFAULT_PORT:
 *
 * The port sonded listens on unless told otherwise.
 *
 * Since: 0.1
 */
#define SONDE_DEFAULT_PORT 54112

/**
 * SONDE_NATIVE_PATH:
 *
 * The path of the native protocol on sonded's port.
 *
 * Since: 0.2
 */
#define SONDE_NATIVE_PATH "/ws/v1"

/**
 * SONDE_DEFAULT_URL:
 *
 * The native protocol's URL of a sonded with its defaults.
 *
 * Since: 0.2
 */
#define SONDE_DEFAULT_URL "ws://127.0.0.1:54112" SONDE_NATIVE_PATH

/**
 * SONDE_DBUS_NAME:
 *
 * The well-known name sonded owns on the session bus.
 *
 * Since: 0.2
 */
#define SONDE_DBUS_NAME "org.sonde.Sonde1"

/**
 * SONDE_DBUS_PATH:
 *
 * The path of sonded's object on the session bus.
 *
 * Since: 0.2
 */
#define SONDE_DBUS_PATH "/org/sonde/Sonde1"

/**
 * SONDE_CONFIG_FILE:
 *
 * sonded's configuration file, relative to the user's configuration
 * directory (g_get_user_config_dir()).
 *
 * Since: 0.2
 */
#define SONDE_CONFIG_FILE "sonde/sonde.conf"

/**
 * SONDE_TOKEN_FILE:
 *
 * The token sonded makes for its user when none is configured, relative
 * to the user's configuration directory; readable by that user only.
 *
 * Since: 0.2
 */
#define SONDE_TOKEN_FILE "sonde/token"
