/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "sonde.h"
#include "sonde-collector-private.h"
#include "sonde-log-follower.h"
#include "sonde-logs-collector.h"

/* The log follower and the logs collector, on files in a temporary
 * directory. */

typedef struct
{
  char *dir;
  char *path;     /* DIR/app.log */
  char *outside;  /* another temporary directory */
} Fixture;

static void
remove_tree (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);

      if (g_file_test (child, G_FILE_TEST_IS_DIR) && !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
        remove_tree (child);
      else
        g_unlink (child);
    }
  g_rmdir (path);
}

static void
fixture_set_up (Fixture       *fixture,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  fixture->dir = g_dir_make_tmp ("sonde-logs-XXXXXX", &error);
  g_assert_no_error (error);
  fixture->outside = g_dir_make_tmp ("sonde-outside-XXXXXX", &error);
  g_assert_no_error (error);
  fixture->path = g_build_filename (fixture->dir, "app.log", NULL);
}

static void
fixture_tear_down (Fixture       *fixture,
                   gconstpointer  data)
{
  remove_tree (fixture->dir);
  remove_tree (fixture->outside);
  g_free (fixture->dir);
  g_free (fixture->outside);
  g_free (fixture->path);
}

static void
write_file (const char *path,
            const char *mode,
            const char *text,
            gssize      length)
{
  FILE *file = fopen (path, mode);

  g_assert_nonnull (file);
  if (length < 0)
    length = strlen (text);
  g_assert_cmpint (fwrite (text, 1, length, file), ==, length);
  g_assert_cmpint (fclose (file), ==, 0);
}

static void
append (const char *path,
        const char *text)
{
  write_file (path, "a", text, -1);
}

static void
line_cb (const char *path,
         const char *line,
         gpointer    user_data)
{
  g_ptr_array_add (user_data, g_strdup (line));
}

/* The lines of one poll, NULL-terminated. */
static GStrv
poll_lines (SondeLogFollower *follower)
{
  GPtrArray *lines = g_ptr_array_new ();
  g_autoptr(GError) error = NULL;

  g_assert_true (sonde_log_follower_poll (follower, line_cb, lines, &error));
  g_assert_no_error (error);
  g_ptr_array_add (lines, NULL);
  return (GStrv) g_ptr_array_free (lines, FALSE);
}

static void
assert_lines (SondeLogFollower   *follower,
              const char * const *expected)
{
  g_auto(GStrv) lines = poll_lines (follower);
  g_autofree char *got = g_strjoinv ("|", lines);
  g_autofree char *want = g_strjoinv ("|", (char **) expected);

  g_assert_cmpstr (got, ==, want);
}

#define NONE ((const char * const []) { NULL })
#define LINES(...) ((const char * const []) { __VA_ARGS__, NULL })

/* Follower ------------------------------------------------------------------- */

static void
test_follower_appends (Fixture       *fixture,
                       gconstpointer  data)
{
  g_autoptr(SondeLogFollower) follower = NULL;

  write_file (fixture->path, "w", "written before\n", -1);
  follower = sonde_log_follower_new (fixture->path, NULL, FALSE);

  /* From the end: only what is written from now on. */
  assert_lines (follower, NONE);
  g_assert_cmpuint (sonde_log_follower_get_size (follower), ==, 15);

  append (fixture->path, "one\ntwo\nthr");
  assert_lines (follower, LINES ("one", "two"));
  /* A partial line is held until its newline. */
  assert_lines (follower, NONE);
  append (fixture->path, "ee");
  assert_lines (follower, NONE);
  append (fixture->path, "\r\n\nfour\n");
  /* "\r\n" endings lose their "\r"; an empty line is a line. */
  assert_lines (follower, LINES ("three", "", "four"));
  g_assert_cmpuint (sonde_log_follower_get_lines_total (follower), ==, 5);
  g_assert_cmpuint (sonde_log_follower_get_size (follower), ==, 15 + 21);
}

static void
test_follower_from_start (Fixture       *fixture,
                          gconstpointer  data)
{
  g_autoptr(SondeLogFollower) follower = NULL;

  write_file (fixture->path, "w", "a\nb\n", -1);
  follower = sonde_log_follower_new (fixture->path, NULL, TRUE);
  assert_lines (follower, LINES ("a", "b"));
}

