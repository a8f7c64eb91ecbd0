# SPDX-License-Identifier: LGPL-2.1-or-later
"""Helpers for the tests that drive a real sonded from outside.

The daemon is the one just built ($SONDED, set by tests/meson.build's
test_env), run with its own empty configuration directory and no session
bus, so that nothing from the developer's desktop leaks in. It is always
stopped by its PID.
"""

import base64
import calendar
import hashlib
import json
import os
import re
import signal
import socket
import struct
import subprocess
import tempfile
import time
import urllib.request

URL_LINE = re.compile(r"^listening on (wss?://([0-9.]+):(\d+)/ws/v1)$")


def sonded_path():
    path = os.environ.get("SONDED")
    if not path:
        raise RuntimeError("SONDED is not set: run these tests with `meson test`")
    return path


class Daemon:
    """One sonded process: its URL, port, stdout and stderr."""

    def __init__(self, *args, env=None):
        self.args = [sonded_path(), *args]
        self.tmpdir = tempfile.TemporaryDirectory(prefix="sonded-test-")
        self.stdout_path = os.path.join(self.tmpdir.name, "stdout")
        self.stderr_path = os.path.join(self.tmpdir.name, "stderr")
        self.env = dict(os.environ)
        # An empty configuration directory, and no session bus.
        self.env["XDG_CONFIG_HOME"] = os.path.join(self.tmpdir.name, "config")
        self.env["DBUS_SESSION_BUS_ADDRESS"] = "disabled:"
        self.env.update(env or {})
        self.process = None
        self.url = None
        self.port = None

    # Files rather than pipes: a pipe nobody reads could fill and block the
    # daemon; a file is read whenever the test wants.
    def start(self):
        with open(self.stdout_path, "wb") as out, open(self.stderr_path, "wb") as err:
            self.process = subprocess.Popen(self.args, stdout=out, stderr=err,
                                            stdin=subprocess.DEVNULL, env=self.env)
        return self

    @property
    def pid(self):
        return self.process.pid

    def stdout(self):
        with open(self.stdout_path, encoding="utf-8", errors="replace") as f:
            return f.read()

    def stderr(self):
        with open(self.stderr_path, encoding="utf-8", errors="replace") as f:
            return f.read()

    def wait_for_url(self, timeout=10):
        """Waits for the first stdout line; returns the URL, or raises."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.stdout()
            if "\n" in text:
                first = text.split("\n", 1)[0]
                match = URL_LINE.match(first)
                if not match:
                    raise AssertionError(f"first stdout line is not the URL: {first!r}")
                self.url = match.group(1)
                self.port = int(match.group(3))
                return self.url
            if self.process.poll() is not None:
                raise AssertionError(f"sonded exited with {self.process.returncode} before "
                                     f"printing its URL; stderr:\n{self.stderr()}")
            time.sleep(0.02)
        raise AssertionError(f"sonded printed no URL within {timeout} s; stderr:\n{self.stderr()}")

    def wait(self, timeout):
        """Waits for the process to exit; returns its status, or None on timeout."""
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def stop(self, timeout=10):
        """SIGTERM by PID, then SIGKILL by PID if it does not exit. Returns the status."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            if self.wait(timeout) is None:
                self.process.kill()
                self.process.wait(timeout=10)
        return self.process.returncode

    def close(self):
        self.stop()
        self.tmpdir.cleanup()

    @property
    def token(self):
        """The token sonded made for this test's user (none configured)."""
        with open(os.path.join(self.env["XDG_CONFIG_HOME"], "sonde", "token")) as f:
            return f.read().strip()

    def http_url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"

    def get_json(self, path, timeout=10):
        with urllib.request.urlopen(self.http_url(path), timeout=timeout) as response:
            return json.loads(response.read().decode("utf-8"))

    def rss_bytes(self):
        with open(f"/proc/{self.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
        raise AssertionError("no VmRSS in /proc/PID/status")


def run_sonded(*args, timeout=10):
    """Runs sonded to completion (options that make it exit at once)."""
    daemon = Daemon(*args)
    try:
        daemon.start()
        status = daemon.wait(timeout)
        if status is None:
            daemon.stop()
            raise AssertionError(f"sonded {' '.join(args)} did not exit within {timeout} s")
        return status, daemon.stdout(), daemon.stderr()
    finally:
        daemon.close()


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_is_free(port):
    """Whether a listener could bind 127.0.0.1:@port now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        # As a listener binds: connections in TIME_WAIT do not count.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


class RawWebSocket:
    """A WebSocket client on a bare socket, with the handshake done by hand:
    it reads only when told to, which a library client would not allow."""

    GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

    def __init__(self, port, path="/ws/v1", rcvbuf=None, timeout=10):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf is not None:
            # Before connect(), so that the window offered is small from the start.
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(timeout)
        self.sock.connect(("127.0.0.1", port))
        self.buffer = b""
        key = base64.b64encode(os.urandom(16)).decode("ascii")
        request = (f"GET {path} HTTP/1.1\r\n"
                   f"Host: 127.0.0.1:{port}\r\n"
                   "Upgrade: websocket\r\n"
                   "Connection: Upgrade\r\n"
                   f"Sec-WebSocket-Key: {key}\r\n"
                   "Sec-WebSocket-Version: 13\r\n"
                   "\r\n")
        self.sock.sendall(request.encode("ascii"))
        while b"\r\n\r\n" not in self.buffer:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise AssertionError("connection closed during the handshake")
            self.buffer += chunk
        head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        if not lines[0].startswith("HTTP/1.1 101"):
            raise AssertionError(f"handshake refused: {lines[0]}")
        headers = {k.strip().lower(): v.strip()
                   for k, v in (line.split(":", 1) for line in lines[1:] if ":" in line)}
        expected = base64.b64encode(hashlib.sha1((key + self.GUID).encode("ascii")).digest()).decode("ascii")
        if headers.get("sec-websocket-accept") != expected:
            raise AssertionError(f"bad Sec-WebSocket-Accept: {headers.get('sec-websocket-accept')!r}")

    def send_text(self, text):
        """One masked text frame, as RFC 6455 requires of clients."""
        payload = text.encode("utf-8")
        header = bytes([0x81])
        if len(payload) < 126:
            header += bytes([0x80 | len(payload)])
        elif len(payload) < 65536:
            header += bytes([0x80 | 126]) + struct.pack("!H", len(payload))
        else:
            header += bytes([0x80 | 127]) + struct.pack("!Q", len(payload))
        mask = os.urandom(4)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(header + mask + masked)

    def send_json(self, obj):
        self.send_text(json.dumps(obj))

    def _fill(self, n, deadline):
        while len(self.buffer) < n:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("no complete frame in time")
            self.sock.settimeout(remaining)
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("connection closed by the server")
            self.buffer += chunk

    def recv_frame(self, timeout=10):
        """Returns (opcode, payload bytes) of the next server frame."""
        deadline = time.monotonic() + timeout
        self._fill(2, deadline)
        first, second = self.buffer[0], self.buffer[1]
        opcode = first & 0x0F
        length = second & 0x7F
        offset = 2
        if length == 126:
            self._fill(4, deadline)
            length = struct.unpack("!H", self.buffer[2:4])[0]
            offset = 4
        elif length == 127:
            self._fill(10, deadline)
            length = struct.unpack("!Q", self.buffer[2:10])[0]
            offset = 10
        if second & 0x80:
            raise AssertionError("the server masked a frame")
        if not first & 0x80:
            raise AssertionError("fragmented frames are not expected from sonded")
        self._fill(offset + length, deadline)
        payload = self.buffer[offset:offset + length]
        self.buffer = self.buffer[offset + length:]
        return opcode, payload

    def recv_json(self, timeout=10):
        """The next text frame, parsed; raises on a close frame."""
        while True:
            opcode, payload = self.recv_frame(timeout)
            if opcode == 0x1:
                return json.loads(payload.decode("utf-8"))
            if opcode == 0x8:
                code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else None
                raise ConnectionError(f"closed by the server with code {code}: {payload[2:]!r}")
            # Pings and pongs carry nothing for the tests.

    def close(self):
        self.sock.close()


def parse_timestamp(text):
    """'2026-11-22T10:30:00.123Z' -> seconds since the epoch."""
    match = re.match(r"^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)\.(\d{3})Z$", text)
    if not match:
        raise AssertionError(f"not an ISO 8601 UTC timestamp with ms: {text!r}")
    y, mo, d, h, mi, s, ms = (int(g) for g in match.groups())
    return calendar.timegm((y, mo, d, h, mi, s, 0, 0, 0)) + ms / 1000.0
