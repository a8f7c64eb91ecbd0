/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <glib-unix.h>
#include <glib/gi18n.h>
#include <stdio.h>
#include <stdlib.h>

#include "ipc-sonde1-impl.h"
#include "sonde-config.h"
#include "sonde-daemon-token.h"
#include "sonde-daemon-alerts.h"
#include "sonde-daemon.h"
#include "sonde-version.h"

/* One hour at one point per second: about 2.5 MiB for the built-in collectors. */
#define SONDE_DAEMON_DEFAULT_HISTORY_SECONDS 3600

/* sonded: loads the collector plugins and serves them over WebSocket.
 *
 * Started by hand it is standalone: it serves until SIGINT or SIGTERM,
 * with or without a session bus, and owns org.sonde.Sonde1 if it can.
 * Started by D-Bus activation (--gapplication-service) it is a GApplication
 * service: it owns the name, and leaves after its idle timeout once no
 * WebSocket client and no D-Bus caller remains. */

struct _SondeDaemon
{
  GApplication   parent_instance;

  /* Command line; unset values are NULL or -1 */
  char          *opt_address;
  int            opt_port;
  char         **opt_plugin_dirs;
  char         **opt_disable;
  char         **opt_compat;
  char          *opt_config;
  int            opt_idle_timeout;
  char          *opt_agent_of;
  char          *opt_token;
  gboolean       opt_version;

  SondeEngine   *engine;
  SondeServer   *server;
  GPtrArray     *compat_lines;   /* "NAME ADDRESS:PORT" of each compatibility listener */
  IpcSonde1Impl *ipc;
  SondeDiscovery *discovery;     /* [discovery] enabled=true */
  char          *discovery_line; /* "ADDRESS:PORT" */
  SondeAlertNotifier *notifier;  /* [alerts] notify=true */
  gboolean       notify_alerts;
  SondeAgent    *agent;          /* --agent-of, [agent-of] */

  guint          idle_timeout;   /* seconds, 0: never */
  gboolean       service;
  gboolean       clients_held;
  gulong         clients_handler;
  guint          sigint_source;
  guint          sigterm_source;
  guint          owner_id;
  guint          initial_release_source;
};

G_DEFINE_FINAL_TYPE (SondeDaemon, sonde_daemon, G_TYPE_APPLICATION)

static const GDBusErrorEntry sonde_dbus_error_entries[] = {
  { SONDE_ERROR_FAILED, "org.sonde.Sonde1.Error.Failed" },
  { SONDE_ERROR_INVALID_FILTER, "org.sonde.Sonde1.Error.InvalidPattern" },
  { SONDE_ERROR_UNKNOWN_METRIC, "org.sonde.Sonde1.Error.UnknownMetric" },
  { SONDE_ERROR_UNKNOWN_COLLECTOR, "org.sonde.Sonde1.Error.UnknownCollector" },
  { SONDE_ERROR_COLLECTOR_FAILED, "org.sonde.Sonde1.Error.CollectorFailed" },
  { SONDE_ERROR_TIMED_OUT, "org.sonde.Sonde1.Error.TimedOut" },
  { SONDE_ERROR_EXISTS, "org.sonde.Sonde1.Error.Exists" },
  { SONDE_ERROR_INVALID_ARGUMENT, "org.sonde.Sonde1.Error.InvalidArgument" },
};

/* The build tree's plugin directories, when this binary runs from the
 * build tree; NULL once installed. */
static char **
build_tree_plugin_dirs (void)
{
  g_autofree char *exe = g_file_read_link ("/proc/self/exe", NULL);

  if (exe == NULL || !g_str_has_prefix (exe, SONDE_BUILD_ROOT "/"))
    return NULL;

  return g_strsplit (SONDE_BUILD_PLUGIN_PATH, ":", -1);
}

