/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>

#include "sonde-budget-stream-private.h"
#include "sonde-listener-private.h"
#include "sonde-nested-context-private.h"

/* A connection must send a whole request (and finish its TLS handshake)
 * this soon after it is accepted, and an HTTP exchange end this soon
 * after its request was read; WebSockets live on. */
#define REQUEST_DEADLINE_S  15
#define RESPONSE_DEADLINE_S 60
/* A connection reads a burst, then a sustained rate: a monitoring client
 * sends little (a 64 KiB request body, a subscription, pings). */
#define BUDGET_BURST        (1024 * 1024)
#define BUDGET_RATE         (64 * 1024)
/* Descriptors kept for the rest of the process (plugins' kept-open
 * files, logs, D-Bus) when the connection cap comes from the limit. */
#define RESERVED_FDS        256
/* The processes collector keeps up to min (4096, limit / 4) PID/stat files
 * open between ticks (MAX_OPEN_STAT_FILES in
 * plugins/processes/sonde-processes-collector.c): the connection cap
 * leaves those to it too. */
#define KEPT_STAT_FILES_MAX 4096
#define MAX_CONNECTIONS_CAP 65536
/* Peers that are not this machine may hold this many connections each. */
#define DEFAULT_MAX_PER_REMOTE_PEER 512
/* A storm of connections (a restart behind thousands of dashboards):
 * the kernel's accept queue is emptied at each wakeup, as a full one drops
 * SYNs that clients retry only a second later; what was accepted is then
 * started a batch per dispatch, other sources running between batches. */
#define MAX_PENDING          16384
#define STARTS_PER_DISPATCH  256
/* How long accepting pauses when descriptors run out. */
#define EMFILE_PAUSE_MS      100

struct _SondeAdmission
{
  guint       max_connections;
  guint       max_per_peer;
  guint       n_connections;
  guint64     n_refused;
  GHashTable *per_peer;   /* IP address -> count */
  GHashTable *by_key;     /* "IP:port" -> Admitted, unowned */
  gint64      last_refusal_log_us;
};

typedef struct
{
  SondeAdmission    *admission;
  char              *peer;         /* the IP address */
  char              *key;          /* IP:port, how libsoup's messages name it */
  SondeBudgetStream *stream;       /* unowned: it owns us */
  GCancellable      *handshake;    /* the TLS handshake's, cancelled at the deadline */
  GSource           *deadline;
} Admitted;

/* A timeout of the thread-default context: a connection's sources stay
 * in the context it runs in (sonde-nested-context-private.h), which
 * g_timeout_add() would not. */
static GSource *
add_timeout (guint       milliseconds,
             GSourceFunc func,
             gpointer    data,
             const char *name)
{
  GSource *source = g_timeout_source_new (milliseconds);

  g_source_set_callback (source, func, data, NULL);
  g_source_set_name (source, name);
  g_source_attach (source, g_main_context_get_thread_default ());
  return source;
}

static void
clear_source (GSource **source)
{
  if (*source == NULL)
    return;
  g_source_destroy (*source);
  g_clear_pointer (source, g_source_unref);
}

static void
admission_release (SondeAdmission *self)
{
  g_hash_table_unref (self->per_peer);
  g_hash_table_unref (self->by_key);
}

