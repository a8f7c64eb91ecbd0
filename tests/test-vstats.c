/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <math.h>
#include <string.h>

#include "sonde-test-util.h"
#include "sonde-json-private.h"
#include "compat/vstats/sonde-vstats-private.h"

/* The vstats hub in one process: dashboards at /ws, agents at /ws/agent
 * (docs/formats/vstats.md), the agents' data on the REST routes and the
 * native protocol, and SondeAgent replaying what it buffered. */

#define TOKEN_A1     "token-of-agent-a1-0123456789"
#define TOKEN_A2     "token-of-agent-a2-0123456789"
#define TOKEN_SHARED "shared-agent-token-0123456789"

static const char *hub_config =
  "[hub]\n"
  "agent-tokens=" TOKEN_SHARED "\n"
  "location=Here\n"
  "[agent a1]\n"
  "token=" TOKEN_A1 "\n"
  "location=US-West\n"
  "[agent a2]\n"
  "token=" TOKEN_A2 "\n";

static void
configure (SondeTestServer *server,
           const char      *text)
{
  g_autoptr(GKeyFile) keyfile = g_key_file_new ();
  g_autoptr(GError) error = NULL;

  g_assert_true (g_key_file_load_from_data (keyfile, text, -1, G_KEY_FILE_NONE, NULL));
  g_assert_true (sonde_server_configure (server->server, keyfile, &error));
  g_assert_no_error (error);
}

static SondeTestServer *
hub_new (const char *extra)
{
  SondeTestServer *server = sonde_test_server_new (FALSE);
  g_autofree char *text = g_strconcat (hub_config, extra, NULL);

  configure (server, text);
  return server;
}

static SondeTestClient *
agent_connect (SondeTestServer *server,
               const char      *token)
{
  g_autofree char *path = g_strdup_printf ("/ws/agent?token=%s&ack=1", token);

  return sonde_test_client_new_for_path (server, path);
}

/* The seed's own report, with a time, a hostname, a cpu usage and a
 * received total of our choosing. */
static void
send_report (SondeTestClient *agent,
             gint64           timestamp_us,
             const char      *hostname,
             double           usage,
             gint64           total_rx)
{
  g_autofree char *timestamp = _sonde_format_timestamp (timestamp_us);

  sonde_test_client_send (agent,
    "{\"type\":\"metrics\",\"data\":{\"timestamp\":\"%s\",\"hostname\":\"%s\","
    "\"os\":{\"name\":\"Ubuntu\",\"version\":\"22.04\",\"kernel\":\"5.15.0\",\"arch\":\"x86_64\"},"
    "\"cpu\":{\"brand\":\"Intel Core i7\",\"cores\":8,\"usage\":%.1f,\"frequency\":3600,"
    "\"per_core\":[40,50,45,42,48,46,44,47]},"
    "\"memory\":{\"total\":17179869184,\"used\":8589934592,\"available\":8589934592,"
    "\"swap_total\":4294967296,\"swap_used\":1073741824,\"usage_percent\":50.0},"
    "\"disks\":[{\"name\":\"sda1\",\"mount_point\":\"/\",\"fs_type\":\"ext4\",\"total\":107374182400,"
    "\"used\":53687091200,\"available\":53687091200,\"usage_percent\":50.0}],"
    "\"network\":{\"interfaces\":[{\"name\":\"eth0\",\"rx\":%" G_GINT64_FORMAT ",\"tx\":536870912}],"
    "\"total_rx\":%" G_GINT64_FORMAT ",\"total_tx\":536870912},"
    "\"uptime\":86400,\"load_average\":{\"one\":0.5,\"five\":0.7,\"fifteen\":0.6}}}",
    timestamp, hostname, usage, total_rx, total_rx);
}

/* A whole second, ten seconds ago: reports of the past, as replayed. */
static gint64
past_second (void)
{
  return (g_get_real_time () / G_USEC_PER_SEC - 10) * G_USEC_PER_SEC;
}

static JsonObject *
hub_status (SondeTestServer *server)
{
  g_autoptr(SondeTestResponse) response = sonde_test_http (server, "GET", "/status");

  g_assert_cmpuint (response->status, ==, 200);
  return json_object_ref (json_object_get_object_member (response->json, "vstats"));
}

static gint64
status_count (SondeTestServer *server,
              const char      *member)
{
  g_autoptr(JsonObject) vstats = hub_status (server);

  return json_object_get_int_member (vstats, member);
}

/* The next message of @type about the server @id (its "id" or
 * "server_id"); those about others are passed over. */
static JsonObject *
next_about (SondeTestClient *dashboard,
            const char      *type,
            const char      *id)
{
  for (;;)
    {
      JsonObject *frame = sonde_test_client_next (dashboard, type, NULL);
      JsonObject *data = json_object_get_object_member (frame, "data");
      const char *about = json_object_get_string_member_with_default (data, "server_id", NULL);

      if (about == NULL)
        about = json_object_get_string_member (data, "id");
      if (g_str_equal (about, id))
        return frame;
    }
}

static JsonObject *
next_metrics_of (SondeTestClient *dashboard,
                 const char      *server_id)
{
  return next_about (dashboard, "metrics", server_id);
}

static gint64
latest_int (SondeEngine *engine,
            const char  *collector,
            const char  *field)
{
  SondeSample *sample = sonde_engine_get_latest (engine, collector);

  g_assert_nonnull (sample);
  return sonde_sample_get_int (sample, field);
}

static void
assert_closed_with (SondeTestClient *client,
                    gushort          code,
                    const char      *reason)
{
  sonde_test_wait_until (client->closed);
  g_assert_cmpuint (soup_websocket_connection_get_close_code (client->connection), ==, code);
  g_assert_cmpstr (soup_websocket_connection_get_close_data (client->connection), ==, reason);
}

/* Dashboards ---------------------------------------------------------------- */

