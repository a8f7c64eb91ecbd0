/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <string.h>

#include "sonde-test-util.h"
#include "sonde-version.h"

/* The UDP discovery responder, probed from 127.0.0.1 only (unicast): the
 * announce, what gets no reply, the reply limit, and start errors. */

typedef struct
{
  SondeTestServer *server;
  SondeDiscovery  *discovery;
  GSocket         *client;
} Fixture;

static void
fixture_setup (Fixture       *fixture,
               gconstpointer  data)
{
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) any_port = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GError) error = NULL;

  fixture->server = sonde_test_server_new (FALSE);
  fixture->discovery = sonde_discovery_new (fixture->server->server);
  g_assert_true (sonde_discovery_start (fixture->discovery, "127.0.0.1", 0, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (sonde_discovery_get_port (fixture->discovery), !=, 0);

  fixture->client = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM,
                                  G_SOCKET_PROTOCOL_UDP, &error);
  g_assert_no_error (error);
  g_socket_set_blocking (fixture->client, FALSE);
  g_assert_true (g_socket_bind (fixture->client, any_port, FALSE, &error));
  g_assert_no_error (error);
}

static void
fixture_teardown (Fixture       *fixture,
                  gconstpointer  data)
{
  g_socket_close (fixture->client, NULL);
  g_clear_object (&fixture->client);
  g_clear_object (&fixture->discovery);
  sonde_test_server_free (fixture->server);
}

/* Sends @length bytes of @data to the responder, on 127.0.0.1. */
static void
send_datagram (Fixture    *fixture,
               const void *data,
               gsize       length)
{
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) to = g_inet_socket_address_new (loopback, sonde_discovery_get_port (fixture->discovery));
  g_autoptr(GError) error = NULL;

  g_assert_cmpint (g_socket_send_to (fixture->client, to, data, length, NULL, &error), ==, (gssize) length);
  g_assert_no_error (error);
}

static void
send_text (Fixture    *fixture,
           const char *text)
{
  send_datagram (fixture, text, strlen (text));
}

/* The next reply within @timeout_ms, parsed, or NULL; the responder runs
 * on this thread's main context, which is iterated meanwhile. */
static JsonObject *
receive_reply (Fixture *fixture,
               guint    timeout_ms)
{
  gint64 deadline = g_get_monotonic_time () + timeout_ms * G_TIME_SPAN_MILLISECOND;

  while (g_get_monotonic_time () < deadline)
    {
      char buffer[2048];
      g_autoptr(GSocketAddress) from = NULL;
      g_autoptr(GError) error = NULL;
      g_autoptr(JsonParser) parser = NULL;
      gssize length;

      while (g_main_context_iteration (NULL, FALSE))
        ;

      length = g_socket_receive_from (fixture->client, &from, buffer, sizeof buffer, NULL, &error);
      if (length < 0)
        {
          g_assert_error (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK);
          g_usleep (2000);
          continue;
        }

      /* From the responder's own port: a unicast answer to the sender. */
      g_assert_cmpuint (g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (from)), ==,
                        sonde_discovery_get_port (fixture->discovery));
      parser = json_parser_new ();
      g_assert_true (json_parser_load_from_data (parser, buffer, length, &error));
      g_assert_no_error (error);
      g_assert_true (JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)));
      return json_object_ref (json_node_get_object (json_parser_get_root (parser)));
    }

  return NULL;
}

static guint
count_replies (Fixture *fixture,
               guint    timeout_ms)
{
  JsonObject *reply;
  guint n = 0;

  while ((reply = receive_reply (fixture, timeout_ms)) != NULL)
    {
      g_assert_cmpstr (json_object_get_string_member (reply, "type"), ==, "announce");
      json_object_unref (reply);
      n++;
    }
  return n;
}

