/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * bench-fanout: many WebSocket clients on one running sonded.
 *
 * Opens N connections (libsoup's WebSocket client) to the native protocol
 * of a running daemon, all with the same subscription -- the default one,
 * every metric at 1 s, unless --metrics/--interval-ms or a query in the URL
 * say otherwise -- and listens for D seconds. It reports frames received
 * against frames expected, seq gaps, delivery latency (the wall time a
 * frame is received minus its "timestamp", which is the tick it carries),
 * the daemon's RSS and CPU (--pid) and its own CPU, since it shares the
 * machine with the daemon. It prints figures and never judges them.
 *
 *   bench-fanout [-n 1000] [-d 30] [--pid PID] ws://127.0.0.1:PORT/ws/v1
 *
 * run-fanout.sh starts a daemon, runs this against it and stops it.
 */

#define _GNU_SOURCE   /* memmem */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

/* Options */
static int n_connections = 1000;
static int duration_s = 30;
static int pid = 0;
static int parallel = 8;
static int n_threads = 0;   /* 0: one per CONNECTIONS_PER_THREAD */
static int grace_s = 3;
static char *metrics = NULL;
static int n_groups = 1;
static int interval_ms = 0;
static gboolean parse_json = FALSE;
static gboolean offer_deflate = FALSE;

/*
 * Why several client threads: libsoup 3.2 destroys and re-creates a
 * connection's input GSource on every read, and GLib keeps a main
 * context's poll records in a list sorted by fd, so each frame received
 * costs a walk over every fd of that context. With all N connections in
 * one context a tick costs O(N^2): at 1 Hz one thread saturates a core near
 * 6000 connections. Spreading the connections over N/500 contexts keeps
 * the client's share of the CPUs small. (sonded does not pay this per frame
 * it sends: it only reads what clients send, which is rare.)
 */
#define CONNECTIONS_PER_THREAD 500

typedef struct _Worker Worker;

typedef struct
{
  Worker                  *worker;
  SoupWebsocketConnection *ws;
  gint64                   last_seq;     /* -1 before the first snapshot */
  gboolean                 closing;
} Connection;

/* One snapshot received: the tick it carries and when it arrived. */
typedef struct
{
  gint64 tick_ms;
  gint64 received_us;
} Record;

struct _Worker
{
  GThread      *thread;
  GMainContext *context;
  SoupSession  *session;
  char         *url;
  guint         first_index;     /* of its first connection, over all workers */
  Connection   *connections;
  guint         n_connections;
  guint         next_to_connect;
  gint          all_started;     /* atomic: every connection asked for */

  /* Results, read by the main thread once the worker stopped, or (the
   * counters) with atomics while it runs. */
  gint          n_connected;
  gint          n_deflate;       /* connections that negotiated permessage-deflate */
  gint          n_failed;
  char         *first_error;
  guint         n_closed;
  guint         first_close_code;
  guint64       frames_total;
  guint64       bytes_total;
  guint64       seq_gaps;
  guint64       seq_skipped;
  guint64       frames_with_dropped;
  guint64       error_frames;
  char         *first_error_frame;
  GArray       *records;         /* Record of every snapshot */
};

/* Set by the main thread when the workers must close and return. */
static gint stopping = 0;
/* Handshakes in flight, over all the workers. */
static gint in_flight = 0;
/* Every worker, for the one that passes on free handshake slots. */
static Worker *all_workers = NULL;
static int n_workers = 0;

/* Timestamps --------------------------------------------------------------- */

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant). */
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

static int
digits (const char *p,
        int         n)
{
  int value = 0;

  for (int i = 0; i < n; i++)
    {
      if (!g_ascii_isdigit (p[i]))
        return -1;
      value = value * 10 + (p[i] - '0');
    }
  return value;
}

/* "2026-11-22T10:30:00.123Z" -> ms since the epoch, or -1. */
static gint64
parse_timestamp_ms (const char *p,
                    gsize       length)
{
  int year, month, day, hour, minute, second, ms;

  if (length < 24 || p[4] != '-' || p[7] != '-' || p[10] != 'T' || p[13] != ':' ||
      p[16] != ':' || p[19] != '.' || p[23] != 'Z')
    return -1;

  year = digits (p, 4);
  month = digits (p + 5, 2);
  day = digits (p + 8, 2);
  hour = digits (p + 11, 2);
  minute = digits (p + 14, 2);
  second = digits (p + 17, 2);
  ms = digits (p + 20, 3);
  if (year < 0 || month < 1 || day < 1 || hour < 0 || minute < 0 || second < 0 || ms < 0)
    return -1;

  return ((days_from_civil (year, month, day) * 24 + hour) * 60 + minute) * 60000 +
         second * 1000 + ms;
}

