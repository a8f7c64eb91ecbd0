/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "sonde-budget-stream-private.h"
#include "sonde-fd-watch-private.h"
#include "sonde-frame-output-stream-private.h"

/* On close, what a peer still sends is read and thrown away for this long
 * (and at most this much) after the write side is shut, so that it gets
 * what was written before it, not a reset. */
#define LINGER_MS         1000
#define LINGER_MAX_BYTES  (256 * 1024)
/* With no tokens left, reading waits for this many to come back. */
#define REFILL_BYTES      1024.0
/* A trickle without messages (a client's pings) does not add up: after
 * this long, fewer bytes than this since the mark move the mark. */
#define TRICKLE_SECONDS   60
#define TRICKLE_BYTES     (64 * 1024)

/* The input side --------------------------------------------------------- */

#define SONDE_TYPE_BUDGET_INPUT_STREAM (sonde_budget_input_stream_get_type ())
G_DECLARE_FINAL_TYPE (SondeBudgetInputStream, sonde_budget_input_stream, SONDE, BUDGET_INPUT_STREAM, GInputStream)

struct _SondeBudgetInputStream
{
  GInputStream   parent_instance;

  GInputStream  *base;
  GOutputStream *peer_output;  /* the connection's output */
  GSocket       *socket;       /* under both, or NULL */
  SondeFdWatch  *watch;        /* NULL: sources poll the socket themselves */
  SondeFdWatchEntry watch_entry;
  /* A TLS layer above may read from another thread. */
  GMutex         lock;
  double         tokens;
  double         burst;
  double         rate;         /* bytes per second */
  gint64         updated_us;
  guint64        bytes_read;
  guint64        mark;          /* bytes_read at the last complete message */
  gint64         mark_us;
  guint64        message_limit; /* 0: none */
  gboolean       over_limit;    /* then nothing more is read */
};

static void sonde_budget_input_stream_pollable_init (GPollableInputStreamInterface *iface);
static void over_limit (SondeBudgetInputStream *self);

G_DEFINE_FINAL_TYPE_WITH_CODE (SondeBudgetInputStream, sonde_budget_input_stream, G_TYPE_INPUT_STREAM,
                               G_IMPLEMENT_INTERFACE (G_TYPE_POLLABLE_INPUT_STREAM,
                                                      sonde_budget_input_stream_pollable_init))

/* Under the lock. */
static void
refill (SondeBudgetInputStream *self)
{
  gint64 now = g_get_monotonic_time ();

  self->tokens = MIN (self->burst, self->tokens + (now - self->updated_us) * self->rate / G_USEC_PER_SEC);
  self->updated_us = now;
}

static void
charge (SondeBudgetInputStream *self,
        gssize                  n)
{
  gboolean over = FALSE;

  if (n <= 0)
    return;

  g_mutex_lock (&self->lock);
  self->tokens -= n;
  self->bytes_read += n;
  if (self->updated_us - self->mark_us > TRICKLE_SECONDS * G_USEC_PER_SEC &&
      self->bytes_read - self->mark < TRICKLE_BYTES)
    {
      self->mark = self->bytes_read;
      self->mark_us = self->updated_us;
    }
  if (self->message_limit > 0 && !self->over_limit &&
      self->bytes_read - self->mark > self->message_limit)
    over = self->over_limit = TRUE;
  g_mutex_unlock (&self->lock);

  if (over)
    over_limit (self);
}

/* Whether the peer leaves what it is sent unread: then nothing more of
 * what it sends is read (its pings would queue pongs, its requests
 * answers). */
static gboolean
peer_is_full (SondeBudgetInputStream *self)
{
  return G_IS_POLLABLE_OUTPUT_STREAM (self->peer_output) &&
         g_pollable_output_stream_can_poll (G_POLLABLE_OUTPUT_STREAM (self->peer_output)) &&
         !g_pollable_output_stream_is_writable (G_POLLABLE_OUTPUT_STREAM (self->peer_output));
}

/* How many bytes may be read now (0: none), and if none because of the
 * budget, in how many milliseconds some will be. */
