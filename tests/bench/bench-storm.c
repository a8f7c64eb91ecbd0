/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * bench-storm: N WebSocket clients connecting at once, as after a restart.
 *
 * bench-fanout connects through libsoup with a few handshakes in flight,
 * which measures a steady arrival rate, not a storm; and a libsoup client
 * spends more CPU per handshake than the servers under test. This client
 * is plain C and epoll: it starts N non-blocking connect()s at once (or
 * --parallel at a time), sends each upgrade request when its socket
 * connects, and times each handshake from connect() to the end of the
 * "101 Switching Protocols" headers. Then it reads and drops whatever the
 * server sends (answering pings) for --hold seconds and closes everything.
 *
 * It reports the time until the last handshake, the handshake times, the
 * failures, and the deltas of the host's TcpExt counters (ListenOverflows,
 * ListenDrops, SyncookiesSent, TCPSynRetrans from /proc/net/netstat): an
 * accept queue that overflows drops SYNs, which the client retransmits
 * 1 s later, then 3 s, 7 s... It prints figures and never judges them.
 *
 *   bench-storm [-n 1000] [--parallel N] [--hold 0] ws://127.0.0.1:PORT/ws/v1
 */

#define _GNU_SOURCE

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define RESPONSE_MAX 2048
#define MAX_EVENTS   512

typedef enum
{
  CLIENT_IDLE,
  CLIENT_CONNECTING,
  CLIENT_WAITING,       /* request sent, reading the response */
  CLIENT_OPEN,
  CLIENT_FAILED,
  CLIENT_CLOSED,        /* by the server, after the handshake */
} ClientState;

typedef struct
{
  int          fd;
  ClientState  state;
  double       start_us;
  double       done_us;
  size_t       response_len;
  char        *response;

  /* Frames after the handshake are skipped, but a ping must get its pong
   * or a server with keepalive (websockets: 20 s) closes the connection. */
  uint8_t      header[14];
  size_t       header_len;
  uint64_t     skip;           /* payload bytes left in the current frame */
  int          opcode;
  uint8_t      control[125];
  size_t       control_len;
} Client;

static int opt_clients = 1000;
static int opt_parallel = 0;      /* 0: all at once */
static int opt_hold_s = 0;
static int opt_timeout_s = 120;

