#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# python-reference: a metrics WebSocket server built the way the products
# Sonde replaces are built (psutil + websockets, one asyncio loop): every
# interval it collects cpu, memory, disk, network, processes and host with
# psutil, serialises the result once and awaits a send to every connected
# client in turn. It is a peer to measure sonded against, not a product.
#
# Its frames have the native snapshot's shape -- {"type":"snapshot",
# "subscription":"default","seq":N,"timestamp":"<the tick, ISO ms>",
# "data":{...}} -- so that bench-fanout reads them as it reads sonded's
# (latency = receipt - tick, which includes the collection, as in sonded).
#
#   /usr/bin/python3 tests/bench/python-reference.py [--port 0] [--interval-ms 1000]
#
# Debian's python3-psutil and python3-websockets (10.x); the first line of
# stdout is "listening on ws://127.0.0.1:PORT/ws/v1", as sonded prints it.
# websockets' defaults are kept, as such products keep them: permessage-
# deflate is accepted when a client offers it, pings every 20 s, backlog 100.

import argparse
import asyncio
import json
import os
import resource
import signal
import socket
import sys
import time
from datetime import datetime, timezone

import psutil
import websockets

TOP_N = 5


class Collector:
    """What the reference products collect each tick, with psutil."""

    def __init__(self):
        self.previous_disk = None
        self.previous_net = None
        self.previous_time = None
        psutil.cpu_percent(percpu=True)        # primes the per-call deltas

    def collect(self):
        now = time.monotonic()
        elapsed = now - self.previous_time if self.previous_time else 0.0
        self.previous_time = now
        return {
            "cpu": self.cpu(),
            "memory": self.memory(),
            "disk": self.disk(elapsed),
            "network": self.network(elapsed),
            "processes": self.processes(),
            "host": self.host(),
        }

    @staticmethod
    def cpu():
        per_core = psutil.cpu_percent(percpu=True)
        times = psutil.cpu_times_percent()
        load = os.getloadavg()
        freq = psutil.cpu_freq()
        return {
            "usage_percent": round(sum(per_core) / len(per_core), 1),
            "user_percent": times.user,
            "system_percent": times.system,
            "iowait_percent": getattr(times, "iowait", 0.0),
            "per_core_percent": per_core,
            "load_avg_1min": load[0],
            "load_avg_5min": load[1],
            "load_avg_15min": load[2],
            "cores": psutil.cpu_count(),
            "frequency_mhz": freq.current if freq else None,
        }

    @staticmethod
    def memory():
        vm = psutil.virtual_memory()
        swap = psutil.swap_memory()
        return {
            "total_bytes": vm.total,
            "used_bytes": vm.used,
            "available_bytes": vm.available,
            "free_bytes": vm.free,
            "cached_bytes": getattr(vm, "cached", 0),
            "usage_percent": vm.percent,
            "swap_total_bytes": swap.total,
            "swap_used_bytes": swap.used,
            "swap_usage_percent": swap.percent,
        }

    def disk(self, elapsed):
        partitions = []
        for part in psutil.disk_partitions(all=False):
            try:
                usage = psutil.disk_usage(part.mountpoint)
            except OSError:
                continue
            partitions.append({
                "mount": part.mountpoint, "device": part.device, "fs_type": part.fstype,
                "total_bytes": usage.total, "used_bytes": usage.used,
                "free_bytes": usage.free, "usage_percent": usage.percent,
            })
        io = psutil.disk_io_counters(perdisk=True) or {}
        devices = []
        for name, counters in io.items():
            before = (self.previous_disk or {}).get(name)
            rate = (lambda a, b: (a - b) / elapsed) if before and elapsed else (lambda a, b: 0.0)
            devices.append({
                "name": name,
                "read_bytes_per_sec": rate(counters.read_bytes, before.read_bytes if before else 0),
                "write_bytes_per_sec": rate(counters.write_bytes, before.write_bytes if before else 0),
                "reads_per_sec": rate(counters.read_count, before.read_count if before else 0),
                "writes_per_sec": rate(counters.write_count, before.write_count if before else 0),
            })
        self.previous_disk = io
        root = psutil.disk_usage("/")
        return {
            "usage_percent": root.percent,
            "partitions": partitions,
            "read_bytes_per_sec": sum(d["read_bytes_per_sec"] for d in devices),
            "write_bytes_per_sec": sum(d["write_bytes_per_sec"] for d in devices),
            "devices": devices,
        }

    def network(self, elapsed):
        nics = psutil.net_io_counters(pernic=True)
        interfaces = []
        for name, counters in nics.items():
            before = (self.previous_net or {}).get(name)
            rx = (counters.bytes_recv - before.bytes_recv) / elapsed if before and elapsed else 0.0
            tx = (counters.bytes_sent - before.bytes_sent) / elapsed if before and elapsed else 0.0
            interfaces.append({
                "name": name, "rx_bytes": counters.bytes_recv, "tx_bytes": counters.bytes_sent,
                "rx_bytes_per_sec": rx, "tx_bytes_per_sec": tx,
                "rx_packets": counters.packets_recv, "tx_packets": counters.packets_sent,
            })
        self.previous_net = nics
        # What such products do for "active connections": psutil walks
        # /proc/net/tcp and tcp6, then maps every socket inode to a pid.
        established = sum(1 for c in psutil.net_connections(kind="tcp")
                          if c.status == psutil.CONN_ESTABLISHED)
        return {
            "interfaces": interfaces,
            "rx_bytes_per_sec": sum(i["rx_bytes_per_sec"] for i in interfaces),
            "tx_bytes_per_sec": sum(i["tx_bytes_per_sec"] for i in interfaces),
            "total_rx_bytes": sum(i["rx_bytes"] for i in interfaces),
            "total_tx_bytes": sum(i["tx_bytes"] for i in interfaces),
            "packets_sent": sum(i["tx_packets"] for i in interfaces),
            "packets_recv": sum(i["rx_packets"] for i in interfaces),
            "active_connections": established,
        }

    @staticmethod
    def processes():
        procs = list(psutil.process_iter(["pid", "name", "memory_percent", "memory_info",
                                          "cpu_percent", "status"]))
        infos = [p.info for p in procs]
        by_memory = sorted(infos, key=lambda i: i["memory_percent"] or 0, reverse=True)[:TOP_N]
        by_cpu = sorted(infos, key=lambda i: i["cpu_percent"] or 0, reverse=True)[:TOP_N]
        return {
            "count": len(infos),
            "running": sum(1 for i in infos if i["status"] == psutil.STATUS_RUNNING),
            "top_memory": [{"pid": i["pid"], "name": i["name"],
                            "memory_percent": i["memory_percent"],
                            "rss_bytes": i["memory_info"].rss if i["memory_info"] else 0}
                           for i in by_memory],
            "top_cpu": [{"pid": i["pid"], "name": i["name"], "cpu_percent": i["cpu_percent"]}
                        for i in by_cpu],
        }

    @staticmethod
    def host():
        uname = os.uname()
        boot = psutil.boot_time()
        return {
            "hostname": socket.gethostname(),
            "kernel": uname.release,
            "arch": uname.machine,
            "uptime_seconds": int(time.time() - boot),
            "boot_time": int(boot),
        }


