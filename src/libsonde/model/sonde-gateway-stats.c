/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "sonde-gateway-stats.h"

/**
 * SondeGatewayStats:
 *
 * The traffic statistics of a #SondeServer: requests, connections,
 * response times, messages sent and frames dropped for slow clients.
 * The `gateway` collector reports them.
 *
 * All methods are thread-safe: the server records from the main thread
 * while the collector reads from a worker thread.
 *
 * Since: 0.1
 */
struct _SondeGatewayStats
{
  GObject     parent_instance;

  GMutex      lock;
  guint64     requests_total;
  guint64     requests_success;
  guint64     requests_error;
  guint64     response_time_total_us;
  guint64     messages_sent;
  guint64     frames_dropped;
  guint       active_connections;
  GHashTable *clients_by_route;   /* route -> GUINT_TO_POINTER (count) */
};

G_DEFINE_FINAL_TYPE (SondeGatewayStats, sonde_gateway_stats, G_TYPE_OBJECT)

static void
sonde_gateway_stats_finalize (GObject *object)
{
  SondeGatewayStats *self = SONDE_GATEWAY_STATS (object);

  g_clear_pointer (&self->clients_by_route, g_hash_table_unref);
  g_mutex_clear (&self->lock);

  G_OBJECT_CLASS (sonde_gateway_stats_parent_class)->finalize (object);
}

static void
sonde_gateway_stats_class_init (SondeGatewayStatsClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = sonde_gateway_stats_finalize;
}

static void
sonde_gateway_stats_init (SondeGatewayStats *self)
{
  g_mutex_init (&self->lock);
  self->clients_by_route = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
}

/**
 * sonde_gateway_stats_new:
 *
 * Returns: (transfer full): new, zeroed statistics
 *
 * Since: 0.1
 */
SondeGatewayStats *
sonde_gateway_stats_new (void)
{
  return g_object_new (SONDE_TYPE_GATEWAY_STATS, NULL);
}

/**
 * sonde_gateway_stats_record_request:
 * @self: a #SondeGatewayStats
 * @success: whether the request succeeded (2xx, or an accepted upgrade)
 * @duration_us: how long the server took to answer, in microseconds
 *
 * Since: 0.1
 */
void
sonde_gateway_stats_record_request (SondeGatewayStats *self,
                                    gboolean           success,
                                    gint64             duration_us)
{
  g_return_if_fail (SONDE_IS_GATEWAY_STATS (self));

  g_mutex_lock (&self->lock);
  self->requests_total++;
  if (success)
    self->requests_success++;
  else
    self->requests_error++;
  self->response_time_total_us += MAX (duration_us, 0);
  g_mutex_unlock (&self->lock);
}

/**
 * sonde_gateway_stats_connection_opened:
 * @self: a #SondeGatewayStats
 * @route: the path the WebSocket connected to, such as "/ws/v1"
 *
 * Since: 0.1
 */
void
sonde_gateway_stats_connection_opened (SondeGatewayStats *self,
                                       const char        *route)
{
  guint count;

  g_return_if_fail (SONDE_IS_GATEWAY_STATS (self));
  g_return_if_fail (route != NULL);

  g_mutex_lock (&self->lock);
  self->active_connections++;
  count = GPOINTER_TO_UINT (g_hash_table_lookup (self->clients_by_route, route));
  g_hash_table_insert (self->clients_by_route, g_strdup (route), GUINT_TO_POINTER (count + 1));
  g_mutex_unlock (&self->lock);
}

/**
 * sonde_gateway_stats_connection_closed:
 * @self: a #SondeGatewayStats
 * @route: the path given to sonde_gateway_stats_connection_opened()
 *
 * Since: 0.1
 */
