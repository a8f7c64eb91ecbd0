// SPDX-License-Identifier: LGPL-2.1-or-later
// The dashboard: subscribes on /ws/v1 to the collectors this daemon has,
// seeds the charts from its history, and renders each snapshot. Frames only
// change state; the DOM and the charts are written once per animation frame,
// and only where something changed.
//
// Elements carry what they show in data attributes: data-metric names a
// metric, and once shown it holds the raw value in data-value; each chart's
// canvas counts its points in data-points; #conn has the connection state in
// data-state and the latest snapshot's time in data-timestamp. The browser
// tests read those.
'use strict';

(function () {
  const F = Sonde.format;
  const HISTORY_SECONDS = 300;
  const INTERVAL_MS = 1000;
  const MAX_EVENTS = 100;
  const FEW_CORES = 8;               // up to this many: a row per core; above: a strip of bars
  const COLLECTORS = ['cpu', 'memory', 'disk', 'network', 'processes', 'gateway', 'host'];

  const CHARTS = {
    cpu: {
      kind: 'percent',
      series: [
        { key: 'cpu.usage_percent', label: 'total', color: 'cpu', fill: true },
        { key: 'cpu.iowait_percent', label: 'iowait', color: 'iowait' },
      ],
    },
    memory: {
      kind: 'percent',
      series: [
        { key: 'memory.usage_percent', label: 'used', color: 'mem', fill: true },
        { key: 'memory.swap_usage_percent', label: 'swap', color: 'swap' },
      ],
    },
    disk: {
      kind: 'rate',
      series: [
        { key: 'disk.read_bytes_per_sec', label: 'read', color: 'read', fill: true },
        { key: 'disk.write_bytes_per_sec', label: 'write', color: 'write', fill: true },
      ],
    },
    network: {
      kind: 'rate',
      series: [
        { key: 'network.rx_bytes_per_sec', label: 'in', color: 'rx', fill: true },
        { key: 'network.tx_bytes_per_sec', label: 'out', color: 'tx', fill: true },
      ],
    },
  };

  const state = {
    hello: null,
    units: new Map(),        // metric -> catalog unit
    present: null,           // Set of collectors the daemon has, once known
    data: {},                // collector -> latest fields
    timestamp: 0,            // ms, of the latest snapshot
    stale: new Set(),
    lastFresh: new Map(),    // collector -> ms of its latest fresh sample
    errors: new Map(),       // collector -> {message, time}
    events: [],              // newest first
    connection: 'connecting',
    connectionDetail: {},
  };

  const $ = (id) => document.getElementById(id);
  const UNSET = {};                  // a binding's value before its first render
  const charts = new Map();
  const bindings = [];
  const meters = [];
  const dirty = new Set();
  let frameRequested = false;
  let countdown = 0;
  let connection = null;
  let tasks = null;               // the terminal panel (tasks.js)
  let seeding = false;
  let streaming = false;          // the current connection has had a snapshot

  // Rendering ------------------------------------------------------------

  function schedule(part) {
    dirty.add(part);
    if (!frameRequested) {
      frameRequested = true;
      window.requestAnimationFrame(render);
    }
  }

  function render() {
    frameRequested = false;
    const parts = new Set(dirty);
    dirty.clear();
    if (parts.has('values')) {
      renderValues();
      for (const renderPanel of Object.values(PANELS))
        renderPanel();
      renderPanels();
    }
    if (parts.has('events'))
      renderEvents();
    if (parts.has('connection'))
      renderConnection();
    if (parts.has('tasks'))
      tasks.render();
    for (const chart of charts.values())
      chart.draw();
  }

  function setText(element, text) {
    if (element.__text !== text) {
      element.__text = text;
      element.textContent = text;
    }
  }

  function setTitle(element, title) {
    if (element.__title !== title) {
      element.__title = title;
      element.title = title;
    }
  }

  function level(percent) {
    if (percent >= 90)
      return 'crit';
    if (percent >= 75)
      return 'warn';
    return '';
  }

  function setMeter(meter, percent) {
    const value = typeof percent === 'number' && Number.isFinite(percent) ? percent : 0;
    if (meter.__value === value)
      return;
    meter.__value = value;
    const clamped = Math.min(Math.max(value, 0), 100) / 100;
    const fill = meter.firstElementChild;
    fill.style.transform = meter.classList.contains('core-bar') ? `scaleY(${clamped})` : `scaleX(${clamped})`;
    const newLevel = level(value);
    if (meter.dataset.level !== newLevel)
      meter.dataset.level = newLevel;
    meter.dataset.value = String(value);
  }

  let panelList = null;
  function panels() {
    if (!panelList)
      panelList = Array.from(document.querySelectorAll('.panel[data-collector]'));
    return panelList;
  }

  function lookup(metric) {
    const dot = metric.indexOf('.');
    const fields = state.data[metric.slice(0, dot)];
    return fields ? fields[metric.slice(dot + 1)] : undefined;
  }

  function bind() {
    for (const element of document.querySelectorAll('[data-metric]')) {
      const binding = {
        element,
        metric: element.dataset.metric,
        format: element.dataset.format || 'text',
        warnAbove: element.dataset.warnAbove !== undefined ? Number(element.dataset.warnAbove) : null,
        value: UNSET,
        number: null,
        unit: null,
      };
      if (element.classList.contains('split')) {
        binding.number = document.createElement('span');
        binding.number.className = 'number';
        binding.unit = document.createElement('span');
        binding.unit.className = 'unit';
        element.replaceChildren(binding.number, binding.unit);
        setText(binding.number, '–');
      }
      bindings.push(binding);
    }
    for (const element of document.querySelectorAll('[data-meter]'))
      meters.push({ element, metric: element.dataset.meter });
  }

  function renderValues() {
    for (const binding of bindings) {
      const value = lookup(binding.metric);
      if (value === binding.value)
        continue;
      binding.value = value;
      const element = binding.element;
      if (value === undefined) {
        delete element.dataset.value;
      } else {
        element.dataset.value = String(value);
      }
      if (binding.number) {
        const [number, unit] = F.split(binding.format, value);
        setText(binding.number, number);
        setText(binding.unit, unit);
      } else {
        setText(element, F.text(binding.format, value));
      }
      if (binding.warnAbove !== null)
        element.dataset.level = typeof value === 'number' && value > binding.warnAbove ? 'warn' : '';
    }
    for (const meter of meters)
      setMeter(meter.element, lookup(meter.metric));

    // Sentences around numbers ("3 connections") wait for their numbers.
    document.body.classList.toggle('has-host', state.data.host !== undefined);
    for (const panel of panels())
      panel.classList.toggle('has-data', state.data[panel.dataset.collector] !== undefined);

    const hostname = lookup('host.hostname') || (state.hello && state.hello.hostname);
    const title = hostname ? `${hostname} · Sonde` : 'Sonde';
    if (document.title !== title)
      document.title = title;
  }

  // Rows of a table, by rank: row i shows item i, its cells rewritten only
  // where their text changed. @build (tr) fills a new row with cells and
  // returns them; @fill (cells, item) updates them.
  function syncRows(tbody, items, build, fill) {
    while (tbody.rows.length > items.length)
      tbody.deleteRow(-1);
    while (tbody.rows.length < items.length) {
      const row = tbody.insertRow(-1);
      row.__cells = build(row);
    }
    items.forEach((item, index) => fill(tbody.rows[index].__cells, item));
  }

  function cell(row, className) {
    const td = row.insertCell(-1);
    if (className)
      td.className = className;
    return td;
  }

  function nameCell(row) {
    const td = cell(row);
    const name = document.createElement('span');
    name.className = 'name';
    const extra = document.createElement('span');
    extra.className = 'muted';
    td.append(name, extra);
    return { td, name, extra };
  }

  function meterCell(row) {
    const td = cell(row, 'col-meter');
    const wrap = document.createElement('div');
    wrap.className = 'cell-meter';
    const meter = document.createElement('span');
    meter.className = 'meter';
    const fill = document.createElement('span');
    fill.className = 'meter-fill';
    meter.append(fill);
    const value = document.createElement('span');
    value.className = 'value';
    wrap.append(meter, value);
    td.append(wrap);
    return { meter, value };
  }

  function renderMemory() {
    // The page cache, after what is used: memory the kernel gives back.
    const total = lookup('memory.total_bytes');
    const cached = lookup('memory.cached_bytes');
    const used = lookup('memory.usage_percent');
    if (total > 0 && cached >= 0 && used >= 0) {
      const start = Math.min(used, 100);
      const width = Math.min(cached / total * 100, 100 - start);
      const transform = `translateX(${start}%) scaleX(${width / 100})`;
      const fill = $('cached-fill');
      if (fill.__transform !== transform) {
        fill.__transform = transform;
        fill.style.transform = transform;
      }
    }

    const noSwap = lookup('memory.swap_total_bytes') === 0;
    $('swap-text').hidden = noSwap;
    $('swap-none').hidden = !noSwap;
  }

  function renderDisk() {
    const disk = state.data.disk || {};
    syncRows($('partitions'), Array.isArray(disk.partitions) ? disk.partitions : [],
      (row) => ({ name: nameCell(row), used: meterCell(row), size: cell(row, 'num') }),
      (cells, p) => {
        setText(cells.name.name, p.mount);
        setText(cells.name.extra, p.fs_type ? ` ${p.fs_type}` : '');
        setTitle(cells.name.td, `${p.device || ''} on ${p.mount}`);
        setMeter(cells.used.meter, p.usage_percent);
        setText(cells.used.value, F.text('percent', p.usage_percent));
        setText(cells.size, F.text('bytes', p.total_bytes));
        setTitle(cells.size, `${F.text('bytes', p.used_bytes)} used, ${F.text('bytes', p.free_bytes)} free`);
      });

    syncRows($('devices'), Array.isArray(disk.devices) ? disk.devices : [],
      (row) => ({ name: cell(row, 'name'), read: cell(row, 'num'), write: cell(row, 'num') }),
      (cells, d) => {
        setText(cells.name, d.name);
        setText(cells.read, F.text('rate', d.read_bytes_per_sec));
        setText(cells.write, F.text('rate', d.write_bytes_per_sec));
      });
  }

  function renderNetwork() {
    // Interfaces that never moved a byte (dummies, unused bridges) are
    // named in a line, not given rows; loopback comes last.
    const interfaces = Array.isArray((state.data.network || {}).interfaces) ? state.data.network.interfaces : [];
    const active = interfaces.filter((i) => (i.rx_bytes || 0) + (i.tx_bytes || 0) > 0)
      .sort((a, b) => (a.name === 'lo') - (b.name === 'lo') || a.name.localeCompare(b.name));
    const idle = interfaces.filter((i) => !active.includes(i)).map((i) => i.name);
    syncRows($('interfaces'), active,
      (row) => ({ name: cell(row, 'name'), rx: cell(row, 'num'), tx: cell(row, 'num') }),
      (cells, i) => {
        setText(cells.name, i.name);
        setText(cells.rx, F.text('rate', i.rx_bytes_per_sec));
        setText(cells.tx, F.text('rate', i.tx_bytes_per_sec));
      });
    const idleNote = $('interfaces-idle');
    idleNote.hidden = idle.length === 0;
    setText(idleNote, idle.length ? `No traffic yet: ${idle.join(', ')}` : '');
  }

  function renderProcesses() {
    const processes = state.data.processes || {};
    syncRows($('top-cpu'), Array.isArray(processes.top_cpu) ? processes.top_cpu : [],
      (row) => ({ name: nameCell(row), cpu: meterCell(row) }),
      (cells, p) => {
        setText(cells.name.name, p.name);
        setText(cells.name.extra, ` ${p.pid}`);
        setTitle(cells.name.td, `${p.name}, PID ${p.pid}`);
        setMeter(cells.cpu.meter, p.cpu_percent);
        setText(cells.cpu.value, F.text('percent', p.cpu_percent));
      });
    syncRows($('top-memory'), Array.isArray(processes.top_memory) ? processes.top_memory : [],
      (row) => ({ name: nameCell(row), rss: cell(row, 'num'), share: cell(row, 'num') }),
      (cells, p) => {
        setText(cells.name.name, p.name);
        setText(cells.name.extra, ` ${p.pid}`);
        setTitle(cells.name.td, `${p.name}, PID ${p.pid}`);
        setText(cells.rss, F.text('bytes', p.rss_bytes));
        setText(cells.share, F.text('percent', p.memory_percent));
      });
  }

  function renderCores() {
    const container = $('cores');
    const cores = Array.isArray((state.data.cpu || {}).per_core_percent) ? state.data.cpu.per_core_percent : [];
    const mode = cores.length <= FEW_CORES ? 'rows' : 'strip';

    if (container.__count !== cores.length || container.__mode !== mode) {
      container.__count = cores.length;
      container.__mode = mode;
      container.className = `cores cores--${mode}`;
      container.__items = cores.map((_, index) => {
        const meter = document.createElement('span');
        meter.className = mode === 'rows' ? 'meter' : 'core-bar';
        meter.dataset.metric = 'cpu.per_core_percent';
        meter.dataset.index = String(index);
        const fill = document.createElement('span');
        fill.className = 'meter-fill';
        meter.append(fill);
        if (mode === 'strip')
          return { root: meter, meter, value: null };
        const row = document.createElement('div');
        row.className = 'core-row';
        const label = document.createElement('span');
        label.className = 'core-label';
        label.textContent = `cpu${index}`;
        const value = document.createElement('span');
        value.className = 'core-value';
        row.append(label, meter, value);
        return { root: row, meter, value };
      });
      container.replaceChildren(...container.__items.map((item) => item.root));
    }

    cores.forEach((percent, index) => {
      const item = container.__items[index];
      setMeter(item.meter, percent);
      if (item.value)
        setText(item.value, F.text('percent', percent));
      else
        setTitle(item.meter, `cpu${index}: ${F.text('percent', percent)}`);
    });
  }

  // What each panel shows beyond its data-metric and data-meter elements,
  // by the panel's id. A new panel (the hub's servers, a terminal) is a
  // <section class="panel"> in index.html and, when it needs more than
  // bindings, a renderer here; the events it lives on go in EVENT_KINDS.
  const PANELS = {
    'panel-cpu': renderCores,
    'panel-memory': renderMemory,
    'panel-disk': renderDisk,
    'panel-network': renderNetwork,
    'panel-processes': renderProcesses,
  };

  // Stale or failing collectors are flagged on their own panel, next to the
  // numbers they no longer refresh; a collector this daemon lacks greys its
  // panel out.
  function renderPanels() {
    for (const panel of panels()) {
      const collector = panel.dataset.collector;
      const absent = state.present !== null && !state.present.has(collector);
      panel.classList.toggle('is-absent', absent);

      const stale = state.stale.has(collector);
      const error = state.errors.get(collector);
      const badge = panel.querySelector('[data-badge]');
      const problem = panel.querySelector('[data-problem]');
      panel.classList.toggle('is-stale', stale);
      panel.dataset.stale = stale ? 'true' : 'false';

      if (!absent && (stale || error)) {
        const kind = error ? 'error' : 'stale';
        badge.hidden = false;
        badge.dataset.kind = kind;
        setText(badge, error ? 'Error' : 'Stale');
        const fresh = state.lastFresh.get(collector);
        let text = error ? `${collector}: ${error.message}` : `${collector} missed its collection deadline`;
        if (!/[.!?]$/.test(text))
          text += '.';
        if (stale)
          text += fresh ? ` Showing values from ${F.clock(fresh)}.` : ' No values yet.';
        problem.hidden = false;
        problem.dataset.kind = kind;
        setText(problem, text);
      } else {
        badge.hidden = true;
        problem.hidden = true;
      }
    }
  }

  function eventElement(entry) {
    const item = document.createElement('li');
    item.className = 'event';
    item.dataset.kind = entry.kind;
    const time = document.createElement('time');
    time.className = 'event-time';
    time.dateTime = new Date(entry.time).toISOString();
    time.textContent = F.clock(entry.time);
    const kind = document.createElement('span');
    kind.className = 'event-kind';
    kind.textContent = entry.kind === 'alert' ? 'Alert' : entry.kind === 'collector_error' ? 'Error' : 'Notice';
    const text = document.createElement('p');
    text.className = 'event-text';
    for (const [content, className] of entry.parts) {
      const part = document.createElement('span');
      if (className)
        part.className = className;
      part.textContent = content;
      text.append(part);
    }
    if (entry.value !== undefined)
      item.dataset.value = String(entry.value);
    item.append(time, kind, text);
    return item;
  }

  function renderEvents() {
    const list = $('events');
    // New entries are prepended; the oldest fall off the end.
    const shown = list.__shown || 0;
    const fresh = state.events.length - Math.min(shown, state.events.length);
    const added = state.events.slice(0, Math.max(fresh, 0));
    for (let i = added.length - 1; i >= 0; i--)
      list.prepend(eventElement(added[i]));
    while (list.children.length > MAX_EVENTS)
      list.lastElementChild.remove();
    list.__shown = state.events.length;

    const alerts = state.events.filter((e) => e.kind === 'alert').length;
    const errors = state.events.filter((e) => e.kind === 'collector_error').length;
    const counts = [];
    if (alerts)
      counts.push(`${alerts} alert${alerts === 1 ? '' : 's'}`);
    if (errors)
      counts.push(`${errors} error${errors === 1 ? '' : 's'}`);
    setText($('events-count'), counts.length ? counts.join(' · ') : 'none so far');
    $('events-empty').hidden = state.events.length > 0;
  }

  function renderConnection() {
    const element = $('conn');
    const text = $('conn-text');
    const retry = $('conn-retry');
    const banner = $('banner');
    const detail = state.connectionDetail;
    const kind = state.connection;
    element.dataset.state = kind;
    if (state.timestamp)
      element.dataset.timestamp = new Date(state.timestamp).toISOString();
    document.body.classList.toggle('is-offline', kind === 'disconnected' || kind === 'forbidden');

    const seconds = detail.retryAt ? Math.max(0, Math.ceil((detail.retryAt - Date.now()) / 1000)) : 0;
    const retryText = seconds > 0 ? `retrying in ${seconds} s` : 'reconnecting…';
    const since = state.timestamp ? `The figures below are from ${F.clock(state.timestamp)}.` : '';

    retry.hidden = !(kind === 'disconnected' || kind === 'forbidden' || kind === 'unauthorized');
    setText(retry, kind === 'unauthorized' ? 'Enter token' : 'Retry now');

    switch (kind) {
      case 'live':
        setText(text, state.timestamp ? `Live · ${F.clock(state.timestamp)}` : 'Live');
        banner.hidden = true;
        break;
      case 'connecting':
        setText(text, 'Connecting…');
        banner.hidden = true;
        break;
      case 'disconnected':
        setText(text, `Disconnected · ${retryText}`);
        showBanner('error', 'Disconnected from sonded.', `${since} Reconnecting by itself: ${retryText}.`);
        break;
      case 'forbidden':
        setText(text, `Refused · ${retryText}`);
        showBanner('error', 'sonded refused this page.', `${detail.message} Check [server] allowed-origins.`);
        break;
      case 'unauthorized':
        setText(text, 'Token needed');
        showBanner('warn', 'This daemon needs a token.', 'Enter it to see this machine.');
        break;
    }
  }

  function showBanner(kind, title, text) {
    const banner = $('banner');
    banner.dataset.kind = kind;
    setText($('banner-title'), title);
    setText($('banner-text'), text.trim());
    banner.hidden = false;
  }

  // The countdown of the retry: one interval, alive only while waiting.
  function updateCountdown() {
    const waiting = state.connection === 'disconnected' || state.connection === 'forbidden';
    if (waiting && !countdown)
      countdown = window.setInterval(() => schedule('connection'), 1000);
    else if (!waiting && countdown) {
      window.clearInterval(countdown);
      countdown = 0;
    }
  }

  // Protocol -------------------------------------------------------------

  // Replaces the 'dash' subscription: the events it asks for change with
  // the terminal panel's access.
  function subscribeDash(wanted) {
    connection.send({
      type: 'subscribe',
      id: 'dash',
      metrics: wanted.map((c) => `${c}.*`),
      events: Object.keys(EVENT_KINDS).concat(tasks.events()),
      interval_ms: INTERVAL_MS,
    });
  }

  function subscribe() {
    const present = Array.from(state.present);
    const wanted = COLLECTORS.filter((c) => state.present.has(c));
    if (wanted.length === 0)
      return;
    prefill(wanted);
    subscribeDash(wanted);

    // The charts' past, once: a subscription of their metrics only, with
    // history, dropped at its first snapshot (its history comes before).
    const seeded = [];
    for (const options of Object.values(CHARTS))
      for (const series of options.series)
        if (state.units.has(series.key))
          seeded.push(series.key);
    if (seeded.length > 0 && present.length > 0) {
      seeding = true;
      connection.send({
        type: 'subscribe',
        id: 'seed',
        metrics: seeded,
        interval_ms: INTERVAL_MS,
        history_seconds: HISTORY_SECONDS,
      });
    }
  }

  function stopSeeding() {
    if (seeding) {
      seeding = false;
      connection.send({ type: 'unsubscribe', id: 'seed' });
    }
  }

  function chartFor(metric) {
    for (const [name, options] of Object.entries(CHARTS))
      if (options.series.some((s) => s.key === metric))
        return charts.get(name);
    return null;
  }

  function onSnapshot(frame) {
    if (frame.subscription === 'seed') {
      stopSeeding();
      return;
    }
    if (frame.subscription !== 'dash' || !frame.data || typeof frame.data !== 'object')
      return;

    const time = Date.parse(frame.timestamp);
    streaming = true;
    state.timestamp = time;
    applyData(frame.data, frame.stale, time);

    // A stale collector repeats its last values: the charts show a gap.
    for (const [name, options] of Object.entries(CHARTS)) {
      const chart = charts.get(name);
      for (const series of options.series) {
        const collector = series.key.split('.')[0];
        if (!state.stale.has(collector))
          chart.push(series.key, time, lookup(series.key));
      }
    }

    if (state.connection !== 'live')
      connection.healthy();
    schedule('values');
    schedule('connection');
  }

  function applyData(data, stale, time) {
    state.stale = new Set(Array.isArray(stale) ? stale : []);
    for (const [collector, fields] of Object.entries(data)) {
      if (!fields || typeof fields !== 'object')
        continue;
      state.data[collector] = fields;
      if (!state.stale.has(collector)) {
        state.lastFresh.set(collector, time);
        const error = state.errors.get(collector);
        if (error && error.time < time)
          state.errors.delete(collector);
      }
    }
  }

  // The stream's first snapshot comes on the next tick of the wall clock,
  // up to a second away: meanwhile the numbers come from a plain request
  // (sonded answers it from the samples it already has). Not charted: its
  // time is the request's, and the charts have their history.
  function prefill(collectors) {
    const token = connection.token;
    const headers = token ? { Authorization: `Bearer ${token}` } : {};
    const query = encodeURIComponent(collectors.map((c) => `${c}.*`).join(','));
    fetch(`/api/v1/snapshot?metrics=${query}`, { headers, cache: 'no-store' })
      .then((response) => (response.ok ? response.json() : null))
      .then((snapshot) => {
        if (streaming || !snapshot || !snapshot.data || typeof snapshot.data !== 'object')
          return;
        applyData(snapshot.data, snapshot.stale, Date.parse(snapshot.timestamp) || Date.now());
        schedule('values');
      })
      .catch(() => {});
  }

  function unitText(metric, value) {
    return F.unitText(state.units.get(metric), value);
  }

  // The events the page subscribes to, and the entry of the events list
  // each makes (null for none).
  const EVENT_KINDS = {
    alert(data, time) {
      const parts = [[String(data.rule || 'alert'), 'name'], [' ', null]];
      if (data.metric)
        parts.push([`${data.metric} ${unitText(data.metric, data.value)}`, null]);
      if (data.threshold !== undefined)
        parts.push([` (threshold ${unitText(data.metric, data.threshold)})`, 'muted']);
      const localHost = lookup('host.hostname') || (state.hello && state.hello.hostname);
      if (data.hostname && data.hostname !== localHost)
        parts.push([` on ${data.hostname}`, 'muted']);
      return { parts, value: data.value };
    },

    // Also flags the collector's panel, until a fresh sample of it.
    collector_error(data, time, source) {
      const collector = String(data.collector || source || 'collector');
      const message = String(data.message || 'collection failed');
      state.errors.set(collector, { message, time });
      schedule('values');
      return { parts: [[collector, 'name'], [`: ${message}`, null]] };
    },
  };

  function onEvent(frame) {
    if (tasks.handles(frame.event)) {
      tasks.onEvent(frame.event, frame.data && typeof frame.data === 'object' ? frame.data : {});
      return;
    }
    const handler = Object.prototype.hasOwnProperty.call(EVENT_KINDS, frame.event) ? EVENT_KINDS[frame.event] : null;
    if (!handler)
      return;
    const data = frame.data && typeof frame.data === 'object' ? frame.data : {};
    const time = Date.parse(frame.timestamp) || Date.now();
    const entry = handler(data, time, frame.source);
    if (!entry)
      return;
    state.events.unshift({ kind: frame.event, time, ...entry });
    if (state.events.length > MAX_EVENTS)
      state.events.length = MAX_EVENTS;
    schedule('events');
  }

  function onFrame(frame) {
    switch (frame.type) {
      case 'hello':
        state.hello = frame;
        setText($('server-info'),
          `sonded ${frame.version || ''} · protocol ${frame.protocol || '?'} · ${window.location.host}`);
        break;
      case 'catalog': {
        state.units = new Map();
        const present = new Set();
        for (const metric of Array.isArray(frame.metrics) ? frame.metrics : []) {
          state.units.set(metric.name, metric.unit || '');
          present.add(metric.collector);
        }
        state.present = present;
        subscribe();
        schedule('values');
        break;
      }
      case 'history': {
        const chart = chartFor(frame.metric);
        if (chart)
          chart.merge(frame.metric, frame.points);
        break;
      }
      case 'snapshot':
        onSnapshot(frame);
        break;
      case 'event':
        onEvent(frame);
        break;
      case 'error':
        // The seed's history is a nicety: a daemon without history says so.
        if (frame.subscription === 'seed') {
          stopSeeding();
        } else if (frame.subscription === 'dash' && frame.code === 'unauthorized' && state.present) {
          // The task events were refused (a token sonded no longer takes):
          // the figures go on without them.
          tasks.lock('sonded did not accept the token for command output. Enter it again.');
          subscribeDash(COLLECTORS.filter((c) => state.present.has(c)));
        } else
          console.warn('sonded:', frame.code, frame.message);
        break;
    }
  }

  // Set up ---------------------------------------------------------------

  function readColors() {
    const style = window.getComputedStyle(document.documentElement);
    const get = (name) => style.getPropertyValue(name).trim();
    return {
      cpu: get('--cpu'), iowait: get('--iowait'), mem: get('--mem'), swap: get('--swap'),
      read: get('--read'), write: get('--write'), rx: get('--rx'), tx: get('--tx'),
      grid: get('--grid'), panel: get('--panel'), border: get('--panel-border'),
      text: get('--text'), text3: get('--text-3'), font: get('--font'),
    };
  }

  function setUpCharts() {
    for (const canvas of document.querySelectorAll('canvas[data-chart]')) {
      const options = CHARTS[canvas.dataset.chart];
      charts.set(canvas.dataset.chart, new Sonde.TimeChart(canvas, {
        ...options,
        windowMs: HISTORY_SECONDS * 1000,
        intervalMs: INTERVAL_MS,
        onDirty: () => schedule('charts'),
      }));
    }
    const applyColors = () => {
      const colors = readColors();
      for (const chart of charts.values())
        chart.setColors(colors);
    };
    applyColors();
    window.matchMedia('(prefers-color-scheme: dark)').addEventListener('change', applyColors);
  }

  function setUpTokenDialog() {
    const dialog = $('token-dialog');
    const form = $('token-form');
    const input = $('token-input');

    form.addEventListener('submit', async (event) => {
      // Never a navigation: the token must not reach any URL of the page.
      event.preventDefault();
      const token = input.value.trim();
      if (!token)
        return;
      // Checked first, so that a wrong token is said so here even where
      // the metrics are open without one.
      const access = await tasks.check(token);
      if (access === 'rejected') {
        $('token-error').hidden = false;
        input.select();
        return;
      }
      input.value = '';
      $('token-error').hidden = true;
      dialog.close();
      tasks.setAccess(access === 'unknown' ? 'locked' : access,
        access === 'unknown' ? 'sonded did not answer; try the token again.' : '');
      connection.setToken(token);
    });
  }

  function askToken() {
    const dialog = $('token-dialog');
    if (!dialog.open)
      dialog.showModal();
    $('token-input').focus();
  }

  function onState(kind, detail) {
    const previous = state.connection;
    state.connection = kind;
    state.connectionDetail = detail;
    updateCountdown();
    schedule('connection');

    const dialog = $('token-dialog');
    if (kind === 'unauthorized') {
      tasks.lock();
      $('token-error').hidden = !detail.rejected;
      if (!dialog.open)
        dialog.showModal();
      $('token-input').focus();
    } else if (dialog.open && previous === 'unauthorized' && kind === 'live') {
      dialog.close();
    }
  }

  function start() {
    bind();
    setUpCharts();
    setUpTokenDialog();

    connection = new Sonde.Connection({
      onFrame,
      onState,
      onOpen: () => {
        seeding = false;
        streaming = false;
        connection.send({ type: 'catalog' });
      },
    });
    tasks = new Sonde.TaskPanel(connection, askToken, () => schedule('tasks'));

    $('conn-retry').addEventListener('click', () => {
      if (state.connection === 'unauthorized') {
        askToken();
      } else {
        connection.retryNow();
      }
    });

    connection.start();
    schedule('values');
    schedule('events');
    schedule('connection');
    schedule('tasks');
  }

  start();
})();
