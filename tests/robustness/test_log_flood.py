# SPDX-License-Identifier: LGPL-2.1-or-later
"""A log flood, on a real sonded: a megabyte of empty lines appended to a
followed file while a native client streams log_line events.

Before the fix that megabyte became about a million events per client,
sonded grew from 127 to 887 MB and kept it, and GET /status took up to
24 s while the events were delivered in one main loop dispatch. Now a poll
hands over at most 1,000 lines per file, the oldest of a long backlog are
skipped and counted, the event queue is bounded and delivered in batches:
the daemon's memory and its answers must not notice the flood.
"""

import json
import os
import sys
import tempfile
import threading
import time
import unittest
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))

import sondedtest  # noqa: E402

FLOOD_BYTES = 1024 * 1024
RSS_GROWTH_BOUND = 40 * 1024 * 1024
STATUS_BOUND = 1.0
OBSERVE_SECONDS = 12


class Reader(threading.Thread):
    """A native client that reads everything: log_line events counted, the
    last logs.files table kept."""

    def __init__(self, port, token):
        super().__init__(daemon=True)
        # Log lines need the token sonded made (README.md, "Security model").
        self.ws = sondedtest.RawWebSocket(port, f"/ws/v1?token={token}")
        self.lock = threading.Lock()
        self.lines = []
        self.n_events = 0
        self.files = None
        self.error = None
        self.stop_requested = threading.Event()

    def run(self):
        try:
            while not self.stop_requested.is_set():
                try:
                    frame = self.ws.recv_json(timeout=0.5)
                except TimeoutError:
                    continue
                with self.lock:
                    if frame.get("type") == "event" and frame.get("event") == "log_line":
                        self.n_events += 1
                        if len(self.lines) < 10:
                            self.lines.append(frame.get("data", {}).get("line"))
                    elif frame.get("type") == "snapshot":
                        files = (frame.get("data") or {}).get("logs", {}).get("files")
                        if files:
                            self.files = files
        except Exception as error:  # noqa: BLE001 - reported by the test
            self.error = error

    def saw_line(self, text):
        with self.lock:
            return text in self.lines


class LogFloodTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="sonde-flood-")
        self.addCleanup(self.tmp.cleanup)
        self.log = os.path.join(self.tmp.name, "app.log")
        open(self.log, "w").close()
        config = os.path.join(self.tmp.name, "sonde.conf")
        with open(config, "w") as f:
            f.write(f"[logs]\nfiles={self.log}\nallowed-paths={self.tmp.name}\n")
        self.daemon = sondedtest.Daemon("--config", config, "--port", "0").start()
        self.addCleanup(self.daemon.close)
        self.daemon.wait_for_url()

    def status_latency(self):
        """Seconds GET /status took; 10 when it did not answer in 10 s."""
        start = time.monotonic()
        try:
            with urllib.request.urlopen(self.daemon.http_url("/status"), timeout=10) as response:
                json.loads(response.read())
        except TimeoutError:
            return 10.0
        return time.monotonic() - start

    def test_flood_is_bounded(self):
        reader = Reader(self.daemon.port, self.daemon.token)
        reader.ws.send_json({"type": "subscribe", "id": "logs", "metrics": ["logs.*"],
                             "events": ["log_line"], "interval_ms": 1000})
        reader.start()
        self.addCleanup(reader.ws.close)
        self.addCleanup(reader.join, 10)
        self.addCleanup(reader.stop_requested.set)

        # Following has begun once a line comes through.
        deadline = time.monotonic() + 15
        while not reader.saw_line("ready"):
            self.assertLess(time.monotonic(), deadline, "no log_line event within 15 s")
            self.assertIsNone(reader.error)
            with open(self.log, "a") as f:
                f.write("ready\n")
            time.sleep(0.5)

        time.sleep(1)
        rss_before = self.daemon.rss_bytes()
        with open(self.log, "a") as f:
            f.write("\n" * FLOOD_BYTES)

        rss_max = rss_before
        latencies = []
        start = time.monotonic()
        while time.monotonic() - start < OBSERVE_SECONDS:
            latencies.append(self.status_latency())
            rss_max = max(rss_max, self.daemon.rss_bytes())
            time.sleep(0.2)
        rss_end = self.daemon.rss_bytes()

        reader.stop_requested.set()
        reader.join(10)
        self.assertIsNone(reader.error, f"the reading client failed: {reader.error!r}")

        growth = rss_max - rss_before
        print(f"# RSS before {rss_before / 2**20:.1f} MiB, max {rss_max / 2**20:.1f} MiB "
              f"(+{growth / 2**20:.1f}), end {rss_end / 2**20:.1f} MiB; "
              f"/status max {max(latencies) * 1000:.0f} ms over {len(latencies)} requests; "
              f"{reader.n_events} log_line events", file=sys.stderr)

        self.assertLess(growth, RSS_GROWTH_BOUND,
                        f"sonded grew by {growth / 2**20:.1f} MiB during the flood")
        self.assertLess(max(latencies), STATUS_BOUND,
                        f"GET /status took up to {max(latencies):.2f} s during the flood")

        # The lines came, at most 1,000 a poll: not a million.
        self.assertGreater(reader.n_events, 1000)
        self.assertLess(reader.n_events, 1000 * (OBSERVE_SECONDS + 5))
        # And what was skipped is reported.
        self.assertIsNotNone(reader.files, "no logs.files in the snapshots")
        entry = reader.files[0]
        self.assertEqual(entry["path"], self.log)
        self.assertEqual(entry["dropped"], FLOOD_BYTES - 256 * 1024)


if __name__ == "__main__":
    unittest.main()