void
sonde_gateway_stats_connection_closed (SondeGatewayStats *self,
                                       const char        *route)
{
  guint count;

  g_return_if_fail (SONDE_IS_GATEWAY_STATS (self));
  g_return_if_fail (route != NULL);

  g_mutex_lock (&self->lock);
  if (self->active_connections > 0)
    self->active_connections--;
  count = GPOINTER_TO_UINT (g_hash_table_lookup (self->clients_by_route, route));
  if (count <= 1)
    g_hash_table_remove (self->clients_by_route, route);
  else
    g_hash_table_insert (self->clients_by_route, g_strdup (route), GUINT_TO_POINTER (count - 1));
  g_mutex_unlock (&self->lock);
}

/**
 * sonde_gateway_stats_add_messages_sent:
 * @self: a #SondeGatewayStats
 * @n_messages: how many messages were handed to clients
 *
 * Since: 0.1
 */
void
sonde_gateway_stats_add_messages_sent (SondeGatewayStats *self,
                                       guint              n_messages)
{
  g_return_if_fail (SONDE_IS_GATEWAY_STATS (self));

  g_mutex_lock (&self->lock);
  self->messages_sent += n_messages;
  g_mutex_unlock (&self->lock);
}

/**
 * sonde_gateway_stats_add_frames_dropped:
 * @self: a #SondeGatewayStats
 * @n_frames: how many frames were coalesced away for slow clients
 *
 * Since: 0.1
 */
void
sonde_gateway_stats_add_frames_dropped (SondeGatewayStats *self,
                                        guint              n_frames)
{
  g_return_if_fail (SONDE_IS_GATEWAY_STATS (self));

  g_mutex_lock (&self->lock);
  self->frames_dropped += n_frames;
  g_mutex_unlock (&self->lock);
}

/**
 * sonde_gateway_stats_get_active_connections:
 * @self: a #SondeGatewayStats
 *
 * Returns: the number of open WebSocket connections
 *
 * Since: 0.1
 */
guint
sonde_gateway_stats_get_active_connections (SondeGatewayStats *self)
{
  guint ret;

  g_return_val_if_fail (SONDE_IS_GATEWAY_STATS (self), 0);

  g_mutex_lock (&self->lock);
  ret = self->active_connections;
  g_mutex_unlock (&self->lock);
  return ret;
}

/**
 * sonde_gateway_stats_to_json:
 * @self: a #SondeGatewayStats
 *
 * Takes a consistent copy of the statistics as the fields of the `gateway`
 * collector: requests_total, requests_success, requests_error,
 * active_connections, avg_response_time (ms), success_rate (percent;
 * 100 before any request), messages_sent, frames_dropped and
 * clients_by_route.
 *
 * Returns: (transfer full): a new JSON object
 *
 * Since: 0.1
 */
JsonObject *
sonde_gateway_stats_to_json (SondeGatewayStats *self)
{
  JsonObject *object;
  JsonObject *routes;
  GHashTableIter iter;
  gpointer key, value;
  double avg_ms, success_rate;

  g_return_val_if_fail (SONDE_IS_GATEWAY_STATS (self), NULL);

  object = json_object_new ();
  routes = json_object_new ();

  g_mutex_lock (&self->lock);

  avg_ms = self->requests_total
         ? (double) self->response_time_total_us / self->requests_total / 1000.0
         : 0.0;
  success_rate = self->requests_total
               ? 100.0 * self->requests_success / self->requests_total
               : 100.0;

  json_object_set_int_member (object, "requests_total", self->requests_total);
  json_object_set_int_member (object, "requests_success", self->requests_success);
  json_object_set_int_member (object, "requests_error", self->requests_error);
  json_object_set_int_member (object, "active_connections", self->active_connections);
  json_object_set_double_member (object, "avg_response_time", avg_ms);
  json_object_set_double_member (object, "success_rate", success_rate);
  json_object_set_int_member (object, "messages_sent", self->messages_sent);
  json_object_set_int_member (object, "frames_dropped", self->frames_dropped);

  g_hash_table_iter_init (&iter, self->clients_by_route);
  while (g_hash_table_iter_next (&iter, &key, &value))
    json_object_set_int_member (routes, key, GPOINTER_TO_UINT (value));

  g_mutex_unlock (&self->lock);

  json_object_set_object_member (object, "clients_by_route", routes);
  return object;
}
