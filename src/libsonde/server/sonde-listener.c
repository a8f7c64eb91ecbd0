/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include "sonde-budget-stream-private.h"
#include "sonde-connection-contexts-private.h"
#include "sonde-listener-private.h"
#include "sonde-nested-context-private.h"
#include "sonde-ready-time-source-private.h"

/* A connection reads a burst, then a sustained rate: a monitoring client
 * sends little (a 64 KiB request body, a subscription, pings). */
#define BUDGET_BURST        (1024 * 1024)
#define BUDGET_RATE         (64 * 1024)
/* A storm of connections (a restart behind thousands of dashboards):
 * the kernel's accept queue is emptied at each wakeup, as a full one drops
 * SYNs that clients retry only a second later; what was accepted is then
 * started a batch per dispatch, other sources running between batches. */
#define MAX_PENDING          16384
#define STARTS_PER_DISPATCH  256
/* How long accepting pauses when descriptors run out. */
#define EMFILE_PAUSE_MS      100

struct _SondeListener
{
  GSocket         *socket;
  SoupServer      *soup_server;   /* weak */
  GTlsCertificate *certificate;
  SondeAdmission  *admission;
  GMainContext    *context;       /* where its own sources run */
  gboolean         spread;        /* connections over the shared contexts */
  GSource         *accept_source;
  GSource         *resume_source;
  GQueue           pending;       /* GSocket: accepted, not started */
  GSource         *start_source;  /* ready while some are pending */
  SondeFdWatch    *fd_watch;      /* of its plain connections, unless spread */
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

/* Run with the connection's context as the thread-default one: there go
 * the sources made for it, now and as they run. */
static void
start_connection (SondeListener *self,
                  GSocket       *client,
                  SondeFdWatch  *fd_watch)
{
  g_autoptr(GSocketConnection) connection = NULL;
  g_autoptr(GSocketAddress) local = g_socket_get_local_address (client, NULL);
  g_autoptr(GSocketAddress) remote = g_socket_get_remote_address (client, NULL);
  g_autoptr(SondeBudgetStream) budget = NULL;
  SondeAdmitted *admitted = NULL;

  if (local != NULL && remote != NULL && self->soup_server != NULL)
    admitted = _sonde_admission_admit (self->admission, remote);
  if (admitted == NULL)
    {
      g_socket_close (client, NULL);
      return;
    }

  g_socket_set_option (client, IPPROTO_TCP, TCP_NODELAY, TRUE, NULL);
  connection = g_socket_connection_factory_create_connection (client);
  /* A TLS layer reads its base stream from threads of its own. */
  budget = _sonde_budget_stream_new (G_IO_STREAM (connection), self->certificate ? NULL : fd_watch,
                                     BUDGET_BURST, BUDGET_RATE);

  _sonde_admitted_attach (admitted, budget);

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
      g_tls_connection_handshake_async (G_TLS_CONNECTION (tls), G_PRIORITY_DEFAULT,
                                        _sonde_admitted_new_handshake (admitted),
                                        handshake_cb, handover);
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

  _sonde_source_clear (&self->accept_source);
  self->resume_source = _sonde_timeout_source_attach (EMFILE_PAUSE_MS, resume_cb, self,
                                                      "[sonde] resume accepting");
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
    _sonde_source_clear (&self->accept_source);

  return self->accept_source != NULL ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
}

static gboolean
start_pending_cb (gpointer data)
{
  SondeListener *self = data;

  for (guint i = 0; i < STARTS_PER_DISPATCH && !g_queue_is_empty (&self->pending); i++)
    {
      g_autoptr(GSocket) client = g_queue_pop_head (&self->pending);
      SondeFdWatch *fd_watch = self->fd_watch;
      GMainContext *context = self->spread ? _sonde_connection_contexts_next (&fd_watch) : self->context;

      g_main_context_push_thread_default (context);
      start_connection (self, client, fd_watch);
      g_main_context_pop_thread_default (context);
    }

  if (g_queue_is_empty (&self->pending))
    g_source_set_ready_time (self->start_source, -1);

  /* Out of descriptors, accepting resumes on its own. */
  if (self->accept_source == NULL && self->resume_source == NULL && self->pending.length < MAX_PENDING)
    watch_socket (self);
  return G_SOURCE_CONTINUE;
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

  /* A server of the global default context spreads its connections over
   * contexts nested in it (sonde-connection-contexts-private.h); a server
   * run in another context keeps them in that one. */
  self->context = g_main_context_ref_thread_default ();
  self->spread = self->context == g_main_context_default ();
  if (self->spread)
    {
      g_main_context_unref (self->context);
      self->context = g_main_context_ref (_sonde_connection_contexts_next (NULL));
    }
  else if (certificate == NULL)
    {
      self->fd_watch = _sonde_fd_watch_new ();
    }

  g_socket_set_blocking (socket, FALSE);
  watch_socket (self);

  self->start_source = _sonde_ready_time_source_new (start_pending_cb, self, "[sonde] start connections");
  g_source_attach (self->start_source, self->context);
  return self;
}

void
_sonde_listener_free (SondeListener *self)
{
  if (self == NULL)
    return;

  _sonde_source_clear (&self->accept_source);
  _sonde_source_clear (&self->resume_source);
  _sonde_source_clear (&self->start_source);
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
