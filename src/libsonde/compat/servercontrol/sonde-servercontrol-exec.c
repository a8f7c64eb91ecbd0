/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "sonde-engine-private.h"
#include "sonde-servercontrol-private.h"

/*
 * The command task runner: what may run, the tasks running and the last
 * ones finished, and their events. One per server, off until the [exec]
 * group enables it:
 *
 *   enabled            true to accept commands; needs the server's token
 *   allowed-programs   names (looked up in PATH once, here) or absolute
 *                      paths: the programs that may run
 *   working-directory  an absolute path; default: sonded's own
 *   timeout-seconds    1-86400, default 300; then SIGTERM, SIGKILL later
 *   max-output-bytes   1-2147483647, default 1 MiB: output sent per task
 *   max-concurrent     1-256, default 4: tasks running at once
 *
 * No shell, ever: the program is exec'd with the argv given, so "$(id)"
 * or "; rm -rf /" reach it as literal arguments. The program must be on
 * the allowlist, which is resolved to absolute paths once, when
 * configured; at run time nothing is looked up in PATH. A task's child
 * process is sonde-servercontrol-task.c's.
 */

G_DEFINE_QUARK (sonde-exec-error-quark, _sonde_exec_error)

static void
program_free (SondeExecProgram *program)
{
  g_free (program->name);
  g_free (program->path);
  g_free (program);
}

SondeExec *
_sonde_exec_new (SondeServer *server)
{
  SondeExec *self = g_new0 (SondeExec, 1);

  self->server = server;
  self->engine = g_object_ref (sonde_server_get_engine (server));
  self->programs = g_ptr_array_new_with_free_func ((GDestroyNotify) program_free);
  self->timeout_seconds = SONDE_EXEC_DEFAULT_TIMEOUT_SECONDS;
  self->max_output_bytes = SONDE_EXEC_DEFAULT_MAX_OUTPUT_BYTES;
  self->max_concurrent = SONDE_EXEC_DEFAULT_MAX_CONCURRENT;
  self->running = g_ptr_array_new_with_free_func ((GDestroyNotify) _sonde_exec_task_unref);
  g_queue_init (&self->finished);
  self->read_buffer = g_malloc (SONDE_EXEC_READ_CHUNK);
  return self;
}

void
_sonde_exec_free (SondeExec *self)
{
  for (guint i = 0; i < self->running->len; i++)
    _sonde_exec_task_detach (g_ptr_array_index (self->running, i));
  for (GList *l = self->finished.head; l != NULL; l = l->next)
    _sonde_exec_task_detach (l->data);

  g_ptr_array_unref (self->running);
  g_queue_clear_full (&self->finished, (GDestroyNotify) _sonde_exec_task_unref);
  g_ptr_array_unref (self->programs);
  g_free (self->working_directory);
  g_free (self->read_buffer);
  g_object_unref (self->engine);
  g_free (self);
}

gboolean
_sonde_exec_is_enabled (SondeExec *self)
{
  return self->enabled && sonde_server_get_token (self->server) != NULL;
}

/* Events -------------------------------------------------------------------- */

void
_sonde_exec_emit (SondeExec  *self,
                  const char *event_type,
                  JsonObject *data)
{
  /* A handler may stop the server, and with it this runner: the engine
   * is kept for the emission's length. */
  g_autoptr(SondeEngine) engine = g_object_ref (self->engine);
  g_autoptr(SondeEvent) event = sonde_event_new (event_type, "exec", g_get_real_time (), data);

  /* At once, on the main context: a chunk of output costs no extra main
   * loop round trip. */
  _sonde_engine_emit_event (engine, event);
}

void
_sonde_exec_retire (SondeExec     *self,
                    SondeExecTask *task)
{
  g_queue_push_head (&self->finished, _sonde_exec_task_ref (task));
  g_ptr_array_remove (self->running, task);

  while (g_queue_get_length (&self->finished) > SONDE_EXEC_MAX_FINISHED)
    _sonde_exec_task_unref (g_queue_pop_tail (&self->finished));
}

/* Starting ---------------------------------------------------------------- */

/* The allowed path for @requested: an absolute path must be allowed as
 * such; a bare name must be an allowed program's configured name or
 * file name. Nothing else (no "./x", no "bin/x") is allowed, and nothing
 * is looked up in PATH now. */
