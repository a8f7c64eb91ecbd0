/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <libsoup/soup.h>

#include "sonde-agent.h"
#include "sonde-engine-private.h"
#include "sonde-error.h"
#include "sonde-json-private.h"
#include "sonde-vstats-private.h"

/**
 * SondeAgent:
 *
 * Pushes the samples of a #SondeEngine to a vstats hub (a sonded, or any
 * server of the vstats format) as `metrics` reports, one a second, and a
 * `heartbeat` every 10 seconds: what `sonded --agent-of URL --token T`
 * runs.
 *
 * While the hub is away the agent keeps its reports, at most
 * #SondeAgent:buffer-size of them (the oldest go first), and reconnects
 * after 1 s, then 2, 4, ... up to 30 s, each a little later at random so
 * that agents do not all come back at once. On reconnection it sends the
 * newest report at once and replays the others in order, at most 8 a
 * second, each with its own timestamp. A sonded hub acknowledges every
 * report it has taken, and only those are forgotten: a hub restarted
 * within the buffer's span loses none. A hub that does not acknowledge
 * (another implementation of the format) gets each report once.
 *
 * Since: 0.2
 */

struct _SondeAgent
{
  GObject          parent_instance;

  SondeEngine     *engine;
  SondeHubGroup   *group;
  gboolean         running;
  /* The connection, the buffer and the replay: sonde-vstats-agent-link.c */
  SondeVstatsLink  link;
};

