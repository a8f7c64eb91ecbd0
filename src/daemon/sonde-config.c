/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <glib/gi18n.h>
#include <string.h>
#include <sys/stat.h>

#include "sonde.h"

#include "sonde-config.h"
#include "sonde-config-read.h"

/* Loads and checks sonde.conf. Every problem is reported as
 * "FILE: [GROUP] KEY: what is wrong", so that a typo is found at once
 * rather than silently ignored. */

G_DEFINE_QUARK (sonde-config-error-quark, sonde_config_error)

typedef struct
{
  const char *group;
  const char * const keys[12];
} KnownGroup;

static const KnownGroup known_groups[] = {
  { "server", { "address", "port", "token", "tls-certificate", "tls-key", "allowed-origins",
                "interval-min-ms", "interval-max-ms", "idle-timeout", NULL } },
  { "collectors", { "enabled", "disabled", NULL } },
  { "history", { "seconds", NULL } },
  { "compat", { "listeners", NULL } },
  { "logs", { "files", "allowed-paths", NULL } },
  { "alerts", { "notify", NULL } },
  { "discovery", { "enabled", "port", NULL } },
  { "agent-of", { "url", "token", "ca-file", "buffer-reports", NULL } },
};

/* [alert NAME]: one group per rule. */
#define ALERT_GROUP_PREFIX "alert "
static const KnownGroup alert_group = {
  "alert NAME", { "metric", "above", "below", "for-seconds", "cooldown-seconds", "enabled",
                  "message", NULL }
};

char *
sonde_config_default_path (void)
{
  return g_build_filename (g_get_user_config_dir (), SONDE_CONFIG_FILE, NULL);
}

static void
config_alert_free (SondeConfigAlert *alert)
{
  g_free (alert->name);
  g_free (alert->metric);
  g_free (alert->message);
  g_free (alert);
}

SondeConfig *
sonde_config_new (void)
{
  SondeConfig *self = g_new0 (SondeConfig, 1);

  self->port = -1;
  self->interval_min_ms = -1;
  self->interval_max_ms = -1;
  self->idle_timeout = -1;
  self->history_seconds = -1;
  self->alerts = g_ptr_array_new_with_free_func ((GDestroyNotify) config_alert_free);
  self->alerts_notify = -1;
  self->discovery_enabled = -1;
  self->discovery_port = -1;
  self->agent_of_buffer = -1;
  return self;
}

void
sonde_config_free (SondeConfig *self)
{
  if (self == NULL)
    return;

  g_free (self->path);
  g_free (self->address);
  g_free (self->token);
  g_clear_object (&self->tls_certificate);
  g_strfreev (self->allowed_origins);
  g_strfreev (self->enabled);
  g_strfreev (self->disabled);
  g_strfreev (self->compat);
  g_clear_pointer (&self->keyfile, g_key_file_unref);
  g_strfreev (self->log_files);
  g_strfreev (self->log_allowed_paths);
  g_ptr_array_unref (self->alerts);
  g_free (self->agent_of_url);
  g_free (self->agent_of_token);
  g_free (self->agent_of_ca_file);
  g_free (self);
}

void
sonde_config_set_error (SondeConfig  *self,
                        GError      **error,
                        const char   *group,
                        const char   *key,
                        const char   *format,
                        ...)
{
  g_autofree char *what = NULL;
  va_list args;

  va_start (args, format);
  what = g_strdup_vprintf (format, args);
  va_end (args);

  g_set_error (error, SONDE_CONFIG_ERROR, SONDE_CONFIG_ERROR_INVALID,
               "%s: [%s] %s: %s", self->path ? self->path : "sonde.conf", group, key, what);
}

static const KnownGroup *
find_group (const char *group)
{
  if (g_str_has_prefix (group, ALERT_GROUP_PREFIX))
    return &alert_group;

  for (guint i = 0; i < G_N_ELEMENTS (known_groups); i++)
    if (g_str_equal (known_groups[i].group, group))
      return &known_groups[i];
  return NULL;
}

