#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Every format's frames and every HTTP answer keep their shape.

The shape of a JSON document is its members in order, each with its type
(string, number, bool, null, object, list of ...), with values and
timestamps left out. tests/dialects/frame-shapes.json holds the shapes
recorded from sonded; this test records them again from the sonded just
built and compares, so that moving code between files cannot change what
any client sees. After a deliberate change of a format, record anew:

    SONDED=build/src/daemon/sonded SONDE_PLUGIN_PATH=build/plugins \\
        /usr/bin/python3 tests/dialects/test_frame_shapes.py --record
"""

import json
import os
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from sondedtest import Daemon, RawWebSocket  # noqa: E402

GOLDEN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "frame-shapes.json")

# Objects whose members are names of things on this machine (mount points,
# routes), not a fixed set of keys: their values share one shape.
MAPS = {
    "resolvix-telemetry/metrics/disk/disk_usage",
    "GET /status/gateway/clients_by_route",
    "native snapshot/data/gateway/clients_by_route",
}


def shape(value, path):
    if isinstance(value, dict):
        if path in MAPS:
            values = list(value.values())
            return {"map": shape(values[0], path + "/*") if values else None}
        return {"object": [[key, shape(member, f"{path}/{key}")] for key, member in value.items()]}
    if isinstance(value, list):
        return {"list": shape(value[0], path + "/0") if value else None}
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    return "null"


def differences(expected, actual, path=""):
    """Where two shapes disagree; null and empty lists match anything."""
    if expected == actual or "null" in (expected, actual) or None in (expected, actual):
        return []
    if isinstance(expected, dict) and isinstance(actual, dict) and expected.keys() == actual.keys():
        kind = next(iter(expected))
        if kind in ("list", "map"):
            return differences(expected[kind], actual[kind], f"{path}/{kind}")
        expected_keys = [key for key, _ in expected["object"]]
        actual_keys = [key for key, _ in actual["object"]]
        if expected_keys != actual_keys:
            return [f"{path}: members {expected_keys} became {actual_keys}"]
        found = []
        for (key, e), (_, a) in zip(expected["object"], actual["object"]):
            found += differences(e, a, f"{path}/{key}")
        return found
    return [f"{path}: {json.dumps(expected)} became {json.dumps(actual)}"]


def http(daemon, method, path, body=None, content_type=None, token=None):
    request = urllib.request.Request(daemon.http_url(path), data=body, method=method)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    elif method != "GET":
        request.add_header("Authorization", f"Bearer {daemon.token}")
    if content_type:
        request.add_header("Content-Type", content_type)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def next_of_type(ws, key, value, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        frame = ws.recv_json(timeout=deadline - time.monotonic())
        if frame.get(key) == value:
            return frame
    raise AssertionError(f"no frame with {key}={value!r}")


EXEC_TOKEN = "frame-shapes-token"


def record_exec(frames):
    """servercontrol's task frames and the /exec answers: they need a
    sonded with a token and [exec] enabled, started here and stopped by
    its PID."""
    with tempfile.TemporaryDirectory(prefix="sonde-frame-shapes-") as tmp:
        config = os.path.join(tmp, "sonde.conf")
        with open(config, "w") as f:
            f.write(f"[server]\ntoken={EXEC_TOKEN}\n"
                    "[exec]\nenabled=true\nallowed-programs=/usr/bin/printf\n")
        daemon = Daemon("--port", "0", "--config", config).start()
        try:
            daemon.wait_for_url()
            ws = RawWebSocket(daemon.port, f"/ws/servercontrol?token={EXEC_TOKEN}")
            status, answer = http(daemon, "POST", "/exec", json.dumps({"argv": ["printf", "shape"]}).encode(),
                                  "application/json", EXEC_TOKEN)
            frames[f"POST /exec {status}"] = answer
            frames["servercontrol task_start"] = next_of_type(ws, "type", "task_start")
            frames["servercontrol task_output"] = next_of_type(ws, "type", "task_output")
            frames["servercontrol task_complete"] = next_of_type(ws, "type", "task_complete")
            ws.close()
            status, frames["GET /exec"] = http(daemon, "GET", "/exec", token=EXEC_TOKEN)
            status, frames["GET /exec/TASK_ID"] = http(daemon, "GET", f"/exec/{answer['task_id']}",
                                                       token=EXEC_TOKEN)
        finally:
            daemon.close()


def record(daemon):
    """Every frame and answer this test knows, by name."""
    frames = {}
    port = daemon.port

    ws = RawWebSocket(port, "/ws/v1")
    frames["native hello"] = next_of_type(ws, "type", "hello")
    frames["native snapshot"] = next_of_type(ws, "type", "snapshot")
    ws.send_json({"type": "ping", "id": 7})
    frames["native pong"] = next_of_type(ws, "type", "pong")
    ws.send_json({"type": "catalog"})
    frames["native catalog"] = next_of_type(ws, "type", "catalog")
    ws.send_text("{not json")
    frames["native error"] = next_of_type(ws, "type", "error")
    ws.send_json({"type": "subscribe", "id": "h", "metrics": ["cpu.usage_percent"],
                  "history_seconds": 5})
    frames["native history"] = next_of_type(ws, "type", "history")
    ws.close()

    ws = RawWebSocket(port, "/ws/metrics")
    frames["kairos Snapshot"] = next_of_type(ws, "type", "Snapshot")
    ws.send_json({"metrics": ["requests_total", "cpu.usage_percent"], "interval_seconds": 1,
                  "include_history": True})
    frames["kairos TimeSeries"] = next_of_type(ws, "type", "TimeSeries")
    ws.send_text("[1, 2]")
    frames["kairos Error"] = next_of_type(ws, "type", "Error")
    ws.close()

    ws = RawWebSocket(port, "/api/system/metrics")
    frames["ziggie metrics"] = ws.recv_json()
    ws.send_text("hello")
    frames["ziggie error"] = next_of_type(ws, "error", "This stream takes no messages")
    ws.close()

    ws = RawWebSocket(port, "/ws/telemetry")
    frames["resolvix-telemetry"] = ws.recv_json(timeout=15)
    ws.send_text("hello")
    frames["resolvix-telemetry error"] = ws.recv_json()
    ws.close()

    for i, command in enumerate(("stop_telemetry", "start_telemetry", "start_telemetry", "stop_livelogs",
                    "stop_livelogs", "start_livelogs", "bogus")):
        status, answer = http(daemon, "POST", "/control",
                              json.dumps({"command": command}).encode(), "application/json")
        frames[f"POST /control #{i} {command} {status}"] = answer

    for path in ("/status", "/api/v1/catalog", "/api/v1/snapshot",
                 "/api/v1/snapshot?metrics=cpu.*", "/api/v1/snapshot?metrics=nope.nope",
                 "/api/v1/history?metric=cpu.usage_percent&seconds=5",
                 "/api/v1/history", "/no/such/route"):
        status, answer = http(daemon, "GET", path)
        name = f"GET {path.split('?')[0]}" if status == 200 and path != "/api/v1/snapshot?metrics=cpu.*" else f"GET {path} {status}"
        frames[name] = answer

    # Last: a client connected while the gateway is sampled would change
    # the routes of the snapshot above.
    ws = RawWebSocket(port, "/ws/servercontrol")
    frames["servercontrol stats_update"] = next_of_type(ws, "type", "stats_update")
    ws.send_json({"type": "ping"})
    frames["servercontrol pong"] = next_of_type(ws, "type", "pong")
    ws.send_text("{not json")
    frames["servercontrol error"] = next_of_type(ws, "type", "error")
    ws.close()

    # Without a token, exec is off whatever the configuration.
    status, answer = http(daemon, "POST", "/exec", b'{"command": "uptime"}', "application/json")
    frames[f"POST /exec {status}"] = answer
    record_exec(frames)
    return {name: shape(frame, name) for name, frame in frames.items()}


class FrameShapeTest(unittest.TestCase):

    def test_shapes_unchanged(self):
        daemon = Daemon("--port", "0").start()
        self.addCleanup(daemon.close)
        daemon.wait_for_url()
        # A few seconds of history for the history frames.
        time.sleep(2.5)
        actual = record(daemon)
        with open(GOLDEN) as f:
            expected = json.load(f)
        self.assertEqual(sorted(expected), sorted(actual), "the set of recorded frames changed")
        problems = []
        for name in expected:
            problems += [f"{name}{p}" for p in differences(expected[name], actual[name])]
        self.assertEqual(problems, [])


if __name__ == "__main__":
    if "--record" in sys.argv:
        daemon = Daemon("--port", "0").start()
        try:
            daemon.wait_for_url()
            time.sleep(2.5)
            shapes = record(daemon)
        finally:
            daemon.close()
        with open(GOLDEN, "w") as f:
            json.dump(shapes, f, indent=1, sort_keys=False)
            f.write("\n")
        print(f"recorded {len(shapes)} shapes into {GOLDEN}")
    else:
        unittest.main()
