// SPDX-License-Identifier: LGPL-2.1-or-later
// The page's one WebSocket to sonded's /ws/v1, and what it does when it
// breaks: it says so, and tries again after 1 s, 2 s, 4 s ... 30 s. There is
// at most one socket and one pending timer of each kind at any time.
'use strict';

(function () {
  const BACKOFF_FIRST_MS = 1000;
  const BACKOFF_MAX_MS = 30000;
  // sonded sends a frame every interval, and a heartbeat after 30 s of
  // silence: a socket quiet for longer than this is dead (a suspended
  // daemon, a half-open connection) and is replaced.
  const SILENCE_MS = 40000;
  const PROBE_TIMEOUT_MS = 5000;

  class Connection {
    // onFrame (frame), onOpen (), onState (state, detail)
    // States: connecting, live, disconnected (detail.retryAt),
    // unauthorized (detail.rejected), forbidden (detail.message).
    constructor(options) {
      this.onFrame = options.onFrame;
      this.onOpen = options.onOpen;
      this.onState = options.onState;
      this.socket = null;
      this.retryTimer = 0;
      this.silenceTimer = 0;
      this.backoff = BACKOFF_FIRST_MS;
      this.retryAt = 0;
      this.state = null;
      this.token = null;      // in memory only: never stored, never in the page's URL
      this.attempt = 0;       // bumped by each connect(): late callbacks of older attempts are ignored
    }

    url() {
      const scheme = window.location.protocol === 'https:' ? 'wss:' : 'ws:';
      // A WebSocket cannot carry an Authorization header: the token goes in
      // the socket's own URL, never in the page's.
      const query = this.token ? `?token=${encodeURIComponent(this.token)}` : '';
      return `${scheme}//${window.location.host}/ws/v1${query}`;
    }

    start() {
      this.connect();
    }

    // A new socket, whose handshake carries @token (sonded grants what
    // needs it only to a socket that did).
    setToken(token) {
      this.token = token || null;
      this.backoff = BACKOFF_FIRST_MS;
      this.connect();
    }

    // Now, whatever the backoff says (the "Retry now" button).
    retryNow() {
      this.backoff = BACKOFF_FIRST_MS;
      this.connect();
    }

    send(message) {
      if (this.socket && this.socket.readyState === WebSocket.OPEN)
        this.socket.send(JSON.stringify(message));
    }

    // The first snapshot proves the whole path works: the next failure
    // starts again from the shortest delay.
    healthy() {
      this.backoff = BACKOFF_FIRST_MS;
      this.setState('live');
    }

    setState(state, detail) {
      this.state = state;
      this.onState(state, detail || {});
    }

    clearTimers() {
      clearTimeout(this.retryTimer);
      clearTimeout(this.silenceTimer);
      this.retryTimer = 0;
      this.silenceTimer = 0;
    }

    // Forgets the current socket: its late events must do nothing.
    dropSocket() {
      const socket = this.socket;
      this.socket = null;
      if (!socket)
        return;
      socket.onopen = socket.onmessage = socket.onclose = socket.onerror = null;
      if (socket.readyState === WebSocket.CONNECTING || socket.readyState === WebSocket.OPEN)
        socket.close();
    }

    connect() {
      this.clearTimers();
      this.dropSocket();
      const attempt = ++this.attempt;
      if (this.state !== 'disconnected')
        this.setState('connecting');

      let socket;
      try {
        socket = new WebSocket(this.url());
      } catch (error) {
        this.scheduleRetry();
        return;
      }
      this.socket = socket;
      let opened = false;

      socket.onopen = () => {
        opened = true;
        this.armSilence();
        this.onOpen();
      };
      socket.onmessage = (event) => {
        this.armSilence();
        let frame;
        try {
          frame = JSON.parse(event.data);
        } catch (error) {
          return;
        }
        if (frame && typeof frame === 'object')
          this.onFrame(frame);
      };
      socket.onclose = () => {
        if (socket !== this.socket)
          return;
        this.socket = null;
        clearTimeout(this.silenceTimer);
        if (opened)
          this.scheduleRetry();
        else
          this.probe(attempt);   // refused: find out why
      };
    }

    armSilence() {
      clearTimeout(this.silenceTimer);
      this.silenceTimer = setTimeout(() => {
        this.dropSocket();
        this.scheduleRetry();
      }, SILENCE_MS);
    }

    // A refused handshake looks the same to the page whatever the reason;
    // a plain request tells a missing token (401) or a refused origin (403)
    // from a daemon that is not there. A POST, because only then does the
    // browser send the Origin that the handshake carried; sonded refuses
    // it (405) once the origin and the token are through.
    probe(attempt) {
      const controller = new AbortController();
      const timeout = setTimeout(() => controller.abort(), PROBE_TIMEOUT_MS);
      const headers = this.token ? { Authorization: `Bearer ${this.token}` } : {};
      fetch('/status', { method: 'POST', headers, cache: 'no-store', signal: controller.signal })
        .then(async (response) => {
          if (attempt !== this.attempt)
            return;
          if (response.status === 401) {
            const rejected = this.token !== null;
            this.token = null;
            this.setState('unauthorized', { rejected });
            return;
          }
          if (response.status === 403) {
            let message = 'This page\'s origin is not allowed by the daemon.';
            try {
              message = (await response.json()).message || message;
            } catch (error) {
              // Keep the generic message.
            }
            this.scheduleRetry({ forbidden: message });
            return;
          }
          this.scheduleRetry();
        })
        .catch(() => {
          if (attempt === this.attempt)
            this.scheduleRetry();
        })
        .finally(() => clearTimeout(timeout));
    }

    scheduleRetry(extra) {
      this.clearTimers();
      const delay = this.backoff;
      this.backoff = Math.min(this.backoff * 2, BACKOFF_MAX_MS);
      this.retryAt = Date.now() + delay;
      this.retryTimer = setTimeout(() => {
        this.retryTimer = 0;
        this.connect();
      }, delay);
      if (extra && extra.forbidden)
        this.setState('forbidden', { retryAt: this.retryAt, message: extra.forbidden });
      else
        this.setState('disconnected', { retryAt: this.retryAt });
    }
  }

  window.Sonde = window.Sonde || {};
  window.Sonde.Connection = Connection;
})();
