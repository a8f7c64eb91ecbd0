/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "sonde-engine-private.h"

/* Collector plugins: GIO modules that implement the collector extension
 * point (SONDE_DEFINE_COLLECTOR_PLUGIN()), found on the plugin path. */

/* Plugin modules are loaded once per process and never unloaded: their
 * collector types are registered statically, and every engine shares the
 * extension point. */
G_LOCK_DEFINE_STATIC (loaded_plugin_dirs);
static GHashTable *loaded_plugin_dirs;   /* directory -> GList of GIOModule */

static void
load_directory (const char     *dir,
                GIOModuleScope *scope)
{
  GList *modules;

  if (!g_file_test (dir, G_FILE_TEST_IS_DIR))
    {
      g_debug ("Plugin directory %s does not exist", dir);
      return;
    }

  G_LOCK (loaded_plugin_dirs);

  if (loaded_plugin_dirs == NULL)
    loaded_plugin_dirs = g_hash_table_new (g_str_hash, g_str_equal);

  if (!g_hash_table_contains (loaded_plugin_dirs, dir))
    {
      /* GIO warns itself, with the module's file name and dlerror(),
       * about modules that fail to load; they are skipped. */
      modules = g_io_modules_load_all_in_directory_with_scope (dir, scope);
      g_hash_table_insert (loaded_plugin_dirs, g_strdup (dir), modules);
    }

  G_UNLOCK (loaded_plugin_dirs);
}

/* Collectors come in the order their plugins ask for (the priority they
 * register with, higher first), so that snapshots read naturally: cpu,
 * memory, disk... Equal priorities go by name. */
static int
compare_extensions (gconstpointer a,
                    gconstpointer b)
{
  GIOExtension *extension_a = (GIOExtension *) a;
  GIOExtension *extension_b = (GIOExtension *) b;
  int priority_a = g_io_extension_get_priority (extension_a);
  int priority_b = g_io_extension_get_priority (extension_b);

  if (priority_a != priority_b)
    return priority_a > priority_b ? -1 : 1;
  return strcmp (g_io_extension_get_name (extension_a), g_io_extension_get_name (extension_b));
}

/**
 * sonde_engine_load_plugins:
 * @self: a #SondeEngine
 * @plugin_dirs: (array zero-terminated=1) (nullable): directories to search
 *   after `SONDE_PLUGIN_PATH` and before the installed plugin directory
 *
 * Loads collector plugins and adds one collector of each. Directories are
 * searched in order: each of `SONDE_PLUGIN_PATH` (colon-separated), then
 * @plugin_dirs, then the installed plugin directory; the first module of a
 * given name wins. A plugin that fails to load or whose collector cannot
 * be created is logged and skipped.
 *
 * Returns: the number of collectors added
 *
 * Since: 0.1
 */
guint
sonde_engine_load_plugins (SondeEngine        *self,
                           const char * const *plugin_dirs)
{
  GIOModuleScope *scope;
  GIOExtensionPoint *point;
  g_autoptr(GList) extensions = NULL;
  const char *env;
  guint n_added = 0;

  g_return_val_if_fail (SONDE_IS_ENGINE (self), 0);

  /* Blocking duplicates makes a module in an earlier directory shadow a
   * module of the same name later in the path (a build tree over an
   * installed copy). */
  scope = g_io_module_scope_new (G_IO_MODULE_SCOPE_BLOCK_DUPLICATES);

  env = g_getenv ("SONDE_PLUGIN_PATH");
  if (env != NULL && *env != '\0')
    {
      g_auto(GStrv) dirs = g_strsplit (env, G_SEARCHPATH_SEPARATOR_S, 0);

      for (guint i = 0; dirs[i] != NULL; i++)
        if (*dirs[i] != '\0')
          load_directory (dirs[i], scope);
    }

  for (guint i = 0; plugin_dirs != NULL && plugin_dirs[i] != NULL; i++)
    load_directory (plugin_dirs[i], scope);

  load_directory (SONDE_PLUGINDIR, scope);
  g_io_module_scope_free (scope);

  point = g_io_extension_point_lookup (SONDE_COLLECTOR_EXTENSION_POINT);
  extensions = g_list_sort (g_list_copy (g_io_extension_point_get_extensions (point)),
                            compare_extensions);
  for (GList *l = extensions; l != NULL; l = l->next)
    {
      GIOExtension *extension = l->data;
      const char *name = g_io_extension_get_name (extension);
      g_autoptr(SondeCollector) collector = NULL;
      g_autoptr(GError) error = NULL;

      if (_sonde_engine_knows_collector (self, name))
        continue;

      collector = g_object_new (g_io_extension_get_type (extension), "name", name, NULL);
      if (!sonde_engine_add_collector (self, collector, &error))
        g_warning ("Skipping collector plugin %s: %s", name, error->message);
      else
        n_added++;
    }

  return n_added;
}