static void
test_dashboard_local (void)
{
  SondeTestServer *server = sonde_test_server_new_with_plugins ("cpu", "memory", "disk", "network",
                                                                "host", NULL);
  g_autofree char *machine_id = NULL;
  g_autofree char *expected_id = NULL;
  SondeTestClient *dashboard, *second;
  JsonObject *frame, *data, *metrics, *cpu;

  if (server == NULL)
    return;

  /* A hash of the machine id, the same at every start. */
  if (g_file_get_contents ("/etc/machine-id", &machine_id, NULL, NULL))
    {
      g_autofree char *input = g_strconcat ("sonde-vstats-machine\n", g_strstrip (machine_id), NULL);
      g_autofree char *digest = g_compute_checksum_for_string (G_CHECKSUM_SHA256, input, -1);

      expected_id = g_strndup (digest, 16);
      g_assert_cmpstr (_sonde_vstats_get_local_id (), ==, expected_id);
    }

  dashboard = sonde_test_client_new_for_path (server, "/ws");
  frame = sonde_test_client_frame_at (dashboard, 0);
  g_assert_cmpstr (json_object_get_string_member (frame, "type"), ==, "server_added");
  data = json_object_get_object_member (frame, "data");
  sonde_test_assert_members (data, "id,location,name");
  g_assert_cmpstr (json_object_get_string_member (data, "id"), ==, _sonde_vstats_get_local_id ());
  g_assert_cmpstr (json_object_get_string_member (data, "name"), ==, g_get_host_name ());

  frame = sonde_test_client_frame_at (dashboard, 1);
  g_assert_cmpstr (json_object_get_string_member (frame, "type"), ==, "status");
  data = json_object_get_object_member (frame, "data");
  g_assert_cmpstr (json_object_get_string_member (data, "server_id"), ==, _sonde_vstats_get_local_id ());
  g_assert_true (json_object_get_boolean_member (data, "online"));
  sonde_test_parse_timestamp (json_object_get_string_member (frame, "timestamp"));

  /* Then this host's metrics once a tick, in the dashboards' shape. */
  frame = next_metrics_of (dashboard, _sonde_vstats_get_local_id ());
  sonde_test_parse_timestamp (json_object_get_string_member (frame, "timestamp"));
  metrics = json_object_get_object_member (json_object_get_object_member (frame, "data"), "metrics");
  cpu = json_object_get_object_member (metrics, "cpu");
  g_assert_cmpfloat (json_object_get_double_member (cpu, "usage"), >=, 0);
  g_assert_cmpfloat (json_object_get_double_member (cpu, "usage"), <=, 100);
  g_assert_cmpint (json_object_get_int_member (cpu, "cores"), ==, latest_int (server->engine, "cpu", "cores"));
  g_assert_cmpint (json_object_get_int_member (json_object_get_object_member (metrics, "memory"), "total"), >, 0);
  g_assert_true (json_object_has_member (json_object_get_object_member (metrics, "network"), "rx"));
  g_assert_true (json_object_has_member (json_object_get_object_member (metrics, "network"), "tx"));
  g_assert_cmpstr (json_object_get_string_member (metrics, "hostname"), ==, g_get_host_name ());
  g_assert_true (json_object_has_member (metrics, "load_average"));
  g_assert_true (json_object_has_member (metrics, "os"));
  g_assert_true (JSON_NODE_HOLDS_ARRAY (json_object_get_member (metrics, "disks")));

  /* Encoded once a tick: a second dashboard gets the same bytes. */
  second = sonde_test_client_new_for_path (server, "/ws");
  {
    SondeTestFrame *a = sonde_test_client_next_frame (second, "metrics", NULL);
    SondeTestFrame *b = NULL;
    const char *stamp;

    stamp = json_object_get_string_member (a->object, "timestamp");
    for (guint i = 0; b == NULL; i++)
      {
        SondeTestFrame *candidate;

        sonde_test_wait_until (dashboard->frames->len > i);
        candidate = g_ptr_array_index (dashboard->frames, i);
        if (g_strcmp0 (json_object_get_string_member_with_default (candidate->object, "timestamp", ""), stamp) == 0 &&
            g_strcmp0 (json_object_get_string_member (candidate->object, "type"), "metrics") == 0)
          b = candidate;
      }
    g_assert_true (g_bytes_equal (a->raw, b->raw));
  }

  /* Dashboards send nothing: an error, and the stream goes on. */
  sonde_test_client_send (dashboard, "{\"type\":\"hello\"}");
  frame = sonde_test_client_next (dashboard, "error", NULL);
  sonde_test_assert_members (frame, "message,type");
  next_metrics_of (dashboard, _sonde_vstats_get_local_id ());

  sonde_test_client_free (second);
  sonde_test_client_free (dashboard);
  sonde_test_server_free (server);
}

/* Agents ------------------------------------------------------------------- */

