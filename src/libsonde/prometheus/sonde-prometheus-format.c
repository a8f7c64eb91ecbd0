/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "sonde-engine-private.h"
#include "sonde-prometheus-private.h"
#include "sonde-rest-private.h"
#include "sonde-server-private.h"

/* GET /metrics: the exposition of the engine's latest samples, as an
 * entry of the format table (docs/formats/prometheus.md). */

/* The format -------------------------------------------------------------- */

/* A scraper comes back every scrape interval (15 s to a few minutes): the
 * collectors stay sampled at 1 s this long after a scrape, so that each
 * scrape finds fresh values and rates measured over the last second
 * rather than the first sample of a collector just started (whose rates
 * are 0). The engine's own refresh linger (10 s) is shorter than most
 * scrape intervals. With history on, as sonded runs by default, the
 * collectors are held at 1 s anyway and this costs nothing. */
#define SCRAPE_HOLD_INTERVAL_MS 1000
#define SCRAPE_HOLD_SECONDS     300

/* The format's state, one per server. */
typedef struct
{
  SondeServer *server;          /* unowned: the state lives in it */
  SondeEngine *engine;
  GArray      *holds;           /* guint hold ids */
  guint        release_source;
} Exporter;

static void
exporter_release_holds (Exporter *exporter)
{
  for (guint i = 0; i < exporter->holds->len; i++)
    sonde_engine_release (exporter->engine, g_array_index (exporter->holds, guint, i));
  g_array_set_size (exporter->holds, 0);
}

static gpointer
exporter_new (SondeServer *server)
{
  Exporter *exporter = g_new0 (Exporter, 1);

  exporter->server = server;
  exporter->engine = g_object_ref (sonde_server_get_engine (server));
  exporter->holds = g_array_new (FALSE, FALSE, sizeof (guint));
  return exporter;
}

static void
exporter_free (gpointer data)
{
  Exporter *exporter = data;

  g_clear_handle_id (&exporter->release_source, g_source_remove);
  exporter_release_holds (exporter);
  g_array_unref (exporter->holds);
  g_object_unref (exporter->engine);
  g_free (exporter);
}

static gboolean
exporter_release_cb (gpointer data)
{
  Exporter *exporter = data;

  exporter->release_source = 0;
  exporter_release_holds (exporter);
  return G_SOURCE_REMOVE;
}

/* Holds every collector, those added since the last scrape included. The
 * new holds are taken before the old ones go, so that no collector is
 * stopped in between; a hold on a collector removed meanwhile is gone
 * with it, and releasing it does nothing. */
static void
exporter_hold (Exporter *exporter)
{
  g_autoptr(GPtrArray) collectors = sonde_engine_list_collectors (exporter->engine);
  g_autoptr(GArray) old = g_steal_pointer (&exporter->holds);

  exporter->holds = g_array_new (FALSE, FALSE, sizeof (guint));
  for (guint i = 0; i < collectors->len; i++)
    {
      const char *name = sonde_collector_get_name (g_ptr_array_index (collectors, i));
      guint id = sonde_engine_hold (exporter->engine, name, SCRAPE_HOLD_INTERVAL_MS, NULL);

      if (id != 0)
        g_array_append_val (exporter->holds, id);
    }
  for (guint i = 0; i < old->len; i++)
    sonde_engine_release (exporter->engine, g_array_index (old, guint, i));

  g_clear_handle_id (&exporter->release_source, g_source_remove);
  exporter->release_source = g_timeout_add_seconds (SCRAPE_HOLD_SECONDS, exporter_release_cb, exporter);
  g_source_set_name_by_id (exporter->release_source, "[sonde] prometheus scrape hold");
}

typedef struct
{
  SoupServerMessage    *msg;
  SondePrometheusFormat format;
} Scrape;

static void
scrape_free (Scrape *scrape)
{
  g_object_unref (scrape->msg);
  g_free (scrape);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Scrape, scrape_free)

