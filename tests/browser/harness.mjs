// SPDX-License-Identifier: LGPL-2.1-or-later
// What the browser tests share: sonded daemons started and stopped by PID,
// Debian's chromium (headless, through playwright-core), and a TAP runner.

import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const SONDED = process.env.SONDED;
const CHROMIUM = process.env.SONDE_CHROMIUM || '/usr/bin/chromium';
export const LAPTOP = { width: 1366, height: 768 };
export const PHONE = { width: 390, height: 844 };
// Chromium's own traffic (component updates, sync, field trials) has no
// network here: without these flags it stalls, or has its connections refused.
const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--disable-default-apps', '--disable-extensions', '--mute-audio',
];

// What to undo at the end, last first: daemons, directories, browsers.
export const cleanups = [];

// playwright-core, as run-browser-tests installed it into MODULES_DIR.
export function playwright(modulesDir) {
  return createRequire(path.join(modulesDir, 'package.json'))('playwright-core');
}

export function log(line) {
  process.stdout.write(line + '\n');
}

export function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export function assert(condition, message) {
  if (!condition)
    throw new Error(message);
}

// Daemons -------------------------------------------------------------------

export class Daemon {
  constructor(args = []) {
    this.args = args;
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sonded-browser-'));
    this.process = null;
    this.port = null;
    cleanups.push(() => this.close());
  }

  async start(port = 0) {
    const out = path.join(this.dir, 'stdout');
    const err = path.join(this.dir, 'stderr');
    // Files rather than pipes: nobody has to keep reading them.
    const stdout = fs.openSync(out, 'w');
    const stderr = fs.openSync(err, 'w');
    const env = {
      ...process.env,
      XDG_CONFIG_HOME: path.join(this.dir, 'config'),
      DBUS_SESSION_BUS_ADDRESS: 'disabled:',
    };
    this.process = spawn(SONDED, ['--address', '127.0.0.1', '--port', String(port), ...this.args],
      { env, stdio: ['ignore', stdout, stderr] });
    fs.closeSync(stdout);
    fs.closeSync(stderr);
    this.exited = new Promise((resolve) => this.process.once('exit', (code, signal) => resolve({ code, signal })));

    const deadline = Date.now() + 10000;
    while (Date.now() < deadline) {
      const text = fs.readFileSync(out, 'utf8');
      const match = /^listening on ws:\/\/127\.0\.0\.1:(\d+)\/ws\/v1\n/.exec(text);
      if (match) {
        this.port = Number(match[1]);
        return this;
      }
      if (this.process.exitCode !== null)
        throw new Error(`sonded exited (${this.process.exitCode}): ${fs.readFileSync(err, 'utf8')}`);
      await sleep(20);
    }
    throw new Error('sonded printed no URL within 10 s');
  }

  get url() {
    return `http://127.0.0.1:${this.port}/`;
  }

  // SIGTERM by PID, then SIGKILL by PID.
  async stop() {
    if (!this.process || this.process.exitCode !== null || this.process.signalCode !== null)
      return;
    this.process.kill('SIGTERM');
    const result = await Promise.race([this.exited, sleep(10000).then(() => null)]);
    if (result === null) {
      this.process.kill('SIGKILL');
      await this.exited;
    }
  }

  async close() {
    await this.stop();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }

  async json(pathname, headers = {}) {
    const response = await fetch(`http://127.0.0.1:${this.port}${pathname}`, { headers });
    assert(response.ok, `${pathname} answered ${response.status}`);
    return response.json();
  }
}

// A daemon of its own, started with the sonde.conf that @text (dir) gives,
// dir being the configuration's own directory (0600: it may hold a token).
export async function configuredDaemon(text, args = []) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sonde-config-'));
  cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
  const config = path.join(dir, 'sonde.conf');
  fs.writeFileSync(config, text(dir), { mode: 0o600 });
  return new Daemon(['--config', config, ...args]).start();
}

// Browser -------------------------------------------------------------------

export async function launch(chromium) {
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sonde-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: LAPTOP,
    timeout: 60000,
  });
  cleanups.push(async () => {
    await context.close().catch(() => {});
    fs.rmSync(userDataDir, { recursive: true, force: true });
  });
  return context;
}

// Runner --------------------------------------------------------------------

// Runs @tests ({name, body}) in order and prints TAP. After a failure,
// keepGoing() says whether the later tests can still run; finish() runs
// before the cleanups. Exits the process.
export async function runTests(tests, { keepGoing = () => true, finish = () => {} } = {}) {
  let failed = 0;
  try {
    log(`1..${tests.length}`);
    for (const [index, { name, body }] of tests.entries()) {
      const started = Date.now();
      try {
        await body();
        log(`ok ${index + 1} - ${name} (${Date.now() - started} ms)`);
      } catch (error) {
        failed++;
        log(`not ok ${index + 1} - ${name}`);
        for (const line of String(error.stack || error).split('\n'))
          log(`# ${line}`);
        if (!keepGoing())
          break;
      }
    }
    finish();
  } catch (error) {
    log(`Bail out! ${error.stack || error}`);
    failed++;
  }
  for (const cleanup of cleanups.reverse())
    await Promise.resolve(cleanup()).catch((error) => log(`# cleanup: ${error}`));
  process.exit(failed ? 1 : 0);
}
