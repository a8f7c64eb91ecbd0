/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

#include "sonde-format-private.h"
#include "sonde-server.h"

G_BEGIN_DECLS

/*
 * The servercontrol format (docs/formats/servercontrol.md) and its
 * command tasks (POST /exec), in five files:
 *
 *   sonde-servercontrol.c         the WebSocket format, its entry in the
 *                                 format table and its state
 *   sonde-servercontrol-messages.c  what clients send, read from text
 *                                 alone: POST /exec bodies, WebSocket
 *                                 messages (tests/fuzz feeds them)
 *   sonde-servercontrol-exec.c    the task runner: the [exec] settings,
 *                                 the allowlist, starting tasks, the list
 *                                 of running and recent ones, their events
 *   sonde-servercontrol-task.c    one task's child process: its session,
 *                                 pseudo-terminal, output, timeout and end
 *   sonde-servercontrol-routes.c  POST /exec, GET /exec[/TASK_ID]
 *
 * A task's start, output and end are engine events (task_start,
 * task_output, task_complete) so that every format streams them:
 *
 *   task_start     {task_id, command}
 *   task_output    {task_id, output}            one per chunk, in order
 *   task_complete  {task_id, exit_code, timed_out, output_bytes,
 *                   output_truncated}           after the last chunk
 *
 * One runner per server, off until configured. Everything runs on the
 * main context.
 */

extern const SondeFormat _sonde_servercontrol_format;

typedef struct _SondeExec     SondeExec;
typedef struct _SondeExecTask SondeExecTask;

/* The state one server keeps for the format. */
typedef struct
{
  SondeServer *server;   /* unowned: the state lives in it */
  GPtrArray   *clients;  /* the WebSocket clients, unowned */
  SondeExec   *exec;     /* the command task runner */
} SondeServercontrol;

/* The runner --------------------------------------------------------------- */

#define SONDE_EXEC_ERROR (_sonde_exec_error_quark ())

typedef enum
{
  SONDE_EXEC_ERROR_DISABLED,     /* 404 exec_disabled */
  SONDE_EXEC_ERROR_NOT_ALLOWED,  /* 403 program_not_allowed */
  SONDE_EXEC_ERROR_TOO_MANY,     /* 429 too_many_tasks */
  SONDE_EXEC_ERROR_SPAWN,        /* 500 spawn_failed */
} SondeExecError;

#define SONDE_EXEC_CONFIG_GROUP             "exec"
#define SONDE_EXEC_DEFAULT_TIMEOUT_SECONDS  300
#define SONDE_EXEC_DEFAULT_MAX_OUTPUT_BYTES (1024 * 1024)
#define SONDE_EXEC_DEFAULT_MAX_CONCURRENT   4
/* GET /exec keeps this many finished tasks, and each task the end of
 * its output, so that a client that connects late can catch up. */
#define SONDE_EXEC_MAX_FINISHED             32
#define SONDE_EXEC_OUTPUT_TAIL_BYTES        (64 * 1024)
/* After SIGTERM at the timeout, SIGKILL this much later. */
#define SONDE_EXEC_KILL_GRACE_SECONDS       5
/* One read of a task's terminal takes at most this much before sending
 * it as a chunk: a fast writer's output is coalesced, a slow one's goes
 * at once. */
#define SONDE_EXEC_READ_CHUNK               (64 * 1024)

typedef struct
{
  char *name;  /* as configured: "python3" or "/usr/bin/printf" */
  char *path;  /* absolute: what runs */
} SondeExecProgram;

struct _SondeExec
{
  SondeServer *server;            /* unowned: the runner is in its state */
  SondeEngine *engine;            /* raises the events */

  gboolean     enabled;
  GPtrArray   *programs;          /* SondeExecProgram */
  char        *working_directory; /* NULL: sonded's own */
  guint        timeout_seconds;
  guint        max_output_bytes;
  guint        max_concurrent;

  guint64      next_id;
  GPtrArray   *running;           /* SondeExecTask, oldest first */
  GQueue       finished;          /* SondeExecTask, newest first */
  char        *read_buffer;       /* SONDE_EXEC_READ_CHUNK bytes, shared by the reads */
};

GQuark         _sonde_exec_error_quark   (void);

SondeExec     *_sonde_exec_new           (SondeServer        *server);
/* Kills the tasks still running, without events. */
void           _sonde_exec_free          (SondeExec          *self);
/* The [exec] group: applied whole, or not at all. A configuration
 * without the group gets the defaults (disabled). */
gboolean       _sonde_exec_configure     (SondeExec          *self,
                                          GKeyFile           *keyfile,
                                          GError            **error);
/* Enabled, and the server has a token (without one, exec stays off even
 * if configured: the token may have been removed since). */
gboolean       _sonde_exec_is_enabled    (SondeExec          *self);

