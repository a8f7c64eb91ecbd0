/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "sonde-test-util.h"

/*
 * The native protocol at /ws/v1, spoken by libsoup's WebSocket client to a
 * SondeServer in the same process, with fake collectors "fake" and "other"
 * (fields value, text, items): hello, presets, filtering, subscriptions,
 * intervals, shared frames and the catalog. Errors are in test-ws-errors.c,
 * events, heartbeats, disconnects and the real plugins in test-ws-events.c.
 */

/* Checks the values of a collector's fields as the fake collector makes them. */
static void
check_fake_fields (JsonObject *fields,
                   const char *name)
{
  g_autofree char *text = g_strdup_printf ("hello from %s", name);
  JsonArray *items;

  g_assert_cmpint (json_object_get_int_member (fields, "value"), >=, 1);
  g_assert_cmpstr (json_object_get_string_member (fields, "text"), ==, text);
  items = json_object_get_array_member (fields, "items");
  g_assert_nonnull (items);
  g_assert_cmpuint (json_array_get_length (items), ==, 2);
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (items, 1), "name"), ==, "item2");
}

/* hello ------------------------------------------------------------------ */

static void
test_hello (void)
{
  SondeTestServer *server = sonde_test_server_new (TRUE);
  SondeTestClient *client = sonde_test_client_new (server, NULL);
  SondeTestFrame *frame;
  JsonObject *hello;
  JsonArray *collectors;

  frame = sonde_test_client_next_frame (client, NULL, NULL);
  hello = frame->object;
  /* The very first frame. */
  g_assert_true (frame == g_ptr_array_index (client->frames, 0));
  g_assert_cmpstr (json_object_get_string_member (hello, "type"), ==, "hello");
  g_assert_cmpint (json_object_get_int_member (hello, "protocol"), ==, SONDE_PROTOCOL_VERSION);
  g_assert_cmpstr (json_object_get_string_member (hello, "server"), ==, "sonde");
  g_assert_cmpstr (json_object_get_string_member (hello, "version"), ==, SONDE_VERSION_S);
  g_assert_cmpstr (json_object_get_string_member (hello, "hostname"), ==, g_get_host_name ());
  g_assert_cmpint (json_object_get_int_member (hello, "interval_min_ms"), ==, 100);
  g_assert_cmpint (json_object_get_int_member (hello, "interval_max_ms"), ==, 60000);
  g_assert_cmpint (json_object_get_int_member (hello, "default_interval_ms"), ==, 1000);

  collectors = json_object_get_array_member (hello, "collectors");
  g_assert_nonnull (collectors);
  g_assert_cmpuint (json_array_get_length (collectors), ==, 2);
  g_assert_cmpstr (json_array_get_string_element (collectors, 0), ==, "fake");
  g_assert_cmpstr (json_array_get_string_element (collectors, 1), ==, "other");

  g_assert_cmpuint (sonde_server_get_n_clients (server->server), ==, 1);

  sonde_test_client_free (client);
  sonde_test_server_free (server);
}

static void
test_ping (void)
{
  SondeTestServer *server = sonde_test_server_new (TRUE);
  SondeTestClient *client = sonde_test_client_new (server, NULL);
  JsonObject *pong;
  g_autofree char *id = NULL;

  /* The id is echoed whatever its JSON type. */
  sonde_test_client_send (client, "{\"type\":\"ping\",\"id\":42}");
  pong = sonde_test_client_next (client, "pong", NULL);
  g_assert_cmpint (json_object_get_int_member (pong, "id"), ==, 42);

  sonde_test_client_send (client, "{\"type\":\"ping\",\"id\":{\"a\":[1,\"b\"]}}");
  pong = sonde_test_client_next (client, "pong", NULL);
  id = sonde_test_to_json (json_object_get_object_member (pong, "id"));
  g_assert_cmpstr (id, ==, "{\"a\":[1,\"b\"]}");

  sonde_test_client_send (client, "{\"type\":\"ping\"}");
  pong = sonde_test_client_next (client, "pong", NULL);
  g_assert_false (json_object_has_member (pong, "id"));

  sonde_test_client_free (client);
  sonde_test_server_free (server);
}

