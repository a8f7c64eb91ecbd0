/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * bench-vstats: many agents and a few dashboards on one running vstats hub.
 *
 * Opens N agent connections (/ws/agent?token=T&ack=1, libsoup's WebSocket
 * client) that each send the seed's metrics report once a second as
 * "bench-NNNN" (a shared [hub] agent-tokens token), and D dashboards (/ws)
 * that receive every server's metrics messages. After a warm-up it
 * measures for a while:
 *
 *   - reports sent with a timestamp in the window, against the reports of
 *     that window each dashboard received (lost = sent - received) and the
 *     hub acknowledged;
 *   - the latency from report to dashboard: the time a dashboard got the
 *     metrics message minus the report's own timestamp (the time the agent
 *     sent it, to the millisecond);
 *   - the hub's CPU and RSS (--pid) over the window, and its own CPU: it
 *     shares the machine with the hub.
 *
 * It prints figures and never judges them.
 *
 *   bench-vstats [-n 1000] [-D 10] [-d 60] [--aligned] --token T --pid PID ws://127.0.0.1:PORT
 *
 * run-vstats.sh starts a hub, runs this against it and stops it.
 */

#define _GNU_SOURCE   /* memmem */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

static int n_agents = 1000;
static int n_dashboards = 10;
static int duration_s = 60;
static int warmup_s = 5;
static int grace_s = 3;
static int pid = 0;
static int parallel = 16;
static char *token = NULL;
static gboolean aligned = FALSE;

/* See bench-fanout.c: libsoup re-creates a connection's input source at
 * every read, and a context's poll records are a sorted list. */
#define AGENTS_PER_THREAD 500
/* Each dashboard reads every agent's messages: 1,000 a second for 1,000
 * agents. A thread per two keeps the reading from lagging behind. */
#define DASHBOARDS_PER_THREAD 2

typedef struct _Worker Worker;

typedef struct
{
  Worker                  *worker;
  guint                    index;
  SoupWebsocketConnection *ws;
  gint64                   next_send_us;
  guint64                  sent_in_window;
  guint64                  acked_in_window;
  guint64                  errors;
  gboolean                 closing;
} Agent;

typedef struct
{
  gint64 timestamp_ms;
  gint64 received_us;
  gint   agent;        /* -1: the hub's own host */
} Record;

typedef struct
{
  Worker                  *worker;
  SoupWebsocketConnection *ws;
  GArray                  *records;   /* Record */
  guint64                  messages;
  guint64                  bytes;
  gboolean                 closing;
} Dashboard;

struct _Worker
{
  GThread      *thread;
  GMainContext *context;
  SoupSession  *session;
  char         *base_url;
  Agent        *agents;
  guint         n_agents;
  Dashboard    *dashboards;
  guint         n_dashboards;
  guint         next_to_connect;
  gint          n_connected;
  gint          n_failed;
  guint         n_closed;
  char         *first_error;
  char         *first_error_frame;
};

static GHashTable *agent_by_id;   /* server id -> index + 1 */
static gint stopping = 0;
static gint in_flight = 0;
static gint64 window_start_ms = G_MAXINT64;
static gint64 window_end_ms = G_MAXINT64;

/* Timestamps ------------------------------------------------------------------ */

static char *
format_timestamp (gint64 ms)
{
  time_t seconds = ms / 1000;
  struct tm tm;
  char text[32];

  gmtime_r (&seconds, &tm);
  strftime (text, sizeof text, "%Y-%m-%dT%H:%M:%S", &tm);
  return g_strdup_printf ("%s.%03dZ", text, (int) (ms % 1000));
}

static gint64
days_from_civil (int y,
                 int m,
                 int d)
{
  int era, yoe, doy, doe;

  y -= m <= 2;
  era = (y >= 0 ? y : y - 399) / 400;
  yoe = y - era * 400;
  doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return (gint64) era * 146097 + doe - 719468;
}

