#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""sonded's compatibility listeners and the dialect settings of sonde.conf.

`--compat NAME[:PORT]` (or [compat] listeners) opens a replaced product's
format at its seed's own port and path, so that the seed documents'
clients run unchanged; [resolvix] and [logs] set what those formats say.
"""

import asyncio
import json
import os
import socket
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from sondedtest import Daemon, free_port, port_is_free, run_sonded  # noqa: E402

try:
    import websockets
except ImportError:
    print("python3-websockets is not available: skipping")
    sys.exit(77)

TIMEOUT = 10


def compat_ports(daemon, names, timeout=TIMEOUT):
    """The 'compat NAME ADDRESS:PORT' lines that follow the URL line."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ports = {}
        for line in daemon.stdout().splitlines()[1:]:
            kind, name, where = line.split(" ")
            if kind == "compat":
                ports[name] = int(where.rsplit(":", 1)[1])
        if set(names) <= set(ports):
            return ports
        time.sleep(0.05)
    raise AssertionError(f"no compat lines for {names}: {daemon.stdout()!r}")


def receive(uri, count, send=None, timeout=TIMEOUT):
    async def run():
        async with websockets.connect(uri, open_timeout=timeout) as ws:
            if send is not None:
                await ws.send(json.dumps(send))
            return [json.loads(await asyncio.wait_for(ws.recv(), timeout)) for _ in range(count)]
    return asyncio.run(run())


def post_json(url, body, token):
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json",
                                              "Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
        return json.loads(response.read().decode())


def get_json(url):
    with urllib.request.urlopen(url, timeout=TIMEOUT) as response:
        return json.loads(response.read().decode())



