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
  gboolean     token_explicit; /* it came from --token */
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
/* GET @path_and_query: a JSON object, read and parsed with bounds; with
 * @escape, every string in it escaped for the terminal. */
JsonNode    *sonde_cli_get_json      (SondeCli     *cli,
                                      const char   *path_and_query,
                                      gboolean      escape,
                                      GError      **error);
void         sonde_cli_add_auth      (SondeCli     *cli,
                                      SoupMessage  *msg);
const char  *sonde_cli_token_hint    (SondeCli     *cli);
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

/* Bounds of what the CLI reads from a server (sonde-cli-json.c). */
#define SONDE_CLI_MAX_JSON_DEPTH 64
#define SONDE_CLI_MAX_JSON_SIZE  (4 * 1024 * 1024)

JsonNode    *sonde_cli_parse_json    (const char   *text,
                                      gsize         length,
                                      gboolean      escape,
                                      GError      **error);
/* @text with control characters (C0, DEL, C1: and so every escape
 * sequence) and bidirectional controls shown as \xNN or \uNNNN, and
 * invalid UTF-8 repaired: safe to print. */
char        *sonde_cli_escape        (const char   *text);
/* Generated JSON, with what json-glib leaves raw inside strings (DEL, C1,
 * bidi controls) as \uNNNN: the same JSON, safe to print. */
char        *sonde_cli_escape_json_output (const char *json);

/* Typed readers of server JSON: the fallback when @name is missing or of
 * another type; @object and @array may be NULL. */
const char  *sonde_cli_string        (JsonObject   *object,
                                      const char   *name,
                                      const char   *fallback);
gint64       sonde_cli_int           (JsonObject   *object,
                                      const char   *name,
                                      gint64        fallback);
gboolean     sonde_cli_bool          (JsonObject   *object,
                                      const char   *name,
                                      gboolean      fallback);
JsonObject  *sonde_cli_object        (JsonObject   *object,
                                      const char   *name);
JsonArray   *sonde_cli_array         (JsonObject   *object,
                                      const char   *name);
JsonObject  *sonde_cli_object_at     (JsonArray    *array,
                                      guint         index);

#define SONDE_CLI_ERROR (sonde_cli_error_quark ())
typedef enum
{
  SONDE_CLI_ERROR_UNREACHABLE,
  SONDE_CLI_ERROR_REFUSED,     /* the daemon answered with an error */
  SONDE_CLI_ERROR_PROTOCOL,
} SondeCliError;
GQuark       sonde_cli_error_quark   (void);

G_END_DECLS