static guint
default_max_connections (void)
{
  struct rlimit limit;

  if (getrlimit (RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY)
    return MAX_CONNECTIONS_CAP;
  if (limit.rlim_cur <= 2 * RESERVED_FDS)
    return MAX (limit.rlim_cur / 2, 1);
  return MIN (limit.rlim_cur - RESERVED_FDS - MIN (KEPT_STAT_FILES_MAX, limit.rlim_cur / 4),
              MAX_CONNECTIONS_CAP);
}

SondeAdmission *
_sonde_admission_new (void)
{
  SondeAdmission *self = g_rc_box_new0 (SondeAdmission);

  self->max_connections = default_max_connections ();
  self->max_per_peer = DEFAULT_MAX_PER_REMOTE_PEER;
  self->per_peer = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->by_key = g_hash_table_new (g_str_hash, g_str_equal);
  return self;
}

SondeAdmission *
_sonde_admission_ref (SondeAdmission *self)
{
  return g_rc_box_acquire (self);
}

void
_sonde_admission_unref (SondeAdmission *self)
{
  g_rc_box_release_full (self, (GDestroyNotify) admission_release);
}

/* 0 keeps a limit as it is. */
void
_sonde_admission_set_limits (SondeAdmission *self,
                             guint           max_connections,
                             guint           max_per_peer)
{
  if (max_connections > 0)
    self->max_connections = max_connections;
  if (max_per_peer > 0)
    self->max_per_peer = max_per_peer;
}

guint
_sonde_admission_get_max_connections (SondeAdmission *self)
{
  return self->max_connections;
}

guint
_sonde_admission_get_n_connections (SondeAdmission *self)
{
  return self->n_connections;
}

guint64
_sonde_admission_get_n_refused (SondeAdmission *self)
{
  return self->n_refused;
}

static gboolean
is_loopback (GInetAddress *address)
{
  return g_inet_address_get_is_loopback (address);
}

/* Loopback peers share the global cap only: every local client comes
 * from 127.0.0.1. */
static gboolean
admit (SondeAdmission *self,
       GInetAddress   *address,
       const char     *peer)
{
  guint n_peer = GPOINTER_TO_UINT (g_hash_table_lookup (self->per_peer, peer));
  gboolean ok = self->n_connections < self->max_connections &&
                (is_loopback (address) || n_peer < self->max_per_peer);

  if (!ok)
    {
      gint64 now = g_get_monotonic_time ();

      self->n_refused++;
      if (now - self->last_refusal_log_us > 10 * G_USEC_PER_SEC)
        {
          self->last_refusal_log_us = now;
          g_warning ("Refusing connections: %u open (at most %u, %u per remote peer); "
                     "%" G_GUINT64_FORMAT " refused so far",
                     self->n_connections, self->max_connections, self->max_per_peer,
                     self->n_refused);
        }
      return FALSE;
    }

  self->n_connections++;
  g_hash_table_insert (self->per_peer, g_strdup (peer), GUINT_TO_POINTER (n_peer + 1));
  return TRUE;
}

static void
admitted_free (Admitted *admitted)
{
  SondeAdmission *self = admitted->admission;
  guint n_peer = GPOINTER_TO_UINT (g_hash_table_lookup (self->per_peer, admitted->peer));

  clear_source (&admitted->deadline);
  g_clear_object (&admitted->handshake);

  if (g_hash_table_lookup (self->by_key, admitted->key) == admitted)
    g_hash_table_remove (self->by_key, admitted->key);
  if (n_peer > 1)
    g_hash_table_insert (self->per_peer, g_strdup (admitted->peer), GUINT_TO_POINTER (n_peer - 1));
  else
    g_hash_table_remove (self->per_peer, admitted->peer);
  self->n_connections--;

  g_free (admitted->peer);
  g_free (admitted->key);
  _sonde_admission_unref (self);
  g_free (admitted);
}

/* The connection closed: it leaves the counts. */
static void
admitted_closed (gpointer data)
{
  Admitted *admitted = data;

  admitted->stream = NULL;
  clear_source (&admitted->deadline);
}

static gboolean
deadline_cb (gpointer data)
{
  Admitted *admitted = data;

  g_clear_pointer (&admitted->deadline, g_source_unref);
  if (admitted->handshake != NULL)
    g_cancellable_cancel (admitted->handshake);
  if (admitted->stream != NULL && !g_io_stream_is_closed (G_IO_STREAM (admitted->stream)))
    g_io_stream_close_async (G_IO_STREAM (admitted->stream), G_PRIORITY_DEFAULT, NULL, NULL, NULL);
  return G_SOURCE_REMOVE;
}

static void
set_deadline (Admitted *admitted,
              guint     seconds)
{
  clear_source (&admitted->deadline);
  if (seconds == 0)
    return;

  admitted->deadline = add_timeout (seconds * 1000, deadline_cb, admitted, "[sonde] request deadline");
}

static char *
address_key (GSocketAddress *address)
{
  GInetAddress *inet;
  g_autofree char *ip = NULL;

  if (!G_IS_INET_SOCKET_ADDRESS (address))
    return NULL;

  inet = g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (address));
  ip = g_inet_address_to_string (inet);
  return g_strdup_printf ("%s:%u", ip, g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (address)));
}