static const char *
resolve_program (SondeExec  *self,
                 const char *requested)
{
  gboolean bare = strchr (requested, '/') == NULL;

  if (*requested == '\0')
    return NULL;

  for (guint i = 0; i < self->programs->len; i++)
    {
      SondeExecProgram *program = g_ptr_array_index (self->programs, i);

      if (bare)
        {
          g_autofree char *file_name = g_path_get_basename (program->path);

          if (g_str_equal (requested, program->name) || g_str_equal (requested, file_name))
            return program->path;
        }
      else if (g_str_equal (requested, program->path))
        return program->path;
    }

  return NULL;
}

static char *
allowed_list (SondeExec *self)
{
  GString *list = g_string_new (NULL);

  for (guint i = 0; i < self->programs->len; i++)
    {
      SondeExecProgram *program = g_ptr_array_index (self->programs, i);

      if (i > 0)
        g_string_append (list, ", ");
      g_string_append (list, program->path);
    }

  return g_string_free (list, FALSE);
}

SondeExecTask *
_sonde_exec_start (SondeExec           *self,
                   const char * const  *argv,
                   const char          *command,
                   const char          *caller,
                   GError             **error)
{
  g_autoptr(JsonObject) object = NULL;
  g_autofree char *id = NULL;
  const char *program;
  SondeExecTask *task;

  g_return_val_if_fail (argv != NULL && argv[0] != NULL, NULL);

  if (caller == NULL)
    caller = "(unknown)";

  if (!_sonde_exec_is_enabled (self))
    {
      g_set_error_literal (error, SONDE_EXEC_ERROR, SONDE_EXEC_ERROR_DISABLED,
                           "Command execution is disabled on this server");
      return NULL;
    }

  program = resolve_program (self, argv[0]);
  if (program == NULL)
    {
      g_autofree char *allowed = allowed_list (self);

      g_message ("exec: refused %s for %s: not an allowed program", argv[0], caller);
      g_set_error (error, SONDE_EXEC_ERROR, SONDE_EXEC_ERROR_NOT_ALLOWED,
                   "Program '%s' is not allowed (allowed: %s)", argv[0], allowed);
      return NULL;
    }

  if (self->running->len >= self->max_concurrent)
    {
      g_set_error (error, SONDE_EXEC_ERROR, SONDE_EXEC_ERROR_TOO_MANY,
                   "%u tasks are running, the most this server allows (max-concurrent)",
                   self->running->len);
      return NULL;
    }

  id = g_strdup_printf ("%" G_GUINT64_FORMAT, self->next_id + 1);
  task = _sonde_exec_task_spawn (self, program, argv, id, command, caller, error);
  if (task == NULL)
    {
      g_message ("exec: %s for %s failed to start: %s", program, caller,
                 error != NULL && *error != NULL ? (*error)->message : "");
      return NULL;
    }

  self->next_id++;
  g_ptr_array_add (self->running, task);

  g_message ("exec: task %s started for %s: %s (pid %d)", task->id, task->caller,
             task->program, (int) task->pid);

  /* Announced before any output can be read: that needs the main loop. */
  object = json_object_new ();
  json_object_set_string_member (object, "task_id", task->id);
  json_object_set_string_member (object, "command", task->command);
  _sonde_exec_task_ref (task);
  _sonde_exec_emit (self, "task_start", object);

  /* A handler stopped the server, which killed the task. */
  if (task->exec == NULL)
    {
      _sonde_exec_task_unref (task);
      g_set_error_literal (error, SONDE_EXEC_ERROR, SONDE_EXEC_ERROR_SPAWN,
                           "The server stopped while the task started");
      return NULL;
    }
  _sonde_exec_task_unref (task);

  _sonde_exec_task_watch (task, self->timeout_seconds);
  return task;
}

/* The list of tasks --------------------------------------------------------- */

guint
_sonde_exec_get_n_running (SondeExec *self)
{
  return self->running->len;
}

guint
_sonde_exec_get_max_concurrent (SondeExec *self)
{
  return self->max_concurrent;
}

GPtrArray *
_sonde_exec_list_tasks (SondeExec *self)
{
  GPtrArray *tasks = g_ptr_array_new ();

  for (guint i = 0; i < self->running->len; i++)
    g_ptr_array_add (tasks, g_ptr_array_index (self->running, i));
  for (GList *l = self->finished.head; l != NULL; l = l->next)
    g_ptr_array_add (tasks, l->data);

  return tasks;
}

SondeExecTask *
_sonde_exec_lookup (SondeExec  *self,
                    const char *task_id)
{
  for (guint i = 0; i < self->running->len; i++)
    {
      SondeExecTask *task = g_ptr_array_index (self->running, i);

      if (g_str_equal (task->id, task_id))
        return task;
    }

  for (GList *l = self->finished.head; l != NULL; l = l->next)
    if (g_str_equal (((SondeExecTask *) l->data)->id, task_id))
      return l->data;

  return NULL;
}