static double
now_us (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

/* TcpExt counters ------------------------------------------------------ */

static const char * const counter_names[] = {
  "ListenOverflows", "ListenDrops", "SyncookiesSent", "TCPSynRetrans", NULL
};
#define N_COUNTERS 4

/* /proc/net/netstat holds pairs of lines: "TcpExt: names..." then
 * "TcpExt: values...". */
static void
read_tcpext (long long values[N_COUNTERS])
{
  char names[8192], numbers[8192];
  FILE *file = fopen ("/proc/net/netstat", "r");

  memset (values, 0, N_COUNTERS * sizeof values[0]);
  if (file == NULL)
    return;
  while (fgets (names, sizeof names, file) != NULL && fgets (numbers, sizeof numbers, file) != NULL)
    {
      char *name_save = NULL, *number_save = NULL;
      char *name, *number;

      if (strncmp (names, "TcpExt:", 7) != 0)
        continue;
      name = strtok_r (names + 7, " \n", &name_save);
      number = strtok_r (numbers + 7, " \n", &number_save);
      for (; name != NULL && number != NULL;
           name = strtok_r (NULL, " \n", &name_save), number = strtok_r (NULL, " \n", &number_save))
        for (int i = 0; i < N_COUNTERS; i++)
          if (strcmp (name, counter_names[i]) == 0)
            values[i] = atoll (number);
    }
  fclose (file);
}

/* Clients -------------------------------------------------------------- */

static struct sockaddr_in server;
static char request[512];
static size_t request_len;
static int epfd;
static int n_in_flight, n_done, n_failed, n_started, n_closed_after;
static const char *first_error, *first_close;

static void
client_fail (Client     *client,
             const char *why)
{
  if (first_error == NULL)
    first_error = why;
  if (client->fd >= 0)
    close (client->fd);
  client->fd = -1;
  client->state = CLIENT_FAILED;
  free (client->response);
  client->response = NULL;
  n_failed++;
  n_in_flight--;
}

static void
client_start (Client *client)
{
  struct epoll_event event = { .events = EPOLLOUT, .data.ptr = client };

  client->fd = socket (AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  client->start_us = now_us ();
  client->state = CLIENT_CONNECTING;
  n_in_flight++;
  n_started++;
  if (client->fd < 0)
    {
      client_fail (client, "socket() failed");
      return;
    }
  if (connect (client->fd, (struct sockaddr *) &server, sizeof server) < 0 && errno != EINPROGRESS)
    {
      client_fail (client, strerror (errno));
      return;
    }
  epoll_ctl (epfd, EPOLL_CTL_ADD, client->fd, &event);
}

/* Answers a ping with a pong carrying its payload. Client frames are
 * masked; a zero key leaves the payload as it is. */
static void
client_pong (Client *client)
{
  uint8_t frame[2 + 4 + sizeof client->control] = { 0x8a, (uint8_t) (0x80 | client->control_len) };

  memcpy (frame + 6, client->control, client->control_len);
  send (client->fd, frame, 6 + client->control_len, MSG_NOSIGNAL | MSG_DONTWAIT);
}

/* Walks the frames the server sends: headers parsed, payloads skipped. */
static void
client_consume (Client        *client,
                const uint8_t *p,
                size_t         n)
{
  while (n > 0)
    {
      size_t need, k;
      uint64_t length;

      if (client->skip > 0)
        {
          k = n < client->skip ? n : client->skip;
          if (client->opcode == 0x9 && client->control_len + k <= sizeof client->control)
            {
              memcpy (client->control + client->control_len, p, k);
              client->control_len += k;
            }
          p += k;
          n -= k;
          client->skip -= k;
          if (client->skip == 0 && client->opcode == 0x9)
            client_pong (client);
          continue;
        }

      client->header[client->header_len++] = *p++;
      n--;
      if (client->header_len < 2)
        continue;
      length = client->header[1] & 0x7f;
      need = 2 + (length == 126 ? 2 : length == 127 ? 8 : 0) + (client->header[1] & 0x80 ? 4 : 0);
      if (client->header_len < need)
        continue;

      if (length == 126)
        length = (client->header[2] << 8) | client->header[3];
      else if (length == 127)
        for (int i = 0, j = 2; i < 8; i++, j++)
          length = (i == 0 ? 0 : length << 8) | client->header[j];
      client->opcode = client->header[0] & 0x0f;
      client->skip = length;
      client->header_len = 0;
      client->control_len = 0;
      if (length == 0 && client->opcode == 0x9)
        client_pong (client);
    }
}

static void
client_event (Client   *client,
              uint32_t  events)
{
  char buffer[8192];
  ssize_t n;

  switch (client->state)
    {
    case CLIENT_CONNECTING:
      {
        struct epoll_event event = { .events = EPOLLIN, .data.ptr = client };
        int error = 0;
        socklen_t length = sizeof error;

        getsockopt (client->fd, SOL_SOCKET, SO_ERROR, &error, &length);
        if (error != 0)
          {
            client_fail (client, strerror (error));
            return;
          }
        if (send (client->fd, request, request_len, MSG_NOSIGNAL) != (ssize_t) request_len)
          {
            client_fail (client, "request not sent");
            return;
          }
        client->state = CLIENT_WAITING;
        client->response = malloc (RESPONSE_MAX);
        epoll_ctl (epfd, EPOLL_CTL_MOD, client->fd, &event);
        return;
      }

    case CLIENT_WAITING:
      n = recv (client->fd, client->response + client->response_len,
                RESPONSE_MAX - 1 - client->response_len, 0);
      if (n < 0 && errno == EAGAIN)
        return;
      if (n <= 0)
        {
          client_fail (client, n == 0 ? "closed during the handshake" : strerror (errno));
          return;
        }
      client->response_len += n;
      client->response[client->response_len] = '\0';
      if (strstr (client->response, "\r\n\r\n") == NULL)
        {
          if (client->response_len == RESPONSE_MAX - 1)
            client_fail (client, "response headers too long");
          return;
        }
      if (strncmp (client->response, "HTTP/1.1 101", 12) != 0)
        {
          client_fail (client, "no 101 Switching Protocols");
          return;
        }
      client->done_us = now_us ();
      client->state = CLIENT_OPEN;
      {
        char *body = strstr (client->response, "\r\n\r\n") + 4;

        client_consume (client, (uint8_t *) body, client->response + client->response_len - body);
      }
      free (client->response);
      client->response = NULL;
      n_done++;
      n_in_flight--;
      return;

    case CLIENT_OPEN:
      /* Keep the server's sends flowing, and answer its pings. */
      while ((n = recv (client->fd, buffer, sizeof buffer, 0)) > 0)
        client_consume (client, (uint8_t *) buffer, n);
      if (n == 0 || (errno != EAGAIN && errno != EINTR))
        {
          epoll_ctl (epfd, EPOLL_CTL_DEL, client->fd, NULL);
          close (client->fd);
          client->fd = -1;
          client->state = CLIENT_CLOSED;
          n_closed_after++;
          if (first_close == NULL)
            first_close = n == 0 ? "end of stream" : strerror (errno);
        }
      return;

    default:
      (void) events;
      return;
    }
}

/* Main ----------------------------------------------------------------- */

static int
compare_double (const void *a,
                const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return (x > y) - (x < y);
}

static int
parse_url (const char *url,
           char       *host_path,
           size_t      size)
{
  int port = 0;
  const char *path;

  if (strncmp (url, "ws://127.0.0.1:", 15) != 0)
    return 0;
  port = atoi (url + 15);
  path = strchr (url + 15, '/');
  snprintf (host_path, size, "%s", path ? path : "/");
  return port;
}

static void
usage (void)
{
  fprintf (stderr,
           "usage: bench-storm [-n N] [--parallel P] [--hold S] [--timeout S] ws://127.0.0.1:PORT/PATH\n"
           "  N clients connect at once (P at a time with --parallel) and do the WebSocket handshake.\n");
}

int
main (int   argc,
      char *argv[])
{
  static const struct option options[] = {
    { "connections", required_argument, NULL, 'n' },
    { "parallel", required_argument, NULL, 'P' },
    { "hold", required_argument, NULL, 'H' },
    { "timeout", required_argument, NULL, 'T' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 }
  };
  struct epoll_event events[MAX_EVENTS];
  long long before[N_COUNTERS], after[N_COUNTERS];
  struct rlimit limit;
  char path[256];
  Client *clients;
  double start_us, last_us = 0, *times;
  int port, c, next = 0, n_times = 0;

  while ((c = getopt_long (argc, argv, "n:h", options, NULL)) != -1)
    {
      switch (c)
        {
        case 'n': opt_clients = atoi (optarg); break;
        case 'P': opt_parallel = atoi (optarg); break;
        case 'H': opt_hold_s = atoi (optarg); break;
        case 'T': opt_timeout_s = atoi (optarg); break;
        default: usage (); return c == 'h' ? EXIT_SUCCESS : EXIT_FAILURE;
        }
    }
  if (optind != argc - 1 || opt_clients < 1 || opt_parallel < 0 ||
      (port = parse_url (argv[optind], path, sizeof path)) <= 0)
    {
      usage ();
      return EXIT_FAILURE;
    }
  if (opt_parallel == 0)
    opt_parallel = opt_clients;

  /* One fd per client. */
  getrlimit (RLIMIT_NOFILE, &limit);
  if (limit.rlim_cur < (rlim_t) opt_clients + 64)
    {
      limit.rlim_cur = limit.rlim_max;
      setrlimit (RLIMIT_NOFILE, &limit);
      getrlimit (RLIMIT_NOFILE, &limit);
      if (limit.rlim_cur < (rlim_t) opt_clients + 64)
        {
          fprintf (stderr, "bench-storm: RLIMIT_NOFILE %lu is too low for %d clients\n",
                   (unsigned long) limit.rlim_cur, opt_clients);
          return EXIT_FAILURE;
        }
    }

  server.sin_family = AF_INET;
  server.sin_port = htons (port);
  server.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  /* The key is fixed: the servers check its form, not its freshness. */
  request_len = snprintf (request, sizeof request,
                          "GET %s HTTP/1.1\r\n"
                          "Host: 127.0.0.1:%d\r\n"
                          "Upgrade: websocket\r\n"
                          "Connection: Upgrade\r\n"
                          "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                          "Sec-WebSocket-Version: 13\r\n\r\n", path, port);

  epfd = epoll_create1 (EPOLL_CLOEXEC);
  clients = calloc (opt_clients, sizeof (Client));
  for (int i = 0; i < opt_clients; i++)
    clients[i].fd = -1;

  read_tcpext (before);
  start_us = now_us ();
  while (n_done + n_failed < opt_clients && now_us () - start_us < opt_timeout_s * 1e6)
    {
      int n;

      while (next < opt_clients && n_in_flight < opt_parallel)
        client_start (&clients[next++]);

      n = epoll_wait (epfd, events, MAX_EVENTS, 100);
      for (int i = 0; i < n; i++)
        client_event (events[i].data.ptr, events[i].events);
    }
  read_tcpext (after);

  times = calloc (opt_clients + 1, sizeof (double));
  for (int i = 0; i < opt_clients; i++)
    if (clients[i].done_us > 0)
      {
        times[n_times++] = (clients[i].done_us - clients[i].start_us) / 1000;
        if (clients[i].done_us > last_us)
          last_us = clients[i].done_us;
      }
  qsort (times, n_times, sizeof (double), compare_double);

#define PCT(f) (n_times ? times[(int) ((n_times - 1) * (f))] : 0.0)
  printf ("bench-storm: %d clients to %s, %d handshakes in flight at most\n",
          opt_clients, argv[optind], opt_parallel);
  printf ("storm        %d/%d handshakes in %.3f s (first connect() to last 101), %d failed%s%s, "
          "%d unfinished after %d s\n",
          n_done, opt_clients, n_times ? (last_us - start_us) / 1e6 : 0.0, n_failed,
          first_error ? "; first: " : "", first_error ? first_error : "",
          opt_clients - n_done - n_failed, opt_timeout_s);
  printf ("handshake    connect() to 101: p50 %.1f ms, p90 %.1f ms, p99 %.1f ms, max %.1f ms\n",
          PCT (0.5), PCT (0.9), PCT (0.99), PCT (1.0));
  printf ("tcpext      ");
  for (int i = 0; i < N_COUNTERS; i++)
    printf (" %s +%lld", counter_names[i], after[i] - before[i]);
  printf (" (host-wide)\n");
  fflush (stdout);
#undef PCT

  /* Hold the connections, reading what the server sends. */
  for (double end = now_us () + opt_hold_s * 1e6; now_us () < end;)
    {
      int n = epoll_wait (epfd, events, MAX_EVENTS, 100);

      for (int i = 0; i < n; i++)
        client_event (events[i].data.ptr, events[i].events);
    }

  printf ("closed       %d connections closed by the server after their handshake%s%s\n",
          n_closed_after, first_close ? "; first: " : "", first_close ? first_close : "");

  for (int i = 0; i < opt_clients; i++)
    if (clients[i].fd >= 0)
      close (clients[i].fd);
  return n_done > 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