/* [collectors] enabled and disabled, then --disable. */
static gboolean
apply_collectors (SondeDaemon  *self,
                  SondeConfig  *config,
                  GError      **error)
{
  if (config->enabled != NULL)
    {
      g_autoptr(GPtrArray) collectors = NULL;

      for (guint i = 0; config->enabled[i] != NULL; i++)
        if (sonde_engine_get_collector (self->engine, config->enabled[i]) == NULL)
          {
            sonde_config_set_error (config, error, "collectors", "enabled",
                                    _("no collector named '%s'"), config->enabled[i]);
            return FALSE;
          }

      collectors = sonde_engine_list_collectors (self->engine);
      for (guint i = 0; i < collectors->len; i++)
        {
          const char *name = sonde_collector_get_name (g_ptr_array_index (collectors, i));

          if (!g_strv_contains ((const char * const *) config->enabled, name))
            sonde_engine_set_collector_enabled (self->engine, name, FALSE, NULL);
        }
    }

  for (guint i = 0; config->disabled != NULL && config->disabled[i] != NULL; i++)
    {
      const char *name = config->disabled[i];

      if (!sonde_engine_set_collector_enabled (self->engine, name, FALSE, NULL))
        {
          sonde_config_set_error (config, error, "collectors", "disabled",
                                  _("no collector named '%s'"), name);
          return FALSE;
        }
    }

  for (guint i = 0; self->opt_disable != NULL && self->opt_disable[i] != NULL; i++)
    {
      const char *name = self->opt_disable[i];

      if (!sonde_engine_set_collector_enabled (self->engine, name, FALSE, NULL))
        g_warning (_("--disable %s: no such collector"), name);
    }

  return TRUE;
}

/* A configured token guards every route (apply_server_config() sets it).
 * Without one, sonded makes one for its user: what reveals more than
 * metrics or changes state (log lines, /control, agents) needs it, and
 * the metric streams stay open on loopback, where the replaced products'
 * clients, which send no token, read them. Command tasks still need a
 * configured token: the formats were configured before this one is set. */
static gboolean
apply_generated_token (SondeDaemon  *self,
                       SondeConfig  *config,
                       const char   *address,
                       GError      **error)
{
  g_autoptr(GInetAddress) inet = g_inet_address_new_from_string (address);
  gboolean loopback = g_str_equal (address, "localhost") ||
                      (inet != NULL && g_inet_address_get_is_loopback (inet));
  g_autofree char *token = NULL;

  if (config->token != NULL)
    return TRUE;

  token = sonde_daemon_load_token (error);
  if (token == NULL)
    return FALSE;

  sonde_server_set_token (self->server, token);
  sonde_server_set_reads_need_token (self->server, !loopback);
  return TRUE;
}

/* Listening beyond this machine is allowed, but never by accident: without
 * a configured token every client must be handed the one sonded made,
 * and without TLS the token and the metrics cross the network in clear. */
static void
warn_if_exposed (const char  *address,
                 SondeConfig *config)
{
  g_autoptr(GInetAddress) inet = NULL;

  if (g_str_equal (address, "localhost"))
    return;
  inet = g_inet_address_new_from_string (address);
  if (inet == NULL || g_inet_address_get_is_loopback (inet))
    return;

  if (config->token == NULL)
    g_printerr (_("sonded: warning: listening on %s, beyond this machine, without a configured "
                  "token: every client needs the token in %s; set [server] token\n"),
                address, SONDE_TOKEN_FILE);
  if (config->tls_certificate == NULL)
    g_printerr (_("sonded: warning: listening on %s, beyond this machine, without TLS: "
                  "the token and the metrics cross the network in clear; "
                  "set [server] tls-certificate and tls-key\n"), address);
}

static gboolean
apply_server_config (SondeDaemon  *self,
                     SondeConfig  *config,
                     const char   *address,
                     GError      **error)
{
  g_autoptr(GError) local_error = NULL;
  guint min_ms, max_ms;

  /* The formats see the configured token only: command tasks need one. */
  if (config->token != NULL)
    {
      sonde_server_set_token (self->server, config->token);
      sonde_server_set_reads_need_token (self->server, TRUE);
    }
  if (config->allowed_origins != NULL)
    sonde_server_set_allowed_origins (self->server, (const char * const *) config->allowed_origins);
  if (config->tls_certificate != NULL)
    sonde_server_set_tls_certificate (self->server, config->tls_certificate);

  if (!sonde_config_apply_to_server (config, self->server, error) ||
      !apply_generated_token (self, config, address, error))
    return FALSE;

  min_ms = config->interval_min_ms >= 0 ? (guint) config->interval_min_ms : SONDE_INTERVAL_MIN_MS;
  max_ms = config->interval_max_ms >= 0 ? (guint) config->interval_max_ms : SONDE_INTERVAL_MAX_MS;
  if (!sonde_server_set_interval_bounds (self->server, min_ms, max_ms, &local_error))
    {
      sonde_config_set_error (config, error, "server",
                              config->interval_min_ms >= 0 ? "interval-min-ms" : "interval-max-ms",
                              "%s", local_error->message);
      return FALSE;
    }

  return TRUE;
}