/* Default subscription and presets ---------------------------------------- */

static void
test_default_subscription (void)
{
  SondeTestServer *server = sonde_test_server_new (TRUE);
  SondeTestClient *client = sonde_test_client_new (server, NULL);
  gint64 previous_seq = 0, previous_ms = 0;

  for (int i = 0; i < 3; i++)
    {
      JsonObject *frame = sonde_test_client_next (client, "snapshot", NULL);
      gint64 seq = sonde_test_check_snapshot (frame, "default");
      gint64 ms = sonde_test_parse_timestamp (json_object_get_string_member (frame, "timestamp"));
      g_autofree char *metrics = sonde_test_metrics_of (sonde_test_snapshot_data (frame));

      /* Every field of every collector, at ticks aligned to whole seconds. */
      g_assert_cmpstr (metrics, ==, "fake.items,fake.text,fake.value,other.items,other.text,other.value");
      check_fake_fields (json_object_get_object_member (sonde_test_snapshot_data (frame), "fake"), "fake");
      check_fake_fields (json_object_get_object_member (sonde_test_snapshot_data (frame), "other"), "other");
      g_assert_cmpint (ms % 1000, ==, 0);

      if (i > 0)
        {
          g_assert_cmpint (seq, ==, previous_seq + 1);
          g_assert_cmpint (ms, >, previous_ms);
        }
      previous_seq = seq;
      previous_ms = ms;
    }

  g_assert_cmpuint (_sonde_server_get_n_groups (server->server), ==, 1);
  g_assert_cmpuint (sonde_test_client_count (client, "error", NULL), ==, 0);

  sonde_test_client_free (client);
  sonde_test_server_free (server);
}

static void
test_query_preset (void)
{
  SondeTestServer *server = sonde_test_server_new (TRUE);
  SondeTestClient *client = sonde_test_client_new (server, "metrics=fake.value&interval_ms=200");
  gint64 previous_seq = 0;

  sonde_test_client_next (client, "hello", NULL);
  for (int i = 0; i < 3; i++)
    {
      JsonObject *frame = sonde_test_client_next (client, "snapshot", NULL);
      gint64 seq = sonde_test_check_snapshot (frame, "default");

      sonde_test_check_only_fake_value (frame);
      g_assert_cmpint (sonde_test_parse_timestamp (json_object_get_string_member (frame, "timestamp")) % 200, ==, 0);
      if (i > 0)
        g_assert_cmpint (seq, ==, previous_seq + 1);
      previous_seq = seq;
    }

  sonde_test_client_free (client);

  /* Several patterns, comma-separated. */
  client = sonde_test_client_new (server, "metrics=fake.text,other.*&interval_ms=200");
  {
    JsonObject *frame = sonde_test_client_next (client, "snapshot", "default");
    g_autofree char *metrics = sonde_test_metrics_of (sonde_test_snapshot_data (frame));

    g_assert_cmpstr (metrics, ==, "fake.text,other.items,other.text,other.value");
  }
  sonde_test_client_free (client);

  sonde_test_server_free (server);
}

typedef struct
{
  const char *query;
  const char *code;
} PresetCase;

static const PresetCase bad_presets[] = {
  { "metrics=nope.x", "unknown_metric" },
  { "metrics=fake.nope&interval_ms=200", "unknown_metric" },
  { "metrics=fake.value&interval_ms=50", "interval_out_of_range" },
  { "interval_ms=70000", "interval_out_of_range" },
  { "events=nope", "invalid_subscription" },
};