static void
test_agent_report_reaches_dashboard (void)
{
  SondeTestServer *server = hub_new ("");
  g_autofree char *a1_id = _sonde_vstats_make_agent_id ("a1");
  SondeTestClient *dashboard = sonde_test_client_new_for_path (server, "/ws");
  SondeTestClient *agent = agent_connect (server, TOKEN_A1);
  gint64 t = past_second ();
  JsonObject *frame, *data, *metrics, *network;
  g_autofree char *timestamp = _sonde_format_timestamp (t + G_USEC_PER_SEC);

  /* Connected but silent: not a server yet. */
  next_about (dashboard, "status", _sonde_vstats_get_local_id ());
  g_assert_cmpint (status_count (server, "servers"), ==, 1);

  send_report (agent, t, "host-one", 45.2, 1000000);
  frame = sonde_test_client_next (agent, "ack", NULL);
  g_assert_cmpint (sonde_test_parse_timestamp (json_object_get_string_member (frame, "timestamp")), ==,
                   t / 1000);

  frame = next_about (dashboard, "server_added", a1_id);
  data = json_object_get_object_member (frame, "data");
  /* An [agent NAME] token names the server, whatever the hostname. */
  g_assert_cmpstr (json_object_get_string_member (data, "id"), ==, a1_id);
  g_assert_cmpstr (json_object_get_string_member (data, "name"), ==, "a1");
  g_assert_cmpstr (json_object_get_string_member (data, "location"), ==, "US-West");
  frame = next_about (dashboard, "status", a1_id);
  data = json_object_get_object_member (frame, "data");
  g_assert_true (json_object_get_boolean_member (data, "online"));

  frame = next_metrics_of (dashboard, a1_id);
  g_assert_cmpint (sonde_test_parse_timestamp (json_object_get_string_member (frame, "timestamp")), ==, t / 1000);
  metrics = json_object_get_object_member (json_object_get_object_member (frame, "data"), "metrics");
  {
    g_autofree char *members = sonde_test_members (metrics);

    g_assert_cmpstr (members, ==, "cpu,disks,hostname,load_average,memory,network,os,uptime");
  }
  g_assert_cmpfloat (json_object_get_double_member (json_object_get_object_member (metrics, "cpu"), "usage"), ==, 45.2);
  g_assert_cmpint (json_object_get_int_member (json_object_get_object_member (metrics, "memory"), "total"), ==,
                   G_GINT64_CONSTANT (17179869184));
  g_assert_cmpstr (json_object_get_string_member (metrics, "hostname"), ==, "host-one");
  network = json_object_get_object_member (metrics, "network");
  /* The first report has no earlier totals: rates of 0. */
  g_assert_cmpfloat (json_object_get_double_member (network, "rx"), ==, 0);

  /* A second later, 2500 more bytes received: 2500 bytes/s. */
  send_report (agent, t + G_USEC_PER_SEC, "host-one", 50.0, 1002500);
  frame = next_metrics_of (dashboard, a1_id);
  g_assert_cmpstr (json_object_get_string_member (frame, "timestamp"), ==, timestamp);
  network = json_object_get_object_member (json_object_get_object_member (json_object_get_object_member (frame, "data"),
                                                                          "metrics"), "network");
  g_assert_cmpfloat (json_object_get_double_member (network, "rx"), ==, 2500);
  g_assert_cmpfloat (json_object_get_double_member (network, "tx"), ==, 0);
  g_assert_cmpint (json_object_get_int_member (network, "total_rx"), ==, 1002500);

  /* A new dashboard is told of both servers, this host first. */
  {
    SondeTestClient *late = sonde_test_client_new_for_path (server, "/ws");
    JsonObject *added;

    added = json_object_get_object_member (sonde_test_client_frame_at (late, 0), "data");
    g_assert_cmpstr (json_object_get_string_member (added, "id"), ==, _sonde_vstats_get_local_id ());
    g_assert_cmpstr (json_object_get_string_member (added, "location"), ==, "Here");
    g_assert_cmpstr (json_object_get_string_member (sonde_test_client_frame_at (late, 1), "type"), ==, "status");
    added = json_object_get_object_member (sonde_test_client_frame_at (late, 2), "data");
    g_assert_cmpstr (json_object_get_string_member (added, "id"), ==, a1_id);
    data = json_object_get_object_member (sonde_test_client_frame_at (late, 3), "data");
    g_assert_cmpstr (json_object_get_string_member (data, "server_id"), ==, a1_id);
    g_assert_true (json_object_get_boolean_member (data, "online"));
    sonde_test_client_free (late);
  }

  g_assert_cmpint (status_count (server, "reports_accepted"), ==, 2);
  g_assert_cmpint (status_count (server, "servers_online"), ==, 2);

  sonde_test_client_free (agent);
  sonde_test_client_free (dashboard);
  sonde_test_server_free (server);
}

static void
test_agent_bad_tokens (void)
{
  SondeTestServer *server = hub_new ("");
  SondeTestClient *none = sonde_test_client_new_for_path (server, "/ws/agent");
  SondeTestClient *wrong = agent_connect (server, "token-of-agent-a1-012345678X");
  SondeTestClient *prefix = agent_connect (server, "token-of-agent-a1");
  /* The decoded query would end at the NUL, and match. */
  SondeTestClient *nul = agent_connect (server, TOKEN_A1 "%00garbage");
  SondeTestClient *server_token, *good;

  assert_closed_with (none, SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION, "invalid token");
  assert_closed_with (wrong, SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION, "invalid token");
  assert_closed_with (prefix, SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION, "invalid token");
  assert_closed_with (nul, SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION, "invalid token");
  g_assert_cmpint (status_count (server, "tokens_refused"), ==, 4);
  g_assert_cmpint (status_count (server, "agents_connected"), ==, 0);

  /* With a server token, dashboards need it; agents present their own,
   * and the server's is not one of them. */
  sonde_server_set_token (server->server, "server-secret-0123456789");
  g_assert_cmpuint (sonde_test_websocket_handshake (server, "/ws", NULL), ==, 401);
  g_assert_cmpuint (sonde_test_websocket_handshake (server, "/ws?token=server-secret-0123456789", NULL), ==, 101);
  server_token = agent_connect (server, "server-secret-0123456789");
  assert_closed_with (server_token, SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION, "invalid token");
  good = agent_connect (server, TOKEN_SHARED);
  send_report (good, past_second (), "web-7", 1, 0);
  sonde_test_client_next (good, "ack", NULL);
  g_assert_false (good->closed);

  /* Reads open (a generated token on loopback): the same for agents. */
  sonde_server_set_reads_need_token (server->server, FALSE);
  g_assert_cmpuint (sonde_test_websocket_handshake (server, "/ws", NULL), ==, 101);
  g_assert_cmpuint (sonde_test_websocket_handshake (server, "/ws/agent", NULL), ==, 101);

  sonde_test_client_free (good);
  sonde_test_client_free (server_token);
  sonde_test_client_free (nul);
  sonde_test_client_free (prefix);
  sonde_test_client_free (wrong);
  sonde_test_client_free (none);
  sonde_test_server_free (server);
}

