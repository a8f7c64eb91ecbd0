#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Attacks on the listener: descriptors exhausted, connections that never
send a request. The daemon must accept again once the attacker is gone,
and keep answering meanwhile within its caps."""

import os
import resource
import socket
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from attacktest import Daemon, status_latency  # noqa: E402

FD_LIMIT = 256


def low_fd_limit():
    resource.setrlimit(resource.RLIMIT_NOFILE, (FD_LIMIT, FD_LIMIT))


def open_fds(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


class LimitedDaemon(Daemon):
    """sonded started with a soft and hard limit of FD_LIMIT descriptors,
    as a user's session often has (1,024)."""

    def start(self):
        import subprocess
        with open(self.stdout_path, "wb") as out, open(self.stderr_path, "wb") as err:
            self.process = subprocess.Popen(self.args, stdout=out, stderr=err, stdin=subprocess.DEVNULL,
                                            env=self.env, preexec_fn=low_fd_limit)
        return self


class ConnectionLimitTest(unittest.TestCase):

    def test_accepts_again_after_descriptors_run_out(self):
        # More idle connections than the daemon has descriptors: libsoup's
        # own listener stopped accepting for good at the first EMFILE.
        daemon = LimitedDaemon("--port", "0").start()
        self.addCleanup(daemon.close)
        daemon.wait_for_url()
        attackers = []
        for _ in range(FD_LIMIT + 150):
            s = socket.socket()
            s.settimeout(2)
            try:
                s.connect(("127.0.0.1", daemon.port))
            except OSError:
                s.close()
                break
            attackers.append(s)
        time.sleep(1)
        # Within its descriptors, and refusing rather than failing.
        self.assertLess(open_fds(daemon.pid), FD_LIMIT)
        self.assertIn("Refusing connections", daemon.stderr())

        for s in attackers:
            s.close()
        time.sleep(1.5)
        # The connections are gone: the daemon answers at once.
        self.assertLess(status_latency(daemon.port), 1.0)
        self.assertIsNone(daemon.process.poll())

    def test_silent_connections_are_closed(self):
        # A connection that never finishes a request is closed at its
        # deadline (15 s), freeing its descriptor.
        daemon = Daemon("--port", "0").start()
        self.addCleanup(daemon.close)
        daemon.wait_for_url()
        silent = socket.create_connection(("127.0.0.1", daemon.port), timeout=30)
        half = socket.create_connection(("127.0.0.1", daemon.port), timeout=30)
        half.sendall(b"GET /status HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        start = time.monotonic()
        for sock in (silent, half):
            sock.settimeout(30 - (time.monotonic() - start))
            try:
                self.assertEqual(sock.recv(4096), b"")
            except ConnectionResetError:
                pass
        elapsed = time.monotonic() - start
        self.assertGreater(elapsed, 10)
        self.assertLess(elapsed, 25)
        silent.close()
        half.close()


if __name__ == "__main__":
    unittest.main(verbosity=2)
