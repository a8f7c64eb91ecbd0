/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <glib/gi18n.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <glib/gstdio.h>

#include "sonde-cli.h"

/* What every subcommand shares: finding the daemon, HTTP requests with the
 * token, error reporting, option parsing and aligned output. */

/* Activation starts a daemon that loads its plugins first. */
#define DBUS_TIMEOUT_MS 30000

G_DEFINE_QUARK (sonde-cli-error-quark, sonde_cli_error)

GOptionContext *
sonde_cli_option_context (const char         *parameters,
                          const char         *summary,
                          const GOptionEntry *entries)
{
  GOptionContext *context = g_option_context_new (parameters);

  g_option_context_set_translation_domain (context, GETTEXT_PACKAGE);
  g_option_context_set_summary (context, summary);
  if (entries != NULL)
    g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  return context;
}

gboolean
sonde_cli_parse (GOptionContext *context,
                 int            *argc,
                 char         ***argv,
                 int            *exit_status)
{
  g_autoptr(GError) error = NULL;

  if (!g_option_context_parse (context, argc, argv, &error))
    {
      g_printerr ("sonde: %s\n", error->message);
      *exit_status = SONDE_CLI_EXIT_USAGE;
      return FALSE;
    }
  return TRUE;
}

int
sonde_cli_fail (SondeCli     *cli,
                const GError *error)
{
  g_printerr ("sonde: %s\n", error->message);
  return SONDE_CLI_EXIT_FAILED;
}

/* Display width of @text, counting characters (the CLI's text is not
 * East Asian wide). */
guint
sonde_cli_width (const char *text)
{
  return g_utf8_strlen (text, -1);
}

char *
sonde_cli_pad (const char *text,
               guint       width,
               gboolean    right)
{
  guint length = sonde_cli_width (text);
  GString *padded = g_string_new (NULL);

  if (right)
    for (guint i = length; i < width; i++)
      g_string_append_c (padded, ' ');
  g_string_append (padded, text);
  if (!right)
    for (guint i = length; i < width; i++)
      g_string_append_c (padded, ' ');
  return g_string_free (padded, FALSE);
}

static char *
format_scaled (double      value,
               double      base,
               const char * const *units,
               const char *suffix)
{
  guint i = 0;

  while (fabs (value) >= base && units[i + 1] != NULL)
    {
      value /= base;
      i++;
    }

  if (i == 0)
    return g_strdup_printf ("%.0f %s%s", value, units[i], suffix);
  return g_strdup_printf ("%.1f %s%s", value, units[i], suffix);
}