static const struct
{
  const char *message;
  const char *error;
} bad_messages[] = {
  { "{not json", "Invalid JSON: " },
  { "[1,2]", "Expected a JSON object with a string member \"type\"" },
  { "{\"type\":\"nope\"}", "Unknown message type 'nope'" },
  /* Members of the wrong kind, and escapes json-glib 1.6 would take:
   * an error each, never a GLib critical. */
  { "{\"type\":{}}", "Expected a JSON object with a string member \"type\"" },
  { "{\"type\":\"metrics\",\"data\":{\"timestamp\":{}}}", "Invalid report: timestamp: must be an ISO 8601 time" },
  { "{\"type\":\"metrics\",\"data\":{\"hostname\":\"h\\222\"}}", "Invalid JSON: Invalid escape" },
  { "{\"type\":\"metrics\"}", "Invalid report: \"data\" must be an object" },
  { "{\"type\":\"metrics\",\"data\":{\"timestamp\":\"yesterday\"}}", "Invalid report: timestamp: must be an ISO 8601 time" },
  { "{\"type\":\"metrics\",\"data\":{\"timestamp\":\"1999-12-31T23:59:59Z\"}}", "Invalid report: timestamp: is before 2000" },
  { "{\"type\":\"metrics\",\"data\":{\"timestamp\":\"2999-01-01T00:00:00Z\"}}", "Invalid report: timestamp: is more than 5 minutes ahead" },
  { "{\"type\":\"metrics\",\"data\":{\"cpu\":{\"usage\":140}}}", "Invalid report: cpu.usage: must be a number from 0 to 100" },
  { "{\"type\":\"metrics\",\"data\":{\"cpu\":{\"usage\":\"45\"}}}", "Invalid report: cpu.usage: must be a number" },
  { "{\"type\":\"metrics\",\"data\":{\"cpu\":{\"usage\":true}}}", "Invalid report: cpu.usage: must be a number" },
  { "{\"type\":\"metrics\",\"data\":{\"cpu\":{\"per_core\":[1,200]}}}", "Invalid report: cpu.per_core: must hold numbers from 0 to 100" },
  { "{\"type\":\"metrics\",\"data\":{\"cpu\":[]}}", "Invalid report: cpu: must be an object" },
  { "{\"type\":\"metrics\",\"data\":{\"memory\":{\"total\":-1}}}", "Invalid report: memory.total: must be a number from 0 to" },
  { "{\"type\":\"metrics\",\"data\":{\"memory\":{\"used\":1e300}}}", "Invalid report: memory.used: must be a number from 0 to" },
  { "{\"type\":\"metrics\",\"data\":{\"disks\":[{\"name\":\"sda\",\"usage_percent\":-3}]}}", "Invalid report: disks[0].usage_percent: must be a number from 0 to 100" },
  { "{\"type\":\"metrics\",\"data\":{\"disks\":[1]}}", "Invalid report: disks[0]: must be an object" },
  { "{\"type\":\"metrics\",\"data\":{\"network\":{\"interfaces\":[{\"name\":\"eth0\",\"rx\":-5}]}}}", "Invalid report: network.interfaces[0].rx: must be a number from 0 to" },
  { "{\"type\":\"metrics\",\"data\":{\"load_average\":{\"one\":-0.5}}}", "Invalid report: load_average.one: must be a number from 0 to" },
  { "{\"type\":\"metrics\",\"data\":{\"os\":{\"name\":\"a\\u0007b\"}}}", "Invalid report: os.name: holds control characters" },
  { "{\"type\":\"metrics\",\"data\":{\"hostname\":\"\"}}", "Invalid report: hostname: must not be empty" },
  { "{\"type\":\"metrics\",\"data\":{\"uptime\":\"long\"}}", "Invalid report: uptime: must be a number" },
};

static void
expect_agent_error (SondeTestClient *agent,
                    const char      *prefix)
{
  JsonObject *frame = sonde_test_client_next (agent, "error", NULL);
  const char *message = json_object_get_string_member (frame, "message");

  sonde_test_assert_members (frame, "message,type");
  if (!g_str_has_prefix (message, prefix))
    g_error ("expected an error starting with '%s', got '%s'", prefix, message);
}

static void
test_agent_malformed (void)
{
  SondeTestServer *server = hub_new ("");
  g_autofree char *a1_id = _sonde_vstats_make_agent_id ("a1");
  SondeTestClient *dashboard = sonde_test_client_new_for_path (server, "/ws");
  SondeTestClient *agent = agent_connect (server, TOKEN_A1);
  SondeTestClient *shared = agent_connect (server, TOKEN_SHARED);
  g_autoptr(GString) big = g_string_new ("{\"type\":\"metrics\",\"data\":{\"hostname\":\"");
  g_autoptr(GString) long_array = g_string_new ("{\"type\":\"metrics\",\"data\":{\"cpu\":{\"per_core\":[");
  g_autofree char *long_name = g_strnfill (300, 'h');

  for (guint i = 0; i < G_N_ELEMENTS (bad_messages); i++)
    {
      sonde_test_client_send (agent, "%s", bad_messages[i].message);
      expect_agent_error (agent, bad_messages[i].error);
      /* Paced below the report limit. */
      sonde_test_spin_for (60);
    }

  /* Lengths are bounded: strings, arrays, whole messages. */
  sonde_test_client_send (agent, "{\"type\":\"metrics\",\"data\":{\"hostname\":\"%s\"}}", long_name);
  expect_agent_error (agent, "Invalid report: hostname: is longer than 253 bytes");
  for (guint i = 0; i < 2000; i++)
    g_string_append (long_array, i > 0 ? ",1" : "1");
  g_string_append (long_array, "]}}}");
  sonde_test_client_send (agent, "%s", long_array->str);
  expect_agent_error (agent, "Invalid report: cpu.per_core: has more than 1024 entries");
  while (big->len < 70 * 1024)
    g_string_append (big, "xxxxxxxxxxxxxxxx");
  g_string_append (big, "\"}}");
  sonde_test_client_send (agent, "%s", big->str);
  expect_agent_error (agent, "Message of ");
  sonde_test_client_send_bytes (agent, SOUP_WEBSOCKET_DATA_BINARY, "\x01\x02", 2);
  expect_agent_error (agent, "Binary frames are not accepted");

  /* A refused report with a readable time is acknowledged: the agent
   * must not send it again. */
  sonde_test_client_send (agent, "{\"type\":\"metrics\",\"data\":{\"timestamp\":\"2024-01-01T12:00:00Z\","
                                 "\"cpu\":{\"usage\":101}}}");
  expect_agent_error (agent, "Invalid report: cpu.usage");
  /* (The earlier ones with a readable time were acknowledged too.) */
  while (!g_str_equal (json_object_get_string_member (sonde_test_client_next (agent, "ack", NULL), "timestamp"),
                       "2024-01-01T12:00:00.000Z"))
    ;

  /* A shared token's agent is known by its hostname: it must send one. */
  sonde_test_client_send (shared, "{\"type\":\"metrics\",\"data\":{\"cpu\":{\"usage\":1}}}");
  expect_agent_error (shared, "Invalid report: hostname: missing");

  /* Nothing of it reached the dashboards, and the connection lives on. */
  g_assert_cmpint (status_count (server, "servers"), ==, 1);
  g_assert_cmpint (status_count (server, "reports_rejected"), ==, G_N_ELEMENTS (bad_messages) + 6);
  g_assert_false (agent->closed);
  sonde_test_spin_for (500);
  send_report (agent, past_second (), "host-one", 12.5, 0);
  sonde_test_client_next (agent, "ack", NULL);
  {
    JsonObject *frame = next_metrics_of (dashboard, a1_id);
    JsonObject *metrics = json_object_get_object_member (json_object_get_object_member (frame, "data"), "metrics");

    g_assert_cmpfloat (json_object_get_double_member (json_object_get_object_member (metrics, "cpu"), "usage"), ==, 12.5);
  }
  /* No metrics message came before it: all were refused. */
  g_assert_cmpuint (sonde_test_client_count (dashboard, "metrics", NULL), ==, 0);

  sonde_test_client_free (shared);
  sonde_test_client_free (agent);
  sonde_test_client_free (dashboard);
  sonde_test_server_free (server);
}

