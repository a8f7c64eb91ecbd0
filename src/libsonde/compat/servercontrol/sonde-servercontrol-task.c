/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pty.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <termios.h>
#include <unistd.h>

#include <gio/gio.h>
#include <glib-unix.h>

#include "sonde-servercontrol-private.h"

/*
 * One command task's child process, from its start to its end. What it
 * guarantees, and why:
 *
 * - The child gets its own session (setsid), so that the timeout's
 *   SIGTERM and SIGKILL reach everything it started, and a minimal
 *   environment: sonded's own (which may hold secrets) is not passed on.
 * - Its stdout and stderr are one pseudo-terminal: programs then flush
 *   each line (or write) as they would in a terminal, rather than
 *   holding 4 KiB in a pipe buffer, which is what makes live output live.
 *   Output post-processing is off, so the bytes are the program's own
 *   ("\n", not "\r\n").
 * - Output is read as it arrives, never waiting for a newline; each read
 *   is one task_output event. Past max-output-bytes it is read and thrown
 *   away (the program must not block on a full terminal), and one last
 *   chunk says so.
 * - task_complete comes once the program has exited *and* its output has
 *   ended (EIO on the terminal's master: every copy of the other end is
 *   closed), so that it follows the last chunk.
 *
 * The runner (sonde-servercontrol-exec.c) decides what may run and keeps
 * the list of tasks.
 */

/* A program that exits while something it started in the background
 * still holds the terminal would never end its output: after this long
 * the task completes anyway and what remains of its session is killed. */
#define DRAIN_GRACE_MS 2000

SondeExecTask *
_sonde_exec_task_ref (SondeExecTask *task)
{
  task->ref_count++;
  return task;
}

void
_sonde_exec_task_unref (SondeExecTask *task)
{
  if (--task->ref_count > 0)
    return;

  g_assert (task->master_fd < 0);
  g_assert (task->read_source == 0 && task->timeout_source == 0 &&
            task->kill_source == 0 && task->drain_source == 0);

  g_clear_object (&task->subprocess);
  g_clear_object (&task->cancellable);
  g_string_free (task->tail, TRUE);
  g_free (task->id);
  g_free (task->command);
  g_free (task->program);
  g_free (task->caller);
  g_free (task);
}

static void
signal_group (SondeExecTask *task,
              int            signal_number)
{
  /* Negative: the whole process group, which setsid() made the child's. */
  if (task->pid > 0 && kill (-task->pid, signal_number) < 0 && errno != ESRCH)
    g_warning ("exec: cannot signal task %s (process group %d): %s",
               task->id, (int) task->pid, g_strerror (errno));
}

static void
close_master (SondeExecTask *task)
{
  g_clear_handle_id (&task->read_source, g_source_remove);
  if (task->master_fd >= 0)
    {
      close (task->master_fd);
      task->master_fd = -1;
    }
}

static void
emit (SondeExecTask *task,
      const char    *event_type,
      JsonObject    *data)
{
  if (task->exec != NULL)
    _sonde_exec_emit (task->exec, event_type, data);
}

/* Output ------------------------------------------------------------------ */

gsize
_sonde_exec_utf8_complete_prefix (const char *data,
                                  gsize       length)
{
  /* The lead byte of the last sequence is at most 3 bytes back. */
  for (gsize back = 1; back <= 3 && back <= length; back++)
    {
      guchar c = data[length - back];
      gsize needed;

      if ((c & 0xC0) == 0x80)
        continue;
      if (c < 0x80)
        return length;
      else if ((c & 0xE0) == 0xC0)
        needed = 2;
      else if ((c & 0xF0) == 0xE0)
        needed = 3;
      else if ((c & 0xF8) == 0xF0)
        needed = 4;
      else
        return length;  /* not a lead byte: invalid, nothing to wait for */

      return back < needed ? length - back : length;
    }

  return length;
}

static void
keep_tail (SondeExecTask *task,
           const char    *text)
{
  g_string_append (task->tail, text);

  /* Trimmed by halves, so that appending stays cheap. */
  if (task->tail->len > 2 * SONDE_EXEC_OUTPUT_TAIL_BYTES)
    {
      gsize cut = task->tail->len - SONDE_EXEC_OUTPUT_TAIL_BYTES;

      while (cut < task->tail->len && (task->tail->str[cut] & 0xC0) == 0x80)
        cut++;
      g_string_erase (task->tail, 0, cut);
    }
}

