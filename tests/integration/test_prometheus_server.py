# SPDX-License-Identifier: LGPL-2.1-or-later
"""A real Prometheus server (Debian's prometheus package) scraping real
sondeds every second, queried through its HTTP API.

Two daemons: one with its defaults, and one with a token and no history,
so that its collectors are sampled only because Prometheus scrapes them.
Prometheus scrapes the first, the second with the token, and the second
again without it (which must fail with 401). Every process is stopped by
its PID.

Skips (exit 77) only when the prometheus binary is not installed.
"""

import json
import math
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import sondedtest  # noqa: E402

PROMETHEUS = "/usr/bin/prometheus"
if not os.access(PROMETHEUS, os.X_OK):
    print("SKIP: prometheus is not installed (Debian package prometheus; tools/install-deps installs it)")
    sys.exit(77)

TOKEN = "prometheus-test-token"
# Bounds of every wait: Prometheus starts in a second or two, and scrapes
# every second; a loaded machine (the test suite runs in parallel) gets
# plenty of slack.
START_TIMEOUT = 60
QUERY_TIMEOUT = 45


def mem_total_bytes():
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no MemTotal in /proc/meminfo")


class Prometheus:
    """One Prometheus server on 127.0.0.1, with its configuration and
    storage in a temporary directory."""

    def __init__(self, scrape_configs):
        self.tmpdir = tempfile.TemporaryDirectory(prefix="sonde-prometheus-")
        self.config_path = os.path.join(self.tmpdir.name, "prometheus.yml")
        self.log_path = os.path.join(self.tmpdir.name, "prometheus.log")
        self.process = None
        self.port = None
        # JSON is YAML: no YAML writer needed.
        config = {
            "global": {"scrape_interval": "1s", "scrape_timeout": "1s", "evaluation_interval": "15s"},
            "scrape_configs": scrape_configs,
        }
        with open(self.config_path, "w") as f:
            json.dump(config, f, indent=2)

    def start(self):
        # A free port may be taken between the probe and the bind: then
        # Prometheus exits at once, and another port is tried.
        for _ in range(5):
            self.port = sondedtest.free_port()
            storage = tempfile.mkdtemp(prefix="tsdb-", dir=self.tmpdir.name)
            with open(self.log_path, "ab") as log:
                self.process = subprocess.Popen(
                    [PROMETHEUS, f"--config.file={self.config_path}", f"--storage.tsdb.path={storage}",
                     f"--web.listen-address=127.0.0.1:{self.port}", "--log.level=info"],
                    stdout=log, stderr=log, stdin=subprocess.DEVNULL, cwd=self.tmpdir.name)
            if self.wait_ready():
                return self
            self.stop()
        raise AssertionError(f"prometheus did not start; its log:\n{self.log()}")

    def wait_ready(self):
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/-/ready", timeout=2) as response:
                    if response.status == 200:
                        return True
            except (urllib.error.URLError, ConnectionError, socket.timeout):
                pass
            time.sleep(0.2)
        return False

    def log(self):
        try:
            with open(self.log_path, encoding="utf-8", errors="replace") as f:
                return f.read()[-6000:]
        except FileNotFoundError:
            return ""

    def api(self, path, **params):
        url = f"http://127.0.0.1:{self.port}{path}"
        if params:
            url += "?" + urllib.parse.urlencode(params)
        with urllib.request.urlopen(url, timeout=10) as response:
            body = json.loads(response.read().decode("utf-8"))
        if body.get("status") != "success":
            raise AssertionError(f"{url}: {body}")
        return body["data"]

    def query(self, expression):
        """The instant vector of @expression: [(labels, float value)]."""
        data = self.api("/api/v1/query", query=expression)
        if data["resultType"] != "vector":
            raise AssertionError(f"{expression}: not a vector: {data}")
        return [(item["metric"], float(item["value"][1])) for item in data["result"]]

    def wait_for(self, expression, predicate, what, timeout=QUERY_TIMEOUT):
        """Polls @expression until predicate(result) holds; returns the result."""
        deadline = time.monotonic() + timeout
        result = None
        while time.monotonic() < deadline:
            result = self.query(expression)
            if predicate(result):
                return result
            time.sleep(0.5)
        raise AssertionError(f"{what}: {expression} gave {result} for {timeout} s\n"
                             f"targets: {json.dumps(self.api('/api/v1/targets'), indent=1)[:4000]}")

    def stop(self, timeout=15):
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)

    def close(self):
        self.stop()
        self.tmpdir.cleanup()