static void
check_announce (Fixture    *fixture,
                JsonObject *announce)
{
  JsonArray *formats;
  g_autofree char *text = NULL;

  g_assert_nonnull (announce);
  sonde_test_assert_members (announce, "formats,hostname,tls,type,version,ws_port");
  g_assert_cmpstr (json_object_get_string_member (announce, "type"), ==, "announce");
  g_assert_cmpstr (json_object_get_string_member (announce, "hostname"), ==, g_get_host_name ());
  g_assert_cmpint (json_object_get_int_member (announce, "ws_port"), ==,
                   sonde_server_get_port (fixture->server->server));
  g_assert_cmpstr (json_object_get_string_member (announce, "version"), ==, SONDE_VERSION_S);
  g_assert_false (json_object_get_boolean_member (announce, "tls"));

  /* Each format once, the native protocol first; the routes of one
   * product are one format. */
  formats = json_object_get_array_member (announce, "formats");
  g_assert_cmpstr (json_array_get_string_element (formats, 0), ==, "native");
  for (guint i = 0; i < json_array_get_length (formats); i++)
    {
      const char *format = json_array_get_string_element (formats, i);

      g_assert_null (strchr (format, '-'));
      for (guint j = 0; j < i; j++)
        g_assert_cmpstr (json_array_get_string_element (formats, j), !=, format);
    }
  text = sonde_test_to_json (announce);
  g_assert_nonnull (strstr (text, "\"kairos\""));
  g_assert_nonnull (strstr (text, "\"resolvix\""));
  g_assert_nonnull (strstr (text, "\"ziggie\""));
}

static void
test_discovery_announce (Fixture       *fixture,
                         gconstpointer  data)
{
  g_autofree char *padded = NULL;
  g_autofree char *expected = sonde_discovery_build_announce (fixture->discovery);
  JsonObject *announce;

  send_text (fixture, SONDE_DISCOVERY_PROBE);
  announce = receive_reply (fixture, SONDE_TEST_TIMEOUT_MS);
  check_announce (fixture, announce);
  g_clear_pointer (&announce, json_object_unref);

  send_text (fixture, "{\"type\":\"discover\"}");
  announce = receive_reply (fixture, SONDE_TEST_TIMEOUT_MS);
  check_announce (fixture, announce);
  g_clear_pointer (&announce, json_object_unref);

  /* Other members are left for later versions of the probe; a probe of
   * exactly the size limit is still a probe. */
  send_text (fixture, "{\"type\" : \"discover\", \"client\": \"sonde 2\" }\n");
  padded = g_strdup_printf ("{\"type\":\"discover\"%*s}", SONDE_DISCOVERY_MAX_DATAGRAM - 19, "");
  g_assert_cmpuint (strlen (padded), ==, SONDE_DISCOVERY_MAX_DATAGRAM);
  send_text (fixture, padded);
  g_assert_cmpuint (count_replies (fixture, 500), ==, 2);

  g_assert_cmpuint (sonde_discovery_get_n_answered (fixture->discovery), ==, 4);
  g_assert_cmpuint (sonde_discovery_get_n_ignored (fixture->discovery), ==, 0);
  g_assert_cmpstr (strstr (expected, "\"type\":\"announce\""), ==, expected + 1);
}

static void
test_discovery_ignores (Fixture       *fixture,
                        gconstpointer  data)
{
  const char * const garbage[] = {
    "SONDE_DISCOVE",
    "SONDE_DISCOVERX",
    "sonde_discover",
    "SONDE_DISCOVER\n",
    " SONDE_DISCOVER",
    "{\"type\":\"announce\",\"hostname\":\"x\"}",
    "{\"type\":\"discover\"",
    "{\"type\":1}",
    "{}",
    "[\"discover\"]",
    "\"discover\"",
    "GET / HTTP/1.1\r\n\r\n",
    /* Found by tests/fuzz/fuzz-discovery-probe: a "type" that is an
     * array or an object made json-glib log a critical per datagram. */
    "{\"type\":[2,{\"y\":2}]}",
    "{\"type\":{\"discover\":true}}",
    /* json-glib 1.6 reads the first value and leaks the second. */
    "{\"type\":\"discover\"}{}",
  };
  g_autofree char *large = NULL;
  char zeros[64] = { 0 };
  guint n_sent = 0;
  JsonObject *announce;

  for (guint i = 0; i < G_N_ELEMENTS (garbage); i++, n_sent++)
    send_text (fixture, garbage[i]);

  send_datagram (fixture, "", 0);
  send_datagram (fixture, zeros, sizeof zeros);
  n_sent += 2;

  /* A probe padded past the limit, and a large datagram: no reply, so
   * that discovery amplifies nothing. */
  large = g_strdup_printf ("{\"type\":\"discover\"%*s}", SONDE_DISCOVERY_MAX_DATAGRAM - 18, "");
  g_assert_cmpuint (strlen (large), ==, SONDE_DISCOVERY_MAX_DATAGRAM + 1);
  send_text (fixture, large);
  g_free (large);
  large = g_strnfill (4000, 'A');
  send_text (fixture, large);
  n_sent += 2;

  g_assert_cmpuint (count_replies (fixture, 500), ==, 0);
  g_assert_cmpuint (sonde_discovery_get_n_ignored (fixture->discovery), ==, n_sent);
  g_assert_cmpuint (sonde_discovery_get_n_answered (fixture->discovery), ==, 0);

  /* It still answers a probe. */
  send_text (fixture, SONDE_DISCOVERY_PROBE);
  announce = receive_reply (fixture, SONDE_TEST_TIMEOUT_MS);
  check_announce (fixture, announce);
  json_object_unref (announce);
}