static void
test_follower_created_later (Fixture       *fixture,
                             gconstpointer  data)
{
  g_autoptr(SondeLogFollower) follower = sonde_log_follower_new (fixture->path, NULL, FALSE);

  /* Missing is not an error: it may come. */
  assert_lines (follower, NONE);
  g_assert_cmpuint (sonde_log_follower_get_size (follower), ==, 0);

  /* A file that appears is new: all of it is read. */
  write_file (fixture->path, "w", "first\nsecond\n", -1);
  assert_lines (follower, LINES ("first", "second"));
}

static void
test_follower_rotation (Fixture       *fixture,
                        gconstpointer  data)
{
  g_autoptr(SondeLogFollower) follower = NULL;
  g_autofree char *rotated = g_strconcat (fixture->path, ".1", NULL);

  write_file (fixture->path, "w", "old\n", -1);
  follower = sonde_log_follower_new (fixture->path, NULL, FALSE);
  append (fixture->path, "before rotation\n");
  assert_lines (follower, LINES ("before rotation"));

  /* logrotate's create: rename, then a new file. The writer still has the
   * old one open and writes a last line, and half of another. */
  g_assert_cmpint (g_rename (fixture->path, rotated), ==, 0);
  append (rotated, "last old line\nunfinished");
  /* Not re-created yet: the old file is still read. */
  assert_lines (follower, LINES ("last old line"));

  write_file (fixture->path, "w", "new one\nnew two\n", -1);
  /* The old file to its end (its partial line as it is), then the new one
   * from its start. */
  assert_lines (follower, LINES ("unfinished", "new one", "new two"));

  append (fixture->path, "new three\n");
  append (rotated, "lost in the old file\n");
  assert_lines (follower, LINES ("new three"));

  /* Deleted and re-created. */
  g_assert_cmpint (g_unlink (fixture->path), ==, 0);
  write_file (fixture->path, "w", "recreated\n", -1);
  assert_lines (follower, LINES ("recreated"));
}

static void
test_follower_truncation (Fixture       *fixture,
                          gconstpointer  data)
{
  g_autoptr(SondeLogFollower) follower = NULL;

  write_file (fixture->path, "w", "", -1);
  follower = sonde_log_follower_new (fixture->path, NULL, FALSE);
  append (fixture->path, "a fairly long line before truncation\nhalf");
  assert_lines (follower, LINES ("a fairly long line before truncation"));

  /* copytruncate: same file, emptied, then written again. */
  write_file (fixture->path, "w", "after\n", -1);
  assert_lines (follower, LINES ("half", "after"));
  g_assert_cmpuint (sonde_log_follower_get_size (follower), ==, 6);

  append (fixture->path, "more\n");
  assert_lines (follower, LINES ("more"));
}

static void
test_follower_long_lines (Fixture       *fixture,
                          gconstpointer  data)
{
  g_autoptr(SondeLogFollower) follower = NULL;
  g_autoptr(GString) text = g_string_new (NULL);
  g_auto(GStrv) lines = NULL;
  g_autofree char *expected = NULL;

  write_file (fixture->path, "w", "", -1);
  follower = sonde_log_follower_new (fixture->path, NULL, FALSE);

  /* 100 KiB, written in two parts, then a short line. */
  for (guint i = 0; i < 100 * 1024; i++)
    g_string_append_c (text, 'a' + i % 26);
  write_file (fixture->path, "a", text->str, 70 * 1024);
  append (fixture->path, text->str + 70 * 1024);
  append (fixture->path, "\nshort\n");

  lines = poll_lines (follower);
  g_assert_cmpuint (g_strv_length (lines), ==, 2);
  expected = g_strndup (text->str, SONDE_LOG_MAX_LINE);
  g_assert_cmpuint (strlen (lines[0]), ==, SONDE_LOG_MAX_LINE);
  g_assert_cmpstr (lines[0], ==, expected);
  g_assert_cmpstr (lines[1], ==, "short");

  /* A cut never splits a character: "x" then 2-byte characters. */
  g_string_assign (text, "x");
  for (guint i = 0; i < 40000; i++)
    g_string_append (text, "é");
  g_string_append_c (text, '\n');
  append (fixture->path, text->str);
  g_clear_pointer (&lines, g_strfreev);
  lines = poll_lines (follower);
  g_assert_cmpuint (g_strv_length (lines), ==, 1);
  g_assert_true (g_utf8_validate (lines[0], -1, NULL));
  g_assert_cmpuint (strlen (lines[0]), ==, SONDE_LOG_MAX_LINE - 1);
}