static void
test_query_preset_bad (gconstpointer data)
{
  const PresetCase *preset = data;
  SondeTestServer *server = sonde_test_server_new (TRUE);
  SondeTestClient *client = sonde_test_client_new (server, preset->query);
  JsonObject *error;

  sonde_test_client_next (client, "hello", NULL);
  error = sonde_test_client_expect_error (client, preset->code);
  g_assert_cmpstr (json_object_get_string_member_with_default (error, "subscription", NULL), ==, "default");

  /* The connection lives on, with no subscription. */
  sonde_test_client_ping (client);
  sonde_test_spin_for (1200);
  g_assert_cmpuint (sonde_test_client_count (client, "snapshot", NULL), ==, 0);
  g_assert_cmpuint (_sonde_server_get_n_groups (server->server), ==, 0);

  /* And it can subscribe. */
  sonde_test_client_send (client, "{\"type\":\"subscribe\",\"metrics\":[\"fake.value\"],\"interval_ms\":200}");
  sonde_test_check_only_fake_value (sonde_test_client_next (client, "snapshot", "default"));

  sonde_test_client_free (client);
  sonde_test_server_free (server);
}

/* Filtering --------------------------------------------------------------- */

static void
test_filter_exact (void)
{
  SondeTestServer *server = sonde_test_server_new (TRUE);
  SondeTestClient *client = sonde_test_client_new (server, NULL);
  gint64 previous_value = 0;

  sonde_test_client_send (client, "{\"type\":\"subscribe\",\"metrics\":[\"fake.value\"]}");
  sonde_test_client_sync (client);

  for (int i = 0; i < 2; i++)
    {
      JsonObject *frame = sonde_test_client_next (client, "snapshot", NULL);
      g_autofree char *json = NULL;
      g_autofree char *expected = NULL;
      gint64 value;

      sonde_test_check_snapshot (frame, "default");
      value = sonde_test_check_only_fake_value (frame);
      json = sonde_test_to_json (sonde_test_snapshot_data (frame));
      expected = g_strdup_printf ("{\"fake\":{\"value\":%" G_GINT64_FORMAT "}}", value);
      g_assert_cmpstr (json, ==, expected);
      g_assert_cmpint (value, >, previous_value);
      previous_value = value;
    }

  /* The implicit subscription gave way: one group. */
  g_assert_cmpuint (_sonde_server_get_n_groups (server->server), ==, 1);

  sonde_test_client_free (client);
  sonde_test_server_free (server);
}

typedef struct
{
  const char *patterns;  /* JSON array */
  const char *expected;  /* sorted metric names */
} GlobCase;

static const GlobCase glob_cases[] = {
  { "[\"fake.value\"]", "fake.value" },
  { "[\"fake.*\"]", "fake.items,fake.text,fake.value" },
  { "[\"fake\"]", "fake.items,fake.text,fake.value" },
  { "[\"*\"]", "fake.items,fake.text,fake.value,other.items,other.text,other.value" },
  { "[\"f?ke.val*\"]", "fake.value" },
  { "[\"*.text\"]", "fake.text,other.text" },
  { "[\"o*r.i?ems\",\"fake.value\"]", "fake.value,other.items" },
  { "[\"fake.value\",\"fake.value\",\"fake.text\"]", "fake.text,fake.value" },
};