/* "2026-11-22T10:30:00.123Z" -> ms since the epoch, or -1. */
static gint64
parse_timestamp_ms (const char *p,
                    gsize       length)
{
  int v[7] = { 0 };
  static const int at[7] = { 0, 5, 8, 11, 14, 17, 20 };
  static const int width[7] = { 4, 2, 2, 2, 2, 2, 3 };

  if (length < 24 || p[23] != 'Z')
    return -1;
  for (int i = 0; i < 7; i++)
    for (int j = 0; j < width[i]; j++)
      {
        if (!g_ascii_isdigit (p[at[i] + j]))
          return -1;
        v[i] = v[i] * 10 + (p[at[i] + j] - '0');
      }

  return ((days_from_civil (v[0], v[1], v[2]) * 24 + v[3]) * 60 + v[4]) * 60000 + v[5] * 1000 + v[6];
}

static char *
agent_id (guint index)
{
  g_autofree char *input = g_strdup_printf ("sonde-vstats-agent\nbench-%04u", index);
  g_autofree char *digest = g_compute_checksum_for_string (G_CHECKSUM_SHA256, input, -1);

  return g_strndup (digest, 16);
}

/* Agents ---------------------------------------------------------------------- */

/* The seed's report, with sonded's rates: about 1.1 KB. */
static GBytes *
build_report (guint  index,
              gint64 timestamp_ms)
{
  g_autofree char *timestamp = format_timestamp (timestamp_ms);
  gint64 total = (gint64) index * 1000000 + timestamp_ms;
  char *text;

  text = g_strdup_printf (
    "{\"type\":\"metrics\",\"data\":{\"timestamp\":\"%s\",\"hostname\":\"bench-%04u\","
    "\"os\":{\"name\":\"Debian GNU/Linux\",\"version\":\"12\",\"kernel\":\"6.1.0\",\"arch\":\"x86_64\"},"
    "\"cpu\":{\"brand\":\"Bench CPU\",\"cores\":8,\"usage\":%.1f,\"frequency\":3600,"
    "\"per_core\":[40.5,50.1,45.2,42.9,48.3,46.0,44.4,47.7]},"
    "\"memory\":{\"total\":17179869184,\"used\":8589934592,\"available\":8589934592,"
    "\"swap_total\":4294967296,\"swap_used\":1073741824,\"usage_percent\":50.0},"
    "\"disks\":[{\"name\":\"sda1\",\"mount_point\":\"/\",\"fs_type\":\"ext4\",\"total\":107374182400,"
    "\"used\":53687091200,\"available\":53687091200,\"usage_percent\":50.0}],"
    "\"network\":{\"rx\":1024.0,\"tx\":2048.0,\"interfaces\":[{\"name\":\"eth0\",\"rx\":%" G_GINT64_FORMAT
    ",\"tx\":536870912}],\"total_rx\":%" G_GINT64_FORMAT ",\"total_tx\":536870912},"
    "\"uptime\":86400,\"load_average\":{\"one\":0.5,\"five\":0.7,\"fifteen\":0.6}}}",
    timestamp, index, (double) (timestamp_ms / 1000 % 100), total, total);
  return g_bytes_new_take (text, strlen (text));
}

static void
agent_message_cb (SoupWebsocketConnection *ws,
                  int                      type,
                  GBytes                  *message,
                  Agent                   *agent)
{
  gsize length;
  const char *text = g_bytes_get_data (message, &length);
  const char *p;

  if (memmem (text, length, "\"type\":\"ack\"", 12) != NULL &&
      (p = memmem (text, length, "\"timestamp\":\"", 13)) != NULL)
    {
      gint64 ms = parse_timestamp_ms (p + 13, length - (p + 13 - text));

      if (ms >= window_start_ms && ms < window_end_ms)
        agent->acked_in_window++;
    }
  else if (memmem (text, length, "\"type\":\"error\"", 14) != NULL)
    {
      agent->errors++;
      if (agent->worker->first_error_frame == NULL)
        agent->worker->first_error_frame = g_strndup (text, MIN (length, 300));
    }
}

/* Every 5 ms: the agents whose second has come send their report. */
static gboolean
send_timer_cb (gpointer data)
{
  Worker *worker = data;
  gint64 now_us = g_get_real_time ();

  for (guint i = 0; i < worker->n_agents; i++)
    {
      Agent *agent = &worker->agents[i];
      g_autoptr(GBytes) report = NULL;
      gint64 timestamp_ms;

      if (agent->ws == NULL || agent->next_send_us > now_us ||
          soup_websocket_connection_get_state (agent->ws) != SOUP_WEBSOCKET_STATE_OPEN)
        continue;

      /* The time it was due: one report per second of each agent, as the
       * hub keeps them (the latency measured includes this program's own
       * lateness). */
      timestamp_ms = agent->next_send_us / 1000;
      report = build_report (agent->index, timestamp_ms);
      soup_websocket_connection_send_message (agent->ws, SOUP_WEBSOCKET_DATA_TEXT, report);
      if (timestamp_ms >= window_start_ms && timestamp_ms < window_end_ms)
        agent->sent_in_window++;
      do
        agent->next_send_us += G_USEC_PER_SEC;
      while (agent->next_send_us <= now_us);
    }

  return G_SOURCE_CONTINUE;
}