static void
test_follower_invalid_utf8 (Fixture       *fixture,
                            gconstpointer  data)
{
  g_autoptr(SondeLogFollower) follower = NULL;

  write_file (fixture->path, "w", "", -1);
  follower = sonde_log_follower_new (fixture->path, NULL, FALSE);
  write_file (fixture->path, "a", "bad \xff\xfe bytes\nnul \0 byte\n", 25);

  assert_lines (follower, LINES ("bad \xef\xbf\xbd\xef\xbf\xbd bytes", "nul \xef\xbf\xbd byte"));
}

static void
test_follower_burst (Fixture       *fixture,
                     gconstpointer  data)
{
  g_autoptr(SondeLogFollower) follower = NULL;
  g_autoptr(GString) text = g_string_new (NULL);
  g_autofree char *last = NULL;
  guint n_lines = 0;
  guint n_polls = 0;
  guint64 handed = 0;

  write_file (fixture->path, "w", "", -1);
  follower = sonde_log_follower_new (fixture->path, NULL, FALSE);

  /* 2,500 lines, below the backlog bound: spread over three polls,
   * nothing lost. */
  for (guint i = 0; i < 2500; i++)
    g_string_append_printf (text, "line %06u\n", i);
  append (fixture->path, text->str);
  for (n_polls = 0; n_polls < 3; n_polls++)
    {
      g_auto(GStrv) lines = poll_lines (follower);

      g_assert_cmpuint (g_strv_length (lines), ==, n_polls < 2 ? 1000 : 500);
      if (n_polls == 2)
        g_assert_cmpstr (lines[499], ==, "line 002499");
    }
  assert_lines (follower, NONE);
  g_assert_cmpuint (sonde_log_follower_get_dropped (follower), ==, 0);

  /* 5 MiB at once: the oldest are skipped, counted; what is left comes
   * at most 1,000 lines a poll, ending with the last line. */
  g_string_truncate (text, 0);
  while (text->len < 5 * 1024 * 1024)
    {
      g_string_append_printf (text, "line %06u of the burst, padded to a decent length..........\n", n_lines);
      n_lines++;
    }
  append (fixture->path, text->str);

  for (n_polls = 0; n_polls < 1000; n_polls++)
    {
      g_auto(GStrv) lines = poll_lines (follower);
      guint n = g_strv_length (lines);

      g_assert_cmpuint (n, <=, SONDE_LOG_MAX_LINES);
      if (n == 0)
        break;
      handed += n;
      g_clear_pointer (&last, g_free);
      last = g_strdup (lines[n - 1]);
    }
  g_assert_cmpuint (sonde_log_follower_get_dropped (follower), >, 0);
  g_assert_cmpuint (handed, <=, SONDE_LOG_MAX_READ / 60 + 1);
  g_assert_cmpuint (handed + sonde_log_follower_get_dropped (follower), ==, n_lines);
  g_assert_true (g_str_has_prefix (last, "line "));
  g_assert_cmpuint (atoi (last + 5), ==, n_lines - 1);
  g_assert_cmpuint (sonde_log_follower_get_lines_total (follower), ==, 2500 + handed);
}

/* A megabyte of empty lines is a million lines: each poll hands over at
 * most SONDE_LOG_MAX_LINES of them, and the backlog past
 * SONDE_LOG_MAX_BACKLOG is skipped and counted. */
static void
test_follower_flood (Fixture       *fixture,
                     gconstpointer  data)
{
  g_autoptr(SondeLogFollower) follower = NULL;
  g_autofree char *flood = g_malloc (1024 * 1024);
  guint64 handed = 0;
  guint n_polls;

  memset (flood, '\n', 1024 * 1024);
  write_file (fixture->path, "w", "", -1);
  follower = sonde_log_follower_new (fixture->path, NULL, FALSE);
  write_file (fixture->path, "a", flood, 1024 * 1024);

  {
    g_auto(GStrv) lines = poll_lines (follower);

    g_assert_cmpuint (g_strv_length (lines), ==, SONDE_LOG_MAX_LINES);
    /* All but the last SONDE_LOG_MAX_READ bytes, one line each. */
    g_assert_cmpuint (sonde_log_follower_get_dropped (follower), ==,
                      1024 * 1024 - SONDE_LOG_MAX_READ);
    handed = SONDE_LOG_MAX_LINES;
  }

  for (n_polls = 1; n_polls < 1000; n_polls++)
    {
      g_auto(GStrv) lines = poll_lines (follower);
      guint n = g_strv_length (lines);

      g_assert_cmpuint (n, <=, SONDE_LOG_MAX_LINES);
      if (n == 0)
        break;
      handed += n;
    }
  g_assert_cmpuint (handed, ==, SONDE_LOG_MAX_READ);
  g_assert_cmpuint (n_polls, ==, (SONDE_LOG_MAX_READ + SONDE_LOG_MAX_LINES - 1) / SONDE_LOG_MAX_LINES);

  /* Then lines are lines again. */
  append (fixture->path, "after the flood\n");
  assert_lines (follower, LINES ("after the flood"));
}