/* The logs collector follows only what the configuration allows. */
static void
apply_logs_config (SondeDaemon *self,
                   SondeConfig *config)
{
  SondeCollector *logs = sonde_engine_get_collector (self->engine, "logs");

  if (logs == NULL)
    return;

  if (config->log_allowed_paths != NULL)
    g_object_set (logs, "allowed-paths", config->log_allowed_paths, NULL);
  if (config->log_files != NULL)
    g_object_set (logs, "files", config->log_files, NULL);
}

/* Opens the compatibility listeners the command line asks for, else those
 * of the configuration, on the main listener's address. */
static gboolean
listen_compat (SondeDaemon  *self,
               SondeConfig  *config,
               const char   *address,
               GError      **error)
{
  char **entries = self->opt_compat ? self->opt_compat : config->compat;

  for (guint i = 0; entries != NULL && entries[i] != NULL; i++)
    {
      g_autoptr(GError) local_error = NULL;
      g_autofree char *name = NULL;
      guint port, bound;

      if (!sonde_config_parse_compat (entries[i], &name, &port, error))
        return FALSE;

      bound = sonde_server_listen_compat (self->server, name, address, port, &local_error);
      if (bound == 0)
        {
          g_set_error (error, SONDE_ERROR, SONDE_ERROR_FAILED,
                       _("cannot open the %s listener on %s port %u: %s"),
                       name, address, port, local_error->message);
          return FALSE;
        }

      g_ptr_array_add (self->compat_lines, g_strdup_printf ("%s %s:%u", name, address, bound));
    }

  return TRUE;
}

/* [discovery] enabled=true: the UDP responder, on the main listener's
 * address. */
static gboolean
start_discovery (SondeDaemon  *self,
                 SondeConfig  *config,
                 const char   *address,
                 GError      **error)
{
  g_autoptr(GError) local_error = NULL;
  guint port = config->discovery_port >= 0 ? (guint) config->discovery_port : SONDE_DISCOVERY_DEFAULT_PORT;

  if (config->discovery_enabled != TRUE)
    return TRUE;

  self->discovery = sonde_discovery_new (self->server);
  if (!sonde_discovery_start (self->discovery, address, port, &local_error))
    {
      g_set_error (error, SONDE_ERROR, SONDE_ERROR_FAILED,
                   _("cannot answer discovery probes on %s UDP port %u: %s"),
                   address, port, local_error->message);
      return FALSE;
    }

  self->discovery_line = g_strdup_printf ("%s:%u", address, sonde_discovery_get_port (self->discovery));
  return TRUE;
}

/* --agent-of URL --token T, else [agent-of]: this daemon reports its own
 * samples to a vstats hub as well. */
static gboolean
start_agent (SondeDaemon  *self,
             SondeConfig  *config,
             GError      **error)
{
  const char *url = self->opt_agent_of != NULL ? self->opt_agent_of : config->agent_of_url;
  const char *token = self->opt_token != NULL ? self->opt_token : config->agent_of_token;
  g_autoptr(GError) local_error = NULL;

  if (url == NULL)
    {
      if (self->opt_token != NULL)
        {
          g_set_error (error, SONDE_ERROR, SONDE_ERROR_INVALID_ARGUMENT,
                       _("--token is the token of --agent-of; give the hub's URL too"));
          return FALSE;
        }
      return TRUE;
    }

  self->agent = sonde_agent_new (self->engine, url, &local_error);
  if (self->agent == NULL)
    {
      g_set_error (error, SONDE_ERROR, SONDE_ERROR_INVALID_ARGUMENT,
                   _("--agent-of %s: %s"), url, local_error->message);
      return FALSE;
    }

  sonde_agent_set_token (self->agent, token);
  if (config->agent_of_buffer > 0)
    sonde_agent_set_buffer_size (self->agent, (guint) config->agent_of_buffer);
  if (config->agent_of_ca_file != NULL)
    {
      g_autoptr(GTlsDatabase) database = g_tls_file_database_new (config->agent_of_ca_file, &local_error);

      if (database == NULL)
        {
          sonde_config_set_error (config, error, "agent-of", "ca-file", "%s", local_error->message);
          return FALSE;
        }
      sonde_agent_set_tls_database (self->agent, database);
    }

  sonde_agent_start (self->agent);
  return TRUE;
}

