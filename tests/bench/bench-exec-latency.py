#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Latency of a command task's output, from the child's write() to a
WebSocket client's receipt, on loopback (ServerControl, whose format
docs/formats/servercontrol.md describes, promised < 5 ms). Run by hand,
not by the test suite; it prints figures (tests/bench/README.md).

    tests/bench/bench-exec-latency.py [--build-dir build] [-n 2000]
                                      [--interval-ms 2] [--clients 1]

It starts BUILD_DIR/src/daemon/sonded --port 0 with a temporary sonde.conf
(a token, [exec] allowing /usr/bin/python3), connects --clients clients to
/ws/servercontrol (raw sockets, one reader process each, so that the
clients add as little as possible and do not share an interpreter lock), and POSTs a python3 child that writes N lines
"i T\\n", T being CLOCK_MONOTONIC in ns taken just before its write(), one
write() per line, --interval-ms apart. Each client stamps every frame with
CLOCK_MONOTONIC on receipt; the latency of a line is receipt - T (the
clock is the machine's, shared by every process). The daemon is stopped
by its PID.

For comparison, the floor: the same child on a pseudo-terminal read by
this script directly (select + read), which is what the daemon's own
reading costs at best, before any JSON, event or WebSocket.
"""

import argparse
import json
import multiprocessing
import os
import pty
import re
import select
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from sondedtest import RawWebSocket  # noqa: E402

TOKEN = "bench-token"
CHILD = """
import os, sys, time
n, interval = int(sys.argv[1]), float(sys.argv[2])
for i in range(n):
    os.write(1, f"{i} {time.clock_gettime_ns(time.CLOCK_MONOTONIC)}\\n".encode())
    time.sleep(interval)
"""
LINE = re.compile(r"(\d+) (\d+)\n")


def percentiles(values_us):
    values = sorted(values_us)
    def at(p):
        return values[min(len(values) - 1, int(round(p / 100.0 * (len(values) - 1))))]
    return {"n": len(values), "mean": statistics.fmean(values), "p50": at(50), "p90": at(90),
            "p99": at(99), "max": values[-1]}


def show(label, stats):
    print(f"{label:<34} n={stats['n']:>6}  mean {stats['mean']:8.1f}  p50 {stats['p50']:8.1f}  "
          f"p90 {stats['p90']:8.1f}  p99 {stats['p99']:8.1f}  max {stats['max']:8.1f}  (µs)")


def floor(n, interval):
    """The child on a pty read directly by this process."""
    master, slave = pty.openpty()
    child = subprocess.Popen(["/usr/bin/python3", "-c", CHILD, str(n), str(interval)],
                             stdout=slave, stderr=slave, stdin=subprocess.DEVNULL)
    os.close(slave)
    latencies, pending = [], ""
    while True:
        select.select([master], [], [])
        try:
            data = os.read(master, 65536)
        except OSError:
            break
        now = time.clock_gettime_ns(time.CLOCK_MONOTONIC)
        if not data:
            break
        pending += data.decode().replace("\r\n", "\n")
        for match in LINE.finditer(pending):
            latencies.append((now - int(match.group(2))) / 1000.0)
        pending = pending[pending.rfind("\n") + 1:]
    child.wait()
    os.close(master)
    return latencies


def read_task(port, ready, results):
    """One client, in its own process: the latencies of the task's lines."""
    ws = RawWebSocket(port, f"/ws/servercontrol?token={TOKEN}")
    ready.set()
    latencies, chunks, pending = [], 0, ""
    while True:
        try:
            opcode, payload = ws.recv_frame(timeout=120)
        except (TimeoutError, ConnectionError):
            break
        now = time.clock_gettime_ns(time.CLOCK_MONOTONIC)
        if opcode != 0x1:
            continue
        msg = json.loads(payload)
        if msg["type"] == "task_complete":
            break
        if msg["type"] != "task_output":
            continue
        chunks += 1
        pending += msg["output"]
        for match in LINE.finditer(pending):
            latencies.append((now - int(match.group(2))) / 1000.0)
        pending = pending[pending.rfind("\n") + 1:]
    results.put((chunks, latencies))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--build-dir", default=os.environ.get("BUILD_DIR", "build"))
    parser.add_argument("-n", type=int, default=2000, help="lines the child writes")
    parser.add_argument("--interval-ms", type=float, default=2.0)
    parser.add_argument("--clients", type=int, default=1)
    args = parser.parse_args()

    sonded = os.path.join(args.build_dir, "src", "daemon", "sonded")
    interval = args.interval_ms / 1000.0
    print(f"{args.n} lines, {args.interval_ms} ms apart, {args.clients} client(s); "
          f"load average {os.getloadavg()[0]:.2f}, {os.cpu_count()} CPUs")

    show("floor: pty read by this script", percentiles(floor(args.n, interval)))

    with tempfile.TemporaryDirectory(prefix="bench-exec-") as tmp:
        config = os.path.join(tmp, "sonde.conf")
        with open(config, "w") as f:
            f.write(f"[server]\ntoken={TOKEN}\n[exec]\nenabled=true\nallowed-programs=/usr/bin/python3\n"
                    "timeout-seconds=3600\n")
        out_path = os.path.join(tmp, "out")
        with open(out_path, "wb") as out, open(os.path.join(tmp, "err"), "wb") as err:
            daemon = subprocess.Popen([sonded, "--port", "0", "--config", config], stdout=out, stderr=err,
                                      stdin=subprocess.DEVNULL,
                                      env={**os.environ, "XDG_CONFIG_HOME": tmp,
                                           "DBUS_SESSION_BUS_ADDRESS": "disabled:"})
        try:
            port = None
            deadline = time.monotonic() + 10
            while port is None and time.monotonic() < deadline:
                match = re.search(r":(\d+)/ws/v1", open(out_path).read())
                port = int(match.group(1)) if match else None
                time.sleep(0.05)
            if port is None:
                raise SystemExit("sonded printed no URL")

            results = multiprocessing.Queue()
            readers = []
            for _ in range(args.clients):
                ready = multiprocessing.Event()
                reader = multiprocessing.Process(target=read_task, args=(port, ready, results), daemon=True)
                reader.start()
                ready.wait(timeout=10)
                readers.append(reader)

            body = json.dumps({"argv": ["/usr/bin/python3", "-c", CHILD, str(args.n), str(interval)]}).encode()
            request = urllib.request.Request(f"http://127.0.0.1:{port}/exec", data=body, method="POST",
                                             headers={"Content-Type": "application/json",
                                                      "Authorization": f"Bearer {TOKEN}"})
            with urllib.request.urlopen(request, timeout=10) as response:
                task = json.loads(response.read())

            received = [results.get(timeout=args.n * interval * 5 + 60) for _ in readers]
            for reader in readers:
                reader.join(timeout=10)

            everything = []
            for i, (chunks, latencies) in enumerate(received):
                if i < 3 or i == len(received) - 1:
                    show(f"sonded: client {i + 1} ({chunks} chunks)", percentiles(latencies))
                everything += latencies
            if len(received) > 1:
                show("sonded: every client", percentiles(everything))
            print(f"task {task['task_id']}: {min(len(l) for _, l in received)} of {args.n} lines "
                  "received by every client")
        finally:
            daemon.send_signal(signal.SIGTERM)
            daemon.wait(timeout=10)


if __name__ == "__main__":
    main()
