# SPDX-License-Identifier: LGPL-2.1-or-later
"""A client that stops reading must cost the daemon neither memory nor the
other clients' data (docs/architecture.md, "Qualities").

A raw-socket client with a 4 KiB receive buffer subscribes 16 times to
everything at 100 ms and then reads nothing, while a well-behaved client
reads the default stream. The well-behaved client must see every tick; the
daemon must count the slow client's frames as dropped rather than queue
them (its RSS stays flat); and once the slow client reads again, a snapshot
says how many frames it missed and carries fresh values.
"""

import asyncio
import json
import os
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import sondedtest  # noqa: E402

try:
    import websockets
except ImportError:  # pragma: no cover
    websockets = None

SLOW_PHASE_SECONDS = 8
# Frames are counted, never queued, for a client that does not read: what
# the daemon may grow by meanwhile is allocator noise, not 16 x 10 frames/s.
RSS_GROWTH_BOUND = 8 * 1024 * 1024
N_SLOW_SUBSCRIPTIONS = 16


class ReadingClient(threading.Thread):
    """The well-behaved client: default subscription, reads every frame."""

    def __init__(self, url):
        super().__init__(daemon=True)
        self.url = url
        self.snapshots = []
        self.other = []
        self.error = None
        self.connected = threading.Event()
        self.stop_requested = threading.Event()

    def run(self):
        try:
            asyncio.run(self.main())
        except Exception as e:  # reported by the test
            self.error = e
            self.connected.set()

    async def main(self):
        async with websockets.connect(self.url, open_timeout=10, close_timeout=5,
                                      max_size=2 ** 22) as ws:
            self.connected.set()
            while not self.stop_requested.is_set():
                try:
                    message = await asyncio.wait_for(ws.recv(), timeout=0.5)
                except asyncio.TimeoutError:
                    continue
                frame = json.loads(message)
                if frame.get("type") == "snapshot":
                    self.snapshots.append((time.time(), frame))
                else:
                    self.other.append(frame)