/* Reads the configuration, loads the plugins and listens: everything that
 * can fail is done before registering on the bus, so that a bad
 * configuration is refused at once with its message. */
static gboolean
sonde_daemon_setup (SondeDaemon  *self,
                    GError      **error)
{
  g_autoptr(SondeConfig) config = sonde_config_new ();
  g_autoptr(GStrvBuilder) dirs_builder = g_strv_builder_new ();
  g_autofree char *default_path = NULL;
  g_auto(GStrv) build_dirs = NULL;
  g_auto(GStrv) plugin_dirs = NULL;
  g_autoptr(GError) local_error = NULL;
  const char *address;
  guint port;
  guint n_loaded;

  if (self->opt_config != NULL)
    {
      if (!sonde_config_load (config, self->opt_config, TRUE, error))
        return FALSE;
    }
  else
    {
      default_path = sonde_config_default_path ();
      if (!sonde_config_load (config, default_path, FALSE, error))
        return FALSE;
    }

  if (self->opt_port != -1 && (self->opt_port < 0 || self->opt_port > G_MAXUINT16))
    {
      g_set_error (error, SONDE_ERROR, SONDE_ERROR_INVALID_ARGUMENT,
                   _("port %d is out of range (0-65535)"), self->opt_port);
      return FALSE;
    }

  if (self->opt_idle_timeout != -1 &&
      (self->opt_idle_timeout < 0 || self->opt_idle_timeout > SONDE_IDLE_TIMEOUT_MAX))
    {
      g_set_error (error, SONDE_ERROR, SONDE_ERROR_INVALID_ARGUMENT,
                   _("idle timeout %d is out of range (0-86400 seconds)"), self->opt_idle_timeout);
      return FALSE;
    }

  /* The command line overrides the file, which overrides the defaults. */
  address = self->opt_address ? self->opt_address : config->address ? config->address : "127.0.0.1";
  port = self->opt_port >= 0 ? (guint) self->opt_port
         : config->port >= 0 ? (guint) config->port : SONDE_DEFAULT_PORT;
  self->idle_timeout = self->opt_idle_timeout >= 0 ? (guint) self->opt_idle_timeout
                       : config->idle_timeout >= 0 ? (guint) config->idle_timeout
                       : SONDE_IDLE_TIMEOUT_DEFAULT;

  if (self->opt_plugin_dirs != NULL)
    g_strv_builder_addv (dirs_builder, (const char **) self->opt_plugin_dirs);
  build_dirs = build_tree_plugin_dirs ();
  if (build_dirs != NULL)
    g_strv_builder_addv (dirs_builder, (const char **) build_dirs);
  plugin_dirs = g_strv_builder_end (dirs_builder);

  self->engine = sonde_engine_new ();
  n_loaded = sonde_engine_load_plugins (self->engine, (const char * const *) plugin_dirs);
  if (n_loaded == 0)
    g_warning (_("No collector plugins were found; set SONDE_PLUGIN_PATH or --plugin-dir"));

  /* The daemon keeps an hour of history unless told otherwise: clients of
   * the native protocol, kairos and /api/v1/history ask for it. */
  sonde_engine_set_history_length (self->engine,
                                   config->history_seconds >= 0 ? (guint) config->history_seconds
                                                                : SONDE_DAEMON_DEFAULT_HISTORY_SECONDS);

  apply_logs_config (self, config);

  /* Checked against every plugin, before some are disabled: a rule on a
   * disabled collector waits for it to be enabled. */
  if (!sonde_daemon_add_alert_rules (self->engine, config, error))
    return FALSE;
  self->notify_alerts = config->alerts_notify == TRUE;

  if (!apply_collectors (self, config, error))
    return FALSE;

  self->server = sonde_server_new (self->engine);
  if (!apply_server_config (self, config, address, error))
    return FALSE;

  warn_if_exposed (address, config);
  if (!sonde_server_listen (self->server, address, port, &local_error))
    {
      g_set_error (error, SONDE_ERROR, SONDE_ERROR_FAILED,
                   _("cannot listen on %s port %u: %s"), address, port, local_error->message);
      return FALSE;
    }

  if (!listen_compat (self, config, address, error))
    return FALSE;

  if (!start_discovery (self, config, address, error))
    return FALSE;

  return start_agent (self, config, error);
}

