/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "sonde-error.h"
#include "sonde-rest-private.h"
#include "sonde-server-private.h"
#include "sonde-vstats-private.h"

/*
 * The vstats hub (docs/formats/vstats.md): dashboards at /ws,
 * agents at /ws/agent, on the main port and, with --compat vstats, on the
 * seed's 3001. Here: its entry in the format table, the state one server
 * keeps for it, its settings, its GET /status members, and the agents'
 * data for the REST routes and the native protocol (`host`).
 *
 *   [hub]
 *   agent-tokens           tokens any agent may present, ';'-separated;
 *                          such an agent is named by its reports' hostname
 *   offline-after-seconds  silence before a server goes offline; 30
 *   remove-after-seconds   silence before it is removed; 86400
 *   history-seconds        seconds of history kept per agent, 0-3600; 300
 *   location               this host's location in server_added; ""
 *
 *   [agent NAME]           an agent known by its own token: its server is
 *   token                  NAME, whatever its reports' hostname
 *   location
 */

#define HUB_GROUP          "hub"
#define AGENT_GROUP_PREFIX "agent "
#define MIN_TOKEN_LENGTH   16
#define MAX_NAME_LENGTH    64
#define MAX_LOCATION       128
#define MAX_REMOVE_AFTER   (30 * 86400)

/* "agent *": every group whose name starts with "agent ". */
static const char * const config_groups[] = { HUB_GROUP, AGENT_GROUP_PREFIX "*", NULL };
static const char * const hub_keys[] = {
  "agent-tokens", "offline-after-seconds", "remove-after-seconds", "history-seconds", "location", NULL
};
static const char * const agent_keys[] = { "token", "location", NULL };

static void
named_agent_free (SondeVstatsNamedAgent *agent)
{
  g_free (agent->name);
  g_free (agent->token);
  g_free (agent->location);
  g_free (agent);
}

static gpointer
vstats_state_new (SondeServer *server)
{
  SondeVstats *self = g_new0 (SondeVstats, 1);

  self->server = server;
  self->named_agents = g_ptr_array_new_with_free_func ((GDestroyNotify) named_agent_free);
  self->offline_after = SONDE_VSTATS_DEFAULT_OFFLINE_AFTER;
  self->remove_after = SONDE_VSTATS_DEFAULT_REMOVE_AFTER;
  self->history_seconds = SONDE_VSTATS_DEFAULT_HISTORY_SECONDS;
  self->servers = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                                         (GDestroyNotify) _sonde_vstats_server_free);
  self->by_name = g_hash_table_new (g_str_hash, g_str_equal);
  self->dashboards = g_ptr_array_new ();
  self->agents = g_ptr_array_new ();
  self->host_hubs = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                           (GDestroyNotify) _sonde_hub_free);
  self->local = _sonde_vstats_server_new (self, _sonde_vstats_get_local_id (), g_get_host_name (), "", TRUE);
  return self;
}

static void
vstats_state_free (gpointer state)
{
  SondeVstats *self = state;

  /* The clients are gone: sonde_server_disconnect() ran in dispose. */
  g_assert (self->dashboards->len == 0);
  g_assert (self->agents->len == 0);

  g_clear_handle_id (&self->housekeeping_source, g_source_remove);
  g_clear_handle_id (&self->uncork_source, g_source_remove);
  g_hash_table_unref (self->by_name);
  g_hash_table_unref (self->servers);
  g_hash_table_unref (self->host_hubs);
  g_ptr_array_unref (self->dashboards);
  g_ptr_array_unref (self->agents);
  g_ptr_array_unref (self->named_agents);
  g_strfreev (self->tokens);
  g_free (self->location);
  g_free (self);
}

static gboolean
watch_cb (gpointer data)
{
  SondeVstats *self = data;

  _sonde_vstats_watch (self);
  _sonde_vstats_dashboards_resync (self);

  if (self->dashboards->len == 0 && self->agents->len == 0 && g_hash_table_size (self->servers) <= 1)
    {
      self->housekeeping_source = 0;
      return G_SOURCE_REMOVE;
    }
  return G_SOURCE_CONTINUE;
}

/* Once a second while there is a server to watch or a dashboard that may
 * need to catch up; not at all on a server nobody uses as a hub. */
void
_sonde_vstats_ensure_watching (SondeVstats *self)
{
  if (self->housekeeping_source != 0)
    return;

  self->housekeeping_source = g_timeout_add (1000, watch_cb, self);
  g_source_set_name_by_id (self->housekeeping_source, "[sonde] vstats servers");
}

/* Settings ---------------------------------------------------------------- */

