#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Churn: dashboards that reconnect every few seconds for months. Cycles of
connect, subscribe, first snapshot, close, in batches, must leave the
daemon's memory where it was and no descriptor behind, over plain TCP and
over TLS.

    test_churn.py [CYCLES]    (default 100000; SONDE_CHURN_CYCLES too)
"""

import os
import shutil
import ssl
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from attacktest import Daemon, handshake, json_frame, rss_bytes  # noqa: E402

BATCH = 200
# The allocator's high-water mark settles within the first tens of
# thousands of cycles (11.2 MiB at start, 13.3 after 20,000, 13.6 from
# 60,000 to 180,000 on): the bound applies after it, and a leak shows as
# growth over the second half, which a plateau does not have.
WARM_UP_SHARE = 0.2
SECOND_HALF_GROWTH = 0.05
SUBSCRIBE = json_frame({"type": "subscribe", "id": "churn", "metrics": ["cpu.usage_percent"],
                        "interval_ms": 100})
CYCLES = int(os.environ.get("SONDE_CHURN_CYCLES", "100000"))


def open_fds(pid):
    """The daemon's descriptors, but the /proc files its collectors keep
    open, which come and go with the machine's processes."""
    fds = 0
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except FileNotFoundError:
            continue
        if not target.startswith("/proc/"):
            fds += 1
    return fds


def wait_for_snapshot(sock, timeout=10):
    """Reads until a frame holding a snapshot of the churn subscription."""
    sock.settimeout(timeout)
    data = b""
    while b'"subscription":"churn"' not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise AssertionError("closed before the first snapshot")
        data = data[-64:] + chunk


class ChurnTest(unittest.TestCase):

    def start(self, daemon, tls=None):
        self.daemon = daemon.start()
        self.addCleanup(self.daemon.close)
        self.daemon.wait_for_url()
        self.port = self.daemon.port
        self.tls = tls

    def connect(self):
        sock, _, _ = handshake(self.port, tls=self.tls)
        return sock

    def batch(self, count):
        sockets = [self.connect() for _ in range(count)]
        for sock in sockets:
            sock.sendall(SUBSCRIBE)
        for sock in sockets:
            wait_for_snapshot(sock)
        for sock in sockets:
            sock.close()

    def cycle(self, cycles):
        done = 0
        while done < cycles:
            count = min(BATCH, cycles - done)
            self.batch(count)
            done += count

    def run_cycles(self, cycles):
        pid = self.daemon.pid
        self.cycle(max(2000, int(cycles * WARM_UP_SHARE)))
        time.sleep(1)
        rss_start, fds_start = rss_bytes(pid), open_fds(pid)

        start = time.monotonic()
        self.cycle(cycles // 2)
        rss_half = rss_bytes(pid)
        self.cycle(cycles - cycles // 2)
        elapsed = time.monotonic() - start

        # The daemon notices the last closes, and trims what it freed.
        time.sleep(3)
        rss_end, fds_end = rss_bytes(pid), open_fds(pid)
        print(f"{cycles} cycles in {elapsed:.1f} s ({cycles / elapsed:.0f}/s): "
              f"RSS {rss_start / 1024:.0f} -> {rss_half / 1024:.0f} (half) -> {rss_end / 1024:.0f} KiB, "
              f"fds {fds_start} -> {fds_end}", flush=True)
        self.assertLessEqual(rss_end, rss_start * 1.10)
        self.assertLessEqual(rss_end, rss_half * (1 + SECOND_HALF_GROWTH))
        self.assertEqual(fds_end, fds_start)

    @staticmethod
    def configured(daemon, server=""):
        """History off: its rings fill block by block over the daemon's
        first hour (up to ~2.5 MiB), which is not churn."""
        conf = os.path.join(daemon.tmpdir.name, "sonde.conf")
        with open(conf, "w") as f:
            f.write(f"[server]\nport=0\n{server}[history]\nseconds=0\n")
        os.chmod(conf, 0o600)
        daemon.args += ["--config", conf]
        return daemon

    def test_plain(self):
        self.start(self.configured(Daemon()))
        self.run_cycles(CYCLES)

    def test_tls(self):
        if shutil.which("openssl") is None:
            self.skipTest("openssl is not installed")
        daemon = Daemon()
        tmp = daemon.tmpdir.name
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                        "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
                        "-keyout", os.path.join(tmp, "key.pem"), "-out", os.path.join(tmp, "cert.pem")],
                       check=True, capture_output=True, timeout=60)
        self.configured(daemon, f"tls-certificate={tmp}/cert.pem\ntls-key={tmp}/key.pem\n")
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        self.start(daemon, tls=context)
        self.run_cycles(CYCLES)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1].isdigit():
        CYCLES = int(sys.argv.pop(1))
    unittest.main(verbosity=2)