void
_sonde_admission_request_read (SondeAdmission *self,
                               GSocketAddress *remote,
                               gboolean        upgraded)
{
  g_autofree char *key = address_key (remote);
  Admitted *admitted = key ? g_hash_table_lookup (self->by_key, key) : NULL;

  if (admitted != NULL)
    set_deadline (admitted, upgraded ? 0 : RESPONSE_DEADLINE_S);
}

/* The listener --------------------------------------------------------- */

struct _SondeListener
{
  GSocket         *socket;
  SoupServer      *soup_server;   /* weak */
  GTlsCertificate *certificate;
  SondeAdmission  *admission;
  GMainContext    *context;       /* where its connections run */
  GSource         *accept_source;
  GSource         *resume_source;
  GQueue           pending;       /* GSocket: accepted, not started */
  GSource         *start_source;  /* ready while some are pending */
  SondeFdWatch    *fd_watch;      /* of its plain connections; NULL with TLS */
  gint64           last_emfile_log_us;
};

typedef struct
{
  SoupServer     *soup_server;
  GSocketAddress *local;
  GSocketAddress *remote;
} Handover;

static void
handover_free (Handover *handover)
{
  g_clear_object (&handover->soup_server);
  g_clear_object (&handover->local);
  g_clear_object (&handover->remote);
  g_free (handover);
}

static void
hand_to_soup (SoupServer     *soup_server,
              GIOStream      *stream,
              GSocketAddress *local,
              GSocketAddress *remote)
{
  g_autoptr(GError) error = NULL;

  if (!soup_server_accept_iostream (soup_server, stream, local, remote, &error))
    {
      g_debug ("libsoup refused a connection: %s", error->message);
      g_io_stream_close_async (stream, G_PRIORITY_DEFAULT, NULL, NULL, NULL);
    }
}

static void
handshake_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  Handover *handover = user_data;
  GTlsConnection *tls = G_TLS_CONNECTION (source);
  g_autoptr(GError) error = NULL;

  if (g_tls_connection_handshake_finish (tls, result, &error))
    {
      hand_to_soup (handover->soup_server, G_IO_STREAM (tls), handover->local, handover->remote);
    }
  else
    {
      g_debug ("TLS handshake failed: %s", error->message);
      g_io_stream_close_async (G_IO_STREAM (tls), G_PRIORITY_DEFAULT, NULL, NULL, NULL);
    }

  /* libsoup may have closed the connection already (the peer left), and
   * freed what was admitted with it: nothing of it is touched here. */
  handover_free (handover);
  g_object_unref (tls);
}

/* The server side of TLS on @base. Clients present no certificate, so the
 * connection gets no CA database: with the default one, glib-networking
 * parses the whole system trust store for each connection (megabytes and
 * milliseconds per handshake). */
static GIOStream *
new_tls_connection (GIOStream        *base,
                    GTlsCertificate  *certificate,
                    GError          **error)
{
  GType type = g_tls_backend_get_server_connection_type (g_tls_backend_get_default ());

  return g_initable_new (type, NULL, error,
                         "base-io-stream", base,
                         "certificate", certificate,
                         "database", NULL,
                         "require-close-notify", FALSE,
                         NULL);
}