static gsize
allowance (SondeBudgetInputStream *self,
           guint                  *wait_ms)
{
  gsize allowed;

  g_mutex_lock (&self->lock);
  refill (self);
  allowed = self->tokens >= 1.0 ? (gsize) self->tokens : 0;
  if (wait_ms != NULL)
    *wait_ms = allowed > 0 ? 0 : (guint) CLAMP ((REFILL_BYTES - self->tokens) * 1000.0 / self->rate, 1, 1000);
  g_mutex_unlock (&self->lock);

  return allowed;
}

static gssize
sonde_budget_input_stream_read (GInputStream  *stream,
                                void          *buffer,
                                gsize          count,
                                GCancellable  *cancellable,
                                GError       **error)
{
  SondeBudgetInputStream *self = SONDE_BUDGET_INPUT_STREAM (stream);
  gssize n;

  /* A blocking reader is not made to wait: it is only counted. */
  n = g_input_stream_read (self->base, buffer, count, cancellable, error);
  charge (self, n);
  return n;
}

static gboolean
sonde_budget_input_stream_close (GInputStream  *stream,
                                 GCancellable  *cancellable,
                                 GError       **error)
{
  SondeBudgetInputStream *self = SONDE_BUDGET_INPUT_STREAM (stream);

  return g_input_stream_close (self->base, cancellable, error);
}

static gboolean
sonde_budget_input_stream_can_poll (GPollableInputStream *stream)
{
  SondeBudgetInputStream *self = SONDE_BUDGET_INPUT_STREAM (stream);

  return G_IS_POLLABLE_INPUT_STREAM (self->base) &&
         g_pollable_input_stream_can_poll (G_POLLABLE_INPUT_STREAM (self->base));
}

static gboolean
sonde_budget_input_stream_is_readable (GPollableInputStream *stream)
{
  SondeBudgetInputStream *self = SONDE_BUDGET_INPUT_STREAM (stream);

  return allowance (self, NULL) > 0 && !peer_is_full (self) && !self->over_limit &&
         g_pollable_input_stream_is_readable (G_POLLABLE_INPUT_STREAM (self->base));
}

static gssize
sonde_budget_input_stream_read_nonblocking (GPollableInputStream  *stream,
                                            void                  *buffer,
                                            gsize                  count,
                                            GError               **error)
{
  SondeBudgetInputStream *self = SONDE_BUDGET_INPUT_STREAM (stream);
  gsize allowed = allowance (self, NULL);
  gssize n;

  if (allowed == 0 || peer_is_full (self) || self->over_limit)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK,
                           "The connection's byte budget is spent for now");
      return -1;
    }

  n = g_pollable_input_stream_read_nonblocking (G_POLLABLE_INPUT_STREAM (self->base), buffer,
                                                MIN (count, allowed), NULL, error);
  charge (self, n);
  return n;
}

/* The source of a stream straight on a socket: one GSource, rather than a
 * pollable source with the socket's source as its child. libsoup makes a
 * new one after every message it reads, and the main loop walks every
 * source at each iteration: half as many sources is half that walk. It
 * has no fd of its own when the connection's fd watch can wake it
 * (sonde-fd-watch-private.h). */
typedef struct
{
  GSource      source;
  GObject     *stream;
  GIOCondition watched;   /* what the fd watch wakes it for, or 0 */
} BudgetSource;

/* Ready when the socket has @condition: woken by the connection's fd
 * watch, or else polling the fd itself. */
static void
watch_fd (BudgetSource *source,
          GIOCondition  condition)
{
  SondeBudgetInputStream *self = SONDE_BUDGET_INPUT_STREAM (source->stream);

  if (self->watch != NULL && _sonde_fd_watch_is_local (self->watch) &&
      _sonde_fd_watch_arm (self->watch, &self->watch_entry, condition, (GSource *) source))
    {
      source->watched = condition;
      return;
    }

  source->watched = 0;
  g_source_add_unix_fd ((GSource *) source, g_socket_get_fd (self->socket), condition | G_IO_ERR | G_IO_HUP);
}