static void
test_discovery_rate_limit (Fixture       *fixture,
                           gconstpointer  data)
{
  guint n_replies;
  JsonObject *announce;

  g_assert_cmpuint (sonde_discovery_get_max_replies (fixture->discovery), ==,
                    SONDE_DISCOVERY_DEFAULT_MAX_REPLIES);
  sonde_discovery_set_max_replies (fixture->discovery, 5);

  /* A burst of 40: five answered at once, the others dropped (one more
   * may be answered if the burst spans a fifth of a second). */
  for (guint i = 0; i < 40; i++)
    send_text (fixture, SONDE_DISCOVERY_PROBE);
  n_replies = count_replies (fixture, 500);
  g_assert_cmpuint (n_replies, >=, 5);
  g_assert_cmpuint (n_replies, <=, 6);
  g_assert_cmpuint (sonde_discovery_get_n_answered (fixture->discovery), ==, n_replies);
  g_assert_cmpuint (sonde_discovery_get_n_limited (fixture->discovery), ==, 40 - n_replies);

  /* The limit refills with time. */
  sonde_test_spin_for (1100);
  send_text (fixture, SONDE_DISCOVERY_PROBE);
  announce = receive_reply (fixture, SONDE_TEST_TIMEOUT_MS);
  check_announce (fixture, announce);
  json_object_unref (announce);
}

static void
test_discovery_start_errors (Fixture       *fixture,
                             gconstpointer  data)
{
  g_autoptr(SondeDiscovery) other = sonde_discovery_new (fixture->server->server);
  g_autoptr(GError) error = NULL;
  guint port = sonde_discovery_get_port (fixture->discovery);

  /* Started already. */
  g_assert_false (sonde_discovery_start (fixture->discovery, "127.0.0.1", 0, &error));
  g_assert_error (error, SONDE_ERROR, SONDE_ERROR_EXISTS);
  g_clear_error (&error);

  g_assert_false (sonde_discovery_start (other, "not-an-address", 0, &error));
  g_assert_error (error, SONDE_ERROR, SONDE_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  /* The port is taken: an error, not a shared port. */
  g_assert_false (sonde_discovery_start (other, "127.0.0.1", port, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_ADDRESS_IN_USE);
  g_clear_error (&error);
  g_assert_cmpuint (sonde_discovery_get_port (other), ==, 0);

  /* Stopped, the port is free again; "localhost" is 127.0.0.1. */
  sonde_discovery_stop (fixture->discovery);
  sonde_discovery_stop (fixture->discovery);
  g_assert_cmpuint (sonde_discovery_get_port (fixture->discovery), ==, 0);
  g_assert_true (sonde_discovery_start (other, "localhost", port, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (sonde_discovery_get_port (other), ==, port);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

#define ADD(path, func) g_test_add (path, Fixture, NULL, fixture_setup, func, fixture_teardown)
  ADD ("/discovery/announce", test_discovery_announce);
  ADD ("/discovery/ignores", test_discovery_ignores);
  ADD ("/discovery/rate-limit", test_discovery_rate_limit);
  ADD ("/discovery/start-errors", test_discovery_start_errors);
#undef ADD

  return g_test_run ();
}