static gboolean
check_known (SondeConfig  *self,
             GKeyFile     *file,
             GError      **error)
{
  g_auto(GStrv) groups = g_key_file_get_groups (file, NULL);

  for (guint i = 0; groups[i] != NULL; i++)
    {
      const KnownGroup *known = find_group (groups[i]);
      g_auto(GStrv) keys = NULL;

      /* The formats' groups are the server's to check: see
       * sonde_config_apply_to_server(). */
      if (known == NULL && sonde_server_handles_config_group (groups[i]))
        continue;

      if (known == NULL)
        {
          g_set_error (error, SONDE_CONFIG_ERROR, SONDE_CONFIG_ERROR_INVALID,
                       /* Translators: the first %s is a file name, the second a [group] */
                       _("%s: [%s]: unknown group (known: [server], [collectors], [history], [compat], "
                         "[resolvix], [logs], [alerts], [alert NAME], [discovery], [exec], "
                         "[hub], [agent NAME], [agent-of])"),
                       self->path, groups[i]);
          return FALSE;
        }

      keys = g_key_file_get_keys (file, groups[i], NULL, NULL);
      for (guint j = 0; keys != NULL && keys[j] != NULL; j++)
        if (!g_strv_contains ((const char * const *) known->keys, keys[j]))
          {
            sonde_config_set_error (self, error, groups[i], keys[j], _("unknown key"));
            return FALSE;
          }
    }

  return TRUE;
}

/* An origin, as browsers send it: "http" or "https", "://", a host, and
 * an optional port; nothing else. Not "null", which sandboxed frames and
 * file:// pages send: allowing it would let any of them in. */
static gboolean
is_origin (const char *origin)
{
  g_autoptr(GUri) uri = g_uri_parse (origin, G_URI_FLAGS_NONE, NULL);
  const char *scheme;
  const char *host;

  if (uri == NULL)
    return FALSE;

  scheme = g_uri_get_scheme (uri);
  host = g_uri_get_host (uri);
  if (g_ascii_strcasecmp (scheme, "http") != 0 && g_ascii_strcasecmp (scheme, "https") != 0)
    return FALSE;
  if (host == NULL || *host == '\0' || g_uri_get_userinfo (uri) != NULL)
    return FALSE;
  if (*g_uri_get_path (uri) != '\0' || g_uri_get_query (uri) != NULL || g_uri_get_fragment (uri) != NULL)
    return FALSE;
  /* A name, an IPv4 address, or an IPv6 one (GUri drops its brackets):
   * nothing a browser would send differently. */
  for (const char *p = host; *p != '\0'; p++)
    if (!g_ascii_isalnum (*p) && *p != '.' && *p != '-' && *p != ':')
      return FALSE;

  /* GUri takes "http://host:" as the default port: a browser never
   * sends it so. */
  return !g_str_has_suffix (origin, ":");
}