/* Frames ----------------------------------------------------------------- */

typedef struct
{
  gboolean    snapshot;
  gboolean    error;
  gint64      seq;
  gint64      timestamp_ms;
  gint64      dropped;
} Frame;

/* Reads the top-level members that precede "data" without parsing the
 * whole frame: the client shares the CPUs with the daemon, and a full
 * parse of every frame would measure json-glib rather than sonded. The
 * daemon writes "type", "subscription", "seq" and "timestamp" before
 * "data" (and splices "dropped" in first). */
static gboolean
scan_frame (const char *text,
            gsize       length,
            Frame      *frame)
{
  const char *data = memmem (text, length, "\"data\":", 7);
  gsize head = data ? (gsize) (data - text) : length;
  const char *p;

  memset (frame, 0, sizeof *frame);
  frame->seq = -1;
  frame->timestamp_ms = -1;

  if (memmem (text, head, "\"type\":\"error\"", 14) != NULL)
    {
      frame->error = TRUE;
      return TRUE;
    }
  if (memmem (text, head, "\"type\":\"snapshot\"", 17) == NULL)
    return TRUE;
  frame->snapshot = TRUE;

  if ((p = memmem (text, head, "\"seq\":", 6)) != NULL)
    frame->seq = g_ascii_strtoll (p + 6, NULL, 10);
  if ((p = memmem (text, head, "\"timestamp\":\"", 13)) != NULL)
    frame->timestamp_ms = parse_timestamp_ms (p + 13, head - (p + 13 - text));
  if ((p = memmem (text, head, "\"dropped\":", 10)) != NULL)
    frame->dropped = g_ascii_strtoll (p + 10, NULL, 10);

  return frame->seq >= 0 && frame->timestamp_ms >= 0;
}

/* The same, with a full JSON parse (--json). */
static gboolean
parse_frame (const char *text,
             gsize       length,
             Frame      *frame)
{
  g_autoptr(JsonParser) parser = json_parser_new_immutable ();
  JsonObject *object;
  const char *type;

  memset (frame, 0, sizeof *frame);
  frame->seq = -1;
  frame->timestamp_ms = -1;

  if (!json_parser_load_from_data (parser, text, length, NULL) ||
      !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    return FALSE;

  object = json_node_get_object (json_parser_get_root (parser));
  type = json_object_get_string_member_with_default (object, "type", "");
  if (g_str_equal (type, "error"))
    frame->error = TRUE;
  if (!g_str_equal (type, "snapshot"))
    return TRUE;

  frame->snapshot = TRUE;
  frame->seq = json_object_get_int_member_with_default (object, "seq", -1);
  frame->dropped = json_object_get_int_member_with_default (object, "dropped", 0);
  if (json_object_has_member (object, "timestamp"))
    {
      const char *timestamp = json_object_get_string_member (object, "timestamp");

      if (timestamp != NULL)
        frame->timestamp_ms = parse_timestamp_ms (timestamp, strlen (timestamp));
    }

  return frame->seq >= 0 && frame->timestamp_ms >= 0;
}

static void
message_cb (SoupWebsocketConnection *ws,
            int                      type,
            GBytes                  *message,
            Connection              *conn)
{
  Worker *worker = conn->worker;
  gint64 received_us = g_get_real_time ();
  gsize length;
  const char *text = g_bytes_get_data (message, &length);
  Frame frame;
  gboolean ok;

  worker->frames_total++;
  worker->bytes_total += length;

  ok = parse_json ? parse_frame (text, length, &frame) : scan_frame (text, length, &frame);
  if (frame.error)
    {
      worker->error_frames++;
      if (worker->first_error_frame == NULL)
        worker->first_error_frame = g_strndup (text, MIN (length, 300));
      return;
    }
  if (!frame.snapshot)
    return;
  if (!ok)
    {
      worker->error_frames++;
      if (worker->first_error_frame == NULL)
        worker->first_error_frame = g_strdup_printf ("unreadable snapshot: %.*s",
                                                     (int) MIN (length, 200), text);
      return;
    }

  if (frame.dropped > 0)
    worker->frames_with_dropped++;
  if (conn->last_seq >= 0 && frame.seq != conn->last_seq + 1)
    {
      worker->seq_gaps++;
      if (frame.seq > conn->last_seq)
        worker->seq_skipped += frame.seq - conn->last_seq - 1;
    }
  conn->last_seq = frame.seq;

  /* Which of them fall in the measurement window is decided at the end. */
  g_array_append_vals (worker->records, &(Record) { frame.timestamp_ms, received_us }, 1);
}

static void
closed_cb (SoupWebsocketConnection *ws,
           Connection              *conn)
{
  if (conn->closing)
    return;

  conn->worker->n_closed++;
  if (conn->worker->first_close_code == 0)
    conn->worker->first_close_code = soup_websocket_connection_get_close_code (ws);
}

/* Connecting ---------------------------------------------------------------- */

static void connect_more (Worker *worker);

static void
connected_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  Connection *conn = user_data;
  Worker *worker = conn->worker;
  g_autoptr(GError) error = NULL;

  g_atomic_int_add (&in_flight, -1);
  conn->ws = soup_session_websocket_connect_finish (SOUP_SESSION (source), result, &error);
  if (conn->ws == NULL)
    {
      if (worker->first_error == NULL)
        worker->first_error = g_strdup (error->message);
      g_atomic_int_inc (&worker->n_failed);
    }
  else
    {
      soup_websocket_connection_set_max_incoming_payload_size (conn->ws, 4 * 1024 * 1024);
      for (GList *l = soup_websocket_connection_get_extensions (conn->ws); l != NULL; l = l->next)
        if (SOUP_IS_WEBSOCKET_EXTENSION_DEFLATE (l->data))
          g_atomic_int_inc (&worker->n_deflate);
      g_signal_connect (conn->ws, "message", G_CALLBACK (message_cb), conn);
      g_signal_connect (conn->ws, "closed", G_CALLBACK (closed_cb), conn);
      g_atomic_int_inc (&worker->n_connected);
    }

  connect_more (worker);
}