/* A value for a human: 12.5 %, 1.2 GiB, 340.0 KiB/s. */
char *
sonde_cli_format_value (JsonNode   *node,
                        const char *unit)
{
  static const char * const byte_units[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB", NULL };

  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return g_strdup ("-");

  if (JSON_NODE_HOLDS_ARRAY (node))
    {
      JsonArray *array = json_node_get_array (node);
      guint length = json_array_get_length (array);
      GString *text;

      if (length == 0 || length > 16 ||
          JSON_NODE_TYPE (json_array_get_element (array, 0)) != JSON_NODE_VALUE)
        return g_strdup_printf ("[%u]", length);

      text = g_string_new (NULL);
      for (guint i = 0; i < length; i++)
        {
          JsonNode *element = json_array_get_element (array, i);

          if (i > 0)
            g_string_append_c (text, ' ');
          if (json_node_get_value_type (element) == G_TYPE_DOUBLE)
            g_string_append_printf (text, "%.0f", json_node_get_double (element));
          else if (JSON_NODE_HOLDS_VALUE (element))
            {
              g_autofree char *item = json_to_string (element, FALSE);
              g_string_append (text, item);
            }
        }
      return g_string_free (text, FALSE);
    }

  if (JSON_NODE_HOLDS_OBJECT (node))
    return g_strdup_printf ("{%u}", json_object_get_size (json_node_get_object (node)));

  if (json_node_get_value_type (node) == G_TYPE_STRING)
    return g_strdup (json_node_get_string (node));

  if (json_node_get_value_type (node) == G_TYPE_BOOLEAN)
    return g_strdup (json_node_get_boolean (node) ? "true" : "false");

  {
    double value = json_node_get_double (node);
    gboolean integral = json_node_get_value_type (node) == G_TYPE_INT64;

    if (g_strcmp0 (unit, "percent") == 0)
      return g_strdup_printf ("%.1f %%", value);
    if (g_strcmp0 (unit, "bytes") == 0)
      return format_scaled (value, 1024, byte_units, "");
    if (g_strcmp0 (unit, "bytes/s") == 0)
      return format_scaled (value, 1024, byte_units, "/s");
    if (g_strcmp0 (unit, "seconds") == 0)
      return g_strdup_printf ("%.0f s", value);
    if (unit != NULL && *unit != '\0' && !g_str_equal (unit, "count"))
      return integral ? g_strdup_printf ("%" G_GINT64_FORMAT " %s", json_node_get_int (node), unit)
                      : g_strdup_printf ("%.1f %s", value, unit);
    return integral ? g_strdup_printf ("%" G_GINT64_FORMAT, json_node_get_int (node))
                    : g_strdup_printf ("%.2f", value);
  }
}

/* Accepts ws://, wss://, http://, https:// or HOST:PORT; fills ws_url and
 * http_base. */
static gboolean
set_url (SondeCli    *cli,
         const char  *url,
         const char  *how_found,
         GError     **error)
{
  g_autofree char *with_scheme = NULL;
  g_autoptr(GUri) uri = NULL;
  const char *scheme;
  gboolean secure;
  int port;

  if (strstr (url, "://") == NULL)
    url = with_scheme = g_strconcat ("ws://", url, NULL);

  uri = g_uri_parse (url, G_URI_FLAGS_NONE, NULL);
  scheme = uri ? g_uri_get_scheme (uri) : NULL;
  if (uri == NULL || g_uri_get_host (uri) == NULL || *g_uri_get_host (uri) == '\0' ||
      (g_strcmp0 (scheme, "ws") != 0 && g_strcmp0 (scheme, "wss") != 0 &&
       g_strcmp0 (scheme, "http") != 0 && g_strcmp0 (scheme, "https") != 0))
    {
      g_set_error (error, SONDE_CLI_ERROR, SONDE_CLI_ERROR_UNREACHABLE,
                   _("%s is not a daemon URL (such as ws://127.0.0.1:54112)"), url);
      return FALSE;
    }

  secure = g_str_equal (scheme, "wss") || g_str_equal (scheme, "https");
  port = g_uri_get_port (uri);
  if (port < 0)
    port = secure ? 443 : 80;

  g_free (cli->ws_url);
  g_free (cli->http_base);
  g_free (cli->how_found);
  cli->ws_url = g_uri_join (G_URI_FLAGS_NONE, secure ? "wss" : "ws", NULL,
                            g_uri_get_host (uri), port, SONDE_NATIVE_PATH, NULL, NULL);
  cli->http_base = g_uri_join (G_URI_FLAGS_NONE, secure ? "https" : "http", NULL,
                               g_uri_get_host (uri), port, "", NULL, NULL);
  cli->how_found = g_strdup (how_found);
  return TRUE;
}

/* The Uri property of org.sonde.Sonde1; reading it starts the daemon. */
static char *
discover_over_dbus (SondeCli  *cli,
                    GError   **error)
{
  g_autoptr(GDBusConnection) bus = NULL;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GVariant) value = NULL;

  bus = g_bus_get_sync (G_BUS_TYPE_SESSION, NULL, error);
  if (bus == NULL)
    return NULL;

  reply = g_dbus_connection_call_sync (bus, SONDE_DBUS_NAME, SONDE_DBUS_PATH,
                                       "org.freedesktop.DBus.Properties", "Get",
                                       g_variant_new ("(ss)", SONDE_DBUS_NAME, "Uri"),
                                       G_VARIANT_TYPE ("(v)"), G_DBUS_CALL_FLAGS_NONE,
                                       DBUS_TIMEOUT_MS, NULL, error);
  if (reply == NULL)
    return NULL;

  g_variant_get (reply, "(v)", &value);
  if (!g_variant_is_of_type (value, G_VARIANT_TYPE_STRING) || *g_variant_get_string (value, NULL) == '\0')
    {
      g_set_error_literal (error, SONDE_CLI_ERROR, SONDE_CLI_ERROR_PROTOCOL,
                           _("the daemon did not say where it listens"));
      return NULL;
    }

  return g_variant_dup_string (value, NULL);
}

