/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <glib/gi18n.h>
#include <math.h>
#include <string.h>

#include "sonde-cli.h"

/* sonde discover [--address ADDR] [--port PORT] [--timeout SECONDS]:
 * sends one discovery probe (UDP, to 127.0.0.1 unless told otherwise)
 * and lists the daemons that answer, one line each: host name, address,
 * WebSocket URL, formats. sonded answers when [discovery] enabled=true.
 *
 * A broadcast address is only ever used when the user gives one: the
 * kernel refuses to send to it without SO_BROADCAST (EACCES), and only
 * then is SO_BROADCAST set and the probe sent again. */

/* As libsonde's sonde-discovery.h says; the CLI does not link libsonde. */
#define DISCOVERY_PROBE        "SONDE_DISCOVER"
#define DISCOVERY_DEFAULT_PORT 8082
/* Replies are small; anything longer is not an announce. */
#define MAX_REPLY              4096

typedef struct
{
  char *hostname;
  char *address;
  char *url;
  char *formats;
  guint ws_port;
} Responder;

static void
responder_free (Responder *responder)
{
  g_free (responder->hostname);
  g_free (responder->address);
  g_free (responder->url);
  g_free (responder->formats);
  g_free (responder);
}

/* Text from the network goes to a terminal: no control characters. */
static char *
printable (const char *text)
{
  char *copy = g_utf8_make_valid (text, -1);

  for (char *c = copy; *c != '\0'; c++)
    if (g_ascii_iscntrl (*c) || *c == ' ')
      *c = '?';
  return copy;
}

/* The responder described by @data, or NULL if it is not an announce. */
static Responder *
parse_announce (const char     *data,
                gsize           length,
                GSocketAddress *from)
{
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(GString) formats = g_string_new (NULL);
  g_autofree char *host = NULL;
  JsonObject *announce;
  JsonArray *list;
  Responder *responder;
  gint64 ws_port;

  /* Anyone on the network may answer: bounded, and escaped. */
  if (!G_IS_INET_SOCKET_ADDRESS (from) ||
      (root = sonde_cli_parse_json (data, length, TRUE, NULL)) == NULL ||
      !JSON_NODE_HOLDS_OBJECT (root))
    return NULL;

  announce = json_node_get_object (root);
  if (g_strcmp0 (sonde_cli_string (announce, "type", NULL), "announce") != 0)
    return NULL;

  ws_port = sonde_cli_int (announce, "ws_port", 0);
  if (ws_port <= 0 || ws_port > G_MAXUINT16)
    return NULL;

  list = json_object_has_member (announce, "formats") &&
         JSON_NODE_HOLDS_ARRAY (json_object_get_member (announce, "formats"))
         ? json_object_get_array_member (announce, "formats") : NULL;
  for (guint i = 0; list != NULL && i < json_array_get_length (list); i++)
    {
      JsonNode *node = json_array_get_element (list, i);

      if (JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_STRING)
        {
          g_autofree char *format = printable (json_node_get_string (node));

          if (formats->len > 0)
            g_string_append_c (formats, ',');
          g_string_append (formats, format);
        }
    }

  responder = g_new0 (Responder, 1);
  responder->hostname = printable (sonde_cli_string (announce, "hostname", "?"));
  responder->address = g_inet_address_to_string (g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (from)));
  responder->ws_port = (guint) ws_port;
  responder->formats = g_strdup (formats->len > 0 ? formats->str : "-");

  host = strchr (responder->address, ':') != NULL ? g_strdup_printf ("[%s]", responder->address)
                                                  : g_strdup (responder->address);
  responder->url = g_strdup_printf ("%s://%s:%u/ws/v1",
                                    sonde_cli_bool (announce, "tls", FALSE)
                                    ? "wss" : "ws",
                                    host, responder->ws_port);
  return responder;
}

static gboolean
send_probe (GSocket         *socket,
            GSocketAddress  *to,
            GError         **error)
{
  g_autoptr(GError) local_error = NULL;

  if (g_socket_send_to (socket, to, DISCOVERY_PROBE, strlen (DISCOVERY_PROBE), NULL, &local_error) >= 0)
    return TRUE;

  /* The user gave a broadcast address: allowed, now that we know. */
  if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED) &&
      g_socket_get_family (socket) == G_SOCKET_FAMILY_IPV4 && !g_socket_get_broadcast (socket))
    {
      g_clear_error (&local_error);
      g_socket_set_broadcast (socket, TRUE);
      if (g_socket_send_to (socket, to, DISCOVERY_PROBE, strlen (DISCOVERY_PROBE), NULL, &local_error) >= 0)
        return TRUE;
    }

  g_propagate_error (error, g_steal_pointer (&local_error));
  return FALSE;
}

static gboolean
already_listed (GPtrArray *responders,
                Responder *responder)
{
  for (guint i = 0; i < responders->len; i++)
    {
      Responder *other = g_ptr_array_index (responders, i);

      if (g_str_equal (other->address, responder->address) && other->ws_port == responder->ws_port)
        return TRUE;
    }
  return FALSE;
}

