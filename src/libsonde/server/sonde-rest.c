/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "sonde-engine-private.h"
#include "sonde-engine-snapshot-private.h"
#include "sonde-error.h"
#include "sonde-history-private.h"
#include "sonde-json-private.h"
#include "sonde-rest-private.h"
#include "sonde-server-private.h"
#include "sonde-version.h"

/* The plain HTTP routes: GET /status, /api/v1/catalog, /api/v1/snapshot. */

void
_sonde_rest_respond_json (SoupServerMessage *msg,
                          guint              status,
                          JsonObject        *object)
{
  g_autoptr(GBytes) body = _sonde_json_object_to_bytes (object);
  SoupMessageHeaders *headers = soup_server_message_get_response_headers (msg);

  soup_message_headers_replace (headers, "Cache-Control", "no-store");
  /* Never sniffed as HTML, whatever an error message quotes. */
  soup_message_headers_replace (headers, "X-Content-Type-Options", "nosniff");
  soup_server_message_set_status (msg, status, NULL);
  soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_COPY,
                                    g_bytes_get_data (body, NULL), g_bytes_get_size (body));
}

void
_sonde_rest_respond_error (SoupServerMessage *msg,
               guint              status,
               const char        *code,
               const char        *message)
{
  g_autoptr(JsonObject) object = json_object_new ();

  json_object_set_string_member (object, "type", "error");
  json_object_set_string_member (object, "code", code);
  json_object_set_string_member (object, "message", message);
  _sonde_rest_respond_json (msg, status, object);
}

void
_sonde_rest_respond_not_found (SoupServerMessage *msg,
                               const char        *path)
{
  g_autofree char *message = NULL;

  /* The path is the client's: quoted short. */
  if (strlen (path) > 80 || !g_utf8_validate (path, -1, NULL))
    message = g_strdup ("No such route");
  else
    message = g_strdup_printf ("No such route: %s", path);
  _sonde_rest_respond_error (msg, SOUP_STATUS_NOT_FOUND, "not_found", message);
}

#define DISCONNECTED_KEY "sonde-disconnected"

static void
disconnected_cb (SoupServerMessage *msg)
{
  g_object_set_data (G_OBJECT (msg), DISCONNECTED_KEY, GINT_TO_POINTER (TRUE));
}

void
_sonde_rest_watch_disconnection (SoupServerMessage *msg)
{
  g_signal_connect (msg, "disconnected", G_CALLBACK (disconnected_cb), NULL);
}

gboolean
_sonde_rest_is_disconnected (SoupServerMessage *msg)
{
  return g_object_get_data (G_OBJECT (msg), DISCONNECTED_KEY) != NULL;
}

static gboolean
require_get (SoupServerMessage *msg)
{
  const char *method = soup_server_message_get_method (msg);

  if (g_str_equal (method, "GET") || g_str_equal (method, "HEAD"))
    return TRUE;

  soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Allow", "GET, HEAD");
  _sonde_rest_respond_error (msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "method_not_allowed", "Only GET is allowed here");
  return FALSE;
}

static void
status_cb (SoupServer        *soup_server,
           SoupServerMessage *msg,
           const char        *path,
           GHashTable        *query,
           gpointer           user_data)
{
  SondeServer *self = user_data;
  SondeEngine *engine = sonde_server_get_engine (self);
  g_autoptr(GPtrArray) collectors = sonde_engine_list_collectors (engine);
  g_autoptr(JsonObject) object = json_object_new ();
  JsonArray *array;

  if (!require_get (msg))
    return;

  array = json_array_new ();
  for (guint i = 0; i < collectors->len; i++)
    {
      SondeCollector *collector = g_ptr_array_index (collectors, i);
      const char *name = sonde_collector_get_name (collector);
      SondeSample *latest = sonde_engine_get_latest (engine, name);
      JsonObject *entry = json_object_new ();

      json_object_set_string_member (entry, "name", name);
      json_object_set_boolean_member (entry, "running", sonde_collector_get_running (collector));
      json_object_set_boolean_member (entry, "stale", _sonde_engine_is_stale (engine, name));
      if (latest != NULL)
        {
          g_autofree char *timestamp = _sonde_format_timestamp (sonde_sample_get_timestamp (latest));
          json_object_set_string_member (entry, "last_sample", timestamp);
        }
      else
        json_object_set_null_member (entry, "last_sample");
      json_array_add_object_element (array, entry);
    }

  json_object_set_string_member (object, "status", "ok");
  json_object_set_string_member (object, "server", "sonde");
  json_object_set_string_member (object, "version", SONDE_VERSION_S);
  json_object_set_int_member (object, "protocol", SONDE_PROTOCOL_VERSION);
  json_object_set_string_member (object, "hostname", g_get_host_name ());
  json_object_set_int_member (object, "clients", sonde_server_get_n_clients (self));
  json_object_set_int_member (object, "subscription_groups", _sonde_server_get_n_groups (self));
  json_object_set_int_member (object, "frames_encoded", _sonde_server_get_n_encoded (self));
  json_object_set_int_member (object, "frames_framed", _sonde_server_get_n_framed (self));
  json_object_set_array_member (object, "collectors", array);
  json_object_set_object_member (object, "gateway",
                                 sonde_gateway_stats_to_json (sonde_engine_get_gateway_stats (engine)));
  /* The formats' own members, so that one object serves all. */
  _sonde_server_add_status_members (self, object);
  _sonde_rest_respond_json (msg, SOUP_STATUS_OK, object);
}