static void
test_agent_flood (void)
{
  SondeTestServer *server = hub_new ("");
  g_autofree char *a2_id = _sonde_vstats_make_agent_id ("a2");
  SondeTestClient *flooder = agent_connect (server, TOKEN_A1);
  SondeTestClient *calm = agent_connect (server, TOKEN_A2);
  SondeTestClient *dashboard = sonde_test_client_new_for_path (server, "/ws");
  gint64 t = past_second () - 200 * G_USEC_PER_SEC;
  gint64 accepted;

  for (guint i = 0; i < 100; i++)
    send_report (flooder, t + i * G_USEC_PER_SEC, "flood", 1, 0);
  /* Refused from the 21st report on, with one error a second. */
  expect_agent_error (flooder, "Too many reports: at most 12 a second");
  sonde_test_spin_for (1000);

  /* The burst went through, then at most 12 a second. */
  accepted = status_count (server, "reports_accepted");
  g_assert_cmpint (accepted, >=, SONDE_VSTATS_REPORT_BURST);
  g_assert_cmpint (accepted, <, 50);
  g_assert_cmpint (status_count (server, "reports_rate_limited"), >=, 20);

  /* The other agent is served as ever. */
  send_report (calm, past_second (), "calm", 33.0, 0);
  sonde_test_client_next (calm, "ack", NULL);
  next_metrics_of (dashboard, a2_id);
  g_assert_false (flooder->closed);

  sonde_test_client_free (dashboard);
  sonde_test_client_free (calm);
  sonde_test_client_free (flooder);
  sonde_test_server_free (server);
}

/* Identity, online, offline, removed ---------------------------------------- */

static void
test_agent_identity (void)
{
  SondeTestServer *server = hub_new ("");
  g_autofree char *web1_id = _sonde_vstats_make_agent_id ("web-1");
  g_autofree char *web2_id = _sonde_vstats_make_agent_id ("web-2");
  SondeTestClient *dashboard = sonde_test_client_new_for_path (server, "/ws");
  SondeTestClient *one = agent_connect (server, TOKEN_SHARED);
  SondeTestClient *two = agent_connect (server, TOKEN_SHARED);
  SondeTestClient *again;
  JsonObject *data;

  send_report (one, past_second (), "web-1", 1, 0);
  send_report (two, past_second (), "web-2", 2, 0);
  next_metrics_of (dashboard, web1_id);
  next_metrics_of (dashboard, web2_id);
  data = json_object_get_object_member (next_about (dashboard, "server_added", web1_id), "data");
  g_assert_cmpstr (json_object_get_string_member (data, "name"), ==, "web-1");
  g_assert_cmpstr (json_object_get_string_member (data, "location"), ==, "");
  g_assert_cmpint (status_count (server, "servers"), ==, 3);

  /* A report of a few members still has the four sections of the
   * dashboards' shape, empty, and nothing else. */
  {
    g_autofree char *tiny_id = _sonde_vstats_make_agent_id ("tiny");
    SondeTestClient *tiny = agent_connect (server, TOKEN_SHARED);
    JsonObject *metrics;

    sonde_test_client_send (tiny, "{\"type\":\"metrics\",\"data\":{\"hostname\":\"tiny\","
                                  "\"cpu\":{\"usage\":3,\"extra\":\"dropped\"},\"colour\":\"red\"}}");
    metrics = json_object_get_object_member (json_object_get_object_member (next_metrics_of (dashboard, tiny_id),
                                                                            "data"), "metrics");
    {
      g_autofree char *json = sonde_test_to_json (metrics);

      g_assert_cmpstr (json, ==, "{\"cpu\":{\"usage\":3.0},\"memory\":{},\"disks\":[],\"network\":{},"
                                 "\"hostname\":\"tiny\"}");
    }
    sonde_test_client_free (tiny);
  }

  /* A connection does not change its hostname. */
  send_report (one, past_second () + G_USEC_PER_SEC, "web-2", 1, 0);
  expect_agent_error (one, "hostname: differs from the earlier reports");

  /* A newer connection of the same server takes over (the older may be
   * dead without knowing it). */
  again = agent_connect (server, TOKEN_SHARED);
  send_report (again, past_second () + 2 * G_USEC_PER_SEC, "web-1", 3, 0);
  assert_closed_with (one, SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION, "replaced by a newer connection");
  sonde_test_client_next (again, "ack", NULL);
  g_assert_cmpint (status_count (server, "servers"), ==, 4);

  sonde_test_client_free (again);
  sonde_test_client_free (two);
  sonde_test_client_free (one);
  sonde_test_client_free (dashboard);
  sonde_test_server_free (server);
}

static void
test_agent_offline_then_removed (void)
{
  SondeTestServer *server = hub_new ("[hub]\noffline-after-seconds=1\nremove-after-seconds=2\n");
  g_autofree char *a1_id = _sonde_vstats_make_agent_id ("a1");
  SondeTestClient *dashboard = sonde_test_client_new_for_path (server, "/ws");
  SondeTestClient *agent = agent_connect (server, TOKEN_A1);
  JsonObject *data;
  gint64 online_at, offline_at;

  /* A heartbeat alone makes a named agent's server known and online. */
  sonde_test_client_send (agent, "{\"type\":\"heartbeat\",\"timestamp\":\"2024-01-01T12:00:00Z\"}");
  next_about (dashboard, "server_added", a1_id);
  data = json_object_get_object_member (next_about (dashboard, "status", a1_id), "data");
  g_assert_true (json_object_get_boolean_member (data, "online"));
  online_at = g_get_monotonic_time ();

  /* Then silence: offline after a second, removed after two. */
  data = json_object_get_object_member (next_about (dashboard, "status", a1_id), "data");
  offline_at = g_get_monotonic_time ();
  g_assert_false (json_object_get_boolean_member (data, "online"));
  g_assert_cmpint (offline_at - online_at, >=, G_USEC_PER_SEC - G_USEC_PER_SEC / 10);
  data = json_object_get_object_member (sonde_test_client_next (dashboard, "server_removed", NULL), "data");
  sonde_test_assert_members (data, "id");
  g_assert_cmpstr (json_object_get_string_member (data, "id"), ==, a1_id);
  g_assert_cmpint (status_count (server, "servers"), ==, 1);

  /* It speaks again: the same server, added anew. */
  send_report (agent, past_second (), "x", 5, 0);
  next_about (dashboard, "server_added", a1_id);
  next_metrics_of (dashboard, a1_id);

  sonde_test_client_free (agent);
  sonde_test_client_free (dashboard);
  sonde_test_server_free (server);
}

