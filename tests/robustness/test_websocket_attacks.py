#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Attacks of one hostile local client on the WebSocket layer, each
against a fresh sonded on port 0, each asserting the bound that stops it:
memory, CPU, the service of the other clients, and a proper close."""

import os
import socket
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from attacktest import (Daemon, SnapshotCounter, cpu_seconds, frame, handshake,  # noqa: E402
                        json_frame, read_frames_until_close, rss_bytes, status_latency)

MiB = 1024 * 1024


class WebSocketAttackTest(unittest.TestCase):

    def setUp(self):
        self.daemon = Daemon("--port", "0").start()
        self.addCleanup(self.daemon.close)
        self.daemon.wait_for_url()
        self.port = self.daemon.port
        # Settle: the first samples, the history's holds.
        time.sleep(1.5)
        self.rss_before = rss_bytes(self.daemon.pid)

    def assert_daemon_healthy(self, max_growth=24 * MiB):
        self.assertLess(status_latency(self.port), 1.0)
        growth = rss_bytes(self.daemon.pid) - self.rss_before
        self.assertLess(growth, max_growth, f"RSS grew by {growth / MiB:.1f} MiB")

    def test_ping_flood_without_reading(self):
        # A client sends pings as fast as it can and never reads: libsoup
        # would queue a pong for each, without bound. The other clients
        # must not notice.
        watcher = SnapshotCounter(self.port)
        self.addCleanup(watcher.close)
        sock, _, _ = handshake(self.port)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.settimeout(0.2)
        ping = frame(0x9, b"x" * 125)
        cpu_before = cpu_seconds(self.daemon.pid)
        start = time.monotonic()
        sent = 0
        worst_status = 0.0
        while time.monotonic() - start < 8:
            try:
                sent += sock.send(ping * 64)
            except (socket.timeout, BlockingIOError):
                pass
            except OSError:
                break
            if int(time.monotonic() - start) != int(time.monotonic() - start - 0.05):
                worst_status = max(worst_status, status_latency(self.port))
        elapsed = time.monotonic() - start
        cpu = (cpu_seconds(self.daemon.pid) - cpu_before) / elapsed
        sock.close()

        self.assertGreaterEqual(watcher.count, int(elapsed) - 2)
        self.assertLess(watcher.longest_gap, 2.5)
        self.assertLess(worst_status, 1.0)
        self.assertLess(cpu, 0.5, f"the daemon used {cpu:.0%} of a core")
        self.assert_daemon_healthy()

    def test_deflate_is_declined(self):
        # Browsers offer permessage-deflate; libsoup 3.2 inflates without
        # bound, so the extension is never accepted, and a compressed
        # frame is a protocol error.
        sock, headers, _ = handshake(self.port, headers=[
            "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits"])
        self.assertNotIn("sec-websocket-extensions", headers)
        bomb = b"\xf2\x48\xcd" * 1000
        sock.sendall(frame(0x1, bomb, rsv1=True))
        self.assertIn(read_frames_until_close(sock), (1002, None))
        sock.close()
        self.assert_daemon_healthy()

    def test_endless_fragments_are_closed(self):
        # Continuation frames without FIN accumulated without a total
        # limit (CVE-2025-32049): the connection is closed with 1009 once
        # a message's worth of bytes came without a message.
        sock, _, _ = handshake(self.port)
        chunk = b"a" * (64 * 1024)
        closed = threading.Event()
        code = []

        def reader():
            code.append(read_frames_until_close(sock, timeout=30))
            closed.set()

        thread = threading.Thread(target=reader, daemon=True)
        thread.start()
        sock.sendall(frame(0x1, chunk, fin=False))
        sent = len(chunk)
        try:
            while not closed.is_set() and sent < 64 * MiB:
                sock.sendall(frame(0x0, chunk, fin=False))
                sent += len(chunk)
        except OSError:
            pass
        closed.wait(30)
        sock.close()
        self.assertEqual(code, [1009])
        self.assertLess(sent, 8 * MiB)
        self.assert_daemon_healthy()

    def test_oversized_frame_gets_1009(self):
        # A frame over the 1 MiB limit is answered with a close frame
        # (1009), not a reset.
        sock, _, _ = handshake(self.port)
        payload = b'{"type":"ping","pad":"' + b"x" * (3 * MiB // 2) + b'"}'
        result = []
        thread = threading.Thread(target=lambda: result.append(read_frames_until_close(sock, timeout=20)),
                                  daemon=True)
        thread.start()
        try:
            sock.sendall(frame(0x1, payload))
        except OSError:
            pass
        thread.join(25)
        sock.close()
        self.assertEqual(result, [1009])
        self.assert_daemon_healthy()

    def test_large_but_allowed_message_gets_too_large(self):
        # 64 KiB to 1 MiB: an error frame, and the connection lives on.
        sock, _, _ = handshake(self.port)
        sock.sendall(frame(0x1, b'{"type":"ping","pad":"' + b"x" * (200 * 1024) + b'"}'))
        sock.sendall(json_frame({"type": "ping", "id": 5}))
        sock.settimeout(10)
        data = b""
        deadline = time.monotonic() + 10
        while b'"too_large"' not in data or b'"pong"' not in data:
            self.assertLess(time.monotonic(), deadline, data[-300:])
            data += sock.recv(65536)
        sock.close()


if __name__ == "__main__":
    unittest.main(verbosity=2)
