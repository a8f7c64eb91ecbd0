/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>
#include <sys/socket.h>

#include "sonde-frame-output-stream-private.h"

/*
 * The output side of a plain connection (sonde-frame-output-stream.c):
 * frames sent straight to the socket, and libsoup's writes, never cut
 * into each other, on a socket pair whose far end the test reads.
 */

typedef struct
{
  GSocket                *near;
  GSocket                *far;
  GSocketConnection      *connection;
  SondeFrameOutputStream *output;
} Fixture;

static void
fixture_set_up (Fixture       *fixture,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  int fds[2];

  g_assert_cmpint (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), ==, 0);
  fixture->near = g_socket_new_from_fd (fds[0], &error);
  g_assert_no_error (error);
  fixture->far = g_socket_new_from_fd (fds[1], &error);
  g_assert_no_error (error);
  /* Small buffers: a few KiB fill them. */
  g_socket_set_option (fixture->near, SOL_SOCKET, SO_SNDBUF, 4096, NULL);
  g_socket_set_option (fixture->far, SOL_SOCKET, SO_RCVBUF, 4096, NULL);

  fixture->connection = g_socket_connection_factory_create_connection (fixture->near);
  fixture->output = _sonde_frame_output_stream_new (g_io_stream_get_output_stream (G_IO_STREAM (fixture->connection)),
                                                    fixture->near);
}

static void
fixture_tear_down (Fixture       *fixture,
                   gconstpointer  data)
{
  g_clear_object (&fixture->output);
  g_clear_object (&fixture->connection);
  g_clear_object (&fixture->near);
  g_clear_object (&fixture->far);
}

/* Everything the far end can read now. */
static GByteArray *
read_available (Fixture *fixture)
{
  GByteArray *bytes = g_byte_array_new ();
  guint8 buffer[4096];
  gssize n;

  while ((n = g_socket_receive_with_blocking (fixture->far, (char *) buffer, sizeof buffer, FALSE, NULL, NULL)) > 0)
    g_byte_array_append (bytes, buffer, n);
  return bytes;
}

static GBytes *
pattern_bytes (gsize length,
               char  first)
{
  char *data = g_malloc (length);

  for (gsize i = 0; i < length; i++)
    data[i] = first + i % 26;
  return g_bytes_new_take (data, length);
}

static void
assert_header (GBytes       *frame,
               gsize         payload_length,
               const guint8 *header,
               gsize         header_length)
{
  gsize length;
  const guint8 *data = g_bytes_get_data (frame, &length);

  g_assert_cmpuint (length, ==, header_length + payload_length);
  g_assert_cmpmem (data, header_length, header, header_length);
}

static void
test_text_frame_headers (void)
{
  static const struct { gsize length; guint8 header[10]; gsize header_length; } cases[] = {
    { 0,     { 0x81, 0 }, 2 },
    { 125,   { 0x81, 125 }, 2 },
    { 126,   { 0x81, 126, 0, 126 }, 4 },
    { 65535, { 0x81, 126, 0xff, 0xff }, 4 },
    { 65536, { 0x81, 127, 0, 0, 0, 0, 0, 1, 0, 0 }, 10 },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GBytes) payload = pattern_bytes (cases[i].length, 'a');
      g_autoptr(GBytes) frame = _sonde_websocket_text_frame_new (payload);
      gsize length;
      const guint8 *data = g_bytes_get_data (frame, &length);

      assert_header (frame, cases[i].length, cases[i].header, cases[i].header_length);
      if (cases[i].length > 0)
        g_assert_cmpmem (data + cases[i].header_length, cases[i].length,
                         g_bytes_get_data (payload, NULL), cases[i].length);
    }
}

static void
test_whole_frame (Fixture       *fixture,
                  gconstpointer  data)
{
  g_autoptr(GBytes) frame = pattern_bytes (100, 'a');
  g_autoptr(GByteArray) received = NULL;

  g_assert_true (_sonde_frame_output_stream_send (fixture->output, frame));
  received = read_available (fixture);
  g_assert_cmpmem (received->data, received->len, g_bytes_get_data (frame, NULL), 100);
}

/* The kernel takes part of a frame: a writer then waits for the rest,
 * which goes first, and nothing of ours goes until it has. */
