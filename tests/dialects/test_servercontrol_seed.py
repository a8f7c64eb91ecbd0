#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""ServerControl's API document's clients against a real sonded, and exec.

ServerControl's WebSocket API document (docs/formats/servercontrol.md says
how Sonde speaks it) connects to ws://10.92.32.5:8082 and starts commands
with POST /exec. Here sonded serves the format on a compatibility
listener at a free port (`--compat servercontrol:PORT`, never the fixed
8082 in CI), with a token and an [exec] group in a temporary sonde.conf.
The examples run word for word but for their URI, which points at that
port and carries the token (exec is never enabled without one, and the
token then guards every route).
"""

import datetime
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from sondedtest import Daemon, free_port, run_sonded  # noqa: E402

try:
    import websockets  # noqa: F401  (the example imports it)
except ImportError:
    print("python3-websockets is not available: skipping")
    sys.exit(77)

TOKEN = "seed-test-token-5b2e"
TIMEOUT = 15
PYTHON = "/usr/bin/python3"
# Never a shell.
PROGRAMS = "/usr/bin/printf;/bin/sleep;/usr/bin/python3"
SEED_URI = "ws://10.92.32.5:8082"

# The document's "Example: Connecting with Python", word for word.
PYTHON_EXAMPLE = r'''
import asyncio
import websockets
import json
from datetime import datetime

async def connect():
    uri = "ws://10.92.32.5:8082"
    
    async with websockets.connect(uri) as websocket:
        print("Connected to ServerControl WebSocket")
        
        async for message in websocket:
            msg = json.loads(message)
            msg_type = msg.get('type')
            
            if msg_type == 'stats_update':
                print(f"Stats: CPU={msg['cpu']}%, RAM={msg['ram_used']}/{msg['ram_total']} MB")
            
            elif msg_type == 'task_output':
                timestamp = datetime.fromtimestamp(msg['timestamp'] / 1000.0)
                print(f"[{timestamp.isoformat()}] Task {msg['task_id']}: {msg['output']}", end='')
            
            elif msg_type == 'task_start':
                print(f"Task {msg['task_id']} started: {msg['command']}")
            
            elif msg_type == 'task_complete':
                print(f"Task {msg['task_id']} completed with exit code {msg['exit_code']}")
            
            elif msg_type == 'cpu_alert':
                print(f"⚠️  ALERT: {msg['message']} on {msg['hostname']} - CPU: {msg['cpu']}%")

asyncio.run(connect())
'''

# The document's "Example: Connecting with JavaScript", word for word, after
# the functions a dashboard page would define.
JS_PAGE = r'''
function updateDashboard(cpu, ramUsed, ramTotal) {
  console.log(`Dashboard: cpu=${cpu} ram=${ramUsed}/${ramTotal}`);
}
function appendToTerminal(taskId, output) {}
function showNotification(text) { console.log(`Notification: ${text}`); }
'''
JS_EXAMPLE = r'''
const ws = new WebSocket('ws://10.92.32.5:8082');

ws.onopen = () => {
  console.log('Connected to ServerControl WebSocket');
  
  // Send ping every 30 seconds
  setInterval(() => {
    ws.send(JSON.stringify({ type: 'ping' }));
  }, 30000);
};

ws.onmessage = (event) => {
  const msg = JSON.parse(event.data);
  
  switch(msg.type) {
    case 'stats_update':
      updateDashboard(msg.cpu, msg.ram_used, msg.ram_total);
      break;
      
    case 'task_output':
      appendToTerminal(msg.task_id, msg.output);
      console.log(`[${new Date(msg.timestamp).toISOString()}] ${msg.output}`);
      break;
      
    case 'task_start':
      console.log(`Task ${msg.task_id} started: ${msg.command}`);
      break;
      
    case 'task_complete':
      console.log(`Task ${msg.task_id} completed with exit code ${msg.exit_code}`);
      break;
      
    case 'cpu_alert':
      showNotification(`⚠️ ${msg.hostname}: ${msg.message} (${msg.cpu}%)`);
      break;
      
    case 'pong':
      console.log('Ping received');
      break;
  }
};

ws.onerror = (error) => {
  console.error('WebSocket error:', error);
};

ws.onclose = () => {
  console.log('WebSocket connection closed');
};
'''

# Three lines, 300 ms apart: streamed, each when it is written.
TASK_CODE = "import time\nfor i in range(3):\n    print(f'Processing item {i}...')\n    time.sleep(0.3)"
TASK_COMMAND = shlex.join(["python3", "-u", "-c", TASK_CODE])


def write_config(directory, text):
    path = os.path.join(directory, "sonde.conf")
    with open(path, "w") as f:
        f.write(text)
    # It holds a token: private, or sonded warns.
    os.chmod(path, 0o600)
    return path


def exec_config(extra=""):
    return (f"[server]\ntoken={TOKEN}\n"
            f"[exec]\nenabled=true\nallowed-programs={PROGRAMS}\n{extra}")


def request(port, path, body=None, token=TOKEN, content_type="application/json", method=None):
    """(status, parsed JSON body) of an HTTP request to sonded."""
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, method=method)
    if content_type is not None and data is not None:
        req.add_header("Content-Type", content_type)
    if token is not None:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=TIMEOUT) as response:
            return response.status, json.loads(response.read().decode())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read().decode())


def wait_for(predicate, what, timeout=TIMEOUT):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


class Client:
    """An example run as its own process, its stdout in a file; stopped by PID."""

    def __init__(self, test, args, env=None):
        self.path = os.path.join(test.tmp.name, f"client-{len(os.listdir(test.tmp.name))}.out")
        with open(self.path, "wb") as out:
            self.process = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT,
                                            stdin=subprocess.DEVNULL, env={**os.environ, **(env or {})})
        test.addCleanup(self.stop)

    def output(self):
        with open(self.path, encoding="utf-8", errors="replace") as f:
            return f.read()

    def wait_for_line(self, pattern, timeout=TIMEOUT):
        regex = re.compile(pattern, re.MULTILINE)

        def found():
            text = self.output()
            if self.process.poll() is not None and not regex.search(text):
                raise AssertionError(f"the client exited ({self.process.returncode}): {text}")
            return regex.search(text)
        return wait_for(found, f"{pattern!r} from the client")

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


class ServercontrolSeedTest(unittest.TestCase):

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="sonde-servercontrol-")
        self.addCleanup(self.tmp.cleanup)
        config = write_config(self.tmp.name, exec_config())
        # A probed free port, as an operator would give one.
        self.port = free_port()
        self.daemon = Daemon("--port", "0", "--config", config, f"--compat=servercontrol:{self.port}").start()
        self.addCleanup(self.daemon.close)
        self.daemon.wait_for_url()
        wait_for(lambda: f"compat servercontrol 127.0.0.1:{self.port}" in self.daemon.stdout(),
                 "the compat line")
        self.uri = f"ws://127.0.0.1:{self.port}/?token={TOKEN}"

    def start_task(self):
        status, answer = request(self.port, "/exec", {"command": TASK_COMMAND})
        self.assertEqual(status, 202, answer)
        self.assertEqual(sorted(answer), ["command", "task_id"])
        self.assertEqual(answer["command"], TASK_COMMAND)
        self.assertRegex(answer["task_id"], r"^\d+$")
        return answer["task_id"]

    def test_python_example(self):
        script = os.path.join(self.tmp.name, "example.py")
        with open(script, "w") as f:
            f.write(PYTHON_EXAMPLE.replace(SEED_URI, self.uri))
        # Unbuffered only so that the test reads its lines as they come.
        client = Client(self, [PYTHON, script], env={"PYTHONUNBUFFERED": "1"})
        client.wait_for_line(r"^Connected to ServerControl WebSocket$")
        client.wait_for_line(r"^Stats: CPU=")

        task_id = self.start_task()
        client.wait_for_line(rf"^Task {task_id} completed with exit code 0$")
        printed = client.output()
        print(printed)

        stats = re.findall(r"^Stats: CPU=(\d+\.\d)%, RAM=(\d+)/(\d+) MB$", printed, re.MULTILINE)
        self.assertTrue(stats, printed)
        for cpu, used, total in stats:
            self.assertLessEqual(float(cpu), 100.0)
            self.assertLess(0, int(used))
            self.assertLess(int(used), int(total))

        self.assertIn(f"Task {task_id} started: {TASK_COMMAND}\n", printed)
        self.assertLess(printed.index(f"Task {task_id} started: "),
                        printed.index(f"Task {task_id} completed with exit code 0"))

        # The example prints each chunk after "[time] Task N: " with no
        # newline of its own; a chunk may be part of a line.
        chunks = re.findall(rf"\[([^\]]+)\] Task {task_id}: (.*?)(?=\[[^\]]+\] Task |Stats: CPU=|Task {task_id} completed)",
                            printed, re.DOTALL)
        self.assertEqual("".join(text for _, text in chunks),
                         "Processing item 0...\nProcessing item 1...\nProcessing item 2...\n")
        # Streamed as written, 300 ms apart: the time of each line's first chunk.
        stamps = [datetime.datetime.fromisoformat(stamp) for stamp, text in chunks
                  if text.startswith("Processing item")]
        self.assertEqual(len(stamps), 3, chunks)
        gaps = [(b - a).total_seconds() for a, b in zip(stamps, stamps[1:])]
        self.assertTrue(all(gap >= 0.2 for gap in gaps), gaps)

    def test_javascript_example(self):
        node = shutil.which("node")
        if node is None:
            self.skipTest("node is not installed")
        probe = subprocess.run([node, "--experimental-websocket", "-e", "process.exit(typeof WebSocket === 'function' ? 0 : 1)"],
                               capture_output=True, timeout=TIMEOUT)
        if probe.returncode != 0:
            self.skipTest("this node has no WebSocket")

        script = os.path.join(self.tmp.name, "example.js")
        with open(script, "w") as f:
            f.write(JS_PAGE + JS_EXAMPLE.replace(SEED_URI, self.uri))
        client = Client(self, [node, "--experimental-websocket", "--no-warnings", script])
        client.wait_for_line(r"^Connected to ServerControl WebSocket$")
        client.wait_for_line(r"^Dashboard: cpu=\d+(\.\d)? ram=\d+/\d+$")

        task_id = self.start_task()
        client.wait_for_line(rf"^Task {task_id} completed with exit code 0$")
        printed = client.output()
        print(printed)
        self.assertIn(f"Task {task_id} started: python3 -u -c", printed)
        # One console.log per chunk; a chunk may be a bare "\n".
        outputs = re.findall(r"^\[(\d{4}-\d\d-\d\dT[\d:.]+Z)\] (.*)$", printed, re.MULTILINE)
        self.assertEqual([text for _, text in outputs if text],
                         ["Processing item 0...", "Processing item 1...", "Processing item 2..."])
        self.assertNotIn("WebSocket error", printed)

    def test_format_and_ping(self):
        import asyncio

        async def run():
            async with websockets.connect(self.uri, open_timeout=TIMEOUT) as ws:
                stats = json.loads(await asyncio.wait_for(ws.recv(), TIMEOUT))
                await ws.send(json.dumps({"type": "ping"}))
                await ws.send("not json")
                replies = [json.loads(await asyncio.wait_for(ws.recv(), TIMEOUT)) for _ in range(2)]
                return stats, [r for r in replies if r["type"] != "stats_update"]

        stats, replies = asyncio.run(run())
        self.assertEqual(sorted(stats), ["cpu", "ram_total", "ram_used", "timestamp", "type"])
        self.assertIsInstance(stats["cpu"], float)
        self.assertIsInstance(stats["ram_used"], int)
        self.assertIsInstance(stats["ram_total"], int)
        self.assertEqual(stats["timestamp"] % 1000, 0)
        self.assertLess(abs(stats["timestamp"] / 1000 - time.time()), 5)
        types = [r["type"] for r in replies]
        self.assertIn("pong", types)

    def test_exec_on_both_listeners(self):
        # The main port serves POST /exec and /ws/servercontrol too.
        for port in (self.daemon.port, self.port):
            status, answer = request(port, "/exec", {"argv": ["printf", "%s", "$(id); rm -rf /"]})
            self.assertEqual(status, 202, answer)
            task = wait_for(lambda: (lambda s: s if s[1]["status"] == "finished" else None)(
                request(port, f"/exec/{answer['task_id']}")), "the task to finish")[1]
            self.assertEqual(task["output"], "$(id); rm -rf /")
            self.assertEqual(task["exit_code"], 0)

    def test_exec_security(self):
        port = self.daemon.port
        body = {"command": "printf hello"}
        self.assertEqual(request(port, "/exec", body, token=None)[0], 401)
        self.assertEqual(request(port, "/exec", body, token="wrong")[0], 401)
        status, answer = request(port, "/exec", body, content_type="text/plain")
        self.assertEqual((status, answer["code"]), (415, "unsupported_media_type"))
        status, answer = request(port, "/exec", {"command": "sh -c id"})
        self.assertEqual((status, answer["code"]), (403, "program_not_allowed"))
        status, answer = request(port, "/exec", {"argv": ["/bin/bash", "-c", "id"]})
        self.assertEqual((status, answer["code"]), (403, "program_not_allowed"))
        status, answer = request(port, "/exec", {"cmd": "printf"})
        self.assertEqual((status, answer["code"]), (400, "invalid_request"))

        # Every start and end is logged with the caller, never the token.
        status, answer = request(port, "/exec", body)
        self.assertEqual(status, 202)
        wait_for(lambda: "exited with code 0" in self.daemon.stderr(), "the end in the log")
        log = self.daemon.stderr()
        self.assertIn(f"exec: task {answer['task_id']} started for 127.0.0.1: /usr/bin/printf (pid ", log)
        self.assertIn(f"exec: task {answer['task_id']} for 127.0.0.1: /usr/bin/printf exited with code 0", log)
        self.assertIn("exec: refused sh for 127.0.0.1: not an allowed program", log)
        self.assertNotIn(TOKEN, log)


class ExecConfigurationTest(unittest.TestCase):

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="sonde-exec-config-")
        self.addCleanup(self.tmp.cleanup)

    def refused(self, text):
        path = write_config(self.tmp.name, text)
        status, stdout, stderr = run_sonded("--port", "0", "--config", path)
        self.assertNotEqual(status, 0)
        self.assertEqual(stdout, "")
        return path, stderr

    def test_disabled_by_default(self):
        path = write_config(self.tmp.name, f"[server]\ntoken={TOKEN}\n")
        daemon = Daemon("--port", "0", "--config", path).start()
        self.addCleanup(daemon.close)
        daemon.wait_for_url()
        status, answer = request(daemon.port, "/exec", {"command": "printf hello"})
        self.assertEqual((status, answer["code"]), (404, "exec_disabled"))

    def test_exec_without_token_refused_at_start(self):
        path, stderr = self.refused(f"[exec]\nenabled=true\nallowed-programs={PROGRAMS}\n")
        self.assertEqual(stderr, f"sonded: {path}: [exec] enabled: command execution needs a token: "
                                 "set [server] token\n")

    def test_errors_name_file_group_and_key(self):
        path, stderr = self.refused(exec_config().replace(PROGRAMS, "no-such-program-sonde"))
        self.assertEqual(stderr, f"sonded: {path}: [exec] allowed-programs: "
                                 "no program named 'no-such-program-sonde' in PATH\n")
        path, stderr = self.refused(exec_config("max-output-bytes=lots\n"))
        self.assertEqual(stderr, f"sonded: {path}: [exec] max-output-bytes: "
                                 "lots is not an integer between 1 and 2147483647\n")
        path, stderr = self.refused(exec_config("shell=/bin/sh\n"))
        self.assertEqual(stderr, f"sonded: {path}: [exec] shell: unknown key\n")

    def test_runaway_task_killed_at_its_limit(self):
        path = write_config(self.tmp.name, exec_config("timeout-seconds=1\n"))
        daemon = Daemon("--port", "0", "--config", path).start()
        self.addCleanup(daemon.close)
        daemon.wait_for_url()
        started = time.monotonic()
        status, answer = request(daemon.port, "/exec", {"command": "sleep 1000"})
        self.assertEqual(status, 202)
        task = wait_for(lambda: (lambda s: s if s[1]["status"] == "finished" else None)(
            request(daemon.port, f"/exec/{answer['task_id']}")), "the task to be killed")[1]
        self.assertEqual(task["exit_code"], 143)
        self.assertTrue(task["timed_out"])
        self.assertLess(time.monotonic() - started, 5)


if __name__ == "__main__":
    unittest.main(verbosity=2)