static void
start_connection (SondeListener *self,
                  GSocket       *client)
{
  g_autoptr(GSocketConnection) connection = NULL;
  g_autoptr(GSocketAddress) local = g_socket_get_local_address (client, NULL);
  g_autoptr(GSocketAddress) remote = g_socket_get_remote_address (client, NULL);
  g_autoptr(SondeBudgetStream) budget = NULL;
  g_autofree char *key = remote ? address_key (remote) : NULL;
  GInetAddress *peer_address;
  g_autofree char *peer = NULL;
  Admitted *admitted;

  if (local == NULL || key == NULL || self->soup_server == NULL)
    {
      g_socket_close (client, NULL);
      return;
    }

  peer_address = g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (remote));
  peer = g_inet_address_to_string (peer_address);
  if (!admit (self->admission, peer_address, peer))
    {
      g_socket_close (client, NULL);
      return;
    }

  g_socket_set_option (client, IPPROTO_TCP, TCP_NODELAY, TRUE, NULL);
  connection = g_socket_connection_factory_create_connection (client);
  budget = _sonde_budget_stream_new (G_IO_STREAM (connection), self->fd_watch, BUDGET_BURST, BUDGET_RATE);

  admitted = g_new0 (Admitted, 1);
  admitted->admission = _sonde_admission_ref (self->admission);
  admitted->peer = g_steal_pointer (&peer);
  admitted->key = g_steal_pointer (&key);
  admitted->stream = budget;
  g_hash_table_replace (self->admission->by_key, admitted->key, admitted);
  _sonde_budget_stream_set_closed_func (budget, admitted_closed, admitted, (GDestroyNotify) admitted_free);
  set_deadline (admitted, REQUEST_DEADLINE_S);

  if (self->certificate != NULL)
    {
      g_autoptr(GError) error = NULL;
      GIOStream *tls = new_tls_connection (G_IO_STREAM (budget), self->certificate, &error);
      Handover *handover;

      if (tls == NULL)
        {
          g_warning ("Cannot serve TLS: %s", error->message);
          g_io_stream_close_async (G_IO_STREAM (budget), G_PRIORITY_DEFAULT, NULL, NULL, NULL);
          return;
        }

      handover = g_new0 (Handover, 1);
      handover->soup_server = g_object_ref (self->soup_server);
      handover->local = g_object_ref (local);
      handover->remote = g_object_ref (remote);
      admitted->handshake = g_cancellable_new ();
      g_tls_connection_handshake_async (G_TLS_CONNECTION (tls), G_PRIORITY_DEFAULT,
                                        admitted->handshake, handshake_cb, handover);
      return;
    }

  hand_to_soup (self->soup_server, G_IO_STREAM (budget), local, remote);
}

static gboolean accept_cb (GSocket *socket, GIOCondition condition, gpointer data);

static void
watch_socket (SondeListener *self)
{
  self->accept_source = g_socket_create_source (self->socket, G_IO_IN, NULL);
  g_source_set_callback (self->accept_source, G_SOURCE_FUNC (accept_cb), self, NULL);
  g_source_set_name (self->accept_source, "[sonde] accept");
  g_source_attach (self->accept_source, self->context);
}

static gboolean
resume_cb (gpointer data)
{
  SondeListener *self = data;

  g_clear_pointer (&self->resume_source, g_source_unref);
  watch_socket (self);
  return G_SOURCE_REMOVE;
}

/* Out of descriptors: stop watching the socket (it would wake us at once
 * again) and try again shortly, as closing connections free some. */
static void
pause_accepting (SondeListener *self,
                 const GError  *error)
{
  gint64 now = g_get_monotonic_time ();

  if (now - self->last_emfile_log_us > 10 * G_USEC_PER_SEC)
    {
      self->last_emfile_log_us = now;
      g_warning ("Cannot accept connections (%s); retrying every %d ms", error->message, EMFILE_PAUSE_MS);
    }

  clear_source (&self->accept_source);
  self->resume_source = add_timeout (EMFILE_PAUSE_MS, resume_cb, self, "[sonde] resume accepting");
}

static gboolean
accept_cb (GSocket      *socket,
           GIOCondition  condition,
           gpointer      data)
{
  SondeListener *self = data;

  for (guint i = 0; i < MAX_PENDING && self->pending.length < MAX_PENDING; i++)
    {
      g_autoptr(GError) error = NULL;
      GSocket *client = g_socket_accept (socket, NULL, &error);

      if (client != NULL)
        {
          g_queue_push_tail (&self->pending, client);
          continue;
        }

      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
        break;

      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TOO_MANY_OPEN_FILES) ||
          g_error_matches (error, G_IO_ERROR, G_IO_ERROR_NO_SPACE))
        {
          pause_accepting (self, error);
          break;
        }

      /* A connection reset before it was accepted, and the like. */
      g_debug ("accept() failed: %s", error->message);
    }

  if (!g_queue_is_empty (&self->pending))
    g_source_set_ready_time (self->start_source, 0);

  /* The rest waits in the kernel's queue until a batch is started. */
  if (self->accept_source != NULL && self->pending.length >= MAX_PENDING)
    clear_source (&self->accept_source);

  return self->accept_source != NULL ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
}

