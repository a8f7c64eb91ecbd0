/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include "sonde-budget-stream-private.h"
#include "sonde-connection-private.h"
#include "sonde-engine-private.h"
#include "sonde-server-private.h"
#include "sonde-vstats-private.h"

/*
 * Dashboards (/ws): on connect a `server_added` and a `status` for every
 * server the hub knows, this host first; then `metrics` messages, this
 * host's once a tick and each agent's as its report comes, and `status`,
 * `server_added` and `server_removed` as they happen.
 *
 * Every message is encoded once and the same bytes go to each dashboard:
 * this host's through one hub group, an agent's when its report is
 * checked. A dashboard whose socket is full misses metrics (the next ones
 * replace them) but must not miss a change of the server list: then it is
 * marked out of step, gets no metrics until it has caught up, and catches
 * up from the hub's state at the next second, told only what it does not
 * know yet (what each dashboard was told is kept: one entry per server).
 *
 * Sending each dashboard a thousand messages a second is what a hub of a
 * thousand agents spends most on, in the kernel: each send() pushes a TCP
 * segment. A dashboard's socket is corked while the main loop handles
 * what came in at once (reports that arrived together), and uncorked at
 * the next iteration: one segment carries them all.
 */

typedef struct _SondeVstatsSync SondeVstatsSync;

typedef struct
{
  SondeVstats     *vstats;
  SondeServer     *server;
  SondeConnection *connection;
  SondeHubGroup   *group;        /* this host's metrics, or NULL */
  GHashTable      *announced;    /* server id -> Told */
  SondeVstatsSync *sync;         /* a catch-up in progress, or NULL */
  GSocket         *socket;       /* unowned: the connection's */
  gboolean         out_of_step;
  gboolean         corked;
} SondeVstatsDashboard;

struct _SondeVstatsSync
{
  SondeVstatsDashboard *dashboard;
  GPtrArray            *removed;   /* ids told but gone */
  GPtrArray            *ids;       /* ids to tell, this host's first */
  guint                 next_removed;
  guint                 next_id;
  gboolean              added_sent;
};

static void
sync_free (gpointer data)
{
  SondeVstatsSync *sync = data;

  if (sync->dashboard->sync == sync)
    sync->dashboard->sync = NULL;
  g_ptr_array_unref (sync->removed);
  g_ptr_array_unref (sync->ids);
  g_free (sync);
}

/* The next message of a catch-up, made when the dashboard has read the
 * previous one; what changed meanwhile leaves it out of step again. */
static GBytes *
sync_next (gpointer data)
{
  SondeVstatsSync *sync = data;
  SondeVstatsDashboard *dashboard = sync->dashboard;
  GHashTable *servers = dashboard->vstats->servers;

  while (sync->next_removed < sync->removed->len)
    {
      const char *id = g_ptr_array_index (sync->removed, sync->next_removed++);

      g_hash_table_remove (dashboard->announced, id);
      if (g_hash_table_contains (servers, id))
        {
          /* Back meanwhile: the next catch-up adds it again. */
          dashboard->out_of_step = TRUE;
          continue;
        }
      return _sonde_vstats_encode_removed (id);
    }

  while (sync->next_id < sync->ids->len)
    {
      const char *id = g_ptr_array_index (sync->ids, sync->next_id);
      SondeVstatsServer *server = g_hash_table_lookup (servers, id);
      int told = GPOINTER_TO_INT (g_hash_table_lookup (dashboard->announced, id));
      int state;

      if (server == NULL)
        {
          /* Gone meanwhile: if it was told, the next catch-up removes it. */
          if (told != 0)
            dashboard->out_of_step = TRUE;
          sync->next_id++;
          sync->added_sent = FALSE;
          continue;
        }

      if (!sync->added_sent)
        {
          sync->added_sent = TRUE;
          if (told == 0)
            {
              g_hash_table_insert (dashboard->announced, g_strdup (id), GINT_TO_POINTER (SONDE_VSTATS_TOLD_ADDED));
              return g_bytes_ref (_sonde_vstats_server_added_frame (server));
            }
        }

      sync->next_id++;
      sync->added_sent = FALSE;
      state = server->online ? SONDE_VSTATS_TOLD_ONLINE : SONDE_VSTATS_TOLD_OFFLINE;
      if (told != state)
        {
          g_hash_table_insert (dashboard->announced, g_strdup (id), GINT_TO_POINTER (state));
          return g_bytes_ref (_sonde_vstats_server_status_frame (server));
        }
    }

  return NULL;
}