/* One task_output event. The wire is JSON, so the chunk must be UTF-8:
 * what is not (a binary's bytes, a NUL) becomes U+FFFD. */
static void
send_text (SondeExecTask *task,
           const char    *data,
           gsize          length)
{
  g_autoptr(JsonObject) object = NULL;
  g_autofree char *text = NULL;

  if (length == 0)
    return;

  text = g_utf8_make_valid (data, length);
  keep_tail (task, text);
  task->text_length += strlen (text);

  object = json_object_new ();
  json_object_set_string_member (object, "task_id", task->id);
  json_object_set_string_member (object, "output", text);
  emit (task, "task_output", object);
}

/* Sends what the program wrote, within max-output-bytes. A UTF-8 sequence
 * cut by the read waits for its end, unless @final. */
static void
deliver (SondeExecTask *task,
         const char    *data,
         gsize          length,
         gboolean       final)
{
  g_autofree char *joined = NULL;
  guint64 room;
  gsize take;

  if (task->truncated)
    return;

  if (task->n_pending > 0)
    {
      joined = g_malloc (task->n_pending + length);
      memcpy (joined, task->pending, task->n_pending);
      if (length > 0)
        memcpy (joined + task->n_pending, data, length);
      data = joined;
      length += task->n_pending;
      task->n_pending = 0;
    }

  if (length == 0)
    return;

  room = task->max_output_bytes - task->sent_bytes;
  if (length > room)
    {
      g_autofree char *note = NULL;

      take = _sonde_exec_utf8_complete_prefix (data, room);
      send_text (task, data, take);
      task->sent_bytes += take;
      task->truncated = TRUE;

      note = g_strdup_printf ("\n[sonde: output truncated at %" G_GUINT64_FORMAT
                              " bytes (max-output-bytes); the rest is dropped]\n",
                              task->max_output_bytes);
      send_text (task, note, strlen (note));
      return;
    }

  /* The cut sequence is kept before sending: @data may be the runner's
   * read buffer, gone if an event handler stopped the server. */
  take = final ? length : _sonde_exec_utf8_complete_prefix (data, length);
  task->n_pending = length - take;
  g_assert (task->n_pending < sizeof task->pending);
  memcpy (task->pending, data + take, task->n_pending);

  send_text (task, data, take);
  task->sent_bytes += take;
}

/* Completion -------------------------------------------------------------- */

static void
maybe_complete (SondeExecTask *task)
{
  g_autoptr(JsonObject) object = NULL;
  SondeExec *exec = task->exec;

  if (exec == NULL || task->completed || !task->exited || !task->output_ended)
    return;

  task->completed = TRUE;
  task->finished_us = g_get_real_time ();
  g_clear_handle_id (&task->drain_source, g_source_remove);

  g_message ("exec: task %s for %s: %s exited with code %d after %.1f s%s%s",
             task->id, task->caller, task->program, task->exit_code,
             (g_get_monotonic_time () - task->started_monotonic_us) / (double) G_USEC_PER_SEC,
             task->timed_out ? " (killed at its timeout)" : "",
             task->truncated ? " (output truncated)" : "");

  /* Listed as finished by the time anyone hears of it. */
  _sonde_exec_task_ref (task);
  _sonde_exec_retire (exec, task);

  object = json_object_new ();
  json_object_set_string_member (object, "task_id", task->id);
  json_object_set_int_member (object, "exit_code", task->exit_code);
  json_object_set_boolean_member (object, "timed_out", task->timed_out);
  json_object_set_int_member (object, "output_bytes", (gint64) task->output_bytes);
  json_object_set_boolean_member (object, "output_truncated", task->truncated);
  emit (task, "task_complete", object);
  _sonde_exec_task_unref (task);
}

static void
end_output (SondeExecTask *task)
{
  deliver (task, NULL, 0, TRUE);
  close_master (task);
  task->output_ended = TRUE;
  maybe_complete (task);
}

/* Reads what is there, up to SONDE_EXEC_READ_CHUNK, and sends it as one
 * chunk. Returns TRUE when the output has ended. */