static void
test_filter_globs (void)
{
  SondeTestServer *server = sonde_test_server_new (TRUE);
  SondeTestClient *client = sonde_test_client_new (server, NULL);

  /* All at once, on one connection, each under its own id. */
  for (guint i = 0; i < G_N_ELEMENTS (glob_cases); i++)
    sonde_test_client_send (client, "{\"type\":\"subscribe\",\"id\":\"glob%u\",\"metrics\":%s,\"interval_ms\":200}",
                            i, glob_cases[i].patterns);
  sonde_test_client_sync (client);
  g_assert_cmpuint (sonde_test_client_count (client, "error", NULL), ==, 0);

  for (guint i = 0; i < G_N_ELEMENTS (glob_cases); i++)
    {
      g_autofree char *id = g_strdup_printf ("glob%u", i);

      for (int n = 0; n < 2; n++)
        {
          JsonObject *frame = sonde_test_client_next (client, "snapshot", id);
          g_autofree char *metrics = sonde_test_metrics_of (sonde_test_snapshot_data (frame));

          sonde_test_check_snapshot (frame, id);
          g_test_message ("%s -> %s", glob_cases[i].patterns, metrics);
          g_assert_cmpstr (metrics, ==, glob_cases[i].expected);
        }
    }

  /* The implicit default is gone. */
  g_assert_cmpuint (sonde_test_client_count (client, "snapshot", "default"), ==, 0);

  sonde_test_client_free (client);
  sonde_test_server_free (server);
}

/* Subscriptions ----------------------------------------------------------- */

static void
test_subscriptions_several (void)
{
  SondeTestServer *server = sonde_test_server_new (TRUE);
  SondeTestClient *client = sonde_test_client_new (server, NULL);
  gint64 seq_a = 0, seq_b = 0;

  sonde_test_client_send (client, "{\"type\":\"subscribe\",\"id\":\"a\",\"metrics\":[\"fake.value\"],\"interval_ms\":200}");
  sonde_test_client_send (client, "{\"type\":\"subscribe\",\"id\":\"b\",\"metrics\":[\"other.text\"],\"interval_ms\":500}");
  sonde_test_client_sync (client);
  g_assert_cmpuint (_sonde_server_get_n_groups (server->server), ==, 2);

  for (int i = 0; i < 3; i++)
    {
      JsonObject *a = sonde_test_client_next (client, "snapshot", "a");
      JsonObject *b = sonde_test_client_next (client, "snapshot", "b");
      gint64 sa = sonde_test_check_snapshot (a, "a");
      gint64 sb = sonde_test_check_snapshot (b, "b");
      g_autofree char *json_b = sonde_test_to_json (sonde_test_snapshot_data (b));

      sonde_test_check_only_fake_value (a);
      g_assert_cmpstr (json_b, ==, "{\"other\":{\"text\":\"hello from other\"}}");
      g_assert_cmpint (sonde_test_parse_timestamp (json_object_get_string_member (b, "timestamp")) % 500, ==, 0);

      /* Each subscription counts its own ticks. */
      if (i > 0)
        {
          g_assert_cmpint (sa, ==, seq_a + 1);
          g_assert_cmpint (sb, ==, seq_b + 1);
        }
      seq_a = sa;
      seq_b = sb;
    }

  /* Only those two: no "default" after the first subscribe. */
  for (guint i = 0; i < client->frames->len; i++)
    {
      SondeTestFrame *frame = g_ptr_array_index (client->frames, i);
      const char *sub = json_object_get_string_member_with_default (frame->object, "subscription", NULL);

      if (!frame->taken && g_strcmp0 (json_object_get_string_member (frame->object, "type"), "snapshot") == 0)
        g_assert_true (g_strcmp0 (sub, "a") == 0 || g_strcmp0 (sub, "b") == 0);
    }

  sonde_test_client_free (client);
  sonde_test_server_free (server);
}

/* The id is the client's name for a subscription, not part of what is
 * encoded: the same metrics at the same interval are one group for all. */
