/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <glib-unix.h>
#include <glib/gi18n.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sonde-cli.h"

/* sonde watch PATTERN...: subscribes on the native WebSocket protocol and
 * prints each snapshot as a row of an aligned table, or as one JSON line
 * with --json. */

#define SUBSCRIPTION_ID "watch"
#define HEADER_EVERY_ROWS 25

typedef struct
{
  SondeCli                *cli;
  GMainLoop               *loop;
  SoupWebsocketConnection *ws;
  char                   **patterns;
  int                      interval_ms;
  gboolean                 json;
  int                      count;
  int                      received;
  int                      exit_status;
  gboolean                 done;
  GHashTable              *units;     /* metric name -> unit */
  GPtrArray               *columns;   /* metric names */
  GArray                  *widths;    /* guint per column */
  guint                    rows;
  gboolean                 tty;
} Watch;

static void
watch_finish (Watch *watch,
              int    exit_status)
{
  if (watch->done)
    return;

  watch->done = TRUE;
  watch->exit_status = exit_status;
  if (watch->ws != NULL &&
      soup_websocket_connection_get_state (watch->ws) == SOUP_WEBSOCKET_STATE_OPEN)
    soup_websocket_connection_close (watch->ws, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
  g_main_loop_quit (watch->loop);
}

static void
send_json (Watch      *watch,
           JsonObject *object)
{
  g_autoptr(JsonNode) node = json_node_init_object (json_node_alloc (), object);
  g_autofree char *text = json_to_string (node, FALSE);

  soup_websocket_connection_send_text (watch->ws, text);
}

static void
subscribe (Watch *watch)
{
  g_autoptr(JsonObject) catalog = json_object_new ();
  g_autoptr(JsonObject) message = json_object_new ();
  JsonArray *metrics = json_array_new ();

  /* The catalog first: it gives the units the table formats with. */
  if (!watch->json)
    {
      json_object_set_string_member (catalog, "type", "catalog");
      send_json (watch, catalog);
    }

  for (guint i = 0; watch->patterns[i] != NULL; i++)
    json_array_add_string_element (metrics, watch->patterns[i]);

  json_object_set_string_member (message, "type", "subscribe");
  json_object_set_string_member (message, "id", SUBSCRIPTION_ID);
  json_object_set_array_member (message, "metrics", metrics);
  json_object_set_int_member (message, "interval_ms", watch->interval_ms);
  send_json (watch, message);
}

static void
store_catalog (Watch      *watch,
               JsonObject *frame)
{
  JsonArray *metrics = sonde_cli_array (frame, "metrics");

  for (guint i = 0; metrics != NULL && i < json_array_get_length (metrics); i++)
    {
      JsonObject *metric = sonde_cli_object_at (metrics, i);
      const char *name = sonde_cli_string (metric, "name", NULL);
      const char *unit = sonde_cli_string (metric, "unit", NULL);

      if (name != NULL && unit != NULL)
        g_hash_table_insert (watch->units, g_strdup (name), g_strdup (unit));
    }
}

static JsonNode *
lookup_value (JsonObject *data,
              const char *column)
{
  const char *dot = strchr (column, '.');
  g_autofree char *collector = g_strndup (column, dot - column);
  JsonObject *fields;

  if (!json_object_has_member (data, collector))
    return NULL;
  fields = sonde_cli_object (data, collector);
  if (fields == NULL || !json_object_has_member (fields, dot + 1))
    return NULL;
  return json_object_get_member (fields, dot + 1);
}

static char *
format_cell (Watch      *watch,
             JsonObject *data,
             const char *column)
{
  return sonde_cli_format_value (lookup_value (data, column),
                                 g_hash_table_lookup (watch->units, column));
}

static char *
format_time (const char *timestamp)
{
  g_autoptr(GDateTime) utc = g_date_time_new_from_iso8601 (timestamp, NULL);
  g_autoptr(GDateTime) local = NULL;

  if (utc == NULL)
    return g_strdup (timestamp);
  local = g_date_time_to_local (utc);
  return g_date_time_format (local, "%H:%M:%S");
}

static void
print_header (Watch *watch)
{
  g_autoptr(GString) line = g_string_new (NULL);
  g_autofree char *time_header = sonde_cli_pad (_("TIME"), 8, FALSE);

  g_string_append (line, time_header);
  for (guint i = 0; i < watch->columns->len; i++)
    {
      g_autofree char *cell = sonde_cli_pad (g_ptr_array_index (watch->columns, i),
                                             g_array_index (watch->widths, guint, i), TRUE);
      g_string_append (line, "  ");
      g_string_append (line, cell);
    }
  g_print ("%s\n", line->str);
}

/* The columns are the fields of the first snapshot, in its order. */
static void
setup_columns (Watch      *watch,
               JsonObject *data)
{
  JsonObjectIter collectors;
  const char *collector;
  JsonNode *fields_node;

  json_object_iter_init_ordered (&collectors, data);
  while (json_object_iter_next_ordered (&collectors, &collector, &fields_node))
    {
      JsonObjectIter fields;
      const char *field;
      JsonNode *value;

      if (!JSON_NODE_HOLDS_OBJECT (fields_node))
        continue;

      json_object_iter_init_ordered (&fields, json_node_get_object (fields_node));
      while (json_object_iter_next_ordered (&fields, &field, &value))
        {
          char *column = g_strdup_printf ("%s.%s", collector, field);
          g_autofree char *cell = format_cell (watch, data, column);
          guint width = MAX (sonde_cli_width (column), sonde_cli_width (cell) + 2);

          width = MAX (width, 8);
          g_ptr_array_add (watch->columns, column);
          g_array_append_val (watch->widths, width);
        }
    }
}

static void
print_row (Watch      *watch,
           JsonObject *frame)
{
  JsonObject *data = sonde_cli_object (frame, "data");
  g_autofree char *time = format_time (sonde_cli_string (frame, "timestamp", ""));
  g_autofree char *time_cell = sonde_cli_pad (time, 8, FALSE);
  g_autoptr(GString) line = g_string_new (time_cell);

  if (data == NULL)
    return;

  if (watch->columns->len == 0)
    {
      setup_columns (watch, data);
      if (watch->columns->len == 0)
        {
          g_printerr (_("sonde: no metric matches; see “sonde list”\n"));
          watch_finish (watch, SONDE_CLI_EXIT_FAILED);
          return;
        }
    }

  if (watch->rows == 0 || (watch->tty && watch->rows % HEADER_EVERY_ROWS == 0))
    print_header (watch);

  for (guint i = 0; i < watch->columns->len; i++)
    {
      g_autofree char *value = format_cell (watch, data, g_ptr_array_index (watch->columns, i));
      g_autofree char *cell = sonde_cli_pad (value, g_array_index (watch->widths, guint, i), TRUE);

      g_string_append (line, "  ");
      g_string_append (line, cell);
    }

  g_print ("%s\n", line->str);
  watch->rows++;
}

static void
message_cb (SoupWebsocketConnection *ws,
            int                      type,
            GBytes                  *message,
            Watch                   *watch)
{
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(GError) error = NULL;
  const char *frame_type;
  const char *subscription;
  JsonObject *frame;

  if (watch->done || type != SOUP_WEBSOCKET_DATA_TEXT)
    return;

  /* As JSON, the frames are printed as they came (made safe as a whole);
   * as a table, each string of them is escaped. */
  root = sonde_cli_parse_json (g_bytes_get_data (message, NULL), g_bytes_get_size (message),
                               !watch->json, &error);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      g_printerr (_("sonde: the daemon sent a frame that is not Sonde JSON: %s\n"),
                  error != NULL ? error->message : _("not an object"));
      watch_finish (watch, SONDE_CLI_EXIT_FAILED);
      return;
    }

  frame = json_node_get_object (root);
  frame_type = sonde_cli_string (frame, "type", "");
  subscription = sonde_cli_string (frame, "subscription", NULL);

  if (g_str_equal (frame_type, "catalog"))
    store_catalog (watch, frame);
  else if (g_str_equal (frame_type, "error") &&
           (subscription == NULL || g_str_equal (subscription, SUBSCRIPTION_ID)))
    {
      g_autofree char *text = sonde_cli_escape (sonde_cli_string (frame, "message", "error"));

      g_printerr ("sonde: %s\n", text);
      watch_finish (watch, SONDE_CLI_EXIT_FAILED);
    }
  else if (g_str_equal (frame_type, "snapshot") && g_strcmp0 (subscription, SUBSCRIPTION_ID) == 0)
    {
      if (watch->json)
        {
          g_autofree char *line = json_to_string (root, FALSE);
          g_autofree char *safe = sonde_cli_escape_json_output (line);

          g_print ("%s\n", safe);
        }
      else
        print_row (watch, frame);
      fflush (stdout);

      watch->received++;
      if (watch->count > 0 && watch->received >= watch->count)
        watch_finish (watch, SONDE_CLI_EXIT_OK);
    }
}

