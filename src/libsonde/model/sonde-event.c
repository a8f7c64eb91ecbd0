/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "sonde-event-private.h"

/**
 * SondeEvent:
 *
 * Something that happened, as opposed to something measured: an alert,
 * a log line, a task's output, a collector error. Events are immutable.
 *
 * Since: 0.1
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
 *
 * Since: 0.1
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
 *
 * Since: 0.1
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
 *
 * Since: 0.1
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
 *
 * Since: 0.1
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
 *
 * Since: 0.1
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
 *
 * Since: 0.1
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
 *
 * Since: 0.1
 */
JsonObject *
sonde_event_get_data (SondeEvent *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->data;
}

/* Deep copies ----------------------------------------------------------- */

static JsonArray *deep_copy_array (JsonArray *array);

static JsonNode *
deep_copy_node (JsonNode *node)
{
  JsonNode *copy = json_node_alloc ();

  switch (json_node_get_node_type (node))
    {
    case JSON_NODE_OBJECT:
      json_node_init (copy, JSON_NODE_OBJECT);
      json_node_take_object (copy, _sonde_json_object_deep_copy (json_node_get_object (node)));
      return copy;

    case JSON_NODE_ARRAY:
      json_node_init (copy, JSON_NODE_ARRAY);
      json_node_take_array (copy, deep_copy_array (json_node_get_array (node)));
      return copy;

    case JSON_NODE_NULL:
      return json_node_init_null (copy);

    case JSON_NODE_VALUE:
    default:
      /* json_node_copy() would share the JsonValue, so copy the value. */
      switch (json_node_get_value_type (node))
        {
        case G_TYPE_INT64:
          return json_node_init_int (copy, json_node_get_int (node));
        case G_TYPE_DOUBLE:
          return json_node_init_double (copy, json_node_get_double (node));
        case G_TYPE_BOOLEAN:
          return json_node_init_boolean (copy, json_node_get_boolean (node));
        case G_TYPE_STRING:
          return json_node_init_string (copy, json_node_get_string (node));
        default:
          g_assert_not_reached ();
        }
    }
}

static JsonArray *
deep_copy_array (JsonArray *array)
{
  guint length = json_array_get_length (array);
  JsonArray *copy = json_array_sized_new (length);

  for (guint i = 0; i < length; i++)
    json_array_add_element (copy, deep_copy_node (json_array_get_element (array, i)));
  return copy;
}

JsonObject *
_sonde_json_object_deep_copy (JsonObject *object)
{
  JsonObject *copy = json_object_new ();
  JsonObjectIter iter;
  const char *name;
  JsonNode *node;

  /* In order, so that the copy serializes like the original. */
  json_object_iter_init_ordered (&iter, object);
  while (json_object_iter_next_ordered (&iter, &name, &node))
    json_object_set_member (copy, name, deep_copy_node (node));
  return copy;
}
