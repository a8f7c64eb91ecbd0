/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <math.h>

#include "sonde-error.h"
#include "sonde-sample.h"

/**
 * SondeSample:
 *
 * One collection of one collector: a wall-clock timestamp and a JSON
 * object whose top-level members are the collector's fields. Instances
 * (cores, mounts, interfaces, processes) are arrays of objects inside a
 * field.
 *
 * A sample is immutable: its JSON object is sealed when the sample is
 * created, so it can be shared between threads and clients.
 *
 * Since: 0.1
 */
struct _SondeSample
{
  gatomicrefcount  ref_count;
  gint64           timestamp_us;
  char            *collector;
  JsonObject      *data;
};

G_DEFINE_BOXED_TYPE (SondeSample, sonde_sample, sonde_sample_ref, sonde_sample_unref)

/**
 * sonde_sample_new:
 * @collector: the name of the collector that produced the sample
 * @timestamp_us: wall-clock time of the sample, in microseconds since the epoch
 * @data: the fields; the sample takes a reference and seals the object
 *
 * Returns: (transfer full): a new #SondeSample
 *
 * Since: 0.1
 */
SondeSample *
sonde_sample_new (const char *collector,
                  gint64      timestamp_us,
                  JsonObject *data)
{
  SondeSample *self;

  g_return_val_if_fail (collector != NULL, NULL);
  g_return_val_if_fail (data != NULL, NULL);

  self = g_new0 (SondeSample, 1);
  g_atomic_ref_count_init (&self->ref_count);
  self->timestamp_us = timestamp_us;
  self->collector = g_strdup (collector);
  self->data = json_object_ref (data);
  json_object_seal (self->data);

  return self;
}

/**
 * sonde_sample_new_from_json:
 * @collector: the name of the collector that produced the sample
 * @timestamp_us: wall-clock time of the sample, in microseconds since the epoch
 * @json: a JSON object, as text
 * @error: return location for a #GError
 *
 * Convenient for collectors written in other languages: the fields are
 * given as JSON text.
 *
 * Returns: (transfer full) (nullable): a new #SondeSample, or %NULL if
 *   @json is not a JSON object
 *
 * Since: 0.1
 */
SondeSample *
sonde_sample_new_from_json (const char  *collector,
                            gint64       timestamp_us,
                            const char  *json,
                            GError     **error)
{
  g_autoptr(JsonNode) node = NULL;
  g_autoptr(GError) local_error = NULL;

  g_return_val_if_fail (collector != NULL, NULL);
  g_return_val_if_fail (json != NULL, NULL);

  node = json_from_string (json, &local_error);
  if (local_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }

  /* json_from_string() returns NULL, without an error, for empty text. */
  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    {
      g_set_error (error, SONDE_ERROR, SONDE_ERROR_INVALID_ARGUMENT,
                   "The fields of a sample must be a JSON object");
      return NULL;
    }

  return sonde_sample_new (collector, timestamp_us, json_node_get_object (node));
}

/**
 * sonde_sample_ref:
 * @self: a #SondeSample
 *
 * Returns: (transfer full): @self
 *
 * Since: 0.1
 */
SondeSample *
sonde_sample_ref (SondeSample *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  g_atomic_ref_count_inc (&self->ref_count);
  return self;
}

/**
 * sonde_sample_unref:
 * @self: (transfer full): a #SondeSample
 *
 * Since: 0.1
 */
void
sonde_sample_unref (SondeSample *self)
{
  g_return_if_fail (self != NULL);

  if (!g_atomic_ref_count_dec (&self->ref_count))
    return;

  g_free (self->collector);
  json_object_unref (self->data);
  g_free (self);
}

/**
 * sonde_sample_get_collector:
 * @self: a #SondeSample
 *
 * Returns: the name of the collector that produced @self
 *
 * Since: 0.1
 */
const char *
sonde_sample_get_collector (SondeSample *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->collector;
}

/**
 * sonde_sample_get_timestamp:
 * @self: a #SondeSample
 *
 * Returns: wall-clock time of the sample, in microseconds since the epoch
 *
 * Since: 0.1
 */
gint64
sonde_sample_get_timestamp (SondeSample *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return self->timestamp_us;
}

/**
 * sonde_sample_get_data:
 * @self: a #SondeSample
 *
 * Returns: (transfer none): the sealed JSON object holding the fields
 *
 * Since: 0.1
 */
JsonObject *
sonde_sample_get_data (SondeSample *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->data;
}

/**
 * sonde_sample_has_field:
 * @self: a #SondeSample
 * @field: a field name, such as "usage_percent"
 *
 * Returns: %TRUE if @self holds @field
 *
 * Since: 0.1
 */
gboolean
sonde_sample_has_field (SondeSample *self,
                        const char  *field)
{
  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (field != NULL, FALSE);
  return json_object_has_member (self->data, field);
}

static JsonNode *
lookup_value (SondeSample *self,
              const char  *field)
{
  JsonNode *node = json_object_get_member (self->data, field);

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node))
    return NULL;
  return node;
}

/**
 * sonde_sample_get_double:
 * @self: a #SondeSample
 * @field: a field name, such as "usage_percent"
 *
 * Returns: the numeric value of @field, or NaN if @field is missing or
 *   not a number
 *
 * Since: 0.1
 */
double
sonde_sample_get_double (SondeSample *self,
                         const char  *field)
{
  JsonNode *node;

  g_return_val_if_fail (self != NULL, NAN);
  g_return_val_if_fail (field != NULL, NAN);

  node = lookup_value (self, field);
  if (node == NULL)
    return NAN;

  switch (json_node_get_value_type (node))
    {
    case G_TYPE_DOUBLE:
    case G_TYPE_INT64:
    case G_TYPE_BOOLEAN:
      return json_node_get_double (node);
    default:
      return NAN;
    }
}

/**
 * sonde_sample_get_int:
 * @self: a #SondeSample
 * @field: a field name, such as "cores"
 *
 * Returns: the integer value of @field (a double is truncated), or 0 if
 *   @field is missing or not a number
 *
 * Since: 0.1
 */
gint64
sonde_sample_get_int (SondeSample *self,
                      const char  *field)
{
  JsonNode *node;

  g_return_val_if_fail (self != NULL, 0);
  g_return_val_if_fail (field != NULL, 0);

  node = lookup_value (self, field);
  if (node == NULL)
    return 0;

  switch (json_node_get_value_type (node))
    {
    case G_TYPE_DOUBLE:
    case G_TYPE_INT64:
    case G_TYPE_BOOLEAN:
      return json_node_get_int (node);
    default:
      return 0;
    }
}

/**
 * sonde_sample_get_string:
 * @self: a #SondeSample
 * @field: a field name, such as "hostname"
 *
 * Returns: (nullable): the string value of @field, or %NULL if @field is
 *   missing or not a string
 *
 * Since: 0.1
 */
const char *
sonde_sample_get_string (SondeSample *self,
                         const char  *field)
{
  JsonNode *node;

  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (field != NULL, NULL);

  node = lookup_value (self, field);
  if (node == NULL || json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (node);
}

/**
 * sonde_sample_to_json:
 * @self: a #SondeSample
 *
 * Returns: (transfer full): the fields as compact JSON text
 *
 * Since: 0.1
 */
char *
sonde_sample_to_json (SondeSample *self)
{
  g_autoptr(JsonNode) node = NULL;

  g_return_val_if_fail (self != NULL, NULL);

  node = json_node_new (JSON_NODE_OBJECT);
  json_node_set_object (node, self->data);
  return json_to_string (node, FALSE);
}
