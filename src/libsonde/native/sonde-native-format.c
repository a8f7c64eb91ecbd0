/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "sonde-native-client-private.h"
#include "sonde-native-format-private.h"
#include "sonde-native-frames-private.h"
#include "sonde-server-private.h"

/* The native protocol's entry in the format table: its route, the frames
 * its clients share, and events passed on to the clients that subscribed
 * to them, each encoded once. */

struct _SondeNative
{
  SondeServer *server;    /* unowned: the state lives in it */
  GPtrArray   *clients;   /* SondeNativeClient, unowned */
  GBytes      *hello_frame;
  GBytes      *catalog_frame;
};

static gpointer
native_state_new (SondeServer *server)
{
  SondeNative *self = g_new0 (SondeNative, 1);

  self->server = server;
  self->clients = g_ptr_array_new ();
  return self;
}

static void
native_state_free (gpointer state)
{
  SondeNative *self = state;

  g_assert (self->clients->len == 0);
  g_ptr_array_unref (self->clients);
  g_clear_pointer (&self->hello_frame, g_bytes_unref);
  g_clear_pointer (&self->catalog_frame, g_bytes_unref);
  g_free (self);
}

static void
native_invalidate (gpointer state)
{
  SondeNative *self = state;

  g_clear_pointer (&self->hello_frame, g_bytes_unref);
  g_clear_pointer (&self->catalog_frame, g_bytes_unref);
}

/* Encoded only if someone subscribed to the event's type, and then once. */
static void
native_event (gpointer    state,
              SondeEvent *event)
{
  SondeNative *self = state;
  const char *event_type = sonde_event_get_event_type (event);
  g_autoptr(GBytes) frame = NULL;

  for (guint i = 0; i < self->clients->len; i++)
    {
      SondeNativeClient *client = g_ptr_array_index (self->clients, i);

      if (!_sonde_native_client_wants_event (client, event_type))
        continue;
      if (frame == NULL)
        frame = _sonde_native_encode_event (event);
      _sonde_native_client_send_event (client, frame);
    }
}

/* Returns: (transfer none) */
GBytes *
_sonde_native_get_hello_frame (SondeNative *self)
{
  if (self->hello_frame == NULL)
    self->hello_frame = _sonde_native_encode_hello (sonde_server_get_engine (self->server),
                                                    sonde_server_get_interval_min (self->server),
                                                    sonde_server_get_interval_max (self->server));
  return self->hello_frame;
}

/* Returns: (transfer none) */
GBytes *
_sonde_native_get_catalog_frame (SondeNative *self)
{
  if (self->catalog_frame == NULL)
    self->catalog_frame = _sonde_native_encode_catalog (sonde_server_get_engine (self->server));
  return self->catalog_frame;
}

void
_sonde_native_add_client (SondeNative *self,
                          gpointer     client)
{
  g_ptr_array_add (self->clients, client);
}

void
_sonde_native_remove_client (SondeNative *self,
                             gpointer     client)
{
  g_ptr_array_remove_fast (self->clients, client);
}

static void
register_native (SondeServer *server,
                 gpointer     state,
                 SoupServer  *soup_server,
                 const char  *path)
{
  _sonde_server_add_websocket_route (server, soup_server, path, &_sonde_native_client_ops, state);
}

static const SondeFormatListener native_listeners[] = {
  /* No compatibility listener: the main one is the native protocol's. */
  { "native", SONDE_NATIVE_PATH, NULL, 0, register_native },
  { NULL }
};

const SondeFormat _sonde_native_format = {
  .name = "native",
  .listeners = native_listeners,
  .state_new = native_state_new,
  .state_free = native_state_free,
  .event = native_event,
  .invalidate = native_invalidate,
};