static gboolean
read_available (SondeExecTask *task)
{
  char *buffer = task->exec->read_buffer;
  gboolean ended = FALSE;
  gsize length = 0;

  while (length < SONDE_EXEC_READ_CHUNK)
    {
      gssize n = read (task->master_fd, buffer + length, SONDE_EXEC_READ_CHUNK - length);

      if (n > 0)
        {
          length += n;
          continue;
        }
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        break;

      /* EIO (Linux, once every copy of the other end is closed and the
       * buffer is drained), end of file, or a real error: the end. */
      if (n < 0 && errno != EIO)
        g_message ("exec: task %s: reading its output: %s", task->id, g_strerror (errno));
      ended = TRUE;
      break;
    }

  task->output_bytes += length;
  if (length > 0)
    deliver (task, buffer, length, FALSE);

  return ended;
}

static gboolean
read_cb (int           fd,
         GIOCondition  condition,
         gpointer      user_data)
{
  SondeExecTask *task = user_data;
  gboolean ended;

  /* An event handler may stop the server, and with it the runner. */
  _sonde_exec_task_ref (task);
  ended = read_available (task);

  if (task->exec == NULL)
    {
      _sonde_exec_task_unref (task);
      return G_SOURCE_REMOVE;
    }

  if (ended)
    {
      task->read_source = 0;
      end_output (task);
      _sonde_exec_task_unref (task);
      return G_SOURCE_REMOVE;
    }

  _sonde_exec_task_unref (task);
  return G_SOURCE_CONTINUE;
}

static gboolean
drain_timeout_cb (gpointer user_data)
{
  SondeExecTask *task = user_data;
  gboolean ended;

  task->drain_source = 0;
  _sonde_exec_task_ref (task);

  /* What came in meanwhile; the end of the output may be among it, and
   * then there is nobody left to kill. */
  ended = task->master_fd < 0 || read_available (task);

  if (task->exec != NULL && !task->output_ended)
    {
      if (!ended)
        {
          g_message ("exec: task %s: %s exited but its terminal is still open "
                     "(a background process?): ending its output and killing its session",
                     task->id, task->program);
          signal_group (task, SIGKILL);
        }
      end_output (task);
    }

  _sonde_exec_task_unref (task);
  return G_SOURCE_REMOVE;
}

static void
wait_cb (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  SondeExecTask *task = user_data;  /* a reference */
  GSubprocess *subprocess = G_SUBPROCESS (source);

  /* Cancelled: the runner went away and killed the task. */
  if (!g_subprocess_wait_finish (subprocess, result, NULL) || task->exec == NULL)
    {
      _sonde_exec_task_unref (task);
      return;
    }

  task->exited = TRUE;
  if (g_subprocess_get_if_exited (subprocess))
    task->exit_code = g_subprocess_get_exit_status (subprocess);
  else if (g_subprocess_get_if_signaled (subprocess))
    task->exit_code = 128 + g_subprocess_get_term_sig (subprocess);
  else
    task->exit_code = -1;

  /* Reaped: its pid may be reused, it must not be signalled any more
   * (bar the drain timeout's, for the rest of its session). */
  g_clear_handle_id (&task->timeout_source, g_source_remove);
  g_clear_handle_id (&task->kill_source, g_source_remove);

  if (!task->output_ended)
    task->drain_source = g_timeout_add (DRAIN_GRACE_MS, drain_timeout_cb, task);

  maybe_complete (task);
  _sonde_exec_task_unref (task);
}

static gboolean
kill_cb (gpointer user_data)
{
  SondeExecTask *task = user_data;

  task->kill_source = 0;
  g_message ("exec: task %s: %s still running %d s after SIGTERM: killing it",
             task->id, task->program, SONDE_EXEC_KILL_GRACE_SECONDS);
  signal_group (task, SIGKILL);
  return G_SOURCE_REMOVE;
}

static gboolean
timeout_cb (gpointer user_data)
{
  SondeExecTask *task = user_data;

  task->timeout_source = 0;
  task->timed_out = TRUE;
  g_message ("exec: task %s: %s reached its timeout: terminating it", task->id, task->program);
  signal_group (task, SIGTERM);
  task->kill_source = g_timeout_add (SONDE_EXEC_KILL_GRACE_SECONDS * 1000, kill_cb, task);
  return G_SOURCE_REMOVE;
}