static void
quit_on_signal (SondeDaemon *self,
                int          signal_number)
{
  g_message (_("Received signal %d, shutting down"), signal_number);
  g_clear_handle_id (&self->sigint_source, g_source_remove);
  g_clear_handle_id (&self->sigterm_source, g_source_remove);
  g_application_quit (G_APPLICATION (self));
}

static gboolean
sigint_cb (gpointer data)
{
  SondeDaemon *self = data;

  self->sigint_source = 0;
  quit_on_signal (self, SIGINT);
  return G_SOURCE_REMOVE;
}

static gboolean
sigterm_cb (gpointer data)
{
  SondeDaemon *self = data;

  self->sigterm_source = 0;
  quit_on_signal (self, SIGTERM);
  return G_SOURCE_REMOVE;
}

static int
sonde_daemon_handle_local_options (GApplication *application,
                                   GVariantDict *options)
{
  SondeDaemon *self = SONDE_DAEMON (application);
  g_autoptr(GError) error = NULL;
  g_autofree char *uri = NULL;

  if (self->opt_version)
    {
      g_print ("sonded %s\n", SONDE_VERSION_S);
      return EXIT_SUCCESS;
    }

  /* --gapplication-service has been parsed by now. By hand, sonded must
   * not hand over to another instance: it serves its own port, and owns
   * the bus name only if nobody else does. */
  self->service = (g_application_get_flags (application) & G_APPLICATION_IS_SERVICE) != 0;
  if (!self->service)
    g_application_set_flags (application,
                             g_application_get_flags (application) | G_APPLICATION_NON_UNIQUE);

  if (!sonde_daemon_setup (self, &error))
    {
      g_printerr ("sonded: %s\n", error->message);
      return EXIT_FAILURE;
    }

  /* Before the URL is printed: whoever reads it may signal at once. */
  self->sigint_source = g_unix_signal_add (SIGINT, sigint_cb, self);
  self->sigterm_source = g_unix_signal_add (SIGTERM, sigterm_cb, self);

  uri = sonde_server_get_uri (self->server);
  /* The first line of stdout is the URL: scripts and tests read it. Then
   * one line per compatibility listener: "compat NAME ADDRESS:PORT". */
  printf ("listening on %s\n", uri);
  for (guint i = 0; i < self->compat_lines->len; i++)
    printf ("compat %s\n", (char *) g_ptr_array_index (self->compat_lines, i));
  /* And "discovery ADDRESS:PORT" when the responder runs. */
  if (self->discovery_line != NULL)
    printf ("discovery %s\n", self->discovery_line);
  fflush (stdout);

  return -1;
}

/* The alert rules keep their collectors sampled only while an alert can
 * reach someone: a WebSocket client, a D-Bus caller, the desktop. With
 * history off and nobody there, nothing is sampled at all. */
static void
update_alerts_wanted (SondeDaemon *self)
{
  gboolean wanted = self->notify_alerts || sonde_server_get_n_clients (self->server) > 0 ||
                    (self->ipc != NULL && ipc_sonde1_get_client_count (IPC_SONDE1 (self->ipc)) > 0);

  sonde_engine_set_alerts_wanted (self->engine, wanted);
}

/* A connected WebSocket client holds the daemon like a D-Bus caller. */
static void
n_clients_cb (SondeServer *server,
              GParamSpec  *pspec,
              SondeDaemon *self)
{
  gboolean busy = sonde_server_get_n_clients (server) > 0;

  update_alerts_wanted (self);

  if (busy == self->clients_held)
    return;

  self->clients_held = busy;
  if (busy)
    g_application_hold (G_APPLICATION (self));
  else
    g_application_release (G_APPLICATION (self));
}

static gboolean
initial_release_cb (gpointer data)
{
  SondeDaemon *self = data;

  self->initial_release_source = 0;
  g_application_release (G_APPLICATION (self));
  return G_SOURCE_REMOVE;
}

