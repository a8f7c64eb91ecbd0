# SPDX-License-Identifier: LGPL-2.1-or-later
"""sonded's command line, as a script or a service manager uses it: the URL
line, --version, refused options, --disable, --plugin-dir, signals, and a
port already taken."""

import asyncio
import json
import os
import re
import signal
import socket
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import sondedtest  # noqa: E402

try:
    import websockets
except ImportError:  # pragma: no cover
    websockets = None

# How long a signalled daemon may take to exit.
EXIT_TIMEOUT = 5


async def first_frames(url, n, timeout=10):
    """Connects, returns the first n frames."""
    async with websockets.connect(url, open_timeout=timeout, max_size=2 ** 22) as ws:
        return [json.loads(await asyncio.wait_for(ws.recv(), timeout)) for _ in range(n)]


def hello(url):
    frames = asyncio.run(first_frames(url, 1))
    assert frames[0]["type"] == "hello", frames[0]
    return frames[0]


@unittest.skipIf(websockets is None, "python3-websockets is not installed")
class DaemonCliTest(unittest.TestCase):

    def start(self, *args):
        daemon = sondedtest.Daemon(*args).start()
        self.addCleanup(daemon.close)
        return daemon

    def assertRefused(self, args, *fragments):
        status, stdout, stderr = sondedtest.run_sonded(*args)
        self.assertNotEqual(status, 0, f"sonded {' '.join(args)} succeeded; stderr:\n{stderr}")
        self.assertGreater(status, 0, f"sonded {' '.join(args)} died of signal {-status}")
        self.assertNotIn("listening on", stdout)
        for fragment in fragments:
            self.assertIn(fragment, stderr)
        # One clear line, not a trace.
        self.assertNotIn("CRITICAL", stderr)
        return stderr

    # --port 0 ---------------------------------------------------------------

    def test_port_zero_prints_url_first(self):
        daemon = self.start("--port", "0")
        url = daemon.wait_for_url()
        self.assertRegex(daemon.stdout().split("\n", 1)[0],
                         r"^listening on ws://127\.0\.0\.1:[1-9][0-9]*/ws/v1$")
        self.assertNotEqual(daemon.port, 54112, "--port 0 took the default port")

        frame = hello(url)
        self.assertEqual(frame["server"], "sonde")
        for name in ("cpu", "memory", "disk", "network", "processes", "gateway", "host"):
            self.assertIn(name, frame["collectors"])
        self.assertEqual(daemon.stop(), 0)

    # --version ----------------------------------------------------------------

    def test_version(self):
        status, stdout, stderr = sondedtest.run_sonded("--version")
        self.assertEqual(status, 0, stderr)
        self.assertRegex(stdout, r"^sonded \d+\.\d+\.\d+\n$")
        self.assertNotIn("listening", stdout)

    # Refused options ----------------------------------------------------------

    def test_port_out_of_range(self):
        stderr = self.assertRefused(["--port", "70000"], "70000")
        self.assertRegex(stderr, r"out of range|0-65535")

    def test_negative_port(self):
        self.assertRefused(["--port", "-5"], "-5")

    def test_port_not_a_number(self):
        self.assertRefused(["--port", "eighty"], "eighty")

    def test_address_not_an_ip(self):
        stderr = self.assertRefused(["--address", "not-an-ip"], "not-an-ip")
        self.assertRegex(stderr, r"not an IP address|cannot listen")

    def test_unknown_option(self):
        self.assertRefused(["--no-such-option"], "no-such-option")

    # --disable ------------------------------------------------------------------

    def test_disable_cpu(self):
        daemon = self.start("--port", "0", "--disable", "cpu")
        url = daemon.wait_for_url()

        frame = hello(url)
        self.assertNotIn("cpu", frame["collectors"])
        self.assertIn("memory", frame["collectors"])

        catalog = daemon.get_json("/api/v1/catalog")["metrics"]
        self.assertTrue(catalog, "empty catalog")
        self.assertEqual([m["name"] for m in catalog if m["collector"] == "cpu" or m["name"].startswith("cpu.")],
                         [])
        self.assertTrue(any(m["collector"] == "memory" for m in catalog))

        # And the stream has no cpu data either.
        frames = asyncio.run(first_frames(url, 2))
        self.assertEqual(frames[1]["type"], "snapshot", frames[1])
        self.assertNotIn("cpu", frames[1]["data"])
        self.assertIn("memory", frames[1]["data"])
        self.assertEqual(daemon.stop(), 0)

    def test_disable_unknown_warns_and_runs(self):
        daemon = self.start("--port", "0", "--disable", "nope")
        url = daemon.wait_for_url()
        frame = hello(url)
        self.assertIn("cpu", frame["collectors"])
        self.assertEqual(daemon.stop(), 0)
        self.assertRegex(daemon.stderr(), r"(?i)warning.*nope|nope.*no such collector")

    # --plugin-dir ---------------------------------------------------------------

    def test_plugin_dir_nonexistent_is_harmless(self):
        daemon = self.start("--port", "0", "--plugin-dir", "/nonexistent")
        url = daemon.wait_for_url()
        frame = hello(url)
        for name in ("cpu", "memory", "disk", "network", "processes", "host"):
            self.assertIn(name, frame["collectors"])
        self.assertEqual(daemon.stop(), 0)
        self.assertNotRegex(daemon.stderr(), r"(?i)critical")

    # Signals ----------------------------------------------------------------------

    def check_signal_with_client(self, signal_number):
        daemon = self.start("--port", "0")
        url = daemon.wait_for_url()
        result = {}

        async def client():
            async with websockets.connect(url, open_timeout=10, close_timeout=EXIT_TIMEOUT) as ws:
                self.assertEqual(json.loads(await asyncio.wait_for(ws.recv(), 10))["type"], "hello")
                self.assertEqual(json.loads(await asyncio.wait_for(ws.recv(), 10))["type"], "snapshot")
                sent = time.monotonic()
                os.kill(daemon.pid, signal_number)
                try:
                    while True:
                        await asyncio.wait_for(ws.recv(), EXIT_TIMEOUT)
                except websockets.ConnectionClosed as e:
                    result["close_code"] = e.rcvd.code if e.rcvd else None
                    result["closed_after"] = time.monotonic() - sent

        asyncio.run(client())
        start = time.monotonic()
        status = daemon.wait(EXIT_TIMEOUT)
        self.assertIsNotNone(status, f"sonded did not exit within {EXIT_TIMEOUT} s of signal {signal_number}")
        self.assertEqual(status, 0, f"exit status {status}; stderr:\n{daemon.stderr()}")
        self.assertLess(result["closed_after"] + (time.monotonic() - start), EXIT_TIMEOUT)
        # The client is told, not cut off: a close frame (1001 going away).
        self.assertIn(result["close_code"], (1000, 1001),
                      f"the client saw no clean close (code {result['close_code']})")

    def test_sigterm_with_client_exits_zero(self):
        self.check_signal_with_client(signal.SIGTERM)

    def test_sigint_with_client_exits_zero(self):
        self.check_signal_with_client(signal.SIGINT)

    # A port already taken -------------------------------------------------------

    def test_second_daemon_on_same_port_fails(self):
        # The free port may be taken by someone else between the probe and
        # the daemon's bind: try a few.
        for attempt in range(5):
            port = sondedtest.free_port()
            first = self.start("--port", str(port))
            try:
                first.wait_for_url()
                break
            except AssertionError:
                if attempt == 4:
                    raise
        self.assertEqual(first.port, port)

        stderr = self.assertRefused(["--port", str(port)], str(port))
        self.assertRegex(stderr, r"(?i)cannot listen|in use")

        # The first one is unharmed.
        self.assertIsNone(first.process.poll())
        hello(first.url)
        self.assertEqual(first.stop(), 0)


if __name__ == "__main__":
    unittest.main(verbosity=2)
