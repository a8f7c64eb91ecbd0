#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Print live Sonde metrics, one aligned line per frame.

The script loads the collector plugins into an in-process SondeEngine and
subscribes to metric patterns with a SondeSubscription.  Each frame it
receives is the very JSON text a WebSocket client of /ws/v1 would get for
the same subscription, so this is also a handy way to see what the wire
protocol looks like without running sonded.

Examples:
  sonde-live-printer.py
  sonde-live-printer.py 'cpu.*' memory.usage_percent --interval 500
  sonde-live-printer.py '*.usage_percent' --count 5 --json
"""

import argparse
import json
import signal
import sys

import gi

gi.require_version("Sonde", "1")
from gi.repository import GLib, Sonde  # noqa: E402

DEFAULT_PATTERNS = ["cpu.usage_percent", "memory.usage_percent"]


def format_value(value):
    """Render one JSON value so that it fits in a column."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.2f}"
    if isinstance(value, list):
        # Instances (cores, mounts, processes...) are arrays: show their count.
        return f"[{len(value)}]"
    if isinstance(value, dict):
        return f"{{{len(value)}}}"
    return str(value)


class LinePrinter:
    """Turns snapshot frames into aligned text lines.

    The columns are the metrics of the first frame, in the catalog order
    the frame keeps (patterns such as 'cpu.*' are resolved by the engine,
    not here); the header is printed again whenever the columns change.
    """

    def __init__(self, out=sys.stdout):
        self.out = out
        self.columns = None
        self.widths = None

    @staticmethod
    def flatten(data):
        # data is {collector: {field: value}}; metric names are collector.field.
        return {f"{collector}.{field}": value
                for collector, fields in data.items()
                for field, value in fields.items()}

    def print_frame(self, frame):
        values = self.flatten(frame.get("data", {}))
        columns = list(values)
        if columns != self.columns:
            self.columns = columns
            self.widths = [max(len(name), len(format_value(values[name])), 10)
                           for name in columns]
            header = ["time".ljust(12), "seq".rjust(6)]
            header += [name.rjust(w) for name, w in zip(columns, self.widths)]
            print("  ".join(header), file=self.out)

        # "2026-11-22T10:30:00.123Z" -> "10:30:00.123"
        clock = frame.get("timestamp", "")[11:23]
        line = [clock.ljust(12), str(frame.get("seq", "")).rjust(6)]
        line += [format_value(values.get(name)).rjust(w)
                 for name, w in zip(self.columns, self.widths)]
        # A collector that missed its deadline is reported, not hidden.
        if frame.get("stale"):
            line.append("stale: " + ",".join(frame["stale"]))
        print("  ".join(line), file=self.out, flush=True)


def main(argv=None):
    parser = argparse.ArgumentParser(
        description="Print live Sonde metrics, one aligned line per frame.")
    parser.add_argument("patterns", nargs="*", metavar="PATTERN",
                        help="metric patterns: an exact name (cpu.usage_percent), a "
                             "collector (cpu or cpu.*), globs (*.usage_percent) or * "
                             f"(default: {' '.join(DEFAULT_PATTERNS)})")
    parser.add_argument("-i", "--interval", type=int, default=1000, metavar="MS",
                        help="milliseconds between frames, %d-%d (default 1000)"
                             % (Sonde.INTERVAL_MIN_MS, Sonde.INTERVAL_MAX_MS))
    parser.add_argument("-n", "--count", type=int, default=0, metavar="N",
                        help="exit after N frames (default: run until interrupted)")
    parser.add_argument("--json", action="store_true",
                        help="print each frame's JSON text as received instead")
    args = parser.parse_args(argv)
    patterns = args.patterns or DEFAULT_PATTERNS

    engine = Sonde.Engine.new()
    # None: the default search path, SONDE_PLUGIN_PATH then the installed dir.
    if engine.load_plugins(None) == 0:
        print("warning: no collector plugins were found; set SONDE_PLUGIN_PATH",
              file=sys.stderr)

    try:
        # The collectors the patterns need start now and stop when the
        # subscription goes: sampling is demand-driven.
        subscription = Sonde.Subscription.new(engine, None, patterns, args.interval)
    except GLib.Error as error:
        # An unknown exact name or a bad interval is an error, not an empty stream.
        print(f"error: {error.message}", file=sys.stderr)
        return 2

    loop = GLib.MainLoop()
    printer = LinePrinter()
    received = 0

    def on_frame(_subscription, text):
        nonlocal received
        received += 1
        if args.json:
            print(text, flush=True)
        else:
            printer.print_frame(json.loads(text))
        if args.count and received >= args.count:
            loop.quit()

    subscription.connect("frame", on_frame)

    # Ctrl-C and SIGTERM end the loop cleanly instead of raising
    # KeyboardInterrupt inside a GLib callback.
    for signum in (signal.SIGINT, signal.SIGTERM):
        GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signum, lambda: loop.quit() or False)

    loop.run()
    subscription.cancel()
    return 0


if __name__ == "__main__":
    sys.exit(main())