/* Starts @argv, whose first element is a program name or absolute path
 * that must be allowed. @command is what task_start shows; @caller (the
 * client's address) goes to the log. The task_start event has been
 * raised when this returns. */
SondeExecTask *_sonde_exec_start         (SondeExec          *self,
                                          const char * const *argv,
                                          const char         *command,
                                          const char         *caller,
                                          GError            **error);
/* Running tasks, oldest first, then finished ones, newest first. */
GPtrArray     *_sonde_exec_list_tasks    (SondeExec          *self);
SondeExecTask *_sonde_exec_lookup        (SondeExec          *self,
                                          const char         *task_id);
guint          _sonde_exec_get_n_running (SondeExec          *self);
guint          _sonde_exec_get_max_concurrent (SondeExec     *self);

const char    *_sonde_exec_task_get_id   (SondeExecTask      *task);
const char    *_sonde_exec_task_get_command (SondeExecTask   *task);
/* Status, exit code, times and output size; with @with_output, the last
 * SONDE_EXEC_OUTPUT_TAIL_BYTES of output and where it starts. */
JsonObject    *_sonde_exec_task_to_json  (SondeExecTask      *task,
                                          gboolean            with_output);

/* For the tasks: raises @event_type with @data as an engine event, which
 * every format hears (the handlers may stop the server, and free @self),
 * and moves a completed task from the running to the finished ones. */
void           _sonde_exec_emit          (SondeExec          *self,
                                          const char         *event_type,
                                          JsonObject         *data);
void           _sonde_exec_retire        (SondeExec          *self,
                                          SondeExecTask      *task);

/* One task ----------------------------------------------------------------- */

struct _SondeExecTask
{
  guint          ref_count;
  SondeExec     *exec;           /* NULL once the runner is gone */
  char          *id;
  char          *command;
  char          *program;
  char          *caller;

  GSubprocess   *subprocess;
  GCancellable  *cancellable;
  GPid           pid;            /* also the process group and session */
  int            master_fd;      /* -1 once the output ended */
  guint          read_source;
  guint          timeout_source;
  guint          kill_source;
  guint          drain_source;

  guint64        max_output_bytes;
  gint64         started_us;     /* wall clock */
  gint64         started_monotonic_us;
  gint64         finished_us;
  int            exit_code;

  guint64        output_bytes;   /* written by the program */
  guint64        sent_bytes;     /* of those, sent as output */
  char           pending[4];     /* the start of a cut UTF-8 sequence */
  gsize          n_pending;
  GString       *tail;           /* the end of what was sent */
  guint64        text_length;    /* all that was sent, as text */

  guint          exited : 1;
  guint          output_ended : 1;
  guint          completed : 1;
  guint          timed_out : 1;
  guint          truncated : 1;
};

/* Runs @program (an allowed absolute path) with the rest of @argv, in a
 * session of its own on a new pseudo-terminal; nothing is watched yet. */
SondeExecTask *_sonde_exec_task_spawn    (SondeExec          *exec,
                                          const char         *program,
                                          const char * const *argv,
                                          const char         *id,
                                          const char         *command,
                                          const char         *caller,
                                          GError            **error);
/* Reads its output, waits for its end, and keeps its timeout. */
void           _sonde_exec_task_watch    (SondeExecTask      *task,
                                          guint               timeout_seconds);
/* The runner is going away: the task is killed and forgotten. */
void           _sonde_exec_task_detach   (SondeExecTask      *task);
SondeExecTask *_sonde_exec_task_ref      (SondeExecTask      *task);
void           _sonde_exec_task_unref    (SondeExecTask      *task);

/* Splits an incoming pseudo-terminal chunk so that no UTF-8 sequence is
 * cut: returns how many bytes of @data to send now, the rest (at most 3
 * bytes) waiting for the next chunk. Exposed for tests. */
gsize          _sonde_exec_utf8_complete_prefix (const char  *data,
                                                 gsize        length);

/* What clients send -------------------------------------------------------- */

/* A POST /exec body: {"command": "..."} split with shell quoting rules,
 * or {"argv": [...]}. Returns the argv, and in @command the text that
 * task_start shows; or NULL and an error to answer with 400. */
char         **_sonde_servercontrol_parse_exec    (const char            *text,
                                                   gsize                  length,
                                                   char                 **command,
                                                   GError               **error);
/* A WebSocket message: NULL for a ping (the only message), or what the
 * error frame says. */
char          *_sonde_servercontrol_parse_message (SoupWebsocketDataType  type,
                                                   const char            *text,
                                                   gsize                  length);

/* The routes ---------------------------------------------------------------- */

/* POST /exec and GET /exec[/TASK_ID] on @soup_server, behind the access
 * checks. */
void           _sonde_servercontrol_routes_register (SondeServercontrol *self,
                                                     SoupServer         *soup_server);

G_END_DECLS