/* Before the socket closes: its fd number may be another's next. */
static void
unwatch_fd (SondeBudgetInputStream *self)
{
  if (self->watch != NULL)
    _sonde_fd_watch_remove (self->watch, &self->watch_entry);
}

static gboolean
budget_source_dispatch (GSource     *source,
                        GSourceFunc  callback,
                        gpointer     user_data)
{
  BudgetSource *self = (BudgetSource *) source;
  SondeBudgetInputStream *stream = SONDE_BUDGET_INPUT_STREAM (self->stream);
  GIOCondition watched = self->watched;
  gboolean again;

  /* The watch woke it once; it is armed again if it waits on. */
  if (watched != 0)
    g_source_set_ready_time (source, -1);

  again = ((GPollableSourceFunc) (void (*) (void)) callback) (self->stream, user_data);

  if (again && watched != 0 && !g_source_is_destroyed (source) && !g_socket_is_closed (stream->socket))
    watch_fd (self, watched);
  return again;
}

/* For g_source_set_closure(), which GIO's async operations use. */
static gboolean
budget_source_closure_callback (GObject  *stream,
                                gpointer  data)
{
  GValue param = G_VALUE_INIT;
  GValue result = G_VALUE_INIT;
  gboolean ready;

  g_value_init (&result, G_TYPE_BOOLEAN);
  g_value_init (&param, G_TYPE_OBJECT);
  g_value_set_object (&param, stream);
  g_closure_invoke (data, &result, 1, &param, NULL);
  ready = g_value_get_boolean (&result);
  g_value_unset (&result);
  g_value_unset (&param);
  return ready;
}

static void
budget_source_finalize (GSource *source)
{
  BudgetSource *self = (BudgetSource *) source;
  SondeBudgetInputStream *stream = SONDE_BUDGET_INPUT_STREAM (self->stream);

  if (stream->watch_entry.source == source)
    stream->watch_entry.source = NULL;
  g_clear_object (&self->stream);
}

static GSourceFuncs budget_source_funcs = {
  NULL, NULL, budget_source_dispatch, budget_source_finalize,
  (GSourceFunc) (void (*) (void)) budget_source_closure_callback, NULL,
};

static GSource *
budget_source_new (SondeBudgetInputStream *self)
{
  GSource *source = g_source_new (&budget_source_funcs, sizeof (BudgetSource));
  guint wait_ms;

  ((BudgetSource *) source)->stream = g_object_ref (G_OBJECT (self));
  g_source_set_name (source, "[sonde] budget stream");

  /* Neither prepare nor check: ready when the fd is, or at the ready time. */
  if (self->over_limit)
    ;   /* never */
  else if (peer_is_full (self))
    watch_fd ((BudgetSource *) source, G_IO_OUT);
  else if (allowance (self, &wait_ms) == 0)
    g_source_set_ready_time (source, g_get_monotonic_time () + wait_ms * G_TIME_SPAN_MILLISECOND);
  else
    watch_fd ((BudgetSource *) source, G_IO_IN);

  return source;
}

/* Ready when the base has bytes and the budget allows them; else when the
 * peer can take bytes again, or when the budget has refilled. */
static GSource *
sonde_budget_input_stream_create_source (GPollableInputStream *stream,
                                         GCancellable         *cancellable)
{
  SondeBudgetInputStream *self = SONDE_BUDGET_INPUT_STREAM (stream);
  g_autoptr(GSource) child = NULL;
  guint wait_ms;

  if (cancellable == NULL && self->socket != NULL && !g_socket_is_closed (self->socket))
    return budget_source_new (self);

  if (self->over_limit)
    child = g_timeout_source_new_seconds (3600);   /* never, in effect */
  else if (peer_is_full (self))
    child = g_pollable_output_stream_create_source (G_POLLABLE_OUTPUT_STREAM (self->peer_output), NULL);
  else if (allowance (self, &wait_ms) == 0)
    child = g_timeout_source_new (wait_ms);
  else
    child = g_pollable_input_stream_create_source (G_POLLABLE_INPUT_STREAM (self->base), NULL);

  return g_pollable_source_new_full (stream, child, cancellable);
}