static void
start_sync (SondeVstatsDashboard *dashboard)
{
  SondeVstats *vstats = dashboard->vstats;
  SondeVstatsSync *sync = g_new0 (SondeVstatsSync, 1);
  GHashTableIter iter;
  gpointer key, value;

  sync->dashboard = dashboard;
  sync->removed = g_ptr_array_new_with_free_func (g_free);
  sync->ids = g_ptr_array_new_with_free_func (g_free);

  g_hash_table_iter_init (&iter, dashboard->announced);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    if (!g_hash_table_contains (vstats->servers, key))
      g_ptr_array_add (sync->removed, g_strdup (key));

  g_ptr_array_add (sync->ids, g_strdup (vstats->local->id));
  g_hash_table_iter_init (&iter, vstats->servers);
  while (g_hash_table_iter_next (&iter, &key, &value))
    if (value != vstats->local)
      g_ptr_array_add (sync->ids, g_strdup (key));

  dashboard->out_of_step = FALSE;
  dashboard->sync = sync;
  /* May run to its end at once, freeing @sync. */
  _sonde_connection_send_bulk (dashboard->connection, sync_next, sync, sync_free);
}

void
_sonde_vstats_dashboards_resync (SondeVstats *self)
{
  for (guint i = 0; i < self->dashboards->len; i++)
    {
      SondeVstatsDashboard *dashboard = g_ptr_array_index (self->dashboards, i);

      if (dashboard->out_of_step && dashboard->sync == NULL &&
          _sonde_connection_is_open (dashboard->connection))
        start_sync (dashboard);
    }
}

static gboolean
in_step (SondeVstatsDashboard *dashboard)
{
  return !dashboard->out_of_step && dashboard->sync == NULL;
}

static void
set_cork (SondeVstatsDashboard *dashboard,
          gboolean              cork)
{
  int value = cork;

  if (dashboard->socket != NULL &&
      setsockopt (g_socket_get_fd (dashboard->socket), IPPROTO_TCP, TCP_CORK, &value, sizeof value) == 0)
    dashboard->corked = cork;
}

static gboolean
uncork_cb (gpointer data)
{
  SondeVstats *self = data;

  self->uncork_source = 0;
  for (guint i = 0; i < self->dashboards->len; i++)
    {
      SondeVstatsDashboard *dashboard = g_ptr_array_index (self->dashboards, i);

      if (dashboard->corked)
        set_cork (dashboard, FALSE);
    }
  return G_SOURCE_REMOVE;
}

/* Until the next iteration of the main loop: an idle source of the
 * default priority runs with the next batch of ready sources. */
static void
cork (SondeVstatsDashboard *dashboard)
{
  SondeVstats *self = dashboard->vstats;

  if (dashboard->corked)
    return;
  set_cork (dashboard, TRUE);
  if (dashboard->corked && self->uncork_source == 0)
    {
      self->uncork_source = g_idle_add_full (G_PRIORITY_DEFAULT, uncork_cb, self, NULL);
      g_source_set_name_by_id (self->uncork_source, "[sonde] vstats uncork");
    }
}

void
_sonde_vstats_broadcast_metrics (SondeVstats *self,
                                 GBytes      *frame)
{
  for (guint i = 0; i < self->dashboards->len; i++)
    {
      SondeVstatsDashboard *dashboard = g_ptr_array_index (self->dashboards, i);

      /* A full socket drops the frame: the next one holds newer values. */
      if (in_step (dashboard))
        {
          cork (dashboard);
          _sonde_connection_send_stream (dashboard->connection, frame);
        }
    }
}

