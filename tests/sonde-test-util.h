/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <libsoup/soup.h>

#include "sonde.h"
#include "sonde-server-private.h"

G_BEGIN_DECLS

/*
 * Helpers of the in-process integration tests: a fake collector, a server
 * on 127.0.0.1 port 0, WebSocket clients whose received frames are kept
 * parsed, and main-context spinning bounded by a timeout.
 */

/* How long any wait may take before the test fails. */
#define SONDE_TEST_TIMEOUT_MS 10000

/* Spinning ---------------------------------------------------------------- */

typedef struct _SondeTestDeadline SondeTestDeadline;

SondeTestDeadline *sonde_test_deadline_new    (guint              timeout_ms);
gboolean           sonde_test_deadline_passed (SondeTestDeadline *deadline);
void               sonde_test_deadline_free   (SondeTestDeadline *deadline);

/* Iterates the default main context until @cond holds; fails the test
 * after @timeout_ms. */
#define sonde_test_wait_until_full(cond, timeout_ms)                               \
  G_STMT_START {                                                                   \
    SondeTestDeadline *sonde_deadline_ = sonde_test_deadline_new (timeout_ms);     \
    while (!(cond))                                                                \
      {                                                                            \
        if (sonde_test_deadline_passed (sonde_deadline_))                          \
          {                                                                        \
            sonde_test_deadline_free (sonde_deadline_);                            \
            g_assertion_message (G_LOG_DOMAIN, __FILE__, __LINE__, G_STRFUNC,      \
                                 "timed out waiting for: " #cond);                 \
          }                                                                        \
        g_main_context_iteration (NULL, TRUE);                                     \
      }                                                                            \
    sonde_test_deadline_free (sonde_deadline_);                                    \
  } G_STMT_END

#define sonde_test_wait_until(cond) sonde_test_wait_until_full (cond, SONDE_TEST_TIMEOUT_MS)

/* Iterates the default main context for @ms milliseconds. */
void sonde_test_spin_for (guint ms);

/* Fake collector ---------------------------------------------------------- */

/* Fields: "value" (an integer counting collections, from 1), "text" (a
 * string) and "items" (an array of two objects). */
#define SONDE_TYPE_FAKE_COLLECTOR (sonde_fake_collector_get_type ())
G_DECLARE_FINAL_TYPE (SondeFakeCollector, sonde_fake_collector, SONDE, FAKE_COLLECTOR, SondeCollector)

SondeFakeCollector *sonde_fake_collector_new            (const char         *name);
/* While failing, collect() returns an error. */
void                sonde_fake_collector_set_failing    (SondeFakeCollector *self,
                                                         gboolean            failing);
guint               sonde_fake_collector_get_n_collected (SondeFakeCollector *self);

/* A collector whose start() always fails with "no such file". */
SondeCollector     *sonde_test_broken_collector_new      (const char         *name);

/* A collector whose collect() blocks until its gate is opened: a hung
 * NFS mount under statvfs, in miniature. It counts the collections that
 * entered and the most that ran at once. */
#define SONDE_TYPE_GATE_COLLECTOR (sonde_gate_collector_get_type ())
G_DECLARE_FINAL_TYPE (SondeGateCollector, sonde_gate_collector, SONDE, GATE_COLLECTOR, SondeCollector)

SondeGateCollector *sonde_test_gate_collector_new            (const char         *name);
void                sonde_test_gate_collector_open           (SondeGateCollector *self);
guint               sonde_test_gate_collector_get_entered    (SondeGateCollector *self);
guint               sonde_test_gate_collector_get_max_active (SondeGateCollector *self);

/* Server ------------------------------------------------------------------ */

typedef struct
{
  SondeEngine        *engine;
  SondeServer        *server;
  SondeFakeCollector *fake;    /* "fake", or NULL */
  SondeFakeCollector *other;   /* "other", or NULL */
} SondeTestServer;

/* A server listening on 127.0.0.1 on a free port; with_fakes adds the
 * "fake" and "other" collectors. */
SondeTestServer *sonde_test_server_new    (gboolean         with_fakes);
void             sonde_test_server_free   (SondeTestServer *self);
/* A server with the collector plugins of SONDE_PLUGIN_PATH, when it is
 * set. Unless each collector of the NULL-terminated list is then there,
 * skips the test and returns NULL. */
SondeTestServer *sonde_test_server_new_with_plugins (const char *first_required,
                                                     ...) G_GNUC_NULL_TERMINATED;
/* http://127.0.0.1:PORT@path */
char            *sonde_test_server_http_uri (SondeTestServer *self,
                                             const char      *path);

/* HTTP -------------------------------------------------------------------- */

typedef struct
{
  guint       status;
  char       *content_type;
  char       *allow;
  char       *cache_control;
  GBytes     *body;
  JsonObject *json;   /* the body, when it is a JSON object */
} SondeTestResponse;

/* A session that never looks up proxies. */
SoupSession       *sonde_test_session_new   (void);
/* Sends @msg and waits for the whole response; a JSON body is parsed. */
SondeTestResponse *sonde_test_http_send     (SoupMessage       *msg);
SondeTestResponse *sonde_test_http          (SondeTestServer   *server,
                                             const char        *method,
                                             const char        *path);
void               sonde_test_response_free (SondeTestResponse *response);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SondeTestResponse, sonde_test_response_free)