/* Replays, history, other hosts on the REST routes and the native protocol --- */

static void
test_agent_replay_order (void)
{
  SondeTestServer *server = hub_new ("");
  g_autofree char *a1_id = _sonde_vstats_make_agent_id ("a1");
  SondeTestClient *dashboard = sonde_test_client_new_for_path (server, "/ws");
  SondeTestClient *agent = agent_connect (server, TOKEN_A1);
  gint64 t = past_second ();
  JsonArray *points;

  /* The newest first (what SondeAgent does on reconnection), then the
   * older ones in order, then one again. */
  send_report (agent, t + 3 * G_USEC_PER_SEC, "h", 40, 4000);
  send_report (agent, t, "h", 10, 1000);
  send_report (agent, t + G_USEC_PER_SEC, "h", 20, 2000);
  send_report (agent, t + 2 * G_USEC_PER_SEC, "h", 30, 3000);
  send_report (agent, t + G_USEC_PER_SEC, "h", 20, 2000);
  for (guint i = 0; i < 5; i++)
    sonde_test_client_next (agent, "ack", NULL);

  /* The dashboards show the latest only. */
  sonde_test_spin_for (200);
  g_assert_cmpuint (sonde_test_client_count (dashboard, "metrics", NULL), ==, 1);
  g_assert_cmpint (sonde_test_parse_timestamp (json_object_get_string_member (next_metrics_of (dashboard, a1_id),
                                                                              "timestamp")), ==,
                   t / 1000 + 3000);
  g_assert_cmpint (status_count (server, "reports_accepted"), ==, 4);
  g_assert_cmpint (status_count (server, "reports_replayed"), ==, 3);
  g_assert_cmpint (status_count (server, "reports_duplicate"), ==, 1);

  /* History has each in its place, oldest first. */
  {
    g_autofree char *path = g_strdup_printf ("/api/v1/history?host=a1&metric=cpu.usage_percent&seconds=60");
    g_autoptr(SondeTestResponse) response = sonde_test_http (server, "GET", path);

    g_assert_cmpuint (response->status, ==, 200);
    g_assert_cmpstr (json_object_get_string_member (response->json, "host"), ==, "a1");
    points = json_object_get_array_member (response->json, "points");
    g_assert_cmpuint (json_array_get_length (points), ==, 4);
    for (guint i = 0; i < 4; i++)
      {
        JsonArray *point = json_array_get_array_element (points, i);

        g_assert_cmpint (json_array_get_int_element (point, 0), ==, t / 1000 + i * 1000);
        g_assert_cmpfloat (json_array_get_double_element (point, 1), ==, 10.0 * (i + 1));
      }
  }
  /* Rates derived from the totals, whatever order they came in. */
  {
    g_autoptr(SondeTestResponse) response =
      sonde_test_http (server, "GET", "/api/v1/history?host=a1&metric=network.rx_bytes_per_sec&seconds=60");

    points = json_object_get_array_member (response->json, "points");
    g_assert_cmpuint (json_array_get_length (points), ==, 4);
    g_assert_cmpfloat (json_array_get_double_element (json_array_get_array_element (points, 2), 1), ==, 1000);
    g_assert_cmpfloat (json_array_get_double_element (json_array_get_array_element (points, 3), 1), ==, 1000);
  }

  /* Other metrics are not kept. */
  {
    g_autoptr(SondeTestResponse) unknown = sonde_test_http (server, "GET", "/api/v1/history?host=nope&metric=cpu.usage_percent");
    g_autoptr(SondeTestResponse) no_metric = sonde_test_http (server, "GET", "/api/v1/history?host=a1&metric=cpu.brand");

    g_assert_cmpuint (unknown->status, ==, 404);
    g_assert_cmpstr (sonde_test_response_get_code (unknown), ==, "unknown_host");
    g_assert_cmpuint (no_metric->status, ==, 404);
    g_assert_cmpstr (sonde_test_response_get_code (no_metric), ==, "unknown_metric");
  }

  sonde_test_client_free (agent);
  sonde_test_client_free (dashboard);
  sonde_test_server_free (server);
}

