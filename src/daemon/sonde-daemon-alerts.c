/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <glib/gi18n.h>

#include "sonde-daemon-alerts.h"

/* sonded's alert rules: the built-in CPU rule of the servercontrol seed
 * ("CPU usage exceeded 90%!", at most one a minute), amended or switched
 * off by [alert cpu], plus one rule per [alert NAME] group; and, with
 * [alerts] notify=true, a desktop notification per alert. */

static char *
alert_group (const char *name)
{
  return g_strconcat ("alert ", name, NULL);
}

/* The built-in rule keeps the seed's text while it watches the CPU usage
 * from above: "CPU usage exceeded 90%!". */
static char *
builtin_message (const char           *metric,
                 SondeAlertComparison  comparison,
                 double                threshold)
{
  char number[G_ASCII_DTOSTR_BUF_SIZE];

  if (!g_str_equal (metric, SONDE_DAEMON_CPU_METRIC) || comparison != SONDE_ALERT_COMPARISON_ABOVE)
    return NULL;

  g_ascii_formatd (number, sizeof number, "%g", threshold);
  return g_strdup_printf ("CPU usage exceeded %s%%!", number);
}

static gboolean
add_builtin_rule (SondeEngine  *engine,
                  SondeConfig  *config,
                  GError      **error)
{
  SondeConfigAlert *amend = sonde_config_find_alert (config, SONDE_DAEMON_CPU_RULE);
  g_autoptr(SondeAlertRule) rule = NULL;
  g_autoptr(GError) local_error = NULL;
  g_autofree char *message = NULL;
  const char *metric = SONDE_DAEMON_CPU_METRIC;
  SondeAlertComparison comparison = SONDE_ALERT_COMPARISON_ABOVE;
  double threshold = SONDE_DAEMON_CPU_THRESHOLD;
  double for_seconds = 0;
  double cooldown_seconds = SONDE_ALERT_DEFAULT_COOLDOWN_SECONDS;
  gboolean enabled = TRUE;

  if (amend != NULL)
    {
      if (amend->metric != NULL)
        metric = amend->metric;
      if (amend->comparison >= 0)
        {
          comparison = amend->comparison;
          threshold = amend->threshold;
        }
      if (amend->for_seconds >= 0)
        for_seconds = amend->for_seconds;
      if (amend->cooldown_seconds >= 0)
        cooldown_seconds = amend->cooldown_seconds;
      if (amend->enabled >= 0)
        enabled = amend->enabled;
    }

  message = amend != NULL && amend->message != NULL ? g_strdup (amend->message)
            : builtin_message (metric, comparison, threshold);
  rule = sonde_alert_rule_new_full (SONDE_DAEMON_CPU_RULE, metric, comparison, threshold,
                                    for_seconds, cooldown_seconds, enabled, message);

  if (sonde_engine_add_alert_rule (engine, rule, &local_error))
    return TRUE;

  /* Without the cpu plugin the built-in rule has nothing to watch, which
   * is no reason to refuse to start; a metric of the file's own is. */
  if (amend == NULL || amend->metric == NULL)
    {
      g_info ("No built-in CPU alert: %s", local_error->message);
      return TRUE;
    }

  {
    g_autofree char *group = alert_group (SONDE_DAEMON_CPU_RULE);

    sonde_config_set_error (config, error, group, "metric", "%s", local_error->message);
  }
  return FALSE;
}

/**
 * sonde_daemon_add_alert_rules:
 * @engine: the daemon's engine, with its plugins loaded
 * @config: the configuration, whose [alert NAME] groups name metrics
 *
 * Adds the built-in rule and the configured ones. A rule whose metric the
 * catalog does not know, or that is not numeric, is refused with the
 * file, group and key.
 */
gboolean
sonde_daemon_add_alert_rules (SondeEngine  *engine,
                              SondeConfig  *config,
                              GError      **error)
{
  if (!add_builtin_rule (engine, config, error))
    return FALSE;

  for (guint i = 0; i < config->alerts->len; i++)
    {
      SondeConfigAlert *alert = g_ptr_array_index (config->alerts, i);
      g_autoptr(SondeAlertRule) rule = NULL;
      g_autoptr(GError) local_error = NULL;

      if (g_str_equal (alert->name, SONDE_DAEMON_CPU_RULE))
        continue;

      /* The configuration's checks leave nothing to refuse here. */
      rule = sonde_alert_rule_new_full (alert->name, alert->metric, alert->comparison, alert->threshold,
                                        alert->for_seconds >= 0 ? alert->for_seconds : 0,
                                        alert->cooldown_seconds >= 0 ? alert->cooldown_seconds
                                                                     : SONDE_ALERT_DEFAULT_COOLDOWN_SECONDS,
                                        alert->enabled != FALSE, alert->message);
      if (!sonde_engine_add_alert_rule (engine, rule, &local_error))
        {
          g_autofree char *group = alert_group (alert->name);

          sonde_config_set_error (config, error, group, "metric", "%s", local_error->message);
          return FALSE;
        }
    }

  return TRUE;
}

/* Notifications ------------------------------------------------------------ */

#define FDO_NOTIFICATIONS "org.freedesktop.Notifications"
#define GTK_NOTIFICATIONS "org.gtk.Notifications"

/* GApplication picks its notification backend itself (the portal in a
 * sandbox, org.gtk.Notifications, else org.freedesktop.Notifications).
 * Without a bus there is nothing to send to; with a bus but no
 * notification server, the freedesktop backend would warn. So a
 * notification is sent only while one of them can receive it. */
