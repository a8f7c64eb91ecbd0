/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* These tests drive the deprecated sonde_server_set_node_id() and
 * sonde_server_set_telemetry_interval() on purpose: they still work. */
#define SONDE_DISABLE_DEPRECATION_WARNINGS
#include <string.h>

#include "resolvix-test-util.h"

/* The resolvix dialect, as docs/formats/resolvix.md documents
 * it: the telemetry stream and its compatibility listener. POST /control,
 * GET /status and the live logs are in test-resolvix-control.c. */

/* Tests -------------------------------------------------------------------- */

static void
test_telemetry_document (void)
{
  SondeTestServer *server = sonde_test_server_new_with_plugins ("cpu", NULL);
  SondeTestClient *client;
  gint64 start;

  if (server == NULL)
    return;

  g_assert_cmpuint (sonde_server_get_telemetry_interval (server->server), ==, 60);
  g_assert_cmpstr (sonde_server_get_node_id (server->server), ==, g_get_host_name ());

  /* At once, not after the 60 s interval. */
  start = g_get_monotonic_time ();
  client = sonde_test_client_new_for_path (server, TELEMETRY_PATH);
  resolvix_assert_telemetry_document (server->engine, sonde_test_client_frame_at (client, 0), g_get_host_name ());
  g_assert_cmpint (g_get_monotonic_time () - start, <, 5 * G_USEC_PER_SEC);

  /* The node id is configurable, from the next document on. */
  sonde_server_set_node_id (server->server, "192.168.1.100");
  g_assert_cmpstr (sonde_server_get_node_id (server->server), ==, "192.168.1.100");
  sonde_test_client_free (client);
  client = sonde_test_client_new_for_path (server, TELEMETRY_PATH);
  resolvix_assert_telemetry_document (server->engine, sonde_test_client_frame_at (client, 0), "192.168.1.100");
  sonde_server_set_node_id (server->server, NULL);
  g_assert_cmpstr (sonde_server_get_node_id (server->server), ==, g_get_host_name ());

  sonde_test_client_free (client);
  sonde_test_server_free (server);
}

static const char *
frame_timestamp (SondeTestFrame *frame)
{
  return json_object_get_string_member (frame->object, "timestamp");
}

/* The last frame of @client stamped @timestamp. */
static SondeTestFrame *
frame_stamped (SondeTestClient *client,
               const char      *timestamp)
{
  for (guint i = client->frames->len; i > 0; i--)
    {
      SondeTestFrame *frame = g_ptr_array_index (client->frames, i - 1);

      if (g_str_equal (frame_timestamp (frame), timestamp))
        return frame;
    }

  g_assert_not_reached ();
}

static void
test_telemetry_cadence (void)
{
  SondeTestServer *server = sonde_test_server_new_with_plugins ("cpu", NULL);
  SondeTestClient *clients[3];
  g_autofree char *common = NULL;
  GBytes *reference;

  if (server == NULL)
    return;

  sonde_server_set_telemetry_interval (server->server, 1);
  for (guint i = 0; i < G_N_ELEMENTS (clients); i++)
    clients[i] = sonde_test_client_new_for_path (server, TELEMETRY_PATH);

  /* All of them are one group. */
  g_assert_cmpuint (_sonde_server_get_n_groups (server->server), ==, 1);

  for (guint i = 0; i < G_N_ELEMENTS (clients); i++)
    sonde_test_wait_until (clients[i]->frames->len >= 5);

  /* One a second, on the second. The one sent at connection may come
   * just before or after a tick's: the comparisons start past it. */
  for (guint i = 3; i < clients[0]->frames->len; i++)
    {
      gint64 previous = resolvix_parse_timestamp (sonde_test_client_frame_at (clients[0], i - 1));
      gint64 current = resolvix_parse_timestamp (sonde_test_client_frame_at (clients[0], i));

      g_assert_cmpint (current - previous, ==, 1);
    }
  resolvix_assert_telemetry_document (server->engine, sonde_test_client_frame_at (clients[0], 3), g_get_host_name ());

  /* The same bytes for everybody: the latest second all have. */
  for (guint i = 0; i < G_N_ELEMENTS (clients); i++)
    {
      SondeTestFrame *last = g_ptr_array_index (clients[i]->frames, clients[i]->frames->len - 1);

      if (common == NULL || strcmp (frame_timestamp (last), common) < 0)
        {
          g_free (common);
          common = g_strdup (frame_timestamp (last));
        }
    }
  reference = frame_stamped (clients[0], common)->raw;
  for (guint i = 1; i < G_N_ELEMENTS (clients); i++)
    g_assert_true (g_bytes_equal (frame_stamped (clients[i], common)->raw, reference));

  for (guint i = 0; i < G_N_ELEMENTS (clients); i++)
    sonde_test_client_free (clients[i]);
  sonde_test_wait_until (_sonde_server_get_n_groups (server->server) == 0);
  sonde_test_server_free (server);
}