static gboolean
is_valid_name (const char *name)
{
  gsize length = strlen (name);

  if (length == 0 || length > MAX_NAME_LENGTH)
    return FALSE;
  for (const char *p = name; *p; p++)
    if (!g_ascii_isalnum (*p) && !strchr ("._-", *p))
      return FALSE;
  return TRUE;
}

/* A token is a secret: it is never repeated in a message. */
static gboolean
check_token (const char  *group,
             const char  *key,
             const char  *token,
             GError     **error)
{
  if (strlen (token) < MIN_TOKEN_LENGTH)
    {
      _sonde_format_set_config_error (error, group, key,
                                      "a token has at least %d characters (such as the output of "
                                      "`openssl rand -hex 32`)", MIN_TOKEN_LENGTH);
      return FALSE;
    }
  for (const char *p = token; *p; p++)
    if (!g_ascii_isgraph (*p))
      {
        _sonde_format_set_config_error (error, group, key,
                                        "a token is printable ASCII, without spaces");
        return FALSE;
      }
  return TRUE;
}

static gboolean
read_location (GKeyFile    *keyfile,
               const char  *group,
               char       **location,
               GError     **error)
{
  g_autofree char *text = NULL;

  if (!_sonde_format_read_string (keyfile, group, "location", &text, error))
    return FALSE;
  if (text == NULL)
    return TRUE;
  g_strstrip (text);
  if (strlen (text) > MAX_LOCATION)
    {
      _sonde_format_set_config_error (error, group, "location", "is longer than %d bytes", MAX_LOCATION);
      return FALSE;
    }

  g_free (*location);
  *location = g_steal_pointer (&text);
  return TRUE;
}

/* Where else @token is used, as "[group]", or NULL. */
static const char *
token_used_by (GPtrArray  *named,
               GPtrArray  *shared,
               const char *token)
{
  for (guint i = 0; i < named->len; i++)
    if (g_str_equal (((SondeVstatsNamedAgent *) g_ptr_array_index (named, i))->token, token))
      return ((SondeVstatsNamedAgent *) g_ptr_array_index (named, i))->name;
  for (guint i = 0; i < shared->len; i++)
    if (g_str_equal (g_ptr_array_index (shared, i), token))
      return "";
  return NULL;
}

static gboolean
read_agent_group (GKeyFile   *keyfile,
                  const char *group,
                  GPtrArray  *named,
                  GPtrArray  *shared,
                  GError    **error)
{
  const char *name = group + strlen (AGENT_GROUP_PREFIX);
  g_autofree char *token = NULL;
  g_autofree char *location = NULL;
  const char *other;
  SondeVstatsNamedAgent *agent;

  if (!is_valid_name (name))
    {
      g_set_error (error, SONDE_ERROR, SONDE_ERROR_INVALID_ARGUMENT,
                   "[%s]: an agent's name is 1-%d letters, digits, '.', '_' or '-', "
                   "such as [agent web-1]", group, MAX_NAME_LENGTH);
      return FALSE;
    }

  if (!_sonde_format_check_keys (keyfile, group, agent_keys, error))
    return FALSE;

  if (!_sonde_format_read_string (keyfile, group, "token", &token, error))
    return FALSE;
  if (token == NULL || *g_strstrip (token) == '\0')
    {
      _sonde_format_set_config_error (error, group, "token", "missing: an agent needs its token");
      return FALSE;
    }
  if (!check_token (group, "token", token, error) || !read_location (keyfile, group, &location, error))
    return FALSE;

  other = token_used_by (named, shared, token);
  if (other != NULL)
    {
      if (*other == '\0')
        _sonde_format_set_config_error (error, group, "token", "is also one of [hub] agent-tokens");
      else
        _sonde_format_set_config_error (error, group, "token", "is also the token of [agent %s]", other);
      return FALSE;
    }

  agent = g_new0 (SondeVstatsNamedAgent, 1);
  agent->name = g_strdup (name);
  agent->token = g_steal_pointer (&token);
  agent->location = location != NULL ? g_steal_pointer (&location) : g_strdup ("");
  g_ptr_array_add (named, agent);
  return TRUE;
}

