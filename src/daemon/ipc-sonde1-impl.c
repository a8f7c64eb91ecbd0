/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <glib/gi18n.h>
#include <unistd.h>

#include "ipc-sonde1-impl.h"
#include "sonde-version.h"

/* The org.sonde.Sonde1 object. Properties mirror the engine and server;
 * each D-Bus caller counts as a client (it holds the daemon) until it
 * leaves the bus, so that an activated daemon stays while a desktop applet
 * polls it and leaves once the applet is gone. */

struct _IpcSonde1Impl
{
  IpcSonde1Skeleton  parent_instance;

  GApplication      *application; /* owns us; held for each caller */
  SondeEngine       *engine;
  SondeServer       *server;
  GCancellable      *cancellable;
  GHashTable        *callers;     /* unique name -> watch id */

  gulong             clients_handler;
  gulong             added_handler;
  gulong             removed_handler;
  gulong             event_handler;
  gulong             history_handler;
};

static void ipc_sonde1_iface_init (IpcSonde1Iface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (IpcSonde1Impl, ipc_sonde1_impl, IPC_TYPE_SONDE1_SKELETON,
                               G_IMPLEMENT_INTERFACE (IPC_TYPE_SONDE1, ipc_sonde1_iface_init))

static void
update_client_count (IpcSonde1Impl *self)
{
  guint count = sonde_server_get_n_clients (self->server) + g_hash_table_size (self->callers);

  ipc_sonde1_set_client_count (IPC_SONDE1 (self), count);
}

static void
update_collectors (IpcSonde1Impl *self)
{
  g_autoptr(GPtrArray) collectors = sonde_engine_list_collectors (self->engine);
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
  g_auto(GStrv) names = NULL;

  for (guint i = 0; i < collectors->len; i++)
    g_strv_builder_add (builder, sonde_collector_get_name (g_ptr_array_index (collectors, i)));
  names = g_strv_builder_end (builder);

  ipc_sonde1_set_collectors (IPC_SONDE1 (self), (const char * const *) names);
}

static void
update_server (IpcSonde1Impl *self)
{
  g_autofree char *uri = sonde_server_get_uri (self->server);

  ipc_sonde1_set_uri (IPC_SONDE1 (self), uri ? uri : "");
  ipc_sonde1_set_port (IPC_SONDE1 (self), sonde_server_get_port (self->server));
}

static void
n_clients_cb (SondeServer   *server,
              GParamSpec    *pspec,
              IpcSonde1Impl *self)
{
  update_client_count (self);
}

static void
collectors_changed_cb (SondeEngine    *engine,
                       SondeCollector *collector,
                       IpcSonde1Impl  *self)
{
  update_collectors (self);
}

static void
history_length_cb (SondeEngine   *engine,
                   GParamSpec    *pspec,
                   IpcSonde1Impl *self)
{
  ipc_sonde1_set_history_seconds (IPC_SONDE1 (self), sonde_engine_get_history_length (engine));
}

/* Alert carries collector failures and collectors' own alerts to desktop
 * clients (a notification applet), without a WebSocket. */
static void
engine_event_cb (SondeEngine   *engine,
                 SondeEvent    *event,
                 IpcSonde1Impl *self)
{
  const char *type = sonde_event_get_event_type (event);
  JsonObject *data = sonde_event_get_data (event);
  const char *message = NULL;

  if (!g_str_equal (type, "collector_error") && !g_str_equal (type, "alert"))
    return;

  if (data != NULL && json_object_has_member (data, "message"))
    message = json_object_get_string_member_with_default (data, "message", NULL);

  ipc_sonde1_emit_alert (IPC_SONDE1 (self), type, message ? message : "");
}

static void
caller_vanished_cb (GDBusConnection *connection,
                    const char      *name,
                    gpointer         user_data)
{
  IpcSonde1Impl *self = user_data;
  gpointer watch_id;

  if (!g_hash_table_lookup_extended (self->callers, name, NULL, &watch_id))
    return;

  g_debug ("D-Bus client %s left", name);
  if (GPOINTER_TO_UINT (watch_id) != 0)
    g_bus_unwatch_name (GPOINTER_TO_UINT (watch_id));
  g_hash_table_remove (self->callers, name);
  update_client_count (self);
  g_application_release (self->application);
}

/* Holds the daemon for the caller of @invocation until it leaves the bus. */
static void
track_caller (IpcSonde1Impl         *self,
              GDBusMethodInvocation *invocation)
{
  const char *sender = g_dbus_method_invocation_get_sender (invocation);
  guint watch_id;

  if (sender == NULL || g_hash_table_contains (self->callers, sender))
    return;

  g_debug ("D-Bus client %s arrived", sender);
  g_application_hold (self->application);
  /* Inserted before watching: the vanished callback may run for a caller
   * that is already gone, and must find it. */
  g_hash_table_insert (self->callers, g_strdup (sender), GUINT_TO_POINTER (0));
  watch_id = g_bus_watch_name_on_connection (g_dbus_method_invocation_get_connection (invocation),
                                             sender, G_BUS_NAME_WATCHER_FLAGS_NONE,
                                             NULL, caller_vanished_cb, self, NULL);
  g_hash_table_insert (self->callers, g_strdup (sender), GUINT_TO_POINTER (watch_id));
  update_client_count (self);
}

static gboolean
handle_list_metrics (IpcSonde1             *object,
                     GDBusMethodInvocation *invocation)
{
  IpcSonde1Impl *self = IPC_SONDE1_IMPL (object);
  g_autoptr(GPtrArray) metrics = sonde_engine_list_metrics (self->engine);
  GVariantBuilder builder;

  track_caller (self, invocation);

  g_variant_builder_init (&builder, G_VARIANT_TYPE ("a(ssss)"));
  for (guint i = 0; i < metrics->len; i++)
    {
      SondeMetric *metric = g_ptr_array_index (metrics, i);

      g_variant_builder_add (&builder, "(ssss)",
                             sonde_metric_get_name (metric),
                             sonde_metric_get_unit (metric) ? sonde_metric_get_unit (metric) : "",
                             sonde_metric_kind_to_string (sonde_metric_get_kind (metric)),
                             sonde_metric_get_description (metric) ? sonde_metric_get_description (metric) : "");
    }

  ipc_sonde1_complete_list_metrics (object, invocation, g_variant_builder_end (&builder));
  return TRUE;
}

typedef struct
{
  IpcSonde1Impl         *self;
  GDBusMethodInvocation *invocation;
} SnapshotCall;

static void
snapshot_taken_cb (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  SnapshotCall *call = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *json = sonde_engine_snapshot_finish (SONDE_ENGINE (source), result, &error);

  if (json != NULL)
    ipc_sonde1_complete_get_snapshot (IPC_SONDE1 (call->self), call->invocation, json);
  else if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    g_dbus_method_invocation_return_error_literal (call->invocation, SONDE_ERROR, SONDE_ERROR_FAILED,
                                                   _("The daemon is shutting down"));
  else
    g_dbus_method_invocation_return_gerror (call->invocation, error);

  g_application_release (call->self->application);
  g_object_unref (call->self);
  g_object_unref (call->invocation);
  g_free (call);
}

static gboolean
handle_get_snapshot (IpcSonde1             *object,
                     GDBusMethodInvocation *invocation,
                     const char * const    *patterns)
{
  IpcSonde1Impl *self = IPC_SONDE1_IMPL (object);
  SnapshotCall *call;

  track_caller (self, invocation);

  call = g_new0 (SnapshotCall, 1);
  call->self = g_object_ref (self);
  call->invocation = g_object_ref (invocation);
  g_application_hold (self->application);

  sonde_engine_snapshot_async (self->engine, patterns, self->cancellable, snapshot_taken_cb, call);
  return TRUE;
}

static gboolean
handle_enable_collector (IpcSonde1             *object,
                         GDBusMethodInvocation *invocation,
                         const char            *name)
{
  IpcSonde1Impl *self = IPC_SONDE1_IMPL (object);
  g_autoptr(GError) error = NULL;

  track_caller (self, invocation);

  if (!sonde_engine_set_collector_enabled (self->engine, name, TRUE, &error))
    g_dbus_method_invocation_return_gerror (invocation, error);
  else
    ipc_sonde1_complete_enable_collector (object, invocation);
  return TRUE;
}

static gboolean
handle_disable_collector (IpcSonde1             *object,
                          GDBusMethodInvocation *invocation,
                          const char            *name)
{
  IpcSonde1Impl *self = IPC_SONDE1_IMPL (object);
  g_autoptr(GError) error = NULL;

  track_caller (self, invocation);

  if (!sonde_engine_set_collector_enabled (self->engine, name, FALSE, &error))
    g_dbus_method_invocation_return_gerror (invocation, error);
  else
    ipc_sonde1_complete_disable_collector (object, invocation);
  return TRUE;
}

static void
ipc_sonde1_iface_init (IpcSonde1Iface *iface)
{
  iface->handle_list_metrics = handle_list_metrics;
  iface->handle_get_snapshot = handle_get_snapshot;
  iface->handle_enable_collector = handle_enable_collector;
  iface->handle_disable_collector = handle_disable_collector;
}

static void
release_caller (gpointer key,
                gpointer value,
                gpointer user_data)
{
  IpcSonde1Impl *self = user_data;

  if (GPOINTER_TO_UINT (value) != 0)
    g_bus_unwatch_name (GPOINTER_TO_UINT (value));
  g_application_release (self->application);
}

static void
ipc_sonde1_impl_dispose (GObject *object)
{
  IpcSonde1Impl *self = IPC_SONDE1_IMPL (object);

  g_cancellable_cancel (self->cancellable);

  if (self->callers != NULL)
    {
      g_hash_table_foreach (self->callers, release_caller, self);
      g_hash_table_remove_all (self->callers);
    }

  g_clear_signal_handler (&self->clients_handler, self->server);
  g_clear_signal_handler (&self->added_handler, self->engine);
  g_clear_signal_handler (&self->removed_handler, self->engine);
  g_clear_signal_handler (&self->event_handler, self->engine);
  g_clear_signal_handler (&self->history_handler, self->engine);

  G_OBJECT_CLASS (ipc_sonde1_impl_parent_class)->dispose (object);
}

static void
ipc_sonde1_impl_finalize (GObject *object)
{
  IpcSonde1Impl *self = IPC_SONDE1_IMPL (object);

  g_clear_pointer (&self->callers, g_hash_table_unref);
  g_clear_object (&self->cancellable);
  g_clear_object (&self->engine);
  g_clear_object (&self->server);

  G_OBJECT_CLASS (ipc_sonde1_impl_parent_class)->finalize (object);
}

static void
ipc_sonde1_impl_class_init (IpcSonde1ImplClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = ipc_sonde1_impl_dispose;
  object_class->finalize = ipc_sonde1_impl_finalize;
}

static void
ipc_sonde1_impl_init (IpcSonde1Impl *self)
{
  self->cancellable = g_cancellable_new ();
  self->callers = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
}

/* The user of the caller of @invocation, or (guint) -1. */
static guint
caller_uid (GDBusMethodInvocation *invocation)
{
  GDBusConnection *connection = g_dbus_method_invocation_get_connection (invocation);
  const char *sender = g_dbus_method_invocation_get_sender (invocation);
  g_autoptr(GVariant) reply = NULL;
  GCredentials *credentials;
  guint32 uid;

  /* A peer-to-peer connection has no bus to ask. */
  if (sender == NULL)
    {
      credentials = g_dbus_connection_get_peer_credentials (connection);
      return credentials != NULL ? (guint) g_credentials_get_unix_user (credentials, NULL) : (guint) -1;
    }

  reply = g_dbus_connection_call_sync (connection, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                       "org.freedesktop.DBus", "GetConnectionUnixUser",
                                       g_variant_new ("(s)", sender), G_VARIANT_TYPE ("(u)"),
                                       G_DBUS_CALL_FLAGS_NONE, 5000, NULL, NULL);
  if (reply == NULL)
    return (guint) -1;
  g_variant_get (reply, "(u)", &uid);
  return uid;
}

/* The Token property is for the daemon's own user: Get of it, and GetAll,
 * are refused to others (who may read the other properties one by one). */
static gboolean
authorize_method_cb (GDBusInterfaceSkeleton *skeleton,
                     GDBusMethodInvocation  *invocation,
                     gpointer                user_data)
{
  const char *interface = g_dbus_method_invocation_get_interface_name (invocation);
  const char *method = g_dbus_method_invocation_get_method_name (invocation);
  GVariant *parameters = g_dbus_method_invocation_get_parameters (invocation);
  const char *property = NULL;

  if (g_strcmp0 (interface, "org.freedesktop.DBus.Properties") != 0)
    return TRUE;

  if (g_str_equal (method, "Get"))
    g_variant_get (parameters, "(&s&s)", NULL, &property);
  else if (!g_str_equal (method, "GetAll"))
    return TRUE;

  if (property != NULL && !g_str_equal (property, "Token"))
    return TRUE;

  if (caller_uid (invocation) == (guint) getuid ())
    return TRUE;

  g_dbus_method_invocation_return_error_literal (invocation, G_DBUS_ERROR, G_DBUS_ERROR_ACCESS_DENIED,
                                                 _("The token is for the daemon's own user"));
  return FALSE;
}

IpcSonde1Impl *
ipc_sonde1_impl_new (GApplication *application,
                     SondeEngine  *engine,
                     SondeServer  *server)
{
  IpcSonde1Impl *self = g_object_new (IPC_TYPE_SONDE1_IMPL, NULL);

  self->application = application;
  self->engine = g_object_ref (engine);
  self->server = g_object_ref (server);

  ipc_sonde1_set_version (IPC_SONDE1 (self), SONDE_VERSION_S);
  ipc_sonde1_set_token (IPC_SONDE1 (self), sonde_server_get_token (server) ? sonde_server_get_token (server) : "");
  g_signal_connect (self, "g-authorize-method", G_CALLBACK (authorize_method_cb), NULL);
  ipc_sonde1_set_history_seconds (IPC_SONDE1 (self), sonde_engine_get_history_length (self->engine));
  update_server (self);
  update_collectors (self);
  update_client_count (self);

  self->clients_handler = g_signal_connect (self->server, "notify::n-clients",
                                            G_CALLBACK (n_clients_cb), self);
  self->added_handler = g_signal_connect (self->engine, "collector-added",
                                          G_CALLBACK (collectors_changed_cb), self);
  self->removed_handler = g_signal_connect (self->engine, "collector-removed",
                                            G_CALLBACK (collectors_changed_cb), self);
  self->event_handler = g_signal_connect (self->engine, "event",
                                          G_CALLBACK (engine_event_cb), self);
  self->history_handler = g_signal_connect (self->engine, "notify::history-length",
                                            G_CALLBACK (history_length_cb), self);

  return self;
}