static void
catalog_cb (SoupServer        *soup_server,
            SoupServerMessage *msg,
            const char        *path,
            GHashTable        *query,
            gpointer           user_data)
{
  SondeServer *self = user_data;
  g_autoptr(JsonObject) catalog = NULL;

  if (!require_get (msg))
    return;

  catalog = _sonde_engine_build_catalog (sonde_server_get_engine (self));
  _sonde_rest_respond_json (msg, SOUP_STATUS_OK, catalog);
}

static void
snapshot_taken_cb (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(SoupServerMessage) msg = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *json = sonde_engine_snapshot_finish (SONDE_ENGINE (source), result, &error);

  /* The client left while the samples were being refreshed. */
  if (_sonde_rest_is_disconnected (msg))
    return;

  if (json == NULL)
    _sonde_rest_respond_error (msg, SOUP_STATUS_BAD_REQUEST,
                               g_error_matches (error, SONDE_ERROR, SONDE_ERROR_UNKNOWN_METRIC)
                                 ? "unknown_metric" : "invalid_subscription",
                               error->message);
  else
    {
      gsize length = strlen (json);

      soup_message_headers_replace (soup_server_message_get_response_headers (msg),
                                    "Cache-Control", "no-store");
      soup_message_headers_replace (soup_server_message_get_response_headers (msg),
                                    "X-Content-Type-Options", "nosniff");
      soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
      soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_TAKE,
                                        g_steal_pointer (&json), length);
    }

  soup_server_message_unpause (msg);
}

/* `host` names another host whose data a format receives (a hub's
 * agent); absent, empty or this machine's name, it is this host. */
static const char *
remote_host (GHashTable *query)
{
  const char *host = query ? g_hash_table_lookup (query, "host") : NULL;

  if (host == NULL || *host == '\0' || g_str_equal (host, g_get_host_name ()))
    return NULL;
  return host;
}

static void
respond_unknown_host (SoupServerMessage *msg,
                      const char        *host)
{
  g_autofree char *message = g_strdup_printf ("Unknown host '%s'", host);

  _sonde_rest_respond_error (msg, SOUP_STATUS_NOT_FOUND, "unknown_host", message);
}

/* Another host's latest data, as its report was taken. */
static void
respond_host_snapshot (SondeServer       *self,
                       SoupServerMessage *msg,
                       const char        *host,
                       const char * const *patterns)
{
  g_autoptr(SondeTickView) view = _sonde_server_ref_host_view (self, host);
  g_autoptr(JsonObject) object = NULL;
  g_autoptr(SondeFilter) filter = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *timestamp = NULL;
  JsonArray *stale = NULL;

  if (view == NULL)
    {
      respond_unknown_host (msg, host);
      return;
    }

  filter = _sonde_filter_new (_sonde_engine_get_catalog (sonde_server_get_engine (self)), patterns, &error);
  if (filter == NULL)
    {
      _sonde_rest_respond_error (msg, SOUP_STATUS_BAD_REQUEST,
                                 g_error_matches (error, SONDE_ERROR, SONDE_ERROR_UNKNOWN_METRIC)
                                   ? "unknown_metric" : "invalid_subscription",
                                 error->message);
      return;
    }

  object = json_object_new ();
  timestamp = _sonde_format_timestamp (_sonde_tick_view_get_timestamp (view));
  json_object_set_string_member (object, "timestamp", timestamp);
  json_object_set_string_member (object, "host", host);
  json_object_set_object_member (object, "data", _sonde_tick_view_to_json (view, filter, &stale));
  if (stale != NULL)
    json_object_set_array_member (object, "stale", stale);
  _sonde_rest_respond_json (msg, SOUP_STATUS_OK, object);
}

/* GET /api/v1/snapshot[?metrics=cpu.*,memory.usage_percent][&host=NAME] */
static void
snapshot_cb (SoupServer        *soup_server,
             SoupServerMessage *msg,
             const char        *path,
             GHashTable        *query,
             gpointer           user_data)
{
  SondeServer *self = user_data;
  const char *metrics = query ? g_hash_table_lookup (query, "metrics") : NULL;
  g_auto(GStrv) patterns = g_strsplit (metrics ? metrics : "*", ",", -1);
  const char *host = remote_host (query);

  if (!require_get (msg))
    return;

  if (host != NULL)
    {
      respond_host_snapshot (self, msg, host, (const char * const *) patterns);
      return;
    }

  _sonde_rest_watch_disconnection (msg);
  soup_server_message_pause (msg);
  sonde_engine_snapshot_async (sonde_server_get_engine (self), (const char * const *) patterns, NULL,
                               snapshot_taken_cb, g_object_ref (msg));
}