@unittest.skipIf(websockets is None, "python3-websockets is not installed")
class SlowClientTest(unittest.TestCase):

    def setUp(self):
        self.daemon = sondedtest.Daemon("--port", "0").start()
        self.addCleanup(self.daemon.close)
        self.daemon.wait_for_url()

    def tearDown(self):
        status = self.daemon.stop()
        self.assertEqual(status, 0, f"sonded did not exit cleanly; stderr:\n{self.daemon.stderr()}")

    def frames_dropped(self):
        return self.daemon.get_json("/status")["gateway"]["frames_dropped"]

    def test_slow_client(self):
        reader = ReadingClient(self.daemon.url)
        reader.start()
        self.addCleanup(reader.join, 10)
        self.addCleanup(reader.stop_requested.set)
        self.assertTrue(reader.connected.wait(15), "the reading client did not connect")
        self.assertIsNone(reader.error)

        rss_before = self.daemon.rss_bytes()
        slow = sondedtest.RawWebSocket(self.daemon.port, rcvbuf=4096)
        self.addCleanup(slow.close)
        for i in range(N_SLOW_SUBSCRIPTIONS):
            slow.send_json({"type": "subscribe", "id": f"slow{i}", "metrics": ["*"],
                            "interval_ms": 100})

        # The kernel takes frames until the socket's send buffer is full,
        # and autotuning lets it grow to tcp_wmem's maximum (4 MiB by
        # default): a few seconds at ~500 KB/s. From the first drop on, the
        # daemon is what holds the line.
        deadline = time.monotonic() + 30
        while self.frames_dropped() == 0:
            self.assertLess(time.monotonic(), deadline, "no frame was dropped within 30 s")
            time.sleep(0.2)
        rss_start = rss_max = self.daemon.rss_bytes()
        dropped = [self.frames_dropped()]
        start = time.monotonic()
        while time.monotonic() - start < SLOW_PHASE_SECONDS:
            time.sleep(0.5)
            rss_max = max(rss_max, self.daemon.rss_bytes())
            if len(dropped) < 2 and time.monotonic() - start >= SLOW_PHASE_SECONDS / 2:
                dropped.append(self.frames_dropped())
        dropped.append(self.frames_dropped())
        rss_end = self.daemon.rss_bytes()

        reader.stop_requested.set()
        reader.join(10)
        self.assertFalse(reader.is_alive(), "the reading client did not stop")
        self.assertIsNone(reader.error, f"the reading client failed: {reader.error!r}")

        # (1) The reading client got every tick, in order, and was never
        # told it missed any.
        snapshots = [frame for _, frame in reader.snapshots]
        self.assertGreaterEqual(len(snapshots), SLOW_PHASE_SECONDS,
                                f"only {len(snapshots)} snapshots in more than {SLOW_PHASE_SECONDS} s")
        for previous, frame in zip(snapshots, snapshots[1:]):
            self.assertEqual(frame["seq"], previous["seq"] + 1,
                             f"seq went from {previous['seq']} to {frame['seq']}")
        for frame in snapshots:
            self.assertEqual(frame["subscription"], "default")
            self.assertNotIn("dropped", frame)
            self.assertIn("cpu", frame["data"])
        errors = [f for f in reader.other if f.get("type") == "error"]
        self.assertEqual(errors, [])

        # (2) The daemon counts what it could not send to the slow client.
        self.assertGreater(dropped[1], dropped[0], f"frames_dropped stopped growing: {dropped}")
        self.assertGreater(dropped[2], dropped[1], f"frames_dropped stopped growing: {dropped}")
        rate = (dropped[2] - dropped[0]) / SLOW_PHASE_SECONDS
        # 16 subscriptions at 10 Hz: ~160 frames/s that cannot be sent.
        self.assertGreater(rate, N_SLOW_SUBSCRIPTIONS * 10 / 4,
                           f"only {rate:.0f} frames dropped per second")

        # (3) ...without keeping them: memory stays flat, from before the
        # slow client came to the end of its silence.
        print(f"\nslow client: {rate:.0f} frames dropped/s; daemon RSS {rss_before / 2**20:.1f} MiB "
              f"before it, {rss_start / 2**20:.1f} MiB at the first drop, max {rss_max / 2**20:.1f} MiB, "
              f"end {rss_end / 2**20:.1f} MiB; reading client: {len(snapshots)} snapshots, "
              f"seq {snapshots[0]['seq']}..{snapshots[-1]['seq']}",
              file=sys.stderr)
        self.assertLess(rss_max - rss_before, RSS_GROWTH_BOUND,
                        f"RSS grew from {rss_before / 2**20:.1f} MiB to {rss_max / 2**20:.1f} MiB "
                        f"(end {rss_end / 2**20:.1f} MiB) while a client did not read")

        # (4) Reading again, the slow client first drains what the kernel
        # held (megabytes of old frames: the socket's send buffer grows up
        # to tcp_wmem's maximum), then catches up. Throughout, a jump in a
        # subscription's seq is exactly the "dropped" its frame carries,
        # and once caught up a snapshot with "dropped" holds fresh values.
        last_seq = {}
        n_marked = 0
        deadline = time.monotonic() + 30
        fresh_marked = None
        while fresh_marked is None:
            remaining = deadline - time.monotonic()
            self.assertGreater(remaining, 0,
                               f"no fresh snapshot with \"dropped\" within 30 s of reading again "
                               f"({n_marked} stale ones)")
            frame = slow.recv_json(timeout=remaining)
            received = time.time()
            if frame.get("type") == "error":
                self.fail(f"the slow client got an error: {frame}")
            if frame.get("type") != "snapshot":
                continue

            sub = frame["subscription"]
            self.assertTrue(sub.startswith("slow"), f"unexpected subscription {sub!r}")
            dropped_here = frame.get("dropped", 0)
            self.assertIsInstance(dropped_here, int)
            if sub in last_seq:
                self.assertEqual(frame["seq"] - last_seq[sub] - 1, dropped_here,
                                 f"{sub}: seq jumped from {last_seq[sub]} to {frame['seq']} "
                                 f"but \"dropped\" says {dropped_here}")
            last_seq[sub] = frame["seq"]

            if dropped_here > 0:
                n_marked += 1
                age = received - sondedtest.parse_timestamp(frame["timestamp"])
                if age < 2.0:
                    fresh_marked = frame

        self.assertIn("cpu", fresh_marked["data"])
        self.assertIn("memory", fresh_marked["data"])


if __name__ == "__main__":
    unittest.main(verbosity=2)
