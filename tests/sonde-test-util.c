/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "sonde-test-util.h"

/* Spinning ---------------------------------------------------------------- */

struct _SondeTestDeadline
{
  gint64   end_us;
  guint    source;
  gboolean passed;
};

static gboolean
deadline_cb (gpointer data)
{
  SondeTestDeadline *deadline = data;

  deadline->passed = TRUE;
  deadline->source = 0;
  return G_SOURCE_REMOVE;
}

SondeTestDeadline *
sonde_test_deadline_new (guint timeout_ms)
{
  SondeTestDeadline *deadline = g_new0 (SondeTestDeadline, 1);

  deadline->end_us = g_get_monotonic_time () + (gint64) timeout_ms * 1000;
  /* Wakes up a main context that has nothing else to do. */
  deadline->source = g_timeout_add (timeout_ms, deadline_cb, deadline);
  return deadline;
}

gboolean
sonde_test_deadline_passed (SondeTestDeadline *deadline)
{
  return deadline->passed || g_get_monotonic_time () >= deadline->end_us;
}

void
sonde_test_deadline_free (SondeTestDeadline *deadline)
{
  g_clear_handle_id (&deadline->source, g_source_remove);
  g_free (deadline);
}

void
sonde_test_spin_for (guint ms)
{
  SondeTestDeadline *deadline = sonde_test_deadline_new (ms);

  while (!sonde_test_deadline_passed (deadline))
    g_main_context_iteration (NULL, TRUE);
  sonde_test_deadline_free (deadline);
}

/* Fake collector ---------------------------------------------------------- */

struct _SondeFakeCollector
{
  SondeCollector parent_instance;

  int            n_collected;  /* atomic: collect() runs in a worker thread */
  int            failing;      /* atomic */
};

G_DEFINE_FINAL_TYPE (SondeFakeCollector, sonde_fake_collector, SONDE_TYPE_COLLECTOR)

static SondeSample *
sonde_fake_collector_collect (SondeCollector  *collector,
                              GError         **error)
{
  SondeFakeCollector *self = SONDE_FAKE_COLLECTOR (collector);
  const char *name = sonde_collector_get_name (collector);
  g_autoptr(JsonObject) data = NULL;
  g_autofree char *text = NULL;
  JsonArray *items;
  int value;

  if (g_atomic_int_get (&self->failing))
    {
      g_set_error (error, SONDE_ERROR, SONDE_ERROR_COLLECTOR_FAILED,
                   "The %s collector was told to fail", name);
      return NULL;
    }

  value = g_atomic_int_add (&self->n_collected, 1) + 1;
  text = g_strdup_printf ("hello from %s", name);

  items = json_array_new ();
  for (int i = 1; i <= 2; i++)
    {
      JsonObject *item = json_object_new ();
      g_autofree char *item_name = g_strdup_printf ("item%d", i);

      json_object_set_string_member (item, "name", item_name);
      json_object_set_int_member (item, "n", i);
      json_array_add_object_element (items, item);
    }

  data = json_object_new ();
  json_object_set_int_member (data, "value", value);
  json_object_set_string_member (data, "text", text);
  json_object_set_array_member (data, "items", items);

  return sonde_sample_new (name, g_get_real_time (), data);
}

static void
sonde_fake_collector_constructed (GObject *object)
{
  SondeCollector *collector = SONDE_COLLECTOR (object);

  G_OBJECT_CLASS (sonde_fake_collector_parent_class)->constructed (object);

  /* The name is a construct property: only known from here on. */
  sonde_collector_add_metric (collector, "value", "count", SONDE_METRIC_KIND_COUNTER,
                              "How many times the fake collector was collected");
  sonde_collector_add_metric (collector, "text", "", SONDE_METRIC_KIND_INFO,
                              "A constant greeting");
  sonde_collector_add_metric (collector, "items", "", SONDE_METRIC_KIND_TABLE,
                              "Two fixed items");
}

static void
sonde_fake_collector_class_init (SondeFakeCollectorClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  SondeCollectorClass *collector_class = SONDE_COLLECTOR_CLASS (klass);

  object_class->constructed = sonde_fake_collector_constructed;
  collector_class->collect = sonde_fake_collector_collect;
}

