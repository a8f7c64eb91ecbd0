/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "sonde-config.h"

G_BEGIN_DECLS

/* Typed readers of sonde.conf's values, in sonde-config-read.c: each
 * reports a bad value as "FILE: [GROUP] KEY: what is wrong" and leaves
 * the destination alone when the key is absent. */

gboolean sonde_config_read_int (SondeConfig  *self,
                                GKeyFile     *file,
                                const char   *group,
                                const char   *key,
                                gint64        min,
                                gint64        max,
                                const char   *invalid,
                                int          *value,
                                GError      **error);
gboolean sonde_config_check_escapes (SondeConfig  *self,
                                     GKeyFile     *file,
                                     const char   *group,
                                     const char   *key,
                                     gboolean      list,
                                     GError      **error);
gboolean sonde_config_read_string (SondeConfig  *self,
                                   GKeyFile     *file,
                                   const char   *group,
                                   const char   *key,
                                   char        **value,
                                   GError      **error);
gboolean sonde_config_read_list (SondeConfig  *self,
                                 GKeyFile     *file,
                                 const char   *group,
                                 const char   *key,
                                 GStrv        *value,
                                 GError      **error);
char *sonde_config_resolve_path (SondeConfig *self,
                                 const char  *path);
gboolean sonde_config_read_absolute_paths (SondeConfig  *self,
                                           GKeyFile     *file,
                                           const char   *key,
                                           GStrv        *value,
                                           GError      **error);
gboolean sonde_config_read_boolean (SondeConfig  *self,
                                    GKeyFile     *file,
                                    const char   *group,
                                    const char   *key,
                                    int          *value,
                                    GError      **error);
gboolean sonde_config_read_double (SondeConfig  *self,
                                   GKeyFile     *file,
                                   const char   *group,
                                   const char   *key,
                                   double        min,
                                   double        max,
                                   const char   *invalid,
                                   double       *value,
                                   GError      **error);

G_END_DECLS