static void
test_subscriptions_ids_share_group (void)
{
  SondeTestServer *server = sonde_test_server_new (TRUE);
  SondeTestClient *first = sonde_test_client_new (server, NULL);
  SondeTestClient *second = sonde_test_client_new (server, NULL);

  sonde_test_client_send (first, "{\"type\":\"subscribe\",\"id\":\"a\",\"metrics\":[\"fake.value\"],\"interval_ms\":200}");
  sonde_test_client_send (first, "{\"type\":\"subscribe\",\"id\":\"b\",\"metrics\":[\"fake.value\"],\"interval_ms\":200}");
  sonde_test_client_send (second, "{\"type\":\"subscribe\",\"id\":\"c.1\",\"metrics\":[\"fake.value\"],\"interval_ms\":200}");
  sonde_test_client_sync (first);
  sonde_test_client_sync (second);
  g_assert_cmpuint (_sonde_server_get_n_groups (server->server), ==, 1);

  for (int i = 0; i < 2; i++)
    {
      gint64 seq_a = sonde_test_check_snapshot (sonde_test_client_next (first, "snapshot", "a"), "a");
      gint64 seq_b = sonde_test_check_snapshot (sonde_test_client_next (first, "snapshot", "b"), "b");
      JsonObject *c = sonde_test_client_next (second, "snapshot", "c.1");

      sonde_test_check_snapshot (c, "c.1");
      sonde_test_check_only_fake_value (c);
      /* One group, one count of its ticks. */
      g_assert_cmpint (seq_a, ==, seq_b);
    }

  sonde_test_client_free (first);
  sonde_test_client_free (second);
  sonde_test_server_free (server);
}

static void
test_subscriptions_replace (void)
{
  SondeTestServer *server = sonde_test_server_new (TRUE);
  SondeTestClient *client = sonde_test_client_new (server, NULL);
  JsonObject *frame;
  g_autofree char *metrics = NULL;

  sonde_test_client_send (client, "{\"type\":\"subscribe\",\"id\":\"a\",\"metrics\":[\"fake.value\"],\"interval_ms\":200}");
  sonde_test_check_only_fake_value (sonde_test_client_next (client, "snapshot", "a"));

  sonde_test_client_send (client, "{\"type\":\"subscribe\",\"id\":\"a\",\"metrics\":[\"other.value\",\"other.text\"],\"interval_ms\":300}");
  sonde_test_client_sync (client);
  g_assert_cmpuint (_sonde_server_get_n_groups (server->server), ==, 1);

  for (int i = 0; i < 2; i++)
    {
      frame = sonde_test_client_next (client, "snapshot", "a");
      sonde_test_check_snapshot (frame, "a");
      g_clear_pointer (&metrics, g_free);
      metrics = sonde_test_metrics_of (sonde_test_snapshot_data (frame));
      g_assert_cmpstr (metrics, ==, "other.text,other.value");
      g_assert_cmpint (sonde_test_parse_timestamp (json_object_get_string_member (frame, "timestamp")) % 300, ==, 0);
    }

  /* A failed subscribe with an existing id leaves it alone. */
  sonde_test_client_send (client, "{\"type\":\"subscribe\",\"id\":\"a\",\"metrics\":[\"nope.x\"]}");
  g_assert_cmpstr (json_object_get_string_member (sonde_test_client_expect_error (client, "unknown_metric"),
                                                  "subscription"), ==, "a");
  sonde_test_client_sync (client);
  frame = sonde_test_client_next (client, "snapshot", "a");
  g_clear_pointer (&metrics, g_free);
  metrics = sonde_test_metrics_of (sonde_test_snapshot_data (frame));
  g_assert_cmpstr (metrics, ==, "other.text,other.value");

  sonde_test_client_free (client);
  sonde_test_server_free (server);
}