/* Another host's history, as the format that receives it keeps it. */
static void
respond_host_history (SondeServer       *self,
                      SoupServerMessage *msg,
                      const char        *host,
                      const char        *metric,
                      const char        *seconds_text)
{
  g_autoptr(SondeTickView) view = _sonde_server_ref_host_view (self, host);
  g_autoptr(JsonObject) object = NULL;
  g_autoptr(GError) error = NULL;
  guint64 seconds = 300;
  JsonArray *points;

  if (view == NULL)
    {
      respond_unknown_host (msg, host);
      return;
    }

  if (metric == NULL || *metric == '\0')
    {
      _sonde_rest_respond_error (msg, SOUP_STATUS_BAD_REQUEST, "invalid_request",
                                 "The query parameter 'metric' is required");
      return;
    }

  if (seconds_text != NULL && !g_ascii_string_to_unsigned (seconds_text, 10, 1, 86400, &seconds, NULL))
    {
      _sonde_rest_respond_error (msg, SOUP_STATUS_BAD_REQUEST, "invalid_request",
                                 "'seconds' must be an integer between 1 and 86400");
      return;
    }

  points = _sonde_server_get_host_history (self, host, metric, (guint) seconds, &error);
  if (points == NULL)
    {
      _sonde_rest_respond_error (msg, SOUP_STATUS_NOT_FOUND, "unknown_metric",
                                 error != NULL ? error->message : "No history of this metric");
      return;
    }

  object = json_object_new ();
  json_object_set_string_member (object, "metric", metric);
  json_object_set_string_member (object, "host", host);
  json_object_set_int_member (object, "interval_ms", 1000);
  json_object_set_array_member (object, "points", points);
  _sonde_rest_respond_json (msg, SOUP_STATUS_OK, object);
}

/* GET /api/v1/history?metric=cpu.usage_percent&seconds=300[&host=NAME] */
static void
history_cb (SoupServer        *soup_server,
            SoupServerMessage *msg,
            const char        *path,
            GHashTable        *query,
            gpointer           user_data)
{
  SondeServer *self = user_data;
  SondeEngine *engine = sonde_server_get_engine (self);
  SondeHistory *history = sonde_engine_get_history (engine);
  const char *metric = query ? g_hash_table_lookup (query, "metric") : NULL;
  const char *seconds_text = query ? g_hash_table_lookup (query, "seconds") : NULL;
  g_autoptr(JsonObject) object = NULL;
  guint64 seconds = 300;

  if (!require_get (msg))
    return;

  if (remote_host (query) != NULL)
    {
      respond_host_history (self, msg, remote_host (query), metric, seconds_text);
      return;
    }

  if (history == NULL)
    {
      _sonde_rest_respond_error (msg, SOUP_STATUS_NOT_FOUND, "no_history",
                                 "This server keeps no history (its history length is 0)");
      return;
    }

  if (metric == NULL || *metric == '\0')
    {
      _sonde_rest_respond_error (msg, SOUP_STATUS_BAD_REQUEST, "invalid_request",
                                 "The query parameter 'metric' is required");
      return;
    }

  if (sonde_engine_lookup_metric (engine, metric) == NULL)
    {
      g_autofree char *message = g_strdup_printf ("Unknown metric '%s'", metric);
      _sonde_rest_respond_error (msg, SOUP_STATUS_NOT_FOUND, "unknown_metric", message);
      return;
    }

  if (seconds_text != NULL &&
      !g_ascii_string_to_unsigned (seconds_text, 10, 1, sonde_history_get_length (history), &seconds, NULL))
    {
      g_autofree char *message = g_strdup_printf ("'seconds' must be an integer between 1 and %u",
                                                  sonde_history_get_length (history));
      _sonde_rest_respond_error (msg, SOUP_STATUS_BAD_REQUEST, "invalid_request", message);
      return;
    }

  object = json_object_new ();
  json_object_set_string_member (object, "metric", metric);
  json_object_set_int_member (object, "interval_ms", 1000);
  json_object_set_array_member (object, "points", _sonde_history_build_points (history, metric, seconds));
  _sonde_rest_respond_json (msg, SOUP_STATUS_OK, object);
}

/* Any path without a route of its own. */
static void
not_found_cb (SoupServer        *soup_server,
              SoupServerMessage *msg,
              const char        *path,
              GHashTable        *query,
              gpointer           user_data)
{
  _sonde_rest_respond_not_found (msg, path);
}

void
_sonde_rest_register (SondeServer *self,
                      SoupServer  *soup_server)
{
  static const struct {
    const char        *path;
    SoupServerCallback callback;
  } routes[] = {
    { "/", not_found_cb },
    { "/status", status_cb },
    { "/api/v1/catalog", catalog_cb },
    { "/api/v1/snapshot", snapshot_cb },
    { "/api/v1/history", history_cb },
  };

  for (guint i = 0; i < G_N_ELEMENTS (routes); i++)
    {
      soup_server_add_handler (soup_server, routes[i].path, routes[i].callback, self, NULL);
      _sonde_server_guard_path (self, soup_server, routes[i].path);
    }
}
