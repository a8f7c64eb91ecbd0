/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <glib/gi18n.h>
#include <math.h>
#include <string.h>

#include "sonde-config-read.h"

/* Reads an integer within [min, max]. @invalid is the translated message
 * for a bad value, with one %s for the value ("%s is not a port
 * (0-65535)"). Leaves *value alone when the key is absent. */
gboolean
sonde_config_read_int (SondeConfig  *self,
                       GKeyFile     *file,
                       const char   *group,
                       const char   *key,
                       gint64        min,
                       gint64        max,
                       const char   *invalid,
                       int          *value,
                       GError      **error)
{
  g_autofree char *text = NULL;
  g_autofree char *stripped = NULL;
  gint64 number;

  if (!g_key_file_has_key (file, group, key, NULL))
    return TRUE;

  text = g_key_file_get_value (file, group, key, NULL);
  stripped = g_strstrip (g_strdup (text));
  if (!g_ascii_string_to_signed (stripped, 10, min, max, &number, NULL))
    {
      g_autofree char *message = g_strdup_printf (invalid, stripped);

      sonde_config_set_error (self, error, group, key, "%s", message);
      return FALSE;
    }

  *value = (int) number;
  return TRUE;
}

/* GKeyFile's escapes are \s \n \t \r \\, and \; in a list; anything
 * else makes the value invalid. They are checked here, before GLib reads
 * the value: GLib 2.74 sets its GError twice, with a warning, on an
 * invalid escape followed by a backslash at the end of the value; and
 * the message can say which escape is wrong. */
gboolean
sonde_config_check_escapes (SondeConfig  *self,
                            GKeyFile     *file,
                            const char   *group,
                            const char   *key,
                            gboolean      list,
                            GError      **error)
{
  g_autofree char *value = g_key_file_get_value (file, group, key, NULL);

  for (const char *p = value; p != NULL && *p != '\0'; p++)
    {
      g_autofree char *escape = NULL;

      if (*p != '\\')
        continue;
      p++;
      if (*p != '\0' && strchr (list ? "sntr\\;" : "sntr\\", *p) != NULL)
        continue;

      /* The backslash and the character after it, if any. */
      escape = *p == '\0' ? g_strdup ("\\")
                          : g_strndup (p - 1, g_utf8_next_char (p) - (p - 1));
      if (!g_utf8_validate (escape, -1, NULL))
        g_clear_pointer (&escape, g_free);
      sonde_config_set_error (self, error, group, key,
                              _("“%s” is not an escape sequence (\\s, \\n, \\t, \\r, \\\\ and, in lists, \\;)"),
                              escape != NULL ? escape : "\\?");
      return FALSE;
    }

  return TRUE;
}

gboolean
sonde_config_read_string (SondeConfig  *self,
                          GKeyFile     *file,
                          const char   *group,
                          const char   *key,
                          char        **value,
                          GError      **error)
{
  g_autoptr(GError) local_error = NULL;
  char *text;

  if (!g_key_file_has_key (file, group, key, NULL))
    return TRUE;

  if (!sonde_config_check_escapes (self, file, group, key, FALSE, error))
    return FALSE;

  text = g_key_file_get_string (file, group, key, &local_error);
  if (text == NULL)
    {
      sonde_config_set_error (self, error, group, key, "%s", local_error->message);
      return FALSE;
    }

  g_free (*value);
  *value = g_strstrip (text);
  return TRUE;
}

gboolean
sonde_config_read_list (SondeConfig  *self,
                        GKeyFile     *file,
                        const char   *group,
                        const char   *key,
                        GStrv        *value,
                        GError      **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autoptr(GStrvBuilder) builder = NULL;
  g_auto(GStrv) list = NULL;

  if (!g_key_file_has_key (file, group, key, NULL))
    return TRUE;

  if (!sonde_config_check_escapes (self, file, group, key, TRUE, error))
    return FALSE;

  list = g_key_file_get_string_list (file, group, key, NULL, &local_error);
  if (list == NULL && !g_error_matches (local_error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE))
    {
      sonde_config_set_error (self, error, group, key, "%s", local_error->message);
      return FALSE;
    }

  builder = g_strv_builder_new ();
  for (guint i = 0; list != NULL && list[i] != NULL; i++)
    {
      char *item = g_strstrip (list[i]);

      if (*item != '\0')
        g_strv_builder_add (builder, item);
    }

  g_strfreev (*value);
  *value = g_strv_builder_end (builder);
  return TRUE;
}

char *
sonde_config_resolve_path (SondeConfig *self,
                           const char  *path)
{
  g_autofree char *dir = NULL;

  if (g_path_is_absolute (path))
    return g_strdup (path);

  dir = g_path_get_dirname (self->path);
  return g_build_filename (dir, path, NULL);
}

gboolean
sonde_config_read_absolute_paths (SondeConfig  *self,
                                  GKeyFile     *file,
                                  const char   *key,
                                  GStrv        *value,
                                  GError      **error)
{
  if (!sonde_config_read_list (self, file, "logs", key, value, error))
    return FALSE;

  for (guint i = 0; *value != NULL && (*value)[i] != NULL; i++)
    if (!g_path_is_absolute ((*value)[i]))
      {
        sonde_config_set_error (self, error, "logs", key, _("%s is not an absolute path"), (*value)[i]);
        return FALSE;
      }

  return TRUE;
}

gboolean
sonde_config_read_boolean (SondeConfig  *self,
                           GKeyFile     *file,
                           const char   *group,
                           const char   *key,
                           int          *value,
                           GError      **error)
{
  g_autoptr(GError) local_error = NULL;
  gboolean parsed;

  if (!g_key_file_has_key (file, group, key, NULL))
    return TRUE;

  parsed = g_key_file_get_boolean (file, group, key, &local_error);
  if (local_error != NULL)
    {
      g_autofree char *text = g_key_file_get_value (file, group, key, NULL);

      sonde_config_set_error (self, error, group, key, _("%s is not true or false"),
                              text != NULL ? g_strstrip (text) : "");
      return FALSE;
    }

  *value = parsed;
  return TRUE;
}

/* A finite number within [min, max]; @invalid as for read_int(). */
gboolean
sonde_config_read_double (SondeConfig  *self,
                          GKeyFile     *file,
                          const char   *group,
                          const char   *key,
                          double        min,
                          double        max,
                          const char   *invalid,
                          double       *value,
                          GError      **error)
{
  g_autofree char *text = NULL;
  g_autofree char *stripped = NULL;
  char *end = NULL;
  double number;

  if (!g_key_file_has_key (file, group, key, NULL))
    return TRUE;

  text = g_key_file_get_value (file, group, key, NULL);
  stripped = g_strstrip (g_strdup (text));
  number = g_ascii_strtod (stripped, &end);
  if (*stripped == '\0' || end == NULL || *end != '\0' || !isfinite (number) ||
      number < min || number > max)
    {
      g_autofree char *message = g_strdup_printf (invalid, stripped);

      sonde_config_set_error (self, error, group, key, "%s", message);
      return FALSE;
    }

  *value = number;
  return TRUE;
}
