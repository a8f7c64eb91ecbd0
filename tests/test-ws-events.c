/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "sonde-test-util.h"

/*
 * The native protocol's events, heartbeats and disconnects at /ws/v1,
 * spoken by libsoup's WebSocket client to a SondeServer in the same
 * process, with fake collectors "fake" and "other", and the real plugins.
 */

static const char * const real_collectors[] = {
  "cpu", "memory", "disk", "network", "processes", "gateway", "host", NULL
};

/* Events ------------------------------------------------------------------ */

static void
test_events (void)
{
  SondeTestServer *server = sonde_test_server_new (TRUE);
  SondeTestClient *listener = sonde_test_client_new (server, NULL);
  SondeTestClient *deaf = sonde_test_client_new (server, NULL);
  JsonObject *event, *data;
  gboolean saw_stale = FALSE;

  sonde_test_client_send (listener, "{\"type\":\"subscribe\",\"id\":\"ev\",\"metrics\":[\"fake.value\"],"
                                    "\"events\":[\"collector_error\"],\"interval_ms\":200}");
  sonde_test_client_send (deaf, "{\"type\":\"subscribe\",\"id\":\"ev\",\"metrics\":[\"fake.value\"],\"interval_ms\":200}");
  sonde_test_client_next (listener, "snapshot", "ev");
  sonde_test_client_next (deaf, "snapshot", "ev");
  g_assert_cmpuint (sonde_test_client_count (listener, "event", NULL), ==, 0);

  sonde_fake_collector_set_failing (server->fake, TRUE);

  event = sonde_test_client_next (listener, "event", NULL);
  g_assert_cmpstr (json_object_get_string_member (event, "event"), ==, "collector_error");
  sonde_test_parse_timestamp (json_object_get_string_member (event, "timestamp"));
  data = json_object_get_object_member (event, "data");
  g_assert_nonnull (data);
  g_assert_cmpstr (json_object_get_string_member (data, "collector"), ==, "fake");
  g_assert_nonnull (strstr (json_object_get_string_member (data, "message"), "told to fail"));

  /* The stream goes on, with the last good data marked stale. */
  for (int i = 0; i < 5 && !saw_stale; i++)
    {
      JsonObject *frame = sonde_test_client_next (listener, "snapshot", "ev");
      JsonArray *stale = json_object_get_array_member (frame, "stale");

      sonde_test_check_only_fake_value (frame);
      if (stale != NULL)
        {
          g_assert_cmpuint (json_array_get_length (stale), ==, 1);
          g_assert_cmpstr (json_array_get_string_element (stale, 0), ==, "fake");
          saw_stale = TRUE;
        }
    }
  g_assert_true (saw_stale);

  /* Whatever reached the listener was handled for the other client before
   * its ping: it got no event. */
  sonde_test_client_sync (deaf);
  g_assert_cmpuint (sonde_test_client_count (deaf, "event", NULL), ==, 0);
  for (guint i = 0; i < deaf->frames->len; i++)
    g_assert_cmpstr (json_object_get_string_member (((SondeTestFrame *) g_ptr_array_index (deaf->frames, i))->object, "type"), !=, "event");

  /* Recovery: fresh data again, not stale. */
  sonde_fake_collector_set_failing (server->fake, FALSE);
  sonde_test_client_sync (listener);
  for (;;)
    {
      JsonObject *frame = sonde_test_client_next (listener, "snapshot", "ev");

      if (!json_object_has_member (frame, "stale"))
        break;
    }

  sonde_test_client_free (listener);
  sonde_test_client_free (deaf);
  sonde_test_server_free (server);
}

/* Heartbeat --------------------------------------------------------------- */

static void
test_heartbeat (void)
{
  SondeTestServer *server = sonde_test_server_new (TRUE);
  SondeTestClient *client;
  JsonObject *heartbeat;

  sonde_server_set_heartbeat_interval (server->server, 1);
  client = sonde_test_client_new (server, NULL);

  sonde_test_client_send (client, "{\"type\":\"subscribe\",\"metrics\":[\"fake.value\"],\"interval_ms\":60000}");
  sonde_test_client_sync (client);

  heartbeat = sonde_test_client_next (client, "heartbeat", NULL);
  sonde_test_parse_timestamp (json_object_get_string_member (heartbeat, "timestamp"));
  g_assert_cmpuint (json_object_get_size (heartbeat), ==, 2);
  /* And again, while the silence lasts. */
  sonde_test_client_next (client, "heartbeat", NULL);

  sonde_test_client_free (client);
  sonde_test_server_free (server);
}