static void
test_rest_of_a_frame_goes_first (Fixture       *fixture,
                                 gconstpointer  data)
{
  g_autoptr(GBytes) frame = pattern_bytes (256 * 1024, 'a');
  g_autoptr(GBytes) second = pattern_bytes (10, 'A');
  g_autoptr(GByteArray) received = g_byte_array_new ();
  g_autoptr(GError) error = NULL;
  GPollableOutputStream *pollable = G_POLLABLE_OUTPUT_STREAM (fixture->output);
  const char *written = "libsoup's frame";
  gssize n;

  g_assert_true (_sonde_frame_output_stream_send (fixture->output, frame));
  g_assert_false (g_pollable_output_stream_is_writable (pollable));
  g_assert_false (_sonde_frame_output_stream_send (fixture->output, second));

  n = g_pollable_output_stream_write_nonblocking (pollable, written, strlen (written), NULL, &error);
  g_assert_cmpint (n, ==, -1);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK);
  g_clear_error (&error);

  /* The far end reads; the rest goes out as the socket takes it. */
  while (received->len < g_bytes_get_size (frame))
    {
      g_autoptr(GByteArray) chunk = read_available (fixture);

      g_byte_array_append (received, chunk->data, chunk->len);
      g_main_context_iteration (NULL, FALSE);
    }
  g_assert_cmpmem (received->data, received->len, g_bytes_get_data (frame, NULL), g_bytes_get_size (frame));

  g_assert_true (g_pollable_output_stream_is_writable (pollable));
  n = g_pollable_output_stream_write_nonblocking (pollable, written, strlen (written), NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (n, ==, strlen (written));
  g_byte_array_unref (g_steal_pointer (&received));
  received = read_available (fixture);
  g_assert_cmpmem (received->data, received->len, written, strlen (written));
}

/* While a writer (libsoup with a frame queued) waits on a source of the
 * stream, a frame of ours would cut in: none is sent. */
static void
test_no_frame_while_a_writer_waits (Fixture       *fixture,
                                    gconstpointer  data)
{
  g_autoptr(GBytes) frame = pattern_bytes (10, 'a');
  g_autoptr(GByteArray) received = NULL;
  GSource *source = g_pollable_output_stream_create_source (G_POLLABLE_OUTPUT_STREAM (fixture->output), NULL);

  g_source_attach (source, NULL);
  g_assert_false (_sonde_frame_output_stream_send (fixture->output, frame));

  g_source_destroy (source);
  g_source_unref (source);
  g_assert_true (_sonde_frame_output_stream_send (fixture->output, frame));
  received = read_available (fixture);
  g_assert_cmpuint (received->len, ==, 10);
}

/* Closing drops what is left of a frame; nothing is sent after. */
static void
test_close_discards (Fixture       *fixture,
                     gconstpointer  data)
{
  g_autoptr(GBytes) frame = pattern_bytes (256 * 1024, 'a');
  g_autoptr(GError) error = NULL;

  g_assert_true (_sonde_frame_output_stream_send (fixture->output, frame));
  g_assert_true (g_output_stream_close (G_OUTPUT_STREAM (fixture->output), NULL, &error));
  g_assert_no_error (error);
  g_assert_true (g_io_stream_close (G_IO_STREAM (fixture->connection), NULL, &error));
  g_assert_no_error (error);
  g_assert_false (_sonde_frame_output_stream_send (fixture->output, frame));
  while (g_main_context_iteration (NULL, FALSE))
    ;
}

/* Without a socket (TLS above it), frames are never sent directly. */
static void
test_without_socket (void)
{
  g_autoptr(GOutputStream) memory = g_memory_output_stream_new_resizable ();
  g_autoptr(SondeFrameOutputStream) output = _sonde_frame_output_stream_new (memory, NULL);
  g_autoptr(GBytes) frame = pattern_bytes (10, 'a');
  g_autoptr(GError) error = NULL;

  g_assert_false (_sonde_frame_output_stream_send (output, frame));
  g_assert_cmpint (g_output_stream_write (G_OUTPUT_STREAM (output), "abc", 3, NULL, &error), ==, 3);
  g_assert_no_error (error);
  g_assert_cmpuint (g_memory_output_stream_get_data_size (G_MEMORY_OUTPUT_STREAM (memory)), ==, 3);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/frame-output/text-frame-headers", test_text_frame_headers);
  g_test_add ("/frame-output/whole-frame", Fixture, NULL,
              fixture_set_up, test_whole_frame, fixture_tear_down);
  g_test_add ("/frame-output/rest-of-a-frame-goes-first", Fixture, NULL,
              fixture_set_up, test_rest_of_a_frame_goes_first, fixture_tear_down);
  g_test_add ("/frame-output/no-frame-while-a-writer-waits", Fixture, NULL,
              fixture_set_up, test_no_frame_while_a_writer_waits, fixture_tear_down);
  g_test_add ("/frame-output/close-discards", Fixture, NULL,
              fixture_set_up, test_close_discards, fixture_tear_down);
  g_test_add_func ("/frame-output/without-socket", test_without_socket);

  return g_test_run ();
}
