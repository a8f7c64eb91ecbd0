# SPDX-License-Identifier: LGPL-2.1-or-later
"""Run the examples of introspection/examples/ so that they cannot rot."""

import asyncio
import importlib.util
import json
import math
import os
import queue
import re
import signal
import socket
import subprocess
import tempfile
import threading
import unittest
import urllib.parse
import urllib.request

from sondetest import (SKIP_REASON, check_plugins_built, main, require_sonde,
                       require_websockets, websockets)

EXAMPLES = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                         "..", "..", "introspection", "examples"))
PYTHON = "/usr/bin/python3"
TIMEOUT = 60


def setUpModule():
    if SKIP_REASON is None:
        check_plugins_built()


def example(name):
    return os.path.join(EXAMPLES, name)


def run(name, *args, timeout=TIMEOUT, env=None):
    """Run an example to completion; its environment is the test's (the build tree)."""
    return subprocess.run([PYTHON, example(name), *args], capture_output=True, text=True,
                          timeout=timeout, env=env)


def load_module(name):
    """Import an example as a module (its main() only runs as a script)."""
    spec = importlib.util.spec_from_file_location(name.replace("-", "_")[:-3], example(name))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Lines(threading.Thread):
    """Reads a child's stdout line by line, so that waits can be bounded."""

    def __init__(self, stream):
        super().__init__(daemon=True)
        self.stream = stream
        self.lines = queue.Queue()
        self.start()

    def run(self):
        for line in self.stream:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def next(self, timeout=20):
        try:
            return self.lines.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"no output line within {timeout} s") from None


@require_sonde
class ExamplesHelpTest(unittest.TestCase):
    def test_examples_are_executable_with_help(self):
        names = sorted(n for n in os.listdir(EXAMPLES) if n.endswith(".py"))
        self.assertEqual(names, ["sonde-custom-collector.py", "sonde-live-printer.py",
                                 "sonde-threshold-notifier.py"])
        for name in names:
            with self.subTest(example=name):
                self.assertTrue(os.access(example(name), os.X_OK), "not executable")
                with open(example(name)) as f:
                    self.assertEqual(f.readline(), "#!/usr/bin/python3\n")
                done = run(name, "--help")
                self.assertEqual(done.returncode, 0, done.stderr)
                self.assertTrue(done.stdout.startswith("usage: "), done.stdout)


@require_sonde
class LivePrinterTest(unittest.TestCase):
    NAME = "sonde-live-printer.py"

    def test_default_patterns_aligned_lines(self):
        done = run(self.NAME, "--count", "3", "--interval", "200")
        self.assertEqual(done.returncode, 0, done.stderr)
        lines = done.stdout.splitlines()
        self.assertEqual(len(lines), 4, done.stdout)
        header = lines[0].split()
        self.assertEqual(header, ["time", "seq", "cpu.usage_percent", "memory.usage_percent"])
        seqs = []
        for line in lines[1:]:
            # Right-aligned columns: every line as wide as the header.
            self.assertEqual(len(line), len(lines[0]), f"not aligned:\n{done.stdout}")
            clock, seq, cpu, memory = line.split()
            self.assertRegex(clock, r"^\d\d:\d\d:\d\d\.\d{3}$")
            seqs.append(int(seq))
            self.assertTrue(0.0 <= float(cpu) <= 100.0, line)
            self.assertTrue(0.0 < float(memory) <= 100.0, line)
        self.assertEqual(seqs, list(range(seqs[0], seqs[0] + 3)))

    def test_patterns_and_json(self):
        done = run(self.NAME, "host.hostname", "cpu.c*", "--json", "--count", "2",
                   "--interval", "200")
        self.assertEqual(done.returncode, 0, done.stderr)
        frames = [json.loads(line) for line in done.stdout.splitlines()]
        self.assertEqual(len(frames), 2)
        for frame in frames:
            self.assertEqual(frame["type"], "snapshot")
            self.assertEqual(frame["data"]["host"], {"hostname": socket.gethostname()})
            self.assertEqual(frame["data"]["cpu"], {"cores": os.cpu_count()})

    def test_glob_columns(self):
        done = run(self.NAME, "*.usage_percent", "--count", "1", "--interval", "200")
        self.assertEqual(done.returncode, 0, done.stderr)
        header, line = done.stdout.splitlines()
        self.assertEqual(sorted(header.split()[2:]), ["cpu.usage_percent", "disk.usage_percent",
                                                      "memory.usage_percent"])
        self.assertEqual(len(line.split()), 5)

    def test_unknown_metric(self):
        done = run(self.NAME, "cpu.no_such_field", "--count", "1")
        self.assertEqual(done.returncode, 2)
        self.assertIn("Unknown metric", done.stderr)
        self.assertEqual(done.stdout, "")


