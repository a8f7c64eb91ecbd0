# SPDX-License-Identifier: LGPL-2.1-or-later
"""Alert rules and discovery from Python: the introspected API is enough
to watch a metric of a collector written in Python, and to answer
discovery probes (sent to 127.0.0.1 only)."""

import json
import socket
import threading
import unittest

from sondetest import (SKIP_REASON, GLib, Sonde, main, new_engine, require_sonde, spin_for,
                       spin_until)


if SKIP_REASON is None:
    class Thermometer(Sonde.Collector):
        """A temperature the test sets."""

        def __init__(self):
            super().__init__(name="thermo")
            self.add_metric("celsius", "celsius", Sonde.MetricKind.GAUGE, "Set by the test")
            self.add_metric("room", "", Sonde.MetricKind.INFO, "Where")
            self.lock = threading.Lock()
            self.celsius = 20.0

        def set(self, celsius):
            with self.lock:
                self.celsius = celsius

        def do_collect(self):
            with self.lock:
                fields = {"celsius": self.celsius, "room": "lab"}
            return Sonde.Sample.new_from_json(self.get_name(), GLib.get_real_time(),
                                              json.dumps(fields))


@require_sonde
class AlertRuleTest(unittest.TestCase):
    def test_rule(self):
        rule = Sonde.AlertRule.new("cpu", "cpu.usage_percent", Sonde.AlertComparison.ABOVE, 90)
        self.assertEqual(rule.get_name(), "cpu")
        self.assertEqual(rule.get_metric(), "cpu.usage_percent")
        self.assertEqual(rule.get_comparison(), Sonde.AlertComparison.ABOVE)
        self.assertEqual(rule.get_threshold(), 90)
        self.assertEqual(rule.get_for_seconds(), 0)
        self.assertEqual(rule.get_cooldown_seconds(), Sonde.ALERT_DEFAULT_COOLDOWN_SECONDS)
        self.assertTrue(rule.get_enabled())
        self.assertIsNone(rule.get_message())
        self.assertTrue(rule.matches(90.5))
        self.assertFalse(rule.matches(90))
        self.assertEqual(rule.format_message(95.25), "cpu.usage_percent above 90 (95.3)")
        self.assertEqual(Sonde.alert_comparison_to_string(Sonde.AlertComparison.BELOW), "below")

        full = Sonde.AlertRule.new_full("hot", "thermo.celsius", Sonde.AlertComparison.BELOW, 5,
                                        1.5, 10, False, "Freezing!")
        self.assertEqual((full.get_for_seconds(), full.get_cooldown_seconds(), full.get_enabled(),
                          full.get_message()), (1.5, 10, False, "Freezing!"))
        self.assertEqual(full.format_message(1), "Freezing!")

    def test_engine_rules(self):
        engine = new_engine()
        engine.add_alert_rule(Sonde.AlertRule.new("mem", "memory.usage_percent",
                                                  Sonde.AlertComparison.ABOVE, 99.9))
        rules = engine.list_alert_rules()
        self.assertEqual([r.get_name() for r in rules], ["mem"])
        self.assertEqual(engine.lookup_alert_rule("mem").get_threshold(), 99.9)

        for metric in ("memory.nope", "host.hostname", "disk.partitions", "nope"):
            with self.subTest(metric=metric):
                with self.assertRaises(GLib.Error) as caught:
                    engine.add_alert_rule(Sonde.AlertRule.new("bad", metric,
                                                              Sonde.AlertComparison.ABOVE, 1))
                self.assertTrue(caught.exception.matches(Sonde.error_quark(),
                                                         Sonde.Error.UNKNOWN_METRIC))
        # A field of one instance of a table.
        engine.add_alert_rule(Sonde.AlertRule.new("root", "disk.partitions[mount=/].usage_percent",
                                                  Sonde.AlertComparison.ABOVE, 99.9))
        self.assertTrue(engine.remove_alert_rule("mem"))
        self.assertFalse(engine.remove_alert_rule("mem"))
        self.assertTrue(engine.remove_alert_rule("root"))
        self.assertEqual(engine.list_alert_rules(), [])

    def test_python_collector_alert(self):
        engine = new_engine(plugins=False)
        thermo = Thermometer()
        self.assertTrue(engine.add_collector(thermo))
        alerts = []
        engine.connect("event", lambda e, event: alerts.append(event)
                       if event.get_event_type() == "alert" else None)
        engine.add_alert_rule(Sonde.AlertRule.new_full("freezing", "thermo.celsius",
                                                       Sonde.AlertComparison.BELOW, 0,
                                                       0, 60, True, None))
        # The rule alone keeps the collector sampled, at 1 s.
        spin_until(lambda: engine.get_latest("thermo") is not None, 10, "a sample")
        spin_for(0.5)
        self.assertEqual(alerts, [])

        thermo.set(-4.0)
        spin_until(lambda: alerts, 10, "an alert")
        event = alerts[0]
        self.assertEqual(event.get_source(), "thermo")
        data = event.get_data()
        self.assertEqual(data.get_string_member("rule"), "freezing")
        self.assertEqual(data.get_double_member("value"), -4.0)
        self.assertEqual(data.get_string_member("comparison"), "below")
        self.assertEqual(data.get_string_member("message"), "thermo.celsius below 0 (-4)")

        self.assertTrue(engine.remove_alert_rule("freezing"))
        spin_until(lambda: not thermo.get_running(), 10, "the collector to stop")


@require_sonde
class DiscoveryTest(unittest.TestCase):
    def test_answer_a_probe(self):
        engine = new_engine(plugins=False)
        server = Sonde.Server.new(engine)
        server.listen("127.0.0.1", 0)
        discovery = Sonde.Discovery.new(server)
        discovery.start("127.0.0.1", 0)
        port = discovery.get_port()
        self.assertNotEqual(port, 0)

        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.bind(("127.0.0.1", 0))
            probe.setblocking(False)
            probe.sendto(Sonde.DISCOVERY_PROBE.encode(), ("127.0.0.1", port))
            replies = []

            def poll():
                try:
                    replies.append(probe.recvfrom(4096))
                except BlockingIOError:
                    pass
                return replies

            spin_until(poll, 10, "the announce")
        data, sender = replies[0]
        self.assertEqual(sender, ("127.0.0.1", port))
        announce = json.loads(data)
        self.assertEqual(announce["type"], "announce")
        self.assertEqual(announce["ws_port"], server.get_port())
        self.assertEqual(json.loads(discovery.build_announce()), announce)
        self.assertEqual(discovery.get_n_answered(), 1)
        discovery.stop()
        self.assertEqual(discovery.props.port, 0)
        server.disconnect()


if __name__ == "__main__":
    main()