/* Takes one of the --parallel handshake slots shared by the workers. */
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

/* With --groups G, connection i subscribes to group i % G: the metrics
 * asked for plus a collector glob of its own that matches nothing, so
 * that the G groups' frames are the same bytes but each group is encoded
 * on its own (the daemon keys groups by their patterns). */
static char *
connection_url (const char *url,
                guint       index)
{
  g_autofree char *patterns = NULL;
  g_autofree char *escaped = NULL;

  if (n_groups <= 1)
    return g_strdup (url);

  patterns = g_strdup_printf ("%s,nogroup%u*", metrics ? metrics : "*", index % n_groups);
  escaped = g_uri_escape_string (patterns, ",*.?", FALSE);
  return g_strdup_printf ("%s%cmetrics=%s", url, strchr (url, '?') ? '&' : '?', escaped);
}

/* Slots left free by a worker with nothing more to connect go to one that
 * has: it is woken, and takes them after its iteration. Workers used to
 * poll for slots every 5 ms, each polling all of its sockets every time,
 * which was most of the client's CPU while connecting. */
static void
pass_free_slots (void)
{
  if (g_atomic_int_get (&in_flight) >= parallel)
    return;

  for (int t = 0; t < n_workers; t++)
    if (!g_atomic_int_get (&all_workers[t].all_started))
      {
        g_main_context_wakeup (all_workers[t].context);
        return;
      }
}

/* Keeps at most --parallel handshakes in flight over all the workers, as
 * dashboards coming one after another would (bench-storm opens them all
 * at once). */
static void
connect_more (Worker *worker)
{
  while (worker->next_to_connect < worker->n_connections && take_slot ())
    {
      guint index = worker->first_index + worker->next_to_connect;
      Connection *conn = &worker->connections[worker->next_to_connect++];
      g_autofree char *url = connection_url (worker->url, index);
      g_autoptr(SoupMessage) msg = soup_message_new (SOUP_METHOD_GET, url);

      conn->worker = worker;
      conn->last_seq = -1;
      soup_session_websocket_connect_async (worker->session, msg, NULL, NULL,
                                            G_PRIORITY_DEFAULT, NULL, connected_cb, conn);
    }

  if (worker->next_to_connect == worker->n_connections)
    {
      g_atomic_int_set (&worker->all_started, TRUE);
      pass_free_slots ();
    }
}

