# SPDX-License-Identifier: LGPL-2.1-or-later
"""Shared helpers of the PyGObject tests.

The tests run uninstalled: meson prepends the build tree's introspection
directory to GI_TYPELIB_PATH, libsonde's build directory to LD_LIBRARY_PATH
and sets SONDE_PLUGIN_PATH to the plugin build directories.

Every wait goes through spin_until(), which iterates the default GLib main
context (where the engine's clock, the collectors' signals and the server
live) until a condition holds, and fails after a timeout.  Network clients
(websockets, urllib) run in threads, so the main thread keeps serving.
"""

import asyncio
import json
import math
import os
import sys
import threading
import time
import unittest
import urllib.request

SKIP_REASON = None
GLib = Json = Sonde = None

if os.environ.get("SONDE_TEST_NO_TYPELIB"):
    SKIP_REASON = "introspection is disabled in this build (no Sonde-1.typelib)"
else:
    try:
        import gi
    except ImportError as e:
        SKIP_REASON = f"PyGObject (python3-gi) is not available: {e}"
    else:
        try:
            gi.require_version("GLib", "2.0")
            gi.require_version("Json", "1.0")
            gi.require_version("Sonde", "1")
            from gi.repository import GLib, Json, Sonde
        except (ValueError, ImportError) as e:
            SKIP_REASON = f"the Sonde-1 typelib cannot be loaded: {e}"

try:
    import websockets
except ImportError:
    websockets = None
WEBSOCKETS_SKIP = None if websockets else "python3-websockets is not available"

# Collectors and fields of docs/formats/native.md ("Collectors and their fields").
DESIGN_FIELDS = {
    "cpu": ["usage_percent", "user_percent", "system_percent", "iowait_percent",
            "per_core_percent", "load_avg_1min", "load_avg_5min", "load_avg_15min",
            "cores", "frequency_mhz", "brand"],
    "memory": ["total_bytes", "used_bytes", "available_bytes", "free_bytes", "cached_bytes",
               "usage_percent", "swap_total_bytes", "swap_used_bytes", "swap_usage_percent"],
    "disk": ["usage_percent", "partitions", "read_bytes_per_sec", "write_bytes_per_sec",
             "devices"],
    "network": ["interfaces", "rx_bytes_per_sec", "tx_bytes_per_sec", "total_rx_bytes",
                "total_tx_bytes", "packets_sent", "packets_recv", "active_connections"],
    "processes": ["count", "running", "top_memory", "top_cpu"],
    "gateway": ["requests_total", "requests_success", "requests_error", "active_connections",
                "avg_response_time", "success_rate", "messages_sent", "frames_dropped",
                "clients_by_route"],
    "host": ["hostname", "os_name", "os_version", "kernel", "arch", "uptime_seconds",
             "boot_time"],
}


def expected_unit(collector, field):
    """The native unit docs/formats/native.md gives a field, or None when it states none."""
    if field.endswith("_percent") or field == "success_rate":
        return "percent"
    if field.endswith("_bytes_per_sec"):
        return "bytes/s"
    if field.endswith("_bytes"):
        return "bytes"
    if field in ("uptime_seconds", "boot_time"):
        return "seconds"
    if field == "avg_response_time":
        return "ms"
    if field == "frequency_mhz":
        return "MHz"
    return None


def require_sonde(cls):
    """Class decorator: skip every test when gi or the typelib is missing."""
    return unittest.skipIf(SKIP_REASON is not None, SKIP_REASON or "")(cls)


def require_websockets(cls_or_func):
    return unittest.skipIf(websockets is None, WEBSOCKETS_SKIP or "")(cls_or_func)


def check_plugins_built():
    """Fail early, and say why, when SONDE_PLUGIN_PATH holds no modules.

    A bare `meson test --suite python` on a fresh build directory builds
    only what the tests depend on; the plugins are built by `ninja` (or
    `meson compile`), which tools/dev runs first.
    """
    dirs = [d for d in os.environ.get("SONDE_PLUGIN_PATH", "").split(":") if d]
    empty = [d for d in dirs
             if not os.path.isdir(d)
             or not any(n.startswith("libsonde-") and n.endswith(".so") for n in os.listdir(d))]
    if not dirs or empty:
        raise AssertionError(
            f"no collector plugin built in {empty or 'SONDE_PLUGIN_PATH (unset)'}; "
            "build everything first (ninja -C BUILDDIR or meson compile -C BUILDDIR)")