static void
sonde_budget_input_stream_pollable_init (GPollableInputStreamInterface *iface)
{
  iface->can_poll = sonde_budget_input_stream_can_poll;
  iface->is_readable = sonde_budget_input_stream_is_readable;
  iface->create_source = sonde_budget_input_stream_create_source;
  iface->read_nonblocking = sonde_budget_input_stream_read_nonblocking;
}

static void
sonde_budget_input_stream_finalize (GObject *object)
{
  SondeBudgetInputStream *self = SONDE_BUDGET_INPUT_STREAM (object);

  if (self->socket != NULL && !g_socket_is_closed (self->socket))
    unwatch_fd (self);
  g_clear_pointer (&self->watch, _sonde_fd_watch_unref);
  g_clear_object (&self->base);
  g_clear_object (&self->peer_output);
  g_clear_object (&self->socket);
  g_mutex_clear (&self->lock);

  G_OBJECT_CLASS (sonde_budget_input_stream_parent_class)->finalize (object);
}

static void
sonde_budget_input_stream_class_init (SondeBudgetInputStreamClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GInputStreamClass *input_class = G_INPUT_STREAM_CLASS (klass);

  object_class->finalize = sonde_budget_input_stream_finalize;
  input_class->read_fn = sonde_budget_input_stream_read;
  input_class->close_fn = sonde_budget_input_stream_close;
}

static void
sonde_budget_input_stream_init (SondeBudgetInputStream *self)
{
  g_mutex_init (&self->lock);
}

/* The connection ------------------------------------------------------- */

struct _SondeBudgetStream
{
  GIOStream               parent_instance;

  GIOStream              *base;
  SondeBudgetInputStream *input;
  SondeFrameOutputStream *output;
  GMainContext           *context;       /* where the callbacks run */
  GSourceFunc             over_limit_func;
  gpointer                over_limit_data;
  SondeBudgetClosedFunc   closed_func;
  gpointer                closed_data;
  GDestroyNotify          closed_destroy;
};

enum { PROP_0, PROP_BASE_IO_STREAM, N_PROPS };
static GParamSpec *properties[N_PROPS];

G_DEFINE_FINAL_TYPE (SondeBudgetStream, sonde_budget_stream, G_TYPE_IO_STREAM)

static gboolean
run_closed_func (gpointer data)
{
  SondeBudgetStream *self = data;
  SondeBudgetClosedFunc func = g_steal_pointer (&self->closed_func);

  if (func != NULL)
    func (self->closed_data);
  if (self->closed_destroy != NULL)
    g_clear_pointer (&self->closed_data, self->closed_destroy);
  return G_SOURCE_REMOVE;
}

static void
notify_closed (SondeBudgetStream *self)
{
  if (self->closed_func == NULL)
    return;

  g_main_context_invoke_full (self->context, G_PRIORITY_DEFAULT, run_closed_func,
                              g_object_ref (self), g_object_unref);
}

static GInputStream *
sonde_budget_stream_get_input_stream (GIOStream *stream)
{
  return G_INPUT_STREAM (SONDE_BUDGET_STREAM (stream)->input);
}

static GOutputStream *
sonde_budget_stream_get_output_stream (GIOStream *stream)
{
  return G_OUTPUT_STREAM (SONDE_BUDGET_STREAM (stream)->output);
}

static gboolean
sonde_budget_stream_close (GIOStream     *stream,
                           GCancellable  *cancellable,
                           GError       **error)
{
  SondeBudgetStream *self = SONDE_BUDGET_STREAM (stream);
  gboolean ret;

  _sonde_frame_output_stream_discard (self->output);
  unwatch_fd (self->input);
  ret = g_io_stream_close (self->base, cancellable, error);

  notify_closed (self);
  return ret;
}

/* Runs the over-limit function on the main context; the input stream
 * keeps its parent (which owns it) by a weak reference. */
static gboolean
run_over_limit (gpointer data)
{
  GWeakRef *ref = data;
  g_autoptr(SondeBudgetStream) self = g_weak_ref_get (ref);

  if (self != NULL && self->over_limit_func != NULL)
    self->over_limit_func (self->over_limit_data);
  return G_SOURCE_REMOVE;
}

