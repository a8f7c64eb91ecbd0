# SPDX-License-Identifier: LGPL-2.1-or-later
"""Samples from Python: the sampled signal, typed getters and the JSON object."""

import os
import socket
import time
import unittest

from sondetest import (GLib, Json, Sonde, is_nan, json_object_to_dict, main, new_engine,
                       require_sonde, spin_for, spin_until)


@require_sonde
class SampleGettersTest(unittest.TestCase):
    """Getters on a sample built from JSON text: no engine involved."""

    TEXT = ('{"d":1.5,"neg":-2.75,"i":7,"big":9007199254740993,"s":"str","b":true,'
            '"n":null,"a":[1,2],"o":{"k":1}}')

    def setUp(self):
        self.sample = Sonde.Sample.new_from_json("x", 123456789, self.TEXT)

    def test_identity(self):
        self.assertEqual(self.sample.get_collector(), "x")
        self.assertEqual(self.sample.get_timestamp(), 123456789)
        # Members keep their order; the text round-trips exactly.
        self.assertEqual(self.sample.to_json(), self.TEXT)

    def test_get_double(self):
        self.assertEqual(self.sample.get_double("d"), 1.5)
        self.assertEqual(self.sample.get_double("neg"), -2.75)
        self.assertEqual(self.sample.get_double("i"), 7.0)
        self.assertEqual(self.sample.get_double("b"), 1.0)
        for field in ("missing", "s", "n", "a", "o"):
            with self.subTest(field=field):
                self.assertTrue(is_nan(self.sample.get_double(field)))

    def test_get_int(self):
        self.assertEqual(self.sample.get_int("i"), 7)
        self.assertEqual(self.sample.get_int("big"), 9007199254740993)  # gint64, not a double
        self.assertEqual(self.sample.get_int("d"), 1)       # truncated
        self.assertEqual(self.sample.get_int("neg"), -2)
        for field in ("missing", "s", "n", "a", "o"):
            with self.subTest(field=field):
                self.assertEqual(self.sample.get_int(field), 0)

    def test_get_string(self):
        self.assertEqual(self.sample.get_string("s"), "str")
        for field in ("missing", "d", "i", "b", "n", "a", "o"):
            with self.subTest(field=field):
                self.assertIsNone(self.sample.get_string(field))

    def test_has_field(self):
        self.assertTrue(self.sample.has_field("n"))
        self.assertTrue(self.sample.has_field("o"))
        self.assertFalse(self.sample.has_field("missing"))

    def test_get_data_is_a_json_object(self):
        data = self.sample.get_data()
        self.assertIsInstance(data, Json.Object)
        self.assertEqual(data.get_member("a").get_array().get_length(), 2)
        self.assertEqual(data.get_object_member("o").get_int_member("k"), 1)
        self.assertEqual(list(data.get_members()), ["d", "neg", "i", "big", "s", "b", "n", "a", "o"])

    def test_new_from_a_json_object(self):
        builder = Json.Builder()
        builder.begin_object()
        builder.set_member_name("v")
        builder.add_double_value(0.25)
        builder.set_member_name("name")
        builder.add_string_value("eth0")
        builder.end_object()
        sample = Sonde.Sample.new("y", 42, builder.get_root().get_object())
        self.assertEqual(sample.get_double("v"), 0.25)
        self.assertEqual(sample.get_string("name"), "eth0")
        self.assertEqual(sample.to_json(), '{"v":0.25,"name":"eth0"}')

    def test_bad_json_is_an_error(self):
        for text in ("{bad", "[1, 2]", "42", ""):
            with self.subTest(text=text), self.assertRaises(GLib.Error):
                Sonde.Sample.new_from_json("x", 0, text)