static void
test_native_host (void)
{
  SondeTestServer *server = sonde_test_server_new_with_plugins ("cpu", "memory", "host", NULL);
  SondeTestClient *agent, *native, *unknown, *events;
  JsonObject *frame, *data;
  gint64 t;

  if (server == NULL)
    return;
  configure (server, hub_config);

  /* Servers coming and going are native events too. */
  events = sonde_test_client_new (server, "events=server_added,server_status&metrics=cpu.cores");
  agent = agent_connect (server, TOKEN_A2);
  send_report (agent, past_second (), "remote", 77.0, 0);
  sonde_test_client_next (agent, "ack", NULL);
  {
    g_autofree char *a2_id = _sonde_vstats_make_agent_id ("a2");
    JsonObject *event = sonde_test_client_next (events, "event", NULL);

    g_assert_cmpstr (json_object_get_string_member (event, "event"), ==, "server_added");
    g_assert_cmpstr (json_object_get_string_member (event, "source"), ==, "vstats");
    sonde_test_assert_members (json_object_get_object_member (event, "data"), "id,location,name");
    g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (event, "data"), "id"), ==, a2_id);
    event = sonde_test_client_next (events, "event", NULL);
    g_assert_cmpstr (json_object_get_string_member (event, "event"), ==, "server_status");
    g_assert_true (json_object_get_boolean_member (json_object_get_object_member (event, "data"), "online"));
  }
  sonde_test_client_free (events);

  native = sonde_test_client_new (server, "host=a2&metrics=cpu.usage_percent,host.hostname");
  unknown = sonde_test_client_new (server, "host=nope");
  sonde_test_client_expect_error (unknown, "invalid_subscription");

  /* Each new report of the host is a snapshot of the subscription. */
  t = (g_get_real_time () / G_USEC_PER_SEC) * G_USEC_PER_SEC;
  send_report (agent, t, "remote", 88.0, 0);
  frame = sonde_test_client_next (native, "snapshot", "default");
  g_assert_cmpint (sonde_test_parse_timestamp (json_object_get_string_member (frame, "timestamp")), ==, t / 1000);
  data = sonde_test_snapshot_data (frame);
  {
    g_autofree char *metrics = sonde_test_metrics_of (data);

    g_assert_cmpstr (metrics, ==, "cpu.usage_percent,host.hostname");
  }
  g_assert_cmpfloat (json_object_get_double_member (json_object_get_object_member (data, "cpu"), "usage_percent"), ==, 88);
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (data, "host"), "hostname"), ==, "remote");

  /* As a subscribe member too; history is refused for other hosts. */
  sonde_test_client_send (native, "{\"type\":\"subscribe\",\"id\":\"h\",\"host\":\"a2\",\"history_seconds\":5}");
  sonde_test_client_expect_error (native, "invalid_subscription");
  sonde_test_client_send (native, "{\"type\":\"subscribe\",\"id\":\"m\",\"host\":\"a2\",\"metrics\":[\"memory.*\"]}");
  sonde_test_client_ping (native);
  send_report (agent, t + G_USEC_PER_SEC, "remote", 89.0, 0);
  frame = sonde_test_client_next (native, "snapshot", "m");
  g_assert_cmpint (json_object_get_int_member (json_object_get_object_member (sonde_test_snapshot_data (frame), "memory"),
                                               "total_bytes"), ==, G_GINT64_CONSTANT (17179869184));

  /* The latest as a native snapshot, by name or id: the metric names are
   * those of the hub's catalog. */
  {
    g_autofree char *a2_id = _sonde_vstats_make_agent_id ("a2");
    g_autofree char *by_id = g_strdup_printf ("/api/v1/snapshot?host=%s&metrics=cpu.usage_percent,memory.total_bytes", a2_id);
    g_autoptr(SondeTestResponse) response = sonde_test_http (server, "GET", by_id);
    g_autoptr(SondeTestResponse) by_name = sonde_test_http (server, "GET", "/api/v1/snapshot?host=a2&metrics=host.*");
    g_autoptr(SondeTestResponse) unknown = sonde_test_http (server, "GET", "/api/v1/snapshot?host=nope");
    JsonObject *data;

    g_assert_cmpuint (response->status, ==, 200);
    data = json_object_get_object_member (response->json, "data");
    {
      g_autofree char *metrics = sonde_test_metrics_of (data);

      g_assert_cmpstr (metrics, ==, "cpu.usage_percent,memory.total_bytes");
    }
    g_assert_cmpfloat (json_object_get_double_member (json_object_get_object_member (data, "cpu"), "usage_percent"), ==, 89);
    g_assert_cmpuint (by_name->status, ==, 200);
    data = json_object_get_object_member (json_object_get_object_member (by_name->json, "data"), "host");
    g_assert_cmpstr (json_object_get_string_member (data, "hostname"), ==, "remote");
    g_assert_cmpstr (json_object_get_string_member (data, "os_name"), ==, "Ubuntu");
    g_assert_cmpint (json_object_get_int_member (data, "uptime_seconds"), ==, 86400);
    g_assert_cmpuint (unknown->status, ==, 404);
    g_assert_cmpstr (sonde_test_response_get_code (unknown), ==, "unknown_host");
  }

  sonde_test_client_free (unknown);
  sonde_test_client_free (native);
  sonde_test_client_free (agent);
  sonde_test_server_free (server);
}

/* SondeAgent ----------------------------------------------------------------- */

static void
notify_connected_cb (SondeAgent *agent,
                     GParamSpec *pspec,
                     guint      *n_changes)
{
  (*n_changes)++;
}

/* The agent buffers while no hub listens, and replays it all to the hub
 * that comes up on the same port: every second is there, in order. */