static void
sonde_fake_collector_init (SondeFakeCollector *self)
{
}

SondeFakeCollector *
sonde_fake_collector_new (const char *name)
{
  return g_object_new (SONDE_TYPE_FAKE_COLLECTOR, "name", name, NULL);
}

void
sonde_fake_collector_set_failing (SondeFakeCollector *self,
                                  gboolean            failing)
{
  g_atomic_int_set (&self->failing, failing ? 1 : 0);
}

guint
sonde_fake_collector_get_n_collected (SondeFakeCollector *self)
{
  return (guint) g_atomic_int_get (&self->n_collected);
}

/* A collector whose start() fails: its /proc file is missing, say. */
#define SONDE_TYPE_BROKEN_COLLECTOR (sonde_broken_collector_get_type ())
G_DECLARE_FINAL_TYPE (SondeBrokenCollector, sonde_broken_collector, SONDE, BROKEN_COLLECTOR, SondeCollector)

struct _SondeBrokenCollector
{
  SondeCollector parent_instance;
};

G_DEFINE_FINAL_TYPE (SondeBrokenCollector, sonde_broken_collector, SONDE_TYPE_COLLECTOR)

static gboolean
sonde_broken_collector_start (SondeCollector  *collector,
                              GError         **error)
{
  g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "no such file");
  return FALSE;
}

static void
sonde_broken_collector_class_init (SondeBrokenCollectorClass *klass)
{
  SONDE_COLLECTOR_CLASS (klass)->start = sonde_broken_collector_start;
}

static void
sonde_broken_collector_init (SondeBrokenCollector *self)
{
}

SondeCollector *
sonde_test_broken_collector_new (const char *name)
{
  return g_object_new (SONDE_TYPE_BROKEN_COLLECTOR, "name", name, NULL);
}

/* A collector whose collect() blocks until released, and that records how
 * many collections ran at once. */

struct _SondeGateCollector
{
  SondeCollector parent_instance;
  GMutex         lock;
  GCond          cond;
  gboolean       open;
  guint          entered;     /* collections started */
  guint          active;      /* collections running now */
  guint          max_active;  /* the most that ever ran at once */
};

G_DEFINE_FINAL_TYPE (SondeGateCollector, sonde_gate_collector, SONDE_TYPE_COLLECTOR)

static SondeSample *
sonde_gate_collector_collect (SondeCollector  *collector,
                             GError         **error)
{
  SondeGateCollector *self = SONDE_GATE_COLLECTOR (collector);
  g_autoptr(JsonObject) data = json_object_new ();

  g_mutex_lock (&self->lock);
  self->entered++;
  self->active++;
  self->max_active = MAX (self->max_active, self->active);
  /* For a test waiting for this on the main context. */
  g_main_context_wakeup (NULL);
  while (!self->open)
    g_cond_wait (&self->cond, &self->lock);
  self->active--;
  json_object_set_int_member (data, "value", self->entered);
  g_mutex_unlock (&self->lock);

  return sonde_sample_new (sonde_collector_get_name (collector), g_get_real_time (), data);
}

static void
sonde_gate_collector_finalize (GObject *object)
{
  SondeGateCollector *self = SONDE_GATE_COLLECTOR (object);

  g_mutex_clear (&self->lock);
  g_cond_clear (&self->cond);
  G_OBJECT_CLASS (sonde_gate_collector_parent_class)->finalize (object);
}

static void
sonde_gate_collector_class_init (SondeGateCollectorClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = sonde_gate_collector_finalize;
  SONDE_COLLECTOR_CLASS (klass)->collect = sonde_gate_collector_collect;
}

static void
sonde_gate_collector_init (SondeGateCollector *self)
{
  g_mutex_init (&self->lock);
  g_cond_init (&self->cond);
}

SondeGateCollector *
sonde_test_gate_collector_new (const char *name)
{
  return g_object_new (SONDE_TYPE_GATE_COLLECTOR, "name", name, NULL);
}