class CompatListenersTest(unittest.TestCase):

    def start(self, *args):
        daemon = Daemon("--port", "0", *args).start()
        self.addCleanup(daemon.close)
        daemon.wait_for_url()
        return daemon

    def test_every_listener_on_its_path(self):
        names = ["kairos", "resolvix-telemetry", "resolvix-logs", "resolvix-control", "servercontrol",
                 "ziggie"]
        daemon = self.start(*[f"--compat={name}:0" for name in names])
        ports = compat_ports(daemon, names)
        # The URL stays the first line; every listener got a port of its own.
        self.assertEqual(len(set(ports.values()) | {daemon.port}), len(names) + 1)

        snapshot, = receive(f"ws://127.0.0.1:{ports['kairos']}/ws/metrics", 1)
        self.assertEqual(snapshot["type"], "Snapshot")
        self.assertIn("requests_total", snapshot)

        telemetry, = receive(f"ws://127.0.0.1:{ports['resolvix-telemetry']}", 1)
        self.assertIn("cpu_usage_percent", telemetry["metrics"]["cpu"])

        answer = post_json(f"http://127.0.0.1:{ports['resolvix-control']}/control",
                           {"command": "start_telemetry"}, daemon.token)
        self.assertIn(answer["status"], ("started", "already_running"))
        status = get_json(f"http://127.0.0.1:{ports['resolvix-control']}/status")
        self.assertEqual(sorted(status), ["livelogs", "log_file", "node_id", "telemetry"])

        ziggie, = receive(f"ws://127.0.0.1:{ports['ziggie']}/api/system/metrics", 1)
        self.assertTrue({"cpu", "memory", "disk", "timestamp"} <= set(ziggie) or "error" in ziggie)

        stats, = receive(f"ws://127.0.0.1:{ports['servercontrol']}/", 1)
        self.assertIn(stats["type"], ("stats_update", "error"))
        # Without a configured token, exec is off on its listener too (asked
        # with the token sonded made: without it, 401 before anything).
        request = urllib.request.Request(f"http://127.0.0.1:{ports['servercontrol']}/exec",
                                         data=b'{"command": "uptime"}', method="POST",
                                         headers={"Content-Type": "application/json",
                                                  "Authorization": f"Bearer {daemon.token}"})
        with self.assertRaises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=TIMEOUT)
        self.assertEqual(refused.exception.code, 404)
        self.assertEqual(json.loads(refused.exception.read())["code"], "exec_disabled")

    def test_kairos_guide_example_unchanged_on_5900(self):
        if not port_is_free(5900):
            self.skipTest("port 5900 is in use on this machine")
        self.start("--compat", "kairos")

        printed = []

        # The kairos guide's Python example (docs/formats/kairos.md), with its own
        # URI; only the loop stops after a few messages and prints to a list.
        async def consume_metrics():
            uri = "ws://localhost:5900/ws/metrics"

            async with websockets.connect(uri) as websocket:
                # Send subscription
                subscription = {
                    "metrics": ["requests_total", "success_rate"],
                    "interval_seconds": 1,
                    "include_history": True
                }
                await websocket.send(json.dumps(subscription))

                # Receive messages
                async for message in websocket:
                    data = json.loads(message)

                    if data["type"] == "Snapshot":
                        printed.append(f"Total: {data['requests_total']}, "
                                       f"Success Rate: {data['success_rate']:.2f}%")

                    elif data["type"] == "TimeSeries":
                        printed.append(f"Historical {data['metric_name']}: "
                                       f"{len(data['data_points'])} points")

                    elif data["type"] == "Error":
                        printed.append(f"Error: {data['message']}")
                    if len(printed) >= 4:
                        break

        asyncio.run(asyncio.wait_for(consume_metrics(), 20))
        self.assertTrue(any(line.startswith("Total: ") and line.endswith("%") for line in printed), printed)
        self.assertTrue(any(line.startswith("Historical requests_total: ") for line in printed), printed)
        self.assertFalse([line for line in printed if line.startswith("Error")], printed)

    def test_resolvix_guide_commands_on_their_ports(self):
        if not all(port_is_free(port) for port in (8754, 8755, 8756)):
            self.skipTest("one of the ports 8754-8756 is in use on this machine")
        daemon = self.start("--compat", "resolvix-telemetry", "--compat", "resolvix-logs",
                            "--compat", "resolvix-control")

        # The guide's curl commands, through urllib, with the token.
        answer = post_json("http://localhost:8754/control", {"command": "start_telemetry"}, daemon.token)
        self.assertEqual(answer["ws_port"], 8756)
        self.assertEqual(answer["interval"], 60)
        status = get_json("http://localhost:8754/status")
        self.assertEqual(status["telemetry"]["ws_port"], 8756)
        self.assertEqual(status["livelogs"]["ws_port"], 8755)

        # Its Python client, on this machine rather than 192.168.1.100.
        lines = []

        async def stream_telemetry():
            uri = "ws://127.0.0.1:8756"
            async with websockets.connect(uri) as websocket:
                async for message in websocket:
                    data = json.loads(message)
                    lines.append(f"Node: {data['node_id']}")
                    lines.append(f"CPU: {data['metrics']['cpu']['cpu_usage_percent']}%")
                    lines.append(f"Memory: {data['metrics']['memory']['memory_usage_percent']}%")
                    break

        asyncio.run(asyncio.wait_for(stream_telemetry(), 20))
        self.assertEqual(lines[0], f"Node: {socket.gethostname()}")
        self.assertRegex(lines[1], r"^CPU: \d+(\.\d+)?%$")
        self.assertRegex(lines[2], r"^Memory: \d+(\.\d+)?%$")

    def test_busy_port_is_refused_cleanly(self):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as busy:
            busy.bind(("127.0.0.1", 0))
            busy.listen(1)
            port = busy.getsockname()[1]
            status, out, err = run_sonded("--port", "0", "--compat", f"kairos:{port}")
        self.assertNotEqual(status, 0)
        self.assertIn(f"cannot open the kairos listener on 127.0.0.1 port {port}", err)

    def test_bad_compat_option(self):
        status, out, err = run_sonded("--port", "0", "--compat", "nope")
        self.assertNotEqual(status, 0)
        self.assertIn("nope is not a compatibility listener", err)


