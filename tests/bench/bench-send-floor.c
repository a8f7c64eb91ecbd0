/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * bench-send-floor: the floor of fan-out.
 *
 * A WebSocket server reduced to what fan-out cannot do without: epoll,
 * accept, the RFC 6455 handshake, and at each wall-clock tick one
 * non-blocking send() per client of the same server frame, framed once
 * per tick (server frames are unmasked, so the bytes are the same for every
 * client). Nothing is collected and nothing is encoded per client: what it
 * costs is what any server pays to hand a tick to N sockets.
 *
 * The frame looks like a native snapshot -- {"type":"snapshot",
 * "subscription":"default","seq":N,"timestamp":"<the tick, ISO ms>",
 * "data":{...}} padded to --size bytes -- so that bench-fanout measures
 * it exactly as it measures sonded (latency = receipt - tick).
 *
 * With --threads K the sockets are sharded over K threads, each with its
 * own SO_REUSEPORT listening socket, epoll set and tick timer: the kernel
 * spreads the connections, and the last client of a tick is served in
 * about the one-thread time divided by K (on K free cores). With K = 1
 * everything runs in the main thread: one thread, one epoll set.
 *
 *   bench-send-floor [--port 0] [--size 2900] [--threads 1] [--interval-ms 1000]
 *
 * The first line of stdout is "listening on ws://127.0.0.1:PORT/ws/v1", as
 * sonded prints it. SIGINT or SIGTERM stops it and prints a summary. GLib
 * is used for SHA-1 and base64 in the handshake only; there is no main loop.
 */

#define _GNU_SOURCE

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include <glib.h>

#define WS_GUID          "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
#define REQUEST_MAX      4096
#define MAX_EVENTS       256
#define FRAME_HEADER_MAX 10

/* Options */
static int opt_port = 0;
static int opt_size = 2900;        /* payload bytes: a full native snapshot */
static int opt_threads = 1;
static int opt_interval_ms = 1000;
static int opt_backlog = 4096;

typedef enum
{
  CONN_HANDSHAKE,
  CONN_OPEN,
} ConnState;

typedef struct
{
  int        fd;
  ConnState  state;
  int        index;          /* in the shard's open list, or -1 */
  char      *request;        /* during the handshake only */
  size_t     request_len;
  char      *pending;        /* the rest of a short write */
  size_t     pending_len;
  size_t     pending_off;
} Conn;

typedef struct
{
  uint64_t ticks;
  uint64_t late_expirations;   /* timer expirations missed: the thread was late */
  uint64_t sent;               /* whole frames written by one send() */
  uint64_t eagain;             /* send() wrote nothing: frame dropped */
  uint64_t short_writes;       /* send() wrote part: the rest queued */
  uint64_t skipped;            /* the previous frame still queued: frame dropped */
  uint64_t send_errors;
  uint64_t accepted;
  uint64_t handshakes;
  uint64_t rejected;           /* not a WebSocket upgrade (e.g. GET /status) */
  uint64_t deflate_offers;     /* declined: the floor sends one framing to all */
  uint64_t closed;
  int      open_max;
} Counters;

typedef struct
{
  int        id;
  pthread_t  thread;
  int        epfd;
  int        listen_fd;
  int        timer_fd;
  int        signal_fd;        /* shared: readable once a stop signal came */
  Conn     **open;             /* connections past the handshake */
  int        n_open;
  int        open_alloc;
  char      *frame;
  size_t     frame_len;
  double    *loop_ms;          /* per tick: first send to last send */
  double    *late_ms;          /* per tick: timer wake-up after the tick */
  size_t     n_loops;
  size_t     loops_alloc;
  Counters   counters;
} Shard;

/* epoll data tags for the non-connection fds: distinct addresses. */
static char tag_listen, tag_timer, tag_signal;

static int64_t start_ms;