static void
print_responders (GPtrArray *responders)
{
  guint widths[3] = { 0, 0, 0 };

  for (guint i = 0; i < responders->len; i++)
    {
      Responder *responder = g_ptr_array_index (responders, i);

      widths[0] = MAX (widths[0], sonde_cli_width (responder->hostname));
      widths[1] = MAX (widths[1], sonde_cli_width (responder->address));
      widths[2] = MAX (widths[2], sonde_cli_width (responder->url));
    }

  for (guint i = 0; i < responders->len; i++)
    {
      Responder *responder = g_ptr_array_index (responders, i);
      g_autofree char *hostname = sonde_cli_pad (responder->hostname, widths[0], FALSE);
      g_autofree char *address = sonde_cli_pad (responder->address, widths[1], FALSE);
      g_autofree char *url = sonde_cli_pad (responder->url, widths[2], FALSE);

      g_print ("%s  %s  %s  %s\n", hostname, address, url, responder->formats);
    }
}

int
sonde_cli_discover (SondeCli  *cli,
                    int        argc,
                    char     **argv)
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GPtrArray) responders = g_ptr_array_new_with_free_func ((GDestroyNotify) responder_free);
  g_autoptr(GInetAddress) inet = NULL;
  g_autoptr(GInetAddress) any = NULL;
  g_autoptr(GSocketAddress) to = NULL;
  g_autoptr(GSocketAddress) local = NULL;
  g_autoptr(GSocket) socket = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *address = NULL;
  char timeout_text[G_ASCII_DTOSTR_BUF_SIZE];
  int port = DISCOVERY_DEFAULT_PORT;
  double timeout = 2;
  gint64 deadline;
  int exit_status;
  const GOptionEntry entries[] = {
    { "address", 0, 0, G_OPTION_ARG_STRING, &address,
      _("Where to send the probe: an IP address, or a broadcast address such as 192.168.1.255 "
        "(default 127.0.0.1)"), _("ADDRESS") },
    { "port", 0, 0, G_OPTION_ARG_INT, &port,
      _("The UDP port daemons answer on (default 8082)"), _("PORT") },
    { "timeout", 0, 0, G_OPTION_ARG_DOUBLE, &timeout,
      _("How long to wait for answers (default 2)"), _("SECONDS") },
    { NULL }
  };

  context = sonde_cli_option_context (NULL,
                                      _("Send a discovery probe and list the daemons that answer, "
                                        "one per line: host name, address, WebSocket URL, formats. "
                                        "sonded answers when its configuration says "
                                        "[discovery] enabled=true."),
                                      entries);
  if (!sonde_cli_parse (context, &argc, &argv, &exit_status))
    return exit_status;
  if (argc > 1)
    {
      g_printerr (_("sonde discover: unexpected argument “%s”\n"), argv[1]);
      return SONDE_CLI_EXIT_USAGE;
    }

  if (address == NULL || g_str_equal (address, "localhost"))
    {
      g_free (address);
      address = g_strdup ("127.0.0.1");
    }
  inet = g_inet_address_new_from_string (address);
  if (inet == NULL)
    {
      g_printerr (_("sonde discover: %s is not an IP address\n"), address);
      return SONDE_CLI_EXIT_USAGE;
    }
  if (port < 1 || port > G_MAXUINT16)
    {
      g_printerr (_("sonde discover: port %d is out of range (1-65535)\n"), port);
      return SONDE_CLI_EXIT_USAGE;
    }
  if (!isfinite (timeout) || timeout <= 0 || timeout > 60)
    {
      g_printerr (_("sonde discover: the timeout must be more than 0 and at most 60 seconds\n"));
      return SONDE_CLI_EXIT_USAGE;
    }
  g_ascii_formatd (timeout_text, sizeof timeout_text, "%g", timeout);

  socket = g_socket_new (g_inet_address_get_family (inet), G_SOCKET_TYPE_DATAGRAM,
                         G_SOCKET_PROTOCOL_UDP, &error);
  any = g_inet_address_new_any (g_inet_address_get_family (inet));
  local = g_inet_socket_address_new (any, 0);
  to = g_inet_socket_address_new (inet, (guint16) port);
  if (socket == NULL || !g_socket_bind (socket, local, FALSE, &error) || !send_probe (socket, to, &error))
    {
      g_printerr (_("sonde discover: cannot send the probe to %s port %d: %s\n"),
                  address, port, error->message);
      return SONDE_CLI_EXIT_FAILED;
    }

  deadline = g_get_monotonic_time () + (gint64) (timeout * G_USEC_PER_SEC);
  for (;;)
    {
      char buffer[MAX_REPLY + 1];
      g_autoptr(GSocketAddress) from = NULL;
      g_autoptr(GError) receive_error = NULL;
      Responder *responder;
      gint64 remaining = deadline - g_get_monotonic_time ();
      gssize length;

      if (remaining <= 0 ||
          !g_socket_condition_timed_wait (socket, G_IO_IN, remaining, NULL, NULL))
        break;

      length = g_socket_receive_from (socket, &from, buffer, sizeof buffer, NULL, &receive_error);
      /* An ICMP error for one destination says nothing of the others. */
      if (length < 0 || length > MAX_REPLY)
        continue;

      responder = parse_announce (buffer, length, from);
      if (responder == NULL)
        continue;
      if (already_listed (responders, responder))
        {
          responder_free (responder);
          continue;
        }
      g_ptr_array_add (responders, responder);
    }

  if (responders->len == 0)
    {
      g_printerr (_("sonde discover: no daemon answered at %s port %d within %s s\n"),
                  address, port, timeout_text);
      return SONDE_CLI_EXIT_FAILED;
    }

  print_responders (responders);
  return SONDE_CLI_EXIT_OK;
}