static void
weak_ref_free (GWeakRef *ref)
{
  g_weak_ref_clear (ref);
  g_free (ref);
}

static void
over_limit (SondeBudgetInputStream *input)
{
  SondeBudgetStream *self = g_object_get_data (G_OBJECT (input), "sonde-parent");
  GWeakRef *ref;

  if (self == NULL)
    return;

  ref = g_new0 (GWeakRef, 1);
  g_weak_ref_init (ref, self);
  g_main_context_invoke_full (self->context, G_PRIORITY_DEFAULT, run_over_limit, ref,
                              (GDestroyNotify) weak_ref_free);
}

/* Lingering ------------------------------------------------------------ */

typedef struct
{
  GSocket *socket;
  GSource *source;
  gint64   deadline_us;
  gsize    drained;
} Linger;

static void
linger_free (Linger *linger)
{
  if (linger->source != NULL)
    {
      g_source_destroy (linger->source);
      g_source_unref (linger->source);
    }
  g_clear_object (&linger->socket);
  g_free (linger);
}

static void
finish_close (GTask *task)
{
  SondeBudgetStream *self = g_task_get_source_object (task);
  GError *error = NULL;

  unwatch_fd (self->input);
  if (g_io_stream_close (self->base, NULL, &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
  notify_closed (self);
}

static gboolean
linger_cb (GSocket      *socket,
           GIOCondition  condition,
           gpointer      user_data)
{
  GTask *task = user_data;
  Linger *linger = g_task_get_task_data (task);
  char buffer[8192];
  gssize n;

  do
    n = g_socket_receive_with_blocking (socket, buffer, sizeof buffer, FALSE, NULL, NULL);
  while (n > 0 && (linger->drained += n) < LINGER_MAX_BYTES);

  /* Until the peer's end (0), an error, enough bytes, or the time is up;
   * a would-block (-1 with nothing read) waits for more. */
  if (n < 0 && linger->drained < LINGER_MAX_BYTES &&
      g_get_monotonic_time () < linger->deadline_us &&
      !(condition & (G_IO_HUP | G_IO_ERR)))
    return G_SOURCE_CONTINUE;

  g_clear_pointer (&linger->source, g_source_unref);
  finish_close (task);
  g_object_unref (task);
  return G_SOURCE_REMOVE;
}

static gboolean
linger_timeout_cb (gpointer user_data)
{
  GTask *task = user_data;
  Linger *linger = g_task_get_task_data (task);

  if (linger->source != NULL)
    {
      g_source_destroy (linger->source);
      g_clear_pointer (&linger->source, g_source_unref);
      finish_close (task);
      g_object_unref (task);
    }
  return G_SOURCE_REMOVE;
}

static void
sonde_budget_stream_close_async (GIOStream           *stream,
                                 int                  io_priority,
                                 GCancellable        *cancellable,
                                 GAsyncReadyCallback  callback,
                                 gpointer             user_data)
{
  SondeBudgetStream *self = SONDE_BUDGET_STREAM (stream);
  g_autoptr(GTask) task = g_task_new (stream, cancellable, callback, user_data);
  GSocket *socket = _sonde_stream_find_socket (self->base);
  Linger *linger;

  g_task_set_source_tag (task, sonde_budget_stream_close_async);
  _sonde_frame_output_stream_discard (self->output);

  /* Nothing to linger on, or already closed by the peer. */
  if (socket == NULL || !g_socket_shutdown (socket, FALSE, TRUE, NULL))
    {
      finish_close (task);
      return;
    }

  linger = g_new0 (Linger, 1);
  linger->socket = g_object_ref (socket);
  linger->deadline_us = g_get_monotonic_time () + LINGER_MS * G_TIME_SPAN_MILLISECOND;
  g_task_set_task_data (task, linger, (GDestroyNotify) linger_free);

  linger->source = g_socket_create_source (socket, G_IO_IN | G_IO_HUP | G_IO_ERR, NULL);
  g_source_set_callback (linger->source, G_SOURCE_FUNC (linger_cb), g_object_ref (task), NULL);
  g_source_set_name (linger->source, "[sonde] linger on close");
  g_source_attach (linger->source, g_main_context_get_thread_default ());
  g_timeout_add_full (io_priority, LINGER_MS, linger_timeout_cb, g_object_ref (task), g_object_unref);
}

static gboolean
sonde_budget_stream_close_finish (GIOStream     *stream,
                                  GAsyncResult  *result,
                                  GError       **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}

static void
sonde_budget_stream_get_property (GObject    *object,
                                  guint       prop_id,
                                  GValue     *value,
                                  GParamSpec *pspec)
{
  SondeBudgetStream *self = SONDE_BUDGET_STREAM (object);

  switch (prop_id)
    {
    case PROP_BASE_IO_STREAM:
      g_value_set_object (value, self->base);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
sonde_budget_stream_finalize (GObject *object)
{
  SondeBudgetStream *self = SONDE_BUDGET_STREAM (object);

  if (self->closed_destroy != NULL)
    g_clear_pointer (&self->closed_data, self->closed_destroy);
  g_object_set_data (G_OBJECT (self->input), "sonde-parent", NULL);
  g_clear_object (&self->input);
  g_clear_object (&self->output);
  g_clear_object (&self->base);
  g_clear_pointer (&self->context, g_main_context_unref);

  G_OBJECT_CLASS (sonde_budget_stream_parent_class)->finalize (object);
}

static void
sonde_budget_stream_class_init (SondeBudgetStreamClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GIOStreamClass *stream_class = G_IO_STREAM_CLASS (klass);

  object_class->finalize = sonde_budget_stream_finalize;
  object_class->get_property = sonde_budget_stream_get_property;
  stream_class->get_input_stream = sonde_budget_stream_get_input_stream;
  stream_class->get_output_stream = sonde_budget_stream_get_output_stream;
  stream_class->close_fn = sonde_budget_stream_close;
  stream_class->close_async = sonde_budget_stream_close_async;
  stream_class->close_finish = sonde_budget_stream_close_finish;

  /* The name GTlsConnection uses, so that a walk down a stack of streams
   * finds the socket the same way through either. */
  properties[PROP_BASE_IO_STREAM] =
    g_param_spec_object ("base-io-stream", NULL, NULL,
                         G_TYPE_IO_STREAM,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
sonde_budget_stream_init (SondeBudgetStream *self)
{
}

SondeBudgetStream *
_sonde_budget_stream_new (GIOStream    *base,
                          SondeFdWatch *watch,
                          gsize         burst_bytes,
                          gsize         bytes_per_second)
{
  SondeBudgetStream *self = g_object_new (SONDE_TYPE_BUDGET_STREAM, NULL);
  SondeBudgetInputStream *input = g_object_new (SONDE_TYPE_BUDGET_INPUT_STREAM, NULL);

  input->base = g_object_ref (g_io_stream_get_input_stream (base));
  input->peer_output = g_object_ref (g_io_stream_get_output_stream (base));
  /* The accepted connection, under any TLS layer: its own source can poll
   * the socket's fd directly. */
  if (G_IS_SOCKET_CONNECTION (base))
    {
      input->socket = g_object_ref (g_socket_connection_get_socket (G_SOCKET_CONNECTION (base)));
      if (watch != NULL)
        {
          input->watch = _sonde_fd_watch_ref (watch);
          input->watch_entry.fd = g_socket_get_fd (input->socket);
        }
    }
  input->burst = burst_bytes;
  input->tokens = burst_bytes;
  input->rate = MAX (bytes_per_second, 1);
  input->updated_us = g_get_monotonic_time ();

  self->base = g_object_ref (base);
  self->input = input;
  self->output = _sonde_frame_output_stream_new (g_io_stream_get_output_stream (base), input->socket);
  self->context = g_main_context_ref_thread_default ();
  /* Unowned: the parent owns the input stream, and clears this when it
   * goes (its finalize drops the input, whose users may keep it). */
  g_object_set_data (G_OBJECT (input), "sonde-parent", self);
  return self;
}

GIOStream *
_sonde_budget_stream_get_base (SondeBudgetStream *self)
{
  return self->base;
}

guint64
_sonde_budget_stream_get_bytes_read (SondeBudgetStream *self)
{
  guint64 bytes;

  g_mutex_lock (&self->input->lock);
  bytes = self->input->bytes_read;
  g_mutex_unlock (&self->input->lock);
  return bytes;
}

void
_sonde_budget_stream_set_closed_func (SondeBudgetStream     *self,
                                      SondeBudgetClosedFunc  func,
                                      gpointer               data,
                                      GDestroyNotify         destroy)
{
  self->closed_func = func;
  self->closed_data = data;
  self->closed_destroy = destroy;
}

/* The stream a wrapper is built on: libsoup's own wrapper calls it
 * "base-iostream", GTlsConnection and ours "base-io-stream". */
static GIOStream *
base_of (GIOStream *stream)
{
  static const char * const base_properties[] = { "base-iostream", "base-io-stream" };

  for (guint i = 0; i < G_N_ELEMENTS (base_properties); i++)
    if (g_object_class_find_property (G_OBJECT_GET_CLASS (stream), base_properties[i]))
      {
        GIOStream *base = NULL;

        g_object_get (stream, base_properties[i], &base, NULL);
        /* The base lives as long as its wrapper. */
        if (base != NULL)
          g_object_unref (base);
        return base;
      }

  return NULL;
}

SondeBudgetStream *
_sonde_budget_stream_find (GIOStream *stream)
{
  for (guint depth = 0; stream != NULL && depth < 4; depth++, stream = base_of (stream))
    if (SONDE_IS_BUDGET_STREAM (stream))
      return SONDE_BUDGET_STREAM (stream);

  return NULL;
}

/* The output that sends frames straight to the socket under @stream, when
 * nothing stands between: not a TLS connection, which must encrypt every
 * byte. */
SondeFrameOutputStream *
_sonde_budget_stream_find_frame_output (GIOStream *stream)
{
  for (guint depth = 0; stream != NULL && depth < 4; depth++, stream = base_of (stream))
    {
      if (G_IS_TLS_CONNECTION (stream))
        return NULL;
      if (SONDE_IS_BUDGET_STREAM (stream))
        return SONDE_BUDGET_STREAM (stream)->input->socket != NULL ? SONDE_BUDGET_STREAM (stream)->output : NULL;
    }

  return NULL;
}

GSocket *
_sonde_stream_find_socket (GIOStream *stream)
{
  for (guint depth = 0; stream != NULL && depth < 5; depth++, stream = base_of (stream))
    if (G_IS_SOCKET_CONNECTION (stream))
      return g_socket_connection_get_socket (G_SOCKET_CONNECTION (stream));

  return NULL;
}

/* A WebSocket's messages: once more than @limit bytes were read since the
 * last _sonde_budget_stream_mark() (an endless fragmented message, a flood
 * of pings), nothing more is read and @func runs, once, on the main
 * context. 0 removes the limit. */
void
_sonde_budget_stream_set_message_limit (SondeBudgetStream *self,
                                        guint64            limit,
                                        GSourceFunc        func,
                                        gpointer           data)
{
  g_mutex_lock (&self->input->lock);
  self->input->message_limit = limit;
  self->input->mark = self->input->bytes_read;
  self->input->mark_us = g_get_monotonic_time ();
  g_mutex_unlock (&self->input->lock);

  self->over_limit_func = func;
  self->over_limit_data = data;
}

/* A complete message came: the count starts again. */
void
_sonde_budget_stream_mark (SondeBudgetStream *self)
{
  g_mutex_lock (&self->input->lock);
  self->input->mark = self->input->bytes_read;
  self->input->mark_us = g_get_monotonic_time ();
  g_mutex_unlock (&self->input->lock);
}

/* Bytes read since the last mark. */
guint64
_sonde_budget_stream_get_unmarked (SondeBudgetStream *self)
{
  guint64 bytes;

  g_mutex_lock (&self->input->lock);
  bytes = self->input->bytes_read - self->input->mark;
  g_mutex_unlock (&self->input->lock);
  return bytes;
}
