/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "sonde.h"

G_BEGIN_DECLS

/* One [alert NAME] group. Unset values are NULL or -1: [alert cpu]
 * changes only what it gives of the built-in rule. */
typedef struct
{
  char            *name;
  char            *metric;
  int              comparison;        /* SondeAlertComparison, or -1 */
  double           threshold;
  double           for_seconds;
  double           cooldown_seconds;
  int              enabled;           /* -1, FALSE or TRUE */
  char            *message;
} SondeConfigAlert;

/* sonded's configuration file (GKeyFile). Unset values are -1 or NULL, so
 * that command-line options can override what the file says and defaults
 * apply to the rest. */
typedef struct
{
  char            *path;             /* the file read, or NULL */
  char            *address;
  int              port;
  char            *token;
  GTlsCertificate *tls_certificate;
  GStrv            allowed_origins;
  int              interval_min_ms;
  int              interval_max_ms;
  int              idle_timeout;      /* seconds */
  GStrv            enabled;
  GStrv            disabled;
  int              history_seconds;
  GStrv            compat;            /* NAME or NAME:PORT */
  GStrv            log_files;
  GStrv            log_allowed_paths;
  GKeyFile        *keyfile;          /* the file read, for the server's own groups */
  GPtrArray       *alerts;            /* SondeConfigAlert, in file order */
  int              alerts_notify;     /* -1, FALSE or TRUE */
  int              discovery_enabled; /* -1, FALSE or TRUE */
  int              discovery_port;
  char            *agent_of_url;     /* [agent-of]: the hub to report to */
  char            *agent_of_token;
  char            *agent_of_ca_file; /* absolute */
  int              agent_of_buffer;
} SondeConfig;

#define SONDE_CONFIG_ERROR (sonde_config_error_quark ())

typedef enum
{
  SONDE_CONFIG_ERROR_INVALID,
  SONDE_CONFIG_ERROR_NOT_FOUND,
} SondeConfigError;

#define SONDE_IDLE_TIMEOUT_DEFAULT 60
#define SONDE_IDLE_TIMEOUT_MAX     86400
#define SONDE_HISTORY_MAX          86400

GQuark       sonde_config_error_quark (void);
char        *sonde_config_default_path (void);
SondeConfig *sonde_config_new          (void);
void         sonde_config_free         (SondeConfig  *self);
gboolean     sonde_config_load         (SondeConfig  *self,
                                        const char   *path,
                                        gboolean      must_exist,
                                        GError      **error);
gboolean     sonde_config_load_from_data (SondeConfig *self,
                                          const char  *path,
                                          const char  *data,
                                          gssize       length,
                                          GError     **error);
gboolean     sonde_config_parse_compat (const char   *entry,
                                        char        **name,
                                        guint        *port,
                                        GError      **error);
gboolean     sonde_config_apply_to_server (SondeConfig *self,
                                           SondeServer *server,
                                           GError     **error);
SondeConfigAlert *sonde_config_find_alert (SondeConfig *self,
                                           const char  *name);
void         sonde_config_set_error    (SondeConfig  *self,
                                        GError      **error,
                                        const char   *group,
                                        const char   *key,
                                        const char   *format,
                                        ...) G_GNUC_PRINTF (5, 6);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SondeConfig, sonde_config_free)

G_END_DECLS