static int64_t
clock_ms (clockid_t id)
{
  struct timespec ts;

  clock_gettime (id, &ts);
  return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static double
clock_us (clockid_t id)
{
  struct timespec ts;

  clock_gettime (id, &ts);
  return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

/* The frame ------------------------------------------------------------ */

/* Writes the frame of one tick into @buffer (opt_size payload bytes plus
 * the header): the same bytes go to every client of the shard. */
static size_t
build_frame (char    *buffer,
             int64_t  seq,
             int64_t  tick_ms)
{
  static const char tail[] = "\"}}}";
  time_t seconds = tick_ms / 1000;
  struct tm tm;
  char *payload;
  size_t header, head, length = opt_size;

  gmtime_r (&seconds, &tm);
  if (length < 126)
    {
      buffer[1] = length;
      header = 2;
    }
  else if (length < 65536)
    {
      buffer[1] = 126;
      buffer[2] = length >> 8;
      buffer[3] = length & 0xff;
      header = 4;
    }
  else
    {
      buffer[1] = 127;
      for (int i = 0; i < 8; i++)
        buffer[2 + i] = (uint64_t) length >> (56 - 8 * i);
      header = 10;
    }
  buffer[0] = (char) 0x81;   /* FIN, text */

  payload = buffer + header;
  head = snprintf (payload, length + 1,
                   "{\"type\":\"snapshot\",\"subscription\":\"default\",\"seq\":%" PRId64 ","
                   "\"timestamp\":\"%04d-%02d-%02dT%02d:%02d:%02d.%03dZ\","
                   "\"data\":{\"floor\":{\"padding\":\"",
                   seq, tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                   tm.tm_sec, (int) (tick_ms % 1000));
  memset (payload + head, 'x', length - head - (sizeof tail - 1));
  memcpy (payload + length - (sizeof tail - 1), tail, sizeof tail - 1);
  return header + length;
}

/* Connections ------------------------------------------------------------ */

static void
epoll_set (Shard    *shard,
           int       op,
           int       fd,
           uint32_t  events,
           void     *data)
{
  struct epoll_event event = { .events = events, .data.ptr = data };

  if (epoll_ctl (shard->epfd, op, fd, &event) < 0 && op != EPOLL_CTL_DEL)
    perror ("bench-send-floor: epoll_ctl");
}

static void
conn_close (Shard *shard,
            Conn  *conn)
{
  if (conn->index >= 0)
    {
      /* Swap-remove from the open list. */
      Conn *last = shard->open[--shard->n_open];

      shard->open[conn->index] = last;
      last->index = conn->index;
      shard->counters.closed++;
    }
  close (conn->fd);      /* also leaves the epoll set */
  free (conn->request);
  free (conn->pending);
  free (conn);
}

static void
conn_open (Shard *shard,
           Conn  *conn)
{
  if (shard->n_open == shard->open_alloc)
    {
      shard->open_alloc = shard->open_alloc ? shard->open_alloc * 2 : 1024;
      shard->open = realloc (shard->open, shard->open_alloc * sizeof (Conn *));
    }
  conn->index = shard->n_open;
  shard->open[shard->n_open++] = conn;
  if (shard->n_open > shard->counters.open_max)
    shard->counters.open_max = shard->n_open;
  conn->state = CONN_OPEN;
  free (conn->request);
  conn->request = NULL;
}

/* The value of header @name in @request, trimmed, or NULL. */
static char *
header_value (const char *request,
              const char *name)
{
  size_t name_len = strlen (name);

  for (const char *line = strstr (request, "\r\n"); line != NULL; line = strstr (line, "\r\n"))
    {
      const char *end;

      line += 2;
      if (g_ascii_strncasecmp (line, name, name_len) != 0 || line[name_len] != ':')
        continue;
      line += name_len + 1;
      while (*line == ' ' || *line == '\t')
        line++;
      end = strstr (line, "\r\n");
      while (end > line && (end[-1] == ' ' || end[-1] == '\t'))
        end--;
      return g_strndup (line, end - line);
    }
  return NULL;
}

/* Answers a complete request: 101 for a WebSocket upgrade, else 404. No
 * extension is ever accepted: the floor sends one framing to everyone. */
static void
conn_handshake (Shard *shard,
                Conn  *conn)
{
  g_autofree char *key = header_value (conn->request, "Sec-WebSocket-Key");
  g_autofree char *extensions = header_value (conn->request, "Sec-WebSocket-Extensions");
  char response[256];
  int length;

  if (strncmp (conn->request, "GET ", 4) != 0 || key == NULL)
    {
      static const char not_found[] =
        "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";

      send (conn->fd, not_found, sizeof not_found - 1, MSG_NOSIGNAL);
      shard->counters.rejected++;
      conn_close (shard, conn);
      return;
    }

  if (extensions != NULL && strstr (extensions, "permessage-deflate") != NULL)
    shard->counters.deflate_offers++;

  {
    g_autofree char *input = g_strconcat (key, WS_GUID, NULL);
    guint8 digest[20];
    gsize digest_len = sizeof digest;
    g_autoptr(GChecksum) sha1 = g_checksum_new (G_CHECKSUM_SHA1);
    g_autofree char *accept = NULL;

    g_checksum_update (sha1, (const guchar *) input, strlen (input));
    g_checksum_get_digest (sha1, digest, &digest_len);
    accept = g_base64_encode (digest, digest_len);
    length = snprintf (response, sizeof response,
                       "HTTP/1.1 101 Switching Protocols\r\n"
                       "Upgrade: websocket\r\n"
                       "Connection: Upgrade\r\n"
                       "Sec-WebSocket-Accept: %s\r\n\r\n", accept);
  }

  /* A fresh socket's send buffer always takes 150 bytes. */
  if (send (conn->fd, response, length, MSG_NOSIGNAL) != length)
    {
      conn_close (shard, conn);
      return;
    }
  shard->counters.handshakes++;
  conn_open (shard, conn);
}

static void
conn_readable (Shard *shard,
               Conn  *conn)
{
  char buffer[4096];
  ssize_t n;

  if (conn->state == CONN_HANDSHAKE)
    {
      n = recv (conn->fd, conn->request + conn->request_len,
                REQUEST_MAX - 1 - conn->request_len, 0);
      if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
      if (n <= 0)
        {
          conn_close (shard, conn);
          return;
        }
      conn->request_len += n;
      conn->request[conn->request_len] = '\0';
      if (strstr (conn->request, "\r\n\r\n") != NULL)
        conn_handshake (shard, conn);
      else if (conn->request_len == REQUEST_MAX - 1)
        conn_close (shard, conn);
      return;
    }

  /* Clients say nothing but goodbye: a close frame (opcode 8) gets ours,
   * then the socket is closed; anything else is dropped. Frames split
   * across reads are not reassembled: this is not a general server. */
  while ((n = recv (conn->fd, buffer, sizeof buffer, 0)) > 0)
    {
      if ((buffer[0] & 0x0f) == 0x8)
        {
          static const char close_frame[] = { (char) 0x88, 0x00 };

          send (conn->fd, close_frame, sizeof close_frame, MSG_NOSIGNAL | MSG_DONTWAIT);
          conn_close (shard, conn);
          return;
        }
    }
  if (n == 0 || (errno != EAGAIN && errno != EINTR))
    conn_close (shard, conn);
}

/* Sends the rest of a short write once the socket drains. */
static void
conn_writable (Shard *shard,
               Conn  *conn)
{
  ssize_t n = send (conn->fd, conn->pending + conn->pending_off,
                    conn->pending_len - conn->pending_off, MSG_NOSIGNAL | MSG_DONTWAIT);

  if (n < 0)
    {
      if (errno != EAGAIN && errno != EINTR)
        conn_close (shard, conn);
      return;
    }
  conn->pending_off += n;
  if (conn->pending_off < conn->pending_len)
    return;

  free (conn->pending);
  conn->pending = NULL;
  epoll_set (shard, EPOLL_CTL_MOD, conn->fd, EPOLLIN | EPOLLRDHUP, conn);
}

static void
accept_all (Shard *shard)
{
  for (;;)
    {
      int fd = accept4 (shard->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
      Conn *conn;

      if (fd < 0)
        {
          if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
            perror ("bench-send-floor: accept");
          return;
        }

      conn = calloc (1, sizeof *conn);
      conn->fd = fd;
      conn->index = -1;
      conn->request = malloc (REQUEST_MAX);
      shard->counters.accepted++;
      epoll_set (shard, EPOLL_CTL_ADD, fd, EPOLLIN | EPOLLRDHUP, conn);
    }
}

/* The tick ------------------------------------------------------------- */

static void
record_loop (Shard  *shard,
             double  loop_ms,
             double  late_ms)
{
  if (shard->n_loops == shard->loops_alloc)
    {
      shard->loops_alloc = shard->loops_alloc ? shard->loops_alloc * 2 : 4096;
      shard->loop_ms = realloc (shard->loop_ms, shard->loops_alloc * sizeof (double));
      shard->late_ms = realloc (shard->late_ms, shard->loops_alloc * sizeof (double));
    }
  shard->loop_ms[shard->n_loops] = loop_ms;
  shard->late_ms[shard->n_loops] = late_ms;
  shard->n_loops++;
}

static void
tick (Shard *shard)
{
  uint64_t expirations = 0;
  double wake_us = clock_us (CLOCK_REALTIME);
  int64_t tick_ms = (int64_t) (wake_us / 1000) / opt_interval_ms * opt_interval_ms;
  double start_us, end_us;
  Counters *counters = &shard->counters;

  if (read (shard->timer_fd, &expirations, sizeof expirations) != sizeof expirations)
    return;
  counters->ticks++;
  counters->late_expirations += expirations - 1;

  /* Framed once per tick, for every client of the shard. */
  shard->frame_len = build_frame (shard->frame, (tick_ms - start_ms) / opt_interval_ms, tick_ms);

  start_us = clock_us (CLOCK_MONOTONIC);
  for (int i = 0; i < shard->n_open; i++)
    {
      Conn *conn = shard->open[i];
      ssize_t n;

      if (conn->pending != NULL)
        {
          counters->skipped++;
          continue;
        }

      n = send (conn->fd, shard->frame, shard->frame_len, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n == (ssize_t) shard->frame_len)
        counters->sent++;
      else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        counters->eagain++;
      else if (n < 0)
        counters->send_errors++;   /* EPOLLIN/RDHUP will close it */
      else
        {
          counters->short_writes++;
          conn->pending_len = shard->frame_len - n;
          conn->pending_off = 0;
          conn->pending = malloc (conn->pending_len);
          memcpy (conn->pending, shard->frame + n, conn->pending_len);
          epoll_set (shard, EPOLL_CTL_MOD, conn->fd, EPOLLIN | EPOLLOUT | EPOLLRDHUP, conn);
        }
    }
  end_us = clock_us (CLOCK_MONOTONIC);

  if (shard->n_open > 0)
    record_loop (shard, (end_us - start_us) / 1000, wake_us / 1000 - tick_ms);
}

static void *
shard_run (void *data)
{
  Shard *shard = data;
  struct epoll_event events[MAX_EVENTS];

  for (;;)
    {
      int n = epoll_wait (shard->epfd, events, MAX_EVENTS, -1);

      if (n < 0 && errno == EINTR)
        continue;
      for (int i = 0; i < n; i++)
        {
          void *tag = events[i].data.ptr;

          if (tag == &tag_signal)
            return NULL;   /* not read: every shard sees it */
          else if (tag == &tag_listen)
            accept_all (shard);
          else if (tag == &tag_timer)
            tick (shard);
          else
            {
              Conn *conn = tag;

              if (events[i].events & EPOLLOUT)
                {
                  conn_writable (shard, conn);
                  continue;   /* conn may be gone; EPOLLIN comes again */
                }
              conn_readable (shard, conn);
            }
        }
    }
}

/* Setup ---------------------------------------------------------------- */

static int
listen_on (int port)
{
  struct sockaddr_in address = { .sin_family = AF_INET, .sin_port = htons (port) };
  int fd = socket (AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int one = 1;

  address.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  if (fd < 0 ||
      setsockopt (fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
      setsockopt (fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) < 0 ||
      bind (fd, (struct sockaddr *) &address, sizeof address) < 0 ||
      listen (fd, opt_backlog) < 0)
    {
      perror ("bench-send-floor: listen");
      exit (EXIT_FAILURE);
    }
  return fd;
}

static void
shard_init (Shard *shard,
            int    id,
            int    port,
            int    signal_fd)
{
  struct itimerspec timer = { { 0, }, };
  int64_t first = (clock_ms (CLOCK_REALTIME) / opt_interval_ms + 1) * opt_interval_ms;

  shard->id = id;
  shard->epfd = epoll_create1 (EPOLL_CLOEXEC);
  shard->listen_fd = listen_on (port);
  shard->signal_fd = signal_fd;
  shard->frame = malloc (opt_size + FRAME_HEADER_MAX + 1);

  /* Ticks on wall-clock boundaries, like sonded's clock. */
  shard->timer_fd = timerfd_create (CLOCK_REALTIME, TFD_NONBLOCK | TFD_CLOEXEC);
  timer.it_value.tv_sec = first / 1000;
  timer.it_value.tv_nsec = (first % 1000) * 1000000;
  timer.it_interval.tv_sec = opt_interval_ms / 1000;
  timer.it_interval.tv_nsec = (opt_interval_ms % 1000) * 1000000;
  timerfd_settime (shard->timer_fd, TFD_TIMER_ABSTIME, &timer, NULL);

  epoll_set (shard, EPOLL_CTL_ADD, shard->listen_fd, EPOLLIN, &tag_listen);
  epoll_set (shard, EPOLL_CTL_ADD, shard->timer_fd, EPOLLIN, &tag_timer);
  epoll_set (shard, EPOLL_CTL_ADD, signal_fd, EPOLLIN, &tag_signal);
}

static int
local_port (int fd)
{
  struct sockaddr_in address;
  socklen_t length = sizeof address;

  getsockname (fd, (struct sockaddr *) &address, &length);
  return ntohs (address.sin_port);
}

static void
raise_fd_limit (void)
{
  struct rlimit limit;

  /* One fd per client; the hard limit is as far as we may go. */
  if (getrlimit (RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max)
    {
      limit.rlim_cur = limit.rlim_max;
      setrlimit (RLIMIT_NOFILE, &limit);
    }
}

/* Summary -------------------------------------------------------------- */

static int
compare_double (const void *a,
                const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return (x > y) - (x < y);
}

static double
percentile (double *sorted,
            size_t  n,
            double  fraction)
{
  if (n == 0)
    return 0;
  return sorted[MIN (n - 1, (size_t) (n * fraction))];
}

static void
print_summary (Shard  *shards,
               double  elapsed_s)
{
  Counters total = { 0, };
  size_t n_loops = 0;
  double *loops, *lates, sum_loop_ms = 0;
  struct rusage usage;
  double cpu_s;

  for (int s = 0; s < opt_threads; s++)
    {
      Counters *c = &shards[s].counters;

      total.ticks = MAX (total.ticks, c->ticks);
      total.late_expirations += c->late_expirations;
      total.sent += c->sent;
      total.eagain += c->eagain;
      total.short_writes += c->short_writes;
      total.skipped += c->skipped;
      total.send_errors += c->send_errors;
      total.accepted += c->accepted;
      total.handshakes += c->handshakes;
      total.rejected += c->rejected;
      total.deflate_offers += c->deflate_offers;
      total.closed += c->closed;
      total.open_max += c->open_max;
      n_loops += shards[s].n_loops;
    }

  loops = calloc (n_loops + 1, sizeof (double));
  lates = calloc (n_loops + 1, sizeof (double));
  n_loops = 0;
  for (int s = 0; s < opt_threads; s++)
    for (size_t i = 0; i < shards[s].n_loops; i++)
      {
        sum_loop_ms += shards[s].loop_ms[i];
        lates[n_loops] = shards[s].late_ms[i];
        loops[n_loops++] = shards[s].loop_ms[i];
      }
  qsort (loops, n_loops, sizeof (double), compare_double);
  qsort (lates, n_loops, sizeof (double), compare_double);

  getrusage (RUSAGE_SELF, &usage);
  cpu_s = usage.ru_utime.tv_sec + usage.ru_utime.tv_usec / 1e6 +
          usage.ru_stime.tv_sec + usage.ru_stime.tv_usec / 1e6;

  printf ("send-floor   %d thread%s, frame %d bytes of payload, %" PRIu64 " ticks in %.0f s\n",
          opt_threads, opt_threads > 1 ? "s" : "", opt_size, total.ticks, elapsed_s);
  printf ("clients      %" PRIu64 " accepted, %" PRIu64 " handshakes, %" PRIu64 " rejected, "
          "%" PRIu64 " closed, at most %d open (sum over threads); %" PRIu64 " offered permessage-deflate (declined)\n",
          total.accepted, total.handshakes, total.rejected, total.closed, total.open_max,
          total.deflate_offers);
  printf ("sends        %" PRIu64 " whole frames, %" PRIu64 " EAGAIN (dropped), %" PRIu64 " short writes, "
          "%" PRIu64 " skipped (previous frame still queued), %" PRIu64 " errors\n",
          total.sent, total.eagain, total.short_writes, total.skipped, total.send_errors);
  printf ("send loop    per tick and thread, first send to last: p50 %.3f ms, p99 %.3f ms, max %.3f ms; "
          "%.2f µs per send\n",
          percentile (loops, n_loops, 0.5), percentile (loops, n_loops, 0.99),
          percentile (loops, n_loops, 1.0),
          total.sent + total.eagain + total.short_writes ?
            sum_loop_ms * 1000 / (total.sent + total.eagain + total.short_writes) : 0.0);
  printf ("timer        woke after the tick: p50 %.3f ms, p99 %.3f ms, max %.3f ms; %" PRIu64 " expirations missed\n",
          percentile (lates, n_loops, 0.5), percentile (lates, n_loops, 0.99),
          percentile (lates, n_loops, 1.0), total.late_expirations);
  printf ("cpu          %.2f s user+sys over the run\n", cpu_s);
  fflush (stdout);
  free (loops);
  free (lates);
}

static void
usage (void)
{
  fprintf (stderr,
           "usage: bench-send-floor [--port P] [--size BYTES] [--threads K] [--interval-ms MS] [--backlog B]\n"
           "  Serves ws://127.0.0.1:P/ws/v1 (any path): at each tick, one send() per client of the\n"
           "  same pre-framed snapshot-shaped frame of BYTES payload (default 2900). Stop with SIGTERM.\n");
}

int
main (int   argc,
      char *argv[])
{
  static const struct option options[] = {
    { "port", required_argument, NULL, 'p' },
    { "size", required_argument, NULL, 's' },
    { "threads", required_argument, NULL, 't' },
    { "interval-ms", required_argument, NULL, 'i' },
    { "backlog", required_argument, NULL, 'b' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 }
  };
  Shard *shards;
  sigset_t signals;
  int signal_fd, port, c;
  int64_t start_mono_ms;

  while ((c = getopt_long (argc, argv, "p:s:t:i:b:h", options, NULL)) != -1)
    {
      switch (c)
        {
        case 'p': opt_port = atoi (optarg); break;
        case 's': opt_size = atoi (optarg); break;
        case 't': opt_threads = atoi (optarg); break;
        case 'i': opt_interval_ms = atoi (optarg); break;
        case 'b': opt_backlog = atoi (optarg); break;
        default: usage (); return c == 'h' ? EXIT_SUCCESS : EXIT_FAILURE;
        }
    }
  /* The head of the frame takes ~130 bytes. */
  if (optind != argc || opt_size < 200 || opt_threads < 1 || opt_threads > 64 ||
      opt_interval_ms < 10 || opt_port < 0 || opt_port > 65535 || opt_backlog < 1)
    {
      usage ();
      return EXIT_FAILURE;
    }

  raise_fd_limit ();

  /* Stop signals are read from a signalfd that every shard polls. */
  sigemptyset (&signals);
  sigaddset (&signals, SIGINT);
  sigaddset (&signals, SIGTERM);
  pthread_sigmask (SIG_BLOCK, &signals, NULL);
  signal_fd = signalfd (-1, &signals, SFD_NONBLOCK | SFD_CLOEXEC);

  start_ms = clock_ms (CLOCK_REALTIME) / opt_interval_ms * opt_interval_ms;
  start_mono_ms = clock_ms (CLOCK_MONOTONIC);
  shards = calloc (opt_threads, sizeof (Shard));
  shard_init (&shards[0], 0, opt_port, signal_fd);
  port = local_port (shards[0].listen_fd);
  for (int s = 1; s < opt_threads; s++)
    shard_init (&shards[s], s, port, signal_fd);

  printf ("listening on ws://127.0.0.1:%d/ws/v1\n", port);
  fflush (stdout);

  for (int s = 1; s < opt_threads; s++)
    pthread_create (&shards[s].thread, NULL, shard_run, &shards[s]);
  shard_run (&shards[0]);
  for (int s = 1; s < opt_threads; s++)
    pthread_join (shards[s].thread, NULL);

  print_summary (shards, (clock_ms (CLOCK_MONOTONIC) - start_mono_ms) / 1000.0);
  return EXIT_SUCCESS;
}