static gboolean
load_server (SondeConfig  *self,
             GKeyFile     *file,
             GError      **error)
{
  g_autofree char *certificate = NULL;
  g_autofree char *key = NULL;

  if (!sonde_config_read_string (self, file, "server", "address", &self->address, error))
    return FALSE;
  if (self->address != NULL && !g_str_equal (self->address, "localhost"))
    {
      g_autoptr(GInetAddress) inet = g_inet_address_new_from_string (self->address);

      if (inet == NULL)
        {
          sonde_config_set_error (self, error, "server", "address",
                                  _("%s is not an IP address (such as 127.0.0.1 or ::1)"),
                                  self->address);
          return FALSE;
        }
    }

  if (!sonde_config_read_int (self, file, "server", "port", 0, G_MAXUINT16,
                              _("%s is not a port (0-65535)"), &self->port, error))
    return FALSE;

  if (!sonde_config_read_string (self, file, "server", "token", &self->token, error))
    return FALSE;
  if (self->token != NULL && *self->token == '\0')
    {
      sonde_config_set_error (self, error, "server", "token",
                              _("is empty; remove the key to let anyone in"));
      return FALSE;
    }

  if (!sonde_config_read_string (self, file, "server", "tls-certificate", &certificate, error) ||
      !sonde_config_read_string (self, file, "server", "tls-key", &key, error))
    return FALSE;

  if ((certificate == NULL) != (key == NULL))
    {
      if (certificate == NULL)
        sonde_config_set_error (self, error, "server", "tls-certificate",
                                _("missing: tls-key needs a certificate"));
      else
        sonde_config_set_error (self, error, "server", "tls-key",
                                _("missing: tls-certificate needs a private key"));
      return FALSE;
    }

  if (certificate != NULL)
    {
      g_autofree char *certificate_path = sonde_config_resolve_path (self, certificate);
      g_autofree char *key_path = sonde_config_resolve_path (self, key);
      g_autoptr(GError) local_error = NULL;

      if (!g_file_test (certificate_path, G_FILE_TEST_IS_REGULAR))
        {
          sonde_config_set_error (self, error, "server", "tls-certificate",
                                  _("%s: no such file"), certificate_path);
          return FALSE;
        }
      if (!g_file_test (key_path, G_FILE_TEST_IS_REGULAR))
        {
          sonde_config_set_error (self, error, "server", "tls-key",
                                  _("%s: no such file"), key_path);
          return FALSE;
        }

      self->tls_certificate = g_tls_certificate_new_from_files (certificate_path, key_path, &local_error);
      if (self->tls_certificate == NULL)
        {
          sonde_config_set_error (self, error, "server", "tls-certificate",
                                  _("cannot load %s with %s: %s"),
                                  certificate_path, key_path, local_error->message);
          return FALSE;
        }
    }

  if (!sonde_config_read_list (self, file, "server", "allowed-origins", &self->allowed_origins, error))
    return FALSE;
  for (guint i = 0; self->allowed_origins != NULL && self->allowed_origins[i] != NULL; i++)
    {
      const char *origin = self->allowed_origins[i];

      if (!is_origin (origin))
        {
          sonde_config_set_error (self, error, "server", "allowed-origins",
                                  _("%s is not an origin: scheme://host[:port] with http or https "
                                    "(such as http://localhost:8080)"),
                                  origin);
          return FALSE;
        }
    }

  if (!sonde_config_read_int (self, file, "server", "interval-min-ms", 100, 60000,
                              _("%s is not an interval in milliseconds (100-60000)"), &self->interval_min_ms, error) ||
      !sonde_config_read_int (self, file, "server", "interval-max-ms", 100, 60000,
                              _("%s is not an interval in milliseconds (100-60000)"), &self->interval_max_ms, error))
    return FALSE;

  if (self->interval_min_ms >= 0 && self->interval_max_ms >= 0 &&
      self->interval_min_ms > self->interval_max_ms)
    {
      sonde_config_set_error (self, error, "server", "interval-min-ms",
                              _("%d is greater than interval-max-ms (%d)"),
                              self->interval_min_ms, self->interval_max_ms);
      return FALSE;
    }

  if (!sonde_config_read_int (self, file, "server", "idle-timeout", 0, SONDE_IDLE_TIMEOUT_MAX,
                              _("%s is not a number of seconds (0-86400)"), &self->idle_timeout, error))
    return FALSE;

  return TRUE;
}

/**
 * sonde_config_parse_compat:
 * @entry: "NAME" or "NAME:PORT", such as "kairos" or "resolvix-telemetry:9756"
 *
 * Reads one compatibility listener; without a port it gets the seed's own.
 */
gboolean
sonde_config_parse_compat (const char  *entry,
                           char       **name,
                           guint       *port,
                           GError     **error)
{
  const char *colon = strchr (entry, ':');
  g_autofree char *parsed_name = colon ? g_strndup (entry, colon - entry) : g_strdup (entry);
  guint64 parsed_port;

  if (sonde_server_get_compat_port (parsed_name) == 0)
    {
      g_set_error (error, SONDE_CONFIG_ERROR, SONDE_CONFIG_ERROR_INVALID,
                   _("%s is not a compatibility listener (kairos, resolvix-telemetry, "
                     "resolvix-logs, resolvix-control, servercontrol, vstats, ziggie)"), parsed_name);
      return FALSE;
    }

  if (colon == NULL)
    parsed_port = sonde_server_get_compat_port (parsed_name);
  else if (!g_ascii_string_to_unsigned (colon + 1, 10, 0, G_MAXUINT16, &parsed_port, NULL))
    {
      g_set_error (error, SONDE_CONFIG_ERROR, SONDE_CONFIG_ERROR_INVALID,
                   _("%s is not a port (0-65535)"), colon + 1);
      return FALSE;
    }

  *name = g_steal_pointer (&parsed_name);
  *port = (guint) parsed_port;
  return TRUE;
}