void
_sonde_vstats_broadcast_event (SondeVstats     *self,
                               GBytes          *frame,
                               const char      *server_id,
                               SondeVstatsTold  told)
{
  for (guint i = 0; i < self->dashboards->len; i++)
    {
      SondeVstatsDashboard *dashboard = g_ptr_array_index (self->dashboards, i);

      if (in_step (dashboard))
        cork (dashboard);
      if (!in_step (dashboard) || !_sonde_connection_send_stream (dashboard->connection, frame))
        dashboard->out_of_step = TRUE;
      else if (told == SONDE_VSTATS_TOLD_NOTHING)
        g_hash_table_remove (dashboard->announced, server_id);
      else
        g_hash_table_insert (dashboard->announced, g_strdup (server_id), GINT_TO_POINTER (told));
    }
}

/* This host's metrics, once a tick: also when an out-of-step dashboard
 * catches up. */
static void
local_metrics_cb (gpointer       member,
                  SondeHubGroup *group,
                  GBytes        *frame)
{
  SondeVstatsDashboard *dashboard = member;

  if (dashboard->out_of_step && dashboard->sync == NULL)
    start_sync (dashboard);
  if (in_step (dashboard))
    _sonde_connection_send_stream (dashboard->connection, frame);
}

static void
dashboard_message (gpointer               owner,
                   SoupWebsocketDataType  type,
                   GBytes                *message)
{
  SondeVstatsDashboard *dashboard = owner;
  g_autoptr(GBytes) frame = _sonde_vstats_encode_error ("Dashboards send no messages on this stream");

  _sonde_connection_send_control (dashboard->connection, frame);
}

static void
dashboard_closed (gpointer owner)
{
  SondeVstatsDashboard *dashboard = owner;

  _sonde_server_client_closed (dashboard->server, dashboard);
}

static const SondeConnectionCallbacks dashboard_callbacks = {
  .message = dashboard_message,
  .closed = dashboard_closed,
};

static gpointer
dashboard_accept (SondeServer             *server,
                  gpointer                 format_state,
                  SoupWebsocketConnection *websocket,
                  const char              *route,
                  GHashTable              *query)
{
  SondeVstats *vstats = format_state;
  SondeEngine *engine = sonde_server_get_engine (server);
  SondeVstatsDashboard *dashboard = g_new0 (SondeVstatsDashboard, 1);
  g_auto(GStrv) patterns = _sonde_vstats_report_patterns (_sonde_engine_get_catalog (engine));

  dashboard->vstats = vstats;
  dashboard->server = server;
  dashboard->announced = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  dashboard->connection = _sonde_connection_new (server, websocket, route, &dashboard_callbacks, dashboard);
  dashboard->socket = _sonde_stream_find_socket (soup_websocket_connection_get_io_stream (websocket));
  /* The seed: "The server sends ping frames every 30 seconds". */
  soup_websocket_connection_set_keepalive_interval (websocket, SONDE_VSTATS_PING_INTERVAL);

  /* Every dashboard of the engine shares one group: this host's
   * message is encoded once a tick. */
  if (patterns[0] != NULL)
    {
      SondeFilter *filter = _sonde_filter_new (_sonde_engine_get_catalog (engine),
                                               (const char * const *) patterns, NULL);

      dashboard->group = _sonde_hub_join (_sonde_engine_get_hub (engine), &_sonde_vstats_local_metrics_encoding,
                                          NULL, filter, 1000, NULL, local_metrics_cb, dashboard);
    }

  g_ptr_array_add (vstats->dashboards, dashboard);
  start_sync (dashboard);
  _sonde_vstats_ensure_watching (vstats);
  return dashboard;
}

static void
dashboard_free (gpointer client)
{
  SondeVstatsDashboard *dashboard = client;

  if (dashboard->group != NULL)
    _sonde_hub_leave (_sonde_server_get_hub (dashboard->server), dashboard->group, dashboard);
  g_ptr_array_remove_fast (dashboard->vstats->dashboards, dashboard);
  /* Ends a catch-up in progress, which points back here. */
  g_clear_pointer (&dashboard->connection, _sonde_connection_free);
  g_hash_table_unref (dashboard->announced);
  g_free (dashboard);
}

static const SondeClientOps dashboard_ops = {
  .accept = dashboard_accept,
  .free = dashboard_free,
};

void
_sonde_vstats_dashboard_register (SondeServer *server,
                                  gpointer     state,
                                  SoupServer  *soup_server,
                                  const char  *path)
{
  _sonde_server_add_websocket_route (server, soup_server, path, &dashboard_ops, state);
}
