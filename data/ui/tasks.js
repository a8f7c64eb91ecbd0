// SPDX-License-Identifier: LGPL-2.1-or-later
// The terminal panel: runs a command with POST /exec and shows its output
// as the task_output events of /ws/v1 bring it. Commands and their output
// need the daemon's token (a configured one, or the one sonded made at
// start), and sonded refuses task events to a WebSocket whose handshake did
// not carry it (docs/formats/native.md, `unauthorized`): so the panel says
// that the token is needed until the user types it, and the page then
// reopens its WebSocket with ?token=. The token lives in the page's memory
// only. The panel's state is in #panel-tasks's data-tasks: locked (no
// token), off (command tasks are not enabled), ready.
'use strict';

(function () {
  const TASK_EVENTS = ['task_start', 'task_output', 'task_complete'];
  const MAX_OUTPUT = 64 * 1024;       // characters kept of a task's output
  const MAX_TASKS = 8;                // tasks whose output is kept

  class TaskPanel {
    // connection: a Sonde.Connection; askToken (): opens the token dialog;
    // onChange (): the panel needs rendering.
    constructor(connection, askToken, onChange) {
      this.connection = connection;
      this.onChange = onChange;
      this.access = 'locked';
      this.reason = '';
      this.status = '';
      this.current = null;            // the task this page started, by id
      this.tasks = new Map();         // id -> {command, output, done}
      this.shown = null;              // the output last written to the terminal

      const $ = (id) => document.getElementById(id);
      this.panel = $('panel-tasks');
      this.sub = $('tasks-sub');
      this.locked = $('tasks-locked');
      this.lockedText = $('tasks-locked-text');
      this.off = $('tasks-off');
      this.form = $('tasks-form');
      this.input = $('tasks-command');
      this.statusLine = $('tasks-status');
      this.terminal = $('terminal');

      $('tasks-token').addEventListener('click', askToken);
      this.form.addEventListener('submit', (event) => {
        event.preventDefault();
        this.run(this.input.value.trim());
      });
    }

    // The events to subscribe to: task events only where sonded grants
    // them, else the whole subscription would be refused.
    events() {
      return this.access === 'ready' && this.connection.token ? TASK_EVENTS : [];
    }

    handles(kind) {
      return TASK_EVENTS.includes(kind);
    }

    // What @token opens: 'rejected' (401), or the panel's access with it.
    // GET /exec needs the token whenever the daemon has one, whatever the
    // other routes need, and says whether command tasks are enabled.
    async check(token) {
      let response;
      try {
        response = await fetch('/exec', { headers: { Authorization: `Bearer ${token}` }, cache: 'no-store' });
      } catch (error) {
        return 'unknown';
      }
      if (response.status === 401)
        return 'rejected';
      return response.ok ? 'ready' : 'off';
    }

    setAccess(access, reason) {
      this.access = access;
      this.reason = reason || '';
      this.onChange();
    }

    // sonded refused the token (a 401, or `unauthorized` on a subscribe):
    // back to asking for it.
    lock(reason) {
      this.current = null;
      this.status = '';
      this.setAccess('locked', reason);
    }

    async run(command) {
      if (!command || this.access !== 'ready')
        return;
      this.status = `Starting ${command}…`;
      this.onChange();
      let response;
      let body = null;
      try {
        response = await fetch('/exec', {
          method: 'POST',
          headers: { Authorization: `Bearer ${this.connection.token}`, 'Content-Type': 'application/json' },
          body: JSON.stringify({ command }),
          cache: 'no-store',
        });
        body = await response.json();
      } catch (error) {
        this.status = 'sonded did not answer.';
        this.onChange();
        return;
      }
      if (response.status === 401) {
        this.lock('That token is no longer accepted.');
        return;
      }
      if (!response.ok || !body || typeof body.task_id !== 'string') {
        this.status = (body && body.message) || `sonded answered ${response.status}.`;
        this.onChange();
        return;
      }
      this.input.value = '';
      this.current = body.task_id;
      this.task(body.task_id, body.command);
      // A short command may have ended before sonded's answer came.
      this.status = this.describe(body.task_id);
      this.onChange();
    }

    describe(id) {
      const task = this.tasks.get(id);
      if (!task.done)
        return `Task ${id} running: ${task.command}`;
      const how = task.done.timedOut ? 'timed out' : `exited with ${task.done.exit}`;
      return `Task ${id} ${how}${task.done.truncated ? ' (output truncated)' : ''}: ${task.command}`;
    }

    // A task's entry, made on its first mention: its events may come over
    // the WebSocket before POST /exec has answered with its id.
    task(id, command) {
      let task = this.tasks.get(id);
      if (!task) {
        task = { command: command || '', output: '', done: null };
        this.tasks.set(id, task);
        if (this.tasks.size > MAX_TASKS)
          this.tasks.delete(this.tasks.keys().next().value);
      } else if (command && !task.command) {
        task.command = command;
      }
      return task;
    }

    onEvent(kind, data) {
      const id = typeof data.task_id === 'string' ? data.task_id : null;
      if (!id)
        return;
      const task = this.task(id, typeof data.command === 'string' ? data.command : '');
      if (kind === 'task_output' && typeof data.output === 'string') {
        task.output += data.output;
        if (task.output.length > MAX_OUTPUT)
          task.output = task.output.slice(task.output.length - MAX_OUTPUT);
      } else if (kind === 'task_complete') {
        task.done = { exit: data.exit_code, timedOut: data.timed_out === true, truncated: data.output_truncated === true };
        if (id === this.current)
          this.status = this.describe(id);
      }
      if (id === this.current)
        this.onChange();
    }

    render() {
      const access = this.access;
      this.panel.dataset.tasks = access;
      this.locked.hidden = access !== 'locked';
      this.off.hidden = access !== 'off';
      this.form.hidden = access !== 'ready';
      if (access === 'locked')
        this.lockedText.textContent = this.reason ||
          'Running commands and reading their output needs this daemon\'s token.';
      this.sub.textContent = { locked: 'token needed', off: 'off on this daemon', ready: 'POST /exec' }[access];

      const task = access === 'ready' && this.current ? this.tasks.get(this.current) : null;
      this.statusLine.textContent = access === 'ready' ? this.status : '';
      this.terminal.hidden = !task;
      if (task && this.shown !== task.output) {
        const atBottom = this.terminal.scrollTop + this.terminal.clientHeight >= this.terminal.scrollHeight - 4;
        this.shown = task.output;
        this.terminal.textContent = task.output;
        if (atBottom)
          this.terminal.scrollTop = this.terminal.scrollHeight;
      }
    }
  }

  window.Sonde = window.Sonde || {};
  window.Sonde.TaskPanel = TaskPanel;
})();