/* Timing tolerances grow under valgrind, which runs everything slower. */
static double
slowness (void)
{
  const char *preload = g_getenv ("LD_PRELOAD");

  return preload != NULL && strstr (preload, "vgpreload") != NULL ? 5.0 : 1.0;
}

/* The heartbeat is due an interval after the last frame, not at the next
 * tick of a periodic timer: a frame half an interval after the connection
 * must not put it off to one and a half intervals. */
static void
test_heartbeat_timing (void)
{
  SondeTestServer *server = sonde_test_server_new (TRUE);
  SondeTestClient *client;
  const gint64 interval_us = 2 * G_USEC_PER_SEC;
  gint64 last_frame, arrival;

  sonde_server_set_heartbeat_interval (server->server, 2);
  client = sonde_test_client_new (server, NULL);
  sonde_test_client_send (client, "{\"type\":\"subscribe\",\"metrics\":[\"fake.value\"],\"interval_ms\":60000}");
  sonde_test_spin_for (700);

  for (guint i = 0; i < 2; i++)
    {
      /* The pong is the last frame before the silence (the first time),
       * or the previous heartbeat is (the second). */
      if (i == 0)
        {
          sonde_test_client_sync (client);
          last_frame = g_get_monotonic_time ();
        }

      sonde_test_client_next (client, "heartbeat", NULL);
      arrival = g_get_monotonic_time ();
      g_test_message ("heartbeat %u: %.3f s after the last frame", i, (arrival - last_frame) / 1e6);
      g_assert_cmpint (arrival - last_frame, >=, interval_us - 100 * G_TIME_SPAN_MILLISECOND);
      g_assert_cmpint (arrival - last_frame, <=, interval_us + 300 * G_TIME_SPAN_MILLISECOND * slowness ());
      g_assert_cmpuint (sonde_test_client_count (client, NULL, NULL), ==, 0);
      last_frame = arrival;
    }

  sonde_test_client_free (client);
  sonde_test_server_free (server);
}

/* Disconnects ------------------------------------------------------------- */

/* Takes the untaken snapshots of @client and checks that their seqs follow
 * on from *last_seq without a gap. */
static guint
take_consecutive (SondeTestClient *client,
                  gint64          *last_seq)
{
  guint n = 0;

  for (guint i = 0; i < client->frames->len; i++)
    {
      SondeTestFrame *frame = g_ptr_array_index (client->frames, i);
      gint64 seq;

      if (frame->taken || !g_str_equal (json_object_get_string_member (frame->object, "type"), "snapshot"))
        continue;

      seq = sonde_test_check_snapshot (frame->object, "default");
      sonde_test_check_only_fake_value (frame->object);
      if (*last_seq != 0)
        g_assert_cmpint (seq, ==, *last_seq + 1);
      *last_seq = seq;
      frame->taken = TRUE;
      n++;
    }

  return n;
}

static void
test_disconnect_abrupt (void)
{
  SondeTestServer *server = sonde_test_server_new (TRUE);
  SondeTestClient *survivor = sonde_test_client_new (server, "metrics=fake.value&interval_ms=200");
  g_autoptr(GSocketConnection) raw = NULL;
  gint64 last_seq = 0;
  guint n = 0;

  sonde_test_client_next (survivor, "snapshot", "default");
  sonde_test_client_take_all (survivor);

  /* A client in the same group that never reads... */
  raw = sonde_test_raw_connect (server, "/ws/v1?metrics=fake.value&interval_ms=200");
  sonde_test_wait_until (sonde_server_get_n_clients (server->server) == 2);
  g_assert_cmpuint (_sonde_server_get_n_groups (server->server), ==, 1);
  sonde_test_wait_until ((n += take_consecutive (survivor, &last_seq)) >= 3);

  /* ...and then vanishes with unread data: a reset, no close frame. */
  g_io_stream_close (G_IO_STREAM (raw), NULL, NULL);
  sonde_test_wait_until (sonde_server_get_n_clients (server->server) == 1);

  n = 0;
  sonde_test_wait_until ((n += take_consecutive (survivor, &last_seq)) >= 5);
  g_assert_false (survivor->closed);
  g_assert_cmpuint (_sonde_server_get_n_groups (server->server), ==, 1);

  sonde_test_client_free (survivor);
  sonde_test_server_free (server);
}

