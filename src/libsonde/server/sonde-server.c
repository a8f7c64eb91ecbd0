/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "sonde-connection-private.h"
#include "sonde-engine-private.h"
#include "sonde-frame-output-stream-private.h"
#include "sonde-rest-private.h"
#include "sonde-server-object-private.h"

/**
 * SondeServer:
 *
 * Serves a #SondeEngine over HTTP and WebSocket with libsoup: the native
 * protocol at `/ws/v1`, the formats of the products Sonde replaces at
 * their own paths (and, with sonde_server_listen_compat(), at their own
 * ports), and `/status`, `/api/v1/catalog`, `/api/v1/snapshot` and
 * `/api/v1/history`.
 *
 * All WebSocket subscribers share one subscription manager: at each tick
 * every group's frame is serialised once and the same bytes are sent to
 * each member.
 *
 * Since: 0.1
 */

enum {
  PROP_0,
  PROP_ENGINE,
  PROP_PORT,
  PROP_N_CLIENTS,
  PROP_HEARTBEAT_INTERVAL,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

G_DEFINE_FINAL_TYPE (SondeServer, sonde_server, G_TYPE_OBJECT)

/* Formats cache what they build from the catalog and the settings. */
void
_sonde_server_invalidate_formats (SondeServer *self)
{
  const SondeFormat * const *formats = _sonde_formats_get ();

  for (guint i = 0; formats[i] != NULL; i++)
    if (formats[i]->invalidate != NULL)
      formats[i]->invalidate (self->format_states[i]);
}

static void
collectors_changed_cb (SondeEngine    *engine,
                       SondeCollector *collector,
                       SondeServer    *self)
{
  _sonde_server_invalidate_formats (self);
}

/* Each format passes events on to its clients, encoding each once. */
static void
engine_event_cb (SondeEngine *engine,
                 SondeEvent  *event,
                 SondeServer *self)
{
  const SondeFormat * const *formats = _sonde_formats_get ();

  for (guint i = 0; formats[i] != NULL; i++)
    if (formats[i]->event != NULL)
      formats[i]->event (self->format_states[i], event);
}

static void
sonde_server_dispose (GObject *object)
{
  SondeServer *self = SONDE_SERVER (object);

  sonde_server_disconnect (self);

  if (self->engine != NULL)
    {
      g_clear_signal_handler (&self->event_handler, self->engine);
      g_clear_signal_handler (&self->added_handler, self->engine);
      g_clear_signal_handler (&self->removed_handler, self->engine);
    }

  g_clear_object (&self->soup_server);

  G_OBJECT_CLASS (sonde_server_parent_class)->dispose (object);
}

static void
sonde_server_finalize (GObject *object)
{
  SondeServer *self = SONDE_SERVER (object);

  const SondeFormat * const *formats = _sonde_formats_get ();

  /* After dispose: the clients, which the states may list, are gone. */
  for (guint i = 0; self->format_states != NULL && formats[i] != NULL; i++)
    formats[i]->state_free (self->format_states[i]);
  g_clear_pointer (&self->format_states, g_free);

  g_clear_pointer (&self->clients, g_ptr_array_unref);
  g_clear_pointer (&self->routes, g_ptr_array_unref);
  g_clear_pointer (&self->compat_servers, g_ptr_array_unref);
  g_clear_pointer (&self->access, _sonde_access_free);
  g_clear_pointer (&self->listeners, g_ptr_array_unref);
  g_clear_pointer (&self->admission, _sonde_admission_unref);
  g_clear_object (&self->tls_certificate);
  g_clear_object (&self->engine);
  g_clear_pointer (&self->heartbeats, _sonde_timer_queue_free);
  g_clear_pointer (&self->framed_payload, g_bytes_unref);
  g_clear_pointer (&self->framed, g_bytes_unref);

  G_OBJECT_CLASS (sonde_server_parent_class)->finalize (object);
}

static void
sonde_server_constructed (GObject *object)
{
  SondeServer *self = SONDE_SERVER (object);
  const SondeFormat * const *formats;
  guint n_formats;

  G_OBJECT_CLASS (sonde_server_parent_class)->constructed (object);

  g_assert (self->engine != NULL);

  self->event_handler = g_signal_connect (self->engine, "event", G_CALLBACK (engine_event_cb), self);
  self->added_handler = g_signal_connect (self->engine, "collector-added",
                                          G_CALLBACK (collectors_changed_cb), self);
  self->removed_handler = g_signal_connect (self->engine, "collector-removed",
                                            G_CALLBACK (collectors_changed_cb), self);

  self->access = _sonde_access_new (sonde_engine_get_gateway_stats (self->engine));
  self->admission = _sonde_admission_new ();
  self->soup_server = _sonde_server_create_soup_server (self);

  formats = _sonde_formats_get ();
  for (n_formats = 0; formats[n_formats] != NULL; n_formats++)
    ;
  self->format_states = g_new0 (gpointer, n_formats);
  for (guint i = 0; i < n_formats; i++)
    self->format_states[i] = formats[i]->state_new (self);

  /* The plain HTTP routes, "/" (the JSON 404 of paths without a route)
   * among them, then every format's routes on the main listener: a
   * format that serves "/" itself takes it over. */
  _sonde_rest_register (self, self->soup_server);
  for (guint i = 0; i < n_formats; i++)
    for (const SondeFormatListener *l = formats[i]->listeners; l->name != NULL; l++)
      if (l->main_path != NULL)
        l->register_routes (self, self->format_states[i], self->soup_server, l->main_path);
}

static void
sonde_server_get_property (GObject    *object,
                           guint       prop_id,
                           GValue     *value,
                           GParamSpec *pspec)
{
  SondeServer *self = SONDE_SERVER (object);

  switch (prop_id)
    {
    case PROP_ENGINE:
      g_value_set_object (value, self->engine);
      break;

    case PROP_PORT:
      g_value_set_uint (value, sonde_server_get_port (self));
      break;

    case PROP_N_CLIENTS:
      g_value_set_uint (value, sonde_server_get_n_clients (self));
      break;

    case PROP_HEARTBEAT_INTERVAL:
      g_value_set_uint (value, self->heartbeat_interval);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
sonde_server_set_property (GObject      *object,
                           guint         prop_id,
                           const GValue *value,
                           GParamSpec   *pspec)
{
  SondeServer *self = SONDE_SERVER (object);

  switch (prop_id)
    {
    case PROP_ENGINE:
      self->engine = g_value_dup_object (value);
      break;

    case PROP_HEARTBEAT_INTERVAL:
      sonde_server_set_heartbeat_interval (self, g_value_get_uint (value));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
sonde_server_class_init (SondeServerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->constructed = sonde_server_constructed;
  object_class->dispose = sonde_server_dispose;
  object_class->finalize = sonde_server_finalize;
  object_class->get_property = sonde_server_get_property;
  object_class->set_property = sonde_server_set_property;

  /**
   * SondeServer:engine:
   *
   * The engine whose collectors are served.
   *
   * Since: 0.1
   */
  properties[PROP_ENGINE] =
    g_param_spec_object ("engine", NULL, NULL,
                         SONDE_TYPE_ENGINE,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);

  /**
   * SondeServer:port:
   *
   * The TCP port listened on, or 0 before sonde_server_listen().
   *
   * Since: 0.1
   */
  properties[PROP_PORT] =
    g_param_spec_uint ("port", NULL, NULL,
                       0, G_MAXUINT16, 0,
                       G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * SondeServer:n-clients:
   *
   * The number of connected WebSocket clients.
   *
   * Since: 0.1
   */
  properties[PROP_N_CLIENTS] =
    g_param_spec_uint ("n-clients", NULL, NULL,
                       0, G_MAXUINT, 0,
                       G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * SondeServer:heartbeat-interval:
   *
   * Seconds of silence after which a WebSocket client gets a heartbeat.
   *
   * Since: 0.1
   */
  properties[PROP_HEARTBEAT_INTERVAL] =
    g_param_spec_uint ("heartbeat-interval", NULL, NULL,
                       1, 3600, 30,
                       G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
sonde_server_init (SondeServer *self)
{
  _sonde_server_init_clients (self);
  self->compat_servers = g_ptr_array_new_with_free_func (g_object_unref);
  self->listeners = g_ptr_array_new_with_free_func ((GDestroyNotify) _sonde_listener_free);
  self->heartbeat_interval = 30;
  /* Due an interval after the last frame; a heartbeat is at most a tenth
   * of a second late, and clients that connected within one share a wake-up. */
  self->heartbeats = _sonde_timer_queue_new ("[sonde] heartbeats", self->heartbeat_interval * G_USEC_PER_SEC,
                                             100 * G_TIME_SPAN_MILLISECOND, _sonde_connection_heartbeat);
  self->interval_min_ms = SONDE_INTERVAL_MIN_MS;
  self->interval_max_ms = SONDE_INTERVAL_MAX_MS;
}

/**
 * sonde_server_new:
 * @engine: the engine to serve
 *
 * Returns: (transfer full): a new server, not yet listening
 *
 * Since: 0.1
 */
SondeServer *
sonde_server_new (SondeEngine *engine)
{
  g_return_val_if_fail (SONDE_IS_ENGINE (engine), NULL);

  return g_object_new (SONDE_TYPE_SERVER, "engine", engine, NULL);
}

/**
 * sonde_server_get_engine:
 * @self: a #SondeServer
 *
 * Returns: (transfer none): the engine being served
 *
 * Since: 0.1
 */
SondeEngine *
sonde_server_get_engine (SondeServer *self)
{
  g_return_val_if_fail (SONDE_IS_SERVER (self), NULL);
  return self->engine;
}

/* The properties are this file's: the files that change them notify
 * through these. */
void
_sonde_server_notify_port (SondeServer *self)
{
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PORT]);
}

void
_sonde_server_notify_n_clients (SondeServer *self)
{
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_CLIENTS]);
}

/**
 * sonde_server_get_n_clients:
 * @self: a #SondeServer
 *
 * Returns: the number of connected WebSocket clients
 *
 * Since: 0.1
 */
guint
sonde_server_get_n_clients (SondeServer *self)
{
  g_return_val_if_fail (SONDE_IS_SERVER (self), 0);
  return self->clients->len;
}

/**
 * sonde_server_get_heartbeat_interval:
 * @self: a #SondeServer
 *
 * Returns: seconds of silence before a heartbeat is sent
 *
 * Since: 0.1
 */
guint
sonde_server_get_heartbeat_interval (SondeServer *self)
{
  g_return_val_if_fail (SONDE_IS_SERVER (self), 30);
  return self->heartbeat_interval;
}

/**
 * sonde_server_set_heartbeat_interval:
 * @self: a #SondeServer
 * @seconds: seconds of silence before a heartbeat, 1-3600; applies to
 *   every client, counted from the last frame it was sent
 *
 * Since: 0.1
 */
void
sonde_server_set_heartbeat_interval (SondeServer *self,
                                     guint        seconds)
{
  g_return_if_fail (SONDE_IS_SERVER (self));
  g_return_if_fail (seconds >= 1 && seconds <= 3600);

  if (self->heartbeat_interval == seconds)
    return;

  self->heartbeat_interval = seconds;
  _sonde_timer_queue_set_interval (self->heartbeats, (gint64) seconds * G_USEC_PER_SEC);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_HEARTBEAT_INTERVAL]);
}

SondeTimerQueue *
_sonde_server_get_heartbeats (SondeServer *self)
{
  return self->heartbeats;
}

/* @payload as a WebSocket frame, framed once for all the clients it goes
 * to (the reference to @payload keeps its address from being reused). */
GBytes *
_sonde_server_get_framed (SondeServer *self,
                          GBytes      *payload)
{
  if (self->framed_payload != payload)
    {
      g_clear_pointer (&self->framed, g_bytes_unref);
      g_clear_pointer (&self->framed_payload, g_bytes_unref);
      self->framed = _sonde_websocket_text_frame_new (payload);
      self->framed_payload = g_bytes_ref (payload);
      self->n_framed++;
    }

  return self->framed;
}

guint64
_sonde_server_get_n_framed (SondeServer *self)
{
  return self->n_framed;
}

SondeHub *
_sonde_server_get_hub (SondeServer *self)
{
  return _sonde_engine_get_hub (self->engine);
}

/* The main listener's server, for tests that watch its requests. */
SoupServer *
_sonde_server_get_soup_server (SondeServer *self)
{
  return self->soup_server;
}

guint
_sonde_server_get_n_groups (SondeServer *self)
{
  return _sonde_hub_get_n_groups (_sonde_server_get_hub (self));
}

guint64
_sonde_server_get_n_encoded (SondeServer *self)
{
  return _sonde_hub_get_n_encoded (_sonde_server_get_hub (self));
}

gpointer
_sonde_server_get_format_state (SondeServer       *self,
                                const SondeFormat *format)
{
  const SondeFormat * const *formats = _sonde_formats_get ();

  for (guint i = 0; formats[i] != NULL; i++)
    if (formats[i] == format)
      return self->format_states[i];

  g_assert_not_reached ();
}