static gboolean
load_compat (SondeConfig  *self,
             GKeyFile     *file,
             GError      **error)
{
  if (!sonde_config_read_list (self, file, "compat", "listeners", &self->compat, error))
    return FALSE;

  for (guint i = 0; self->compat != NULL && self->compat[i] != NULL; i++)
    {
      g_autoptr(GError) local_error = NULL;
      g_autofree char *name = NULL;
      guint port;

      if (!sonde_config_parse_compat (self->compat[i], &name, &port, &local_error))
        {
          sonde_config_set_error (self, error, "compat", "listeners", "%s", local_error->message);
          return FALSE;
        }
    }

  return TRUE;
}

static gboolean
load_logs (SondeConfig  *self,
           GKeyFile     *file,
           GError      **error)
{
  if (!sonde_config_read_absolute_paths (self, file, "files", &self->log_files, error) ||
      !sonde_config_read_absolute_paths (self, file, "allowed-paths", &self->log_allowed_paths, error))
    return FALSE;

  return TRUE;
}

SondeConfigAlert *
sonde_config_find_alert (SondeConfig *self,
                         const char  *name)
{
  for (guint i = 0; i < self->alerts->len; i++)
    {
      SondeConfigAlert *alert = g_ptr_array_index (self->alerts, i);

      if (g_str_equal (alert->name, name))
        return alert;
    }
  return NULL;
}

/* One [alert NAME] group. Whether the metric exists is checked by the
 * daemon, against the plugins it loaded. [alert cpu] amends the built-in
 * rule, so it needs neither a metric nor a comparison. */
static gboolean
load_alert (SondeConfig  *self,
            GKeyFile     *file,
            const char   *group,
            GError      **error)
{
  const char *name = group + strlen (ALERT_GROUP_PREFIX);
  SondeConfigAlert *alert;
  gboolean builtin = g_str_equal (name, "cpu");
  gboolean has_above = g_key_file_has_key (file, group, "above", NULL);
  gboolean has_below = g_key_file_has_key (file, group, "below", NULL);
  const char *comparison_key = has_below ? "below" : "above";

  if (*name == '\0' || g_ascii_isspace (*name))
    {
      g_set_error (error, SONDE_CONFIG_ERROR, SONDE_CONFIG_ERROR_INVALID,
                   /* Translators: the first %s is a file name, the second a [group] */
                   _("%s: [%s]: a rule needs a name, such as [alert disk-full]"), self->path, group);
      return FALSE;
    }

  alert = g_new0 (SondeConfigAlert, 1);
  alert->name = g_strdup (name);
  alert->comparison = -1;
  alert->for_seconds = -1;
  alert->cooldown_seconds = -1;
  alert->enabled = -1;
  g_ptr_array_add (self->alerts, alert);

  if (!sonde_config_read_string (self, file, group, "metric", &alert->metric, error))
    return FALSE;
  if (alert->metric == NULL && !builtin)
    {
      sonde_config_set_error (self, error, group, "metric",
                              _("missing: a rule needs a metric, such as metric=cpu.usage_percent"));
      return FALSE;
    }

  if (has_above && has_below)
    {
      sonde_config_set_error (self, error, group, "below",
                              _("above and below exclude each other: keep one"));
      return FALSE;
    }
  if (!has_above && !has_below && !builtin)
    {
      sonde_config_set_error (self, error, group, "above",
                              _("missing: a rule needs above=NUMBER or below=NUMBER"));
      return FALSE;
    }
  if (has_above || has_below)
    {
      if (!sonde_config_read_double (self, file, group, comparison_key, -G_MAXDOUBLE, G_MAXDOUBLE,
                                     _("%s is not a number"), &alert->threshold, error))
        return FALSE;
      alert->comparison = has_below ? SONDE_ALERT_COMPARISON_BELOW : SONDE_ALERT_COMPARISON_ABOVE;
    }

  if (!sonde_config_read_double (self, file, group, "for-seconds", 0, SONDE_ALERT_MAX_SECONDS,
                                 _("%s is not a number of seconds (0-604800)"), &alert->for_seconds, error) ||
      !sonde_config_read_double (self, file, group, "cooldown-seconds", 0, SONDE_ALERT_MAX_SECONDS,
                                 _("%s is not a number of seconds (0-604800)"), &alert->cooldown_seconds, error) ||
      !sonde_config_read_boolean (self, file, group, "enabled", &alert->enabled, error) ||
      !sonde_config_read_string (self, file, group, "message", &alert->message, error))
    return FALSE;

  return TRUE;
}

