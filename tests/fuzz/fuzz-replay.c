/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz-util.h"

/*
 * The main() of a fuzz target built without libFuzzer (tests/fuzz/meson.build,
 * without -Dfuzzing=true): it runs the target once on each file it is given,
 * or on each file of each directory, in name order, as `TARGET -runs=0 DIR`
 * does with libFuzzer. So the normal test suite, built with any compiler,
 * replays every corpus and every input that once crashed a target
 * (regress-*). Arguments that start with '-' (libFuzzer's flags) are
 * ignored.
 */

static gboolean
run_file (const char *path)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *contents = NULL;
  g_autofree uint8_t *data = NULL;
  gsize length;

  if (!g_file_get_contents (path, &contents, &length, &error))
    {
      fprintf (stderr, "fuzz-replay: %s\n", error->message);
      return FALSE;
    }

  /* A copy of exactly the input's size, as libFuzzer hands it: a read
   * past its end is then one past the allocation (for memcheck or ASan),
   * not into g_file_get_contents()'s terminating NUL. */
  data = g_malloc (MAX (length, 1));
  memcpy (data, contents, length);
  LLVMFuzzerTestOneInput (data, length);
  return TRUE;
}

static int
compare_names (gconstpointer a,
               gconstpointer b)
{
  return strcmp (*(const char * const *) a, *(const char * const *) b);
}

/* Returns the number of inputs run, or -1 if one could not be read. */
static int
run_path (const char *path)
{
  g_autoptr(GPtrArray) names = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GDir) dir = NULL;
  const char *name;
  int count = 0;

  if (!g_file_test (path, G_FILE_TEST_IS_DIR))
    return run_file (path) ? 1 : -1;

  dir = g_dir_open (path, 0, &error);
  if (dir == NULL)
    {
      fprintf (stderr, "fuzz-replay: %s\n", error->message);
      return -1;
    }

  names = g_ptr_array_new_with_free_func (g_free);
  while ((name = g_dir_read_name (dir)) != NULL)
    g_ptr_array_add (names, g_build_filename (path, name, NULL));
  g_ptr_array_sort (names, compare_names);

  for (guint i = 0; i < names->len; i++)
    {
      const char *file = g_ptr_array_index (names, i);

      if (g_file_test (file, G_FILE_TEST_IS_DIR))
        continue;
      if (!run_file (file))
        return -1;
      count++;
    }

  return count;
}

int
main (int    argc,
      char **argv)
{
  int total = 0;
  int paths = 0;

  LLVMFuzzerInitialize (&argc, &argv);

  for (int i = 1; i < argc; i++)
    {
      int count;

      if (argv[i][0] == '-')
        continue;

      count = run_path (argv[i]);
      if (count < 0)
        return 1;
      if (count == 0)
        {
          /* A corpus that went missing would otherwise pass. */
          fprintf (stderr, "fuzz-replay: %s holds no input\n", argv[i]);
          return 1;
        }
      printf ("%s: %d inputs\n", argv[i], count);
      total += count;
      paths++;
    }

  if (paths == 0)
    {
      fprintf (stderr, "usage: %s [-LIBFUZZER-FLAG...] FILE|DIRECTORY...\n", argv[0]);
      return 2;
    }

  printf ("%d inputs run, none crashed\n", total);
  return 0;
}
