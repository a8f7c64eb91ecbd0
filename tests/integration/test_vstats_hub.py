#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""A vstats hub and its agents: three sonded on loopback.

One sonded is the hub ([hub], [agent NAME] in its configuration), two run
`--agent-of ws://127.0.0.1:PORT/ws/agent --token T`. Dashboards speak the
vstats browser dashboard (docs/formats/vstats.md) with python3-websockets:
server_added, status, metrics with metrics.cpu.usage. The hub is stopped
and started again on the same port: the agents reconnect and replay, and
its history has every second of the outage, in order.
"""

import asyncio
import hashlib
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "robustness"))
from sondedtest import Daemon, RawWebSocket, free_port, port_is_free  # noqa: E402
from attacktest import frame, handshake, read_frames_until_close  # noqa: E402

try:
    import websockets
except ImportError:
    print("python3-websockets is not available: skipping")
    sys.exit(77)

TIMEOUT = 15
TOKENS = {
    "a1": "a1-token-0123456789abcdef",
    "a2": "a2-token-0123456789abcdef",
    "raw": "raw-token-0123456789abcdef",
}
HUB_CONFIG = f"""[hub]
offline-after-seconds=3
remove-after-seconds=6
location=Test-Lab

[agent a1]
token={TOKENS["a1"]}
location=EU-West

[agent a2]
token={TOKENS["a2"]}
location=US-East

[agent raw]
token={TOKENS["raw"]}
"""


def agent_id(name):
    return hashlib.sha256(f"sonde-vstats-agent\n{name}".encode()).hexdigest()[:16]


def local_id():
    """What the hub calls this machine: from /etc/machine-id, as sonded does."""
    for path in ("/etc/machine-id", "/var/lib/dbus/machine-id"):
        try:
            with open(path) as f:
                machine_id = f.read().strip()
        except OSError:
            continue
        if machine_id:
            return hashlib.sha256(f"sonde-vstats-machine\n{machine_id}".encode()).hexdigest()[:16]
    return hashlib.sha256(f"sonde-vstats-hostname\n{os.uname().nodename}".encode()).hexdigest()[:16]


class Dashboard(threading.Thread):
    """The seed's browser example, in a thread: it logs every message, and
    "Server ID: CPU N%" for metrics, as the example does."""

    def __init__(self, url):
        super().__init__(daemon=True)
        self.url = url
        self.messages = []
        self.lines = []
        self.cond = threading.Condition()
        self.stopping = False
        self.error = None
        self.start()

    def run(self):
        try:
            asyncio.run(self.main())
        except Exception as error:  # noqa: BLE001 - reported to the test
            with self.cond:
                self.error = error
                self.cond.notify_all()

    async def main(self):
        async with websockets.connect(self.url, open_timeout=TIMEOUT) as ws:
            while not self.stopping:
                try:
                    text = await asyncio.wait_for(ws.recv(), 0.2)
                except asyncio.TimeoutError:
                    continue
                message = json.loads(text)
                with self.cond:
                    if message["type"] == "metrics":
                        server_id, metrics = message["data"]["server_id"], message["data"]["metrics"]
                        self.lines.append(f"Server {server_id}: CPU {metrics['cpu']['usage']}%")
                    self.messages.append((time.monotonic(), message))
                    self.cond.notify_all()

    def wait_for(self, predicate, timeout=TIMEOUT, after=0):
        """The first message from index @after on that satisfies @predicate."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for index in range(after, len(self.messages)):
                    if predicate(self.messages[index][1]):
                        return index, self.messages[index][1]
                if self.error is not None:
                    raise AssertionError(f"the dashboard failed: {self.error!r}")
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    types = [m["type"] for _, m in self.messages[-20:]]
                    raise AssertionError(f"no such message within {timeout} s; last: {types}")
                self.cond.wait(remaining)

    def close(self):
        self.stopping = True
        self.join(5)


def about(kind, server_id, **data):
    def predicate(message):
        if message.get("type") != kind:
            return False
        body = message.get("data", {})
        if body.get("server_id", body.get("id")) != server_id:
            return False
        return all(body.get(key) == value for key, value in data.items())
    return predicate