@require_sonde
class CustomCollectorTest(unittest.TestCase):
    NAME = "sonde-custom-collector.py"

    def setUp(self):
        fd, self.path = tempfile.mkstemp(prefix="sonde-loadavg-")
        os.close(fd)
        self.write("1.50 2.25 3.00 4/567 8910\n")

    def tearDown(self):
        if os.path.exists(self.path):
            os.unlink(self.path)

    def write(self, text):
        # Replace the file atomically: the collector may read it any time.
        with open(self.path + ".new", "w") as f:
            f.write(text)
        os.replace(self.path + ".new", self.path)

    def start(self, *args):
        proc = subprocess.Popen([PYTHON, example(self.NAME), *args],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.addCleanup(self.stop, proc)
        return proc, Lines(proc.stdout)

    def stop(self, proc):
        if proc.poll() is None:
            proc.kill()
        proc.wait(10)
        proc.stdout.close()
        proc.stderr.close()

    def get_json(self, url):
        with urllib.request.urlopen(url, timeout=10) as response:
            return json.loads(response.read())

    @require_websockets
    def test_served_like_a_plugin(self):
        proc, lines = self.start("--file", self.path, "--port", "0", "--duration", "60")
        first = lines.next()
        m = re.fullmatch(r"listening on ws://127\.0\.0\.1:(\d+)/ws/v1", first)
        self.assertIsNotNone(m, first)
        port = int(m.group(1))
        self.assertNotEqual(port, 0)
        self.assertEqual(lines.next(), f"catalog:  http://127.0.0.1:{port}/api/v1/catalog")
        base = f"http://127.0.0.1:{port}"

        catalog = {m["name"]: m for m in self.get_json(f"{base}/api/v1/catalog")["metrics"]}
        self.assertEqual(catalog["loadavg.tasks"]["unit"], "count")
        self.assertEqual(catalog["loadavg.load_1min"]["kind"], "gauge")
        self.assertIn("cpu.usage_percent", catalog)   # next to the C plugins

        snapshot = self.get_json(f"{base}/api/v1/snapshot?metrics=loadavg.*")
        self.assertEqual(snapshot["data"], {"loadavg": {
            "load_1min": 1.5, "load_5min": 2.25, "load_15min": 3.0,
            "runnable": 4, "tasks": 567, "last_pid": 8910}})

        # On /ws/v1: the values follow the file, and a file that cannot be
        # read becomes a collector_error event while cpu keeps streaming.
        query = urllib.parse.urlencode({"metrics": "loadavg.load_1min,cpu.usage_percent",
                                        "interval_ms": 200, "events": "collector_error"})

        async def client():
            async with websockets.connect(f"ws://127.0.0.1:{port}/ws/v1?{query}",
                                          open_timeout=10) as ws:
                async def until(predicate):
                    while True:
                        frame = json.loads(await ws.recv())
                        if predicate(frame):
                            return frame

                def load(frame):
                    return frame.get("data", {}).get("loadavg", {}).get("load_1min")

                frame = await until(lambda f: f["type"] == "snapshot")
                self.assertEqual(load(frame), 1.5)
                self.write("7.25 2.25 3.00 4/567 8911\n")
                await until(lambda f: f["type"] == "snapshot" and load(f) == 7.25)
                os.unlink(self.path)
                event = await until(lambda f: f["type"] == "event")
                self.assertEqual(event["event"], "collector_error")
                self.assertIn(f"cannot read {self.path}", event["data"]["message"])
                frame = await until(lambda f: f["type"] == "snapshot")
                self.assertIn("usage_percent", frame["data"]["cpu"])

        asyncio.run(asyncio.wait_for(client(), 30))

        # SIGTERM (like Ctrl-C) ends it cleanly.
        proc.send_signal(signal.SIGTERM)
        self.assertEqual(proc.wait(20), 0, proc.stderr.read())
        self.assertEqual(lines.next(), f"snapshot: {base}/api/v1/snapshot?metrics=loadavg.*")
        self.assertEqual(lines.next(), "bye")

    def test_duration_bounds_the_run(self):
        done = run(self.NAME, "--file", self.path, "--duration", "0.5", "--no-plugins")
        self.assertEqual(done.returncode, 0, done.stderr)
        lines = done.stdout.splitlines()
        self.assertTrue(lines[0].startswith("listening on ws://127.0.0.1:"), done.stdout)
        self.assertEqual(lines[-1], "bye")

    def test_name_clash_is_an_error(self):
        done = run(self.NAME, "--name", "cpu", "--duration", "0.5")
        self.assertEqual(done.returncode, 2)
        self.assertIn("already exists", done.stderr)

    def test_collector_class(self):
        # The class is usable on its own, e.g. from another script.
        module = load_module(self.NAME)
        collector = module.LoadavgCollector(name="la", path=self.path)
        sample = collector.collect()
        self.assertEqual(sample.get_collector(), "la")
        self.assertEqual(sample.get_double("load_5min"), 2.25)
        self.assertEqual(sample.get_int("last_pid"), 8910)
        self.assertEqual([m.get_name() for m in collector.get_metrics()],
                         ["la.load_1min", "la.load_5min", "la.load_15min", "la.runnable",
                          "la.tasks", "la.last_pid"])
        real = module.LoadavgCollector().collect()
        with open("/proc/loadavg") as f:
            self.assertEqual(real.get_int("tasks"), int(f.read().split()[3].split("/")[1]))


@require_sonde
class ThresholdNotifierTest(unittest.TestCase):
    NAME = "sonde-threshold-notifier.py"

    def test_alert_fires(self):
        done = run(self.NAME, "--metric", "memory.usage_percent", "--above", "0",
                   "--for", "2", "--count", "4", "--interval", "200")
        self.assertEqual(done.returncode, 0, done.stderr)
        lines = done.stdout.splitlines()
        self.assertEqual(lines[0], "watching memory.usage_percent every 200 ms: "
                                   "alert when > 0 percent for 2 samples")
        alerts = [line for line in lines if " ALERT " in line]
        self.assertEqual(len(alerts), 1, done.stdout)    # once per episode
        self.assertRegex(alerts[0], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z ALERT "
                                    r"memory\.usage_percent = \d+\.\d\d percent > 0 "
                                    r"for 2 consecutive samples$")
        self.assertNotIn("RECOVERED", done.stdout)
        self.assertEqual(lines[-1], "4 samples, 1 alerts")

    def test_below_and_verbose(self):
        done = run(self.NAME, "--metric", "memory.available_bytes", "--below", "1e18",
                   "--for", "1", "--count", "2", "--interval", "200", "--verbose")
        self.assertEqual(done.returncode, 0, done.stderr)
        lines = done.stdout.splitlines()
        self.assertRegex(lines[1], r"Z memory\.available_bytes = \d+ bytes$")
        self.assertRegex(lines[2], r"Z ALERT memory\.available_bytes = \d+ bytes < 1e\+18 "
                                   r"for 1 consecutive samples$")
        self.assertEqual(lines[-1], "2 samples, 1 alerts")

    def test_quiet_under_the_threshold(self):
        done = run(self.NAME, "--metric", "cpu.usage_percent", "--above", "100",
                   "--for", "1", "--count", "3", "--interval", "200")
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertNotIn("ALERT", done.stdout)
        self.assertEqual(done.stdout.splitlines()[-1], "3 samples, 0 alerts")

    def test_duration_bounds_the_run(self):
        done = run(self.NAME, "--metric", "memory.usage_percent", "--duration", "1",
                   "--interval", "200")
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertRegex(done.stdout.splitlines()[-1], r"^\d+ samples, 0 alerts$")

    def test_bad_metrics(self):
        for metric, message in (("cpu.no_such_field", "unknown metric"),
                                ("disk.partitions", "is not a number")):
            with self.subTest(metric=metric):
                done = run(self.NAME, "--metric", metric, "--count", "1")
                self.assertEqual(done.returncode, 2)
                self.assertIn(message, done.stderr)

    def test_threshold_logic(self):
        module = load_module(self.NAME)
        watch = module.ThresholdWatch(90, above=True, consecutive=3)
        values = [95, 96, 50, 91, 92, 93, 94, math.nan, 99, 90, 95, 95, 95]
        states = [watch.feed(v) for v in values]
        self.assertEqual(states, [None, None, None, None, None, "alert", None, None, None,
                                  "recovered", None, None, "alert"])
        watch = module.ThresholdWatch(10, above=False, consecutive=1)
        self.assertEqual([watch.feed(v) for v in (20, 5, 4, 10, 9)],
                         [None, "alert", None, "recovered", "alert"])


@require_sonde
class RunExampleTest(unittest.TestCase):
    @unittest.skipUnless(os.environ.get("SONDE_BUILD_ROOT"), "SONDE_BUILD_ROOT is not set")
    def test_wrapper_sets_the_environment(self):
        env = {k: v for k, v in os.environ.items()
               if k not in ("GI_TYPELIB_PATH", "LD_LIBRARY_PATH", "SONDE_PLUGIN_PATH")}
        done = subprocess.run([example("run-example"), "-C", os.environ["SONDE_BUILD_ROOT"],
                               "sonde-live-printer", "--count", "1", "--interval", "200"],
                              capture_output=True, text=True, timeout=TIMEOUT, env=env)
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertEqual(done.stdout.splitlines()[0].split(),
                         ["time", "seq", "cpu.usage_percent", "memory.usage_percent"])

    def test_wrapper_usage(self):
        done = subprocess.run([example("run-example")], capture_output=True, text=True,
                              timeout=TIMEOUT)
        self.assertEqual(done.returncode, 2)
        self.assertIn("sonde-threshold-notifier", done.stderr)
        done = subprocess.run([example("run-example"), "-C", "/nonexistent", "sonde-live-printer"],
                              capture_output=True, text=True, timeout=TIMEOUT)
        self.assertEqual(done.returncode, 1)
        self.assertIn("meson setup", done.stderr)


if __name__ == "__main__":
    main()
