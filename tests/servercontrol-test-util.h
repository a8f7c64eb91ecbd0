/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "sonde-test-util.h"

G_BEGIN_DECLS

/*
 * Helpers of the servercontrol format's and the command tasks' tests
 * (test-servercontrol.c, test-exec.c): a server with a token and an
 * [exec] group, POST and GET /exec, and a task's frames as a
 * servercontrol client receives them.
 */

#define TEST_TOKEN          "s3cret"
#define SERVERCONTROL_PATH  "/ws/servercontrol?token=" TEST_TOKEN
/* Allowed in the tests; never a shell. */
#define TEST_PROGRAMS       "/usr/bin/printf;/bin/sleep;/usr/bin/python3"

/* A server with the token TEST_TOKEN, configured with "[exec]\n" @exec_keys
 * (NULL: no [exec] group). With @with_plugins, the collector plugins,
 * skipping the test (NULL) when cpu or memory is missing. */
SondeTestServer   *servercontrol_server_new (gboolean    with_plugins,
                                             const char *exec_keys);
/* "[exec]\nenabled=true\nallowed-programs=TEST_PROGRAMS\n" @extra_keys */
char              *exec_keys_enabled        (const char *extra_keys);

/* POST /exec on @port: @token and @content_type NULL for none. */
SondeTestResponse *exec_post_full           (guint       port,
                                             const char *token,
                                             const char *content_type,
                                             const char *body);
/* POST /exec with the token and application/json. */
SondeTestResponse *exec_post                (SondeTestServer *server,
                                             const char      *body);
/* Posts @body, asserts 202 and returns the task id. */
char              *exec_start               (SondeTestServer *server,
                                             const char      *body);
/* GET @path with the token. */
SondeTestResponse *exec_get                 (SondeTestServer *server,
                                             const char      *path);

/* What a servercontrol client got of one task, in order: task_start
 * first, then task_output frames, then task_complete (asserted). */
typedef struct
{
  JsonObject *start;
  GPtrArray  *chunks;      /* JsonObject: the task_output frames */
  GPtrArray  *raw_chunks;  /* GBytes: their exact bytes */
  JsonObject *complete;
  char       *output;      /* the chunks' outputs, joined */
  gint64      exit_code;
} TaskRun;

/* Waits (up to @timeout_ms) for task_complete of @task_id on @client. */
TaskRun *task_run_wait   (SondeTestClient *client,
                          const char      *task_id,
                          guint            timeout_ms);
void     task_run_free   (TaskRun         *run);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TaskRun, task_run_free)

/* Sends {"type": "ping"} and waits for the pong; the frames before it
 * are left untaken. */
JsonObject *servercontrol_ping (SondeTestClient *client);

G_END_DECLS