static gboolean
start_pending_cb (gpointer data)
{
  SondeListener *self = data;

  for (guint i = 0; i < STARTS_PER_DISPATCH && !g_queue_is_empty (&self->pending); i++)
    {
      g_autoptr(GSocket) client = g_queue_pop_head (&self->pending);

      start_connection (self, client);
    }

  if (g_queue_is_empty (&self->pending))
    g_source_set_ready_time (self->start_source, -1);

  /* Out of descriptors, accepting resumes on its own. */
  if (self->accept_source == NULL && self->resume_source == NULL && self->pending.length < MAX_PENDING)
    watch_socket (self);
  return G_SOURCE_CONTINUE;
}

static gboolean
ready_time_source_dispatch (GSource     *source,
                            GSourceFunc  callback,
                            gpointer     data)
{
  return callback (data);
}

static GSourceFuncs ready_time_source_funcs = {
  NULL, NULL, ready_time_source_dispatch, NULL, NULL, NULL,
};

/* Where a listener's connections run: for a server of the global default
 * context, a context nested in it (sonde-nested-context-private.h), made
 * once and kept, as that one is, for the life of the process; for a
 * server run in another context, that context. */
static GMainContext *
connections_context (void)
{
  static SondeNestedContext *nested = NULL;
  GMainContext *current = g_main_context_get_thread_default ();

  if (current != NULL && current != g_main_context_default ())
    return g_main_context_ref (current);

  if (g_once_init_enter (&nested))
    g_once_init_leave (&nested, _sonde_nested_context_new (g_main_context_default ()));
  return g_main_context_ref (_sonde_nested_context_get_context (nested));
}

SondeListener *
_sonde_listener_new (GSocket         *socket,
                     SoupServer      *soup_server,
                     GTlsCertificate *certificate,
                     SondeAdmission  *admission)
{
  SondeListener *self = g_new0 (SondeListener, 1);

  self->socket = g_object_ref (socket);
  self->soup_server = soup_server;
  g_object_add_weak_pointer (G_OBJECT (soup_server), (gpointer *) &self->soup_server);
  self->certificate = certificate ? g_object_ref (certificate) : NULL;
  self->admission = _sonde_admission_ref (admission);
  self->context = connections_context ();

  g_main_context_push_thread_default (self->context);
  /* A TLS layer reads its base stream from threads of its own. */
  if (certificate == NULL)
    self->fd_watch = _sonde_fd_watch_new ();
  g_main_context_pop_thread_default (self->context);

  g_socket_set_blocking (socket, FALSE);
  watch_socket (self);

  /* Dispatched at its ready time only. */
  self->start_source = g_source_new (&ready_time_source_funcs, sizeof (GSource));
  g_source_set_callback (self->start_source, start_pending_cb, self, NULL);
  g_source_set_name (self->start_source, "[sonde] start connections");
  g_source_set_ready_time (self->start_source, -1);
  g_source_attach (self->start_source, self->context);
  return self;
}

void
_sonde_listener_free (SondeListener *self)
{
  if (self == NULL)
    return;

  clear_source (&self->accept_source);
  clear_source (&self->resume_source);
  clear_source (&self->start_source);
  g_queue_clear_full (&self->pending, g_object_unref);
  if (self->soup_server != NULL)
    g_object_remove_weak_pointer (G_OBJECT (self->soup_server), (gpointer *) &self->soup_server);
  g_socket_close (self->socket, NULL);
  g_clear_object (&self->socket);
  g_clear_object (&self->certificate);
  _sonde_admission_unref (self->admission);
  g_clear_pointer (&self->fd_watch, _sonde_fd_watch_unref);
  g_main_context_unref (self->context);
  g_free (self);
}

SoupServer *
_sonde_listener_get_soup_server (SondeListener *self)
{
  return self->soup_server;
}

GInetSocketAddress *
_sonde_listener_get_address (SondeListener *self)
{
  GSocketAddress *address = g_socket_get_local_address (self->socket, NULL);

  return G_IS_INET_SOCKET_ADDRESS (address) ? G_INET_SOCKET_ADDRESS (address) : NULL;
}
