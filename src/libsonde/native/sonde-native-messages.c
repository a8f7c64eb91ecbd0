/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "sonde-json-private.h"
#include "sonde-native-messages-private.h"

/*
 * The client messages of /ws/v1, from text to a SondeNativeMessage:
 *
 *   {"type":"subscribe","id":"a","metrics":["cpu.*"],"events":["alert"],
 *    "interval_ms":500,"history_seconds":60}
 *   {"type":"unsubscribe","id":"a"}
 *   {"type":"ping","id":ANYTHING}
 *   {"type":"catalog"}
 *
 * Each problem is the error frame the client sends back, checked in the
 * order the client has always checked them.
 */

static const char * const known_events[] = {
  "alert", "task_start", "task_output", "task_complete", "log_line",
  "server_added", "server_removed", "server_status", "collector_error",
  NULL
};

gboolean
_sonde_native_is_known_event (const char *event_type)
{
  return g_strv_contains (known_events, event_type);
}

guint
_sonde_native_default_interval (guint interval_min_ms,
                                guint interval_max_ms)
{
  return CLAMP (1000, interval_min_ms, interval_max_ms);
}

void
_sonde_native_message_clear (SondeNativeMessage *message)
{
  g_clear_pointer (&message->id, g_free);
  g_clear_pointer (&message->ping_id, json_node_unref);
  g_clear_pointer (&message->metrics, g_strfreev);
  g_clear_pointer (&message->events, g_strfreev);
  g_clear_pointer (&message->host, g_free);
}

void
_sonde_native_message_error_clear (SondeNativeMessageError *error)
{
  error->code = NULL;
  g_clear_pointer (&error->message, g_free);
  g_clear_pointer (&error->subscription, g_free);
}

static gboolean
fail (SondeNativeMessageError *error,
      const char              *code,
      char                    *message,
      const char              *subscription)
{
  error->code = code;
  error->message = message;
  error->subscription = g_strdup (subscription);
  return FALSE;
}

static gboolean
is_string (JsonNode *node)
{
  return JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_STRING;
}

static gboolean
is_valid_subscription_id (const char *id)
{
  gsize length = strlen (id);

  if (length == 0 || length > SONDE_NATIVE_MAX_SUBSCRIPTION_ID)
    return FALSE;

  for (const char *p = id; *p; p++)
    if (!g_ascii_isalnum (*p) && !strchr ("_-.:", *p))
      return FALSE;

  return TRUE;
}

/* Reads an optional array of strings. Returns FALSE if @member is present
 * but not an array of strings. */
static gboolean
read_string_array (JsonObject  *object,
                   const char  *member,
                   GStrv       *out)
{
  JsonNode *node = json_object_get_member (object, member);
  g_autoptr(GStrvBuilder) builder = NULL;
  JsonArray *array;

  *out = NULL;
  if (node == NULL)
    return TRUE;
  if (!JSON_NODE_HOLDS_ARRAY (node))
    return FALSE;

  array = json_node_get_array (node);
  builder = g_strv_builder_new ();
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonNode *element = json_array_get_element (array, i);

      if (!is_string (element))
        return FALSE;
      g_strv_builder_add (builder, json_node_get_string (element));
    }

  *out = g_strv_builder_end (builder);
  return TRUE;
}

/* Reads an optional integer member. Returns FALSE if it is present but not
 * an integral number. */
static gboolean
read_integer (JsonObject *object,
              const char *member,
              gint64      fallback,
              gint64     *out)
{
  JsonNode *node = json_object_get_member (object, member);

  *out = fallback;
  if (node == NULL)
    return TRUE;
  if (!JSON_NODE_HOLDS_VALUE (node))
    return FALSE;

  switch (json_node_get_value_type (node))
    {
    case G_TYPE_INT64:
      *out = json_node_get_int (node);
      return TRUE;

    case G_TYPE_DOUBLE:
      {
        double value = json_node_get_double (node);

        /* json-glib reads 1e400 as infinity; a double outside gint64's
         * range (or NaN) cannot be converted to one at all. */
        if (!(value >= (double) G_MININT64 && value < -(double) G_MININT64) ||
            value != (double) (gint64) value)
          return FALSE;
        *out = (gint64) value;
        return TRUE;
      }

    default:
      return FALSE;
    }
}

