#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The kairos guide's clients against a real sonded.

kairos's guide (docs/formats/kairos.md) documents the /ws/metrics stream with
client examples. Its Python example runs here as written, but for the URI
(sonded's port, on 127.0.0.1) and a loop that stops after a few messages;
the subscriptions of its JavaScript, Node.js and Rust examples and its
troubleshooting error are checked message by message.

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
import sys
import time
import unittest
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from sondedtest import Daemon  # noqa: E402

try:
    import websockets
except ImportError:
    print("python3-websockets is not available: skipping")
    sys.exit(77)

TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
KAIROS_FIELDS = {
    "requests_total": int,
    "requests_success": int,
    "requests_error": int,
    "active_connections": int,
    "avg_response_time": float,
    "success_rate": float,
}

# Read by the guide's example below.
URI = None
MAX_MESSAGES = 6


# The guide's "Python with websockets" example, verbatim but for the URI and
# the bounded loop (the three lines around `received`).
async def consume_metrics():
    uri = URI

    async with websockets.connect(uri) as websocket:
        # Send subscription
        subscription = {
            "metrics": ["requests_total", "success_rate"],
            "interval_seconds": 1,
            "include_history": True
        }
        await websocket.send(json.dumps(subscription))

        # Receive messages
        received = 0
        async for message in websocket:
            data = json.loads(message)

            if data["type"] == "Snapshot":
                print(f"Total: {data['requests_total']}, "
                      f"Success Rate: {data['success_rate']:.2f}%")

            elif data["type"] == "TimeSeries":
                print(f"Historical {data['metric_name']}: "
                      f"{len(data['data_points'])} points")

            elif data["type"] == "Error":
                print(f"Error: {data['message']}")

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
    def uri(self):
        return f"ws://127.0.0.1:{self.port}/ws/metrics"

    def get(self, path):
        with urllib.request.urlopen(self.http_url(path), timeout=10) as response:
            return response.status


def run(coroutine, timeout=30):
    return asyncio.run(asyncio.wait_for(coroutine, timeout))


def run_guide_example(uri, n_messages):
    """Runs consume_metrics() and returns what it printed."""
    global URI, MAX_MESSAGES
    URI, MAX_MESSAGES = uri, n_messages
    output = io.StringIO()
    with contextlib.redirect_stdout(output):
        run(consume_metrics())
    return output.getvalue().splitlines()


async def exchange(uri, subscription, n_messages, timeout=10):
    """Connects, sends @subscription (unless None) and returns the first
    @n_messages messages, parsed, with their arrival (wall-clock) times."""
    messages = []
    async with websockets.connect(uri) as websocket:
        if subscription is not None:
            await websocket.send(subscription if isinstance(subscription, str)
                                 else json.dumps(subscription))
        while len(messages) < n_messages:
            text = await asyncio.wait_for(websocket.recv(), timeout)
            messages.append((time.time(), json.loads(text)))
    return messages


def epoch(timestamp):
    return calendar.timegm(time.strptime(timestamp, "%Y-%m-%dT%H:%M:%SZ"))


def first_of(messages, kind):
    """The index of the first message of type @kind."""
    return next(i for i, (_, data) in enumerate(messages) if data["type"] == kind)


def with_members(messages, members):
    return [data for _, data in messages if list(data) == ["type", "timestamp"] + members]


class KairosSeedTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        # sonded as started: whether it keeps history is its default's call.
        cls.plain = Sonded()
        # With the history the guide's include_history asks for.
        cls.with_history = Sonded("[history]\nseconds=3600\n")
        # Some traffic for the gateway to count, and a few points of history.
        cls.plain.get("/status")
        cls.with_history.get("/status")
        time.sleep(2.5)

    @classmethod
    def tearDownClass(cls):
        cls.plain.close()
        cls.with_history.close()

    def assert_snapshot(self, data, fields, received=None):
        self.assertEqual(list(data), ["type", "timestamp"] + list(fields))
        self.assertEqual(data["type"], "Snapshot")
        self.assertRegex(data["timestamp"], TIMESTAMP)
        # The time it was sent, to the second.
        if received is None:
            received = time.time()
        self.assertLess(abs(epoch(data["timestamp"]) - received), 2)
        for name in fields:
            expected = KAIROS_FIELDS.get(name, (int, float))
            self.assertIsInstance(data[name], expected, name)
            self.assertNotIsInstance(data[name], bool, name)
            self.assertGreaterEqual(data[name], 0, name)
        if "success_rate" in fields:
            self.assertLessEqual(data["success_rate"], 100.0)

    def check_example_output(self, lines, with_history):
        totals = [re.match(r"^Total: (\d+), Success Rate: (\d+\.\d\d)%$", line) for line in lines]
        totals = [m for m in totals if m]
        self.assertGreaterEqual(len(totals), 3, lines)
        # Real values: the request made in setUpClass, all successful.
        self.assertGreaterEqual(int(totals[-1].group(1)), 1, lines)
        self.assertEqual(totals[-1].group(2), "100.00", lines)

        # The Snapshot of the connection (a tick may add one), the
        # history, then Snapshots.
        first = next(i for i, line in enumerate(lines) if not line.startswith("Total: "))
        self.assertGreaterEqual(first, 1, lines)
        if with_history:
            self.assertRegex(lines[first], r"^Historical requests_total: \d+ points$")
            self.assertRegex(lines[first + 1], r"^Historical success_rate: \d+ points$")
            for line in lines[first:first + 2]:
                self.assertGreaterEqual(int(line.split()[2]), 1, line)
            rest = lines[first + 2:]
        else:
            self.assertEqual(lines[first], "Error: History is not available")
            rest = lines[first + 1:]
        self.assertGreaterEqual(len(rest), 1, lines)
        for line in rest:
            self.assertRegex(line, r"^Total: ")

    def test_guide_python_example(self):
        """The example as written: it prints real values and its history."""
        lines = run_guide_example(self.with_history.uri, 6)
        print("\n".join(lines))
        self.check_example_output(lines, with_history=True)

    def test_guide_python_example_default_daemon(self):
        """A sonded without a history configuration: TimeSeries when its
        default keeps history, else the documented Error form."""
        lines = run_guide_example(self.plain.uri, 6)
        print("\n".join(lines))
        with_history = any(line.startswith("Historical ") for line in lines)
        if not with_history:
            print("note: sonded keeps no history by default; include_history gets "
                  "'History is not available'")
        self.check_example_output(lines, with_history)

    def test_snapshot_on_connect(self):
        """Step 2: a Snapshot at once, with the six documented fields."""
        started = time.time()
        messages = run(exchange(self.plain.uri, None, 3))
        arrival, first = messages[0]
        self.assertLess(arrival - started, 1.0)
        for received, data in messages:
            self.assert_snapshot(data, KAIROS_FIELDS, received)
        self.assertGreaterEqual(first["active_connections"], 1)
        # Then one per second (the default interval).
        self.assertEqual(epoch(messages[2][1]["timestamp"]) - epoch(messages[1][1]["timestamp"]), 1)

    def test_javascript_example_subscription(self):
        """The JavaScript example: two metrics every 2 seconds."""
        subscription = {"metrics": ["requests_total", "active_connections"],
                        "interval_seconds": 2, "include_history": False}
        messages = run(exchange(self.plain.uri, subscription, 5))
        fields = ["requests_total", "active_connections"]
        chosen = [(t, d) for t, d in messages if list(d) == ["type", "timestamp"] + fields]
        self.assertGreaterEqual(len(chosen), 3)
        for received, data in chosen:
            self.assert_snapshot(data, fields, received)
        # After the subscription's own Snapshot, every 2 seconds, on even ones.
        for (t0, d0), (t1, d1) in zip(chosen[1:], chosen[2:]):
            self.assertEqual(epoch(d1["timestamp"]) - epoch(d0["timestamp"]), 2)
            self.assertEqual(epoch(d1["timestamp"]) % 2, 0)
            self.assertGreater(t1 - t0, 1.5)
            self.assertLess(t1 - t0, 2.5)

    def test_node_example_subscription(self):
        """The Node.js example: every metric (empty list), with history."""
        subscription = {"metrics": [], "interval_seconds": 5, "include_history": True}
        messages = run(exchange(self.with_history.uri, subscription, 9))
        start = first_of(messages, "TimeSeries")
        self.assertIn(start, (1, 2))
        types = [d["type"] for _, d in messages]
        self.assertEqual(types[:start], ["Snapshot"] * start)
        self.assertEqual(types[start:start + 7], ["TimeSeries"] * 6 + ["Snapshot"])
        self.assertEqual([d["metric_name"] for _, d in messages[start:start + 6]], list(KAIROS_FIELDS))
        for _, series in messages[start:start + 6]:
            self.assertEqual(list(series), ["type", "metric_name", "data_points"])
            self.assertGreaterEqual(len(series["data_points"]), 1)
            previous = 0
            for point in series["data_points"]:
                self.assertEqual(list(point), ["timestamp", "value"])
                self.assertRegex(point["timestamp"], TIMESTAMP)
                self.assertIsInstance(point["value"], float)
                self.assertGreater(epoch(point["timestamp"]), previous)
                previous = epoch(point["timestamp"])
            # The last hour at most.
            self.assertLess(time.time() - epoch(series["data_points"][0]["timestamp"]), 3601)
        self.assert_snapshot(messages[start + 6][1], KAIROS_FIELDS, messages[start + 6][0])

    def test_rust_example_subscription(self):
        """The Rust example, with its response_time_avg."""
        subscription = {"metrics": ["requests_total", "response_time_avg"],
                        "interval_seconds": 2, "include_history": False}
        messages = run(exchange(self.plain.uri, subscription, 3))
        chosen = with_members(messages, ["requests_total", "response_time_avg"])
        self.assertGreaterEqual(len(chosen), 1)
        data = chosen[0]
        self.assertIsInstance(data["requests_total"], int)
        self.assertIsInstance(data["response_time_avg"], float)

    def test_native_metric_names(self):
        """Native names are accepted and flattened."""
        subscription = {"metrics": ["cpu.usage_percent", "memory.usage_percent", "requests_total"]}
        messages = run(exchange(self.plain.uri, subscription, 3))
        chosen = with_members(messages, ["cpu.usage_percent", "memory.usage_percent", "requests_total"])
        self.assertGreaterEqual(len(chosen), 1)
        data = chosen[-1]
        self.assertGreater(data["memory.usage_percent"], 0)
        self.assertLessEqual(data["memory.usage_percent"], 100)

    def test_troubleshooting_invalid_subscription(self):
        """The guide's Invalid Subscription error, and the stream goes on."""
        messages = run(exchange(self.plain.uri, '{"interval_seconds": 2, "include_history": false}', 4))
        error = first_of(messages, "Error")
        self.assertEqual(messages[error][1], {"type": "Error",
                                              "message": "Invalid subscription: missing field `metrics`"})
        self.assertEqual(list(messages[error][1]), ["type", "message"])
        # The default subscription stays.
        self.assertLess(error, 3)
        self.assert_snapshot(messages[error + 1][1], KAIROS_FIELDS, messages[error + 1][0])

    def test_bad_json(self):
        messages = run(exchange(self.plain.uri, "not json", 4))
        error = first_of(messages, "Error")
        self.assertEqual(messages[error][1]["message"],
                         "Invalid subscription: expected ident at line 1 column 2")
        self.assertLess(error, 3)
        self.assert_snapshot(messages[error + 1][1], KAIROS_FIELDS, messages[error + 1][0])

    def test_interval_out_of_range(self):
        messages = run(exchange(self.plain.uri, {"metrics": [], "interval_seconds": 61}, 4))
        error = first_of(messages, "Error")
        self.assertEqual(messages[error][1]["message"],
                         "Invalid subscription: interval_seconds must be between 1 and 60")
        self.assertLess(error, 3)
        self.assert_snapshot(messages[error + 1][1], KAIROS_FIELDS, messages[error + 1][0])


if __name__ == "__main__":
    unittest.main(verbosity=2)