static void
test_sonde_agent_replays (void)
{
  SondeTestServer *hub = sonde_test_server_new_with_plugins ("cpu", "memory", "network", "host", NULL);
  g_autoptr(SondeEngine) engine = NULL;
  g_autoptr(SondeAgent) agent = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *url = NULL;
  g_autofree char *history_path = NULL;
  g_autoptr(SondeTestResponse) response = NULL;
  g_autoptr(JsonArray) before = NULL;
  SondeServer *second_hub;
  JsonArray *points;
  guint port, n_changes = 0, n_buffered;
  gint64 last_before_s, first_s, last_s;

  if (hub == NULL)
    return;
  configure (hub, hub_config);
  port = sonde_server_get_port (hub->server);
  url = g_strdup_printf ("ws://127.0.0.1:%u/ws/agent", port);

  g_assert_null (sonde_agent_new (hub->engine, "http://127.0.0.1/ws/agent", &error));
  g_assert_error (error, SONDE_ERROR, SONDE_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  /* The agent's own engine, as another machine's sonded. */
  engine = sonde_engine_new ();
  sonde_engine_load_plugins (engine, NULL);
  agent = sonde_agent_new (engine, url, &error);
  g_assert_no_error (error);
  sonde_agent_set_token (agent, TOKEN_A1);
  g_signal_connect (agent, "notify::connected", G_CALLBACK (notify_connected_cb), &n_changes);
  sonde_agent_start (agent);
  sonde_test_wait_until (sonde_agent_get_connected (agent));
  sonde_test_wait_until (status_count (hub, "reports_accepted") >= 2);

  /* The hub goes away for a few seconds; what it had last, it had taken
   * and acknowledged (read in-process: no report comes in meanwhile). */
  before = _sonde_server_get_host_history (hub->server, "a1", "cpu.cores", 60, NULL);
  g_assert_cmpuint (json_array_get_length (before), >=, 2);
  last_before_s = json_array_get_int_element (json_array_get_array_element (before, json_array_get_length (before) - 1), 0) / 1000;
  sonde_server_disconnect (hub->server);
  g_clear_object (&hub->server);
  sonde_test_wait_until (!sonde_agent_get_connected (agent));
  sonde_test_spin_for (3500);
  n_buffered = sonde_agent_get_n_buffered (agent);
  g_assert_cmpuint (n_buffered, >=, 3);

  second_hub = sonde_server_new (hub->engine);
  hub->server = second_hub;
  configure (hub, hub_config);
  g_assert_true (sonde_server_listen (second_hub, "127.0.0.1", port, &error));
  g_assert_no_error (error);
  sonde_test_wait_until_full (sonde_agent_get_connected (agent), 20000);
  /* All of it acknowledged: nothing left to replay. */
  sonde_test_wait_until (sonde_agent_get_n_buffered (agent) <= 1);
  g_assert_cmpuint (sonde_agent_get_n_dropped (agent), ==, 0);
  g_assert_cmpuint (n_changes, >=, 3);

  history_path = g_strdup_printf ("/api/v1/history?host=a1&metric=cpu.cores&seconds=60");
  response = sonde_test_http (hub, "GET", history_path);
  g_assert_cmpuint (response->status, ==, 200);
  points = json_object_get_array_member (response->json, "points");
  first_s = json_array_get_int_element (json_array_get_array_element (points, 0), 0) / 1000;
  last_s = json_array_get_int_element (json_array_get_array_element (points, json_array_get_length (points) - 1), 0) / 1000;
  /* From the last report the first hub had to now, not a second
   * missing: what the second hub has starts where the first one's ended. */
  g_assert_cmpint (first_s, ==, last_before_s + 1);
  g_assert_cmpint (last_s - first_s + 1, >=, n_buffered);
  g_assert_cmpint (json_array_get_length (points), ==, last_s - first_s + 1);
  for (guint i = 0; i < json_array_get_length (points); i++)
    {
      JsonArray *point = json_array_get_array_element (points, i);

      g_assert_cmpint (json_array_get_int_element (point, 0) / 1000, ==, first_s + i);
      g_assert_cmpfloat (json_array_get_double_element (point, 1), ==, latest_int (engine, "cpu", "cores"));
    }

  sonde_agent_stop (agent);
  g_assert_false (sonde_agent_get_connected (agent));
  sonde_test_server_free (hub);
}

/* Settings ---------------------------------------------------------------- */

static void
test_config_errors (void)
{
  static const struct
  {
    const char *text;
    const char *error;
  } cases[] = {
    { "[hub]\noffline=3\n", "[hub] offline: unknown key" },
    { "[hub]\noffline-after-seconds=0\n", "[hub] offline-after-seconds: 0 is not a number of seconds (1-86400)" },
    { "[hub]\nhistory-seconds=4000\n", "[hub] history-seconds: 4000 is not a number of seconds (0-3600)" },
    { "[hub]\noffline-after-seconds=60\nremove-after-seconds=30\n",
      "[hub] remove-after-seconds: 30 is less than offline-after-seconds (60)" },
    { "[hub]\nagent-tokens=short\n", "[hub] agent-tokens: a token has at least 16 characters" },
    { "[hub]\nagent-tokens=" TOKEN_SHARED ";" TOKEN_SHARED "\n", "[hub] agent-tokens: lists a token twice" },
    { "[agent web 1]\ntoken=" TOKEN_A1 "\n", "[agent web 1]: an agent's name is 1-64 letters" },
    { "[agent web-1]\nlocation=x\n", "[agent web-1] token: missing" },
    { "[agent web-1]\ntoken=" TOKEN_A1 "\ncolour=red\n", "[agent web-1] colour: unknown key" },
    { "[agent web-1]\ntoken=has space in the token ok\n", "[agent web-1] token: a token is printable ASCII" },
    { "[agent a]\ntoken=" TOKEN_A1 "\n[agent b]\ntoken=" TOKEN_A1 "\n", "[agent b] token: is also the token of [agent a]" },
    { "[hub]\nagent-tokens=" TOKEN_A1 "\n[agent b]\ntoken=" TOKEN_A1 "\n", "[agent b] token: is also one of [hub] agent-tokens" },
    /* Found by tests/fuzz/fuzz-config: an invalid escape before a final
     * backslash made GLib 2.74 set its error twice, with a warning. */
    { "[agent r]\ntoken=[ag\\#\\\\\\\n", "[agent r] token: \\# is not an escape sequence" },
    { "[agent r]\ntoken=" TOKEN_A1 "\\\n", "[agent r] token: ends with a backslash" },
    { "[agent r]\ntoken=" TOKEN_A1 "\nlocation=a\\qb\n", "[agent r] location: \\q is not an escape sequence" },
    { "[hub]\nagent-tokens=" TOKEN_A1 "\\x;" TOKEN_SHARED "\n", "[hub] agent-tokens: \\x is not an escape sequence" },
  };
  g_autoptr(SondeEngine) engine = sonde_engine_new ();
  g_autoptr(SondeServer) server = sonde_server_new (engine);

  g_assert_true (sonde_server_handles_config_group ("hub"));
  g_assert_true (sonde_server_handles_config_group ("agent web-1"));
  g_assert_false (sonde_server_handles_config_group ("agent "));
  g_assert_false (sonde_server_handles_config_group ("agent-of"));
  g_assert_false (sonde_server_handles_config_group ("agents"));

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GKeyFile) keyfile = g_key_file_new ();
      g_autoptr(GError) error = NULL;

      g_assert_true (g_key_file_load_from_data (keyfile, cases[i].text, -1, G_KEY_FILE_NONE, NULL));
      g_assert_false (sonde_server_configure (server, keyfile, &error));
      g_assert_error (error, SONDE_ERROR, SONDE_ERROR_INVALID_ARGUMENT);
      if (!g_str_has_prefix (error->message, cases[i].error))
        g_error ("%s: expected '%s', got '%s'", cases[i].text, cases[i].error, error->message);
      /* A token is never repeated in a message. */
      g_assert_null (strstr (error->message, TOKEN_A1));
      g_assert_null (strstr (error->message, TOKEN_SHARED));
    }
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/vstats/dashboard/local", test_dashboard_local);
  g_test_add_func ("/vstats/agent/report", test_agent_report_reaches_dashboard);
  g_test_add_func ("/vstats/agent/bad-tokens", test_agent_bad_tokens);
  g_test_add_func ("/vstats/agent/malformed", test_agent_malformed);
  g_test_add_func ("/vstats/agent/flood", test_agent_flood);
  g_test_add_func ("/vstats/agent/identity", test_agent_identity);
  g_test_add_func ("/vstats/agent/offline-then-removed", test_agent_offline_then_removed);
  g_test_add_func ("/vstats/agent/replay-order", test_agent_replay_order);
  g_test_add_func ("/vstats/native-host", test_native_host);
  g_test_add_func ("/vstats/sonde-agent/replays", test_sonde_agent_replays);
  g_test_add_func ("/vstats/config-errors", test_config_errors);

  return g_test_run ();
}
