/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "sonde-ready-time-source-private.h"

static gboolean
ready_time_source_dispatch (GSource     *source,
                            GSourceFunc  callback,
                            gpointer     data)
{
  return callback (data);
}

static GSourceFuncs ready_time_source_funcs = {
  NULL, NULL, ready_time_source_dispatch, NULL, NULL, NULL,
};

GSource *
_sonde_ready_time_source_new (GSourceFunc  func,
                              gpointer     data,
                              const char  *name)
{
  GSource *source = g_source_new (&ready_time_source_funcs, sizeof (GSource));

  g_source_set_callback (source, func, data, NULL);
  g_source_set_name (source, name);
  g_source_set_ready_time (source, -1);
  return source;
}