/* Dashboards ------------------------------------------------------------------ */

static void
dashboard_message_cb (SoupWebsocketConnection *ws,
                      int                      type,
                      GBytes                  *message,
                      Dashboard               *dashboard)
{
  gint64 received_us = g_get_real_time ();
  gsize length;
  const char *text = g_bytes_get_data (message, &length);
  const char *p, *end;
  Record record = { -1, received_us, -1 };

  dashboard->messages++;
  dashboard->bytes += length;

  /* Scanned, not parsed: the bench shares the CPUs with the hub. The
   * message's own "timestamp" is its last member. */
  if (length < 40 || memcmp (text, "{\"type\":\"metrics\"", 17) != 0)
    return;
  if ((p = memmem (text, length, "\"server_id\":\"", 13)) == NULL ||
      (end = memchr (p + 13, '"', length - (p + 13 - text))) == NULL)
    return;
  {
    g_autofree char *id = g_strndup (p + 13, end - (p + 13));

    record.agent = GPOINTER_TO_INT (g_hash_table_lookup (agent_by_id, id)) - 1;
  }
  /* ..."timestamp":"2026-11-22T10:30:00.123Z"} */
  if (memcmp (text + length - 39, "\"timestamp\":\"", 13) != 0)
    return;
  record.timestamp_ms = parse_timestamp_ms (text + length - 26, 24);
  g_array_append_val (dashboard->records, record);
}

/* Connecting ------------------------------------------------------------------- */

static void connect_more (Worker *worker);

typedef struct
{
  Worker    *worker;
  Agent     *agent;
  Dashboard *dashboard;
} Pending;

static void
connected_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  Pending *pending = user_data;
  Worker *worker = pending->worker;
  g_autoptr(GError) error = NULL;
  SoupWebsocketConnection *ws;

  g_atomic_int_add (&in_flight, -1);
  ws = soup_session_websocket_connect_finish (SOUP_SESSION (source), result, &error);
  if (ws == NULL)
    {
      if (worker->first_error == NULL)
        worker->first_error = g_strdup (error->message);
      g_atomic_int_inc (&worker->n_failed);
    }
  else if (pending->agent != NULL)
    {
      Agent *agent = pending->agent;
      gint64 now = g_get_real_time ();

      agent->ws = ws;
      g_signal_connect (ws, "message", G_CALLBACK (agent_message_cb), agent);
      /* Aligned: all at the top of each second, as sonded's ticks are;
       * else spread evenly over the second. */
      agent->next_send_us = (now / G_USEC_PER_SEC + 1) * G_USEC_PER_SEC +
                            (aligned ? 0 : (gint64) agent->index * G_USEC_PER_SEC / n_agents);
      g_atomic_int_inc (&worker->n_connected);
    }
  else
    {
      pending->dashboard->ws = ws;
      soup_websocket_connection_set_max_incoming_payload_size (ws, 4 * 1024 * 1024);
      g_signal_connect (ws, "message", G_CALLBACK (dashboard_message_cb), pending->dashboard);
      g_atomic_int_inc (&worker->n_connected);
    }

  g_free (pending);
  connect_more (worker);
}

static gboolean
take_slot (void)
{
  for (;;)
    {
      gint current = g_atomic_int_get (&in_flight);

      if (current >= parallel)
        return FALSE;
      if (g_atomic_int_compare_and_exchange (&in_flight, current, current + 1))
        return TRUE;
    }
}