static void
test_disconnect_after_subscribe (void)
{
  SondeTestServer *server = sonde_test_server_new (TRUE);
  SondeTestClient *survivor = sonde_test_client_new (server, "metrics=fake.value&interval_ms=200");
  gint64 last_seq = 0;
  guint n = 0;

  sonde_test_client_next (survivor, "snapshot", "default");
  sonde_test_client_take_all (survivor);

  for (int round = 0; round < 3; round++)
    {
      SondeTestClient *quitter = sonde_test_client_new (server, NULL);
      g_autoptr(GSocketConnection) raw = NULL;

      /* Subscribes into the survivor's group and leaves at once. */
      sonde_test_client_send (quitter, "{\"type\":\"subscribe\",\"metrics\":[\"fake.value\"],\"interval_ms\":200}");
      soup_websocket_connection_close (quitter->connection, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);

      sonde_test_client_free (quitter);
      sonde_test_wait_until (sonde_server_get_n_clients (server->server) == 1);

      /* Another one goes once the server took it, before it even read the
       * handshake's answer. (Earlier than that, libsoup itself warns that
       * it cannot get the peer's address.) */
      raw = sonde_test_raw_connect (server, "/ws/v1?metrics=fake.value&interval_ms=200");
      sonde_test_wait_until (sonde_server_get_n_clients (server->server) == 2);
      g_io_stream_close (G_IO_STREAM (raw), NULL, NULL);
      sonde_test_wait_until (sonde_server_get_n_clients (server->server) == 1);
      sonde_test_wait_until ((n += take_consecutive (survivor, &last_seq)) >= (guint) (2 * (round + 1)));
    }

  n = 0;
  sonde_test_wait_until ((n += take_consecutive (survivor, &last_seq)) >= 3);
  g_assert_cmpuint (_sonde_server_get_n_groups (server->server), ==, 1);

  sonde_test_client_free (survivor);
  sonde_test_wait_until (sonde_server_get_n_clients (server->server) == 0);
  g_assert_cmpuint (_sonde_server_get_n_groups (server->server), ==, 0);
  sonde_test_server_free (server);
}

/* Real plugins ------------------------------------------------------------ */

static void
test_real_plugins (void)
{
  SondeTestServer *server = sonde_test_server_new (FALSE);
  SondeTestClient *client;
  JsonArray *collectors;
  guint n_added;
  gboolean complete = FALSE;
  SondeTestDeadline *deadline;

  if (g_getenv ("SONDE_PLUGIN_PATH") == NULL)
    {
      g_test_skip ("SONDE_PLUGIN_PATH is not set");
      sonde_test_server_free (server);
      return;
    }

  n_added = sonde_engine_load_plugins (server->engine, NULL);
  g_assert_cmpuint (n_added, >=, g_strv_length ((char **) real_collectors));

  client = sonde_test_client_new (server, NULL);
  collectors = json_object_get_array_member (sonde_test_client_next (client, "hello", NULL), "collectors");
  for (guint i = 0; real_collectors[i] != NULL; i++)
    {
      gboolean found = FALSE;

      for (guint j = 0; j < json_array_get_length (collectors); j++)
        found |= g_str_equal (json_array_get_string_element (collectors, j), real_collectors[i]);
      g_assert_true (found);
    }

  /* Slow collectors may miss the first ticks; one snapshot must hold
   * all of them. */
  deadline = sonde_test_deadline_new (SONDE_TEST_TIMEOUT_MS);
  while (!complete && !sonde_test_deadline_passed (deadline))
    {
      JsonObject *frame = sonde_test_client_next (client, "snapshot", "default");
      JsonObject *data = sonde_test_snapshot_data (frame);

      complete = TRUE;
      for (guint i = 0; real_collectors[i] != NULL; i++)
        {
          if (!json_object_has_member (data, real_collectors[i]))
            {
              g_test_message ("%s not in snapshot seq %" G_GINT64_FORMAT, real_collectors[i],
                              json_object_get_int_member (frame, "seq"));
              complete = FALSE;
            }
        }

      if (complete)
        {
          g_assert_true (json_object_has_member (json_object_get_object_member (data, "cpu"), "usage_percent"));
          g_assert_true (json_object_has_member (json_object_get_object_member (data, "memory"), "total_bytes"));
          g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (data, "host"), "hostname"),
                           ==, g_get_host_name ());
        }
    }
  sonde_test_deadline_free (deadline);
  g_assert_true (complete);

  sonde_test_client_free (client);
  sonde_test_server_free (server);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/ws/native/events", test_events);
  g_test_add_func ("/ws/native/heartbeat", test_heartbeat);
  g_test_add_func ("/ws/native/heartbeat/timing", test_heartbeat_timing);
  g_test_add_func ("/ws/native/disconnect/abrupt", test_disconnect_abrupt);
  g_test_add_func ("/ws/native/disconnect/after-subscribe", test_disconnect_after_subscribe);
  g_test_add_func ("/ws/native/plugins", test_real_plugins);

  return g_test_run ();
}