static void
closed_cb (SoupWebsocketConnection *ws,
           Watch                   *watch)
{
  if (watch->done)
    return;

  {
    const char *data = soup_websocket_connection_get_close_data (ws);
    g_autofree char *reason = sonde_cli_escape (data != NULL ? data : "");

    g_printerr (_("sonde: the daemon closed the connection (%u %s)\n"),
                soup_websocket_connection_get_close_code (ws), reason);
  }
  watch_finish (watch, SONDE_CLI_EXIT_FAILED);
}

static void
connected_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  Watch *watch = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GError) reported = NULL;
  SoupMessage *msg = g_object_get_data (G_OBJECT (source), "sonde-watch-message");

  watch->ws = soup_session_websocket_connect_finish (SOUP_SESSION (source), result, &error);
  if (watch->ws == NULL)
    {
      if (msg != NULL && soup_message_get_status (msg) == SOUP_STATUS_UNAUTHORIZED)
        g_set_error_literal (&reported, SONDE_CLI_ERROR, SONDE_CLI_ERROR_REFUSED,
                             sonde_cli_token_hint (watch->cli));
      else
        sonde_cli_set_unreachable (watch->cli, error, &reported);
      sonde_cli_fail (watch->cli, reported);
      watch_finish (watch, SONDE_CLI_EXIT_FAILED);
      return;
    }

  /* Snapshots of many processes or mounts can be large, but not larger
   * than the parser takes. */
  soup_websocket_connection_set_max_incoming_payload_size (watch->ws, SONDE_CLI_MAX_JSON_SIZE);
  g_signal_connect (watch->ws, "message", G_CALLBACK (message_cb), watch);
  g_signal_connect (watch->ws, "closed", G_CALLBACK (closed_cb), watch);
  subscribe (watch);
}

