/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "sonde-engine-private.h"
#include "sonde-json-private.h"
#include "sonde-kairos-private.h"

/*
 * The kairos dialect's subscriptions: its metric names and native
 * patterns, and the client's message
 *
 *   {"metrics":[...],"interval_seconds":2,"include_history":true}
 *
 * read as the Rust original's serde struct would be, with its errors
 * (in sonde-kairos-errors.c) in serde's words.
 */

#define KAIROS_MIN_INTERVAL_SECONDS 1
#define KAIROS_MAX_INTERVAL_SECONDS 60

/* The kairos gateway's six metrics, as catalog metrics: a kairos name is
 * the field of its gateway metric. In the order of a Snapshot. */
const char * const _sonde_kairos_catalog_metrics[] = {
  "gateway.requests_total", "gateway.requests_success", "gateway.requests_error",
  "gateway.active_connections", "gateway.avg_response_time", "gateway.success_rate",
  NULL
};

#define GATEWAY_PREFIX "gateway."

/* The six kairos names, for a subscription to all of them. */
static GStrv
all_kairos_names (void)
{
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();

  for (guint i = 0; _sonde_kairos_catalog_metrics[i] != NULL; i++)
    g_strv_builder_add (builder, _sonde_kairos_catalog_metrics[i] + strlen (GATEWAY_PREFIX));
  return g_strv_builder_end (builder);
}

void
_sonde_kairos_subscription_clear (SondeKairosSubscription *sub)
{
  g_clear_pointer (&sub->names, g_strfreev);
  g_clear_pointer (&sub->id, g_free);
  g_clear_pointer (&sub->filter, _sonde_filter_free);
}

/* Names ------------------------------------------------------------------ */

/* The gateway field that a kairos name stands for, or NULL for a native
 * name. */
const char *
_sonde_kairos_field (const char *name)
{
  if (g_str_equal (name, "response_time_avg"))
    return "avg_response_time";

  for (guint i = 0; _sonde_kairos_catalog_metrics[i] != NULL; i++)
    {
      const char *field = _sonde_kairos_catalog_metrics[i] + strlen (GATEWAY_PREFIX);

      if (g_str_equal (name, field))
        return field;
    }

  return NULL;
}

/* Messages --------------------------------------------------------------- */

static gboolean
is_string (JsonNode *node)
{
  return JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_STRING;
}

/* Vec<String> */
static char *
read_metrics (JsonNode *node,
              GStrv    *out)
{
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
  g_autoptr(GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  JsonArray *array;

  if (!JSON_NODE_HOLDS_ARRAY (node))
    return _sonde_kairos_invalid_type (node, "a sequence");

  array = json_node_get_array (node);
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonNode *element = json_array_get_element (array, i);

      if (!is_string (element))
        return _sonde_kairos_invalid_type (element, "a string");

      /* A name asked twice is one member of the Snapshot. */
      if (g_hash_table_add (seen, (gpointer) json_node_get_string (element)))
        g_strv_builder_add (builder, json_node_get_string (element));
    }

  *out = g_strv_builder_end (builder);
  return NULL;
}

/* u64 */
static char *
read_interval (JsonNode *node,
               gint64   *out)
{
  if (JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_INT64)
    {
      *out = json_node_get_int (node);
      if (*out < 0)
        return g_strdup_printf ("invalid value: integer `%" G_GINT64_FORMAT "`, expected u64", *out);
      return NULL;
    }

  return _sonde_kairos_invalid_type (node, "u64");
}

/* bool */
static char *
read_bool (JsonNode *node,
           gboolean *out)
{
  if (JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_BOOLEAN)
    {
      *out = json_node_get_boolean (node);
      return NULL;
    }

  return _sonde_kairos_invalid_type (node, "a boolean");
}

/* The interval bounds in whole seconds: the guide's 1-60 within the
 * server's own bounds. */
static void
interval_bounds (SondeServer *server,
                 guint       *min_seconds,
                 guint       *max_seconds)
{
  guint min_ms = sonde_server_get_interval_min (server);
  guint max_ms = sonde_server_get_interval_max (server);

  *min_seconds = MAX (KAIROS_MIN_INTERVAL_SECONDS, (min_ms + 999) / 1000);
  *max_seconds = MIN (KAIROS_MAX_INTERVAL_SECONDS, max_ms / 1000);
  if (*max_seconds < *min_seconds)
    *max_seconds = *min_seconds;
}

static guint
default_interval (SondeServer *server)
{
  guint min_seconds, max_seconds;

  interval_bounds (server, &min_seconds, &max_seconds);
  return CLAMP (1, min_seconds, max_seconds);
}

/* Resolves the names into the group's filter. Returns an error message,
 * or NULL when every name is known. */