static gpointer
worker_main (gpointer data)
{
  Worker *worker = data;

  g_main_context_push_thread_default (worker->context);

  worker->session = soup_session_new_with_options ("max-conns", parallel + 16,
                                                   "max-conns-per-host", parallel + 16,
                                                   "timeout", 0,    /* long --interval-ms */
                                                   "idle-timeout", 0,
                                                   NULL);
  /* Browsers offer permessage-deflate; a server that accepts it compresses
   * every frame for every client. A libsoup 3.2 session offers nothing
   * until it has the extension manager, which brings deflate. */
  if (offer_deflate && !soup_session_has_feature (worker->session, SOUP_TYPE_WEBSOCKET_EXTENSION_MANAGER))
    soup_session_add_feature_by_type (worker->session, SOUP_TYPE_WEBSOCKET_EXTENSION_MANAGER);
  else if (!offer_deflate)
    soup_session_remove_feature_by_type (worker->session, SOUP_TYPE_WEBSOCKET_EXTENSION_MANAGER);
  connect_more (worker);

  while (!g_atomic_int_get (&stopping))
    {
      g_main_context_iteration (worker->context, TRUE);
      if (!g_atomic_int_get (&worker->all_started))
        connect_more (worker);
    }

  /* Close everything, and give the close handshakes a moment. */
  for (guint i = 0; i < worker->n_connections; i++)
    {
      Connection *conn = &worker->connections[i];

      if (conn->ws != NULL)
        {
          conn->closing = TRUE;
          if (soup_websocket_connection_get_state (conn->ws) == SOUP_WEBSOCKET_STATE_OPEN)
            soup_websocket_connection_close (conn->ws, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
        }
    }
  {
    gint64 deadline = g_get_monotonic_time () + G_USEC_PER_SEC;

    while (g_get_monotonic_time () < deadline)
      if (!g_main_context_iteration (worker->context, FALSE))
        g_usleep (1000);
  }
  for (guint i = 0; i < worker->n_connections; i++)
    {
      Connection *conn = &worker->connections[i];

      if (conn->ws != NULL)
        g_signal_handlers_disconnect_by_data (conn->ws, conn);
      g_clear_object (&conn->ws);
    }
  g_clear_object (&worker->session);

  g_main_context_pop_thread_default (worker->context);
  return NULL;
}

/* The daemon, seen from /proc and /status ---------------------------------- */

typedef struct
{
  gint64 rss_kib;
  gint64 cpu_ticks;      /* utime + stime */
  gint64 threads;
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
  if ((p = strstr (status, "\nThreads:")) != NULL)
    info->threads = g_ascii_strtoll (p + 9, NULL, 10);

  /* Fields after the ")" that ends comm: state is field 3, utime 14, stime 15. */
  if ((p = strrchr (stat, ')')) != NULL)
    {
      g_auto(GStrv) fields = g_strsplit (p + 2, " ", 0);

      if (g_strv_length (fields) > 13)
        info->cpu_ticks = g_ascii_strtoll (fields[11], NULL, 10) + g_ascii_strtoll (fields[12], NULL, 10);
    }
  return TRUE;
}

typedef struct
{
  gint64 messages_sent;
  gint64 frames_dropped;
  gint64 clients;
  gint64 groups;
  gint64 frames_encoded;
  gint64 frames_framed;
} Status;

static gboolean
read_status (SoupSession *session,
             const char  *status_url,
             Status      *status)
{
  g_autoptr(SoupMessage) msg = soup_message_new (SOUP_METHOD_GET, status_url);
  g_autoptr(GBytes) body = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  JsonObject *root, *gateway;

  memset (status, 0, sizeof *status);
  if (msg == NULL)
    return FALSE;
  body = soup_session_send_and_read (session, msg, NULL, NULL);
  if (body == NULL || soup_message_get_status (msg) != SOUP_STATUS_OK ||
      !json_parser_load_from_data (parser, g_bytes_get_data (body, NULL), g_bytes_get_size (body), NULL) ||
      !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    return FALSE;

  root = json_node_get_object (json_parser_get_root (parser));
  status->clients = json_object_get_int_member_with_default (root, "clients", 0);
  status->groups = json_object_get_int_member_with_default (root, "subscription_groups", 0);
  status->frames_encoded = json_object_get_int_member_with_default (root, "frames_encoded", 0);
  status->frames_framed = json_object_get_int_member_with_default (root, "frames_framed", 0);
  if (!json_object_has_member (root, "gateway"))
    return TRUE;
  gateway = json_object_get_object_member (root, "gateway");
  status->messages_sent = json_object_get_int_member_with_default (gateway, "messages_sent", 0);
  status->frames_dropped = json_object_get_int_member_with_default (gateway, "frames_dropped", 0);
  return TRUE;
}

static double
process_cpu_seconds (void)
{
  struct rusage usage;

  getrusage (RUSAGE_SELF, &usage);
  return usage.ru_utime.tv_sec + usage.ru_utime.tv_usec / 1e6 +
         usage.ru_stime.tv_sec + usage.ru_stime.tv_usec / 1e6;
}

/* Main ---------------------------------------------------------------------- */

/* When the first and the last client got a given tick. */
typedef struct
{
  gint64 tick_ms;
  gint64 first_us;
  gint64 last_us;
} Spread;

static int
compare_int64 (gconstpointer a,
               gconstpointer b)
{
  gint64 x = *(const gint64 *) a, y = *(const gint64 *) b;

  return (x > y) - (x < y);
}

static double
percentile_ms (GArray *sorted,
               double  fraction)
{
  guint index;

  if (sorted->len == 0)
    return 0;
  index = MIN (sorted->len - 1, (guint) (sorted->len * fraction));
  return g_array_index (sorted, gint64, index) / 1000.0;
}

static gboolean
raise_fd_limit (rlim_t wanted)
{
  struct rlimit limit;

  if (getrlimit (RLIMIT_NOFILE, &limit) != 0)
    return FALSE;
  if (limit.rlim_cur >= wanted)
    return TRUE;

  /* Raising the hard limit needs CAP_SYS_RESOURCE (root); it cannot go
   * past /proc/sys/fs/nr_open. */
  if (limit.rlim_max < wanted)
    limit.rlim_max = wanted;
  limit.rlim_cur = wanted;
  if (setrlimit (RLIMIT_NOFILE, &limit) != 0)
    {
      int saved_errno = errno;

      getrlimit (RLIMIT_NOFILE, &limit);
      g_printerr ("bench-fanout: cannot raise RLIMIT_NOFILE to %lu (soft %lu, hard %lu): %s\n",
                  (unsigned long) wanted, (unsigned long) limit.rlim_cur,
                  (unsigned long) limit.rlim_max, g_strerror (saved_errno));
      return FALSE;
    }
  return TRUE;
}

static gint64
sum_atomic (Worker *workers,
            gsize   offset)
{
  gint64 total = 0;

  for (int t = 0; t < n_threads; t++)
    total += g_atomic_int_get ((gint *) ((char *) &workers[t] + offset));
  return total;
}

static void
sleep_until_ms (gint64 wall_ms)
{
  gint64 now_us = g_get_real_time ();

  if (wall_ms * 1000 > now_us)
    g_usleep (wall_ms * 1000 - now_us);
}

static char *
format_time_ms (gint64 ms)
{
  g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc (ms / 1000);

  return g_date_time_format (dt, "%H:%M:%S");
}

int
main (int   argc,
      char *argv[])
{
  GOptionEntry entries[] = {
    { "connections", 'n', 0, G_OPTION_ARG_INT, &n_connections, "Number of WebSocket clients (default 1000)", "N" },
    { "duration", 'd', 0, G_OPTION_ARG_INT, &duration_s, "Seconds of measurement (default 30)", "D" },
    { "pid", 'p', 0, G_OPTION_ARG_INT, &pid, "The daemon's PID, for its RSS and CPU", "PID" },
    { "metrics", 'm', 0, G_OPTION_ARG_STRING, &metrics, "Preset the subscription: ?metrics=PATTERNS (default: every metric)", "PATTERNS" },
    { "groups", 'g', 0, G_OPTION_ARG_INT, &n_groups, "Spread the connections over G distinct subscription groups (default 1)", "G" },
    { "interval-ms", 'i', 0, G_OPTION_ARG_INT, &interval_ms, "Preset the subscription: ?interval_ms=MS (default 1000)", "MS" },
    { "parallel", 0, 0, G_OPTION_ARG_INT, &parallel, "Handshakes in flight while connecting (default 8)", "P" },
    { "threads", 't', 0, G_OPTION_ARG_INT, &n_threads, "Client threads, each with its own main context (default: one per 500 connections)", "T" },
    { "grace", 0, 0, G_OPTION_ARG_INT, &grace_s, "Seconds to wait for the window's last frames (default 3)", "S" },
    { "json", 0, 0, G_OPTION_ARG_NONE, &parse_json, "Parse every frame with json-glib instead of scanning its head", NULL },
    { "deflate", 0, 0, G_OPTION_ARG_NONE, &offer_deflate, "Offer permessage-deflate, as browsers do, and report whether the server accepted it", NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new ("URL");
  g_autoptr(GError) error = NULL;
  g_autoptr(GUri) base_uri = NULL;
  g_autoptr(GString) url = NULL;
  g_autoptr(SoupSession) http = NULL;
  g_autofree char *status_url = NULL;
  g_autofree Worker *workers = NULL;
  g_autofree char *start_text = NULL;
  g_autoptr(GArray) latencies = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autoptr(GHashTable) spreads = g_hash_table_new_full (g_int64_hash, g_int64_equal, NULL, g_free);
  gint64 window_start_ms, window_end_ms;
  ProcInfo before = { 0, }, after_connect = { 0, }, connected = { 0, }, end = { 0, };
  Status status_start = { 0, }, status_end = { 0, };
  gboolean have_status_start, have_status_end;
  gint64 connect_start_us, connect_us, expected, window_ms;
  guint64 in_window = 0, total = 0, bytes = 0, gaps = 0, skipped = 0, with_dropped = 0;
  guint64 error_frames = 0, closed = 0;
  guint interval, ticks_in_window, n_connected, n_failed;
  double client_cpu_start, client_cpu_end, client_cpu_connect, spread_sum_ms = 0, spread_max_ms = 0;
  const char *first_error = NULL, *first_error_frame = NULL;
  guint first_close_code = 0;
  long clock_ticks = sysconf (_SC_CLK_TCK);

  g_option_context_set_summary (context,
                                "Opens N WebSocket clients on a running sonded's native protocol and\n"
                                "measures what they receive. URL is ws://HOST:PORT/ws/v1 as sonded prints it.");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("bench-fanout: %s\n", error->message);
      return EXIT_FAILURE;
    }
  if (n_threads == 0)
    n_threads = (n_connections + CONNECTIONS_PER_THREAD - 1) / CONNECTIONS_PER_THREAD;
  if (argc != 2 || n_connections < 1 || duration_s < 1 || parallel < 1 || n_threads < 1 ||
      n_threads > n_connections || grace_s < 0 || interval_ms < 0 || n_groups < 1)
    {
      g_autofree char *help = g_option_context_get_help (context, TRUE, NULL);
      g_printerr ("%s", help);
      return EXIT_FAILURE;
    }

  base_uri = g_uri_parse (argv[1], G_URI_FLAGS_NONE, &error);
  if (base_uri == NULL ||
      (g_strcmp0 (g_uri_get_scheme (base_uri), "ws") != 0 && g_strcmp0 (g_uri_get_scheme (base_uri), "wss") != 0))
    {
      g_printerr ("bench-fanout: %s is not a ws:// URL\n", argv[1]);
      return EXIT_FAILURE;
    }

  url = g_string_new (argv[1]);
  if ((metrics != NULL && n_groups <= 1) || interval_ms > 0)
    {
      g_string_append_c (url, g_uri_get_query (base_uri) ? '&' : '?');
      if (metrics != NULL && n_groups <= 1)
        {
          g_autofree char *escaped = g_uri_escape_string (metrics, ",*.?", FALSE);
          g_string_append_printf (url, "metrics=%s", escaped);
        }
      if (interval_ms > 0)
        g_string_append_printf (url, "%sinterval_ms=%d", metrics && n_groups <= 1 ? "&" : "", interval_ms);
    }
  interval = interval_ms > 0 ? (guint) interval_ms : 1000;
  if (g_uri_get_query (base_uri) != NULL && strstr (g_uri_get_query (base_uri), "interval_ms=") != NULL)
    interval = atoi (strstr (g_uri_get_query (base_uri), "interval_ms=") + 12);
  if (interval == 0)
    interval = 1000;

  status_url = g_strdup_printf ("%s://%s:%d/status",
                                g_str_equal (g_uri_get_scheme (base_uri), "wss") ? "https" : "http",
                                g_uri_get_host (base_uri), g_uri_get_port (base_uri));

  /* Each connection is one fd here (and one in the daemon). */
  if (!raise_fd_limit ((rlim_t) n_connections + 256))
    return EXIT_FAILURE;

  http = soup_session_new ();
  if (pid > 0 && !read_proc_info (pid, &before))
    {
      g_printerr ("bench-fanout: cannot read /proc/%d: is --pid the daemon's?\n", pid);
      return EXIT_FAILURE;
    }

  printf ("bench-fanout: %d connections to %s, %d group%s, %d s window, interval %u ms, %d client thread%s, %s%s\n",
          n_connections, url->str, n_groups, n_groups > 1 ? "s" : "", duration_s, interval,
          n_threads, n_threads > 1 ? "s" : "",
          parse_json ? "full JSON parse" : "frame heads scanned",
          offer_deflate ? ", permessage-deflate offered" : "");
  fflush (stdout);

  /* Connect. */
  workers = g_new0 (Worker, n_threads);
  all_workers = workers;
  n_workers = n_threads;
  client_cpu_connect = process_cpu_seconds ();
  connect_start_us = g_get_monotonic_time ();
  for (int t = 0; t < n_threads; t++)
    {
      Worker *worker = &workers[t];
      guint first = (guint) ((gint64) n_connections * t / n_threads);
      guint last = (guint) ((gint64) n_connections * (t + 1) / n_threads);

      worker->url = url->str;
      worker->first_index = first;
      worker->n_connections = last - first;
      worker->connections = g_new0 (Connection, worker->n_connections);
      worker->context = g_main_context_new ();
      worker->records = g_array_sized_new (FALSE, FALSE, sizeof (Record),
                                           MIN ((gint64) worker->n_connections * (duration_s + 10) * 1000 / interval,
                                                G_MAXINT / 32));
    }
  /* Each may wake the others' contexts: all are made first. */
  for (int t = 0; t < n_threads; t++)
    workers[t].thread = g_thread_new ("bench-fanout", worker_main, &workers[t]);

  for (gint64 next_report = connect_start_us + 5 * G_USEC_PER_SEC;;)
    {
      n_connected = sum_atomic (workers, G_STRUCT_OFFSET (Worker, n_connected));
      n_failed = sum_atomic (workers, G_STRUCT_OFFSET (Worker, n_failed));
      if (n_connected + n_failed >= (guint) n_connections)
        break;
      if (g_get_monotonic_time () >= next_report)
        {
          printf ("connecting   %u connected, %u failed after %.0f s\n", n_connected, n_failed,
                  (g_get_monotonic_time () - connect_start_us) / 1e6);
          fflush (stdout);
          next_report += 5 * G_USEC_PER_SEC;
        }
      g_usleep (20000);
    }
  connect_us = g_get_monotonic_time () - connect_start_us;
  client_cpu_connect = process_cpu_seconds () - client_cpu_connect;
  printf ("connect      %u/%d connected in %.2f s (%.0f handshakes/s), %u failed\n",
          n_connected, n_connections, connect_us / 1e6, n_connected / (connect_us / 1e6), n_failed);
  /* Both share the CPUs: which of the two the connect time is made of. */
  if (pid > 0 && read_proc_info (pid, &after_connect))
    printf ("connect CPU  daemon %.2f s, client %.2f s (of %.2f s on %u CPUs)\n",
            (after_connect.cpu_ticks - before.cpu_ticks) / (double) clock_ticks, client_cpu_connect,
            connect_us / 1e6, g_get_num_processors ());
  printf ("deflate      %s; %" G_GINT64_FORMAT " of %u connections negotiated permessage-deflate\n",
          offer_deflate ? "offered" : "not offered",
          sum_atomic (workers, G_STRUCT_OFFSET (Worker, n_deflate)), n_connected);
  fflush (stdout);

  /* Let the first frames settle, then measure whole ticks. */
  {
    gint64 now_ms = g_get_real_time () / 1000;
    gint64 start = (now_ms / 1000 + 2) * 1000;

    window_ms = (gint64) duration_s * 1000;
    window_end_ms = start + window_ms;
    window_start_ms = start;
    start_text = format_time_ms (start);
    ticks_in_window = (guint) ((start + window_ms - 1) / interval - (start - 1) / interval);

    sleep_until_ms (start - 50);
    if (pid > 0)
      read_proc_info (pid, &connected);
    have_status_start = read_status (http, status_url, &status_start);
    client_cpu_start = process_cpu_seconds ();

    sleep_until_ms (start + window_ms);
    if (pid > 0)
      read_proc_info (pid, &end);
    client_cpu_end = process_cpu_seconds ();

    /* Frames of the window's last ticks may still be on their way. */
    sleep_until_ms (start + window_ms + grace_s * 1000);
    have_status_end = read_status (http, status_url, &status_end);
  }

  g_atomic_int_set (&stopping, 1);
  for (int t = 0; t < n_threads; t++)
    {
      g_main_context_wakeup (workers[t].context);
      g_thread_join (workers[t].thread);
    }

  /* Merge the workers' results. */
  for (int t = 0; t < n_threads; t++)
    {
      Worker *worker = &workers[t];

      total += worker->frames_total;
      bytes += worker->bytes_total;
      gaps += worker->seq_gaps;
      skipped += worker->seq_skipped;
      with_dropped += worker->frames_with_dropped;
      error_frames += worker->error_frames;
      closed += worker->n_closed;
      if (first_error == NULL)
        first_error = worker->first_error;
      if (first_error_frame == NULL)
        first_error_frame = worker->first_error_frame;
      if (first_close_code == 0)
        first_close_code = worker->first_close_code;

      for (guint i = 0; i < worker->records->len; i++)
        {
          Record *record = &g_array_index (worker->records, Record, i);
          Spread *spread;
          gint64 latency;

          if (record->tick_ms < window_start_ms || record->tick_ms >= window_end_ms)
            continue;

          in_window++;
          latency = record->received_us - record->tick_ms * 1000;
          g_array_append_val (latencies, latency);

          spread = g_hash_table_lookup (spreads, &record->tick_ms);
          if (spread == NULL)
            {
              spread = g_new0 (Spread, 1);
              spread->tick_ms = record->tick_ms;
              spread->first_us = spread->last_us = record->received_us;
              g_hash_table_insert (spreads, &spread->tick_ms, spread);
            }
          spread->first_us = MIN (spread->first_us, record->received_us);
          spread->last_us = MAX (spread->last_us, record->received_us);
        }
    }

  {
    GHashTableIter iter;
    gpointer value;

    g_hash_table_iter_init (&iter, spreads);
    while (g_hash_table_iter_next (&iter, NULL, &value))
      {
        Spread *spread = value;
        double ms = (spread->last_us - spread->first_us) / 1000.0;

        spread_sum_ms += ms;
        spread_max_ms = MAX (spread_max_ms, ms);
      }
  }

  g_array_sort (latencies, compare_int64);
  expected = (gint64) n_connected * ticks_in_window;

  printf ("window       %s UTC + %d s: %u ticks x %u connections\n",
          start_text, duration_s, ticks_in_window, n_connected);
  printf ("frames       received %" G_GUINT64_FORMAT " / expected %" G_GINT64_FORMAT " (%.3f %%), missing %" G_GINT64_FORMAT "\n",
          in_window, expected, expected ? 100.0 * in_window / expected : 0.0, expected - (gint64) in_window);
  printf ("seq          %" G_GUINT64_FORMAT " gaps (%" G_GUINT64_FORMAT " seq skipped) over the whole run; "
          "%" G_GUINT64_FORMAT " frames carried \"dropped\"\n", gaps, skipped, with_dropped);
  printf ("closed       %" G_GUINT64_FORMAT " connections closed by the daemon%s", closed,
          closed ? "" : "\n");
  if (closed)
    printf (" (first close code %u)\n", first_close_code);
  if (error_frames)
    printf ("errors       %" G_GUINT64_FORMAT " error frames; first: %s\n", error_frames, first_error_frame);
  if (first_error)
    printf ("connect err  first: %s\n", first_error);
  printf ("size         %.0f bytes per frame on average (%" G_GUINT64_FORMAT " frames, %.1f MB in all)\n",
          total ? (double) bytes / total : 0.0, total, bytes / 1e6);
  printf ("latency      p50 %.1f ms, p90 %.1f ms, p99 %.1f ms, max %.1f ms (receive wall time - frame timestamp)\n",
          percentile_ms (latencies, 0.50), percentile_ms (latencies, 0.90),
          percentile_ms (latencies, 0.99), percentile_ms (latencies, 1.0));
  printf ("fan-out      first to last client of a tick: mean %.1f ms, max %.1f ms\n",
          g_hash_table_size (spreads) ? spread_sum_ms / g_hash_table_size (spreads) : 0.0, spread_max_ms);
  if (pid > 0)
    {
      double daemon_cpu = (end.cpu_ticks - connected.cpu_ticks) / (double) clock_ticks;

      printf ("daemon RSS   before %.1f MiB, connected %.1f MiB, end %.1f MiB: %.1f KiB per client%s (%" G_GINT64_FORMAT " threads)\n",
              before.rss_kib / 1024.0, connected.rss_kib / 1024.0, end.rss_kib / 1024.0,
              n_connected ? (double) (end.rss_kib - before.rss_kib) / n_connected : 0.0,
              n_connected < 100 ? " (mostly the first sample and worker stacks: use a large N)" : "",
              end.threads);
      printf ("daemon CPU   %.2f s in %d s = %.2f %% of one core\n",
              daemon_cpu, duration_s, 100.0 * daemon_cpu / duration_s);
    }
  printf ("client CPU   %.2f s in %d s = %.2f %% of one core (this process, same %u CPUs)\n",
          client_cpu_end - client_cpu_start, duration_s,
          100.0 * (client_cpu_end - client_cpu_start) / duration_s, g_get_num_processors ());
  if (have_status_start && have_status_end)
    printf ("/status      messages_sent +%" G_GINT64_FORMAT ", frames_dropped +%" G_GINT64_FORMAT " (window and grace), clients %" G_GINT64_FORMAT "\n",
            status_end.messages_sent - status_start.messages_sent,
            status_end.frames_dropped - status_start.frames_dropped, status_end.clients);
  if (have_status_start && have_status_end && status_end.clients > 0)
    {
      /* Ticks between the two reads, as the daemon counted them: every
       * client got one frame per tick. */
      double ticks = (double) (status_end.messages_sent - status_start.messages_sent) / status_end.clients;

      printf ("groups       %" G_GINT64_FORMAT " subscription groups; %.2f encodings and %.2f framings per tick "
              "(/status frames_encoded, frames_framed over %.0f ticks)\n",
              status_end.groups,
              ticks > 0 ? (status_end.frames_encoded - status_start.frames_encoded) / ticks : 0.0,
              ticks > 0 ? (status_end.frames_framed - status_start.frames_framed) / ticks : 0.0,
              ticks);
    }

  for (int t = 0; t < n_threads; t++)
    {
      g_free (workers[t].connections);
      g_free (workers[t].first_error);
      g_free (workers[t].first_error_frame);
      g_array_unref (workers[t].records);
      g_main_context_unref (workers[t].context);
    }

  return n_connected > 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
