#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The ziggie quick reference's Python client against a real sonded.

ziggie's quick reference (docs/formats/ziggie.md) documents
ws://127.0.0.1:54112/api/system/metrics, sonded's own default port: when
that port is free the example runs exactly as written; otherwise only its
port is changed.
"""

import ast
import asyncio
import contextlib
import io
import json
import os
import re
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from sondedtest import Daemon, port_is_free  # noqa: E402

try:
    import websockets
except ImportError:
    print("python3-websockets is not available: skipping")
    sys.exit(77)

TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$")



class ZiggieSeedTest(unittest.TestCase):

    def setUp(self):
        args = [] if port_is_free(54112) else ["--port", "0"]
        self.daemon = Daemon(*args).start()
        self.addCleanup(self.daemon.close)
        self.daemon.wait_for_url()

    def run_example(self):
        # The quick reference's example, word for word but for the port
        # when 54112 was taken.
        async def test():
            async with websockets.connect(f"ws://127.0.0.1:{self.daemon.port}/api/system/metrics") as ws:
                print(json.loads(await ws.recv()))

        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            asyncio.run(asyncio.wait_for(test(), 15))
        return out.getvalue()

    def test_example_prints_real_values(self):
        printed = self.run_example()
        message = ast.literal_eval(printed)  # the example prints a dict
        self.assertEqual(sorted(message), ["cpu", "disk", "memory", "timestamp"])
        for key in ("cpu", "memory", "disk"):
            self.assertIsInstance(message[key], float)
            self.assertGreaterEqual(message[key], 0.0)
            self.assertLessEqual(message[key], 100.0)
        # Real metrics (not 0.0 %): memory and the root filesystem are used.
        self.assertGreater(message["memory"], 0.0)
        self.assertGreater(message["disk"], 0.0)
        self.assertRegex(message["timestamp"], TIMESTAMP)

    def test_every_second_for_several_clients(self):
        async def collect(n):
            async with websockets.connect(f"ws://127.0.0.1:{self.daemon.port}/api/system/metrics") as ws:
                return [await asyncio.wait_for(ws.recv(), 5) for _ in range(n)]

        async def both():
            return await asyncio.gather(collect(3), collect(3))

        first, second = asyncio.run(both())
        stamps = [json.loads(text)["timestamp"] for text in first]
        seconds = [int(stamp[17:19]) for stamp in stamps]
        self.assertEqual([(b - a) % 60 for a, b in zip(seconds, seconds[1:])], [1, 1])
        # Multiple clients, no interference: the same frames for the same seconds.
        shared = set(first) & set(second)
        self.assertTrue(shared, "the two clients got no frame in common")


if __name__ == "__main__":
    unittest.main(verbosity=2)