def http_json(port, path, timeout=TIMEOUT):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=timeout) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def history_seconds(port, host, metric="cpu.cores"):
    status, body = http_json(port, f"/api/v1/history?host={host}&metric={metric}&seconds=600")
    assert status == 200, body
    return [point[0] // 1000 for point in body["points"]]


def agent_closed_with(port, path):
    """Connects as an agent and returns the close code and reason."""
    async def run():
        async with websockets.connect(f"ws://127.0.0.1:{port}{path}", open_timeout=TIMEOUT) as ws:
            try:
                await asyncio.wait_for(ws.recv(), TIMEOUT)
            except websockets.ConnectionClosed:
                pass
            return ws.close_code, ws.close_reason
    return asyncio.run(run())


def seed_report(hostname="raw-host", usage=45.2, timestamp=None):
    data = {
        "hostname": hostname,
        "os": {"name": "Ubuntu", "version": "22.04", "kernel": "5.15.0", "arch": "x86_64"},
        "cpu": {"brand": "Intel Core i7", "cores": 8, "usage": usage, "frequency": 3600,
                "per_core": [40, 50, 45, 42, 48, 46, 44, 47]},
        "memory": {"total": 17179869184, "used": 8589934592, "available": 8589934592,
                   "swap_total": 4294967296, "swap_used": 1073741824, "usage_percent": 50.0},
        "disks": [{"name": "sda1", "mount_point": "/", "fs_type": "ext4", "total": 107374182400,
                   "used": 53687091200, "available": 53687091200, "usage_percent": 50.0}],
        "network": {"interfaces": [{"name": "eth0", "rx": 1073741824, "tx": 536870912}],
                    "total_rx": 1073741824, "total_tx": 536870912},
        "uptime": 86400,
        "load_average": {"one": 0.5, "five": 0.7, "fifteen": 0.6},
    }
    if timestamp is not None:
        data["timestamp"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(timestamp))
    return {"type": "metrics", "data": data}


class VstatsHubTest(unittest.TestCase):

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="sonde-vstats-")
        self.addCleanup(shutil.rmtree, self.tmp, ignore_errors=True)
        self.config = os.path.join(self.tmp, "hub.conf")
        with open(self.config, "w") as f:
            f.write(HUB_CONFIG)

    def start(self, *args):
        daemon = Daemon(*args).start()
        self.addCleanup(daemon.close)
        daemon.wait_for_url()
        return daemon

    def start_hub(self, port=0):
        # The port of a hub that was just stopped may take a moment to free.
        deadline = time.monotonic() + TIMEOUT
        while port != 0 and not port_is_free(port) and time.monotonic() < deadline:
            time.sleep(0.1)
        return self.start("--port", str(port), "--config", self.config)

    def start_agent(self, hub, name):
        return self.start("--port", "0", "--agent-of", f"ws://127.0.0.1:{hub.port}/ws/agent",
                          "--token", TOKENS[name])

    def test_hub_and_two_agents(self):
        hub = self.start_hub()
        agents = {name: self.start_agent(hub, name) for name in ("a1", "a2")}

        # The seed's browser example: every server, this one first, then
        # metrics with metrics.cpu.usage.
        dashboard = Dashboard(f"ws://127.0.0.1:{hub.port}/ws")
        self.addCleanup(dashboard.close)
        _, first = dashboard.wait_for(lambda m: True)
        self.assertEqual(first, {"type": "server_added",
                                 "data": {"id": local_id(), "name": os.uname().nodename, "location": "Test-Lab"}})
        dashboard.wait_for(about("status", local_id(), online=True))
        for name, location in (("a1", "EU-West"), ("a2", "US-East")):
            dashboard.wait_for(about("server_added", agent_id(name), name=name, location=location))
            dashboard.wait_for(about("status", agent_id(name), online=True))
            index, metrics = dashboard.wait_for(about("metrics", agent_id(name)))
            usage = metrics["data"]["metrics"]["cpu"]["usage"]
            self.assertTrue(0 <= usage <= 100, usage)
            self.assertEqual(metrics["data"]["metrics"]["hostname"], os.uname().nodename)
            self.assertIn("rx", metrics["data"]["metrics"]["network"])
            self.assertRegex(metrics["timestamp"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
            self.assertIn(f"Server {agent_id(name)}: CPU {usage}%", dashboard.lines)
        dashboard.wait_for(about("metrics", local_id()))

        # Every second a metrics message per server.
        start = len(dashboard.messages)
        time.sleep(3.2)
        for server_id in (local_id(), agent_id("a1"), agent_id("a2")):
            count = sum(1 for _, m in dashboard.messages[start:] if about("metrics", server_id)(m))
            self.assertGreaterEqual(count, 2, server_id)
            self.assertLessEqual(count, 5, server_id)

        # The hub goes away; the agents buffer; it comes back on its port.
        port = hub.port
        before = {name: history_seconds(port, name) for name in agents}
        self.assertEqual(hub.stop(), 0)
        stopped_at = time.time()
        time.sleep(5)
        hub = self.start_hub(port)
        restarted_at = time.time()
        self.assertEqual(hub.port, port)

        # Each agent's history on the new hub: from the first second the
        # old hub had not acknowledged to now, not one missing, in order.
        for name in agents:
            deadline = time.monotonic() + 40
            while True:
                status, body = http_json(port, f"/api/v1/history?host={name}&metric=cpu.cores&seconds=600")
                seconds = [point[0] // 1000 for point in body.get("points", [])] if status == 200 else []
                if seconds and seconds[-1] >= restarted_at + 1 and seconds[0] <= stopped_at + 1:
                    break
                self.assertLess(time.monotonic(), deadline, f"{name} did not replay: {status} {seconds}")
                time.sleep(0.5)
            self.assertEqual(seconds, sorted(set(seconds)), "out of order or repeated")
            self.assertEqual(seconds, list(range(seconds[0], seconds[-1] + 1)), f"{name}: a second is missing")
            # Contiguous with what the old hub had: nothing fell between.
            self.assertLessEqual(seconds[0], before[name][-1] + 3)
            self.assertGreaterEqual(len(seconds), 5)
        status, body = http_json(port, "/status")
        self.assertGreater(body["vstats"]["reports_replayed"], 0)
        self.assertEqual(body["vstats"]["agents_connected"], 2)

        # A new dashboard sees both agents again.
        dashboard.close()
        dashboard = Dashboard(f"ws://127.0.0.1:{port}/ws")
        self.addCleanup(dashboard.close)
        for name in agents:
            dashboard.wait_for(about("server_added", agent_id(name)))
            dashboard.wait_for(about("metrics", agent_id(name)))

        # An agent that vanishes goes offline, then is removed.
        os.kill(agents["a2"].pid, signal.SIGKILL)
        agents["a2"].wait(TIMEOUT)
        gone_at = time.monotonic()
        index, _ = dashboard.wait_for(about("status", agent_id("a2"), online=False), timeout=TIMEOUT)
        offline_after = dashboard.messages[index][0] - gone_at
        self.assertGreaterEqual(offline_after, 1.5)
        index, removed = dashboard.wait_for(about("server_removed", agent_id("a2")), timeout=TIMEOUT, after=index)
        self.assertEqual(removed, {"type": "server_removed", "data": {"id": agent_id("a2")}})
        self.assertGreaterEqual(dashboard.messages[index][0] - gone_at, 5)
        # The other one is served as ever.
        dashboard.wait_for(about("metrics", agent_id("a1")), after=index)
        self.assertEqual(http_json(port, "/api/v1/snapshot?host=a2")[0], 404)
        self.assertEqual(http_json(port, "/api/v1/snapshot?host=a1")[0], 200)

    def test_bad_agents_leave_the_others_served(self):
        hub = self.start_hub()
        agent = self.start_agent(hub, "a1")
        dashboard = Dashboard(f"ws://127.0.0.1:{hub.port}/ws")
        self.addCleanup(dashboard.close)
        dashboard.wait_for(about("metrics", agent_id("a1")))

        # Bad tokens: closed at once with 1008.
        for path in ("/ws/agent", "/ws/agent?token=nope", f"/ws/agent?token={TOKENS['a1']}x"):
            self.assertEqual(agent_closed_with(hub.port, path), (1008, "invalid token"), path)

        raw = RawWebSocket(hub.port, f"/ws/agent?token={TOKENS['raw']}")
        self.addCleanup(raw.close)

        # Malformed and oversized reports: an error each, and the
        # connection lives on.
        cases = [
            ("{not json", "Invalid JSON"),
            (json.dumps({"type": "metrics", "data": {"cpu": {"usage": 500}}}), "Invalid report: cpu.usage"),
            (json.dumps({"type": "metrics", "data": {"memory": {"total": -1}}}), "Invalid report: memory.total"),
            (json.dumps({"type": "metrics", "data": {"disks": "none"}}), "Invalid report: disks"),
            (json.dumps({"type": "metrics", "data": {"hostname": "h" * 1000}}), "Invalid report: hostname"),
            (json.dumps({"type": "metrics", "data": {"hostname": "x" * (100 * 1024)}}), "Message of"),
        ]
        for text, expected in cases:
            raw.send_text(text)
            reply = raw.recv_json()
            self.assertEqual(reply["type"], "error")
            self.assertTrue(reply["message"].startswith(expected), reply)
        # The seed's own report goes through.
        raw.send_json(seed_report(timestamp=time.time() - 5))
        _, metrics = dashboard.wait_for(about("metrics", agent_id("raw")))
        self.assertEqual(metrics["data"]["metrics"]["cpu"]["usage"], 45.2)
        self.assertEqual(metrics["data"]["metrics"]["memory"]["total"], 17179869184)

        # A flood: refused beyond the limit, with an error.
        base = time.time() - 300
        for i in range(200):
            raw.send_json(seed_report(timestamp=base + i))
        deadline = time.monotonic() + TIMEOUT
        while True:
            reply = raw.recv_json()
            if reply["type"] == "error" and reply["message"].startswith("Too many"):
                break
            self.assertLess(time.monotonic(), deadline)
        status, body = http_json(hub.port, "/status")
        self.assertGreater(body["vstats"]["reports_rate_limited"], 0)
        self.assertGreaterEqual(body["vstats"]["reports_rejected"], len(cases))
        self.assertEqual(body["vstats"]["tokens_refused"], 3)

        # The real agent's reports still reach the dashboard.
        start = len(dashboard.messages)
        dashboard.wait_for(about("metrics", agent_id("a1")), after=start)
        self.assertIsNone(agent.process.poll())
        self.assertIsNone(hub.process.poll())

    def test_agents_pass_the_servers_other_guards(self):
        # The agents' route asks for the agents' own tokens instead of the
        # server's; the other guards are the same as everywhere: the Host
        # check, and the listener's byte budget under every connection.
        hub = self.start_hub()
        self.start_agent(hub, "a1")
        dashboard = Dashboard(f"ws://127.0.0.1:{hub.port}/ws")
        self.addCleanup(dashboard.close)
        dashboard.wait_for(about("metrics", agent_id("a1")))

        # A token cut short by a NUL is not the token.
        self.assertEqual(agent_closed_with(hub.port, f"/ws/agent?token={TOKENS['raw']}%00x"),
                         (1008, "invalid token"))

        # DNS rebinding: a Host that is not this daemon's.
        with socket.create_connection(("127.0.0.1", hub.port), timeout=TIMEOUT) as sock:
            sock.sendall((f"GET /ws/agent?token={TOKENS['raw']} HTTP/1.1\r\nHost: evil.example\r\n"
                          "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                          "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                          "Sec-WebSocket-Version: 13\r\n\r\n").encode("ascii"))
            self.assertTrue(sock.recv(4096).startswith(b"HTTP/1.1 421"))

        # An agent with a good token sending a message that never ends is
        # closed with 1009 once a message's worth of bytes came.
        sock, _, _ = handshake(hub.port, f"/ws/agent?token={TOKENS['raw']}")
        chunk = b"a" * (64 * 1024)
        closed = threading.Event()
        code = []

        def reader():
            code.append(read_frames_until_close(sock, timeout=30))
            closed.set()

        threading.Thread(target=reader, daemon=True).start()
        sock.sendall(frame(0x1, chunk, fin=False))
        sent = len(chunk)
        try:
            while not closed.is_set() and sent < 64 * 1024 * 1024:
                sock.sendall(frame(0x0, chunk, fin=False))
                sent += len(chunk)
        except OSError:
            pass
        closed.wait(30)
        sock.close()
        self.assertEqual(code, [1009])
        self.assertLess(sent, 8 * 1024 * 1024)

        # The agent with manners is served on.
        start = len(dashboard.messages)
        dashboard.wait_for(about("metrics", agent_id("a1")), after=start)
        self.assertIsNone(hub.process.poll())

    def test_local_id_stable_across_starts(self):
        ids = []
        for _ in range(2):
            daemon = self.start("--port", "0")
            dashboard = Dashboard(daemon.url.replace("/ws/v1", "/ws"))
            _, added = dashboard.wait_for(lambda m: m["type"] == "server_added")
            dashboard.close()
            ids.append(added["data"]["id"])
            self.assertEqual(http_json(daemon.port, "/status")[1]["vstats"]["server_id"], added["data"]["id"])
            daemon.stop()
        self.assertEqual(ids[0], ids[1])
        self.assertEqual(ids[0], local_id())

    def test_compat_listener(self):
        # --compat vstats: the seed's port 3001 when it is free, else another.
        port = 3001 if port_is_free(3001) else free_port()
        daemon = self.start("--port", "0", "--config", self.config, f"--compat=vstats:{port}")
        self.assertIn(f"compat vstats 127.0.0.1:{port}", daemon.stdout())
        agent = self.start("--port", "0", "--agent-of", f"ws://127.0.0.1:{port}/ws/agent",
                           "--token", TOKENS["a1"])
        dashboard = Dashboard(f"ws://localhost:{port}/ws")
        self.addCleanup(dashboard.close)
        dashboard.wait_for(about("metrics", agent_id("a1")))
        self.assertIsNone(agent.process.poll())

    def test_wss_with_ca_file(self):
        if shutil.which("openssl") is None:
            self.skipTest("openssl is not installed")
        cert, key = os.path.join(self.tmp, "cert.pem"), os.path.join(self.tmp, "key.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                        "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                        "-keyout", key, "-out", cert], check=True, capture_output=True, timeout=60)
        with open(self.config, "a") as f:
            f.write(f"[server]\ntls-certificate={cert}\ntls-key={key}\n")
        hub = Daemon("--port", "0", "--config", self.config).start()
        self.addCleanup(hub.close)
        deadline = time.monotonic() + TIMEOUT
        while not re.match(r"^listening on wss://127\.0\.0\.1:(\d+)/ws/v1\n", hub.stdout()):
            self.assertLess(time.monotonic(), deadline, hub.stderr())
            time.sleep(0.05)
        hub.port = int(re.match(r"^listening on wss://127\.0\.0\.1:(\d+)/", hub.stdout()).group(1))
        agent_config = os.path.join(self.tmp, "agent.conf")
        with open(agent_config, "w") as f:
            f.write(f"[agent-of]\nurl=wss://127.0.0.1:{hub.port}/ws/agent\ntoken={TOKENS['a1']}\n"
                    f"ca-file={cert}\nbuffer-reports=100\n")
        self.start("--port", "0", "--config", agent_config)
        # Without the CA, the hub's certificate is refused: nothing arrives.
        self.start("--port", "0", "--agent-of", f"wss://127.0.0.1:{hub.port}/ws/agent",
                   "--token", TOKENS["a2"])
        deadline = time.monotonic() + TIMEOUT
        context = ssl.create_default_context(cafile=cert)
        while True:
            with urllib.request.urlopen(f"https://127.0.0.1:{hub.port}/status", timeout=TIMEOUT,
                                        context=context) as response:
                body = json.loads(response.read())
            if body["vstats"]["reports_accepted"] >= 2:
                break
            self.assertLess(time.monotonic(), deadline, body["vstats"])
            time.sleep(0.3)
        with urllib.request.urlopen(f"https://127.0.0.1:{hub.port}/api/v1/snapshot?host=a1",
                                    timeout=TIMEOUT, context=context) as response:
            self.assertEqual(json.loads(response.read())["host"], "a1")
        time.sleep(2)
        with self.assertRaises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"https://127.0.0.1:{hub.port}/api/v1/snapshot?host=a2",
                                   timeout=TIMEOUT, context=context)
        self.assertEqual(refused.exception.code, 404)


if __name__ == "__main__":
    unittest.main(verbosity=2)