static char *
token_from_config (void)
{
  g_autoptr(GKeyFile) file = g_key_file_new ();
  g_autofree char *path = g_build_filename (g_get_user_config_dir (), SONDE_CONFIG_FILE, NULL);

  if (!g_key_file_load_from_file (file, path, G_KEY_FILE_NONE, NULL))
    return NULL;
  return g_key_file_get_string (file, "server", "token", NULL);
}

/* The token sonded generated for this user when none is configured; a
 * few dozen bytes, so anything large is not it. */
static char *
token_from_generated_file (void)
{
  g_autofree char *path = g_build_filename (g_get_user_config_dir (), SONDE_TOKEN_FILE, NULL);
  g_autofree char *contents = NULL;
  gsize length;
  GStatBuf info;

  if (g_stat (path, &info) != 0 || !S_ISREG (info.st_mode) || info.st_size > 4096)
    return NULL;
  if (!g_file_get_contents (path, &contents, &length, NULL) || length > 4096)
    return NULL;

  g_strstrip (contents);
  return *contents != '\0' ? g_steal_pointer (&contents) : NULL;
}

/* Finds the daemon: --url, else D-Bus, else the default port. */
gboolean
sonde_cli_resolve (SondeCli  *cli,
                   GError   **error)
{
  g_autoptr(GError) dbus_error = NULL;
  g_autofree char *uri = NULL;

  if (cli->token == NULL && g_getenv ("SONDE_TOKEN") != NULL)
    cli->token = g_strdup (g_getenv ("SONDE_TOKEN"));
  if (cli->token == NULL)
    cli->token = token_from_config ();
  if (cli->token == NULL)
    cli->token = token_from_generated_file ();

  if (cli->session == NULL)
    cli->session = soup_session_new_with_options ("timeout", 30, "idle-timeout", 30, NULL);

  if (cli->url_option != NULL)
    return set_url (cli, cli->url_option, "--url", error);

  uri = discover_over_dbus (cli, &dbus_error);
  if (uri != NULL)
    return set_url (cli, uri, "D-Bus", error);

  g_dbus_error_strip_remote_error (dbus_error);
  cli->dbus_problem = g_strdup (dbus_error->message);

  /* Whoever holds the default port gets no token it was not given for:
   * without D-Bus there is no telling that sonded is what answers there
   * (any local user can listen on a free port). The token of
   * $SONDE_TOKEN, sonde.conf or the generated file goes only to the
   * daemon --url names or D-Bus points at; --token is the user's own
   * choice. */
  if (!cli->token_explicit)
    g_clear_pointer (&cli->token, g_free);

  return set_url (cli, SONDE_CLI_DEFAULT_URL, "default", error);
}

void
sonde_cli_add_auth (SondeCli    *cli,
                    SoupMessage *msg)
{
  if (cli->token != NULL && *cli->token != '\0')
    {
      g_autofree char *value = g_strdup_printf ("Bearer %s", cli->token);

      soup_message_headers_replace (soup_message_get_request_headers (msg), "Authorization", value);
    }
}

/* Says where we looked, for "cannot reach" messages. */
void
sonde_cli_set_unreachable (SondeCli     *cli,
                           const GError *cause,
                           GError      **error)
{
  if (g_str_equal (cli->how_found, "default"))
    g_set_error (error, SONDE_CLI_ERROR, SONDE_CLI_ERROR_UNREACHABLE,
                 _("cannot reach sonded: D-Bus did not answer (%s) and nothing answers at %s (%s). "
                   "Start it with “sonded”, or give its address with --url."),
                 cli->dbus_problem ? cli->dbus_problem : "-", cli->ws_url, cause->message);
  else
    g_set_error (error, SONDE_CLI_ERROR, SONDE_CLI_ERROR_UNREACHABLE,
                 _("cannot reach sonded at %s: %s"), cli->ws_url, cause->message);
}