static void
test_subscriptions_unsubscribe (void)
{
  SondeTestServer *server = sonde_test_server_new (TRUE);
  SondeTestClient *client = sonde_test_client_new (server, NULL);

  sonde_test_client_send (client, "{\"type\":\"subscribe\",\"id\":\"a\",\"metrics\":[\"fake.value\"],\"interval_ms\":200}");
  sonde_test_client_send (client, "{\"type\":\"subscribe\",\"id\":\"b\",\"metrics\":[\"other.value\"],\"interval_ms\":200}");
  sonde_test_client_next (client, "snapshot", "a");
  sonde_test_client_next (client, "snapshot", "b");

  sonde_test_client_send (client, "{\"type\":\"unsubscribe\",\"id\":\"a\"}");
  sonde_test_client_sync (client);
  g_assert_cmpuint (_sonde_server_get_n_groups (server->server), ==, 1);

  sonde_test_spin_for (1000);
  g_assert_cmpuint (sonde_test_client_count (client, "snapshot", "a"), ==, 0);
  g_assert_cmpuint (sonde_test_client_count (client, "snapshot", "b"), >=, 2);
  g_assert_cmpuint (sonde_test_client_count (client, "error", NULL), ==, 0);

  sonde_test_client_send (client, "{\"type\":\"unsubscribe\",\"id\":\"b\"}");
  sonde_test_client_sync (client);
  g_assert_cmpuint (_sonde_server_get_n_groups (server->server), ==, 0);
  sonde_test_spin_for (500);
  g_assert_cmpuint (sonde_test_client_count (client, "snapshot", NULL), ==, 0);

  /* Unsubscribing the implicit default works too. */
  sonde_test_client_free (client);
  client = sonde_test_client_new (server, NULL);
  sonde_test_client_send (client, "{\"type\":\"unsubscribe\",\"id\":\"default\"}");
  sonde_test_client_sync (client);
  g_assert_cmpuint (_sonde_server_get_n_groups (server->server), ==, 0);
  sonde_test_spin_for (1200);
  g_assert_cmpuint (sonde_test_client_count (client, "snapshot", NULL), ==, 0);
  g_assert_cmpuint (sonde_test_client_count (client, "error", NULL), ==, 0);

  sonde_test_client_free (client);
  sonde_test_server_free (server);
}

static void
test_subscriptions_unsubscribe_unknown (void)
{
  SondeTestServer *server = sonde_test_server_new (TRUE);
  SondeTestClient *client = sonde_test_client_new (server, NULL);

  sonde_test_client_send (client, "{\"type\":\"unsubscribe\",\"id\":\"never\"}");
  sonde_test_client_expect_error (client, "invalid_subscription");
  sonde_test_client_ping (client);

  /* The default subscription is untouched. */
  sonde_test_client_sync (client);
  sonde_test_check_snapshot (sonde_test_client_next (client, "snapshot", NULL), "default");

  sonde_test_client_free (client);
  sonde_test_server_free (server);
}

/* A bad subscribe must not cost a silent client its implicit stream. */
static void
test_subscriptions_bad_keeps_default (void)
{
  SondeTestServer *server = sonde_test_server_new (TRUE);
  SondeTestClient *client = sonde_test_client_new (server, NULL);
  g_autofree char *metrics = NULL;
  JsonObject *frame;

  sonde_test_client_send (client, "{\"type\":\"subscribe\",\"metrics\":[\"nope.x\"]}");
  sonde_test_client_expect_error (client, "unknown_metric");
  sonde_test_client_sync (client);

  frame = sonde_test_client_next (client, "snapshot", "default");
  metrics = sonde_test_metrics_of (sonde_test_snapshot_data (frame));
  g_assert_cmpstr (metrics, ==, "fake.items,fake.text,fake.value,other.items,other.text,other.value");

  sonde_test_client_free (client);
  sonde_test_server_free (server);
}

/* Intervals --------------------------------------------------------------- */

