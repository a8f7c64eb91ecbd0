/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

/* The daemon's names and defaults, without linking libsonde. */
#define SONDE_DEFAULTS_ONLY
#include "sonde-defaults.h"

G_BEGIN_DECLS

/* Exit statuses of every subcommand. */
#define SONDE_CLI_EXIT_OK          0
#define SONDE_CLI_EXIT_FAILED      1   /* the daemon said no, or is unreachable */
#define SONDE_CLI_EXIT_USAGE       2

#define SONDE_CLI_DEFAULT_URL SONDE_DEFAULT_URL

typedef struct
{
  char        *url_option;     /* --url */
  char        *token;          /* --token, $SONDE_TOKEN or sonde.conf */
  char        *ws_url;         /* resolved: ws[s]://HOST:PORT/ws/v1 */
  char        *http_base;      /* resolved: http[s]://HOST:PORT */
  char        *how_found;      /* for messages: where ws_url came from */
  char        *dbus_problem;   /* why D-Bus discovery did not answer */
  SoupSession *session;
} SondeCli;

typedef int (*SondeCliCommand) (SondeCli *cli, int argc, char **argv);

int          sonde_cli_status        (SondeCli *cli, int argc, char **argv);
int          sonde_cli_list          (SondeCli *cli, int argc, char **argv);
int          sonde_cli_snapshot      (SondeCli *cli, int argc, char **argv);
int          sonde_cli_watch         (SondeCli *cli, int argc, char **argv);
int          sonde_cli_discover      (SondeCli *cli, int argc, char **argv);

gboolean     sonde_cli_resolve       (SondeCli     *cli,
                                      GError      **error);
JsonNode    *sonde_cli_get_json      (SondeCli     *cli,
                                      const char   *path_and_query,
                                      GError      **error);
void         sonde_cli_add_auth      (SondeCli     *cli,
                                      SoupMessage  *msg);
void         sonde_cli_set_unreachable (SondeCli     *cli,
                                        const GError *cause,
                                        GError      **error);
int          sonde_cli_fail          (SondeCli     *cli,
                                      const GError *error);
GOptionContext *sonde_cli_option_context (const char         *parameters,
                                          const char         *summary,
                                          const GOptionEntry *entries);
gboolean     sonde_cli_parse         (GOptionContext *context,
                                      int            *argc,
                                      char         ***argv,
                                      int            *exit_status);
char        *sonde_cli_pad           (const char   *text,
                                      guint         width,
                                      gboolean      right);
guint        sonde_cli_width         (const char   *text);
char        *sonde_cli_format_value  (JsonNode     *node,
                                      const char   *unit);

#define SONDE_CLI_ERROR (sonde_cli_error_quark ())
typedef enum
{
  SONDE_CLI_ERROR_UNREACHABLE,
  SONDE_CLI_ERROR_REFUSED,     /* the daemon answered with an error */
  SONDE_CLI_ERROR_PROTOCOL,
} SondeCliError;
GQuark       sonde_cli_error_quark   (void);

G_END_DECLS
