#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# bench-table: the Markdown tables of run-compare.sh and run-idle.sh.
#
# Reads the figures the scripts recorded, one per line:
#   SECTION <tab> N <tab> SERVER <tab> METRIC <tab> VALUE
# and prints, per section and N, one row per server with the median of the
# repetitions and their spread [min-max], plus ratios to a reference row.
# Standard library only.

import collections
import statistics
import sys

# section -> (title, reference server, [(metric, header, format)], [ratio metrics])
SECTIONS = {
    "fanout": (
        "Fan-out: N clients (bench-fanout), default subscription at 1 s",
        "floor-1t",
        [("cpu", "server CPU %", "{:.2f}"),
         ("rss_end", "RSS MiB", "{:.1f}"),
         ("rss_per_client", "KiB/client", "{:.1f}"),
         ("p50", "p50 ms", "{:.1f}"),
         ("p99", "p99 ms", "{:.1f}"),
         ("spread", "fan-out spread ms", "{:.1f}"),
         ("connect", "connect N s", "{:.2f}"),
         ("connect_cpu", "server CPU s connecting", "{:.2f}"),
         ("lost", "frames lost", "{:.0f}"),
         ("frame", "frame B", "{:.0f}"),
         ("deflate", "deflate", "{:.0f}"),
         ("client_cpu", "client CPU %", "{:.1f}")],
        ["cpu", "p50", "p99", "connect", "connect_cpu"]),
    "groups": (
        "Distinct subscription groups: N clients over G groups (bench-fanout -g), same frames",
        "sonded g=1",
        [("cpu", "server CPU %", "{:.2f}"),
         ("encodings", "encodings / tick", "{:.2f}"),
         ("rss_per_client", "KiB/client", "{:.1f}"),
         ("p50", "p50 ms", "{:.1f}"),
         ("p99", "p99 ms", "{:.1f}"),
         ("lost", "frames lost", "{:.0f}")],
        ["cpu", "p99"]),
    "storm": (
        "Reconnect storm: N clients handshaking at once (bench-storm)",
        "floor-1t",
        [("done", "handshakes done", "{:.0f}"),
         ("time", "last handshake s", "{:.3f}"),
         ("hs_p50", "handshake p50 ms", "{:.1f}"),
         ("hs_p99", "handshake p99 ms", "{:.1f}"),
         ("failed", "failed", "{:.0f}"),
         ("closed", "closed by server later", "{:.0f}"),
         ("overflows", "ListenOverflows", "{:.0f}"),
         ("syn_retrans", "TCPSynRetrans", "{:.0f}")],
        ["time", "hs_p99"]),
    "sampling": (
        "Sampling at 10 Hz: CPU per sample",
        "floor",
        [("cpu_us", "CPU µs/sample", "{:.0f}"),
         ("wall_us", "wall µs/sample (p50)", "{:.0f}"),
         ("idle_ms_s", "idle CPU ms/s (subtracted)", "{:.2f}"),
         ("rate", "samples/s", "{:.1f}")],
        ["cpu_us"]),
    "idle": (
        "Idle daemon, no clients",
        None,
        [("cpu_pct", "CPU %", "{:.3f}"),
         ("rss_start", "RSS start MiB", "{:.1f}"),
         ("rss_end", "RSS end MiB", "{:.1f}"),
         ("threads", "threads", "{:.0f}"),
         ("cs_per_s", "context switches/s (perf)", "{:.1f}"),
         ("vcs_per_s", "voluntary switches/s (/proc)", "{:.1f}"),
         ("polls_per_s", "poll() calls/s", "{:.1f}"),
         ("syscalls_per_s", "syscalls/s", "{:.1f}")],
        []),
}


def cell(values, fmt):
    if not values:
        return "-"
    median = fmt.format(statistics.median(values))
    if len(values) == 1:
        return median
    return f"{median} [{fmt.format(min(values))}-{fmt.format(max(values))}]"


def main():
    figures = collections.defaultdict(list)     # (section, n, server, metric) -> values
    order = collections.OrderedDict()           # (section, n) -> servers in order seen
    for line in open(sys.argv[1]):
        section, n, server, metric, value = line.rstrip("\n").split("\t")
        figures[(section, n, server, metric)].append(float(value))
        order.setdefault((section, n), [])
        if server not in order[(section, n)]:
            order[(section, n)].append(server)

    for (section, n), servers in order.items():
        title, reference, columns, ratios = SECTIONS[section]
        present = [c for c in columns
                   if any(figures.get((section, n, s, c[0])) for s in servers)]
        reps = max(len(figures.get((section, n, s, c[0]), []))
                   for s in servers for c in present)
        print(f"\n{title}" + (f", N = {int(n):,}" if n != "-" else "")
              + f" (median of {reps} [min-max])\n")
        headers = ["server"] + [c[1] for c in present]
        ratio_columns = [r for r in ratios if reference and r in [c[0] for c in present]]
        headers += [f"{dict((c[0], c[1]) for c in columns)[r]} / {reference}" for r in ratio_columns]
        print("| " + " | ".join(headers) + " |")
        print("|" + "---|" + "---:|" * (len(headers) - 1))
        for server in servers:
            row = [server] + [cell(figures.get((section, n, server, m), []), fmt)
                              for m, _, fmt in present]
            for metric in ratio_columns:
                mine = figures.get((section, n, server, metric))
                theirs = figures.get((section, n, reference, metric))
                if mine and theirs and statistics.median(theirs) > 0:
                    row.append(f"{statistics.median(mine) / statistics.median(theirs):.2f}x")
                else:
                    row.append("-")
            print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