static gboolean
load_alerts_and_discovery (SondeConfig  *self,
                           GKeyFile     *file,
                           GError      **error)
{
  g_auto(GStrv) groups = g_key_file_get_groups (file, NULL);

  if (!sonde_config_read_boolean (self, file, "alerts", "notify", &self->alerts_notify, error))
    return FALSE;

  for (guint i = 0; groups[i] != NULL; i++)
    if (g_str_has_prefix (groups[i], ALERT_GROUP_PREFIX) && !load_alert (self, file, groups[i], error))
      return FALSE;

  if (!sonde_config_read_boolean (self, file, "discovery", "enabled", &self->discovery_enabled, error) ||
      !sonde_config_read_int (self, file, "discovery", "port", 0, G_MAXUINT16,
                              _("%s is not a port (0-65535)"), &self->discovery_port, error))
    return FALSE;

  return TRUE;
}

/* [agent-of]: this daemon as an agent of a vstats hub. The URL and the
 * CA file are checked here, so that a typo is found at start. */
static gboolean
load_agent_of (SondeConfig  *self,
               GKeyFile     *file,
               GError      **error)
{
  g_autofree char *ca_file = NULL;

  if (!sonde_config_read_string (self, file, "agent-of", "url", &self->agent_of_url, error) ||
      !sonde_config_read_string (self, file, "agent-of", "token", &self->agent_of_token, error) ||
      !sonde_config_read_string (self, file, "agent-of", "ca-file", &ca_file, error) ||
      !sonde_config_read_int (self, file, "agent-of", "buffer-reports", 1, SONDE_AGENT_MAX_BUFFER_SIZE,
                              _("%s is not a number of reports (1-86400)"), &self->agent_of_buffer, error))
    return FALSE;

  if (self->agent_of_url != NULL &&
      !g_str_has_prefix (self->agent_of_url, "ws://") && !g_str_has_prefix (self->agent_of_url, "wss://"))
    {
      sonde_config_set_error (self, error, "agent-of", "url",
                              _("%s is not a ws:// or wss:// URL (such as ws://hub.example:3001/ws/agent)"),
                              self->agent_of_url);
      return FALSE;
    }

  if (ca_file != NULL)
    {
      self->agent_of_ca_file = sonde_config_resolve_path (self, ca_file);
      if (!g_file_test (self->agent_of_ca_file, G_FILE_TEST_IS_REGULAR))
        {
          sonde_config_set_error (self, error, "agent-of", "ca-file",
                                  _("%s: no such file"), self->agent_of_ca_file);
          return FALSE;
        }
    }

  return TRUE;
}

/* A token that other users can read is no secret: said, but not refused,
 * so that a daemon whose file was copied carelessly still starts. */
static void
warn_if_token_readable (SondeConfig *self)
{
  struct stat st;

  if (self->token == NULL || stat (self->path, &st) < 0)
    return;

  if ((st.st_mode & (S_IRGRP | S_IROTH)) != 0)
    g_printerr (_("sonded: warning: %s holds a token and is readable by %s (mode %04o); "
                  "make it private with chmod 600 %s\n"),
                self->path, (st.st_mode & S_IROTH) ? _("every user") : _("its group"),
                (unsigned) (st.st_mode & 07777), self->path);
}