const char *
_sonde_exec_task_get_id (SondeExecTask *task)
{
  return task->id;
}

const char *
_sonde_exec_task_get_command (SondeExecTask *task)
{
  return task->command;
}

JsonObject *
_sonde_exec_task_to_json (SondeExecTask *task,
                          gboolean       with_output)
{
  JsonObject *object = json_object_new ();

  json_object_set_string_member (object, "task_id", task->id);
  json_object_set_string_member (object, "command", task->command);
  json_object_set_string_member (object, "program", task->program);
  json_object_set_string_member (object, "status", task->completed ? "finished" : "running");
  if (task->completed)
    json_object_set_int_member (object, "exit_code", task->exit_code);
  else
    json_object_set_null_member (object, "exit_code");
  json_object_set_boolean_member (object, "timed_out", task->timed_out);
  json_object_set_int_member (object, "started", task->started_us / 1000);
  if (task->completed)
    json_object_set_int_member (object, "finished", task->finished_us / 1000);
  else
    json_object_set_null_member (object, "finished");
  json_object_set_int_member (object, "output_bytes", (gint64) task->output_bytes);
  json_object_set_boolean_member (object, "output_truncated", task->truncated);

  if (with_output)
    {
      const char *text = task->tail->str;
      gsize length = task->tail->len;

      /* The tail holds up to twice the bound between trims. */
      if (length > SONDE_EXEC_OUTPUT_TAIL_BYTES)
        {
          gsize cut = length - SONDE_EXEC_OUTPUT_TAIL_BYTES;

          while (cut < length && (text[cut] & 0xC0) == 0x80)
            cut++;
          text += cut;
          length -= cut;
        }

      json_object_set_string_member (object, "output", text);
      /* Where "output" starts in the whole output sent (as text), so that
       * a client can tell whether it missed some. */
      json_object_set_int_member (object, "output_offset", (gint64) (task->text_length - length));
    }

  return object;
}

/* Configuration ------------------------------------------------------------ */

#define GROUP SONDE_EXEC_CONFIG_GROUP

static gboolean
read_boolean (GKeyFile    *keyfile,
              const char  *key,
              gboolean    *value,
              GError     **error)
{
  g_autofree char *text = g_key_file_get_value (keyfile, GROUP, key, NULL);

  if (text == NULL)
    return TRUE;

  g_strstrip (text);
  if (g_ascii_strcasecmp (text, "true") == 0)
    *value = TRUE;
  else if (g_ascii_strcasecmp (text, "false") == 0)
    *value = FALSE;
  else
    {
      _sonde_format_set_config_error (error, GROUP, key, "%s is not true or false", text);
      return FALSE;
    }

  return TRUE;
}

/* The value stripped of surrounding spaces, escapes such as \s decoded. */
static gboolean
read_string (GKeyFile    *keyfile,
             const char  *key,
             char       **value,
             GError     **error)
{
  char *text;

  if (!_sonde_format_read_string (keyfile, GROUP, key, &text, error))
    return FALSE;
  if (text == NULL)
    return TRUE;

  g_free (*value);
  *value = g_strstrip (text);
  return TRUE;
}

/* A ;-separated list; empty items are dropped. */
static gboolean
read_list (GKeyFile    *keyfile,
           const char  *key,
           GStrv       *value,
           GError     **error)
{
  g_autoptr(GStrvBuilder) builder = NULL;
  g_auto(GStrv) list = NULL;

  if (!_sonde_format_read_string_list (keyfile, GROUP, key, &list, error))
    return FALSE;
  if (list == NULL)
    return TRUE;

  builder = g_strv_builder_new ();
  for (guint i = 0; list != NULL && list[i] != NULL; i++)
    {
      char *item = g_strstrip (list[i]);

      if (*item != '\0')
        g_strv_builder_add (builder, item);
    }

  g_strfreev (*value);
  *value = g_strv_builder_end (builder);
  return TRUE;
}

/* Programs that run whatever they are told: allowing one allows anything. */
static gboolean
is_command_runner (const char *path)
{
  static const char * const runners[] = {
    "sh", "bash", "dash", "zsh", "ksh", "mksh", "fish", "csh", "tcsh", "busybox", "env",
    "sudo", "su", "xargs", NULL
  };
  g_autofree char *name = g_path_get_basename (path);

  return g_strv_contains (runners, name);
}