void
sonde_test_gate_collector_open (SondeGateCollector *self)
{
  g_mutex_lock (&self->lock);
  self->open = TRUE;
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);
}

guint
sonde_test_gate_collector_get_entered (SondeGateCollector *self)
{
  guint entered;

  g_mutex_lock (&self->lock);
  entered = self->entered;
  g_mutex_unlock (&self->lock);
  return entered;
}

guint
sonde_test_gate_collector_get_max_active (SondeGateCollector *self)
{
  guint max_active;

  g_mutex_lock (&self->lock);
  max_active = self->max_active;
  g_mutex_unlock (&self->lock);
  return max_active;
}

/* Server ------------------------------------------------------------------ */

SondeTestServer *
sonde_test_server_new (gboolean with_fakes)
{
  SondeTestServer *self = g_new0 (SondeTestServer, 1);
  g_autoptr(GError) error = NULL;

  self->engine = sonde_engine_new ();

  if (with_fakes)
    {
      self->fake = sonde_fake_collector_new ("fake");
      self->other = sonde_fake_collector_new ("other");
      g_assert_true (sonde_engine_add_collector (self->engine, SONDE_COLLECTOR (self->fake), &error));
      g_assert_no_error (error);
      g_assert_true (sonde_engine_add_collector (self->engine, SONDE_COLLECTOR (self->other), &error));
      g_assert_no_error (error);
    }

  self->server = sonde_server_new (self->engine);
  g_assert_true (sonde_server_listen (self->server, "127.0.0.1", 0, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (sonde_server_get_port (self->server), >, 0);

  return self;
}

SondeTestServer *
sonde_test_server_new_with_plugins (const char *first_required,
                                    ...)
{
  SondeTestServer *self = sonde_test_server_new (FALSE);
  va_list args;

  if (g_getenv ("SONDE_PLUGIN_PATH") != NULL)
    sonde_engine_load_plugins (self->engine, NULL);

  va_start (args, first_required);
  for (const char *name = first_required; name != NULL; name = va_arg (args, const char *))
    {
      if (sonde_engine_get_collector (self->engine, name) == NULL)
        {
          va_end (args);
          g_test_skip ("The collector plugins are not available (SONDE_PLUGIN_PATH)");
          sonde_test_server_free (self);
          return NULL;
        }
    }
  va_end (args);

  return self;
}

char *
sonde_test_server_http_uri (SondeTestServer *self,
                            const char      *path)
{
  return g_strdup_printf ("http://127.0.0.1:%u%s", sonde_server_get_port (self->server), path);
}

void
sonde_test_server_free (SondeTestServer *self)
{
  SondeServer *server = self->server;

  sonde_server_disconnect (self->server);
  g_object_add_weak_pointer (G_OBJECT (server), (gpointer *) &server);
  g_clear_object (&self->server);
  /* Nothing else may keep the server alive once it is released. */
  g_assert_null (server);

  g_clear_object (&self->fake);
  g_clear_object (&self->other);
  g_clear_object (&self->engine);

  /* Let collections still running in worker threads come back. */
  sonde_test_spin_for (50);
  g_free (self);
}

/* HTTP ------------------------------------------------------------------- */

void
sonde_test_response_free (SondeTestResponse *response)
{
  g_free (response->content_type);
  g_free (response->allow);
  g_free (response->cache_control);
  g_clear_pointer (&response->body, g_bytes_unref);
  g_clear_pointer (&response->json, json_object_unref);
  g_free (response);
}


typedef struct
{
  GBytes  *body;
  GError  *error;
  gboolean done;
} RequestData;

static void
sent_cb (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  RequestData *data = user_data;

  data->body = soup_session_send_and_read_finish (SOUP_SESSION (source), result, &data->error);
  data->done = TRUE;
}

SoupSession *
sonde_test_session_new (void)
{
  SoupSession *session = soup_session_new ();

  /* No proxy lookup: GSettings may have no schemas on a bare machine. */
  soup_session_set_proxy_resolver (session, NULL);
  return session;
}

SondeTestResponse *
sonde_test_http_send (SoupMessage *msg)
{
  g_autoptr(SoupSession) session = sonde_test_session_new ();
  RequestData data = { NULL, NULL, FALSE };
  SoupMessageHeaders *headers;
  SondeTestResponse *response;
  gsize length;
  const char *text;

  soup_session_send_and_read_async (session, msg, G_PRIORITY_DEFAULT, NULL, sent_cb, &data);
  sonde_test_wait_until (data.done);
  g_assert_no_error (data.error);

  headers = soup_message_get_response_headers (msg);
  response = g_new0 (SondeTestResponse, 1);
  response->status = soup_message_get_status (msg);
  response->content_type = g_strdup (soup_message_headers_get_content_type (headers, NULL));
  response->allow = g_strdup (soup_message_headers_get_one (headers, "Allow"));
  response->cache_control = g_strdup (soup_message_headers_get_one (headers, "Cache-Control"));
  response->body = data.body;

  text = g_bytes_get_data (response->body, &length);
  if (g_strcmp0 (response->content_type, "application/json") == 0)
    {
      g_autoptr(JsonParser) parser = json_parser_new ();
      g_autoptr(GError) error = NULL;

      json_parser_load_from_data (parser, text, length, &error);
      g_assert_no_error (error);
      g_assert_true (JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)));
      response->json = json_object_ref (json_node_get_object (json_parser_get_root (parser)));
    }

  return response;
}

