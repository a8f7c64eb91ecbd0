/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "prometheus-test-util.h"
#include "sonde-test-util.h"

/*
 * GET /metrics on an in-process server with the fake collectors: formats
 * and headers, fresh values from collectors nobody samples, a failing
 * collector, the token, and the scrape hold that keeps rates meaningful
 * between scrapes.
 */

typedef struct
{
  SondeTestResponse *response;
  char              *content_type;   /* the whole header, parameters included */
} Scrape;

static void
scrape_free (Scrape *scrape)
{
  sonde_test_response_free (scrape->response);
  g_free (scrape->content_type);
  g_free (scrape);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Scrape, scrape_free)

static Scrape *
scrape (SondeTestServer *server,
        const char      *method,
        const char      *accept,
        const char      *authorization)
{
  g_autofree char *uri = sonde_test_server_http_uri (server, "/metrics");
  g_autoptr(SoupMessage) msg = soup_message_new (method, uri);
  SoupMessageHeaders *headers = soup_message_get_request_headers (msg);
  Scrape *result = g_new0 (Scrape, 1);

  if (accept != NULL)
    soup_message_headers_replace (headers, "Accept", accept);
  if (authorization != NULL)
    soup_message_headers_replace (headers, "Authorization", authorization);

  result->response = sonde_test_http_send (msg);
  result->content_type = g_strdup (soup_message_headers_get_one (soup_message_get_response_headers (msg),
                                                                 "Content-Type"));
  return result;
}

static SondeTestExposition *
parse_ok (Scrape               *result,
          SondePrometheusFormat format)
{
  g_assert_cmpuint (result->response->status, ==, SOUP_STATUS_OK);
  g_assert_cmpstr (result->content_type, ==, _sonde_prometheus_content_type (format));
  g_assert_cmpstr (result->response->cache_control, ==, "no-store");
  return sonde_test_exposition_parse_bytes (result->response->body, format);
}

static void
test_get (void)
{
  SondeTestServer *server = sonde_test_server_new (TRUE);
  g_autoptr(Scrape) result = NULL;
  g_autoptr(SondeTestExposition) text = NULL;

  /* Nobody samples the collectors: the scrape collects them. */
  g_assert_false (sonde_collector_get_running (SONDE_COLLECTOR (server->fake)));
  result = scrape (server, "GET", NULL, NULL);
  text = parse_ok (result, SONDE_PROMETHEUS_FORMAT_TEXT);

  g_assert_cmpuint (sonde_fake_collector_get_n_collected (server->fake), >=, 1);
  g_assert_cmpstr (g_hash_table_lookup (text->types, "sonde_fake_value_total"), ==, "counter");
  g_assert_cmpint (g_ascii_strtoll (sonde_test_exposition_get (text, "sonde_fake_value_total"), NULL, 10), >=, 1);
  g_assert_cmpstr (g_hash_table_lookup (text->helps, "sonde_fake_value_total"), ==,
                   "How many times the fake collector was collected");
  g_assert_cmpstr (sonde_test_exposition_get (text, "sonde_fake_info{text=\"hello from fake\"}"), ==, "1");
  g_assert_cmpstr (sonde_test_exposition_get (text, "sonde_fake_items_n{name=\"item2\"}"), ==, "2");
  g_assert_cmpstr (sonde_test_exposition_get (text, "sonde_other_info{text=\"hello from other\"}"), ==, "1");
  g_assert_cmpstr (sonde_test_exposition_get (text, "sonde_collector_up{collector=\"fake\"}"), ==, "1");
  g_assert_cmpstr (sonde_test_exposition_get (text, "sonde_collector_up{collector=\"other\"}"), ==, "1");
  g_assert_cmpstr (sonde_test_exposition_get (text, "sonde_collector_stale{collector=\"fake\"}"), ==, "0");

  sonde_test_server_free (server);
}

static void
test_head_and_methods (void)
{
  SondeTestServer *server = sonde_test_server_new (TRUE);
  g_autoptr(Scrape) head = scrape (server, "HEAD", NULL, NULL);
  g_autoptr(Scrape) post = scrape (server, "POST", NULL, NULL);

  g_assert_cmpuint (head->response->status, ==, SOUP_STATUS_OK);
  g_assert_cmpstr (head->content_type, ==, "text/plain; version=0.0.4; charset=utf-8");
  g_assert_cmpuint (g_bytes_get_size (head->response->body), ==, 0);

  g_assert_cmpuint (post->response->status, ==, SOUP_STATUS_METHOD_NOT_ALLOWED);
  g_assert_cmpstr (post->response->allow, ==, "GET, HEAD");
  g_assert_cmpstr (sonde_test_response_get_code (post->response), ==, "method_not_allowed");

  sonde_test_server_free (server);
}