static gboolean
vstats_configure (gpointer   state,
                  GKeyFile  *keyfile,
                  GError   **error)
{
  SondeVstats *self = state;
  g_auto(GStrv) groups = g_key_file_get_groups (keyfile, NULL);
  g_autoptr(GPtrArray) named = g_ptr_array_new_with_free_func ((GDestroyNotify) named_agent_free);
  g_autoptr(GPtrArray) shared = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *location = g_strdup (self->location);
  guint offline_after = self->offline_after;
  guint remove_after = self->remove_after;
  guint history_seconds = self->history_seconds;
  gboolean any = FALSE;

  if (g_key_file_has_group (keyfile, HUB_GROUP))
    {
      g_auto(GStrv) tokens = NULL;

      any = TRUE;
      if (!_sonde_format_check_keys (keyfile, HUB_GROUP, hub_keys, error) ||
          !_sonde_format_read_uint (keyfile, HUB_GROUP, "offline-after-seconds", 1, 86400,
                                    "%s is not a number of seconds (1-86400)", &offline_after, error) ||
          !_sonde_format_read_uint (keyfile, HUB_GROUP, "remove-after-seconds", 1, MAX_REMOVE_AFTER,
                                    "%s is not a number of seconds (1-2592000)", &remove_after, error) ||
          !_sonde_format_read_uint (keyfile, HUB_GROUP, "history-seconds", 0, SONDE_VSTATS_MAX_HISTORY_SECONDS,
                                    "%s is not a number of seconds (0-3600)", &history_seconds, error) ||
          !read_location (keyfile, HUB_GROUP, &location, error))
        return FALSE;

      if (remove_after < offline_after)
        {
          _sonde_format_set_config_error (error, HUB_GROUP, "remove-after-seconds",
                                          "%u is less than offline-after-seconds (%u)",
                                          remove_after, offline_after);
          return FALSE;
        }

      if (!_sonde_format_read_string_list (keyfile, HUB_GROUP, "agent-tokens", &tokens, error))
        return FALSE;
      for (guint i = 0; tokens != NULL && tokens[i] != NULL; i++)
        {
          const char *token = g_strstrip (tokens[i]);

          if (*token == '\0')
            continue;
          if (!check_token (HUB_GROUP, "agent-tokens", token, error))
            return FALSE;
          if (token_used_by (named, shared, token) != NULL)
            {
              _sonde_format_set_config_error (error, HUB_GROUP, "agent-tokens", "lists a token twice");
              return FALSE;
            }
          g_ptr_array_add (shared, g_strdup (token));
        }
    }

  for (guint i = 0; groups[i] != NULL; i++)
    if (g_str_has_prefix (groups[i], AGENT_GROUP_PREFIX))
      {
        any = TRUE;
        if (!read_agent_group (keyfile, groups[i], named, shared, error))
          return FALSE;
      }

  if (!any)
    return TRUE;

  self->offline_after = offline_after;
  self->remove_after = remove_after;
  /* For the servers added from now on. */
  self->history_seconds = history_seconds;
  g_ptr_array_unref (self->named_agents);
  self->named_agents = g_steal_pointer (&named);

  /* One list for the core's constant-time match, the named agents' first,
   * in their order: an index below named_agents->len is one of them. */
  {
    GStrvBuilder *builder = g_strv_builder_new ();

    for (guint i = 0; i < self->named_agents->len; i++)
      g_strv_builder_add (builder, ((SondeVstatsNamedAgent *) g_ptr_array_index (self->named_agents, i))->token);
    for (guint i = 0; i < shared->len; i++)
      g_strv_builder_add (builder, g_ptr_array_index (shared, i));
    g_strfreev (self->tokens);
    self->tokens = g_strv_builder_end (builder);
    g_strv_builder_unref (builder);
  }

  if (g_strcmp0 (location, self->location) != 0)
    {
      g_free (self->location);
      self->location = g_steal_pointer (&location);
      _sonde_vstats_server_set_location (self->local, self->location);
    }
  return TRUE;
}

/* GET /status and other hosts ------------------------------------------------ */

static void
vstats_add_status_members (gpointer    state,
                           JsonObject *status)
{
  SondeVstats *self = state;
  JsonObject *hub = json_object_new ();
  GHashTableIter iter;
  gpointer value;
  guint online = 0;

  g_hash_table_iter_init (&iter, self->servers);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    online += ((SondeVstatsServer *) value)->online;

  json_object_set_string_member (hub, "server_id", self->local->id);
  json_object_set_int_member (hub, "servers", g_hash_table_size (self->servers));
  json_object_set_int_member (hub, "servers_online", online);
  json_object_set_int_member (hub, "agents_connected", self->agents->len);
  json_object_set_int_member (hub, "dashboards", self->dashboards->len);
  json_object_set_int_member (hub, "reports_accepted", self->reports_accepted);
  json_object_set_int_member (hub, "reports_replayed", self->reports_replayed);
  json_object_set_int_member (hub, "reports_duplicate", self->reports_duplicate);
  json_object_set_int_member (hub, "reports_rejected", self->reports_rejected);
  json_object_set_int_member (hub, "reports_rate_limited", self->reports_rate_limited);
  json_object_set_int_member (hub, "heartbeats", self->heartbeats);
  json_object_set_int_member (hub, "tokens_refused", self->tokens_refused);
  json_object_set_int_member (hub, "agents_refused", self->agents_refused);
  json_object_set_object_member (status, "vstats", hub);
}

