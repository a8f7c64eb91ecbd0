# SPDX-License-Identifier: LGPL-2.1-or-later
"""Collectors written in Python: served like C plugins, failures contained."""

import datetime
import json
import threading
import unittest
import urllib.parse

from sondetest import (SKIP_REASON, GLib, Sonde, WsClient, http_get_json, main, new_engine,
                       require_sonde, require_websockets, spin_for, spin_until)


def epoch_ms(timestamp):
    """'2026-11-22T10:30:00.123Z' -> milliseconds since the epoch."""
    when = datetime.datetime.strptime(timestamp, "%Y-%m-%dT%H:%M:%S.%f%z")
    return round(when.timestamp() * 1000)


if SKIP_REASON is None:
    class CountingCollector(Sonde.Collector):
        """Counts its collections: a value that changes at every sample."""

        def __init__(self, name="py"):
            super().__init__(name=name)
            self.add_metric("answer", "", Sonde.MetricKind.GAUGE, "The answer")
            self.add_metric("calls", "count", Sonde.MetricKind.COUNTER,
                            "Collections so far")
            self.add_metric("label", "", Sonde.MetricKind.INFO, "A string field")
            self.calls = 0
            self.threads = set()

        def do_collect(self):
            self.calls += 1
            self.threads.add(threading.get_ident())
            fields = {"answer": 42, "calls": self.calls, "label": "from python"}
            return Sonde.Sample.new_from_json(self.get_name(), GLib.get_real_time(),
                                              json.dumps(fields))

    class FailingCollector(Sonde.Collector):
        """Raises from collect: a GLib.Error, or any other exception."""

        def __init__(self, name, glib_error):
            super().__init__(name=name)
            self.add_metric("value", "", Sonde.MetricKind.GAUGE, "Never produced")
            self.glib_error = glib_error

        def do_collect(self):
            if self.glib_error:
                raise GLib.Error.new_literal(Sonde.error_quark(), "sensor unplugged",
                                             Sonde.Error.COLLECTOR_FAILED)
            raise ValueError("a bug in a Python collector (traceback expected)")


@require_sonde
class PythonCollectorTest(unittest.TestCase):
    def setUp(self):
        self.engine = new_engine()
        self.collector = CountingCollector()
        self.assertTrue(self.engine.add_collector(self.collector))
        self.server = Sonde.Server.new(self.engine)
        self.server.listen("127.0.0.1", 0)
        self.base = f"http://127.0.0.1:{self.server.get_port()}"
        self.holds = []

    def tearDown(self):
        for hold in self.holds:
            self.engine.release(hold)
        self.server.disconnect()
        spin_for(0.3)

    def test_collector_in_the_engine(self):
        self.assertIs(self.engine.get_collector("py"), self.collector)
        self.assertIs(self.collector.get_engine(), self.engine)
        metric = self.engine.lookup_metric("py.calls")
        self.assertEqual((metric.get_unit(), metric.get_kind(), metric.get_description()),
                         ("count", Sonde.MetricKind.COUNTER, "Collections so far"))

    def test_sampled_signal_from_worker_threads(self):
        samples = []
        self.collector.connect("sampled", lambda c, s: samples.append(s))
        self.holds.append(self.engine.hold("py", 200))
        spin_until(lambda: len(samples) >= 3, 10, "3 samples of py")
        self.assertEqual([s.get_int("calls") for s in samples[:3]], [1, 2, 3])
        self.assertEqual(samples[0].get_double("answer"), 42.0)
        self.assertEqual(samples[0].get_string("label"), "from python")
        self.assertNotIn(threading.get_ident(), self.collector.threads,
                         "collect ran on the main thread")
        self.assertTrue(self.collector.get_running())

    def test_catalog_over_http(self):
        status, body = http_get_json(f"{self.base}/api/v1/catalog")
        self.assertEqual(status, 200)
        metrics = {m["name"]: m for m in body["metrics"]}
        self.assertEqual(metrics["py.calls"], {
            "name": "py.calls", "collector": "py", "field": "calls", "unit": "count",
            "kind": "counter", "description": "Collections so far"})
        self.assertEqual(metrics["py.answer"]["kind"], "gauge")
        self.assertEqual(metrics["py.label"]["kind"], "info")
        self.assertIn("cpu.usage_percent", metrics)

    def test_snapshot_over_http(self):
        status, body = http_get_json(f"{self.base}/api/v1/snapshot?metrics=py.answer,py.calls")
        self.assertEqual(status, 200)
        self.assertEqual(list(body["data"]), ["py"])
        self.assertEqual(body["data"]["py"]["answer"], 42)
        self.assertGreaterEqual(body["data"]["py"]["calls"], 1)
        self.assertNotIn("label", body["data"]["py"])

        _, everything = http_get_json(f"{self.base}/api/v1/snapshot")
        self.assertEqual(everything["data"]["py"]["label"], "from python")
        self.assertIn("memory", everything["data"])

    @require_websockets
    def test_samples_on_ws_v1(self):
        query = urllib.parse.urlencode({"metrics": "py.*,memory.usage_percent",
                                        "interval_ms": 200})
        client = WsClient(f"ws://127.0.0.1:{self.server.get_port()}/ws/v1?{query}",
                          [json.dumps({"type": "catalog"})])
        client.start()
        try:
            spin_until(lambda: len(client.frames("snapshot")) >= 3 and client.frames("catalog"),
                       15, "3 snapshots and the catalog on /ws/v1")
        finally:
            client.stop()
        hello = client.frames("hello")[0]
        self.assertIn("py", hello["collectors"])
        catalog = {m["name"]: m for m in client.frames("catalog")[0]["metrics"]}
        self.assertEqual(catalog["py.answer"]["description"], "The answer")

        snapshots = client.frames("snapshot")
        for frame in snapshots:
            self.assertEqual(frame["data"]["py"]["answer"], 42)
            self.assertEqual(frame["data"]["py"]["label"], "from python")
            self.assertIn("usage_percent", frame["data"]["memory"])
            self.assertNotIn("stale", frame)
        calls = [f["data"]["py"]["calls"] for f in snapshots]
        self.assertEqual(calls, sorted(calls))
        self.assertGreater(calls[-1], calls[0], "the Python collector was not re-sampled")