static void
sonde_daemon_startup (GApplication *application)
{
  SondeDaemon *self = SONDE_DAEMON (application);

  G_APPLICATION_CLASS (sonde_daemon_parent_class)->startup (application);

  if (g_application_get_dbus_connection (application) == NULL)
    g_info ("No session bus: serving WebSocket clients without D-Bus");

  self->clients_handler = g_signal_connect (self->server, "notify::n-clients",
                                            G_CALLBACK (n_clients_cb), self);

  /* Registered by now: GApplication sends notifications only then. */
  if (self->notify_alerts)
    self->notifier = sonde_alert_notifier_new (application, self->engine);
  update_alerts_wanted (self);

  if (!self->service || self->idle_timeout == 0)
    {
      /* By hand (or idle-timeout=0) the daemon never leaves on idle. */
      g_application_hold (application);
      return;
    }

  /* GApplication gives a fresh service 10 s before its first release;
   * holding until the main loop runs makes the configured timeout apply
   * from the start as well. */
  g_application_set_inactivity_timeout (application, self->idle_timeout * 1000);
  g_application_hold (application);
  self->initial_release_source = g_idle_add (initial_release_cb, self);
}

static void
sonde_daemon_activate (GApplication *application)
{
  /* Nothing to show: sonded serves from startup on. */
}

static void
sonde_daemon_shutdown (GApplication *application)
{
  SondeDaemon *self = SONDE_DAEMON (application);

  g_clear_handle_id (&self->sigint_source, g_source_remove);
  g_clear_handle_id (&self->sigterm_source, g_source_remove);
  g_clear_handle_id (&self->initial_release_source, g_source_remove);
  g_clear_signal_handler (&self->clients_handler, self->server);
  g_clear_pointer (&self->notifier, sonde_alert_notifier_free);
  if (self->discovery != NULL)
    sonde_discovery_stop (self->discovery);
  if (self->agent != NULL)
    sonde_agent_stop (self->agent);

  if (self->server != NULL)
    sonde_server_disconnect (self->server);

  G_APPLICATION_CLASS (sonde_daemon_parent_class)->shutdown (application);
}

static void
name_acquired_cb (GDBusConnection *connection,
                  const char      *name,
                  gpointer         user_data)
{
  g_info ("Owning %s on the session bus", name);
}

static void
name_lost_cb (GDBusConnection *connection,
              const char      *name,
              gpointer         user_data)
{
  g_info ("%s is owned by another process (or the bus is gone): "
          "serving WebSocket clients only", name);
}

static gboolean
sonde_daemon_dbus_register (GApplication     *application,
                            GDBusConnection  *connection,
                            const char       *object_path,
                            GError          **error)
{
  SondeDaemon *self = SONDE_DAEMON (application);

  if (!G_APPLICATION_CLASS (sonde_daemon_parent_class)->dbus_register (application, connection,
                                                                       object_path, error))
    return FALSE;

  self->ipc = ipc_sonde1_impl_new (application, self->engine, self->server);
  if (!g_dbus_interface_skeleton_export (G_DBUS_INTERFACE_SKELETON (self->ipc), connection,
                                         SONDE_DBUS_PATH, error))
    {
      g_clear_object (&self->ipc);
      return FALSE;
    }
  g_signal_connect_swapped (self->ipc, "notify::client-count", G_CALLBACK (update_alerts_wanted), self);

  /* A service owns the name through GApplication; by hand, sonded is not
   * unique and takes the name only if it is free. */
  if (!self->service)
    self->owner_id = g_bus_own_name_on_connection (connection, SONDE_DBUS_NAME,
                                                   G_BUS_NAME_OWNER_FLAGS_DO_NOT_QUEUE,
                                                   name_acquired_cb, name_lost_cb, self, NULL);
  return TRUE;
}

static void
sonde_daemon_dbus_unregister (GApplication    *application,
                              GDBusConnection *connection,
                              const char      *object_path)
{
  SondeDaemon *self = SONDE_DAEMON (application);

  g_clear_handle_id (&self->owner_id, g_bus_unown_name);
  if (self->ipc != NULL)
    {
      g_dbus_interface_skeleton_unexport (G_DBUS_INTERFACE_SKELETON (self->ipc));
      g_clear_object (&self->ipc);
    }

  G_APPLICATION_CLASS (sonde_daemon_parent_class)->dbus_unregister (application, connection, object_path);
}

static void
sonde_daemon_dispose (GObject *object)
{
  SondeDaemon *self = SONDE_DAEMON (object);

  g_clear_object (&self->ipc);
  g_clear_pointer (&self->notifier, sonde_alert_notifier_free);
  g_clear_object (&self->discovery);
  g_clear_object (&self->agent);
  g_clear_object (&self->server);
  g_clear_object (&self->engine);

  G_OBJECT_CLASS (sonde_daemon_parent_class)->dispose (object);
}

