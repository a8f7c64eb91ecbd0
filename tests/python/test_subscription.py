# SPDX-License-Identifier: LGPL-2.1-or-later
"""In-process subscriptions get the very bytes a /ws/v1 client gets."""

import json
import unittest
import urllib.parse

from sondetest import (GLib, Sonde, WsClient, http_get_json, main, new_engine,
                       require_sonde, require_websockets, spin_for, spin_until)

PATTERNS = ["cpu.usage_percent", "memory.usage_percent"]
INTERVAL_MS = 500


@require_sonde
class SubscriptionTest(unittest.TestCase):
    def setUp(self):
        self.engine = new_engine()
        self.subscriptions = []

    def tearDown(self):
        for subscription in self.subscriptions:
            subscription.cancel()
        spin_for(0.3)

    def subscribe(self, patterns, interval_ms=INTERVAL_MS, id_=None):
        subscription = Sonde.Subscription.new(self.engine, id_, patterns, interval_ms)
        self.subscriptions.append(subscription)
        texts = []
        subscription.connect("frame", lambda s, text: texts.append(text))
        return subscription, texts

    def test_frames_are_native_snapshots(self):
        subscription, texts = self.subscribe(PATTERNS)
        self.assertEqual(subscription.get_id(), "default")
        self.assertEqual(subscription.get_interval(), INTERVAL_MS)
        spin_until(lambda: len(texts) >= 3, 10, "3 frames")
        frames = [json.loads(t) for t in texts]
        for frame in frames:
            self.assertEqual(frame["type"], "snapshot")
            self.assertEqual(frame["subscription"], "default")
            # Only the subscribed fields.
            self.assertEqual({c: sorted(f) for c, f in frame["data"].items()},
                             {"cpu": ["usage_percent"], "memory": ["usage_percent"]})
            self.assertRegex(frame["timestamp"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
        seqs = [f["seq"] for f in frames]
        self.assertEqual(seqs, list(range(seqs[0], seqs[0] + len(seqs))))

    def test_collector_patterns_and_ids(self):
        subscription, texts = self.subscribe(["host"], 200, "mine")
        self.assertEqual(subscription.get_id(), "mine")
        spin_until(lambda: texts, 10, "a frame")
        frame = json.loads(texts[0])
        self.assertEqual(frame["subscription"], "mine")
        self.assertEqual(list(frame["data"]), ["host"])
        self.assertIn("hostname", frame["data"]["host"])
        self.assertIn("uptime_seconds", frame["data"]["host"])

    def test_cancel_stops_frames_and_collectors(self):
        subscription, texts = self.subscribe(["memory.*"], 200)
        spin_until(lambda: texts, 10, "a frame")
        self.assertTrue(self.engine.get_collector("memory").get_running())
        subscription.cancel()
        spin_for(0.5)
        count = len(texts)
        spin_for(1.0)
        self.assertEqual(len(texts), count, "frames after cancel()")
        self.assertFalse(self.engine.get_collector("memory").get_running())

    def test_bad_subscriptions(self):
        for patterns, interval in ((["cpu.nope"], 1000), (["nope"], 1000),
                                   (PATTERNS, 99), (PATTERNS, 60001)):
            with self.subTest(patterns=patterns, interval=interval), \
                 self.assertRaises(GLib.Error):
                Sonde.Subscription.new(self.engine, None, patterns, interval)

    def check_same_bytes(self, ws_texts, texts):
        snapshots = [t for t in ws_texts if json.loads(t)["type"] == "snapshot"]
        by_seq = {json.loads(t)["seq"]: t for t in texts}
        common = [t for t in snapshots if json.loads(t)["seq"] in by_seq]
        self.assertGreaterEqual(len(common), 2,
                                f"too few frames with a common seq:\n{snapshots}\n{texts}")
        for text in common:
            seq = json.loads(text)["seq"]
            with self.subTest(seq=seq):
                self.assertEqual(text, by_seq[seq])

    @require_websockets
    def test_same_text_as_a_websocket_client_with_query_parameters(self):
        server = Sonde.Server.new(self.engine)
        server.listen("127.0.0.1", 0)
        self.addCleanup(server.disconnect)
        port = server.get_port()
        self.assertNotEqual(port, 0)
        self.assertEqual(server.get_uri(), f"ws://127.0.0.1:{port}/ws/v1")

        _, texts = self.subscribe(PATTERNS)
        query = urllib.parse.urlencode({"metrics": ",".join(PATTERNS),
                                        "interval_ms": INTERVAL_MS})
        client = WsClient(f"ws://127.0.0.1:{port}/ws/v1?{query}")
        client.start()
        try:
            spin_until(lambda: len(client.frames("snapshot")) >= 3, 15,
                       "3 snapshots on /ws/v1")
            # One group: the frame is built once and both members get it.
            _, status = http_get_json(f"http://127.0.0.1:{port}/status")
            self.assertEqual(status["subscription_groups"], 1)
            self.assertEqual(status["clients"], 1)
            spin_until(lambda: client.frames("snapshot")[-1]["seq"]
                       <= json.loads(texts[-1])["seq"], 5, "the in-process frame")
        finally:
            client.stop()
        hello = client.frames()[0]
        self.assertEqual(hello["type"], "hello")
        self.assertIn("cpu", hello["collectors"])
        self.check_same_bytes(client.snapshot(), texts)

    @require_websockets
    def test_same_text_as_a_websocket_client_that_subscribes(self):
        server = Sonde.Server.new(self.engine)
        server.listen("127.0.0.1", 0)
        self.addCleanup(server.disconnect)

        patterns = ["cpu.*", "disk.usage_percent"]
        _, texts = self.subscribe(patterns, 300, "load")
        subscribe = json.dumps({"type": "subscribe", "id": "load", "metrics": patterns,
                                "interval_ms": 300})
        client = WsClient(f"ws://127.0.0.1:{server.get_port()}/ws/v1", [subscribe])
        client.start()
        try:
            spin_until(lambda: len([f for f in client.frames("snapshot")
                                    if f["subscription"] == "load"]) >= 3,
                       15, "3 'load' snapshots on /ws/v1")
            spin_until(lambda: client.frames("snapshot")[-1]["seq"]
                       <= json.loads(texts[-1])["seq"], 5, "the in-process frame")
        finally:
            client.stop()
        load = [t for t in client.snapshot() if json.loads(t).get("subscription") == "load"]
        self.check_same_bytes(load, texts)


if __name__ == "__main__":
    main()
