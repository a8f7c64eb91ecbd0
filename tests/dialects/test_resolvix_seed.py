#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The resolvix telemetry guide's clients against a real sonded.

resolvix's guide (docs/formats/resolvix.md) documents a telemetry stream, a control
API and a status route. Its Python client (stream_telemetry) runs here as
written, but for the URI (sonded's /ws/telemetry on 127.0.0.1) and a loop
that stops after a bounded number of messages; its curl commands are
made with urllib, header for header; its "Sample Telemetry Data" is
checked key by key against psutil where the two must agree.

The sonded is the one just built ($SONDED, from meson's test_env), with an
empty configuration directory and no session bus, stopped by its PID.
"""

import asyncio
import calendar
import contextlib
import io
import json
import os
import re
import socket
import sys
import time
import unittest
import urllib.error
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from sondedtest import Daemon  # noqa: E402

try:
    import websockets
except ImportError:
    print("python3-websockets is not available: skipping")
    sys.exit(77)

try:
    import psutil
except ImportError:
    psutil = None

TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
GB = 1024 ** 3

# Read by the guide's example below.
URI = None
MAX_MESSAGES = 1


# The guide's Python client, verbatim but for the URI and the bounded loop
# (the three lines around `received`). The first document comes at once;
# the next ones every 60 seconds, the guide's default interval.
async def stream_telemetry():
    uri = URI
    async with websockets.connect(uri) as websocket:
        received = 0
        async for message in websocket:
            data = json.loads(message)
            print(f"Node: {data['node_id']}")
            print(f"CPU: {data['metrics']['cpu']['cpu_usage_percent']}%")
            print(f"Memory: {data['metrics']['memory']['memory_usage_percent']}%")
            print("---")
            received += 1
            if received >= MAX_MESSAGES:
                break


class Sonded(Daemon):
    """sonded --port 0, with @config as its configuration file."""

    def __init__(self, config=None):
        super().__init__("--port", "0")
        if config is not None:
            path = os.path.join(self.tmpdir.name, "sonde.conf")
            with open(path, "w") as f:
                f.write(config)
            self.args += ["--config", path]
        self.start()
        try:
            self.wait_for_url()
        except AssertionError:
            self.close()
            raise

    @property
    def telemetry_uri(self):
        return f"ws://127.0.0.1:{self.port}/ws/telemetry"


def run(coroutine, timeout=30):
    return asyncio.run(asyncio.wait_for(coroutine, timeout))


def run_guide_example(uri, n_messages):
    """Runs stream_telemetry() and returns what it printed."""
    global URI, MAX_MESSAGES
    URI, MAX_MESSAGES = uri, n_messages
    output = io.StringIO()
    with contextlib.redirect_stdout(output):
        run(stream_telemetry())
    return output.getvalue().splitlines()


def curl_control(sonded, command):
    """curl -X POST http://localhost:8754/control
         -H "Content-Type: application/json" -d '{"command": "..."}'
    plus the token that Sonde asks of whatever changes state (the guide's
    agent had none)."""
    body = json.dumps({"command": command}).encode()
    request = urllib.request.Request(sonded.http_url("/control"), data=body, method="POST",
                                     headers={"Content-Type": "application/json",
                                              "Authorization": f"Bearer {sonded.token}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, json.load(response)


def post_raw(sonded, body):
    request = urllib.request.Request(sonded.http_url("/control"), data=body, method="POST",
                                     headers={"Content-Type": "application/json",
                                              "Authorization": f"Bearer {sonded.token}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


def curl_status(sonded):
    """curl http://localhost:8754/status"""
    with urllib.request.urlopen(sonded.http_url("/status"), timeout=10) as response:
        return response.status, json.load(response)


async def receive(uri, n_messages, timeout=10, send=None):
    """The first @n_messages messages, parsed; @send is sent first."""
    messages = []
    async with websockets.connect(uri) as websocket:
        if send is not None:
            await websocket.send(send)
        while len(messages) < n_messages:
            messages.append(json.loads(await asyncio.wait_for(websocket.recv(), timeout)))
    return messages


async def silent_for(uri, seconds):
    """Whether a client connected to @uri gets nothing for @seconds."""
    async with websockets.connect(uri) as websocket:
        try:
            await asyncio.wait_for(websocket.recv(), seconds)
        except asyncio.TimeoutError:
            return True
    return False


def epoch(timestamp):
    return calendar.timegm(time.strptime(timestamp, "%Y-%m-%dT%H:%M:%SZ"))


class ResolvixSeedTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.sonded = Sonded()

    @classmethod
    def tearDownClass(cls):
        cls.sonded.close()

    def assert_number(self, value, kind, name, decimals=None):
        self.assertIsInstance(value, kind, name)
        self.assertNotIsInstance(value, bool, name)
        self.assertGreaterEqual(value, 0, name)
        if decimals is not None:
            self.assertAlmostEqual(value, round(value, decimals), places=9, msg=name)

    def assert_percent(self, value, name):
        self.assert_number(value, float, name, 1)
        self.assertLessEqual(value, 100.0, name)

    def assert_document(self, data):
        """The guide's "Sample Telemetry Data", key for key."""
        self.assertEqual(sorted(data), ["metrics", "node_id", "timestamp"])
        self.assertRegex(data["timestamp"], TIMESTAMP)
        self.assertLess(abs(epoch(data["timestamp"]) - time.time()), 5)
        self.assertEqual(data["node_id"], socket.gethostname())
        metrics = data["metrics"]
        self.assertEqual(sorted(metrics), ["cpu", "disk", "memory", "network", "processes"])

        cpu = metrics["cpu"]
        self.assertEqual(sorted(cpu), ["cpu_per_core_percent", "cpu_usage_percent",
                                       "load_avg_15min", "load_avg_1min", "load_avg_5min"])
        self.assert_percent(cpu["cpu_usage_percent"], "cpu_usage_percent")
        self.assertIsInstance(cpu["cpu_per_core_percent"], list)
        for value in cpu["cpu_per_core_percent"]:
            self.assert_percent(value, "cpu_per_core_percent")
        for name in ("load_avg_1min", "load_avg_5min", "load_avg_15min"):
            self.assert_number(cpu[name], float, name, 2)

        memory = metrics["memory"]
        self.assertEqual(sorted(memory), ["memory_available_gb", "memory_total_gb",
                                          "memory_usage_percent", "memory_used_gb",
                                          "swap_total_gb", "swap_usage_percent", "swap_used_gb"])
        for name in ("memory_total_gb", "memory_used_gb", "memory_available_gb",
                     "swap_total_gb", "swap_used_gb"):
            self.assert_number(memory[name], float, name, 2)
        self.assertGreater(memory["memory_total_gb"], 0)
        self.assert_percent(memory["memory_usage_percent"], "memory_usage_percent")
        self.assert_percent(memory["swap_usage_percent"], "swap_usage_percent")

        disk = metrics["disk"]
        self.assertEqual(sorted(disk), ["disk_io", "disk_usage"])
        self.assertIsInstance(disk["disk_usage"], dict)
        for mount, usage in disk["disk_usage"].items():
            self.assertTrue(mount.startswith("/"), mount)
            self.assertEqual(sorted(usage), ["free_gb", "total_gb", "usage_percent", "used_gb"])
            for name in ("total_gb", "used_gb", "free_gb"):
                self.assert_number(usage[name], float, name, 2)
            self.assert_percent(usage["usage_percent"], "usage_percent")
        self.assertEqual(sorted(disk["disk_io"]), ["read_mb_per_sec", "write_mb_per_sec"])
        for name, value in disk["disk_io"].items():
            self.assert_number(value, float, name, 2)

        network = metrics["network"]
        self.assertEqual(sorted(network), ["active_connections", "bytes_recv_mb_per_sec",
                                           "bytes_sent_mb_per_sec", "packets_recv", "packets_sent"])
        self.assert_number(network["bytes_sent_mb_per_sec"], float, "bytes_sent_mb_per_sec", 2)
        self.assert_number(network["bytes_recv_mb_per_sec"], float, "bytes_recv_mb_per_sec", 2)
        for name in ("packets_sent", "packets_recv", "active_connections"):
            self.assert_number(network[name], int, name)

        processes = metrics["processes"]
        self.assertEqual(sorted(processes), ["process_count", "top_memory_processes"])
        self.assert_number(processes["process_count"], int, "process_count")
        self.assertGreater(processes["process_count"], 0)
        top = processes["top_memory_processes"]
        self.assertGreaterEqual(len(top), 1)
        self.assertLessEqual(len(top), 5)
        for process in top:
            self.assertEqual(sorted(process), ["memory_percent", "name", "pid"])
            self.assert_number(process["pid"], int, "pid")
            self.assertIsInstance(process["name"], str)
            self.assert_percent(process["memory_percent"], "memory_percent")
        # The biggest first.
        self.assertEqual([p["memory_percent"] for p in top],
                         sorted((p["memory_percent"] for p in top), reverse=True))

        if psutil is not None:
            # Units: GB are 1024³ bytes, as psutil's bytes divided.
            self.assertEqual(memory["memory_total_gb"], round(psutil.virtual_memory().total / GB, 2))
            self.assertEqual(memory["swap_total_gb"], round(psutil.swap_memory().total / GB, 2))
            self.assertEqual(len(cpu["cpu_per_core_percent"]), psutil.cpu_count())
            for mount, usage in disk["disk_usage"].items():
                if os.path.isdir(mount):
                    total = psutil.disk_usage(mount).total / GB
                    self.assertAlmostEqual(usage["total_gb"], total, delta=0.011, msg=mount)

    def test_guide_python_example(self):
        """The example as written prints real values, at once."""
        started = time.monotonic()
        lines = run_guide_example(self.sonded.telemetry_uri, MAX_MESSAGES)
        print("\n".join(lines))
        # No need to wait for the 60-second interval.
        self.assertLess(time.monotonic() - started, 5)
        self.assertEqual(len(lines), 4 * MAX_MESSAGES, lines)
        for i in range(0, len(lines), 4):
            self.assertEqual(lines[i], f"Node: {socket.gethostname()}")
            cpu = re.match(r"^CPU: (\d+\.\d)%$", lines[i + 1])
            memory = re.match(r"^Memory: (\d+\.\d)%$", lines[i + 2])
            self.assertIsNotNone(cpu, lines[i + 1])
            self.assertIsNotNone(memory, lines[i + 2])
            self.assertLessEqual(float(cpu.group(1)), 100.0)
            # Real memory use is never 0.
            self.assertGreater(float(memory.group(1)), 0.0)
            self.assertLessEqual(float(memory.group(1)), 100.0)
            self.assertEqual(lines[i + 3], "---")

    def test_sample_telemetry_data(self):
        """Every key of the guide's sample, with its type and unit."""
        (data,) = run(receive(self.sonded.telemetry_uri, 1))
        self.assert_document(data)

    def test_bad_message(self):
        """The stream takes no messages: an error object, and it goes on."""
        messages = run(receive(self.sonded.telemetry_uri, 2, send="hello"))
        errors = [m for m in messages if "error" in m]
        documents = [m for m in messages if "metrics" in m]
        self.assertEqual(len(errors), 1, messages)
        self.assertEqual(list(errors[0]), ["error"])
        self.assertIsInstance(errors[0]["error"], str)
        self.assertEqual(len(documents), 1, messages)

    def test_guide_curl_commands(self):
        """Step 1, Stop Telemetry Stream and Check Status, as curl runs them."""
        sonded = self.sonded
        pid = str(sonded.pid)

        # Telemetry runs from the start: Step 1 finds it running, with the
        # response's members.
        status, answer = curl_control(sonded, "start_telemetry")
        self.assertEqual(status, 200)
        self.assertEqual(answer, {"status": "already_running", "pid": pid,
                                  "ws_port": sonded.port, "interval": 60})

        status, answer = curl_control(sonded, "stop_telemetry")
        self.assertEqual((status, answer), (200, {"status": "stopped"}))
        status, answer = curl_control(sonded, "stop_telemetry")
        self.assertEqual((status, answer), (200, {"status": "not_running"}))
        status, body = curl_status(sonded)
        self.assertFalse(body["telemetry"]["running"])
        self.assertIsNone(body["telemetry"]["pid"])
        # Stopped: a client connects, and nothing comes.
        self.assertTrue(run(silent_for(sonded.telemetry_uri, 2)))

        # Step 1 proper, as the guide shows it.
        status, answer = curl_control(sonded, "start_telemetry")
        self.assertEqual(status, 200)
        self.assertEqual(list(answer), ["status", "pid", "ws_port", "interval"])
        self.assertEqual(answer, {"status": "started", "pid": pid,
                                  "ws_port": sonded.port, "interval": 60})
        (data,) = run(receive(sonded.telemetry_uri, 1))
        self.assertIn("metrics", data)

        # The livelogs pair.
        status, answer = curl_control(sonded, "stop_livelogs")
        self.assertEqual((status, answer), (200, {"status": "stopped"}))
        status, answer = curl_control(sonded, "start_livelogs")
        self.assertEqual((status, answer), (200, {"status": "started", "pid": pid,
                                                  "ws_port": sonded.port}))

        # Check Status: the guide's structure.
        status, body = curl_status(sonded)
        self.assertEqual(status, 200)
        self.assertEqual(body["node_id"], socket.gethostname())
        self.assertTrue(body["log_file"] is None or isinstance(body["log_file"], str))
        self.assertEqual(body["livelogs"], {"running": True, "pid": sonded.pid, "ws_port": sonded.port})
        self.assertEqual(body["telemetry"], {"running": True, "pid": sonded.pid,
                                             "ws_port": sonded.port, "interval": 60})
        self.assertEqual(list(body["livelogs"]), ["running", "pid", "ws_port"])
        self.assertEqual(list(body["telemetry"]), ["running", "pid", "ws_port", "interval"])

    def test_control_errors(self):
        for body in (b"", b"{", b"[]", b"{}", b'{"command": 1}', b'{"command": "restart"}'):
            status, answer = post_raw(self.sonded, body)
            self.assertEqual(status, 400, body)
            self.assertEqual(list(answer), ["error"], body)
            self.assertIsInstance(answer["error"], str)


if __name__ == "__main__":
    unittest.main(verbosity=2)