SondeTestResponse *
sonde_test_http (SondeTestServer *server,
                 const char      *method,
                 const char      *path)
{
  g_autofree char *uri = sonde_test_server_http_uri (server, path);
  g_autoptr(SoupMessage) msg = soup_message_new (method, uri);

  g_assert_nonnull (msg);
  return sonde_test_http_send (msg);
}

typedef struct
{
  SoupWebsocketConnection *connection;
  GError                  *error;
  gboolean                 done;
} HandshakeResult;

static void
handshake_done_cb (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  HandshakeResult *handshake = user_data;

  handshake->connection = soup_session_websocket_connect_finish (SOUP_SESSION (source), result,
                                                                 &handshake->error);
  handshake->done = TRUE;
}

guint
sonde_test_websocket_handshake (SondeTestServer *server,
                                const char      *path,
                                const char      *origin)
{
  g_autoptr(SoupSession) session = sonde_test_session_new ();
  g_autofree char *uri = sonde_test_server_http_uri (server, path);
  g_autoptr(SoupMessage) msg = soup_message_new ("GET", uri);
  HandshakeResult handshake = { NULL, NULL, FALSE };
  guint status;

  soup_session_websocket_connect_async (session, msg, origin, NULL, G_PRIORITY_DEFAULT, NULL,
                                        handshake_done_cb, &handshake);
  sonde_test_wait_until (handshake.done);

  status = soup_message_get_status (msg);
  if (handshake.connection != NULL)
    {
      g_assert_cmpuint (status, ==, SOUP_STATUS_SWITCHING_PROTOCOLS);
      soup_websocket_connection_close (handshake.connection, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
      sonde_test_wait_until (soup_websocket_connection_get_state (handshake.connection) ==
                             SOUP_WEBSOCKET_STATE_CLOSED);
    }
  else
    g_assert_cmpuint (status, !=, SOUP_STATUS_SWITCHING_PROTOCOLS);

  g_clear_object (&handshake.connection);
  g_clear_error (&handshake.error);
  return status;
}

const char *
sonde_test_response_get_code (SondeTestResponse *response)
{
  if (response->json == NULL || !json_object_has_member (response->json, "code"))
    return NULL;
  return json_object_get_string_member (response->json, "code");
}

/* WebSocket client -------------------------------------------------------- */

static void
frame_free (SondeTestFrame *frame)
{
  g_clear_pointer (&frame->object, json_object_unref);
  g_clear_pointer (&frame->raw, g_bytes_unref);
  g_free (frame);
}

static void
client_message_cb (SoupWebsocketConnection *connection,
                   int                      type,
                   GBytes                  *bytes,
                   SondeTestClient         *self)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  SondeTestFrame *frame;
  gsize length;
  const char *text = g_bytes_get_data (bytes, &length);
  JsonNode *root;

  if (type != SOUP_WEBSOCKET_DATA_TEXT)
    {
      self->n_binary++;
      return;
    }

  /* Every frame of the server is one JSON object. */
  json_parser_load_from_data (parser, text, length, &error);
  g_assert_no_error (error);
  root = json_parser_get_root (parser);
  g_assert_nonnull (root);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (root));
  /* ... and in the native protocol, each says its type. */
  if (self->native)
    g_assert_true (json_object_has_member (json_node_get_object (root), "type"));

  frame = g_new0 (SondeTestFrame, 1);
  frame->object = json_object_ref (json_node_get_object (root));
  frame->raw = g_bytes_ref (bytes);
  g_ptr_array_add (self->frames, frame);
}

