#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""A Sonde collector written in Python, served like a C plugin.

LoadavgCollector subclasses Sonde.Collector: it declares its metrics in a
catalog and implements the collect virtual method (do_collect), which
parses a file in the /proc/loadavg format:

    0.52 0.58 0.59 2/345 12345
    1min 5min 15min runnable/total last-pid

The collector is added to an engine that also has the C plugins, and a
Sonde.Server serves the engine.  Its metrics (loadavg.load_1min, ...) then
appear in GET /api/v1/catalog and /api/v1/snapshot and on ws://.../ws/v1
exactly like cpu.usage_percent does, e.g.

    sonde-custom-collector.py --port 0
    curl -s http://127.0.0.1:PORT/api/v1/snapshot?metrics=loadavg.*

When the file cannot be read or parsed, do_collect raises a GLib.Error: the
collector emits 'failed', clients subscribed to collector_error events get
the message, and every other collector keeps its cadence.
"""

import argparse
import json
import signal
import sys

import gi

gi.require_version("Sonde", "1")
from gi.repository import GLib, Sonde  # noqa: E402


class LoadavgCollector(Sonde.Collector):
    """Reads load averages and task counts from a /proc/loadavg-style file."""

    def __init__(self, name="loadavg", path="/proc/loadavg"):
        # 'name' is a construct-only property: it must go to the GObject
        # constructor, it cannot be set afterwards.
        super().__init__(name=name)
        self.path = path
        # The catalog: field, unit, kind, description.  Units follow the
        # Sonde conventions; a load average has none, a task count is 'count'.
        self.add_metric("load_1min", "", Sonde.MetricKind.GAUGE,
                        "Run-queue length averaged over 1 minute")
        self.add_metric("load_5min", "", Sonde.MetricKind.GAUGE,
                        "Run-queue length averaged over 5 minutes")
        self.add_metric("load_15min", "", Sonde.MetricKind.GAUGE,
                        "Run-queue length averaged over 15 minutes")
        self.add_metric("runnable", "count", Sonde.MetricKind.GAUGE,
                        "Kernel scheduling entities currently runnable")
        self.add_metric("tasks", "count", Sonde.MetricKind.GAUGE,
                        "Kernel scheduling entities that exist")
        self.add_metric("last_pid", "", Sonde.MetricKind.INFO,
                        "PID most recently created")

    def do_collect(self):
        # Runs in one of the engine's worker threads (PyGObject takes the
        # GIL), never twice at once for this collector.  Keep it short: a
        # collection that misses the tick's deadline is reported as stale.
        try:
            with open(self.path, encoding="ascii") as f:
                text = f.read()
            load1, load5, load15, entities, last_pid = text.split()[:5]
            runnable, tasks = entities.split("/")
            fields = {
                "load_1min": float(load1),
                "load_5min": float(load5),
                "load_15min": float(load15),
                "runnable": int(runnable),
                "tasks": int(tasks),
                "last_pid": int(last_pid),
            }
        except (OSError, ValueError) as e:
            # A GLib.Error keeps its message all the way to the
            # collector_error event; other exceptions would be reported as
            # "Collector NAME returned no sample" plus a traceback.
            raise GLib.Error.new_literal(Sonde.error_quark(),
                                         f"cannot read {self.path}: {e}",
                                         Sonde.Error.COLLECTOR_FAILED)

        # A sample is a timestamp (wall clock, µs) and a JSON object whose
        # top-level keys are the collector's fields.  Building it from JSON
        # text is the simplest way from Python; Sonde.Sample.new takes a
        # Json.Object too.
        return Sonde.Sample.new_from_json(self.get_name(), GLib.get_real_time(),
                                          json.dumps(fields))


def main(argv=None):
    parser = argparse.ArgumentParser(
        description="Serve a collector written in Python (load averages from a "
                    "/proc/loadavg-style file) next to the C plugins.")
    parser.add_argument("--file", default="/proc/loadavg",
                        help="file to read, in the /proc/loadavg format "
                             "(default /proc/loadavg)")
    parser.add_argument("--name", default="loadavg",
                        help="collector name, the prefix of its metrics (default loadavg)")
    parser.add_argument("--address", default="127.0.0.1",
                        help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0,
                        help="port to listen on; 0 picks a free one (default 0)")
    parser.add_argument("--no-plugins", action="store_true",
                        help="serve only the Python collector")
    parser.add_argument("--duration", type=float, default=0, metavar="S",
                        help="exit after S seconds (default: run until interrupted)")
    args = parser.parse_args(argv)

    engine = Sonde.Engine.new()
    if not args.no_plugins:
        engine.load_plugins(None)

    collector = LoadavgCollector(name=args.name, path=args.file)
    try:
        engine.add_collector(collector)
    except GLib.Error as error:
        # e.g. a plugin already uses that name
        print(f"error: {error.message}", file=sys.stderr)
        return 2

    server = Sonde.Server.new(engine)
    try:
        server.listen(args.address, args.port)
    except GLib.Error as error:
        print(f"error: {error.message}", file=sys.stderr)
        return 1

    # Same first line as sonded, so scripts can read the URL back.
    port = server.get_port()
    print(f"listening on {server.get_uri()}", flush=True)
    print(f"catalog:  http://{args.address}:{port}/api/v1/catalog", flush=True)
    print(f"snapshot: http://{args.address}:{port}/api/v1/snapshot?metrics={args.name}.*",
          flush=True)

    loop = GLib.MainLoop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signum, lambda: loop.quit() or False)
    if args.duration > 0:
        GLib.timeout_add(int(args.duration * 1000), lambda: loop.quit() or False)

    # Nothing is sampled until a client subscribes (or polls the snapshot):
    # the engine starts the collector with its first consumer.
    loop.run()

    server.disconnect()
    engine.remove_collector(args.name)
    print("bye", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
