// SPDX-License-Identifier: LGPL-2.1-or-later
// The "Browser Example" of the vStats WebSocket document, in Chromium,
// against a Sonde hub with one agent: vstats-browser-example.js is that
// code block byte for byte. It must connect, log a CPU line for each of
// the two servers (the hub's host and the agent), and see the hub go.
//
//   node test-vstats-example.mjs MODULES_DIR OUTPUT_DIR
//
// The example dials ws://localhost:3001/ws, vStats' port, which the hub
// serves with --compat vstats. Where something else holds port 3001 here,
// the port in that one URL is changed to a free one, and the test says so.
// Its page comes from another loopback port, as vStats' web app does, and
// the hub's allowed-origins lets that origin in.

import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';

import {
  Daemon, assert, cleanups, configuredDaemon, launch, log, playwright, runTests, sleep,
} from './harness.mjs';

const [modulesDir] = process.argv.slice(2);
const { chromium } = playwright(modulesDir);
const EXAMPLE = fs.readFileSync(new URL('./vstats-browser-example.js', import.meta.url), 'utf8');
const SEED_PORT = 3001;
const TOKEN = crypto.randomBytes(16).toString('hex');

// Whether 127.0.0.1:@port can be listened on; 0 gives the port it got.
function listenOnce(port) {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(null));
    server.listen(port, '127.0.0.1', () => {
      const { port: got } = server.address();
      server.close(() => resolve(got));
    });
  });
}

// Waits for @condition; the page's console so far goes into the failure.
async function waitFor(what, condition, lines, timeout = 20000) {
  const deadline = Date.now() + timeout;
  while (!condition()) {
    assert(Date.now() < deadline, `no ${what} within ${timeout} ms; the console said:\n` +
      lines.map((line) => `${line.type}: ${line.text}`).join('\n'));
    await sleep(50);
  }
}

// A web server on 127.0.0.1 with a page whose one script is @script.
async function serveWebApp(script) {
  const server = http.createServer((request, response) => {
    const isScript = request.url === '/example.js';
    response.writeHead(200, { 'Content-Type': isScript ? 'text/javascript' : 'text/html' });
    response.end(isScript ? script : '<!doctype html><title>vStats</title><script src="example.js"></script>');
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise((resolve) => server.close(resolve)));
  return server;
}

const tests = [];

tests.push({
  name: "the seed's browser example runs unchanged against a hub with an agent",
  body: async () => {
    const port = (await listenOnce(SEED_PORT)) ?? (await listenOnce(0));
    let example = EXAMPLE;
    if (port !== SEED_PORT) {
      example = EXAMPLE.replace(`localhost:${SEED_PORT}`, `localhost:${port}`);
      log(`# port ${SEED_PORT} is taken here: the example dials localhost:${port} instead`);
    }

    const webApp = await serveWebApp(example);
    const hub = await configuredDaemon(() =>
      `[server]\nallowed-origins=http://localhost:${webApp.address().port}\n` +
      `[agent browser-agent]\ntoken=${TOKEN}\nlocation=Lab\n`,
      ['--compat', `vstats:${port}`]);
    const agent = await new Daemon(['--agent-of', `ws://127.0.0.1:${port}/ws/agent`, '--token', TOKEN]).start();

    const context = await launch(chromium);
    const page = await context.newPage();
    const lines = [];
    page.on('console', (message) => lines.push({ type: message.type(), text: message.text() }));
    page.on('pageerror', (error) => lines.push({ type: 'exception', text: error.message }));

    // vStats' web app, served from another port of this machine, as its
    // dashboards are: the hub allows that origin. Its page's one script is
    // the example.
    const origin = `http://localhost:${webApp.address().port}`;
    await page.goto(`${origin}/`);

    // "Server ID: CPU 12.5%" for the hub's host and for the agent.
    const cpuLines = () => lines.map((line) => /^Server (\S+): CPU (\S+)%$/.exec(line.text)).filter(Boolean);
    await waitFor('"Connected to vStats"', () => lines.some((line) => line.text === 'Connected to vStats'), lines);
    await waitFor('CPU lines of two servers', () => new Set(cpuLines().map((m) => m[1])).size >= 2, lines);
    for (const [, id, usage] of cpuLines()) {
      const value = Number(usage);
      assert(Number.isFinite(value) && value >= 0 && value <= 100, `server ${id}: CPU ${usage}`);
    }
    const ids = [...new Set(cpuLines().map((m) => m[1]))];
    const status = await hub.json('/status');
    assert(status.vstats.servers === 2, `the hub knows ${status.vstats.servers} servers`);
    log(`# ${cpuLines().length} CPU lines, servers ${ids.join(', ')}`);
    const problems = lines.filter((line) => line.type === 'error' || line.type === 'exception');
    assert(problems.length === 0, `before the hub went: ${JSON.stringify(problems)}`);

    // The hub goes away: the example says so.
    await hub.stop();
    await waitFor('"Disconnected"', () => lines.some((line) => line.text === 'Disconnected'), lines);
    await agent.stop();
  },
});

runTests(tests);