/* Checks and reads a configuration, from a file or from text. */
static gboolean
load_keyfile (SondeConfig  *self,
              GKeyFile     *file,
              GError      **error)
{
  if (!check_known (self, file, error) ||
      !load_server (self, file, error) ||
      !sonde_config_read_list (self, file, "collectors", "enabled", &self->enabled, error) ||
      !sonde_config_read_list (self, file, "collectors", "disabled", &self->disabled, error) ||
      !sonde_config_read_int (self, file, "history", "seconds", 0, SONDE_HISTORY_MAX,
                              _("%s is not a number of seconds (0-86400)"), &self->history_seconds, error) ||
      !load_compat (self, file, error) ||
      !load_logs (self, file, error) ||
      !load_alerts_and_discovery (self, file, error) ||
      !load_agent_of (self, file, error))
    return FALSE;

  self->keyfile = g_key_file_ref (file);
  return TRUE;
}

/**
 * sonde_config_load:
 * @path: the file to read
 * @must_exist: whether a missing file is an error (--config) or means
 *   "no configuration" (the default path)
 *
 * Returns: %FALSE with @error set if the file is not valid
 */
gboolean
sonde_config_load (SondeConfig  *self,
                   const char   *path,
                   gboolean      must_exist,
                   GError      **error)
{
  g_autoptr(GKeyFile) file = g_key_file_new ();
  g_autoptr(GError) local_error = NULL;

  g_free (self->path);
  self->path = g_strdup (path);

  if (!g_key_file_load_from_file (file, path, G_KEY_FILE_NONE, &local_error))
    {
      if (g_error_matches (local_error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        {
          if (!must_exist)
            {
              g_clear_pointer (&self->path, g_free);
              return TRUE;
            }
          g_set_error (error, SONDE_CONFIG_ERROR, SONDE_CONFIG_ERROR_NOT_FOUND,
                       _("%s: no such file"), path);
          return FALSE;
        }

      g_set_error (error, SONDE_CONFIG_ERROR, SONDE_CONFIG_ERROR_INVALID,
                   "%s: %s", path, local_error->message);
      return FALSE;
    }

  if (!load_keyfile (self, file, error))
    return FALSE;

  warn_if_token_readable (self);
  return TRUE;
}

/**
 * sonde_config_load_from_data:
 * @path: the file @data was read from: errors name it, and relative
 *   paths in it are resolved against its directory
 * @data: the text of a configuration file
 * @length: its length, or -1 if it is NUL-terminated
 *
 * As sonde_config_load(), from text already read.
 *
 * Returns: %FALSE with @error set if the text is not valid
 */
gboolean
sonde_config_load_from_data (SondeConfig  *self,
                             const char   *path,
                             const char   *data,
                             gssize        length,
                             GError      **error)
{
  g_autoptr(GKeyFile) file = g_key_file_new ();
  g_autoptr(GError) local_error = NULL;

  g_return_val_if_fail (path != NULL, FALSE);
  g_return_val_if_fail (data != NULL || length == 0, FALSE);

  g_free (self->path);
  self->path = g_strdup (path);

  if (!g_key_file_load_from_data (file, data != NULL ? data : "", length, G_KEY_FILE_NONE, &local_error))
    {
      g_set_error (error, SONDE_CONFIG_ERROR, SONDE_CONFIG_ERROR_INVALID,
                   "%s: %s", path, local_error->message);
      return FALSE;
    }

  return load_keyfile (self, file, error);
}

/**
 * sonde_config_apply_to_server:
 *
 * Hands the groups of the formats ([resolvix], ...) to @server, which
 * checks and applies them; its errors are given the file's name.
 */
gboolean
sonde_config_apply_to_server (SondeConfig  *self,
                              SondeServer  *server,
                              GError      **error)
{
  g_autoptr(GError) local_error = NULL;

  if (self->keyfile == NULL || sonde_server_configure (server, self->keyfile, &local_error))
    return TRUE;

  g_set_error (error, SONDE_CONFIG_ERROR, SONDE_CONFIG_ERROR_INVALID,
               "%s: %s", self->path, local_error->message);
  return FALSE;
}