static void
scrape_refreshed_cb (GObject      *source_object,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  g_autoptr(Scrape) scrape = user_data;
  SondeEngine *engine = SONDE_ENGINE (source_object);
  g_autoptr(GPtrArray) collectors = sonde_engine_list_collectors (engine);
  g_autoptr(GPtrArray) metrics = sonde_engine_list_metrics (engine);
  g_autoptr(GArray) entries = g_array_sized_new (FALSE, TRUE, sizeof (SondePrometheusCollector),
                                                 collectors->len);
  g_autoptr(GBytes) body = NULL;
  SondePrometheusSource source = { NULL, };
  SoupMessageHeaders *headers = soup_server_message_get_response_headers (scrape->msg);

  /* A collector that failed keeps its last values, flagged stale, or has
   * none: the scrape is answered all the same. */
  sonde_engine_refresh_finish (engine, result, NULL);

  /* The scraper left while the samples were being refreshed. */
  if (_sonde_rest_is_disconnected (scrape->msg))
    return;

  for (guint i = 0; i < collectors->len; i++)
    {
      SondePrometheusCollector entry;

      entry.name = sonde_collector_get_name (g_ptr_array_index (collectors, i));
      entry.sample = sonde_engine_get_latest (engine, entry.name);
      entry.stale = _sonde_engine_is_stale (engine, entry.name);
      g_array_append_val (entries, entry);
    }

  source.host = NULL;
  source.metrics = metrics;
  source.collectors = (const SondePrometheusCollector *) entries->data;
  source.n_collectors = entries->len;
  body = _sonde_prometheus_encode (&source, 1, scrape->format);

  soup_message_headers_replace (headers, "Cache-Control", "no-store");
  soup_message_headers_replace (headers, "Vary", "Accept");
  soup_message_headers_replace (headers, "X-Content-Type-Options", "nosniff");
  soup_server_message_set_status (scrape->msg, SOUP_STATUS_OK, NULL);
  soup_server_message_set_response (scrape->msg, _sonde_prometheus_content_type (scrape->format),
                                    SOUP_MEMORY_COPY, g_bytes_get_data (body, NULL),
                                    g_bytes_get_size (body));
  soup_server_message_unpause (scrape->msg);
}

/* GET /metrics */
static void
metrics_cb (SoupServer        *soup_server,
            SoupServerMessage *msg,
            const char        *path,
            GHashTable        *query,
            gpointer           user_data)
{
  Exporter *exporter = user_data;
  const char *method = soup_server_message_get_method (msg);
  SoupMessageHeaders *request_headers = soup_server_message_get_request_headers (msg);
  Scrape *scrape;

  if (method != SOUP_METHOD_GET && method != SOUP_METHOD_HEAD)
    {
      soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Allow", "GET, HEAD");
      _sonde_rest_respond_error (msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "method_not_allowed",
                                 "Only GET is allowed here");
      return;
    }

  exporter_hold (exporter);

  scrape = g_new0 (Scrape, 1);
  scrape->msg = g_object_ref (msg);
  scrape->format = _sonde_prometheus_negotiate (soup_message_headers_get_one (request_headers, "Accept"));

  /* Collectors nobody samples are collected now, as for /api/v1/snapshot. */
  _sonde_rest_watch_disconnection (msg);
  soup_server_message_pause (msg);
  sonde_engine_refresh_async (exporter->engine, NULL, NULL, scrape_refreshed_cb, scrape);
}

/* GET /metrics goes through the server's access checks like every route:
 * a read, it needs the token when reads do (Prometheus sends
 * `Authorization: Bearer TOKEN`). */
static void
register_metrics (SondeServer *server,
                  gpointer     state,
                  SoupServer  *soup_server,
                  const char  *path)
{
  soup_server_add_handler (soup_server, path, metrics_cb, state, NULL);
  _sonde_server_guard_path (server, soup_server, path);
}

static const SondeFormatListener prometheus_listeners[] = {
  /* On the main listener only: Prometheus scrapes the daemon's port. */
  { "prometheus", "/metrics", NULL, 0, register_metrics },
  { NULL }
};

const SondeFormat _sonde_prometheus_format = {
  .name = "prometheus",
  .listeners = prometheus_listeners,
  .state_new = exporter_new,
  .state_free = exporter_free,
};