/* A skip drops the partial line held before it, counted once: it never
 * joins text from both sides of the skipped part. */
static void
test_follower_skip_drops_held (Fixture       *fixture,
                               gconstpointer  data)
{
  g_autoptr(SondeLogFollower) follower = NULL;
  g_autoptr(GString) text = g_string_new (NULL);
  g_autofree char *line = g_strnfill (999, 'x');
  guint64 n_lines = 0;
  guint64 handed = 0;

  write_file (fixture->path, "w", "", -1);
  follower = sonde_log_follower_new (fixture->path, NULL, FALSE);
  append (fixture->path, "held");
  assert_lines (follower, NONE);

  /* 1 MiB of 1000-byte lines; "held" starts the first of them. */
  while (text->len < 1024 * 1024)
    {
      g_string_append (text, line);
      g_string_append_c (text, '\n');
      n_lines++;
    }
  append (fixture->path, text->str);

  for (guint i = 0; i < 100; i++)
    {
      g_auto(GStrv) lines = poll_lines (follower);

      if (lines[0] == NULL)
        break;
      for (guint j = 0; lines[j] != NULL; j++)
        g_assert_false (g_str_has_prefix (lines[j], "held"));
      handed += g_strv_length (lines);
    }
  g_assert_cmpuint (handed + sonde_log_follower_get_dropped (follower), ==, n_lines);
}