static SondeTickView *
vstats_host_view (gpointer    state,
                  const char *host)
{
  SondeVstatsServer *server = _sonde_vstats_find_host (state, host);

  if (server == NULL)
    return NULL;
  if (server->latest == NULL)
    return _sonde_tick_view_new (g_get_real_time (), 0);
  return _sonde_vstats_metrics_to_view (server->latest, server->latest_us);
}

static JsonArray *
vstats_host_history (gpointer     state,
                     const char  *host,
                     const char  *metric,
                     guint        seconds,
                     GError     **error)
{
  SondeVstatsServer *server = _sonde_vstats_find_host (state, host);

  if (server == NULL)
    return NULL;

  for (guint i = 0; i < VSTATS_N_HISTORY; i++)
    if (g_str_equal (_sonde_vstats_history_metrics[i], metric))
      return _sonde_vstats_server_history (server, i, seconds);

  g_set_error (error, SONDE_ERROR, SONDE_ERROR_UNKNOWN_METRIC,
               "No history of '%s' is kept for %s", metric, server->name);
  return NULL;
}

/* Native clients subscribe to an agent's reports through a hub of its
 * own, fed each new report as a tick view. It is kept while the format
 * lives, so that subscriptions outlast the server's removal and return. */
static SondeHub *
vstats_host_hub (gpointer    state,
                 const char *host)
{
  SondeVstats *self = state;
  SondeVstatsServer *server = _sonde_vstats_find_host (self, host);
  SondeHub *hub;

  if (server == NULL)
    return NULL;

  hub = g_hash_table_lookup (self->host_hubs, server->id);
  if (hub == NULL)
    {
      hub = _sonde_hub_new (NULL);
      g_hash_table_insert (self->host_hubs, g_strdup (server->id), hub);
    }
  return hub;
}

/* GET /metrics labels each online agent's series `host` with the name
 * _sonde_vstats_find_host() knows it by: its name, or its id when the
 * name is this machine's host name, which the REST routes take for this
 * machine (sonde-rest.c). A hub is a server with agent tokens: the label
 * set then stays the same whether agents are connected or not. */
static gboolean
vstats_list_hosts (gpointer   state,
                   GPtrArray *hosts)
{
  SondeVstats *self = state;
  GHashTableIter iter;
  gpointer value;

  if (self->tokens == NULL || self->tokens[0] == NULL)
    return FALSE;

  g_hash_table_iter_init (&iter, self->servers);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      SondeVstatsServer *server = value;

      if (server->local || !server->online)
        continue;
      g_ptr_array_add (hosts, g_strdup (g_str_equal (server->name, g_get_host_name ())
                                        ? server->id : server->name));
    }
  return TRUE;
}

/* The table entry ------------------------------------------------------------ */

/* libsoup routes a request to the longest registered prefix of its
 * path: /ws would take every /ws/... the other formats do not serve. Its
 * plain handler runs before the WebSocket handshake and answers those as
 * the server answers any unknown path. */
static void
exact_path_cb (SoupServer        *soup_server,
               SoupServerMessage *msg,
               const char        *path,
               GHashTable        *query,
               gpointer           user_data)
{
  const char *route = user_data;
  g_autofree char *message = NULL;

  if (g_str_equal (path, route))
    return;

  message = g_strdup_printf ("No such route: %s", path);
  _sonde_rest_respond_error (msg, SOUP_STATUS_NOT_FOUND, "not_found", message);
}

static void
register_vstats (SondeServer *server,
                 gpointer     state,
                 SoupServer  *soup_server,
                 const char  *path)
{
  g_autofree char *agent_path = g_strconcat (path, "/agent", NULL);

  _sonde_vstats_dashboard_register (server, state, soup_server, path);
  _sonde_vstats_agents_register (server, state, soup_server, agent_path);
  soup_server_add_handler (soup_server, path, exact_path_cb, g_strdup (path), g_free);
  soup_server_add_handler (soup_server, agent_path, exact_path_cb, g_strdup (agent_path), g_free);
}

static const SondeFormatListener vstats_listeners[] = {
  /* Dashboards at the path, agents at PATH/agent. */
  { "vstats", "/ws", "/ws", 3001, register_vstats },
  { NULL }
};

const SondeFormat _sonde_vstats_format = {
  .name = "vstats",
  .listeners = vstats_listeners,
  .list_catalog_metrics = _sonde_vstats_list_catalog_metrics,
  .config_groups = config_groups,
  .state_new = vstats_state_new,
  .state_free = vstats_state_free,
  .configure = vstats_configure,
  .add_status_members = vstats_add_status_members,
  .host_view = vstats_host_view,
  .host_history = vstats_host_history,
  .host_hub = vstats_host_hub,
  .list_hosts = vstats_list_hosts,
};