static void
test_interval (void)
{
  SondeTestServer *server = sonde_test_server_new (TRUE);
  SondeTestClient *client = sonde_test_client_new (server, NULL);
  gint64 previous_seq = 0, previous_ms = 0, previous_value = 0;
  guint n = 0;

  sonde_test_client_send (client, "{\"type\":\"subscribe\",\"id\":\"fast\",\"metrics\":[\"fake.value\"],\"interval_ms\":200}");
  sonde_test_client_next (client, "snapshot", "fast");
  sonde_test_client_take_all (client);

  sonde_test_spin_for (2000);

  for (guint i = 0; i < client->frames->len; i++)
    {
      SondeTestFrame *frame = g_ptr_array_index (client->frames, i);
      gint64 seq, ms, value;

      if (frame->taken)
        continue;

      seq = sonde_test_check_snapshot (frame->object, "fast");
      ms = sonde_test_parse_timestamp (json_object_get_string_member (frame->object, "timestamp"));
      value = sonde_test_check_only_fake_value (frame->object);

      /* On the wall-clock grid of the interval. */
      g_assert_cmpint (ms % 200, ==, 0);
      if (n > 0)
        {
          g_assert_cmpint (seq, ==, previous_seq + 1);
          g_assert_cmpint (ms, >, previous_ms);
          g_assert_cmpint (value, >, previous_value);
        }
      previous_seq = seq;
      previous_ms = ms;
      previous_value = value;
      n++;
    }

  g_test_message ("%u frames in 2 s at 200 ms", n);
  g_assert_cmpuint (n, >=, 8);
  g_assert_cmpuint (n, <=, 12);

  sonde_test_client_free (client);
  sonde_test_server_free (server);
}

/* Shared frames ----------------------------------------------------------- */

#define N_SHARED_CLIENTS 5

static void
test_shared_frames (void)
{
  SondeTestServer *server = sonde_test_server_new (TRUE);
  SondeTestClient *clients[N_SHARED_CLIENTS];
  g_autoptr(GHashTable) by_seq = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free,
                                                        (GDestroyNotify) g_bytes_unref);
  guint n_compared = 0;

  for (guint i = 0; i < N_SHARED_CLIENTS; i++)
    {
      clients[i] = sonde_test_client_new (server, NULL);
      sonde_test_client_send (clients[i], "{\"type\":\"subscribe\",\"id\":\"shared\",\"metrics\":[\"fake.*\",\"other.value\"],\"interval_ms\":200}");
    }
  for (guint i = 0; i < N_SHARED_CLIENTS; i++)
    sonde_test_client_sync (clients[i]);

  g_assert_cmpuint (sonde_server_get_n_clients (server->server), ==, N_SHARED_CLIENTS);
  /* Same subscription, same group: one frame built per tick. */
  g_assert_cmpuint (_sonde_server_get_n_groups (server->server), ==, 1);

  for (guint i = 0; i < N_SHARED_CLIENTS; i++)
    sonde_test_wait_until (sonde_test_client_count (clients[i], "snapshot", "shared") >= 4);

  for (guint i = 0; i < N_SHARED_CLIENTS; i++)
    {
      for (guint j = 0; j < clients[i]->frames->len; j++)
        {
          SondeTestFrame *frame = g_ptr_array_index (clients[i]->frames, j);
          gint64 seq;
          GBytes *first;

          if (frame->taken)
            continue;
          seq = sonde_test_check_snapshot (frame->object, "shared");
          first = g_hash_table_lookup (by_seq, &seq);
          if (first == NULL)
            g_hash_table_insert (by_seq, g_memdup2 (&seq, sizeof seq), g_bytes_ref (frame->raw));
          else
            {
              /* Byte for byte the same frame. */
              g_assert_true (g_bytes_equal (first, frame->raw));
              n_compared++;
            }
        }
    }

  g_test_message ("%u frames compared", n_compared);
  g_assert_cmpuint (n_compared, >=, 3 * (N_SHARED_CLIENTS - 1));

  for (guint i = 0; i < N_SHARED_CLIENTS; i++)
    sonde_test_client_free (clients[i]);
  sonde_test_wait_until (sonde_server_get_n_clients (server->server) == 0);
  g_assert_cmpuint (_sonde_server_get_n_groups (server->server), ==, 0);
  sonde_test_server_free (server);
}

/* Catalog ----------------------------------------------------------------- */