static void
client_closed_cb (SoupWebsocketConnection *connection,
                  SondeTestClient         *self)
{
  self->closed = TRUE;
}

typedef struct
{
  SondeTestClient *client;
  GError          *error;
  gboolean         done;
} ConnectData;

static void
client_connected_cb (GObject      *source,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  ConnectData *data = user_data;
  SondeTestClient *self = data->client;

  self->connection = soup_session_websocket_connect_finish (SOUP_SESSION (source), result, &data->error);
  if (self->connection != NULL)
    {
      /* Connected here, before any frame can be dispatched. */
      soup_websocket_connection_set_max_incoming_payload_size (self->connection, 16 * 1024 * 1024);
      g_signal_connect (self->connection, "message", G_CALLBACK (client_message_cb), self);
      g_signal_connect (self->connection, "closed", G_CALLBACK (client_closed_cb), self);
    }
  data->done = TRUE;
}

SondeTestClient *
sonde_test_client_new_for_port (guint       port,
                                const char *path)
{
  SondeTestClient *self = g_new0 (SondeTestClient, 1);
  g_autoptr(SoupMessage) msg = NULL;
  g_autofree char *uri = NULL;
  ConnectData data = { self, NULL, FALSE };

  self->frames = g_ptr_array_new_with_free_func ((GDestroyNotify) frame_free);
  self->session = sonde_test_session_new ();

  uri = g_strdup_printf ("ws://127.0.0.1:%u%s", port, path);
  msg = soup_message_new ("GET", uri);
  g_assert_nonnull (msg);

  soup_session_websocket_connect_async (self->session, msg, NULL, NULL, G_PRIORITY_DEFAULT, NULL,
                                        client_connected_cb, &data);
  sonde_test_wait_until (data.done);
  g_assert_no_error (data.error);
  g_assert_nonnull (self->connection);

  return self;
}

SondeTestClient *
sonde_test_client_new_for_path (SondeTestServer *server,
                                const char      *path)
{
  return sonde_test_client_new_for_port (sonde_server_get_port (server->server), path);
}

SondeTestClient *
sonde_test_client_new (SondeTestServer *server,
                       const char      *query)
{
  g_autofree char *path = g_strdup_printf ("/ws/v1%s%s", query ? "?" : "", query ? query : "");
  SondeTestClient *self = sonde_test_client_new_for_path (server, path);

  self->native = TRUE;
  return self;
}

