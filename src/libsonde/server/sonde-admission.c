/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <sys/resource.h>

#include "sonde-admission-private.h"
#include "sonde-nested-context-private.h"

/* How many connections a server holds, from whom, and how long each may
 * take to send its request. */

/* A connection must send a whole request (and finish its TLS handshake)
 * this soon after it is accepted, and an HTTP exchange end this soon
 * after its request was read; WebSockets live on. */
#define REQUEST_DEADLINE_S  15
#define RESPONSE_DEADLINE_S 60
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

struct _SondeAdmission
{
  guint       max_connections;
  guint       max_per_peer;
  guint       n_connections;
  guint64     n_refused;
  GHashTable *per_peer;   /* IP address -> count */
  GHashTable *by_key;     /* "IP:port" -> SondeAdmitted, unowned */
  gint64      last_refusal_log_us;
};

struct _SondeAdmitted
{
  SondeAdmission    *admission;
  char              *peer;         /* the IP address */
  char              *key;          /* IP:port, how libsoup's messages name it */
  SondeBudgetStream *stream;       /* unowned: it owns us */
  GCancellable      *handshake;    /* the TLS handshake's, cancelled at the deadline */
  GSource           *deadline;
};

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

static void
admitted_free (SondeAdmitted *admitted)
{
  SondeAdmission *self = admitted->admission;
  guint n_peer = GPOINTER_TO_UINT (g_hash_table_lookup (self->per_peer, admitted->peer));

  _sonde_source_clear (&admitted->deadline);
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
  SondeAdmitted *admitted = data;

  admitted->stream = NULL;
  _sonde_source_clear (&admitted->deadline);
}

static gboolean
deadline_cb (gpointer data)
{
  SondeAdmitted *admitted = data;

  g_clear_pointer (&admitted->deadline, g_source_unref);
  if (admitted->handshake != NULL)
    g_cancellable_cancel (admitted->handshake);
  if (admitted->stream != NULL && !g_io_stream_is_closed (G_IO_STREAM (admitted->stream)))
    g_io_stream_close_async (G_IO_STREAM (admitted->stream), G_PRIORITY_DEFAULT, NULL, NULL, NULL);
  return G_SOURCE_REMOVE;
}

static void
set_deadline (SondeAdmitted *admitted,
              guint          seconds)
{
  _sonde_source_clear (&admitted->deadline);
  if (seconds == 0)
    return;

  admitted->deadline = _sonde_timeout_source_attach (seconds * 1000, deadline_cb, admitted,
                                                     "[sonde] request deadline");
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

SondeAdmitted *
_sonde_admission_admit (SondeAdmission *self,
                        GSocketAddress *remote)
{
  g_autofree char *key = address_key (remote);
  GInetAddress *address;
  g_autofree char *peer = NULL;
  SondeAdmitted *admitted;

  if (key == NULL)
    return NULL;

  address = g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (remote));
  peer = g_inet_address_to_string (address);
  if (!admit (self, address, peer))
    return NULL;

  admitted = g_new0 (SondeAdmitted, 1);
  admitted->admission = _sonde_admission_ref (self);
  admitted->peer = g_steal_pointer (&peer);
  admitted->key = g_steal_pointer (&key);
  return admitted;
}

void
_sonde_admitted_attach (SondeAdmitted     *admitted,
                        SondeBudgetStream *stream)
{
  admitted->stream = stream;
  g_hash_table_replace (admitted->admission->by_key, admitted->key, admitted);
  _sonde_budget_stream_set_closed_func (stream, admitted_closed, admitted, (GDestroyNotify) admitted_free);
  set_deadline (admitted, REQUEST_DEADLINE_S);
}

GCancellable *
_sonde_admitted_new_handshake (SondeAdmitted *admitted)
{
  g_clear_object (&admitted->handshake);
  admitted->handshake = g_cancellable_new ();
  return admitted->handshake;
}

void
_sonde_admission_request_read (SondeAdmission *self,
                               GSocketAddress *remote,
                               gboolean        upgraded)
{
  g_autofree char *key = address_key (remote);
  SondeAdmitted *admitted = key ? g_hash_table_lookup (self->by_key, key) : NULL;

  if (admitted != NULL)
    set_deadline (admitted, upgraded ? 0 : RESPONSE_DEADLINE_S);
}