/* The "code" member of a JSON error body, or NULL. */
const char        *sonde_test_response_get_code (SondeTestResponse *response);
/* Tries a WebSocket handshake at @path (with its query) with @origin
 * (nullable); closes at once if it succeeds. Returns the HTTP status:
 * 101 when it was accepted. */
guint              sonde_test_websocket_handshake (SondeTestServer *server,
                                                   const char      *path,
                                                   const char      *origin);

/* WebSocket client -------------------------------------------------------- */

typedef struct
{
  JsonObject *object;   /* the frame, parsed */
  GBytes     *raw;      /* the frame's exact bytes */
  gboolean    taken;    /* already returned by a _next() call */
} SondeTestFrame;

typedef struct
{
  SoupSession             *session;
  SoupWebsocketConnection *connection;
  GPtrArray               *frames;    /* SondeTestFrame, in arrival order */
  guint                    n_binary;  /* binary frames received (none expected) */
  guint                    sync_serial;
  gboolean                 closed;
  gboolean                 native;    /* speaks the /ws/v1 protocol */
} SondeTestClient;

/* Connects to /ws/v1 (with @query, such as "metrics=fake.value", if
 * non-NULL) and waits for the handshake; fails the test otherwise. */
SondeTestClient *sonde_test_client_new      (SondeTestServer *server,
                                             const char      *query);
/* Connects to @path (with its query), for the other dialects' routes. */
SondeTestClient *sonde_test_client_new_for_path (SondeTestServer *server,
                                                 const char      *path);
/* Connects to ws://127.0.0.1:@port@path: another listener, such as a
 * compatibility port. */
SondeTestClient *sonde_test_client_new_for_port (guint            port,
                                                 const char      *path);
void             sonde_test_client_free     (SondeTestClient *self);
void             sonde_test_client_send     (SondeTestClient *self,
                                             const char      *format,
                                             ...) G_GNUC_PRINTF (2, 3);
void             sonde_test_client_send_bytes (SondeTestClient *self,
                                               SoupWebsocketDataType type,
                                               const void      *data,
                                               gsize            length);
/* The first frame not yet taken with "type" @type (and "subscription"
 * @subscription, unless NULL), waiting for it; marks it taken. The
 * result lives as long as the client. */
SondeTestFrame  *sonde_test_client_next_frame (SondeTestClient *self,
                                               const char      *type,
                                               const char      *subscription);
JsonObject      *sonde_test_client_next     (SondeTestClient *self,
                                             const char      *type,
                                             const char      *subscription);
/* The frame received at @index (taken or not), waiting for it. */
JsonObject      *sonde_test_client_frame_at (SondeTestClient *self,
                                             guint            index);
/* The next error, which must have code @code; returns it. */
JsonObject      *sonde_test_client_expect_error (SondeTestClient *self,
                                                 const char      *code);
/* Sends a ping with a fresh id and waits for its pong: proof that the
 * connection still works. */
void             sonde_test_client_ping     (SondeTestClient *self);
/* A ping, after which every frame received before its pong is marked
 * taken: what arrives next was sent after everything the client sent
 * before had been handled. */
void             sonde_test_client_sync     (SondeTestClient *self);
/* Frames not yet taken of @type (and @subscription, unless NULL). */
guint            sonde_test_client_count    (SondeTestClient *self,
                                             const char      *type,
                                             const char      *subscription);
/* Marks every frame received so far as taken. */
void             sonde_test_client_take_all (SondeTestClient *self);
/* Closes cleanly and waits for the close to complete. */
void             sonde_test_client_close    (SondeTestClient *self);

/* A raw TCP client that performs the WebSocket handshake at @path and then
 * never reads: closing it with unread data makes the kernel reset the
 * connection, an abrupt disconnect. */
GSocketConnection *sonde_test_raw_connect (SondeTestServer *server,
                                           const char      *path);

/* JSON helpers ------------------------------------------------------------ */

/* Asserts @timestamp is ISO 8601 UTC with milliseconds ("...T..:..:..mmmZ")
 * and returns it in milliseconds since the epoch. */
gint64      sonde_test_parse_timestamp (const char *timestamp);
/* Compact JSON of @object with members in their order. */
char       *sonde_test_to_json         (JsonObject *object);
/* Sorted member names, joined with ','. */
char       *sonde_test_members         (JsonObject *object);
/* Asserts the sorted member names of @object are @expected. */
void        sonde_test_assert_members  (JsonObject *object,
                                        const char *expected);
/* @member of @object, which must be an object. */
JsonObject *sonde_test_member_object   (JsonObject *object,
                                        const char *member);
/* Sorted "collector.field" names of a data object (collectors, each an
 * object of fields), joined with ','. */
char       *sonde_test_metrics_of      (JsonObject *data);

/* Native frames ----------------------------------------------------------- */

/* Checks the envelope of a snapshot of @subscription and returns its seq. */
gint64      sonde_test_check_snapshot        (JsonObject *frame,
                                              const char *subscription);
/* A snapshot's "data" object. */
JsonObject *sonde_test_snapshot_data         (JsonObject *frame);
/* Asserts a snapshot's data is exactly {"fake":{"value":N}} and returns N. */
gint64      sonde_test_check_only_fake_value (JsonObject *frame);

G_END_DECLS