static void
test_catalog (void)
{
  SondeTestServer *server = sonde_test_server_new (TRUE);
  SondeTestClient *client = sonde_test_client_new (server, NULL);
  JsonObject *catalog;
  JsonArray *metrics;
  gboolean found_value = FALSE, found_items = FALSE;

  sonde_test_client_send (client, "{\"type\":\"catalog\"}");
  catalog = sonde_test_client_next (client, "catalog", NULL);
  metrics = json_object_get_array_member (catalog, "metrics");
  g_assert_nonnull (metrics);
  g_assert_cmpuint (json_array_get_length (metrics), ==, 6);

  for (guint i = 0; i < json_array_get_length (metrics); i++)
    {
      JsonObject *metric = json_array_get_object_element (metrics, i);
      const char *name = json_object_get_string_member (metric, "name");

      g_assert_nonnull (json_object_get_string_member (metric, "unit"));
      g_assert_nonnull (json_object_get_string_member (metric, "kind"));
      g_assert_nonnull (json_object_get_string_member (metric, "description"));

      if (g_str_equal (name, "fake.value"))
        {
          found_value = TRUE;
          g_assert_cmpstr (json_object_get_string_member (metric, "collector"), ==, "fake");
          g_assert_cmpstr (json_object_get_string_member (metric, "field"), ==, "value");
          g_assert_cmpstr (json_object_get_string_member (metric, "unit"), ==, "count");
          g_assert_cmpstr (json_object_get_string_member (metric, "kind"), ==, "counter");
          g_assert_cmpstr (json_object_get_string_member (metric, "description"), ==,
                           "How many times the fake collector was collected");
        }
      else if (g_str_equal (name, "other.items"))
        {
          found_items = TRUE;
          g_assert_cmpstr (json_object_get_string_member (metric, "kind"), ==, "table");
        }
    }
  g_assert_true (found_value);
  g_assert_true (found_items);

  /* A collector added later shows up in the next catalog. */
  {
    g_autoptr(SondeFakeCollector) late = sonde_fake_collector_new ("late");

    g_assert_true (sonde_engine_add_collector (server->engine, SONDE_COLLECTOR (late), NULL));
    sonde_test_client_send (client, "{\"type\":\"catalog\"}");
    catalog = sonde_test_client_next (client, "catalog", NULL);
    g_assert_cmpuint (json_array_get_length (json_object_get_array_member (catalog, "metrics")), ==, 9);
  }

  sonde_test_client_free (client);
  sonde_test_server_free (server);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/ws/native/hello", test_hello);
  g_test_add_func ("/ws/native/ping", test_ping);
  g_test_add_func ("/ws/native/default-subscription", test_default_subscription);
  g_test_add_func ("/ws/native/query-preset/good", test_query_preset);
  for (guint i = 0; i < G_N_ELEMENTS (bad_presets); i++)
    {
      g_autofree char *path = g_strdup_printf ("/ws/native/query-preset/bad/%u", i);
      g_test_add_data_func (path, &bad_presets[i], test_query_preset_bad);
    }
  g_test_add_func ("/ws/native/filter/exact", test_filter_exact);
  g_test_add_func ("/ws/native/filter/globs", test_filter_globs);
  g_test_add_func ("/ws/native/subscriptions/several", test_subscriptions_several);
  g_test_add_func ("/ws/native/subscriptions/ids-share-group", test_subscriptions_ids_share_group);
  g_test_add_func ("/ws/native/subscriptions/replace", test_subscriptions_replace);
  g_test_add_func ("/ws/native/subscriptions/unsubscribe", test_subscriptions_unsubscribe);
  g_test_add_func ("/ws/native/subscriptions/unsubscribe-unknown", test_subscriptions_unsubscribe_unknown);
  g_test_add_func ("/ws/native/subscriptions/bad-keeps-default", test_subscriptions_bad_keeps_default);
  g_test_add_func ("/ws/native/interval", test_interval);
  g_test_add_func ("/ws/native/shared-frames", test_shared_frames);
  g_test_add_func ("/ws/native/catalog", test_catalog);

  return g_test_run ();
}