@require_sonde
class FailingCollectorTest(unittest.TestCase):
    def setUp(self):
        self.engine = new_engine()
        self.events = []
        self.engine.connect("event", lambda e, ev: self.events.append(
            (ev.get_event_type(), ev.get_source(), ev.get_data().get_string_member("message"))))
        self.holds = []

    def tearDown(self):
        for hold in self.holds:
            self.engine.release(hold)
        spin_for(0.3)

    def failures_of(self, collector):
        failures = []
        collector.connect("failed", lambda c, error: failures.append(error))
        return failures

    def test_glib_error_becomes_failed_and_collector_error(self):
        bad = FailingCollector("bad", glib_error=True)
        self.engine.add_collector(bad)
        failures = self.failures_of(bad)
        self.holds.append(self.engine.hold("bad", 200))
        spin_until(lambda: len(failures) >= 2 and self.events, 10, "failed and event")
        error = failures[0]
        self.assertTrue(error.matches(Sonde.error_quark(), Sonde.Error.COLLECTOR_FAILED))
        self.assertEqual(error.message, "sensor unplugged")
        self.assertIn(("collector_error", "bad", "sensor unplugged"), self.events)
        self.assertIsNone(self.engine.get_latest("bad"))

    def test_other_exception_becomes_failed_and_collector_error(self):
        bad = FailingCollector("buggy", glib_error=False)
        self.engine.add_collector(bad)
        failures = self.failures_of(bad)
        self.holds.append(self.engine.hold("buggy", 200))
        spin_until(lambda: failures and self.events, 10, "failed and event")
        self.assertEqual(failures[0].message, "Collector buggy returned no sample")
        self.assertIn(("collector_error", "buggy", "Collector buggy returned no sample"),
                      self.events)

    def test_other_collectors_keep_their_cadence(self):
        for name, glib_error in (("bad", True), ("buggy", False)):
            self.engine.add_collector(FailingCollector(name, glib_error))
        failures = self.failures_of(self.engine.get_collector("bad"))
        # The failing collectors are part of the subscription and sampled on
        # the same ticks as cpu.
        subscription = Sonde.Subscription.new(self.engine, None,
                                              ["cpu.usage_percent", "bad", "buggy"], 500)
        self.addCleanup(subscription.cancel)
        frames = []
        subscription.connect("frame", lambda s, text: frames.append(json.loads(text)))
        cpu_samples = []
        self.engine.get_collector("cpu").connect("sampled",
                                                 lambda c, s: cpu_samples.append(s))
        spin_until(lambda: frames, 5, "a first frame")
        first, start = len(frames), len(cpu_samples)
        spin_for(3.0)
        window = frames[first - 1:]
        # 3 s at 500 ms is 6 ticks, each a frame with cpu data, seq and
        # timestamps without gaps.
        self.assertGreaterEqual(len(window) - 1, 5, [f["timestamp"] for f in window])
        self.assertLessEqual(len(window) - 1, 7)
        self.assertGreaterEqual(len(cpu_samples) - start, 5)
        seqs = [f["seq"] for f in window]
        self.assertEqual(seqs, list(range(seqs[0], seqs[0] + len(seqs))))
        times = [epoch_ms(f["timestamp"]) for f in window]
        self.assertEqual({b - a for a, b in zip(times, times[1:])}, {500})
        for frame in window:
            self.assertIn("usage_percent", frame["data"]["cpu"])
            self.assertNotIn("bad", frame["data"])
        self.assertGreaterEqual(len(failures), 5)
        sources = {source for (_, source, _) in self.events}
        self.assertEqual(sources, {"bad", "buggy"})

    @require_websockets
    def test_collector_error_events_on_ws_v1(self):
        self.engine.add_collector(FailingCollector("bad", glib_error=True))
        server = Sonde.Server.new(self.engine)
        server.listen("127.0.0.1", 0)
        self.addCleanup(server.disconnect)
        query = urllib.parse.urlencode({"metrics": "cpu.usage_percent,bad",
                                        "interval_ms": 200, "events": "collector_error"})
        client = WsClient(f"ws://127.0.0.1:{server.get_port()}/ws/v1?{query}")
        client.start()
        try:
            spin_until(lambda: client.frames("event") and len(client.frames("snapshot")) >= 2,
                       15, "a collector_error event and snapshots on /ws/v1")
        finally:
            client.stop()
        event = client.frames("event")[0]
        self.assertEqual(event["event"], "collector_error")
        self.assertEqual(event["data"]["message"], "sensor unplugged")
        for frame in client.frames("snapshot"):
            self.assertIn("usage_percent", frame["data"]["cpu"])


if __name__ == "__main__":
    main()
