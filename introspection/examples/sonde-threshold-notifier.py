#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Print an alert when a Sonde metric stays past a threshold.

The script holds one collector at an interval (SondeEngine.hold starts its
sampling) and listens to the collector's 'sampled' signal, reading the
field with the sample's typed getter.  When the value is past the threshold
for N consecutive samples it prints an ALERT line, and a RECOVERED line at
the first sample back on the safe side.

Examples:
  sonde-threshold-notifier.py --metric cpu.usage_percent --above 90 --for 3
  sonde-threshold-notifier.py --metric memory.available_bytes --below 500e6 --for 5
  sonde-threshold-notifier.py --metric disk.usage_percent --above 95 --interval 10000
"""

import argparse
import datetime
import math
import signal
import sys

import gi

gi.require_version("Sonde", "1")
from gi.repository import GLib, Sonde  # noqa: E402


class ThresholdWatch:
    """The alerting logic, separate from Sonde so that it is easy to test.

    feed() takes one value and returns "alert" when the value has been past
    the threshold for `consecutive` samples in a row (once per episode),
    "recovered" at the first value back on the safe side after an alert,
    and None otherwise.  A missing value (NaN) is skipped: it neither
    extends nor breaks a run.
    """

    def __init__(self, threshold, above=True, consecutive=3):
        self.threshold = threshold
        self.above = above
        self.consecutive = max(1, consecutive)
        self.run = 0            # consecutive samples past the threshold
        self.alerting = False

    def is_past(self, value):
        return value > self.threshold if self.above else value < self.threshold

    def feed(self, value):
        if math.isnan(value):
            return None
        if self.is_past(value):
            self.run += 1
            if not self.alerting and self.run >= self.consecutive:
                self.alerting = True
                return "alert"
            return None
        self.run = 0
        if self.alerting:
            self.alerting = False
            return "recovered"
        return None


def format_value(value):
    # Byte counts are integers: print them whole, percentages with 2 decimals.
    if not math.isnan(value) and value.is_integer():
        return str(int(value))
    return f"{value:.2f}"


def iso_time(timestamp_us):
    when = datetime.datetime.fromtimestamp(timestamp_us / 1e6, tz=datetime.timezone.utc)
    return when.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def main(argv=None):
    parser = argparse.ArgumentParser(
        description="Print an alert line when a metric stays past a threshold for "
                    "N consecutive samples, and a recovery line when it comes back.")
    parser.add_argument("--metric", default="cpu.usage_percent",
                        help="a numeric metric, collector.field (default cpu.usage_percent)")
    side = parser.add_mutually_exclusive_group()
    side.add_argument("--above", type=float, metavar="VALUE",
                      help="alert when the value is greater than VALUE (default 90)")
    side.add_argument("--below", type=float, metavar="VALUE",
                      help="alert when the value is less than VALUE")
    parser.add_argument("--for", dest="consecutive", type=int, default=3, metavar="N",
                        help="consecutive samples past the threshold before alerting "
                             "(default 3)")
    parser.add_argument("-i", "--interval", type=int, default=1000, metavar="MS",
                        help="sampling interval in milliseconds (default 1000)")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="print every sample, not only alerts")
    parser.add_argument("-n", "--count", type=int, default=0, metavar="N",
                        help="exit after N samples (default: run until interrupted)")
    parser.add_argument("--duration", type=float, default=0, metavar="S",
                        help="exit after S seconds (default: run until interrupted)")
    args = parser.parse_args(argv)

    above = args.below is None
    threshold = args.below if not above else (90.0 if args.above is None else args.above)
    sign, safe_sign = (">", "<=") if above else ("<", ">=")

    engine = Sonde.Engine.new()
    engine.load_plugins(None)

    # The catalog tells which collector produces the metric and its unit.
    metric = engine.lookup_metric(args.metric)
    if metric is None:
        print(f"error: unknown metric {args.metric!r}; try sonde-live-printer.py '*'",
              file=sys.stderr)
        return 2
    if metric.get_kind() in (Sonde.MetricKind.TABLE, Sonde.MetricKind.INFO):
        print(f"error: {args.metric} is not a number "
              f"({Sonde.metric_kind_to_string(metric.get_kind())})", file=sys.stderr)
        return 2
    field = metric.get_field()
    unit = metric.get_unit()
    collector = engine.get_collector(metric.get_collector())

    watch = ThresholdWatch(threshold, above, args.consecutive)
    loop = GLib.MainLoop()
    samples = 0
    alerts = 0

    def on_sampled(_collector, sample):
        # Emitted on the main thread after each collection.
        nonlocal samples, alerts
        samples += 1
        value = sample.get_double(field)   # NaN when the field is missing
        when = iso_time(sample.get_timestamp())
        if args.verbose:
            print(f"{when} {args.metric} = {format_value(value)} {unit}".rstrip(), flush=True)
        state = watch.feed(value)
        if state == "alert":
            alerts += 1
            print(f"{when} ALERT {args.metric} = {format_value(value)} {unit} {sign} {threshold:g} "
                  f"for {watch.run} consecutive samples", flush=True)
        elif state == "recovered":
            print(f"{when} RECOVERED {args.metric} = {format_value(value)} {unit} {safe_sign} "
                  f"{threshold:g}", flush=True)
        if args.count and samples >= args.count:
            loop.quit()

    def on_failed(_collector, error):
        print(f"warning: {collector.get_name()} failed: {error.message}",
              file=sys.stderr, flush=True)

    collector.connect("sampled", on_sampled)
    collector.connect("failed", on_failed)

    try:
        # Keep the collector sampled at our interval until release().
        hold = engine.hold(collector.get_name(), args.interval)
    except GLib.Error as error:
        print(f"error: {error.message}", file=sys.stderr)
        return 2

    print(f"watching {args.metric} every {args.interval} ms: alert when {sign} "
          f"{threshold:g} {unit} for {watch.consecutive} samples".rstrip(), flush=True)

    for signum in (signal.SIGINT, signal.SIGTERM):
        GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signum, lambda: loop.quit() or False)
    if args.duration > 0:
        GLib.timeout_add(int(args.duration * 1000), lambda: loop.quit() or False)

    loop.run()
    engine.release(hold)
    print(f"{samples} samples, {alerts} alerts", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
