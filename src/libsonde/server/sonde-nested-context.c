/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "sonde-nested-context-private.h"

/* One fd of the nested context, polled by the outer one. */
typedef struct
{
  int      fd;
  gushort  events;
  gpointer tag;
} WatchedFd;

typedef struct
{
  GSource       source;
  GMainContext *inner;
  GArray       *watched;     /* WatchedFd, sorted by fd */
  GArray       *spare;       /* the next set, built beside it */
  GPollFD      *fds;
  gint          allocated;
  guint64       iterations;
} NestedSource;

struct _SondeNestedContext
{
  GMainContext *context;
  GSource      *source;
};

/* Makes the outer context poll @fds (as the inner context's query gave
 * them: sorted by fd, one record per fd), with as few changes as can be. */
static void
watch_fds (NestedSource  *self,
           const GPollFD *fds,
           gint           n_fds)
{
  GArray *watched = self->spare;
  guint old = 0;

  g_array_set_size (watched, 0);
  for (gint i = 0; i < n_fds; i++)
    {
      WatchedFd entry = { fds[i].fd, fds[i].events, NULL };

      /* Both sorted: an old fd below this one is no longer polled. */
      while (old < self->watched->len && g_array_index (self->watched, WatchedFd, old).fd < entry.fd)
        g_source_remove_unix_fd (&self->source, g_array_index (self->watched, WatchedFd, old++).tag);

      if (old < self->watched->len && g_array_index (self->watched, WatchedFd, old).fd == entry.fd)
        {
          const WatchedFd *previous = &g_array_index (self->watched, WatchedFd, old++);

          entry.tag = previous->tag;
          if (previous->events != entry.events)
            g_source_modify_unix_fd (&self->source, entry.tag, entry.events);
        }
      else
        {
          entry.tag = g_source_add_unix_fd (&self->source, entry.fd, entry.events);
        }

      g_array_append_val (watched, entry);
    }

  while (old < self->watched->len)
    g_source_remove_unix_fd (&self->source, g_array_index (self->watched, WatchedFd, old++).tag);

  self->spare = self->watched;
  self->watched = watched;
}

/* One iteration of the inner context, as g_main_context_iteration() runs
 * it, but with the inner context as the thread-default one while its
 * sources are dispatched. Returns its next timeout, as a query gives it.
 * The caller has acquired the inner context. */
static gint
iterate_inner (NestedSource *self,
               gint         *n_fds)
{
  gint priority = G_MAXINT;
  gint timeout = -1;

  self->iterations++;
  g_main_context_prepare (self->inner, &priority);
  while ((*n_fds = g_main_context_query (self->inner, priority, &timeout, self->fds,
                                         self->allocated)) > self->allocated)
    {
      self->allocated = *n_fds;
      self->fds = g_renew (GPollFD, self->fds, self->allocated);
    }

  /* The outer poll said something of the inner context's is ready, not
   * what: ask the kernel again, without waiting. */
  if (*n_fds > 0)
    g_poll (self->fds, *n_fds, 0);

  if (g_main_context_check (self->inner, priority, self->fds, *n_fds))
    {
      g_main_context_push_thread_default (self->inner);
      g_main_context_dispatch (self->inner);
      g_main_context_pop_thread_default (self->inner);
    }

  return timeout;
}

static gboolean
nested_source_dispatch (GSource     *source,
                        GSourceFunc  callback,
                        gpointer     user_data)
{
  NestedSource *self = (NestedSource *) source;
  gint n_fds = 0;
  gint timeout;

  /* Another thread iterating it is none of ours: try again shortly. */
  if (!g_main_context_acquire (self->inner))
    {
      g_source_set_ready_time (source, g_get_monotonic_time () + 10 * G_TIME_SPAN_MILLISECOND);
      return G_SOURCE_CONTINUE;
    }
  timeout = iterate_inner (self, &n_fds);
  g_main_context_release (self->inner);

  if (g_source_is_destroyed (source))
    return G_SOURCE_REMOVE;

  /* Something was ready: run again at once. The fds are taken only from
   * a query with nothing ready, which leaves out those of sources of a
   * lower priority than a ready one. */
  if (timeout == 0)
    {
      g_source_set_ready_time (source, 0);
      return G_SOURCE_CONTINUE;
    }

  watch_fds (self, self->fds, n_fds);
  g_source_set_ready_time (source, timeout < 0 ? -1 : g_get_monotonic_time () + timeout * G_TIME_SPAN_MILLISECOND);
  return G_SOURCE_CONTINUE;
}

static void
nested_source_finalize (GSource *source)
{
  NestedSource *self = (NestedSource *) source;

  g_array_unref (self->watched);
  g_array_unref (self->spare);
  g_free (self->fds);
  g_main_context_unref (self->inner);
}

static GSourceFuncs nested_source_funcs = {
  NULL, NULL, nested_source_dispatch, nested_source_finalize, NULL, NULL,
};

SondeNestedContext *
_sonde_nested_context_new (GMainContext *outer)
{
  SondeNestedContext *self = g_new0 (SondeNestedContext, 1);
  NestedSource *source;

  /* Sources are attached to it while it has no owner, between
   * iterations: only with this flag does attaching one wake it. */
  self->context = g_main_context_new_with_flags (G_MAIN_CONTEXT_FLAGS_OWNERLESS_POLLING);

  self->source = g_source_new (&nested_source_funcs, sizeof (NestedSource));
  source = (NestedSource *) self->source;
  source->inner = g_main_context_ref (self->context);
  source->watched = g_array_new (FALSE, FALSE, sizeof (WatchedFd));
  source->spare = g_array_new (FALSE, FALSE, sizeof (WatchedFd));
  g_source_set_name (self->source, "[sonde] nested context");
  /* The first iteration finds the fds to poll, the inner wake-up's first. */
  g_source_set_ready_time (self->source, 0);
  g_source_attach (self->source, outer);
  return self;
}

void
_sonde_nested_context_free (SondeNestedContext *self)
{
  if (self == NULL)
    return;

  g_source_destroy (self->source);
  g_source_unref (self->source);
  g_main_context_unref (self->context);
  g_free (self);
}

GMainContext *
_sonde_nested_context_get_context (SondeNestedContext *self)
{
  return self->context;
}

guint64
_sonde_nested_context_get_iterations (SondeNestedContext *self)
{
  return ((NestedSource *) self->source)->iterations;
}

GSource *
_sonde_timeout_source_attach (guint        milliseconds,
                              GSourceFunc  func,
                              gpointer     data,
                              const char  *name)
{
  GSource *source = g_timeout_source_new (milliseconds);

  g_source_set_callback (source, func, data, NULL);
  g_source_set_name (source, name);
  g_source_attach (source, g_main_context_get_thread_default ());
  return source;
}

void
_sonde_source_clear (GSource **source)
{
  if (*source == NULL)
    return;
  g_source_destroy (*source);
  g_clear_pointer (source, g_source_unref);
}
