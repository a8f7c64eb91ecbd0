# SPDX-License-Identifier: LGPL-2.1-or-later
"""The engine from Python: plugins, collectors and their metric catalog."""

import unittest

from sondetest import (DESIGN_FIELDS, GLib, Sonde, expected_unit, main, new_engine,
                       require_sonde)


@require_sonde
class EngineTest(unittest.TestCase):
    def setUp(self):
        self.engine = new_engine()

    def test_load_plugins_adds_every_design_collector(self):
        names = [c.get_name() for c in self.engine.list_collectors()]
        for collector in DESIGN_FIELDS:
            self.assertIn(collector, names)
        self.assertEqual(len(names), len(set(names)), "a collector is listed twice")
        # Loading again adds nothing: a name is taken once per engine.
        self.assertEqual(self.engine.load_plugins(None), 0)
        self.assertEqual(len(self.engine.list_collectors()), len(names))

    def test_plugin_types_are_usable_from_python(self):
        cpu = self.engine.get_collector("cpu")
        self.assertIsInstance(cpu, Sonde.Collector)
        # The plugin's own GType, registered when the engine loaded it.
        self.assertEqual(cpu.__gtype__.name, "SondeCpuCollector")
        self.assertTrue(cpu.__gtype__.is_a(Sonde.Collector.__gtype__))
        self.assertEqual(cpu.props.name, "cpu")
        self.assertIs(cpu.get_engine(), self.engine)
        self.assertFalse(cpu.get_running(), "nobody asked for cpu yet")
        self.assertIsNone(self.engine.get_collector("no-such-collector"))

    def test_catalog_has_every_design_field_with_its_unit(self):
        for collector, fields in DESIGN_FIELDS.items():
            c = self.engine.get_collector(collector)
            catalog = {m.get_field(): m for m in c.get_metrics()}
            for field in fields:
                with self.subTest(metric=f"{collector}.{field}"):
                    self.assertIn(field, catalog)
                    metric = catalog[field]
                    self.assertEqual(metric.get_name(), f"{collector}.{field}")
                    self.assertEqual(metric.get_collector(), collector)
                    self.assertTrue(metric.get_description(), "no description")
                    self.assertIsInstance(metric.get_kind(), Sonde.MetricKind)
                    self.assertIsNotNone(metric.get_unit())
                    unit = expected_unit(collector, field)
                    if unit is not None:
                        self.assertEqual(metric.get_unit(), unit)
                    # The engine's lookup answers the same metric.
                    same = self.engine.lookup_metric(f"{collector}.{field}")
                    self.assertIsNotNone(same)
                    self.assertEqual(same.get_unit(), metric.get_unit())
                    self.assertEqual(same.get_kind(), metric.get_kind())

    def test_metric_kinds(self):
        kind = {m.get_name(): m.get_kind() for m in self.engine.list_metrics()}
        self.assertEqual(kind["cpu.usage_percent"], Sonde.MetricKind.GAUGE)
        self.assertEqual(kind["network.total_rx_bytes"], Sonde.MetricKind.COUNTER)
        self.assertEqual(kind["disk.read_bytes_per_sec"], Sonde.MetricKind.RATE)
        self.assertEqual(Sonde.metric_kind_to_string(Sonde.MetricKind.GAUGE), "gauge")

    def test_list_metrics_is_the_union_of_the_collectors(self):
        from_collectors = sorted(m.get_name()
                                 for c in self.engine.list_collectors()
                                 for m in c.get_metrics())
        self.assertEqual(sorted(m.get_name() for m in self.engine.list_metrics()),
                         from_collectors)

    def test_unknown_names_are_errors(self):
        self.assertIsNone(self.engine.lookup_metric("cpu.no_such_field"))
        self.assertIsNone(self.engine.lookup_metric("nope.usage_percent"))
        with self.assertRaises(GLib.Error) as cm:
            self.engine.hold("no-such-collector", 1000)
        self.assertTrue(cm.exception.matches(Sonde.error_quark(),
                                             Sonde.Error.UNKNOWN_COLLECTOR))
        with self.assertRaises(GLib.Error) as cm:
            Sonde.Subscription.new(self.engine, None, ["cpu.no_such_field"], 1000)
        self.assertTrue(cm.exception.matches(Sonde.error_quark(), Sonde.Error.UNKNOWN_METRIC),
                        cm.exception.message)
        with self.assertRaises(GLib.Error):
            Sonde.Subscription.new(self.engine, None, ["cpu.usage_percent"], 50)

    def test_collector_added_and_removed_signals(self):
        added, removed = [], []
        self.engine.connect("collector-added", lambda e, c: added.append(c.get_name()))
        self.engine.connect("collector-removed", lambda e, c: removed.append(c.get_name()))
        self.assertTrue(self.engine.remove_collector("host"))
        self.assertIsNone(self.engine.get_collector("host"))
        self.assertFalse(self.engine.remove_collector("host"))
        self.assertEqual(removed, ["host"])
        # Plugins already loaded in this process register their types only
        # once; a fresh engine still gets every collector.
        other = new_engine()
        self.assertIsNotNone(other.get_collector("host"))

        class Tiny(Sonde.Collector):
            def do_collect(self):
                return Sonde.Sample.new_from_json(self.get_name(), GLib.get_real_time(), "{}")

        self.assertTrue(self.engine.add_collector(Tiny(name="tiny")))
        self.assertEqual(added, ["tiny"])
        # A name is unique within an engine.
        with self.assertRaises(GLib.Error) as cm:
            self.engine.add_collector(Tiny(name="cpu"))
        self.assertTrue(cm.exception.matches(Sonde.error_quark(), Sonde.Error.EXISTS))
        self.assertEqual(added, ["tiny"])

    def test_version_constants(self):
        self.assertEqual(Sonde.DEFAULT_PORT, 54112)
        self.assertEqual((Sonde.INTERVAL_MIN_MS, Sonde.INTERVAL_MAX_MS), (100, 60000))
        self.assertTrue(Sonde.VERSION_S)


if __name__ == "__main__":
    main()