static gboolean
parse_subscribe (JsonObject              *object,
                 guint                    interval_min_ms,
                 guint                    interval_max_ms,
                 SondeNativeMessage      *message,
                 SondeNativeMessageError *error)
{
  const char *id = "default";
  JsonNode *id_node = json_object_get_member (object, "id");
  JsonNode *host_node = json_object_get_member (object, "host");
  g_auto(GStrv) metrics = NULL;
  g_auto(GStrv) events = NULL;
  gint64 interval_ms, history_seconds;

  if (id_node != NULL)
    {
      if (!is_string (id_node) || !is_valid_subscription_id (json_node_get_string (id_node)))
        return fail (error, "invalid_subscription",
                     g_strdup ("\"id\" must be a string of 1-64 letters, digits, '_', '-', '.' or ':'"),
                     NULL);
      id = json_node_get_string (id_node);
    }

  if (!read_string_array (object, "metrics", &metrics))
    return fail (error, "invalid_subscription", g_strdup ("\"metrics\" must be an array of strings"), id);
  if (metrics != NULL && metrics[0] == NULL)
    return fail (error, "invalid_subscription",
                 g_strdup ("\"metrics\" must not be empty; use [\"*\"] for everything"), id);

  if (!read_string_array (object, "events", &events))
    return fail (error, "invalid_subscription", g_strdup ("\"events\" must be an array of strings"), id);
  for (guint i = 0; events != NULL && events[i] != NULL; i++)
    if (!_sonde_native_is_known_event (events[i]))
      return fail (error, "invalid_subscription",
                   g_strdup_printf ("Unknown event type '%s'", events[i]), id);

  if (!read_integer (object, "interval_ms", _sonde_native_default_interval (interval_min_ms, interval_max_ms),
                     &interval_ms))
    return fail (error, "invalid_subscription", g_strdup ("\"interval_ms\" must be an integer"), id);
  if (interval_ms < interval_min_ms || interval_ms > interval_max_ms)
    return fail (error, "interval_out_of_range",
                 g_strdup_printf ("\"interval_ms\" must be between %u and %u", interval_min_ms, interval_max_ms),
                 id);

  if (!read_integer (object, "history_seconds", 0, &history_seconds) ||
      history_seconds < 0 || history_seconds > SONDE_NATIVE_MAX_HISTORY_SECONDS)
    return fail (error, "invalid_subscription",
                 g_strdup ("\"history_seconds\" must be an integer between 0 and 3600"), id);

  if (host_node != NULL && !is_string (host_node))
    return fail (error, "invalid_subscription", g_strdup ("\"host\" must be a string"), id);

  message->type = SONDE_NATIVE_MESSAGE_SUBSCRIBE;
  message->host = host_node != NULL ? g_strdup (json_node_get_string (host_node)) : NULL;
  message->id = g_strdup (id);
  message->metrics = g_steal_pointer (&metrics);
  message->events = g_steal_pointer (&events);
  message->interval_ms = (guint) interval_ms;
  message->history_seconds = (guint) history_seconds;
  return TRUE;
}

static gboolean
parse_unsubscribe (JsonObject              *object,
                   SondeNativeMessage      *message,
                   SondeNativeMessageError *error)
{
  JsonNode *id_node = json_object_get_member (object, "id");
  const char *id = "default";

  if (id_node != NULL)
    {
      if (!is_string (id_node))
        return fail (error, "invalid_subscription", g_strdup ("\"id\" must be a string"), NULL);
      id = json_node_get_string (id_node);
    }

  message->type = SONDE_NATIVE_MESSAGE_UNSUBSCRIBE;
  message->id = g_strdup (id);
  return TRUE;
}

gboolean
_sonde_native_message_parse (const char              *text,
                             gsize                    length,
                             guint                    interval_min_ms,
                             guint                    interval_max_ms,
                             SondeNativeMessage      *message,
                             SondeNativeMessageError *error)
{
  g_autoptr(GError) local_error = NULL;
  g_autoptr(JsonNode) root = NULL;
  JsonObject *object;
  JsonNode *type_node;
  const char *type;

  g_return_val_if_fail (text != NULL || length == 0, FALSE);
  g_return_val_if_fail (message != NULL, FALSE);
  g_return_val_if_fail (error != NULL, FALSE);

  memset (message, 0, sizeof *message);
  memset (error, 0, sizeof *error);

  root = _sonde_json_parse_bounded (text != NULL ? text : "", length, &local_error);
  if (root == NULL)
    return fail (error, "bad_json", g_strdup_printf ("Invalid JSON: %s", local_error->message), NULL);

  if (!JSON_NODE_HOLDS_OBJECT (root))
    return fail (error, "bad_json", g_strdup ("Expected a JSON object"), NULL);

  object = json_node_get_object (root);
  type_node = json_object_get_member (object, "type");
  if (type_node == NULL || !is_string (type_node))
    return fail (error, "bad_json", g_strdup ("Missing string member \"type\""), NULL);

  type = json_node_get_string (type_node);
  if (g_str_equal (type, "subscribe"))
    return parse_subscribe (object, interval_min_ms, interval_max_ms, message, error);
  if (g_str_equal (type, "unsubscribe"))
    return parse_unsubscribe (object, message, error);
  if (g_str_equal (type, "ping"))
    {
      JsonNode *id = json_object_get_member (object, "id");

      message->type = SONDE_NATIVE_MESSAGE_PING;
      message->ping_id = id != NULL ? json_node_copy (id) : NULL;
      return TRUE;
    }
  if (g_str_equal (type, "catalog"))
    {
      message->type = SONDE_NATIVE_MESSAGE_CATALOG;
      return TRUE;
    }

  return fail (error, "bad_json", g_strdup_printf ("Unknown message type '%s'", type), NULL);
}