class DialectConfigTest(unittest.TestCase):

    def setUp(self):
        self.dir = tempfile.TemporaryDirectory(prefix="sonde-compat-")
        self.addCleanup(self.dir.cleanup)
        self.logs = os.path.join(self.dir.name, "logs")
        os.mkdir(self.logs)
        self.log_file = os.path.join(self.logs, "app.log")
        with open(self.log_file, "w") as f:
            f.write("before the daemon\n")

    def write_config(self, text):
        path = os.path.join(self.dir.name, "sonde.conf")
        with open(path, "w") as f:
            f.write(text)
        return path

    def test_settings_take_effect(self):
        config = self.write_config(
            "[compat]\nlisteners=kairos:0;resolvix-telemetry:0\n"
            "[resolvix]\nnode-id=node-7\ntelemetry-interval=1\n"
            f"[logs]\nfiles={self.log_file}\nallowed-paths={self.logs}\n")
        daemon = Daemon("--port", "0", "--config", config).start()
        self.addCleanup(daemon.close)
        daemon.wait_for_url()
        ports = compat_ports(daemon, ["kairos", "resolvix-telemetry"])

        first, second, third = receive(f"ws://127.0.0.1:{ports['resolvix-telemetry']}", 3)
        self.assertEqual({first["node_id"], second["node_id"], third["node_id"]}, {"node-7"})
        # One document on connect, then one a second.
        self.assertNotEqual(second["timestamp"], third["timestamp"])

        status = daemon.get_json("/status")
        self.assertEqual(status["log_file"], self.log_file)

        async def one_line():
            # Log lines reveal more than metrics: the stream needs the token.
            async with websockets.connect(f"ws://127.0.0.1:{daemon.port}/ws/logs?token={daemon.token}") as ws:
                await asyncio.sleep(1.5)
                with open(self.log_file, "a") as f:
                    f.write("hello sonde\n")
                while True:
                    frame = json.loads(await asyncio.wait_for(ws.recv(), TIMEOUT))
                    if frame.get("line") == "hello sonde":
                        return frame

        frame = asyncio.run(one_line())
        self.assertEqual(frame["log_file"], self.log_file)
        self.assertEqual(frame["node_id"], "node-7")

    def test_missing_log_file_is_named(self):
        # A followed file that does not exist yet is still the log file:
        # resolvix clients expect its path, not null.
        later = os.path.join(self.logs, "later.log")
        config = self.write_config(
            "[compat]\nlisteners=resolvix-control:0\n"
            f"[logs]\nfiles={later}\nallowed-paths={self.logs}\n")
        daemon = Daemon("--port", "0", "--config", config).start()
        self.addCleanup(daemon.close)
        daemon.wait_for_url()
        port = compat_ports(daemon, ["resolvix-control"])["resolvix-control"]
        self.assertEqual(daemon.get_json("/status")["log_file"], later)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/status", timeout=TIMEOUT) as response:
            self.assertEqual(json.loads(response.read())["log_file"], later)
        daemon.close()

        # Nothing configured: the default, whether it exists here or not.
        config = self.write_config("[compat]\nlisteners=resolvix-control:0\n")
        daemon = Daemon("--port", "0", "--config", config).start()
        self.addCleanup(daemon.close)
        daemon.wait_for_url()
        self.assertEqual(daemon.get_json("/status")["log_file"], "/var/log/syslog")

    def test_bad_values_are_refused(self):
        cases = [
            ("[compat]\nlisteners=nope\n", "[compat] listeners: nope is not a compatibility listener"),
            ("[compat]\nlisteners=kairos:70000\n", "[compat] listeners: 70000 is not a port (0-65535)"),
            ("[resolvix]\ntelemetry-interval=0\n",
             "[resolvix] telemetry-interval: 0 is not a number of seconds (1-3600)"),
            ("[logs]\nfiles=app.log\n", "[logs] files: app.log is not an absolute path"),
            ("[logs]\nallowed-paths=var/log\n", "[logs] allowed-paths: var/log is not an absolute path"),
            ("[resolvix]\nnode=x\n", "[resolvix] node: unknown key"),
        ]
        for text, message in cases:
            with self.subTest(text=text):
                config = self.write_config(text)
                status, out, err = run_sonded("--port", "0", "--config", config)
                self.assertNotEqual(status, 0)
                self.assertIn(f"{config}: {message}", err)


if __name__ == "__main__":
    unittest.main(verbosity=2)
