#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""What subscriptions may cost: many clients with many long patterns must
not balloon the daemon, and identical subscriptions share one group
whatever the clients call them."""

import json
import os
import sys
import time
import unittest
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from attacktest import Daemon, handshake, json_frame, rss_bytes, status_latency  # noqa: E402

MiB = 1024 * 1024
CONNECTIONS = 60
SUBSCRIPTIONS = 16
PATTERNS = 256


def status(port):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/status", timeout=10) as response:
        return json.load(response)


def long_patterns(connection, subscription):
    """256 valid globs of 120 characters, unlike any other connection's."""
    return [f"c{connection:02d}s{subscription:02d}p{i:03d}".ljust(119, "x") + "*"
            for i in range(PATTERNS)]


def messages(sock, timeout=10):
    """The server's text messages, parsed, as they come, until @timeout."""
    buffer = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        sock.settimeout(max(deadline - time.monotonic(), 0.01))
        buffer += sock.recv(65536)
        while len(buffer) >= 2:
            length, offset = buffer[1] & 0x7F, 2
            if length == 126:
                length, offset = int.from_bytes(buffer[2:4], "big"), 4
            elif length == 127:
                length, offset = int.from_bytes(buffer[2:10], "big"), 10
            if len(buffer) < offset + length:
                break
            payload, buffer = buffer[offset:offset + length], buffer[offset + length:]
            if payload[:1] == b"{":
                yield json.loads(payload)


def first_errors(sock, count):
    errors = []
    for message in messages(sock):
        if message.get("type") == "error":
            errors.append(message)
            if len(errors) == count:
                break
    return errors


def own_snapshot(sock):
    """The next snapshot of the client's own subscription (not the implicit
    default one, which may still be on its way)."""
    for message in messages(sock):
        if message.get("type") == "snapshot" and message.get("subscription") != "default":
            return message
    raise AssertionError("no snapshot in time")


class SubscriptionMemoryTest(unittest.TestCase):

    def setUp(self):
        self.daemon = Daemon("--port", "0").start()
        self.addCleanup(self.daemon.close)
        self.daemon.wait_for_url()
        self.port = self.daemon.port
        time.sleep(1.5)
        self.rss_before = rss_bytes(self.daemon.pid)

    def connect(self, count):
        sockets = []
        for _ in range(count):
            sock, _, _ = handshake(self.port)
            self.addCleanup(sock.close)
            sockets.append(sock)
        return sockets

    def test_long_patterns_are_bounded_per_connection(self):
        # 60 connections x 16 subscriptions x 256 patterns of 120
        # characters, all different: 30 MB of pattern text if kept.
        sockets = self.connect(CONNECTIONS)
        for c, sock in enumerate(sockets):
            for s in range(SUBSCRIPTIONS):
                sock.sendall(json_frame({"type": "subscribe", "id": f"s{s}",
                                         "metrics": long_patterns(c, s)}))

        # The first subscription of each fits the connection's 32 KiB of
        # patterns; every other one is refused, with a reason.
        for sock in sockets:
            errors = first_errors(sock, SUBSCRIPTIONS - 1)
            self.assertEqual(len(errors), SUBSCRIPTIONS - 1)
            for error in errors:
                self.assertEqual(error["code"], "invalid_subscription")
                self.assertIn("bytes of patterns", error["message"])

        self.assertLess(status_latency(self.port), 1.0)
        self.assertEqual(status(self.port)["subscription_groups"], CONNECTIONS)
        growth = rss_bytes(self.daemon.pid) - self.rss_before
        print(f"# {CONNECTIONS} connections x {SUBSCRIPTIONS} subscriptions x {PATTERNS} patterns: "
              f"RSS {self.rss_before / MiB:.1f} -> {(self.rss_before + growth) / MiB:.1f} MiB",
              file=sys.stderr)
        self.assertLess(growth, 24 * MiB, f"RSS grew by {growth / MiB:.1f} MiB")

    def test_identical_subscriptions_share_one_group(self):
        # Every client names its subscriptions its own way; what they ask
        # for is the same, so it is encoded once per tick for all of them.
        patterns = [f"p{i:03d}".ljust(119, "x") + "*" for i in range(PATTERNS - 1)] + ["cpu.*"]
        sockets = self.connect(CONNECTIONS)
        for c, sock in enumerate(sockets):
            sock.sendall(json_frame({"type": "subscribe", "id": f"client-{c}",
                                     "metrics": patterns, "interval_ms": 1000}))

        deadline = time.monotonic() + 10
        while status(self.port)["subscription_groups"] != 1 and time.monotonic() < deadline:
            time.sleep(0.1)
        self.assertEqual(status(self.port)["subscription_groups"], 1)

        for c, sock in enumerate(sockets[:3]):
            snapshot = own_snapshot(sock)
            self.assertEqual(snapshot["subscription"], f"client-{c}")
            self.assertEqual(list(snapshot["data"]), ["cpu"])


if __name__ == "__main__":
    unittest.main(verbosity=2)