void
sonde_test_client_close (SondeTestClient *self)
{
  if (self->connection == NULL || self->closed)
    return;

  if (soup_websocket_connection_get_state (self->connection) == SOUP_WEBSOCKET_STATE_OPEN)
    soup_websocket_connection_close (self->connection, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
  sonde_test_wait_until (self->closed);
}

void
sonde_test_client_free (SondeTestClient *self)
{
  if (self == NULL)
    return;

  sonde_test_client_close (self);
  if (self->connection != NULL)
    g_signal_handlers_disconnect_by_data (self->connection, self);
  g_clear_object (&self->connection);
  g_clear_object (&self->session);
  g_clear_pointer (&self->frames, g_ptr_array_unref);
  g_free (self);
}

void
sonde_test_client_send (SondeTestClient *self,
                        const char      *format,
                        ...)
{
  g_autofree char *text = NULL;
  va_list args;

  va_start (args, format);
  text = g_strdup_vprintf (format, args);
  va_end (args);

  g_assert_cmpint (soup_websocket_connection_get_state (self->connection), ==, SOUP_WEBSOCKET_STATE_OPEN);
  soup_websocket_connection_send_text (self->connection, text);
}

void
sonde_test_client_send_bytes (SondeTestClient       *self,
                              SoupWebsocketDataType  type,
                              const void            *data,
                              gsize                  length)
{
  g_autoptr(GBytes) bytes = g_bytes_new (data, length);

  g_assert_cmpint (soup_websocket_connection_get_state (self->connection), ==, SOUP_WEBSOCKET_STATE_OPEN);
  soup_websocket_connection_send_message (self->connection, type, bytes);
}

static gboolean
frame_matches (SondeTestFrame *frame,
               const char     *type,
               const char     *subscription)
{
  JsonNode *node;

  if (frame->taken)
    return FALSE;
  if (type != NULL && g_strcmp0 (json_object_get_string_member_with_default (frame->object, "type", NULL), type) != 0)
    return FALSE;
  if (subscription == NULL)
    return TRUE;

  node = json_object_get_member (frame->object, "subscription");
  return node != NULL && JSON_NODE_HOLDS_VALUE (node) &&
         json_node_get_value_type (node) == G_TYPE_STRING &&
         g_str_equal (json_node_get_string (node), subscription);
}

static SondeTestFrame *
find_frame (SondeTestClient *self,
            const char      *type,
            const char      *subscription)
{
  for (guint i = 0; i < self->frames->len; i++)
    {
      SondeTestFrame *frame = g_ptr_array_index (self->frames, i);

      if (frame_matches (frame, type, subscription))
        return frame;
    }

  return NULL;
}

static void
wait_failed (SondeTestClient *self,
             const char      *what)
{
  g_autofree char *message = NULL;

  if (self->closed)
    message = g_strdup_printf ("connection closed (code %u) while waiting for %s",
                               soup_websocket_connection_get_close_code (self->connection), what);
  else
    message = g_strdup_printf ("timed out waiting for %s", what);
  g_assertion_message (G_LOG_DOMAIN, __FILE__, __LINE__, G_STRFUNC, message);
}

SondeTestFrame *
sonde_test_client_next_frame (SondeTestClient *self,
                              const char      *type,
                              const char      *subscription)
{
  SondeTestDeadline *deadline = sonde_test_deadline_new (SONDE_TEST_TIMEOUT_MS);
  SondeTestFrame *frame;

  while ((frame = find_frame (self, type, subscription)) == NULL)
    {
      if (self->closed || sonde_test_deadline_passed (deadline))
        {
          g_autofree char *what = g_strdup_printf ("a '%s' frame of subscription '%s'",
                                                   type ? type : "*", subscription ? subscription : "*");
          sonde_test_deadline_free (deadline);
          wait_failed (self, what);
        }
      g_main_context_iteration (NULL, TRUE);
    }

  sonde_test_deadline_free (deadline);
  frame->taken = TRUE;
  return frame;
}

JsonObject *
sonde_test_client_next (SondeTestClient *self,
                        const char      *type,
                        const char      *subscription)
{
  return sonde_test_client_next_frame (self, type, subscription)->object;
}

JsonObject *
sonde_test_client_frame_at (SondeTestClient *self,
                            guint            index)
{
  sonde_test_wait_until (self->frames->len > index);
  return ((SondeTestFrame *) g_ptr_array_index (self->frames, index))->object;
}

JsonObject *
sonde_test_client_expect_error (SondeTestClient *self,
                                const char      *code)
{
  JsonObject *error = sonde_test_client_next (self, "error", NULL);
  const char *message = json_object_get_string_member_with_default (error, "message", NULL);

  g_assert_cmpstr (json_object_get_string_member_with_default (error, "code", NULL), ==, code);
  g_assert_nonnull (message);
  g_assert_cmpstr (message, !=, "");
  /* Always present: the subscription concerned, or null. */
  g_assert_true (json_object_has_member (error, "subscription"));
  return error;
}

/* The index of the pong answering @id, or -1. */
static int
find_pong (SondeTestClient *self,
           const char      *id)
{
  for (guint i = 0; i < self->frames->len; i++)
    {
      SondeTestFrame *frame = g_ptr_array_index (self->frames, i);

      if (frame_matches (frame, "pong", NULL) &&
          g_strcmp0 (json_object_get_string_member_with_default (frame->object, "id", NULL), id) == 0)
        return (int) i;
    }

  return -1;
}

static int
ping_and_wait (SondeTestClient *self)
{
  g_autofree char *id = g_strdup_printf ("sync-%u", ++self->sync_serial);
  SondeTestDeadline *deadline;
  int index;

  sonde_test_client_send (self, "{\"type\":\"ping\",\"id\":\"%s\"}", id);

  deadline = sonde_test_deadline_new (SONDE_TEST_TIMEOUT_MS);
  while ((index = find_pong (self, id)) < 0)
    {
      if (self->closed || sonde_test_deadline_passed (deadline))
        {
          g_autofree char *what = g_strdup_printf ("the pong of %s", id);
          sonde_test_deadline_free (deadline);
          wait_failed (self, what);
        }
      g_main_context_iteration (NULL, TRUE);
    }
  sonde_test_deadline_free (deadline);

  ((SondeTestFrame *) g_ptr_array_index (self->frames, index))->taken = TRUE;
  return index;
}

void
sonde_test_client_ping (SondeTestClient *self)
{
  ping_and_wait (self);
}

void
sonde_test_client_sync (SondeTestClient *self)
{
  int index = ping_and_wait (self);

  for (int i = 0; i <= index; i++)
    ((SondeTestFrame *) g_ptr_array_index (self->frames, i))->taken = TRUE;
}

guint
sonde_test_client_count (SondeTestClient *self,
                         const char      *type,
                         const char      *subscription)
{
  guint n = 0;

  for (guint i = 0; i < self->frames->len; i++)
    if (frame_matches (g_ptr_array_index (self->frames, i), type, subscription))
      n++;

  return n;
}

void
sonde_test_client_take_all (SondeTestClient *self)
{
  for (guint i = 0; i < self->frames->len; i++)
    ((SondeTestFrame *) g_ptr_array_index (self->frames, i))->taken = TRUE;
}

GSocketConnection *
sonde_test_raw_connect (SondeTestServer *server,
                        const char      *path)
{
  g_autoptr(GSocketClient) client = g_socket_client_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *request = NULL;
  guint port = sonde_server_get_port (server->server);
  GSocketConnection *connection;

  g_socket_client_set_enable_proxy (client, FALSE);
  /* The kernel completes the TCP handshake from the listen backlog, so a
   * blocking connect does not need the server's main loop. */
  connection = g_socket_client_connect_to_host (client, "127.0.0.1", port, NULL, &error);
  g_assert_no_error (error);

  request = g_strdup_printf ("GET %s HTTP/1.1\r\n"
                             "Host: 127.0.0.1:%u\r\n"
                             "Upgrade: websocket\r\n"
                             "Connection: Upgrade\r\n"
                             "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                             "Sec-WebSocket-Version: 13\r\n"
                             "\r\n", path, port);
  g_output_stream_write_all (g_io_stream_get_output_stream (G_IO_STREAM (connection)),
                             request, strlen (request), NULL, NULL, &error);
  g_assert_no_error (error);

  return connection;
}

/* JSON helpers ------------------------------------------------------------ */

gint64
sonde_test_parse_timestamp (const char *timestamp)
{
  g_autoptr(GDateTime) dt = NULL;

  g_assert_nonnull (timestamp);
  if (!g_regex_match_simple ("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z$",
                             timestamp, 0, 0))
    {
      g_autofree char *message =
        g_strdup_printf ("'%s' is not an ISO 8601 UTC timestamp with milliseconds", timestamp);
      g_assertion_message (G_LOG_DOMAIN, __FILE__, __LINE__, G_STRFUNC, message);
    }

  dt = g_date_time_new_from_iso8601 (timestamp, NULL);
  g_assert_nonnull (dt);
  return g_date_time_to_unix (dt) * 1000 + g_date_time_get_microsecond (dt) / 1000;
}

char *
sonde_test_to_json (JsonObject *object)
{
  g_autoptr(JsonNode) node = json_node_new (JSON_NODE_OBJECT);

  json_node_set_object (node, object);
  return json_to_string (node, FALSE);
}

char *
sonde_test_members (JsonObject *object)
{
  g_autoptr(GList) members = json_object_get_members (object);
  g_autoptr(GString) text = g_string_new (NULL);

  members = g_list_sort (members, (GCompareFunc) strcmp);
  for (GList *l = members; l != NULL; l = l->next)
    {
      if (text->len > 0)
        g_string_append_c (text, ',');
      g_string_append (text, l->data);
    }

  return g_string_free (g_steal_pointer (&text), FALSE);
}

void
sonde_test_assert_members (JsonObject *object,
                           const char *expected)
{
  g_autofree char *members = sonde_test_members (object);

  g_assert_cmpstr (members, ==, expected);
}

JsonObject *
sonde_test_member_object (JsonObject *object,
                          const char *member)
{
  JsonNode *node = json_object_get_member (object, member);

  g_assert_nonnull (node);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (node));
  return json_node_get_object (node);
}

