/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "sonde-frame-output-stream-private.h"

struct _SondeFrameOutputStream
{
  GOutputStream  parent_instance;

  GOutputStream *base;
  GSocket       *socket;          /* NULL: frames cannot be sent directly */
  GMainContext  *context;         /* where the tail is flushed */
  /* Output sources made for libsoup and not yet disposed of; atomic, as a
   * TLS layer above may poll from its own thread. */
  int            writer_sources;
  /* The part of our last frame the kernel did not take yet. */
  GBytes        *tail;
  gsize          tail_sent;
  GSource       *tail_source;
};

static void sonde_frame_output_stream_pollable_init (GPollableOutputStreamInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (SondeFrameOutputStream, sonde_frame_output_stream, G_TYPE_OUTPUT_STREAM,
                               G_IMPLEMENT_INTERFACE (G_TYPE_POLLABLE_OUTPUT_STREAM,
                                                      sonde_frame_output_stream_pollable_init))

static void
clear_tail (SondeFrameOutputStream *self)
{
  if (self->tail_source != NULL)
    {
      g_source_destroy (self->tail_source);
      g_clear_pointer (&self->tail_source, g_source_unref);
    }
  g_clear_pointer (&self->tail, g_bytes_unref);
  self->tail_sent = 0;
}

/* Sends what is left of our frame; FALSE with an error (G_IO_ERROR_WOULD_BLOCK
 * when the kernel takes no more now) while some is left. */
static gboolean
flush_tail (SondeFrameOutputStream  *self,
            gboolean                 blocking,
            GError                 **error)
{
  while (self->tail != NULL)
    {
      gsize length;
      const char *data = g_bytes_get_data (self->tail, &length);
      gssize n = g_socket_send_with_blocking (self->socket, data + self->tail_sent, length - self->tail_sent,
                                              blocking, NULL, error);

      if (n < 0)
        return FALSE;

      self->tail_sent += n;
      if (self->tail_sent == length)
        clear_tail (self);
    }

  return TRUE;
}

static gboolean
tail_writable_cb (GSocket      *socket,
                  GIOCondition  condition,
                  gpointer      data)
{
  SondeFrameOutputStream *self = data;
  g_autoptr(GError) error = NULL;

  if (flush_tail (self, FALSE, &error))
    return G_SOURCE_REMOVE;   /* flush_tail() cleared the source */

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
    return G_SOURCE_CONTINUE;

  /* A broken connection: libsoup finds out on its side. */
  clear_tail (self);
  return G_SOURCE_REMOVE;
}

/* Whether the kernel took a frame (whole, or its start and the rest when
 * there is room); FALSE when it took nothing: the client is not keeping
 * up, the connection is broken, or libsoup has a frame of its own in
 * progress. */
gboolean
_sonde_frame_output_stream_send (SondeFrameOutputStream *self,
                                 GBytes                 *frame)
{
  gsize length;
  const char *data = g_bytes_get_data (frame, &length);
  gssize n;

  if (self->socket == NULL || self->tail != NULL ||
      g_atomic_int_get (&self->writer_sources) > 0 ||
      g_socket_is_closed (self->socket) || length == 0)
    return FALSE;

  do
    n = send (g_socket_get_fd (self->socket), data, length, MSG_DONTWAIT | MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);

  if (n <= 0)
    return FALSE;

  if ((gsize) n < length)
    {
      self->tail = g_bytes_ref (frame);
      self->tail_sent = n;
      self->tail_source = g_socket_create_source (self->socket, G_IO_OUT, NULL);
      g_source_set_callback (self->tail_source, G_SOURCE_FUNC (tail_writable_cb), self, NULL);
      g_source_set_name (self->tail_source, "[sonde] rest of a frame");
      g_source_attach (self->tail_source, self->context);
    }

  return TRUE;
}

/* The connection is closing: what is left of a frame will not be sent. */
void
_sonde_frame_output_stream_discard (SondeFrameOutputStream *self)
{
  clear_tail (self);
}

GBytes *
_sonde_websocket_text_frame_new (GBytes *payload)
{
  gsize length;
  const guint8 *data = g_bytes_get_data (payload, &length);
  guint8 *frame = g_malloc (length + 10);
  gsize header;

  frame[0] = 0x81;   /* FIN, text; a server does not mask */
  if (length < 126)
    {
      frame[1] = length;
      header = 2;
    }
  else if (length < 65536)
    {
      frame[1] = 126;
      frame[2] = length >> 8;
      frame[3] = length & 0xff;
      header = 4;
    }
  else
    {
      frame[1] = 127;
      for (guint i = 0; i < 8; i++)
        frame[2 + i] = ((guint64) length >> (56 - 8 * i)) & 0xff;
      header = 10;
    }

  if (length > 0)
    memcpy (frame + header, data, length);
  return g_bytes_new_take (frame, header + length);
}

/* The GOutputStream: libsoup's writes, after the rest of our frame ------ */

static gssize
sonde_frame_output_stream_write (GOutputStream  *stream,
                                 const void     *buffer,
                                 gsize           count,
                                 GCancellable   *cancellable,
                                 GError        **error)
{
  SondeFrameOutputStream *self = SONDE_FRAME_OUTPUT_STREAM (stream);

  if (!flush_tail (self, TRUE, error))
    return -1;

  return g_output_stream_write (self->base, buffer, count, cancellable, error);
}

static gboolean
sonde_frame_output_stream_flush (GOutputStream  *stream,
                                 GCancellable   *cancellable,
                                 GError        **error)
{
  SondeFrameOutputStream *self = SONDE_FRAME_OUTPUT_STREAM (stream);

  return g_output_stream_flush (self->base, cancellable, error);
}

static gboolean
sonde_frame_output_stream_close (GOutputStream  *stream,
                                 GCancellable   *cancellable,
                                 GError        **error)
{
  SondeFrameOutputStream *self = SONDE_FRAME_OUTPUT_STREAM (stream);

  clear_tail (self);
  return g_output_stream_close (self->base, cancellable, error);
}

static gboolean
sonde_frame_output_stream_can_poll (GPollableOutputStream *stream)
{
  SondeFrameOutputStream *self = SONDE_FRAME_OUTPUT_STREAM (stream);

  return G_IS_POLLABLE_OUTPUT_STREAM (self->base) &&
         g_pollable_output_stream_can_poll (G_POLLABLE_OUTPUT_STREAM (self->base));
}

static gboolean
sonde_frame_output_stream_is_writable (GPollableOutputStream *stream)
{
  SondeFrameOutputStream *self = SONDE_FRAME_OUTPUT_STREAM (stream);

  return self->tail == NULL &&
         g_pollable_output_stream_is_writable (G_POLLABLE_OUTPUT_STREAM (self->base));
}

static gssize
sonde_frame_output_stream_write_nonblocking (GPollableOutputStream  *stream,
                                             const void             *buffer,
                                             gsize                   count,
                                             GError                **error)
{
  SondeFrameOutputStream *self = SONDE_FRAME_OUTPUT_STREAM (stream);

  if (!flush_tail (self, FALSE, error))
    return -1;

  return g_pollable_output_stream_write_nonblocking (G_POLLABLE_OUTPUT_STREAM (self->base),
                                                     buffer, count, NULL, error);
}

/* A child of every source made for a writer (libsoup waiting to write a
 * frame): it never fires, and goes when its parent is destroyed, that is
 * when the writer stops waiting. */
typedef struct
{
  GSource                 source;
  SondeFrameOutputStream *stream;
} WriterMark;

static void
writer_mark_finalize (GSource *source)
{
  WriterMark *mark = (WriterMark *) source;

  g_atomic_int_add (&mark->stream->writer_sources, -1);
  g_clear_object (&mark->stream);
}

static GSourceFuncs writer_mark_funcs = { NULL, NULL, NULL, writer_mark_finalize, NULL, NULL };

static GSource *
sonde_frame_output_stream_create_source (GPollableOutputStream *stream,
                                         GCancellable          *cancellable)
{
  SondeFrameOutputStream *self = SONDE_FRAME_OUTPUT_STREAM (stream);
  g_autoptr(GSource) child = g_pollable_output_stream_create_source (G_POLLABLE_OUTPUT_STREAM (self->base), NULL);
  g_autoptr(GSource) mark = g_source_new (&writer_mark_funcs, sizeof (WriterMark));
  GSource *source = g_pollable_source_new_full (stream, child, cancellable);

  /* Its own reference: the parent lets go of the stream before its
   * children. */
  ((WriterMark *) mark)->stream = g_object_ref (self);
  g_atomic_int_inc (&self->writer_sources);
  g_source_add_child_source (source, mark);
  return source;
}

static void
sonde_frame_output_stream_pollable_init (GPollableOutputStreamInterface *iface)
{
  iface->can_poll = sonde_frame_output_stream_can_poll;
  iface->is_writable = sonde_frame_output_stream_is_writable;
  iface->create_source = sonde_frame_output_stream_create_source;
  iface->write_nonblocking = sonde_frame_output_stream_write_nonblocking;
}

static void
sonde_frame_output_stream_finalize (GObject *object)
{
  SondeFrameOutputStream *self = SONDE_FRAME_OUTPUT_STREAM (object);

  clear_tail (self);
  g_clear_object (&self->base);
  g_clear_object (&self->socket);
  g_clear_pointer (&self->context, g_main_context_unref);

  G_OBJECT_CLASS (sonde_frame_output_stream_parent_class)->finalize (object);
}

static void
sonde_frame_output_stream_class_init (SondeFrameOutputStreamClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GOutputStreamClass *output_class = G_OUTPUT_STREAM_CLASS (klass);

  object_class->finalize = sonde_frame_output_stream_finalize;
  output_class->write_fn = sonde_frame_output_stream_write;
  output_class->flush = sonde_frame_output_stream_flush;
  output_class->close_fn = sonde_frame_output_stream_close;
}

static void
sonde_frame_output_stream_init (SondeFrameOutputStream *self)
{
}

SondeFrameOutputStream *
_sonde_frame_output_stream_new (GOutputStream *base,
                                GSocket       *socket)
{
  SondeFrameOutputStream *self = g_object_new (SONDE_TYPE_FRAME_OUTPUT_STREAM, NULL);

  self->base = g_object_ref (base);
  self->socket = socket != NULL ? g_object_ref (socket) : NULL;
  self->context = g_main_context_ref_thread_default ();
  return self;
}