static void
connect_more (Worker *worker)
{
  guint total = worker->n_agents + worker->n_dashboards;

  while (worker->next_to_connect < total && take_slot ())
    {
      guint i = worker->next_to_connect++;
      Pending *pending = g_new0 (Pending, 1);
      g_autofree char *url = NULL;
      g_autoptr(SoupMessage) msg = NULL;

      pending->worker = worker;
      if (i < worker->n_agents)
        {
          pending->agent = &worker->agents[i];
          url = g_strdup_printf ("%s/ws/agent?token=%s&ack=1", worker->base_url, token);
        }
      else
        {
          pending->dashboard = &worker->dashboards[i - worker->n_agents];
          url = g_strdup_printf ("%s/ws", worker->base_url);
        }
      msg = soup_message_new (SOUP_METHOD_GET, url);
      soup_session_websocket_connect_async (worker->session, msg, NULL, NULL, G_PRIORITY_DEFAULT,
                                            NULL, connected_cb, pending);
    }
}

static gboolean
connect_timer_cb (gpointer data)
{
  connect_more (data);
  return G_SOURCE_CONTINUE;
}

static gpointer
worker_main (gpointer data)
{
  Worker *worker = data;
  g_autoptr(GSource) connect_timer = g_timeout_source_new (5);
  g_autoptr(GSource) send_timer = g_timeout_source_new (5);

  g_main_context_push_thread_default (worker->context);
  worker->session = soup_session_new_with_options ("max-conns", parallel + 16,
                                                   "max-conns-per-host", parallel + 16,
                                                   "timeout", 0, "idle-timeout", 0, NULL);
  soup_session_set_proxy_resolver (worker->session, NULL);
  connect_more (worker);
  g_source_set_callback (connect_timer, connect_timer_cb, worker, NULL);
  g_source_attach (connect_timer, worker->context);
  g_source_set_callback (send_timer, send_timer_cb, worker, NULL);
  g_source_attach (send_timer, worker->context);

  while (!g_atomic_int_get (&stopping))
    g_main_context_iteration (worker->context, TRUE);

  g_source_destroy (connect_timer);
  g_source_destroy (send_timer);
  for (guint i = 0; i < worker->n_agents + worker->n_dashboards; i++)
    {
      SoupWebsocketConnection **ws = i < worker->n_agents ? &worker->agents[i].ws
                                                          : &worker->dashboards[i - worker->n_agents].ws;

      if (*ws == NULL)
        continue;
      /* Closed by the hub before the end: counted. */
      if (soup_websocket_connection_get_state (*ws) != SOUP_WEBSOCKET_STATE_OPEN)
        worker->n_closed++;
      g_signal_handlers_disconnect_matched (*ws, G_SIGNAL_MATCH_FUNC, 0, 0, NULL,
                                            i < worker->n_agents ? (gpointer) agent_message_cb
                                                                 : (gpointer) dashboard_message_cb, NULL);
      if (soup_websocket_connection_get_state (*ws) == SOUP_WEBSOCKET_STATE_OPEN)
        soup_websocket_connection_close (*ws, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
    }
  {
    gint64 deadline = g_get_monotonic_time () + G_USEC_PER_SEC;

    while (g_get_monotonic_time () < deadline)
      if (!g_main_context_iteration (worker->context, FALSE))
        g_usleep (1000);
  }
  for (guint i = 0; i < worker->n_agents; i++)
    g_clear_object (&worker->agents[i].ws);
  for (guint i = 0; i < worker->n_dashboards; i++)
    g_clear_object (&worker->dashboards[i].ws);
  g_clear_object (&worker->session);

  g_main_context_pop_thread_default (worker->context);
  return NULL;
}

/* The hub, from /proc and GET /status ------------------------------------------- */

typedef struct
{
  gint64 rss_kib;
  gint64 hwm_kib;
  gint64 cpu_ticks;
} ProcInfo;

static gboolean
read_proc_info (int       process,
                ProcInfo *info)
{
  g_autofree char *status_path = g_strdup_printf ("/proc/%d/status", process);
  g_autofree char *stat_path = g_strdup_printf ("/proc/%d/stat", process);
  g_autofree char *status = NULL;
  g_autofree char *stat = NULL;
  const char *p;

  memset (info, 0, sizeof *info);
  if (!g_file_get_contents (status_path, &status, NULL, NULL) ||
      !g_file_get_contents (stat_path, &stat, NULL, NULL))
    return FALSE;

  if ((p = strstr (status, "\nVmRSS:")) != NULL)
    info->rss_kib = g_ascii_strtoll (p + 7, NULL, 10);
  if ((p = strstr (status, "\nVmHWM:")) != NULL)
    info->hwm_kib = g_ascii_strtoll (p + 7, NULL, 10);
  if ((p = strrchr (stat, ')')) != NULL)
    {
      g_auto(GStrv) fields = g_strsplit (p + 2, " ", 0);

      if (g_strv_length (fields) > 13)
        info->cpu_ticks = g_ascii_strtoll (fields[11], NULL, 10) + g_ascii_strtoll (fields[12], NULL, 10);
    }
  return TRUE;
}

static JsonObject *
read_vstats_status (const char *base_url)
{
  g_autofree char *url = g_strdup_printf ("http%s/status", base_url + 2);
  g_autoptr(SoupSession) session = soup_session_new ();
  g_autoptr(SoupMessage) msg = soup_message_new (SOUP_METHOD_GET, url);
  g_autoptr(GBytes) body = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  JsonObject *root;

  soup_session_set_proxy_resolver (session, NULL);
  body = soup_session_send_and_read (session, msg, NULL, NULL);
  if (body == NULL ||
      !json_parser_load_from_data (parser, g_bytes_get_data (body, NULL), g_bytes_get_size (body), NULL))
    return NULL;
  root = json_node_get_object (json_parser_get_root (parser));
  return json_object_has_member (root, "vstats")
         ? json_object_ref (json_object_get_object_member (root, "vstats")) : NULL;
}

static int
compare_gint64 (gconstpointer a,
                gconstpointer b)
{
  gint64 x = *(const gint64 *) a, y = *(const gint64 *) b;

  return x < y ? -1 : x > y;
}

static double
percentile (GArray *sorted,
            double  p)
{
  if (sorted->len == 0)
    return 0;
  return g_array_index (sorted, gint64, MIN (sorted->len - 1, (guint) (p / 100.0 * sorted->len))) / 1000.0;
}

static double
cpu_seconds (void)
{
  struct rusage usage;

  getrusage (RUSAGE_SELF, &usage);
  return usage.ru_utime.tv_sec + usage.ru_stime.tv_sec +
         (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

int
main (int   argc,
      char *argv[])
{
  const GOptionEntry entries[] = {
    { "agents", 'n', 0, G_OPTION_ARG_INT, &n_agents, "Agents (default 1000)", "N" },
    { "dashboards", 'D', 0, G_OPTION_ARG_INT, &n_dashboards, "Dashboards (default 10)", "N" },
    { "duration", 'd', 0, G_OPTION_ARG_INT, &duration_s, "Seconds measured (default 60)", "S" },
    { "warmup", 'w', 0, G_OPTION_ARG_INT, &warmup_s, "Seconds before measuring (default 5)", "S" },
    { "grace", 0, 0, G_OPTION_ARG_INT, &grace_s, "Seconds to wait for the last messages (default 3)", "S" },
    { "pid", 0, 0, G_OPTION_ARG_INT, &pid, "The hub's PID, for its CPU and RSS", "PID" },
    { "token", 0, 0, G_OPTION_ARG_STRING, &token, "A [hub] agent-tokens token", "TOKEN" },
    { "aligned", 0, 0, G_OPTION_ARG_NONE, &aligned, "Every agent at the top of the second (as sonded's ticks)", NULL },
    { "parallel", 0, 0, G_OPTION_ARG_INT, &parallel, "Handshakes in flight (default 16)", "P" },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new ("ws://HOST:PORT");
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) workers = g_ptr_array_new ();
  g_autoptr(GArray) latencies = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autoptr(JsonObject) status_before = NULL;
  g_autoptr(JsonObject) status_after = NULL;
  Agent *agents;
  Dashboard *dashboards;
  ProcInfo before = { 0 }, after = { 0 };
  guint n_workers, n_agent_workers;
  gint connected = 0;
  guint64 sent = 0, acked = 0, agent_errors = 0, received_total = 0, local_messages = 0;
  gint64 deadline, own_cpu_start;
  double own_cpu;
  long ticks_per_second = sysconf (_SC_CLK_TCK);
  char *base_url;

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error) || argc != 2 || token == NULL)
    {
      g_printerr ("usage: bench-vstats [-n N] [-D N] [-d S] --token TOKEN [--pid PID] ws://HOST:PORT\n");
      return 2;
    }
  base_url = argv[1];
  if (g_str_has_suffix (base_url, "/"))
    base_url[strlen (base_url) - 1] = '\0';

  agent_by_id = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  agents = g_new0 (Agent, n_agents);
  dashboards = g_new0 (Dashboard, n_dashboards);
  for (int i = 0; i < n_agents; i++)
    {
      agents[i].index = i;
      g_hash_table_insert (agent_by_id, agent_id (i), GINT_TO_POINTER (i + 1));
    }

  /* The agents over N/500 threads; the dashboards in threads of their own. */
  n_agent_workers = (n_agents + AGENTS_PER_THREAD - 1) / AGENTS_PER_THREAD;
  n_workers = n_agent_workers + (n_dashboards + DASHBOARDS_PER_THREAD - 1) / DASHBOARDS_PER_THREAD;
  for (guint w = 0; w < n_workers; w++)
    {
      Worker *worker = g_new0 (Worker, 1);

      worker->context = g_main_context_new ();
      worker->base_url = base_url;
      if (w < n_agent_workers)
        {
          worker->agents = agents + w * AGENTS_PER_THREAD;
          worker->n_agents = MIN (AGENTS_PER_THREAD, n_agents - (int) (w * AGENTS_PER_THREAD));
          for (guint i = 0; i < worker->n_agents; i++)
            worker->agents[i].worker = worker;
        }
      else
        {
          guint first = (w - n_agent_workers) * DASHBOARDS_PER_THREAD;

          worker->dashboards = dashboards + first;
          worker->n_dashboards = MIN (DASHBOARDS_PER_THREAD, n_dashboards - (int) first);
          for (guint i = 0; i < worker->n_dashboards; i++)
            {
              worker->dashboards[i].worker = worker;
              worker->dashboards[i].records = g_array_sized_new (FALSE, FALSE, sizeof (Record),
                                                                 (guint) (n_agents + 1) * (duration_s + warmup_s + 10));
            }
        }
      g_ptr_array_add (workers, worker);
    }

  /* Dashboards first, so that they see every agent arrive. */
  for (guint w = n_agent_workers; w < n_workers; w++)
    {
      Worker *worker = g_ptr_array_index (workers, w);

      worker->thread = g_thread_new ("dashboards", worker_main, worker);
      deadline = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;
      while (g_atomic_int_get (&worker->n_connected) + g_atomic_int_get (&worker->n_failed) < (gint) worker->n_dashboards &&
             g_get_monotonic_time () < deadline)
        g_usleep (10000);
    }
  for (guint w = 0; w < n_agent_workers; w++)
    {
      Worker *worker = g_ptr_array_index (workers, w);

      worker->thread = g_thread_new ("agents", worker_main, worker);
    }

  deadline = g_get_monotonic_time () + 120 * G_USEC_PER_SEC;
  for (;;)
    {
      gint failed = 0;

      connected = 0;
      for (guint w = 0; w < n_workers; w++)
        {
          Worker *worker = g_ptr_array_index (workers, w);

          connected += g_atomic_int_get (&worker->n_connected);
          failed += g_atomic_int_get (&worker->n_failed);
        }
      if (connected + failed >= n_agents + n_dashboards || g_get_monotonic_time () > deadline)
        break;
      g_usleep (50000);
    }
  printf ("bench-vstats: %d agents (%s), %d dashboards: %d connected\n", n_agents,
          aligned ? "aligned on the second" : "spread over the second", n_dashboards, connected);

  /* The window: whole seconds, after the warm-up. */
  window_start_ms = (g_get_real_time () / G_USEC_PER_SEC + warmup_s) * 1000;
  window_end_ms = window_start_ms + (gint64) duration_s * 1000;
  while (g_get_real_time () / 1000 < window_start_ms)
    g_usleep (10000);
  if (pid > 0)
    read_proc_info (pid, &before);
  status_before = read_vstats_status (base_url);
  own_cpu_start = (gint64) (cpu_seconds () * 1e6);
  while (g_get_real_time () / 1000 < window_end_ms)
    g_usleep (50000);
  if (pid > 0)
    read_proc_info (pid, &after);
  own_cpu = cpu_seconds () - own_cpu_start / 1e6;
  g_usleep ((gulong) grace_s * G_USEC_PER_SEC);
  status_after = read_vstats_status (base_url);

  g_atomic_int_set (&stopping, 1);
  for (guint w = 0; w < n_workers; w++)
    {
      Worker *worker = g_ptr_array_index (workers, w);

      g_main_context_wakeup (worker->context);
      g_thread_join (worker->thread);
    }

  for (int i = 0; i < n_agents; i++)
    {
      sent += agents[i].sent_in_window;
      acked += agents[i].acked_in_window;
      agent_errors += agents[i].errors;
    }

  printf ("window: %d s; reports sent in it: %" G_GUINT64_FORMAT " (%.0f/s), acknowledged by the hub: %" G_GUINT64_FORMAT
          ", lost (not acknowledged): %" G_GUINT64_FORMAT ", error frames to agents: %" G_GUINT64_FORMAT "\n",
          duration_s, sent, (double) sent / duration_s, acked, sent - MIN (sent, acked), agent_errors);

  for (int d = 0; d < n_dashboards; d++)
    {
      Dashboard *dashboard = &dashboards[d];
      guint64 received = 0;

      for (guint i = 0; i < dashboard->records->len; i++)
        {
          Record *record = &g_array_index (dashboard->records, Record, i);

          if (record->timestamp_ms < window_start_ms || record->timestamp_ms >= window_end_ms)
            continue;
          if (record->agent < 0)
            {
              local_messages++;
              continue;
            }
          received++;
          g_array_append_val (latencies, (gint64) { record->received_us - record->timestamp_ms * 1000 });
        }
      received_total += received;
      if (d == 0 || received != sent)
        printf ("dashboard %d: %" G_GUINT64_FORMAT " agents' metrics messages of the window, lost %" G_GINT64_FORMAT
                "; %" G_GUINT64_FORMAT " messages, %.1f MB in all\n",
                d, received, (gint64) sent - (gint64) received, dashboard->messages, dashboard->bytes / 1e6);
    }
  printf ("dashboards: %" G_GUINT64_FORMAT " agents' messages (%.0f/s), %" G_GUINT64_FORMAT " of the hub's own; lost %" G_GINT64_FORMAT
          " of %" G_GUINT64_FORMAT "\n",
          received_total, (double) received_total / duration_s, local_messages,
          (gint64) sent * n_dashboards - (gint64) received_total, sent * n_dashboards);

  g_array_sort (latencies, compare_gint64);
  printf ("latency report -> dashboard (ms, report timestamps to the ms): p50 %.1f  p90 %.1f  p99 %.1f  p99.9 %.1f  max %.1f\n",
          percentile (latencies, 50), percentile (latencies, 90), percentile (latencies, 99),
          percentile (latencies, 99.9), percentile (latencies, 100));

  if (pid > 0)
    printf ("hub: CPU %.1f %% of one core over the window, RSS %.1f MiB at its end (peak %.1f MiB)\n",
            100.0 * (after.cpu_ticks - before.cpu_ticks) / ticks_per_second / duration_s,
            after.rss_kib / 1024.0, after.hwm_kib / 1024.0);
  printf ("bench-vstats itself: CPU %.1f %% of one core\n", 100.0 * own_cpu / duration_s);

  if (status_before != NULL && status_after != NULL)
    {
      static const char * const counters[] = {
        "reports_accepted", "reports_replayed", "reports_duplicate", "reports_rejected",
        "reports_rate_limited", "tokens_refused",
      };

      printf ("hub /status over the window and grace:");
      for (guint i = 0; i < G_N_ELEMENTS (counters); i++)
        printf (" %s +%" G_GINT64_FORMAT, counters[i],
                json_object_get_int_member (status_after, counters[i]) -
                json_object_get_int_member (status_before, counters[i]));
      printf ("; servers %" G_GINT64_FORMAT ", agents_connected %" G_GINT64_FORMAT "\n",
              json_object_get_int_member (status_after, "servers"),
              json_object_get_int_member (status_after, "agents_connected"));
    }

  for (guint w = 0; w < n_workers; w++)
    {
      Worker *worker = g_ptr_array_index (workers, w);

      if (worker->first_error != NULL)
        printf ("first connection error: %s (%d failed)\n", worker->first_error, worker->n_failed);
      if (worker->n_closed > 0)
        printf ("connections the hub closed: %u\n", worker->n_closed);
      if (worker->first_error_frame != NULL)
        printf ("first error frame: %s\n", worker->first_error_frame);
    }

  return 0;
}