void
_sonde_exec_task_watch (SondeExecTask *task,
                        guint          timeout_seconds)
{
  task->read_source = g_unix_fd_add (task->master_fd, G_IO_IN | G_IO_HUP | G_IO_ERR, read_cb, task);
  /* Not g_timeout_add_seconds(), which may fire up to a second late. */
  task->timeout_source = g_timeout_add (timeout_seconds * 1000, timeout_cb, task);
  g_subprocess_wait_async (task->subprocess, task->cancellable, wait_cb, _sonde_exec_task_ref (task));
}

/* Without events: nobody is left to hear them. */
void
_sonde_exec_task_detach (SondeExecTask *task)
{
  if (!task->completed)
    {
      g_message ("exec: task %s for %s: %s killed: the server is stopping",
                 task->id, task->caller, task->program);
      if (!task->exited)
        signal_group (task, SIGKILL);
    }

  g_cancellable_cancel (task->cancellable);
  close_master (task);
  g_clear_handle_id (&task->timeout_source, g_source_remove);
  g_clear_handle_id (&task->kill_source, g_source_remove);
  g_clear_handle_id (&task->drain_source, g_source_remove);
  task->exec = NULL;
}

/* Starting ---------------------------------------------------------------- */

/* In the child, between fork and exec: async-signal-safe calls only. */
static void
child_setup (gpointer user_data)
{
  sigset_t none;

  /* Its own session and process group: the timeout signals reach every
   * process the program starts, and sonded's terminal (if any) none. */
  setsid ();
  /* An ignored signal stays ignored across exec, and GIO ignores SIGPIPE:
   * "yes | head" would then never end. */
  signal (SIGPIPE, SIG_DFL);
  sigemptyset (&none);
  sigprocmask (SIG_SETMASK, &none, NULL);
  /* If sonded dies without stopping its tasks, they go with it. */
  prctl (PR_SET_PDEATHSIG, SIGKILL);
}

/* PATH, the locale, a home and a terminal type: sonded's own environment
 * (tokens, session addresses) is not the program's business. */
static char **
task_environment (void)
{
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
  const char *path = g_getenv ("PATH");
  const char *lang = g_getenv ("LANG");
  const char *lc_all = g_getenv ("LC_ALL");
  g_autofree char *path_entry = g_strconcat ("PATH=", path ? path : "/usr/local/bin:/usr/bin:/bin", NULL);
  g_autofree char *home_entry = g_strconcat ("HOME=", g_get_home_dir (), NULL);

  g_strv_builder_add (builder, path_entry);
  g_strv_builder_add (builder, home_entry);
  g_strv_builder_add (builder, "TERM=dumb");
  if (lang != NULL)
    {
      g_autofree char *entry = g_strconcat ("LANG=", lang, NULL);
      g_strv_builder_add (builder, entry);
    }
  if (lc_all != NULL)
    {
      g_autofree char *entry = g_strconcat ("LC_ALL=", lc_all, NULL);
      g_strv_builder_add (builder, entry);
    }

  return g_strv_builder_end (builder);
}

static gboolean
set_cloexec (int      fd,
             GError **error)
{
  int flags = fcntl (fd, F_GETFD);

  if (flags < 0 || fcntl (fd, F_SETFD, flags | FD_CLOEXEC) < 0)
    {
      int saved = errno;

      g_set_error (error, SONDE_EXEC_ERROR, SONDE_EXEC_ERROR_SPAWN,
                   "Cannot set up the task's terminal: %s", g_strerror (saved));
      return FALSE;
    }

  return TRUE;
}

/* A pseudo-terminal whose master is non-blocking and whose output is not
 * post-processed (no "\n" -> "\r\n"). Every fd is close-on-exec: the
 * launcher dup2()s the slave onto the child's stdout and stderr. */