def one(result, what):
    if len(result) != 1:
        raise AssertionError(f"{what}: expected one series, got {result}")
    return result[0]


class PrometheusServerTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.daemons = []
        cls.prometheus = None
        try:
            cls.plain = cls.start_daemon()
            cls.secured = cls.start_daemon(f"[server]\ntoken={TOKEN}\n\n[history]\nseconds=0\n")
            target = f"127.0.0.1:{cls.plain.port}"
            secured = f"127.0.0.1:{cls.secured.port}"
            cls.prometheus = Prometheus([
                {"job_name": "sonde", "metrics_path": "/metrics",
                 "static_configs": [{"targets": [target]}]},
                {"job_name": "sonde-token", "metrics_path": "/metrics",
                 "authorization": {"credentials": TOKEN},
                 "static_configs": [{"targets": [secured]}]},
                {"job_name": "sonde-no-token", "metrics_path": "/metrics",
                 "static_configs": [{"targets": [secured]}]},
            ]).start()
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def start_daemon(cls, config=None):
        daemon = sondedtest.Daemon("--port", "0")
        cls.daemons.append(daemon)
        if config is not None:
            path = os.path.join(daemon.tmpdir.name, "sonde.conf")
            with open(path, "w") as f:
                f.write(config)
            daemon.args += ["--config", path]
        daemon.start()
        daemon.wait_for_url()
        return daemon

    @classmethod
    def tearDownClass(cls):
        if cls.prometheus is not None:
            cls.prometheus.close()
        for daemon in cls.daemons:
            daemon.close()

    def wait_for(self, expression, predicate, what):
        return self.prometheus.wait_for(expression, predicate, what)

    def wait_for_value(self, expression, predicate, what):
        result = self.wait_for(expression, lambda r: len(r) == 1 and predicate(r[0][1]), what)
        return result[0][1]

    def test_target_is_up(self):
        self.wait_for_value('up{job="sonde"}', lambda v: v == 1, "sonded is scraped")
        targets = self.prometheus.api("/api/v1/targets")["activeTargets"]
        plain = [t for t in targets if t["labels"]["job"] == "sonde"]
        self.assertEqual(len(plain), 1)
        self.assertEqual(plain[0]["scrapeUrl"], f"http://127.0.0.1:{self.plain.port}/metrics")

    def test_memory_total_is_memtotal(self):
        expected = mem_total_bytes()
        value = self.wait_for_value('sonde_memory_total_bytes{job="sonde"}', lambda v: True,
                                    "sonde_memory_total_bytes is stored")
        self.assertEqual(value, expected)
        # Exactly: the API gives the stored float64 in full.
        data = self.prometheus.api("/api/v1/query", query='sonde_memory_total_bytes{job="sonde"}')
        self.assertEqual(data["result"][0]["value"][1], str(expected))

    def test_counter_rates(self):
        # Each scrape is loopback traffic: the counters grow between scrapes.
        value = self.wait_for_value('rate(sonde_network_rx_bytes_total{job="sonde"}[5s])',
                                    lambda v: math.isfinite(v) and v > 0,
                                    "rate() of a counter is a positive number")
        self.assertGreater(value, 0)
        self.wait_for_value('rate(sonde_network_interface_rx_bytes_total{job="sonde",interface="lo"}[5s])',
                            lambda v: math.isfinite(v) and v > 0, "rate() of the loopback interface")
        self.wait_for_value('rate(sonde_gateway_requests_total{job="sonde"}[5s])',
                            lambda v: math.isfinite(v) and v > 0, "the scrapes are counted as requests")

    def test_labels_and_info(self):
        cores = self.wait_for_value('sonde_cpu_cores{job="sonde"}', lambda v: v >= 1, "cpu cores")
        per_core = self.wait_for('sonde_cpu_core_usage_percent{job="sonde"}',
                                 lambda r: len(r) == int(cores), "one series per core")
        self.assertEqual(sorted(int(labels["cpu"]) for labels, _ in per_core), list(range(int(cores))))
        for _, value in per_core:
            self.assertTrue(0 <= value <= 100)

        labels, value = one(self.wait_for('sonde_host_info{job="sonde"}', lambda r: len(r) == 1, "host info"),
                            "sonde_host_info")
        self.assertEqual(value, 1)
        self.assertEqual(labels["hostname"], socket.gethostname())
        self.assertEqual(labels["kernel"], os.uname().release)
        self.assertNotIn("host", labels)   # the local source has no host label

        up = self.wait_for('sonde_collector_up{job="sonde"}', lambda r: len(r) >= 5, "collector health")
        by_collector = {labels["collector"]: value for labels, value in up}
        for collector in ("cpu", "memory", "disk", "network", "processes"):
            self.assertEqual(by_collector.get(collector), 1, collector)

    def test_openmetrics_metadata(self):
        # Prometheus asks for OpenMetrics first: the family of a counter is
        # named without _total and carries its unit.
        def has_counter_metadata(_):
            data = self.prometheus.api("/api/v1/metadata", metric="sonde_network_rx_bytes")
            entries = data.get("sonde_network_rx_bytes", [])
            return any(e["type"] == "counter" and e["unit"] == "bytes" for e in entries)

        self.wait_for('up{job="sonde"}', has_counter_metadata, "OpenMetrics metadata of a counter")
        data = self.prometheus.api("/api/v1/metadata", metric="sonde_host")
        self.assertIn("info", [e["type"] for e in data.get("sonde_host", [])])

    def test_token(self):
        self.wait_for_value('up{job="sonde-token"}', lambda v: v == 1, "scraped with the token")
        self.wait_for_value('up{job="sonde-no-token"}', lambda v: v == 0, "refused without the token")
        targets = self.prometheus.api("/api/v1/targets")["activeTargets"]
        refused = [t for t in targets if t["labels"]["job"] == "sonde-no-token"]
        self.assertEqual(len(refused), 1)
        self.assertIn("401", refused[0]["lastError"])
        self.wait_for_value('sonde_memory_total_bytes{job="sonde-token"}', lambda v: v == mem_total_bytes(),
                            "values through the token")
        self.assertEqual(self.prometheus.query('sonde_memory_total_bytes{job="sonde-no-token"}'), [])

    def test_fresh_without_history(self):
        # The secured daemon keeps no history: its collectors run only for
        # the scrapes, and must still give fresh samples and real rates.
        self.wait_for_value('up{job="sonde-token"}', lambda v: v == 1, "scraped with the token")
        last_sample = 'sonde_collector_last_sample_timestamp_seconds{job="sonde-token",collector="network"}'
        self.wait_for_value(f"time() - timestamp({last_sample})", lambda v: v < 5, "scraped lately")
        # Scrape time minus sample time: the sample each scrape finds is at
        # most a couple of seconds old (or taken during the scrape).
        self.wait_for_value(f"timestamp({last_sample}) - {last_sample}", lambda v: -2 < v < 3,
                            "each scrape finds a fresh sample")
        self.wait_for_value('sonde_network_rx_bytes_per_second{job="sonde-token"}',
                            lambda v: v > 0, "a rate over the last second, not a first sample's 0")
        self.wait_for_value('rate(sonde_network_rx_bytes_total{job="sonde-token"}[5s])',
                            lambda v: math.isfinite(v) and v > 0, "rate() of a counter")


if __name__ == "__main__":
    unittest.main(verbosity=2)
