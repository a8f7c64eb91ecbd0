# SPDX-License-Identifier: LGPL-2.1-or-later
"""What makes sonded cheap, shown on a real daemon rather than timed: many
clients of one subscription cost one encoding per tick, and collectors
nobody needs do not run (docs/architecture.md, "One encode per group")."""

import os
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import sondedtest  # noqa: E402

CLIENTS = 40
TICKS = 4


class MechanismTest(unittest.TestCase):

    def start(self, config=""):
        directory = tempfile.TemporaryDirectory(prefix="sonde-mechanisms-")
        self.addCleanup(directory.cleanup)
        path = os.path.join(directory.name, "sonde.conf")
        with open(path, "w") as f:
            f.write(config)
        daemon = sondedtest.Daemon("--port", "0", "--config", path).start()
        self.addCleanup(daemon.close)
        daemon.wait_for_url()
        return daemon

    def connect(self, daemon, path):
        ws = sondedtest.RawWebSocket(daemon.port, path)
        self.addCleanup(ws.close)
        self.assertEqual(ws.recv_json()["type"], "hello")
        return ws

    @staticmethod
    def next_snapshot(ws):
        while True:
            frame = ws.recv_json()
            if frame["type"] == "snapshot":
                return frame

    def test_one_encoding_per_tick_for_a_group(self):
        # No alert rule: its events would be frames of their own.
        daemon = self.start("[alert cpu]\nenabled=false\n")
        clients = [self.connect(daemon, "/ws/v1?metrics=cpu.*,memory.*") for _ in range(CLIENTS)]
        # Every client in the group, and between two ticks: a tick's frames
        # are encoded and sent in one dispatch, before /status can answer.
        for ws in clients:
            self.next_snapshot(ws)
        first = self.next_snapshot(clients[0])
        for ws in clients[1:]:
            self.assertEqual(self.next_snapshot(ws)["seq"], first["seq"])
        before = daemon.get_json("/status")
        self.assertEqual(before["subscription_groups"], 1)

        for _ in range(TICKS):
            last = self.next_snapshot(clients[0])
        after = daemon.get_json("/status")
        for ws in clients[1:]:
            for _ in range(TICKS):
                frame = self.next_snapshot(ws)
            self.assertEqual(frame["seq"], last["seq"])

        ticks = last["seq"] - first["seq"]
        self.assertEqual(ticks, TICKS)
        self.assertEqual(after["frames_encoded"] - before["frames_encoded"], ticks,
                         f"{CLIENTS} clients of one group over {ticks} ticks")
        # Framed once too: each client then costs one send() of the same bytes.
        self.assertEqual(after["frames_framed"] - before["frames_framed"], ticks,
                         f"{CLIENTS} clients of one group over {ticks} ticks")

    def sampled(self, daemon):
        return {c["name"] for c in daemon.get_json("/status")["collectors"]
                if c["last_sample"] is not None}

    def test_collectors_idle_without_need(self):
        # No history and no client: nothing to sample for. The built-in
        # alert rule is on, but its alerts would reach nobody.
        daemon = self.start("[history]\nseconds=0\n")
        time.sleep(2.5)
        for collector in daemon.get_json("/status")["collectors"]:
            self.assertFalse(collector["running"], collector)
        self.assertEqual(self.sampled(daemon), set())

        ws = self.connect(daemon, "/ws/v1?metrics=memory.*")
        frame = self.next_snapshot(ws)
        self.assertEqual(list(frame["data"]), ["memory"])
        self.next_snapshot(ws)
        # And cpu for the alert rule, now that a client would get its alerts.
        self.assertEqual(self.sampled(daemon), {"memory", "cpu"})

    def running(self, daemon):
        return {c["name"] for c in daemon.get_json("/status")["collectors"] if c["running"]}

    def test_alert_rule_samples_only_its_collector(self):
        # The built-in rule watches cpu.usage_percent: cpu, and only cpu,
        # while a client is there to receive its alerts.
        daemon = self.start("[history]\nseconds=0\n")
        ws = self.connect(daemon, "/ws/v1?metrics=memory.*")
        self.next_snapshot(ws)
        self.next_snapshot(ws)
        self.assertEqual(self.running(daemon), {"cpu", "memory"})

        ws.close()
        deadline = time.monotonic() + 10
        while self.running(daemon) and time.monotonic() < deadline:
            time.sleep(0.1)
        self.assertEqual(self.running(daemon), set())

    def test_alert_rule_samples_for_the_desktop(self):
        # With notifications on, alerts reach someone without any client
        # (here no desktop answers, but the daemon cannot know in advance).
        daemon = self.start("[history]\nseconds=0\n[alerts]\nnotify=true\n")
        time.sleep(2.5)
        self.assertEqual(self.sampled(daemon), {"cpu"})

if __name__ == "__main__":
    unittest.main(verbosity=2)