static void
test_follower_refuses (Fixture       *fixture,
                       gconstpointer  data)
{
  const char * const allowed[] = { fixture->dir, NULL };
  g_autofree char *secret = g_build_filename (fixture->outside, "secret", NULL);
  g_autoptr(SondeLogFollower) follower = NULL;
  g_autoptr(GError) error = NULL;
  GPtrArray *lines = g_ptr_array_new_with_free_func (g_free);

  write_file (secret, "w", "secret\n", -1);
  g_assert_cmpint (symlink (secret, fixture->path), ==, 0);

  /* A link inside the allowlist to a file outside it is refused when the
   * file is opened, at each poll. */
  follower = sonde_log_follower_new (fixture->path, allowed, TRUE);
  g_assert_false (sonde_log_follower_poll (follower, line_cb, lines, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED);
  g_assert_nonnull (strstr (error->message, "outside the allowed paths"));
  g_assert_cmpuint (lines->len, ==, 0);
  g_clear_error (&error);

  /* A directory is not a log file. */
  g_clear_pointer (&follower, sonde_log_follower_free);
  g_unlink (fixture->path);
  g_assert_cmpint (g_mkdir (fixture->path, 0700), ==, 0);
  follower = sonde_log_follower_new (fixture->path, allowed, TRUE);
  g_assert_false (sonde_log_follower_poll (follower, line_cb, lines, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_REGULAR_FILE);
  g_assert_cmpuint (lines->len, ==, 0);
  g_ptr_array_unref (lines);
}

/* Confinement: what the follower opens stays in the allowed directory,
 * with openat2() (data: TRUE) and without it (FALSE). */

typedef struct
{
  const char *victim;   /* replaced by a link to... */
  const char *target;
  gboolean    directory;
  gboolean    done;
} Swap;

/* Between the check of the path and its open: the race an attacker
 * would try to win, won every time. */
static void
swap_hook (const char *path,
           gpointer    user_data)
{
  Swap *swap = user_data;
  g_autofree char *old = NULL;

  if (swap->done)
    return;
  swap->done = TRUE;

  old = g_strconcat (swap->victim, ".old", NULL);
  g_assert_cmpint (g_rename (swap->victim, old), ==, 0);
  g_assert_cmpint (symlink (swap->target, swap->victim), ==, 0);
}

/* Polls a follower of @path from the start, asserting that it is refused
 * with @code and hands over nothing. */
static void
assert_refused (const char         *path,
                const char * const *allowed,
                int                 code,
                const char         *message)
{
  g_autoptr(SondeLogFollower) follower = sonde_log_follower_new (path, allowed, TRUE);
  g_autoptr(GPtrArray) lines = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GError) error = NULL;

  g_assert_false (sonde_log_follower_poll (follower, line_cb, lines, &error));
  g_assert_error (error, G_IO_ERROR, code);
  if (message != NULL && strstr (error->message, message) == NULL)
    g_error ("%s: expected \"%s\" in \"%s\"", path, message, error->message);
  g_assert_cmpuint (lines->len, ==, 0);
}

static void
test_follower_confined (Fixture       *fixture,
                        gconstpointer  data)
{
  gboolean use_openat2 = GPOINTER_TO_INT (data);
  const char * const allowed[] = { fixture->dir, NULL };
  g_autofree char *secret = g_build_filename (fixture->outside, "secret", NULL);
  g_autofree char *inside_link = g_build_filename (fixture->dir, "inside-link.log", NULL);
  g_autofree char *hard = g_build_filename (fixture->dir, "hard.log", NULL);
  g_autofree char *escape = g_build_filename (fixture->dir, "escape.log", NULL);
  g_autofree char *swapped = g_build_filename (fixture->dir, "swapped.log", NULL);
  g_autofree char *sub = g_build_filename (fixture->dir, "sub", NULL);
  g_autofree char *sub_file = g_build_filename (sub, "app.log", NULL);
  g_autofree char *outside_file = g_build_filename (fixture->outside, "app.log", NULL);
  g_autofree char *rotated = g_build_filename (fixture->dir, "rotated.log", NULL);
  g_autoptr(SondeLogFollower) follower = NULL;
  g_autoptr(GError) error = NULL;
  GPtrArray *lines;
  Swap swap = { 0, };

  sonde_log_follower_set_openat2_for_testing (use_openat2);
  write_file (secret, "w", "secret\n", -1);
  write_file (outside_file, "w", "secret too\n", -1);

  /* A plain file works, and so does a link that stays inside. */
  write_file (fixture->path, "w", "plain\n", -1);
  follower = sonde_log_follower_new (fixture->path, allowed, TRUE);
  assert_lines (follower, LINES ("plain"));
  g_clear_pointer (&follower, sonde_log_follower_free);
  if (use_openat2 && !sonde_log_follower_get_uses_openat2 ())
    g_test_message ("openat2() is not available: the fallback was tested twice");
  if (!use_openat2)
    g_assert_false (sonde_log_follower_get_uses_openat2 ());
  g_assert_cmpint (symlink ("app.log", inside_link), ==, 0);
  follower = sonde_log_follower_new (inside_link, allowed, TRUE);
  assert_lines (follower, LINES ("plain"));
  g_clear_pointer (&follower, sonde_log_follower_free);

  /* A hard link inside to a file outside: same file, and no path check
   * can tell. */
  g_assert_cmpint (link (secret, hard), ==, 0);
  assert_refused (hard, allowed, G_IO_ERROR_PERMISSION_DENIED, "has 2 hard links");

  /* A symbolic link leading out. */
  g_assert_cmpint (symlink (secret, escape), ==, 0);
  assert_refused (escape, allowed, G_IO_ERROR_PERMISSION_DENIED, "outside the allowed paths");

  /* A file swapped for a link out between the check and the open. */
  write_file (swapped, "w", "harmless\n", -1);
  swap = (Swap) { swapped, secret, FALSE, FALSE };
  sonde_log_follower_set_open_hook_for_testing (swap_hook, &swap);
  assert_refused (swapped, allowed, G_IO_ERROR_PERMISSION_DENIED, NULL);
  g_assert_true (swap.done);

  /* A directory on the way swapped likewise: the last component is no
   * link, the one before it is. */
  g_assert_cmpint (g_mkdir (sub, 0700), ==, 0);
  write_file (sub_file, "w", "harmless\n", -1);
  swap = (Swap) { sub, fixture->outside, TRUE, FALSE };
  assert_refused (sub_file, allowed, G_IO_ERROR_PERMISSION_DENIED, NULL);
  g_assert_true (swap.done);
  sonde_log_follower_set_open_hook_for_testing (NULL, NULL);

  /* Rotation opens anew, and checks anew: a log replaced by a second name
   * of a file outside is not followed there. */
  write_file (rotated, "w", "", -1);
  follower = sonde_log_follower_new (rotated, allowed, FALSE);
  append (rotated, "before\n");
  assert_lines (follower, LINES ("before"));
  g_assert_cmpint (g_unlink (rotated), ==, 0);
  g_assert_cmpint (link (outside_file, rotated), ==, 0);
  lines = g_ptr_array_new_with_free_func (g_free);
  g_assert_false (sonde_log_follower_poll (follower, line_cb, lines, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED);
  g_assert_cmpuint (lines->len, ==, 0);
  g_ptr_array_unref (lines);
  g_clear_pointer (&follower, sonde_log_follower_free);

  /* Without openat2() nor /proc, nothing can be checked: refused, not
   * opened blindly. */
  if (!use_openat2)
    {
      sonde_log_follower_set_proc_fd_dir_for_testing ("/nonexistent/proc/self/fd");
      assert_refused (fixture->path, allowed, G_IO_ERROR_PERMISSION_DENIED, "Cannot check where");
      sonde_log_follower_set_proc_fd_dir_for_testing (NULL);
    }

  sonde_log_follower_set_openat2_for_testing (TRUE);
}

/* Allowlist ------------------------------------------------------------------ */

static void
test_allowlist (Fixture       *fixture,
                gconstpointer  data)
{
  g_autofree char *inside = g_build_filename (fixture->dir, "sub", "x.log", NULL);
  g_autofree char *file = g_build_filename (fixture->outside, "one.log", NULL);
  g_autofree char *outside_name = g_path_get_basename (fixture->outside);
  g_autofree char *escape = g_build_filename (fixture->dir, "..", outside_name, "one.log", NULL);
  g_autofree char *sibling = g_strconcat (fixture->dir, "-other/x.log", NULL);
  g_autofree char *link = g_build_filename (fixture->dir, "link.log", NULL);
  const char * const allowed[] = { fixture->dir, file, NULL };
  g_autoptr(GError) error = NULL;

  /* Below an allowed directory, or an allowed file, existing or not. */
  g_assert_true (sonde_log_path_is_allowed (fixture->path, allowed, NULL));
  g_assert_true (sonde_log_path_is_allowed (inside, allowed, NULL));
  g_assert_true (sonde_log_path_is_allowed (file, allowed, NULL));
  g_assert_true (sonde_log_path_is_allowed (fixture->path, (const char * const []) { "/", NULL }, NULL));

  /* Outside. */
  g_assert_false (sonde_log_path_is_allowed ("/etc/passwd", allowed, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED);
  g_assert_nonnull (strstr (error->message, "/etc/passwd is outside the allowed paths ("));
  g_assert_nonnull (strstr (error->message, fixture->dir));
  g_clear_error (&error);

  /* A name that merely starts like an allowed directory. */
  g_assert_false (sonde_log_path_is_allowed (sibling, allowed, NULL));
  /* ".." cannot climb out. */
  write_file (file, "w", "", -1);
  g_assert_true (sonde_log_path_is_allowed (escape, allowed, NULL));   /* it is the allowed file */
  g_assert_false (sonde_log_path_is_allowed (escape, (const char * const []) { fixture->dir, NULL }, NULL));
  /* Nor a symbolic link. */
  g_assert_cmpint (symlink ("/etc/passwd", link), ==, 0);
  g_assert_false (sonde_log_path_is_allowed (link, allowed, &error));
  g_assert_nonnull (strstr (error->message, "really /etc/passwd"));
  g_clear_error (&error);
  /* Relative paths and an empty allowlist. */
  g_assert_false (sonde_log_path_is_allowed ("app.log", allowed, NULL));
  g_assert_false (sonde_log_path_is_allowed (fixture->path, NULL, &error));
  g_assert_nonnull (strstr (error->message, "(none)"));
}

/* Collector ------------------------------------------------------------------ */

static GPtrArray *captured_warnings;

static GLogWriterOutput
capture_writer (GLogLevelFlags   log_level,
                const GLogField *fields,
                gsize            n_fields,
                gpointer         user_data)
{
  const char *domain = NULL;
  const char *message = NULL;

  for (gsize i = 0; i < n_fields; i++)
    {
      if (g_str_equal (fields[i].key, "GLIB_DOMAIN"))
        domain = fields[i].value;
      else if (g_str_equal (fields[i].key, "MESSAGE"))
        message = fields[i].value;
    }

  if (captured_warnings != NULL && (log_level & G_LOG_LEVEL_WARNING) &&
      g_strcmp0 (domain, "Sonde-logs") == 0)
    {
      g_ptr_array_add (captured_warnings, g_strdup (message));
      return G_LOG_WRITER_HANDLED;
    }

  return g_log_writer_default (log_level, fields, n_fields, user_data);
}

static void
event_cb (SondeCollector *collector,
          SondeEvent     *event,
          GPtrArray      *events)
{
  g_ptr_array_add (events, sonde_event_ref (event));
}

/* The collector under a flood: at most SONDE_LOG_MAX_LINES events a poll,
 * a queue of at most 10,000 events however long the main context is
 * away, drops counted in the sample, and delivery in batches of 500. */
static void
test_collector_flood (Fixture       *fixture,
                      gconstpointer  data)
{
  const char * const files[] = { fixture->path, NULL };
  const char * const allowed[] = { fixture->dir, NULL };
  g_autoptr(SondeCollector) collector = sonde_logs_collector_new ();
  g_autoptr(GPtrArray) events = g_ptr_array_new_with_free_func ((GDestroyNotify) sonde_event_unref);
  g_autofree char *flood = g_malloc (1024 * 1024);
  g_autoptr(GError) error = NULL;
  JsonObject *entry;
  guint64 emitted = 0;

  write_file (fixture->path, "w", "", -1);
  g_object_set (collector, "files", files, "allowed-paths", allowed, NULL);
  g_signal_connect (collector, "event", G_CALLBACK (event_cb), events);
  g_assert_true (sonde_collector_start (collector, &error));
  g_assert_no_error (error);

  memset (flood, '\n', 1024 * 1024);
  write_file (fixture->path, "a", flood, 1024 * 1024);

  /* The main context is away for 12 polls. */
  for (guint i = 0; i < 12; i++)
    {
      g_autoptr(SondeSample) sample = sonde_collector_collect (collector, &error);
      guint queued;

      g_assert_no_error (error);
      queued = _sonde_collector_get_events_queued (collector);
      g_assert_cmpuint (queued, <=, 10000);
      g_assert_cmpuint (queued, ==, MIN (emitted + SONDE_LOG_MAX_LINES, 10000));
      emitted += SONDE_LOG_MAX_LINES;

      entry = json_array_get_object_element (json_object_get_array_member (sonde_sample_get_data (sample), "files"), 0);
      g_assert_cmpint (json_object_get_int_member (entry, "dropped"), ==, 1024 * 1024 - SONDE_LOG_MAX_READ);
      g_assert_cmpint (json_object_get_int_member (entry, "lines_total"), ==, emitted);
      g_assert_cmpint (json_object_get_int_member (sonde_sample_get_data (sample), "events_dropped"), ==,
                       emitted > 10000 ? emitted - 10000 : 0);
    }
  g_assert_cmpuint (sonde_collector_get_events_dropped (collector), ==, 2000);

  /* One main context iteration delivers one batch, not the whole queue. */
  g_assert_true (g_main_context_iteration (NULL, FALSE));
  g_assert_cmpuint (events->len, ==, 500);
  g_assert_cmpuint (_sonde_collector_get_events_queued (collector), ==, 9500);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_assert_cmpuint (events->len, ==, 10000);
  g_assert_cmpuint (_sonde_collector_get_events_queued (collector), ==, 0);

  sonde_collector_stop (collector);
}

static void
test_collector (Fixture       *fixture,
                gconstpointer  data)
{
  g_autofree char *refused = g_build_filename (fixture->outside, "refused.log", NULL);
  const char * const files[] = { fixture->path, refused, NULL };
  const char * const allowed[] = { fixture->dir, NULL };
  g_autoptr(SondeCollector) collector = sonde_logs_collector_new ();
  g_autoptr(GPtrArray) events = g_ptr_array_new_with_free_func ((GDestroyNotify) sonde_event_unref);
  g_autoptr(SondeSample) sample = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) got_files = NULL;
  g_autofree char *json = NULL;
  JsonArray *followed;
  JsonObject *entry, *event_data;

  g_assert_cmpstr (sonde_collector_get_name (collector), ==, "logs");
  g_assert_nonnull (sonde_collector_lookup_metric (collector, "files"));

  /* The default allowlist is /var/log. */
  {
    g_auto(GStrv) default_allowed = NULL;

    g_object_get (collector, "allowed-paths", &default_allowed, NULL);
    g_assert_cmpstrv (default_allowed, ((const char * const []) { "/var/log", NULL }));
  }

  write_file (fixture->path, "w", "before start\n", -1);
  write_file (refused, "w", "", -1);

  /* Both at once: the files are checked against the new allowlist, and
   * the one outside is refused, loudly. */
  captured_warnings = g_ptr_array_new_with_free_func (g_free);
  g_object_set (collector, "files", files, "allowed-paths", allowed, NULL);
  g_assert_cmpuint (captured_warnings->len, ==, 1);
  g_assert_true (g_str_has_prefix (g_ptr_array_index (captured_warnings, 0), "Not following "));
  g_assert_nonnull (strstr (g_ptr_array_index (captured_warnings, 0), refused));
  g_assert_nonnull (strstr (g_ptr_array_index (captured_warnings, 0), "outside the allowed paths"));
  g_clear_pointer (&captured_warnings, g_ptr_array_unref);

  g_object_get (collector, "files", &got_files, NULL);
  g_assert_cmpstrv (got_files, files);

  g_signal_connect (collector, "event", G_CALLBACK (event_cb), events);
  g_assert_true (sonde_collector_start (collector, &error));
  g_assert_no_error (error);

  append (fixture->path, "hello\nworld\n");
  append (refused, "never seen\n");
  sample = sonde_collector_collect (collector, &error);
  g_assert_no_error (error);
  g_assert_nonnull (sample);

  /* Events are emitted on the collector's main context. */
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_assert_cmpuint (events->len, ==, 2);
  g_assert_cmpstr (sonde_event_get_event_type (g_ptr_array_index (events, 0)), ==, "log_line");
  g_assert_cmpstr (sonde_event_get_source (g_ptr_array_index (events, 0)), ==, "logs");
  event_data = sonde_event_get_data (g_ptr_array_index (events, 0));
  g_assert_cmpstr (json_object_get_string_member (event_data, "file"), ==, fixture->path);
  g_assert_cmpstr (json_object_get_string_member (event_data, "line"), ==, "hello");
  event_data = sonde_event_get_data (g_ptr_array_index (events, 1));
  g_assert_cmpstr (json_object_get_string_member (event_data, "line"), ==, "world");

  /* The sample lists what is followed. */
  followed = json_object_get_array_member (sonde_sample_get_data (sample), "files");
  g_assert_cmpuint (json_array_get_length (followed), ==, 1);
  entry = json_array_get_object_element (followed, 0);
  g_assert_cmpstr (json_object_get_string_member (entry, "path"), ==, fixture->path);
  g_assert_cmpint (json_object_get_int_member (entry, "size_bytes"), ==, 25);
  g_assert_cmpint (json_object_get_int_member (entry, "lines_total"), ==, 2);
  json = sonde_sample_to_json (sample);
  g_assert_nonnull (json);

  sonde_collector_stop (collector);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
  g_log_set_writer_func (capture_writer, NULL, NULL);

#define ADD(name, func) \
  g_test_add (name, Fixture, NULL, fixture_set_up, func, fixture_tear_down)

  ADD ("/logs/follower/appends", test_follower_appends);
  ADD ("/logs/follower/from-start", test_follower_from_start);
  ADD ("/logs/follower/created-later", test_follower_created_later);
  ADD ("/logs/follower/rotation", test_follower_rotation);
  ADD ("/logs/follower/truncation", test_follower_truncation);
  ADD ("/logs/follower/long-lines", test_follower_long_lines);
  ADD ("/logs/follower/invalid-utf8", test_follower_invalid_utf8);
  ADD ("/logs/follower/burst", test_follower_burst);
  ADD ("/logs/follower/flood", test_follower_flood);
  ADD ("/logs/follower/skip-drops-held", test_follower_skip_drops_held);
  ADD ("/logs/follower/refuses", test_follower_refuses);
  g_test_add ("/logs/follower/confined/openat2", Fixture, GINT_TO_POINTER (TRUE),
              fixture_set_up, test_follower_confined, fixture_tear_down);
  g_test_add ("/logs/follower/confined/fallback", Fixture, GINT_TO_POINTER (FALSE),
              fixture_set_up, test_follower_confined, fixture_tear_down);
  ADD ("/logs/allowlist", test_allowlist);
  ADD ("/logs/collector", test_collector);
  ADD ("/logs/collector/flood", test_collector_flood);

  return g_test_run ();
}