static void
test_openmetrics (void)
{
  SondeTestServer *server = sonde_test_server_new (TRUE);
  g_autoptr(Scrape) result = scrape (server, "GET",
                                     "application/openmetrics-text;version=1.0.0,"
                                     "application/openmetrics-text;version=0.0.1;q=0.75,"
                                     "text/plain;version=0.0.4;q=0.5,*/*;q=0.1", NULL);
  g_autoptr(SondeTestExposition) om = parse_ok (result, SONDE_PROMETHEUS_FORMAT_OPENMETRICS);

  /* The counter's family has no _total in OpenMetrics; its sample has. */
  g_assert_cmpstr (g_hash_table_lookup (om->helps, "sonde_fake_value"), ==,
                   "How many times the fake collector was collected");
  g_assert_nonnull (sonde_test_exposition_get (om, "sonde_fake_value_total"));
  g_assert_cmpstr (sonde_test_exposition_get (om, "sonde_fake_info{text=\"hello from fake\"}"), ==, "1");

  sonde_test_server_free (server);
}

static void
test_failing_collector (void)
{
  SondeTestServer *server = sonde_test_server_new (TRUE);
  g_autoptr(Scrape) result = NULL;
  g_autoptr(SondeTestExposition) text = NULL;

  sonde_fake_collector_set_failing (server->other, TRUE);
  result = scrape (server, "GET", NULL, NULL);
  text = parse_ok (result, SONDE_PROMETHEUS_FORMAT_TEXT);

  /* The scrape is answered all the same, the failure visible. */
  g_assert_cmpstr (sonde_test_exposition_get (text, "sonde_collector_up{collector=\"other\"}"), ==, "0");
  g_assert_null (sonde_test_exposition_get (text, "sonde_other_value_total"));
  g_assert_null (sonde_test_exposition_get (text,
                                            "sonde_collector_last_sample_timestamp_seconds{collector=\"other\"}"));
  g_assert_cmpstr (sonde_test_exposition_get (text, "sonde_collector_up{collector=\"fake\"}"), ==, "1");

  sonde_test_server_free (server);
}

static void
test_token (void)
{
  SondeTestServer *server = sonde_test_server_new (TRUE);
  g_autoptr(Scrape) none = NULL;
  g_autoptr(Scrape) wrong = NULL;
  g_autoptr(Scrape) right = NULL;
  g_autoptr(SondeTestExposition) text = NULL;

  sonde_server_set_token (server->server, "prom-token");
  none = scrape (server, "GET", NULL, NULL);
  wrong = scrape (server, "GET", NULL, "Bearer prom-tokem");
  right = scrape (server, "GET", NULL, "Bearer prom-token");

  g_assert_cmpuint (none->response->status, ==, SOUP_STATUS_UNAUTHORIZED);
  g_assert_cmpstr (sonde_test_response_get_code (none->response), ==, "unauthorized");
  g_assert_cmpuint (wrong->response->status, ==, SOUP_STATUS_UNAUTHORIZED);
  /* Refused before the handler: the first collection was for the last
   * one (a tick of its hold may have followed). */
  text = parse_ok (right, SONDE_PROMETHEUS_FORMAT_TEXT);
  g_assert_cmpint (g_ascii_strtoll (sonde_test_exposition_get (text, "sonde_fake_value_total"), NULL, 10),
                   >=, 1);
  g_assert_cmpint (g_ascii_strtoll (sonde_test_exposition_get (text, "sonde_fake_value_total"), NULL, 10),
                   <=, 2);

  sonde_test_server_free (server);
}

/* After a scrape the collectors stay sampled at 1 s for longer than the
 * engine's own refresh linger (10 s), so that the next scrape of a 15 s
 * interval finds rates over the last second, not a first sample. */
static void
test_scrape_keeps_collectors_sampled (void)
{
  SondeTestServer *server = sonde_test_server_new (TRUE);
  g_autoptr(Scrape) first = NULL;
  g_autoptr(Scrape) second = NULL;
  g_autoptr(SondeTestExposition) text = NULL;
  guint before;

  first = scrape (server, "GET", NULL, NULL);
  g_assert_cmpuint (first->response->status, ==, SOUP_STATUS_OK);

  sonde_test_spin_for (12000);
  before = sonde_fake_collector_get_n_collected (server->fake);
  g_assert_cmpuint (before, >=, 9);
  sonde_test_spin_for (2500);
  g_assert_cmpuint (sonde_fake_collector_get_n_collected (server->fake), >=, before + 2);
  g_assert_true (sonde_collector_get_running (SONDE_COLLECTOR (server->fake)));

  /* The next scrape reads the latest sample: no collection of its own
   * was needed, and the value is the collector's running count. */
  second = scrape (server, "GET", NULL, NULL);
  text = parse_ok (second, SONDE_PROMETHEUS_FORMAT_TEXT);
  g_assert_cmpint (g_ascii_strtoll (sonde_test_exposition_get (text, "sonde_fake_value_total"), NULL, 10),
                   >=, before + 2);

  sonde_test_server_free (server);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/prometheus/http/get", test_get);
  g_test_add_func ("/prometheus/http/head-and-methods", test_head_and_methods);
  g_test_add_func ("/prometheus/http/openmetrics", test_openmetrics);
  g_test_add_func ("/prometheus/http/failing-collector", test_failing_collector);
  g_test_add_func ("/prometheus/http/token", test_token);
  g_test_add_func ("/prometheus/http/scrape-keeps-collectors-sampled", test_scrape_keeps_collectors_sampled);

  return g_test_run ();
}
