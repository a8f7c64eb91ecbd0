/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "sonde-format-private.h"
#include "sonde-server-private.h"

/* Hosts other than this one (a hub's agents), from the formats that
 * receive their data, for the REST routes, the native protocol and
 * GET /metrics; the core names none of those formats. */

SondeTickView *
_sonde_server_ref_host_view (SondeServer *self,
                             const char  *host)
{
  const SondeFormat * const *formats = _sonde_formats_get ();

  for (guint i = 0; formats[i] != NULL; i++)
    {
      SondeTickView *view;

      if (formats[i]->host_view != NULL &&
          (view = formats[i]->host_view (_sonde_server_get_format_state (self, formats[i]), host)) != NULL)
        return view;
    }

  return NULL;
}

JsonArray *
_sonde_server_get_host_history (SondeServer  *self,
                                const char   *host,
                                const char   *metric,
                                guint         seconds,
                                GError      **error)
{
  const SondeFormat * const *formats = _sonde_formats_get ();

  for (guint i = 0; formats[i] != NULL; i++)
    {
      g_autoptr(GError) local_error = NULL;
      JsonArray *points;

      if (formats[i]->host_history == NULL)
        continue;
      points = formats[i]->host_history (_sonde_server_get_format_state (self, formats[i]),
                                         host, metric, seconds, &local_error);
      if (points != NULL)
        return points;
      if (local_error != NULL)
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          return NULL;
        }
    }

  return NULL;
}

SondeHub *
_sonde_server_get_host_hub (SondeServer *self,
                            const char  *host)
{
  const SondeFormat * const *formats = _sonde_formats_get ();

  for (guint i = 0; formats[i] != NULL; i++)
    {
      SondeHub *hub;

      if (formats[i]->host_hub != NULL &&
          (hub = formats[i]->host_hub (_sonde_server_get_format_state (self, formats[i]), host)) != NULL)
        return hub;
    }

  return NULL;
}

static int
compare_names (gconstpointer a,
               gconstpointer b)
{
  return g_strcmp0 (*(const char * const *) a, *(const char * const *) b);
}

GPtrArray *
_sonde_server_list_hosts (SondeServer *self)
{
  const SondeFormat * const *formats = _sonde_formats_get ();
  g_autoptr(GPtrArray) hosts = g_ptr_array_new_with_free_func (g_free);
  gboolean any = FALSE;

  for (guint i = 0; formats[i] != NULL; i++)
    if (formats[i]->list_hosts != NULL &&
        formats[i]->list_hosts (_sonde_server_get_format_state (self, formats[i]), hosts))
      any = TRUE;

  if (!any)
    return NULL;
  /* In a stable order, whatever order the formats keep them in. */
  g_ptr_array_sort (hosts, compare_names);
  return g_steal_pointer (&hosts);
}