@require_sonde
class SampledSignalTest(unittest.TestCase):
    """Live samples of the C plugins through the collectors' sampled signal."""

    def setUp(self):
        self.engine = new_engine()
        self.holds = []

    def tearDown(self):
        for hold in self.holds:
            self.engine.release(hold)
        # Let collections already dispatched to worker threads come back.
        spin_for(0.3)

    def collect(self, name, count, interval_ms=200):
        collector = self.engine.get_collector(name)
        samples, failures = [], []
        handlers = [collector.connect("sampled", lambda c, s: samples.append(s)),
                    collector.connect("failed", lambda c, e: failures.append(e.message))]
        self.holds.append(self.engine.hold(name, interval_ms))
        try:
            spin_until(lambda: len(samples) >= count or failures,
                       10 + count * interval_ms / 1000, f"{count} samples of {name}")
        finally:
            for handler in handlers:
                collector.disconnect(handler)
        self.assertEqual(failures, [])
        return samples

    def test_cpu_sample(self):
        before = GLib.get_real_time()
        samples = self.collect("cpu", 2)
        sample = samples[-1]     # the second one has rates over a real interval
        self.assertEqual(sample.get_collector(), "cpu")
        # Wall-clock µs, aligned to the tick, so at most one interval early.
        self.assertGreater(sample.get_timestamp(), before - 1_000_000)
        self.assertLess(sample.get_timestamp(), GLib.get_real_time() + 1_000_000)
        self.assertGreater(samples[1].get_timestamp(), samples[0].get_timestamp())

        usage = sample.get_double("usage_percent")
        self.assertGreaterEqual(usage, 0.0)
        self.assertLessEqual(usage, 100.0)
        self.assertEqual(sample.get_int("usage_percent"), int(usage))

        cores = sample.get_int("cores")
        self.assertEqual(cores, os.cpu_count())
        self.assertEqual(sample.get_double("cores"), float(cores))
        self.assertIsNone(sample.get_string("cores"))

        self.assertIsInstance(sample.get_string("brand"), str)
        self.assertTrue(is_nan(sample.get_double("brand")))

        self.assertTrue(is_nan(sample.get_double("no_such_field")))
        self.assertEqual(sample.get_int("no_such_field"), 0)
        self.assertIsNone(sample.get_string("no_such_field"))

        data = sample.get_data()
        self.assertIsInstance(data, Json.Object)
        self.assertEqual(data.get_array_member("per_core_percent").get_length(), cores)
        fields = json_object_to_dict(data)
        self.assertEqual(fields["usage_percent"], usage)
        self.assertEqual(fields["cores"], cores)

    def test_memory_and_host_samples(self):
        memory = self.collect("memory", 1)[0]
        total = memory.get_int("total_bytes")
        with open("/proc/meminfo") as f:
            mem_total_kib = int(f.readline().split()[1])
        self.assertEqual(total, mem_total_kib * 1024)
        self.assertLessEqual(memory.get_int("used_bytes"), total)
        self.assertTrue(0.0 < memory.get_double("usage_percent") <= 100.0)

        host = self.collect("host", 1)[0]
        self.assertEqual(host.get_string("hostname"), socket.gethostname())
        self.assertEqual(host.get_string("arch"), os.uname().machine)
        self.assertEqual(host.get_string("kernel"), os.uname().release)
        self.assertAlmostEqual(host.get_double("boot_time") + host.get_double("uptime_seconds"),
                               time.time(), delta=5)

    def test_release_stops_sampling(self):
        cpu = self.engine.get_collector("cpu")
        self.collect("cpu", 1)
        self.assertTrue(cpu.get_running())
        self.engine.release(self.holds.pop())
        spin_for(0.5)   # a collection in flight may still land
        count = []
        handler = cpu.connect("sampled", lambda c, s: count.append(s))
        spin_for(1.0)
        cpu.disconnect(handler)
        self.assertEqual(count, [], "cpu was sampled after its last hold was released")
        self.assertFalse(cpu.get_running())

    def test_engine_keeps_the_latest_sample(self):
        samples = self.collect("memory", 1)
        latest = self.engine.get_latest("memory")
        self.assertIsNotNone(latest)
        self.assertGreaterEqual(latest.get_timestamp(), samples[0].get_timestamp())
        self.assertIsNone(self.engine.get_latest("gateway"), "gateway was never sampled")


if __name__ == "__main__":
    main()