static gboolean
sigint_cb (gpointer data)
{
  watch_finish (data, SONDE_CLI_EXIT_OK);
  return G_SOURCE_CONTINUE;
}

int
sonde_cli_watch (SondeCli  *cli,
                 int        argc,
                 char     **argv)
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(SoupMessage) msg = NULL;
  g_autoptr(GMainLoop) loop = NULL;
  Watch watch = { 0 };
  int interval_ms = 1000;
  int count = 0;
  gboolean json = FALSE;
  int exit_status;
  guint sigint_source;
  const GOptionEntry entries[] = {
    { "interval", 'i', 0, G_OPTION_ARG_INT, &interval_ms,
      _("Milliseconds between snapshots (default 1000)"), _("MS") },
    { "json", 'j', 0, G_OPTION_ARG_NONE, &json,
      _("Print each snapshot as one line of JSON"), NULL },
    { "count", 'n', 0, G_OPTION_ARG_INT, &count,
      _("Stop after N snapshots (default: until interrupted)"), "N" },
    { NULL }
  };

  context = sonde_cli_option_context (_("PATTERN…"),
                                      _("Follow the metrics matching PATTERN (cpu.usage_percent, "
                                        "cpu.*, memory, *.usage_percent) live."),
                                      entries);
  if (!sonde_cli_parse (context, &argc, &argv, &exit_status))
    return exit_status;

  if (argc < 2)
    {
      g_printerr (_("sonde watch: give at least one metric pattern, such as cpu.usage_percent\n"));
      return SONDE_CLI_EXIT_USAGE;
    }
  if (interval_ms <= 0 || count < 0)
    {
      g_printerr (_("sonde watch: --interval and --count must be positive\n"));
      return SONDE_CLI_EXIT_USAGE;
    }

  if (!sonde_cli_resolve (cli, &error))
    return sonde_cli_fail (cli, error);

  msg = soup_message_new (SOUP_METHOD_GET, cli->ws_url);
  if (msg == NULL)
    {
      g_printerr (_("sonde: %s is not a valid URL\n"), cli->ws_url);
      return SONDE_CLI_EXIT_FAILED;
    }
  sonde_cli_add_auth (cli, msg);

  loop = g_main_loop_new (NULL, FALSE);
  watch.cli = cli;
  watch.loop = loop;
  watch.patterns = argv + 1;
  watch.interval_ms = interval_ms;
  watch.json = json;
  watch.count = count;
  watch.units = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  watch.columns = g_ptr_array_new_with_free_func (g_free);
  watch.widths = g_array_new (FALSE, FALSE, sizeof (guint));
  watch.tty = isatty (STDOUT_FILENO);

  g_object_set_data (G_OBJECT (cli->session), "sonde-watch-message", msg);
  soup_session_websocket_connect_async (cli->session, msg, NULL, NULL, G_PRIORITY_DEFAULT,
                                        NULL, connected_cb, &watch);

  sigint_source = g_unix_signal_add (SIGINT, sigint_cb, &watch);
  g_main_loop_run (loop);
  g_source_remove (sigint_source);

  g_object_set_data (G_OBJECT (cli->session), "sonde-watch-message", NULL);
  if (watch.ws != NULL)
    {
      g_signal_handlers_disconnect_by_data (watch.ws, &watch);
      g_clear_object (&watch.ws);
    }
  g_hash_table_unref (watch.units);
  g_ptr_array_unref (watch.columns);
  g_array_unref (watch.widths);

  return watch.exit_status;
}