enum {
  PROP_0,
  PROP_ENGINE,
  PROP_URL,
  PROP_TOKEN,
  PROP_TLS_DATABASE,
  PROP_BUFFER_SIZE,
  PROP_CONNECTED,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

G_DEFINE_FINAL_TYPE (SondeAgent, sonde_agent, G_TYPE_OBJECT)

static void
connected_changed_cb (gpointer owner)
{
  g_object_notify_by_pspec (G_OBJECT (owner), properties[PROP_CONNECTED]);
}

/* Each tick's report, encoded once by the engine's hub. */
static void
report_cb (gpointer       member,
           SondeHubGroup *group,
           GBytes        *frame)
{
  SondeAgent *self = member;

  _sonde_vstats_link_push (&self->link, frame);
}

/* GObject --------------------------------------------------------------------- */

static void
sonde_agent_dispose (GObject *object)
{
  SondeAgent *self = SONDE_AGENT (object);

  sonde_agent_stop (self);
  g_clear_object (&self->link.session);

  G_OBJECT_CLASS (sonde_agent_parent_class)->dispose (object);
}

static void
sonde_agent_finalize (GObject *object)
{
  SondeAgent *self = SONDE_AGENT (object);

  _sonde_vstats_link_clear (&self->link);
  g_clear_object (&self->engine);

  G_OBJECT_CLASS (sonde_agent_parent_class)->finalize (object);
}

static void
sonde_agent_get_property (GObject    *object,
                          guint       prop_id,
                          GValue     *value,
                          GParamSpec *pspec)
{
  SondeAgent *self = SONDE_AGENT (object);

  switch (prop_id)
    {
    case PROP_ENGINE:
      g_value_set_object (value, self->engine);
      break;

    case PROP_URL:
      g_value_set_string (value, self->link.url);
      break;

    case PROP_TLS_DATABASE:
      g_value_set_object (value, self->link.tls_database);
      break;

    case PROP_BUFFER_SIZE:
      g_value_set_uint (value, self->link.buffer_size);
      break;

    case PROP_CONNECTED:
      g_value_set_boolean (value, sonde_agent_get_connected (self));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
sonde_agent_set_property (GObject      *object,
                          guint         prop_id,
                          const GValue *value,
                          GParamSpec   *pspec)
{
  SondeAgent *self = SONDE_AGENT (object);

  switch (prop_id)
    {
    case PROP_ENGINE:
      self->engine = g_value_dup_object (value);
      break;

    case PROP_URL:
      self->link.url = g_value_dup_string (value);
      break;

    case PROP_TOKEN:
      sonde_agent_set_token (self, g_value_get_string (value));
      break;

    case PROP_TLS_DATABASE:
      sonde_agent_set_tls_database (self, g_value_get_object (value));
      break;

    case PROP_BUFFER_SIZE:
      sonde_agent_set_buffer_size (self, g_value_get_uint (value));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
sonde_agent_class_init (SondeAgentClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = sonde_agent_dispose;
  object_class->finalize = sonde_agent_finalize;
  object_class->get_property = sonde_agent_get_property;
  object_class->set_property = sonde_agent_set_property;

  /**
   * SondeAgent:engine:
   *
   * The engine whose samples are reported.
   *
   * Since: 0.2
   */
  properties[PROP_ENGINE] =
    g_param_spec_object ("engine", NULL, NULL,
                         SONDE_TYPE_ENGINE,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);

  /**
   * SondeAgent:url:
   *
   * The hub's agent URL, such as `ws://hub.example:3001/ws/agent`.
   *
   * Since: 0.2
   */
  properties[PROP_URL] =
    g_param_spec_string ("url", NULL, NULL,
                         NULL,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);

  /**
   * SondeAgent:token:
   *
   * The token the hub knows this agent by, sent as `?token=`. Write-only:
   * it is a secret.
   *
   * Since: 0.2
   */
  properties[PROP_TOKEN] =
    g_param_spec_string ("token", NULL, NULL,
                         NULL,
                         G_PARAM_WRITABLE | G_PARAM_STATIC_STRINGS);

  /**
   * SondeAgent:tls-database:
   *
   * The certificate authorities a `wss://` hub's certificate is checked
   * against; %NULL for the system's.
   *
   * Since: 0.2
   */
  properties[PROP_TLS_DATABASE] =
    g_param_spec_object ("tls-database", NULL, NULL,
                         G_TYPE_TLS_DATABASE,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * SondeAgent:buffer-size:
   *
   * How many reports are kept while the hub is away; the oldest go first.
   *
   * Since: 0.2
   */
  properties[PROP_BUFFER_SIZE] =
    g_param_spec_uint ("buffer-size", NULL, NULL,
                       1, SONDE_AGENT_MAX_BUFFER_SIZE, SONDE_AGENT_DEFAULT_BUFFER_SIZE,
                       G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * SondeAgent:connected:
   *
   * Whether the agent is connected to its hub now.
   *
   * Since: 0.2
   */
  properties[PROP_CONNECTED] =
    g_param_spec_boolean ("connected", NULL, NULL,
                          FALSE,
                          G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
sonde_agent_init (SondeAgent *self)
{
  _sonde_vstats_link_init (&self->link, connected_changed_cb, self);
}

/* API -------------------------------------------------------------------------- */

/**
 * sonde_agent_new:
 * @engine: the engine whose samples to report
 * @url: the hub's agent URL: `ws://HOST:PORT/ws/agent` or `wss://...`
 * @error: return location for a #GError
 *
 * Returns: (transfer full) (nullable): a new agent, not yet started, or
 *   %NULL if @url is not a ws:// or wss:// URL
 *
 * Since: 0.2
 */
SondeAgent *
sonde_agent_new (SondeEngine  *engine,
                 const char   *url,
                 GError      **error)
{
  g_autoptr(SondeAgent) self = NULL;
  g_autoptr(GUri) uri = NULL;

  g_return_val_if_fail (SONDE_IS_ENGINE (engine), NULL);
  g_return_val_if_fail (url != NULL, NULL);

  self = g_object_new (SONDE_TYPE_AGENT, "engine", engine, "url", url, NULL);
  uri = _sonde_vstats_link_build_uri (&self->link, error);
  if (uri == NULL)
    return NULL;
  if (g_uri_get_host (uri) == NULL || *g_uri_get_host (uri) == '\0')
    {
      g_set_error (error, SONDE_ERROR, SONDE_ERROR_INVALID_ARGUMENT, "%s names no host", url);
      return NULL;
    }

  return g_steal_pointer (&self);
}

/**
 * sonde_agent_get_engine:
 * @self: a #SondeAgent
 *
 * Returns: (transfer none): the engine whose samples are reported
 *
 * Since: 0.2
 */
SondeEngine *
sonde_agent_get_engine (SondeAgent *self)
{
  g_return_val_if_fail (SONDE_IS_AGENT (self), NULL);
  return self->engine;
}

/**
 * sonde_agent_get_url:
 * @self: a #SondeAgent
 *
 * Returns: the hub's agent URL
 *
 * Since: 0.2
 */
const char *
sonde_agent_get_url (SondeAgent *self)
{
  g_return_val_if_fail (SONDE_IS_AGENT (self), NULL);
  return self->link.url;
}

/**
 * sonde_agent_set_token:
 * @self: a #SondeAgent
 * @token: (nullable): the token the hub knows this agent by
 *
 * Applies from the next connection on.
 *
 * Since: 0.2
 */
void
sonde_agent_set_token (SondeAgent *self,
                       const char *token)
{
  g_return_if_fail (SONDE_IS_AGENT (self));

  g_free (self->link.token);
  self->link.token = token != NULL && *token != '\0' ? g_strdup (token) : NULL;
}

/**
 * sonde_agent_get_tls_database:
 * @self: a #SondeAgent
 *
 * Returns: (transfer none) (nullable): the certificate authorities a
 *   `wss://` hub is checked against, or %NULL for the system's
 *
 * Since: 0.2
 */
GTlsDatabase *
sonde_agent_get_tls_database (SondeAgent *self)
{
  g_return_val_if_fail (SONDE_IS_AGENT (self), NULL);
  return self->link.tls_database;
}

/**
 * sonde_agent_set_tls_database:
 * @self: a #SondeAgent
 * @database: (nullable): the certificate authorities to check a `wss://`
 *   hub's certificate against, such as g_tls_file_database_new()'s;
 *   %NULL for the system's
 *
 * Call it before sonde_agent_start().
 *
 * Since: 0.2
 */
void
sonde_agent_set_tls_database (SondeAgent   *self,
                              GTlsDatabase *database)
{
  g_return_if_fail (SONDE_IS_AGENT (self));
  g_return_if_fail (database == NULL || G_IS_TLS_DATABASE (database));

  if (self->link.tls_database == database)
    return;
  _sonde_vstats_link_set_tls_database (&self->link, database);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TLS_DATABASE]);
}

/**
 * sonde_agent_get_buffer_size:
 * @self: a #SondeAgent
 *
 * Returns: how many reports are kept while the hub is away
 *
 * Since: 0.2
 */
guint
sonde_agent_get_buffer_size (SondeAgent *self)
{
  g_return_val_if_fail (SONDE_IS_AGENT (self), 0);
  return self->link.buffer_size;
}

/**
 * sonde_agent_set_buffer_size:
 * @self: a #SondeAgent
 * @reports: how many reports to keep while the hub is away, 1 to
 *   %SONDE_AGENT_MAX_BUFFER_SIZE; %SONDE_AGENT_DEFAULT_BUFFER_SIZE by
 *   default. A report takes about 2 KiB.
 *
 * Since: 0.2
 */
void
sonde_agent_set_buffer_size (SondeAgent *self,
                             guint       reports)
{
  g_return_if_fail (SONDE_IS_AGENT (self));
  g_return_if_fail (reports >= 1 && reports <= SONDE_AGENT_MAX_BUFFER_SIZE);

  if (self->link.buffer_size == reports)
    return;

  self->link.buffer_size = reports;
  _sonde_vstats_link_trim (&self->link, reports);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_BUFFER_SIZE]);
}

/**
 * sonde_agent_start:
 * @self: a #SondeAgent
 *
 * Samples the engine's cpu, memory, disk, network and host collectors
 * every second from now on, and connects to the hub; reconnects whenever
 * the connection is lost, until sonde_agent_stop().
 *
 * Since: 0.2
 */
void
sonde_agent_start (SondeAgent *self)
{
  g_auto(GStrv) patterns = NULL;

  g_return_if_fail (SONDE_IS_AGENT (self));

  if (self->running)
    return;
  self->running = TRUE;

  patterns = _sonde_vstats_report_patterns (_sonde_engine_get_catalog (self->engine));
  if (patterns[0] == NULL)
    g_warning ("No cpu, memory, disk, network or host collector: the agent sends heartbeats only");
  else
    {
      SondeFilter *filter = _sonde_filter_new (_sonde_engine_get_catalog (self->engine),
                                               (const char * const *) patterns, NULL);

      self->group = _sonde_hub_join (_sonde_engine_get_hub (self->engine), &_sonde_vstats_report_encoding,
                                     NULL, filter, 1000, NULL, report_cb, self);
    }

  _sonde_vstats_link_start (&self->link);
}

/**
 * sonde_agent_stop:
 * @self: a #SondeAgent
 *
 * Closes the connection and stops sampling. The reports not yet sent are
 * kept, and go at the next sonde_agent_start().
 *
 * Since: 0.2
 */
void
sonde_agent_stop (SondeAgent *self)
{
  g_return_if_fail (SONDE_IS_AGENT (self));

  if (!self->running)
    return;
  self->running = FALSE;

  if (self->group != NULL)
    {
      _sonde_hub_leave (_sonde_engine_get_hub (self->engine), self->group, self);
      self->group = NULL;
    }

  _sonde_vstats_link_stop (&self->link);
}

/**
 * sonde_agent_get_connected:
 * @self: a #SondeAgent
 *
 * Returns: whether the agent is connected to its hub
 *
 * Since: 0.2
 */
gboolean
sonde_agent_get_connected (SondeAgent *self)
{
  g_return_val_if_fail (SONDE_IS_AGENT (self), FALSE);
  return self->link.websocket != NULL;
}

/**
 * sonde_agent_get_n_buffered:
 * @self: a #SondeAgent
 *
 * Returns: how many reports wait to be sent or acknowledged
 *
 * Since: 0.2
 */
guint
sonde_agent_get_n_buffered (SondeAgent *self)
{
  g_return_val_if_fail (SONDE_IS_AGENT (self), 0);
  return g_queue_get_length (&self->link.reports);
}

/**
 * sonde_agent_get_n_dropped:
 * @self: a #SondeAgent
 *
 * Returns: how many reports were dropped because the buffer was full
 *
 * Since: 0.2
 */
guint64
sonde_agent_get_n_dropped (SondeAgent *self)
{
  g_return_val_if_fail (SONDE_IS_AGENT (self), 0);
  return self->link.n_dropped;
}