static void
test_telemetry_long_interval (void)
{
  SondeTestServer *server = sonde_test_server_new_with_plugins ("cpu", NULL);
  SondeTestClient *client;

  if (server == NULL)
    return;

  /* Beyond what the engine samples at (60 s): still one document at
   * connection, and no complaint. */
  sonde_server_set_telemetry_interval (server->server, 3600);
  g_assert_cmpuint (sonde_server_get_telemetry_interval (server->server), ==, 3600);
  client = sonde_test_client_new_for_path (server, TELEMETRY_PATH);
  resolvix_assert_telemetry_document (server->engine, sonde_test_client_frame_at (client, 0), g_get_host_name ());
  sonde_server_set_telemetry_interval (server->server, 61);
  sonde_test_spin_for (1200);
  /* Nothing more within the interval. */
  g_assert_cmpuint (client->frames->len, ==, 1);
  g_assert_cmpuint (_sonde_server_get_n_groups (server->server), ==, 1);

  if (g_test_undefined ())
    {
      g_test_expect_message ("Sonde", G_LOG_LEVEL_CRITICAL, "*seconds >= *");
      sonde_server_set_telemetry_interval (server->server, 0);
      g_test_assert_expected_messages ();
    }
  g_assert_cmpuint (sonde_server_get_telemetry_interval (server->server), ==, 61);

  sonde_test_client_free (client);
  sonde_test_server_free (server);
}

static void
test_telemetry_bad_message (void)
{
  SondeTestServer *server = sonde_test_server_new_with_plugins ("cpu", NULL);
  SondeTestClient *client;
  JsonObject *error;
  guint n;

  if (server == NULL)
    return;

  sonde_server_set_telemetry_interval (server->server, 1);
  client = sonde_test_client_new_for_path (server, TELEMETRY_PATH);
  sonde_test_client_frame_at (client, 0);

  sonde_test_client_send (client, "{\"type\": \"subscribe\"}");
  sonde_test_client_send_bytes (client, SOUP_WEBSOCKET_DATA_BINARY, "\x00\x01", 2);
  sonde_test_client_send (client, "not json at all");

  /* Each gets the error object; the stream goes on. */
  for (guint found = 0, index = 1; found < 3; index++)
    {
      error = sonde_test_client_frame_at (client, index);
      if (json_object_has_member (error, "error"))
        {
          sonde_test_assert_members (error, "error");
          g_assert_cmpstr (json_object_get_string_member (error, "error"), !=, "");
          found++;
        }
      else
        g_assert_true (json_object_has_member (error, "metrics"));
    }

  n = client->frames->len;
  sonde_test_wait_until (client->frames->len > n);
  g_assert_true (json_object_has_member (sonde_test_client_frame_at (client, n), "metrics"));
  g_assert_false (client->closed);

  sonde_test_client_free (client);
  sonde_test_server_free (server);
}

static void
test_compat_listeners (void)
{
  SondeTestServer *server = sonde_test_server_new_with_plugins ("cpu", NULL);
  g_autoptr(GError) error = NULL;
  SondeTestClient *client;
  guint telemetry_port;

  if (server == NULL)
    return;

  /* The seed's URL: ws://NODE:8756, no path. */
  telemetry_port = sonde_server_listen_compat (server->server, "resolvix-telemetry", "127.0.0.1", 0, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (telemetry_port, >, 0);
  g_assert_cmpuint (telemetry_port, !=, sonde_server_get_port (server->server));

  client = sonde_test_client_new_for_port (telemetry_port, "");
  resolvix_assert_telemetry_document (server->engine, sonde_test_client_frame_at (client, 0), g_get_host_name ());
  /* Text frames only. */
  g_assert_cmpuint (client->n_binary, ==, 0);
  sonde_test_client_free (client);

  sonde_test_server_free (server);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/resolvix/telemetry/document", test_telemetry_document);
  g_test_add_func ("/resolvix/telemetry/cadence", test_telemetry_cadence);
  g_test_add_func ("/resolvix/telemetry/long-interval", test_telemetry_long_interval);
  g_test_add_func ("/resolvix/telemetry/bad-message", test_telemetry_bad_message);
  g_test_add_func ("/resolvix/compat-listeners", test_compat_listeners);

  return g_test_run ();
}