static void
sonde_daemon_finalize (GObject *object)
{
  SondeDaemon *self = SONDE_DAEMON (object);

  g_free (self->opt_address);
  g_strfreev (self->opt_plugin_dirs);
  g_strfreev (self->opt_disable);
  g_strfreev (self->opt_compat);
  g_free (self->opt_config);
  g_free (self->opt_agent_of);
  g_free (self->opt_token);
  g_free (self->discovery_line);
  g_clear_pointer (&self->compat_lines, g_ptr_array_unref);

  G_OBJECT_CLASS (sonde_daemon_parent_class)->finalize (object);
}

static void
sonde_daemon_class_init (SondeDaemonClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GApplicationClass *application_class = G_APPLICATION_CLASS (klass);
  static gsize error_domain = 0;

  object_class->dispose = sonde_daemon_dispose;
  object_class->finalize = sonde_daemon_finalize;

  application_class->handle_local_options = sonde_daemon_handle_local_options;
  application_class->startup = sonde_daemon_startup;
  application_class->activate = sonde_daemon_activate;
  application_class->shutdown = sonde_daemon_shutdown;
  application_class->dbus_register = sonde_daemon_dbus_register;
  application_class->dbus_unregister = sonde_daemon_dbus_unregister;

  /* libsonde's error domain, named on the bus: a client sees
   * org.sonde.Sonde1.Error.UnknownCollector and friends. */
  g_dbus_error_register_error_domain ("sonde-error-quark", &error_domain,
                                      sonde_dbus_error_entries,
                                      G_N_ELEMENTS (sonde_dbus_error_entries));
}

static void
sonde_daemon_init (SondeDaemon *self)
{
  const GOptionEntry entries[] = {
    { "address", 'a', 0, G_OPTION_ARG_STRING, &self->opt_address,
      _("Address to listen on (default 127.0.0.1)"), _("ADDRESS") },
    { "port", 'p', 0, G_OPTION_ARG_INT, &self->opt_port,
      _("Port to listen on (default 54112; 0 picks a free port)"), _("PORT") },
    { "plugin-dir", 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &self->opt_plugin_dirs,
      _("Also load collector plugins from DIR"), _("DIR") },
    { "compat", 0, 0, G_OPTION_ARG_STRING_ARRAY, &self->opt_compat,
      _("Also serve a replaced product's format on its own port: kairos, resolvix-telemetry, "
        "resolvix-logs, resolvix-control, servercontrol, vstats, ziggie (NAME:PORT for another port)"),
      _("NAME[:PORT]") },
    { "disable", 'd', 0, G_OPTION_ARG_STRING_ARRAY, &self->opt_disable,
      _("Do not serve the collector COLLECTOR"), _("COLLECTOR") },
    { "config", 'c', 0, G_OPTION_ARG_FILENAME, &self->opt_config,
      _("Read the configuration from FILE (default $XDG_CONFIG_HOME/sonde/sonde.conf)"), _("FILE") },
    { "idle-timeout", 0, 0, G_OPTION_ARG_INT, &self->opt_idle_timeout,
      _("With --gapplication-service, exit after SECONDS without clients (default 60; 0 never)"),
      _("SECONDS") },
    { "agent-of", 0, 0, G_OPTION_ARG_STRING, &self->opt_agent_of,
      _("Also report this machine's samples to the vstats hub at URL "
        "(such as ws://hub.example:3001/ws/agent)"), _("URL") },
    { "token", 0, 0, G_OPTION_ARG_STRING, &self->opt_token,
      _("The token of --agent-of: the hub's [agent NAME] token or one of its agent-tokens"),
      _("TOKEN") },
    { "version", 0, 0, G_OPTION_ARG_NONE, &self->opt_version,
      _("Print the version and exit"), NULL },
    { NULL }
  };

  self->opt_port = -1;
  self->opt_idle_timeout = -1;
  self->compat_lines = g_ptr_array_new_with_free_func (g_free);

  g_application_add_main_option_entries (G_APPLICATION (self), entries);
  g_application_set_option_context_summary (G_APPLICATION (self),
                                            _("Serve live system metrics over WebSocket and D-Bus."));
}

SondeDaemon *
sonde_daemon_new (void)
{
  return g_object_new (SONDE_TYPE_DAEMON,
                       "application-id", SONDE_DBUS_NAME,
                       "flags", G_APPLICATION_DEFAULT_FLAGS,
                       NULL);
}
