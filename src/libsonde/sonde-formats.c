/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "native/sonde-native-format-private.h"
#include "prometheus/sonde-prometheus-private.h"
#include "compat/kairos/sonde-kairos-private.h"
#include "compat/resolvix/sonde-resolvix-private.h"
#include "compat/servercontrol/sonde-servercontrol-private.h"
#include "compat/ziggie/sonde-ziggie-private.h"

#include "sonde-format-private.h"

/*
 * The format table: every wire format the server speaks. Adding a format
 * is adding its folder under compat/ and one line here; the server core
 * reads this table and names none of them (docs/architecture.md).
 *
 * The order is the order of the routes on the main listener.
 */
static const SondeFormat * const formats[] = {
  &_sonde_native_format,
  &_sonde_prometheus_format,
  &_sonde_ziggie_format,
  &_sonde_kairos_format,
  &_sonde_resolvix_format,
  &_sonde_servercontrol_format,
  NULL
};

const SondeFormat * const *
_sonde_formats_get (void)
{
  return formats;
}

const SondeFormatListener *
_sonde_formats_find_listener (const char         *name,
                              const SondeFormat **format)
{
  for (guint i = 0; formats[i] != NULL; i++)
    for (const SondeFormatListener *listener = formats[i]->listeners; listener->name != NULL; listener++)
      if (listener->compat_path != NULL && g_str_equal (listener->name, name))
        {
          if (format != NULL)
            *format = formats[i];
          return listener;
        }

  return NULL;
}
