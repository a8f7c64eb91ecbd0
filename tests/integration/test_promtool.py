# SPDX-License-Identifier: LGPL-2.1-or-later
"""GET /metrics of a real sonded, checked by promtool (Debian's prometheus
package) and by the text and OpenMetrics parsers of python3-prometheus-client:
valid, lint-clean, and with the values the machine has.

Skips (exit 77) only when promtool is not installed.
"""

import os
import shutil
import socket
import subprocess
import sys
import unittest
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import sondedtest  # noqa: E402

PROMTOOL = shutil.which("promtool") or "/usr/bin/promtool"
if not os.access(PROMTOOL, os.X_OK):
    print("SKIP: promtool is not installed (Debian package prometheus; tools/install-deps installs it)")
    sys.exit(77)

try:
    from prometheus_client.openmetrics import parser as openmetrics_parser
    from prometheus_client import parser as text_parser
except ImportError:
    openmetrics_parser = text_parser = None

TEXT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
OPENMETRICS_TYPE = "application/openmetrics-text; version=1.0.0; charset=utf-8"
# What Prometheus 2.42 sends.
PROMETHEUS_ACCEPT = ("application/openmetrics-text;version=1.0.0,application/openmetrics-text;"
                     "version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1")


def mem_total_bytes():
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no MemTotal in /proc/meminfo")


def scrape(daemon, accept=None, token=None, method="GET"):
    request = urllib.request.Request(daemon.http_url("/metrics"), method=method)
    if accept:
        request.add_header("Accept", accept)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.headers.get("Content-Type"), response.read().decode("utf-8")


def samples_of(families):
    """{(sample name, sorted labels): value} of parsed families."""
    samples = {}
    for family in families:
        for sample in family.samples:
            key = (sample.name, tuple(sorted(sample.labels.items())))
            if key in samples:
                raise AssertionError(f"series {key} twice")
            samples[key] = sample.value
    return samples


class PromtoolTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        # --disable nothing: every plugin of the build tree, as sonded runs.
        cls.daemon = sondedtest.Daemon("--port", "0").start()
        try:
            cls.daemon.wait_for_url()
        except BaseException:
            cls.daemon.close()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.daemon.close()

    def test_promtool_accepts_the_text_format(self):
        content_type, text = scrape(self.daemon)
        self.assertEqual(content_type, TEXT_TYPE)
        result = subprocess.run([PROMTOOL, "check", "metrics"], input=text, capture_output=True,
                                text=True, timeout=60)
        # promtool's lint: no problem at all, not only a parse that worked.
        self.assertEqual(result.returncode, 0, f"promtool:\n{result.stdout}{result.stderr}\n{text}")
        self.assertEqual(result.stdout + result.stderr, "")

    def test_promtool_accepts_what_prometheus_is_answered(self):
        # promtool reads the text format only; OpenMetrics is what the real
        # Prometheus gets, checked by test_prometheus_server.py. Here: the
        # same series, whatever the format.
        content_type, text = scrape(self.daemon, accept=PROMETHEUS_ACCEPT)
        self.assertEqual(content_type, OPENMETRICS_TYPE)
        self.assertTrue(text.endswith("\n# EOF\n"))
        if openmetrics_parser is None:
            self.skipTest("python3-prometheus-client is not installed")
        families = list(openmetrics_parser.text_string_to_metric_families(text))
        by_name = {family.name: family for family in families}
        self.assertEqual(by_name["sonde_network_rx_bytes"].type, "counter")
        self.assertEqual(by_name["sonde_network_rx_bytes"].unit, "bytes")
        self.assertEqual(by_name["sonde_host"].type, "info")
        self.assertEqual(by_name["sonde_memory_total_bytes"].type, "gauge")
        self.assertEqual(len(by_name), len(families), "a family written twice")

    def test_values(self):
        if text_parser is None:
            self.skipTest("python3-prometheus-client is not installed")
        _, text = scrape(self.daemon)
        families = list(text_parser.text_string_to_metric_families(text))
        names = [family.name for family in families]
        self.assertEqual(len(names), len(set(names)), "a family written twice")
        samples = samples_of(families)

        self.assertEqual(samples[("sonde_memory_total_bytes", ())], mem_total_bytes())
        self.assertEqual(samples[("sonde_collector_up", (("collector", "memory"),))], 1)
        info = [labels for (name, labels) in samples if name == "sonde_host_info"]
        self.assertEqual(len(info), 1)
        self.assertEqual(dict(info[0])["hostname"], socket.gethostname())
        self.assertEqual(dict(info[0])["kernel"], os.uname().release)
        self.assertEqual(dict(info[0])["arch"], os.uname().machine)

        # Every online CPU has its series, labelled 0..N-1.
        cores = int(samples[("sonde_cpu_cores", ())])
        for cpu in range(cores):
            value = samples[("sonde_cpu_core_usage_percent", (("cpu", str(cpu)),))]
            self.assertGreaterEqual(value, 0)
            self.assertLessEqual(value, 100)

        # Loopback is an interface of every machine; its counters are exact
        # integers that only grow.
        lo_rx = samples[("sonde_network_interface_rx_bytes_total", (("interface", "lo"),))]
        self.assertEqual(lo_rx, int(lo_rx))
        _, later = scrape(self.daemon)
        later_samples = samples_of(text_parser.text_string_to_metric_families(later))
        self.assertGreaterEqual(
            later_samples[("sonde_network_interface_rx_bytes_total", (("interface", "lo"),))], lo_rx)

        # The processes are the top lists only, never every process.
        top = [labels for (name, labels) in samples if name == "sonde_processes_top_cpu_usage_percent"]
        self.assertGreater(len(top), 0)
        self.assertLessEqual(len(top), 5)
        for labels in top:
            self.assertEqual([key for key, _ in labels], ["name", "pid"])

        # The root filesystem, labelled.
        root = [labels for (name, labels) in samples
                if name == "sonde_disk_partition_total_bytes" and dict(labels).get("mountpoint") == "/"]
        if root:
            st = os.statvfs("/")
            self.assertEqual(samples[("sonde_disk_partition_total_bytes", root[0])], st.f_blocks * st.f_frsize)
            self.assertEqual(sorted(key for key, _ in root[0]), ["device", "fstype", "mountpoint"])

    def test_head(self):
        request = urllib.request.Request(self.daemon.http_url("/metrics"), method="HEAD")
        with urllib.request.urlopen(request, timeout=10) as response:
            self.assertEqual(response.status, 200)
            self.assertEqual(response.headers.get("Content-Type"), TEXT_TYPE)
            self.assertEqual(response.read(), b"")


class PromtoolTokenTest(unittest.TestCase):
    """With a token set, /metrics is answered only to who presents it."""

    TOKEN = "promtool-test-token"

    def setUp(self):
        self.daemon = sondedtest.Daemon("--port", "0")
        config = os.path.join(self.daemon.tmpdir.name, "sonde.conf")
        with open(config, "w") as f:
            f.write(f"[server]\ntoken={self.TOKEN}\n")
        self.daemon.args += ["--config", config]
        self.daemon.start()
        self.addCleanup(self.daemon.close)
        self.daemon.wait_for_url()

    def test_token(self):
        with self.assertRaises(urllib.error.HTTPError) as raised:
            scrape(self.daemon)
        self.assertEqual(raised.exception.code, 401)
        self.assertEqual(raised.exception.headers.get("WWW-Authenticate"), "Bearer")

        with self.assertRaises(urllib.error.HTTPError) as raised:
            scrape(self.daemon, token="wrong")
        self.assertEqual(raised.exception.code, 401)

        content_type, text = scrape(self.daemon, token=self.TOKEN)
        self.assertEqual(content_type, TEXT_TYPE)
        result = subprocess.run([PROMTOOL, "check", "metrics"], input=text, capture_output=True,
                                text=True, timeout=60)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
