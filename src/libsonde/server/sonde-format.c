/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <stdarg.h>
#include <string.h>

#include "sonde-error.h"
#include "sonde-format-private.h"

/* What the formats share to read their configuration groups. */

void
_sonde_format_set_config_error (GError    **error,
                                const char *group,
                                const char *key,
                                const char *format,
                                ...)
{
  g_autofree char *what = NULL;
  va_list args;

  va_start (args, format);
  what = g_strdup_vprintf (format, args);
  va_end (args);

  g_set_error (error, SONDE_ERROR, SONDE_ERROR_INVALID_ARGUMENT, "[%s] %s: %s", group, key, what);
}

gboolean
_sonde_format_check_keys (GKeyFile            *keyfile,
                          const char          *group,
                          const char * const  *known_keys,
                          GError             **error)
{
  g_auto(GStrv) keys = g_key_file_get_keys (keyfile, group, NULL, NULL);

  for (guint i = 0; keys != NULL && keys[i] != NULL; i++)
    if (!g_strv_contains (known_keys, keys[i]))
      {
        _sonde_format_set_config_error (error, group, keys[i], "unknown key");
        return FALSE;
      }

  return TRUE;
}

gboolean
_sonde_format_read_uint (GKeyFile    *keyfile,
                         const char  *group,
                         const char  *key,
                         guint        min,
                         guint        max,
                         const char  *invalid,
                         guint       *value,
                         GError     **error)
{
  g_autofree char *text = g_key_file_get_value (keyfile, group, key, NULL);
  guint64 number;

  if (text == NULL)
    return TRUE;

  g_strstrip (text);
  if (!g_ascii_string_to_unsigned (text, 10, min, max, &number, NULL))
    {
      g_autofree char *what = g_strdup_printf (invalid, text);

      _sonde_format_set_config_error (error, group, key, "%s", what);
      return FALSE;
    }

  *value = (guint) number;
  return TRUE;
}

/* GKeyFile's escapes are \s \n \t \r \\, and \; in a list. */
static gboolean
check_escapes (GKeyFile    *keyfile,
               const char  *group,
               const char  *key,
               gboolean     list,
               GError     **error)
{
  g_autofree char *value = g_key_file_get_value (keyfile, group, key, NULL);

  for (const char *p = value; p != NULL && *p != '\0'; p++)
    {
      if (*p != '\\')
        continue;
      p++;
      if (*p == '\0')
        {
          _sonde_format_set_config_error (error, group, key, "ends with a backslash (write \\\\ for one)");
          return FALSE;
        }
      if (strchr (list ? "sntr\\;" : "sntr\\", *p) == NULL)
        {
          _sonde_format_set_config_error (error, group, key,
                                          "\\%c is not an escape sequence (\\s, \\n, \\t, \\r, \\\\%s)",
                                          g_ascii_isprint (*p) ? *p : '?', list ? ", \\;" : "");
          return FALSE;
        }
    }

  return TRUE;
}

gboolean
_sonde_format_read_string (GKeyFile    *keyfile,
                           const char  *group,
                           const char  *key,
                           char       **value,
                           GError     **error)
{
  g_autoptr(GError) local_error = NULL;

  *value = NULL;
  if (!g_key_file_has_key (keyfile, group, key, NULL))
    return TRUE;
  if (!check_escapes (keyfile, group, key, FALSE, error))
    return FALSE;

  *value = g_key_file_get_string (keyfile, group, key, &local_error);
  if (*value == NULL)
    {
      _sonde_format_set_config_error (error, group, key, "%s", local_error->message);
      return FALSE;
    }
  return TRUE;
}

gboolean
_sonde_format_read_string_list (GKeyFile    *keyfile,
                                const char  *group,
                                const char  *key,
                                GStrv       *value,
                                GError     **error)
{
  g_autoptr(GError) local_error = NULL;

  *value = NULL;
  if (!g_key_file_has_key (keyfile, group, key, NULL))
    return TRUE;
  if (!check_escapes (keyfile, group, key, TRUE, error))
    return FALSE;

  *value = g_key_file_get_string_list (keyfile, group, key, NULL, &local_error);
  if (*value != NULL)
    return TRUE;
  /* An empty value is an empty list, which GKeyFile reports as invalid. */
  if (g_error_matches (local_error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE))
    {
      g_autofree char *raw = g_key_file_get_value (keyfile, group, key, NULL);

      if (raw != NULL && *g_strstrip (raw) == '\0')
        {
          *value = g_new0 (char *, 1);
          return TRUE;
        }
    }
  _sonde_format_set_config_error (error, group, key, "%s", local_error->message);
  return FALSE;
}