static char *
resolve_names (SondeEngine             *engine,
               SondeKairosSubscription *sub)
{
  g_autoptr(GPtrArray) patterns = g_ptr_array_new_with_free_func (g_free);
  gboolean has_gateway = sonde_engine_get_collector (engine, "gateway") != NULL;
  g_autoptr(GError) error = NULL;

  if (g_strv_length (sub->names) > SONDE_FILTER_MAX_PATTERNS)
    return g_strdup_printf ("at most %d metrics", SONDE_FILTER_MAX_PATTERNS);

  for (guint i = 0; sub->names[i] != NULL; i++)
    {
      const char *name = sub->names[i];
      const char *field = _sonde_kairos_field (name);

      if (field != NULL)
        {
          /* Without a gateway collector (disabled), its names stay valid
           * and null; the glob lets it join once it is added. */
          g_ptr_array_add (patterns, g_strconcat (has_gateway ? "gateway." : "gateway*.", field, NULL));
        }
      else
        {
          const char * const single[] = { name, NULL };
          g_autoptr(SondeFilter) check = NULL;

          /* Also refuses what could not be a group key: ',' is not a
           * valid character of a pattern. */
          check = _sonde_filter_new (_sonde_engine_get_catalog (engine), single, NULL);
          if (check == NULL)
            return g_strdup_printf ("unknown metric `%s`", name);
          g_ptr_array_add (patterns, g_strdup (name));
        }
    }

  g_ptr_array_add (patterns, NULL);
  sub->filter = _sonde_filter_new (_sonde_engine_get_catalog (engine), (const char * const *) patterns->pdata, &error);
  if (sub->filter == NULL)
    return g_strdup (error->message);

  sub->id = g_strjoinv (",", sub->names);
  return NULL;
}

/* Parses a subscription message. Returns the Error's message, or NULL
 * when @sub is ready. */
char *
_sonde_kairos_parse_subscription (SondeServer             *server,
                                  const char              *text,
                                  gsize                    length,
                                  SondeKairosSubscription *sub)
{
  SondeEngine *engine = sonde_server_get_engine (server);
  g_autoptr(JsonNode) root = NULL;
  g_autofree char *syntax = NULL;
  g_autofree char *detail = NULL;
  JsonObjectIter iter;
  const char *member;
  JsonNode *node;
  gint64 interval = default_interval (server);
  guint min_seconds, max_seconds;

  syntax = _sonde_kairos_check_syntax (text, length);
  if (syntax != NULL)
    return g_strdup_printf ("Invalid subscription: %s", syntax);

  root = _sonde_json_parse_bounded (text, length, NULL);
  if (root == NULL)
    return g_strdup ("Invalid subscription: expected value at line 1 column 1");

  if (!JSON_NODE_HOLDS_OBJECT (root))
    {
      detail = _sonde_kairos_invalid_type (root, "struct MetricsSubscription");
      return g_strdup_printf ("Invalid subscription: %s", detail);
    }

  /* In the message's order, as serde meets them; other members are
   * ignored, as serde does by default. */
  json_object_iter_init_ordered (&iter, json_node_get_object (root));
  while (detail == NULL && json_object_iter_next_ordered (&iter, &member, &node))
    {
      if (g_str_equal (member, "metrics"))
        {
          g_clear_pointer (&sub->names, g_strfreev);
          detail = read_metrics (node, &sub->names);
        }
      else if (g_str_equal (member, "interval_seconds"))
        detail = read_interval (node, &interval);
      else if (g_str_equal (member, "include_history"))
        detail = read_bool (node, &sub->include_history);
    }

  if (detail == NULL && sub->names == NULL)
    detail = g_strdup ("missing field `metrics`");

  interval_bounds (server, &min_seconds, &max_seconds);
  if (detail == NULL && (interval < min_seconds || interval > max_seconds))
    detail = g_strdup_printf ("interval_seconds must be between %u and %u", min_seconds, max_seconds);

  if (detail == NULL)
    {
      sub->interval_seconds = (guint) interval;

      /* Empty means all: the six kairos metrics. */
      if (sub->names[0] == NULL)
        {
          g_strfreev (sub->names);
          sub->names = all_kairos_names ();
        }

      detail = resolve_names (engine, sub);
    }

  if (detail != NULL)
    return g_strdup_printf ("Invalid subscription: %s", detail);

  return NULL;
}

/* A new client's subscription: the six kairos metrics at the default
 * interval (1 s within the server's bounds); they always resolve. */
void
_sonde_kairos_subscription_init_default (SondeKairosSubscription *sub,
                                         SondeServer             *server)
{
  g_autofree char *error = NULL;

  sub->names = all_kairos_names ();
  sub->interval_seconds = default_interval (server);
  error = resolve_names (sonde_server_get_engine (server), sub);
  g_assert (error == NULL);
}
