/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "sonde-event.h"

/**
 * SondeEvent:
 *
 * Something that happened, as opposed to something measured: an alert,
 * a log line, a task's output, a collector error. Events are immutable.
 */
struct _SondeEvent
{
  gatomicrefcount  ref_count;
  gint64           timestamp_us;
  char            *event_type;
  char            *source;
  JsonObject      *data;
};

G_DEFINE_BOXED_TYPE (SondeEvent, sonde_event, sonde_event_ref, sonde_event_unref)

/**
 * sonde_event_new:
 * @event_type: the protocol name of the event, such as "collector_error"
 * @source: (nullable): the collector or component that raised it
 * @timestamp_us: wall-clock time, in microseconds since the epoch
 * @data: (nullable): details; the event takes a reference and seals it
 *
 * Returns: (transfer full): a new #SondeEvent
 */
SondeEvent *
sonde_event_new (const char *event_type,
                 const char *source,
                 gint64      timestamp_us,
                 JsonObject *data)
{
  SondeEvent *self;

  g_return_val_if_fail (event_type != NULL, NULL);

  self = g_new0 (SondeEvent, 1);
  g_atomic_ref_count_init (&self->ref_count);
  self->event_type = g_strdup (event_type);
  self->source = g_strdup (source);
  self->timestamp_us = timestamp_us;
  self->data = data ? json_object_ref (data) : json_object_new ();
  json_object_seal (self->data);

  return self;
}

/**
 * sonde_event_ref:
 * @self: a #SondeEvent
 *
 * Returns: (transfer full): @self
 */
SondeEvent *
sonde_event_ref (SondeEvent *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  g_atomic_ref_count_inc (&self->ref_count);
  return self;
}

/**
 * sonde_event_unref:
 * @self: (transfer full): a #SondeEvent
 */
void
sonde_event_unref (SondeEvent *self)
{
  g_return_if_fail (self != NULL);

  if (!g_atomic_ref_count_dec (&self->ref_count))
    return;

  g_free (self->event_type);
  g_free (self->source);
  json_object_unref (self->data);
  g_free (self);
}

/**
 * sonde_event_get_event_type:
 * @self: a #SondeEvent
 *
 * Returns: the protocol name of the event, such as "collector_error"
 */
const char *
sonde_event_get_event_type (SondeEvent *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->event_type;
}

/**
 * sonde_event_get_source:
 * @self: a #SondeEvent
 *
 * Returns: (nullable): the collector or component that raised the event
 */
const char *
sonde_event_get_source (SondeEvent *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->source;
}

/**
 * sonde_event_get_timestamp:
 * @self: a #SondeEvent
 *
 * Returns: wall-clock time of the event, in microseconds since the epoch
 */
gint64
sonde_event_get_timestamp (SondeEvent *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return self->timestamp_us;
}

/**
 * sonde_event_get_data:
 * @self: a #SondeEvent
 *
 * Returns: (transfer none): the sealed details object
 */
JsonObject *
sonde_event_get_data (SondeEvent *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->data;
}