static int
compare_names (gconstpointer a,
               gconstpointer b)
{
  return strcmp (*(const char * const *) a, *(const char * const *) b);
}

char *
sonde_test_metrics_of (JsonObject *data)
{
  g_autoptr(GList) collectors = json_object_get_members (data);
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GString) text = g_string_new (NULL);

  for (GList *l = collectors; l != NULL; l = l->next)
    {
      JsonObject *fields = json_object_get_object_member (data, l->data);
      g_autoptr(GList) members = NULL;

      g_assert_nonnull (fields);
      members = json_object_get_members (fields);
      for (GList *m = members; m != NULL; m = m->next)
        g_ptr_array_add (names, g_strdup_printf ("%s.%s", (char *) l->data, (char *) m->data));
    }

  g_ptr_array_sort (names, compare_names);
  for (guint i = 0; i < names->len; i++)
    g_string_append_printf (text, "%s%s", i ? "," : "", (char *) g_ptr_array_index (names, i));
  return g_string_free (g_steal_pointer (&text), FALSE);
}

/* Native frames ----------------------------------------------------------- */

gint64
sonde_test_check_snapshot (JsonObject *frame,
                           const char *subscription)
{
  gint64 seq;

  g_assert_cmpstr (json_object_get_string_member_with_default (frame, "type", NULL), ==, "snapshot");
  g_assert_cmpstr (json_object_get_string_member_with_default (frame, "subscription", NULL), ==, subscription);
  g_assert_true (json_object_has_member (frame, "seq"));
  seq = json_object_get_int_member (frame, "seq");
  g_assert_cmpint (seq, >=, 1);
  sonde_test_parse_timestamp (json_object_get_string_member_with_default (frame, "timestamp", NULL));
  g_assert_nonnull (json_object_get_object_member (frame, "data"));
  /* Nothing is slow on loopback: no frame was coalesced. */
  g_assert_false (json_object_has_member (frame, "dropped"));
  return seq;
}

JsonObject *
sonde_test_snapshot_data (JsonObject *frame)
{
  return json_object_get_object_member (frame, "data");
}

gint64
sonde_test_check_only_fake_value (JsonObject *frame)
{
  JsonObject *data = sonde_test_snapshot_data (frame);
  JsonObject *fake;

  g_assert_cmpuint (json_object_get_size (data), ==, 1);
  fake = json_object_get_object_member (data, "fake");
  g_assert_nonnull (fake);
  g_assert_cmpuint (json_object_get_size (fake), ==, 1);
  g_assert_true (json_object_has_member (fake, "value"));
  g_assert_cmpint (json_object_get_int_member (fake, "value"), >=, 1);
  return json_object_get_int_member (fake, "value");
}