static gboolean
open_terminal (int     *master_out,
               int     *slave_out,
               GError **error)
{
  struct winsize size = { .ws_row = 24, .ws_col = 80 };
  struct termios attributes;
  int master = -1, slave = -1;

  if (openpty (&master, &slave, NULL, NULL, &size) < 0)
    {
      int saved = errno;

      g_set_error (error, SONDE_EXEC_ERROR, SONDE_EXEC_ERROR_SPAWN,
                   "Cannot open a pseudo-terminal: %s", g_strerror (saved));
      return FALSE;
    }

  if (tcgetattr (slave, &attributes) == 0)
    {
      attributes.c_oflag &= ~OPOST;
      attributes.c_lflag &= ~ECHO;
      tcsetattr (slave, TCSANOW, &attributes);
    }

  if (!set_cloexec (master, error) || !set_cloexec (slave, error) ||
      !g_unix_set_fd_nonblocking (master, TRUE, error))
    {
      close (master);
      close (slave);
      return FALSE;
    }

  *master_out = master;
  *slave_out = slave;
  return TRUE;
}

static GSubprocess *
spawn (const char * const  *argv,
       const char          *working_directory,
       int                 *master_out,
       GError             **error)
{
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GSubprocess) subprocess = NULL;
  g_auto(GStrv) environment = task_environment ();
  int master, slave, slave_copy;

  if (!open_terminal (&master, &slave, error))
    return NULL;

  slave_copy = fcntl (slave, F_DUPFD_CLOEXEC, 3);
  if (slave_copy < 0)
    {
      int saved = errno;

      close (master);
      close (slave);
      g_set_error (error, SONDE_EXEC_ERROR, SONDE_EXEC_ERROR_SPAWN,
                   "Cannot set up the task's terminal: %s", g_strerror (saved));
      return NULL;
    }

  /* No stdin flag: the child reads /dev/null. */
  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_NONE);
  g_subprocess_launcher_set_environ (launcher, environment);
  if (working_directory != NULL)
    g_subprocess_launcher_set_cwd (launcher, working_directory);
  g_subprocess_launcher_take_stdout_fd (launcher, slave);
  g_subprocess_launcher_take_stderr_fd (launcher, slave_copy);
  g_subprocess_launcher_set_child_setup (launcher, child_setup, NULL, NULL);

  subprocess = g_subprocess_launcher_spawnv (launcher, argv, error);

  /* The parent's copies of the slave: as long as they are open, the
   * master would never see the end of the output. */
  g_subprocess_launcher_close (launcher);

  if (subprocess == NULL)
    {
      close (master);
      if (error != NULL && *error != NULL && (*error)->domain != SONDE_EXEC_ERROR)
        {
          GError *spawn_error = *error;

          *error = g_error_new (SONDE_EXEC_ERROR, SONDE_EXEC_ERROR_SPAWN,
                                "Cannot run %s: %s", argv[0], spawn_error->message);
          g_error_free (spawn_error);
        }
      return NULL;
    }

  *master_out = master;
  return g_steal_pointer (&subprocess);
}

SondeExecTask *
_sonde_exec_task_spawn (SondeExec           *exec,
                        const char          *program,
                        const char * const  *argv,
                        const char          *id,
                        const char          *command,
                        const char          *caller,
                        GError             **error)
{
  g_autoptr(GPtrArray) resolved_argv = g_ptr_array_new ();
  g_autoptr(GSubprocess) subprocess = NULL;
  SondeExecTask *task;
  const char *identifier;
  int master;

  /* The allowed absolute path runs, whatever name was asked for. */
  g_ptr_array_add (resolved_argv, (gpointer) program);
  for (guint i = 1; argv[i] != NULL; i++)
    g_ptr_array_add (resolved_argv, (gpointer) argv[i]);
  g_ptr_array_add (resolved_argv, NULL);

  subprocess = spawn ((const char * const *) resolved_argv->pdata, exec->working_directory, &master, error);
  if (subprocess == NULL)
    return NULL;

  task = g_new0 (SondeExecTask, 1);
  task->ref_count = 1;
  task->exec = exec;
  task->id = g_strdup (id);
  task->command = g_strdup (command);
  task->program = g_strdup (program);
  task->caller = g_strdup (caller);
  task->subprocess = g_steal_pointer (&subprocess);
  task->cancellable = g_cancellable_new ();
  task->master_fd = master;
  task->max_output_bytes = exec->max_output_bytes;
  task->started_us = g_get_real_time ();
  task->started_monotonic_us = g_get_monotonic_time ();
  task->tail = g_string_new (NULL);
  task->exit_code = -1;

  identifier = g_subprocess_get_identifier (task->subprocess);
  task->pid = identifier != NULL ? (GPid) g_ascii_strtoll (identifier, NULL, 10) : 0;
  return task;
}