/* The body of @msg's answer, up to SONDE_CLI_MAX_JSON_SIZE + 1 bytes: more
 * is not read, and refused by the parser. */
static GBytes *
send_and_read_bounded (SondeCli     *cli,
                       SoupMessage  *msg,
                       GError      **error)
{
  g_autoptr(GInputStream) stream = NULL;
  g_autoptr(GByteArray) body = g_byte_array_new ();
  guint8 buffer[16 * 1024];

  stream = soup_session_send (cli->session, msg, NULL, error);
  if (stream == NULL)
    return NULL;

  while (body->len <= SONDE_CLI_MAX_JSON_SIZE)
    {
      gssize n = g_input_stream_read (stream, buffer, sizeof buffer, NULL, error);

      if (n < 0)
        return NULL;
      if (n == 0)
        break;
      g_byte_array_append (body, buffer, n);
    }

  g_input_stream_close (stream, NULL, NULL);
  return g_byte_array_free_to_bytes (g_steal_pointer (&body));
}

/* The server's reason phrase, safe to print. */
static char *
reason_phrase (SoupMessage *msg)
{
  return sonde_cli_escape (soup_message_get_reason_phrase (msg) ? soup_message_get_reason_phrase (msg) : "");
}

JsonNode *
sonde_cli_get_json (SondeCli    *cli,
                    const char  *path_and_query,
                    gboolean     escape,
                    GError     **error)
{
  g_autofree char *url = g_strconcat (cli->http_base, path_and_query, NULL);
  g_autoptr(SoupMessage) msg = NULL;
  g_autoptr(GBytes) body = NULL;
  g_autoptr(GError) local_error = NULL;
  g_autoptr(JsonNode) root = NULL;
  g_autofree char *reason = NULL;
  guint status;

  msg = soup_message_new (SOUP_METHOD_GET, url);
  if (msg == NULL)
    {
      g_set_error (error, SONDE_CLI_ERROR, SONDE_CLI_ERROR_UNREACHABLE,
                   _("%s is not a valid URL"), url);
      return NULL;
    }
  sonde_cli_add_auth (cli, msg);

  body = send_and_read_bounded (cli, msg, &local_error);
  if (body == NULL)
    {
      sonde_cli_set_unreachable (cli, local_error, error);
      return NULL;
    }

  status = soup_message_get_status (msg);
  reason = reason_phrase (msg);
  root = sonde_cli_parse_json (g_bytes_get_data (body, NULL), g_bytes_get_size (body), escape, &local_error);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      g_set_error (error, SONDE_CLI_ERROR, SONDE_CLI_ERROR_PROTOCOL,
                   _("%s answered %u %s, not Sonde JSON (%s): is sonded listening there?"),
                   cli->http_base, status, reason,
                   local_error != NULL ? local_error->message : _("not an object"));
      return NULL;
    }

  if (status != SOUP_STATUS_OK)
    {
      JsonObject *object = json_node_get_object (root);
      JsonNode *message = json_object_get_member (object, "message");
      g_autofree char *text = NULL;

      if (message != NULL && JSON_NODE_HOLDS_VALUE (message) &&
          json_node_get_value_type (message) == G_TYPE_STRING)
        text = sonde_cli_escape (json_node_get_string (message));

      if (status == SOUP_STATUS_UNAUTHORIZED)
        g_set_error_literal (error, SONDE_CLI_ERROR, SONDE_CLI_ERROR_REFUSED, sonde_cli_token_hint (cli));
      else
        g_set_error (error, SONDE_CLI_ERROR, SONDE_CLI_ERROR_REFUSED, "%s", text ? text : reason);
      return NULL;
    }

  return g_steal_pointer (&root);
}

/* What to say to a daemon that wants a token. At the default address only
 * --token is sent (see sonde_cli_resolve()). */
const char *
sonde_cli_token_hint (SondeCli *cli)
{
  if (g_strcmp0 (cli->how_found, "default") == 0 && !cli->token_explicit)
    return _("the daemon wants a token: give it with --token, or name the daemon with --url "
             "for $SONDE_TOKEN or sonde.conf’s token to be sent");
  return _("the daemon wants a token: give it with --token or $SONDE_TOKEN");
}
