/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "sonde-log-follower.h"

#include "fuzz-util.h"

/*
 * The logs collector's follower on a log file whose writer the input
 * plays: what is written is any bytes (other programs' log lines), and
 * between polls the file is appended to, truncated in place (logrotate's
 * copytruncate) or rotated (renamed, and a new one created).
 *
 * Input: a first byte of flags (bit 0: read from the start; bit 1: an
 * allowlist), then operations of three parts: an operation byte, a
 * length byte and that many bytes of text (fewer at the end).
 *
 *   0  append                      1  append, poll
 *   2  truncate, append, poll      3  rotate (the new file holds the text), poll
 *   4  append the text again and again past SONDE_LOG_MAX_LINE, poll
 *      (once per input: 64 KiB written at each of an input's many 4s made
 *      the target run 240 inputs a second; later 4s append it twice)
 *
 * Every line handed over must be valid UTF-8 without a newline, and no
 * longer than a cut line (whose invalid bytes became 3-byte U+FFFD).
 */

static char *directory;
static char *log_path;
static char *rotated_path;

static void
remove_files (void)
{
  g_unlink (rotated_path);
  g_unlink (log_path);
  g_rmdir (directory);
}

int
LLVMFuzzerInitialize (int    *argc,
                      char ***argv)
{
  g_autoptr(GError) error = NULL;

  fuzz_init (argc, argv);

  /* In memory when possible: every input writes a file. */
  if (g_file_test ("/dev/shm", G_FILE_TEST_IS_DIR))
    g_setenv ("TMPDIR", "/dev/shm", FALSE);
  directory = g_dir_make_tmp ("sonde-fuzz-log-XXXXXX", &error);
  if (directory == NULL)
    g_error ("%s", error->message);
  log_path = g_build_filename (directory, "app.log", NULL);
  rotated_path = g_build_filename (directory, "app.log.1", NULL);
  atexit (remove_files);
  return 0;
}

typedef struct
{
  guint64 lines;
} Seen;

static void
line_cb (const char *path,
         const char *line,
         gpointer    user_data)
{
  Seen *seen = user_data;
  gsize length = strlen (line);

  fuzz_check (g_str_equal (path, log_path), "path %s", path);
  fuzz_check (g_utf8_validate (line, length, NULL), "not UTF-8");
  fuzz_check (strchr (line, '\n') == NULL, "a newline in a line");
  fuzz_check (length <= 3 * SONDE_LOG_MAX_LINE, "a line of %" G_GSIZE_FORMAT " bytes", length);
  seen->lines++;
}

static void
write_file (const char *path,
            int         flags,
            const char *text,
            gsize       length,
            gsize       times)
{
  g_autofree char *repeated = NULL;
  int fd = open (path, O_WRONLY | O_CREAT | O_CLOEXEC | flags, 0600);

  if (fd < 0)
    g_error ("Cannot open %s: %s", path, g_strerror (errno));

  /* One write, however many times the text is repeated; the copy
   * doubles what it has copied so far. */
  if (times > 1 && length > 0)
    {
      gsize total = length * times;
      gsize filled = length;

      repeated = g_malloc (total);
      memcpy (repeated, text, length);
      while (filled < total)
        {
          gsize chunk = MIN (filled, total - filled);

          memcpy (repeated + filled, repeated, chunk);
          filled += chunk;
        }
      text = repeated;
      length = total;
    }

  if (length > 0 && write (fd, text, length) != (gssize) length)
    g_error ("Cannot write %s: %s", path, g_strerror (errno));
  close (fd);
}

static void
poll_follower (SondeLogFollower *follower,
               Seen             *seen)
{
  g_autoptr(GError) error = NULL;

  if (!sonde_log_follower_poll (follower, line_cb, seen, &error))
    g_error ("poll: %s", error->message);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  const char * const allowed[] = { directory, NULL };
  g_autoptr(SondeLogFollower) follower = NULL;
  Seen seen = { 0 };
  gboolean long_line_written = FALSE;
  guint flags;
  gsize pos;

  if (size == 0)
    return 0;
  flags = data[0];

  g_unlink (rotated_path);
  write_file (log_path, O_TRUNC, "", 0, 0);
  follower = sonde_log_follower_new (log_path, (flags & 2) ? allowed : NULL, flags & 1);

  for (pos = 1; pos + 1 < size;)
    {
      guint op = data[pos] % 5;
      gsize length = MIN (data[pos + 1], size - pos - 2);
      const char *text = (const char *) data + pos + 2;

      pos += 2 + length;
      switch (op)
        {
        case 0:
          write_file (log_path, O_APPEND, text, length, 1);
          break;

        case 1:
          write_file (log_path, O_APPEND, text, length, 1);
          poll_follower (follower, &seen);
          break;

        case 2:
          write_file (log_path, O_TRUNC, text, length, 1);
          poll_follower (follower, &seen);
          break;

        case 3:
          if (g_rename (log_path, rotated_path) != 0)
            g_error ("Cannot rotate %s: %s", log_path, g_strerror (errno));
          write_file (log_path, O_TRUNC, text, length, 1);
          poll_follower (follower, &seen);
          break;

        case 4:
        default:
          if (length > 0)
            write_file (log_path, O_APPEND, text, length, long_line_written ? 2 : SONDE_LOG_MAX_LINE / length + 2);
          long_line_written = TRUE;
          poll_follower (follower, &seen);
          break;
        }
    }

  poll_follower (follower, &seen);
  fuzz_check (sonde_log_follower_get_lines_total (follower) == seen.lines, "lines_total");
  return 0;
}