static gboolean
resolve_programs (char       **names,
                  GPtrArray   *programs,
                  GError     **error)
{
  for (guint i = 0; names != NULL && names[i] != NULL; i++)
    {
      const char *name = names[i];
      SondeExecProgram *program;
      char *path;

      if (!g_path_is_absolute (name) && strchr (name, '/') != NULL)
        {
          _sonde_format_set_config_error (error, GROUP, "allowed-programs",
                                          "%s: give a program name (looked up in PATH) or an absolute path",
                                          name);
          return FALSE;
        }

      path = g_find_program_in_path (name);
      if (path == NULL)
        {
          if (g_path_is_absolute (name))
            _sonde_format_set_config_error (error, GROUP, "allowed-programs",
                                            "%s is not an executable file", name);
          else
            _sonde_format_set_config_error (error, GROUP, "allowed-programs",
                                            "no program named '%s' in PATH", name);
          return FALSE;
        }

      if (is_command_runner (path))
        g_message ("exec: [%s] allowed-programs: %s runs any command it is given: "
                   "allowing it allows every program", GROUP, path);

      program = g_new0 (SondeExecProgram, 1);
      program->name = g_strdup (name);
      program->path = path;
      g_ptr_array_add (programs, program);
    }

  return TRUE;
}

gboolean
_sonde_exec_configure (SondeExec  *self,
                       GKeyFile   *keyfile,
                       GError    **error)
{
  static const char * const keys[] = {
    "enabled", "allowed-programs", "working-directory", "timeout-seconds",
    "max-output-bytes", "max-concurrent", NULL
  };
  g_autoptr(GPtrArray) programs = g_ptr_array_new_with_free_func ((GDestroyNotify) program_free);
  g_autofree char *working_directory = NULL;
  g_auto(GStrv) names = NULL;
  guint timeout_seconds = SONDE_EXEC_DEFAULT_TIMEOUT_SECONDS;
  guint max_output_bytes = SONDE_EXEC_DEFAULT_MAX_OUTPUT_BYTES;
  guint max_concurrent = SONDE_EXEC_DEFAULT_MAX_CONCURRENT;
  gboolean enabled = FALSE;

  /* Absent, the group's defaults apply: exec is off. */
  if (!_sonde_format_check_keys (keyfile, GROUP, keys, error) ||
      !read_boolean (keyfile, "enabled", &enabled, error) ||
      !read_list (keyfile, "allowed-programs", &names, error) ||
      !read_string (keyfile, "working-directory", &working_directory, error) ||
      !_sonde_format_read_uint (keyfile, GROUP, "timeout-seconds", 1, 86400,
                                "%s is not an integer between 1 and 86400", &timeout_seconds, error) ||
      !_sonde_format_read_uint (keyfile, GROUP, "max-output-bytes", 1, G_MAXINT32,
                                "%s is not an integer between 1 and 2147483647", &max_output_bytes, error) ||
      !_sonde_format_read_uint (keyfile, GROUP, "max-concurrent", 1, 256,
                                "%s is not an integer between 1 and 256", &max_concurrent, error))
    return FALSE;

  if (working_directory != NULL && *working_directory == '\0')
    g_clear_pointer (&working_directory, g_free);
  if (working_directory != NULL &&
      (!g_path_is_absolute (working_directory) || !g_file_test (working_directory, G_FILE_TEST_IS_DIR)))
    {
      _sonde_format_set_config_error (error, GROUP, "working-directory",
                                      "%s is not an absolute path to a directory", working_directory);
      return FALSE;
    }

  if (!resolve_programs (names, programs, error))
    return FALSE;

  if (enabled && programs->len == 0)
    {
      _sonde_format_set_config_error (error, GROUP, "allowed-programs",
                                      "missing: enabled=true needs at least one program");
      return FALSE;
    }

  /* Whoever can reach the port could run programs: never without a token.
   * sonded sets its token before it configures the formats. */
  if (enabled && sonde_server_get_token (self->server) == NULL)
    {
      _sonde_format_set_config_error (error, GROUP, "enabled",
                                      "command execution needs a token: set [server] token");
      return FALSE;
    }

  self->enabled = enabled;
  g_ptr_array_unref (self->programs);
  self->programs = g_steal_pointer (&programs);
  g_free (self->working_directory);
  self->working_directory = g_steal_pointer (&working_directory);
  self->timeout_seconds = timeout_seconds;
  self->max_output_bytes = max_output_bytes;
  self->max_concurrent = max_concurrent;

  if (enabled)
    g_message ("exec: command execution enabled for %u program%s", self->programs->len,
               self->programs->len == 1 ? "" : "s");
  return TRUE;
}