def new_engine(plugins=True):
    engine = Sonde.Engine.new()
    if plugins:
        check_plugins_built()
        n = engine.load_plugins(None)
        # load_plugins() counts the collectors it added to this engine.
        assert n >= len(DESIGN_FIELDS), \
            f"only {n} collector plugins loaded from SONDE_PLUGIN_PATH=" \
            f"{os.environ.get('SONDE_PLUGIN_PATH')!r}"
    return engine


def spin_until(condition, timeout, what):
    """Iterate the default main context until condition() is true.

    A timeout source bounds the wait; another one wakes the context up
    regularly so that conditions set by other threads are seen even when
    nothing else happens on the main context.
    """
    context = GLib.MainContext.default()
    expired = []

    def on_timeout():
        expired.append(True)
        return GLib.SOURCE_REMOVE

    timeout_id = GLib.timeout_add(int(timeout * 1000), on_timeout)
    poll_id = GLib.timeout_add(50, lambda: GLib.SOURCE_CONTINUE)
    try:
        while not condition():
            if expired:
                raise AssertionError(f"timed out after {timeout} s waiting for {what}")
            context.iteration(True)
    finally:
        GLib.source_remove(poll_id)
        if not expired:
            GLib.source_remove(timeout_id)


def spin_for(seconds):
    """Let the main context run for a while (pending signals, tasks)."""
    end = time.monotonic() + seconds
    spin_until(lambda: time.monotonic() >= end, seconds + 5, f"{seconds} s to pass")


def run_in_thread(func, timeout, what):
    """Run func() in a thread while the main context spins; return its result."""
    result = {}

    def target():
        try:
            result["value"] = func()
        except BaseException as e:  # re-raised in the main thread
            result["error"] = e
        finally:
            result["done"] = True
            GLib.MainContext.default().wakeup()

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    spin_until(lambda: "done" in result, timeout, what)
    thread.join()
    if "error" in result:
        raise result["error"]
    return result["value"]


def http_get_json(url, timeout=10):
    """GET url from a thread (the server answers on the main context)."""
    def get():
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, json.loads(response.read().decode("utf-8"))
    return run_in_thread(get, timeout + 2, f"GET {url}")


class WsClient(threading.Thread):
    """A python3-websockets client running its own asyncio loop in a thread.

    It records every text message it receives, in order; the main thread
    spins the GLib main context and inspects messages with snapshot().
    """

    def __init__(self, url, send=()):
        super().__init__(daemon=True)
        self.url = url
        self.to_send = list(send)
        self._messages = []
        self._lock = threading.Lock()
        self._stop_event = threading.Event()
        self.error = None
        self.finished = False

    def run(self):
        try:
            asyncio.run(self._main())
        except BaseException as e:
            self.error = e
        finally:
            self.finished = True
            GLib.MainContext.default().wakeup()

    async def _main(self):
        async with websockets.connect(self.url, open_timeout=10, close_timeout=2,
                                      max_size=16 * 1024 * 1024) as ws:
            for message in self.to_send:
                await ws.send(message)
            while not self._stop_event.is_set():
                try:
                    message = await asyncio.wait_for(ws.recv(), 0.2)
                except asyncio.TimeoutError:
                    continue
                with self._lock:
                    self._messages.append(message)
                GLib.MainContext.default().wakeup()

    def snapshot(self):
        """The raw text messages received so far."""
        if self.error is not None:
            raise AssertionError(f"WebSocket client of {self.url} failed: {self.error!r}")
        with self._lock:
            return list(self._messages)

    def frames(self, type_=None):
        """Received messages parsed, optionally only those of one type."""
        parsed = [json.loads(m) for m in self.snapshot()]
        return [f for f in parsed if type_ is None or f.get("type") == type_]

    def stop(self):
        self._stop_event.set()
        # Keep serving the connection while the client closes it.
        spin_until(lambda: self.finished, 10, "the WebSocket client to close")
        self.join(5)


def json_object_to_dict(obj):
    """A Json.Object (as a sample's get_data() returns) as a Python dict."""
    node = Json.Node.alloc().init_object(obj)
    return json.loads(Json.to_string(node, False))


def is_nan(value):
    return isinstance(value, float) and math.isnan(value)


def main():
    """unittest.main(), exiting 77 (meson's SKIP) when every test skipped."""
    program = unittest.main(exit=False, verbosity=2)
    result = program.result
    if not result.wasSuccessful():
        sys.exit(1)
    if result.testsRun > 0 and len(result.skipped) == result.testsRun:
        print(f"all tests skipped: {result.skipped[0][1]}", file=sys.stderr)
        sys.exit(77)
    sys.exit(0)
