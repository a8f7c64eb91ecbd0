/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <stdarg.h>

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
