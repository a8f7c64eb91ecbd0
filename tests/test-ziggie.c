/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <string.h>

#include "sonde-test-util.h"

/* The ziggie stream at /api/system/metrics, as docs/formats/ziggie.md
 * documents it. */

#define ZIGGIE_PATH "/api/system/metrics"

/* "2025-11-10T12:30:45.123456": local time, microseconds, no zone. */
static void
assert_ziggie_timestamp (const char *timestamp)
{
  g_assert_cmpuint (strlen (timestamp), ==, 26);
  g_assert_true (g_regex_match_simple ("^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{6}$", timestamp, 0, 0));
}

static void
test_ziggie_stream (void)
{
  SondeTestServer *server = sonde_test_server_new_with_plugins ("cpu", NULL);
  SondeTestClient *client, *second;
  gint64 previous_second = 0;

  if (server == NULL)
    return;

  client = sonde_test_client_new_for_path (server, ZIGGIE_PATH);
  second = sonde_test_client_new_for_path (server, ZIGGIE_PATH);

  for (guint i = 0; i < 3; i++)
    {
      JsonObject *frame = sonde_test_client_frame_at (client, i);
      g_autofree char *members = sonde_test_members (frame);
      const char *timestamp = json_object_get_string_member (frame, "timestamp");
      g_autoptr(GDateTime) parsed = NULL;
      g_autofree char *with_zone = NULL;

      g_assert_cmpstr (members, ==, "cpu,disk,memory,timestamp");
      for (guint j = 0; j < 3; j++)
        {
          static const char * const keys[] = { "cpu", "memory", "disk" };
          double value = json_object_get_double_member (frame, keys[j]);

          g_assert_cmpfloat (value, >=, 0.0);
          g_assert_cmpfloat (value, <=, 100.0);
          /* psutil's one decimal. */
          g_assert_cmpfloat_with_epsilon (value * 10.0, (double) (gint64) (value * 10.0 + 0.5), 1e-6);
        }
      assert_ziggie_timestamp (timestamp);

      /* One a second. */
      with_zone = g_strdup_printf ("%s", timestamp);
      parsed = g_date_time_new_from_iso8601 (with_zone, g_time_zone_new_local ());
      g_assert_nonnull (parsed);
      if (i > 0)
        g_assert_cmpint (g_date_time_to_unix (parsed) - previous_second, ==, 1);
      previous_second = g_date_time_to_unix (parsed);
    }

  /* Every client gets the same bytes for the same second. */
  sonde_test_wait_until (second->frames->len >= 2);
  {
    GBytes *a = ((SondeTestFrame *) g_ptr_array_index (second->frames, 1))->raw;
    const char *stamp = json_object_get_string_member (((SondeTestFrame *) g_ptr_array_index (second->frames, 1))->object, "timestamp");

    for (guint i = 0; i < client->frames->len; i++)
      {
        SondeTestFrame *frame = g_ptr_array_index (client->frames, i);

        if (g_strcmp0 (json_object_get_string_member (frame->object, "timestamp"), stamp) == 0)
          g_assert_true (g_bytes_equal (a, frame->raw));
      }
  }

  /* The stream takes no input: an error object, and the stream goes on. */
  {
    guint before = client->frames->len;
    JsonObject *reply, *next;

    sonde_test_client_send (client, "{\"type\":\"subscribe\"}");
    reply = sonde_test_client_frame_at (client, before);
    while (!json_object_has_member (reply, "error"))
      reply = sonde_test_client_frame_at (client, ++before);
    g_assert_cmpstr (json_object_get_string_member (reply, "error"), ==, "This stream takes no messages");
    assert_ziggie_timestamp (json_object_get_string_member (reply, "timestamp"));
    next = sonde_test_client_frame_at (client, before + 1);
    g_assert_true (json_object_has_member (next, "cpu"));
  }

  sonde_test_client_free (second);
  sonde_test_client_free (client);
  sonde_test_server_free (server);
}

static void
test_ziggie_collection_failure (void)
{
  SondeTestServer *server = sonde_test_server_new_with_plugins ("cpu", NULL);
  g_autoptr(SondeFakeCollector) disk = NULL;
  SondeTestClient *client;
  JsonObject *frame;

  if (server == NULL)
    return;

  /* A disk collector that fails. */
  sonde_engine_remove_collector (server->engine, "disk");
  disk = sonde_fake_collector_new ("disk");
  sonde_fake_collector_set_failing (disk, TRUE);
  sonde_engine_add_collector (server->engine, SONDE_COLLECTOR (disk), NULL);

  client = sonde_test_client_new_for_path (server, ZIGGIE_PATH);

  /* The fake "disk" has no usage_percent: the first frame says so at
   * once, then the error object comes every second: the stream goes on. */
  for (guint i = 0; i < 3; i++)
    {
      g_autofree char *members = NULL;
      const char *error;

      frame = sonde_test_client_frame_at (client, i);
      members = sonde_test_members (frame);
      g_assert_cmpstr (members, ==, "error,timestamp");
      error = json_object_get_string_member (frame, "error");
      if (i == 0)
        g_assert_cmpstr (error, ==, "Metric collection failed: Unknown metric 'disk.usage_percent'");
      else
        g_assert_true (g_str_has_prefix (error, "Metric collection failed: disk: "));
    }

  sonde_test_client_free (client);
  sonde_test_server_free (server);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/ziggie/stream", test_ziggie_stream);
  g_test_add_func ("/ziggie/collection-failure", test_ziggie_collection_failure);

  return g_test_run ();
}