def iso_ms(tick_ms):
    moment = datetime.fromtimestamp(tick_ms / 1000, tz=timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{tick_ms % 1000:03d}Z"


class Server:
    def __init__(self, interval_ms):
        self.interval_ms = interval_ms
        self.clients = set()
        self.collector = Collector()
        self.samples = 0
        self.collect_s = 0.0
        self.send_s = 0.0

    async def handler(self, ws):
        self.clients.add(ws)
        try:
            async for _ in ws:       # clients say nothing; wait for the close
                pass
        except websockets.ConnectionClosed:
            pass
        finally:
            self.clients.discard(ws)

    async def ticks(self):
        start_ms = int(time.time() * 1000) // self.interval_ms * self.interval_ms
        while True:
            now_ms = time.time() * 1000
            tick_ms = (int(now_ms) // self.interval_ms + 1) * self.interval_ms
            await asyncio.sleep((tick_ms - now_ms) / 1000)

            # Collected in the event loop, as the reference products do.
            started = time.perf_counter()
            data = self.collector.collect()
            message = json.dumps({
                "type": "snapshot",
                "subscription": "default",
                "seq": (tick_ms - start_ms) // self.interval_ms,
                "timestamp": iso_ms(tick_ms),
                "data": data,
            }, separators=(",", ":"))   # compact, as sonded writes it
            collected = time.perf_counter()
            self.samples += 1
            self.collect_s += collected - started

            # Serialised once, then one awaited send per client in turn.
            for ws in list(self.clients):
                try:
                    await ws.send(message)
                except websockets.ConnectionClosed:
                    self.clients.discard(ws)
            self.send_s += time.perf_counter() - collected


async def main():
    parser = argparse.ArgumentParser(description="A psutil + websockets metrics server, as a peer.")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--interval-ms", type=int, default=1000)
    args = parser.parse_args()

    # One fd per client: go as far as the hard limit allows.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

    server = Server(args.interval_ms)
    stop = asyncio.get_running_loop().create_future()
    for signum in (signal.SIGINT, signal.SIGTERM):
        asyncio.get_running_loop().add_signal_handler(signum, stop.set_result, None)

    async with websockets.serve(server.handler, "127.0.0.1", args.port,
                                max_size=2 ** 20) as ws_server:
        port = ws_server.sockets[0].getsockname()[1]
        print(f"listening on ws://127.0.0.1:{port}/ws/v1", flush=True)
        ticker = asyncio.ensure_future(server.ticks())
        await stop
        ticker.cancel()

    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu = usage.ru_utime + usage.ru_stime
    print(f"python-reference: {server.samples} samples, collect {server.collect_s / max(server.samples, 1) * 1e3:.2f} ms "
          f"wall each, sends {server.send_s / max(server.samples, 1) * 1e3:.2f} ms wall per tick, "
          f"{cpu:.2f} s CPU in all", flush=True)


if __name__ == "__main__":
    asyncio.run(main())