struct _SondeAlertNotifier
{
  GApplication    *application;   /* owns us */
  SondeEngine     *engine;
  GDBusConnection *connection;
  GCancellable    *cancellable;
  gulong           event_handler;
  guint            fdo_watch;
  guint            gtk_watch;
  gboolean         fdo_owned;
  gboolean         gtk_owned;
  gboolean         fdo_activatable;
  gboolean         portal;
};

static gboolean
can_notify (SondeAlertNotifier *self)
{
  return self->connection != NULL &&
         (self->portal || self->gtk_owned || self->fdo_owned || self->fdo_activatable);
}

static void
event_cb (SondeEngine        *engine,
          SondeEvent         *event,
          SondeAlertNotifier *self)
{
  JsonObject *data = sonde_event_get_data (event);
  const char *rule_name, *message;
  g_autoptr(GNotification) notification = NULL;
  g_autofree char *title = NULL;
  g_autofree char *id = NULL;

  if (!g_str_equal (sonde_event_get_event_type (event), "alert"))
    return;

  if (!can_notify (self))
    {
      g_debug ("No notification server: alert not shown on the desktop");
      return;
    }

  rule_name = json_object_get_string_member_with_default (data, "rule", "");
  message = json_object_get_string_member_with_default (data, "message", "");

  /* Translators: %s is the name of an alert rule, such as "cpu" */
  title = g_strdup_printf (_("Sonde alert: %s"), rule_name);
  notification = g_notification_new (title);
  g_notification_set_body (notification, message);
  g_notification_set_priority (notification, G_NOTIFICATION_PRIORITY_HIGH);

  /* One notification per rule on screen: the next alert replaces it. */
  id = g_strconcat ("alert-", rule_name, NULL);
  g_application_send_notification (self->application, id, notification);
}

static void
name_appeared_cb (GDBusConnection *connection,
                  const char      *name,
                  const char      *owner,
                  gpointer         user_data)
{
  SondeAlertNotifier *self = user_data;

  if (g_str_equal (name, FDO_NOTIFICATIONS))
    self->fdo_owned = TRUE;
  else
    self->gtk_owned = TRUE;
}

static void
name_vanished_cb (GDBusConnection *connection,
                  const char      *name,
                  gpointer         user_data)
{
  SondeAlertNotifier *self = user_data;

  if (g_str_equal (name, FDO_NOTIFICATIONS))
    self->fdo_owned = FALSE;
  else
    self->gtk_owned = FALSE;
}

static void
activatable_names_cb (GObject      *source,
                      GAsyncResult *result,
                      gpointer      user_data)
{
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree const char **names = NULL;
  SondeAlertNotifier *self;

  reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result, &error);
  if (reply == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_debug ("Cannot list activatable names: %s", error->message);
      return;
    }

  /* Not cancelled: the notifier is alive. */
  self = user_data;
  g_variant_get (reply, "(^a&s)", &names);
  self->fdo_activatable = g_strv_contains (names, FDO_NOTIFICATIONS);
}

SondeAlertNotifier *
sonde_alert_notifier_new (GApplication *application,
                          SondeEngine  *engine)
{
  SondeAlertNotifier *self = g_new0 (SondeAlertNotifier, 1);
  GDBusConnection *connection = g_application_get_dbus_connection (application);

  self->application = application;
  self->engine = g_object_ref (engine);
  self->cancellable = g_cancellable_new ();
  self->event_handler = g_signal_connect (engine, "event", G_CALLBACK (event_cb), self);

  if (connection == NULL)
    {
      g_info ("No session bus: alerts are not shown as desktop notifications");
      return self;
    }

  self->connection = g_object_ref (connection);
  self->portal = g_file_test ("/.flatpak-info", G_FILE_TEST_EXISTS) ||
                 g_strcmp0 (g_getenv ("GTK_USE_PORTAL"), "1") == 0;
  self->fdo_watch = g_bus_watch_name_on_connection (connection, FDO_NOTIFICATIONS,
                                                    G_BUS_NAME_WATCHER_FLAGS_NONE,
                                                    name_appeared_cb, name_vanished_cb, self, NULL);
  self->gtk_watch = g_bus_watch_name_on_connection (connection, GTK_NOTIFICATIONS,
                                                    G_BUS_NAME_WATCHER_FLAGS_NONE,
                                                    name_appeared_cb, name_vanished_cb, self, NULL);
  /* A notification server started on demand (dunst, mako) owns its name
   * only once activated. */
  g_dbus_connection_call (connection, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                          "org.freedesktop.DBus", "ListActivatableNames", NULL,
                          G_VARIANT_TYPE ("(as)"), G_DBUS_CALL_FLAGS_NONE, 5000,
                          self->cancellable, activatable_names_cb, self);
  return self;
}

void
sonde_alert_notifier_free (SondeAlertNotifier *self)
{
  if (self == NULL)
    return;

  g_cancellable_cancel (self->cancellable);
  g_clear_handle_id (&self->fdo_watch, g_bus_unwatch_name);
  g_clear_handle_id (&self->gtk_watch, g_bus_unwatch_name);
  g_clear_signal_handler (&self->event_handler, self->engine);
  g_clear_object (&self->cancellable);
  g_clear_object (&self->connection);
  g_clear_object (&self->engine);
  g_free (self);
}
