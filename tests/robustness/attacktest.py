# SPDX-License-Identifier: LGPL-2.1-or-later
"""What the robustness tests share: a daemon to attack, raw WebSocket
frames of any shape, and measures of the daemon's memory, CPU and
responsiveness while the attack runs."""

import base64
import hashlib
import json
import os
import socket
import struct
import sys
import threading
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from sondedtest import Daemon, RawWebSocket  # noqa: E402,F401

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def rss_bytes(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def status_latency(port, timeout=10):
    """Seconds GET /status took."""
    start = time.monotonic()
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/status", timeout=timeout) as response:
        response.read()
    return time.monotonic() - start


def handshake(port, path="/ws/v1", headers=(), timeout=10, tls=None):
    """A connected socket after a WebSocket handshake, and the response's
    headers (lower-cased names); over TLS with @tls, an SSLContext."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    # As browsers do: else the request after the TLS handshake waits for
    # the server's delayed ACK of the client's Finished.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    if tls is not None:
        sock = tls.wrap_socket(sock, server_hostname="127.0.0.1")
    key = base64.b64encode(os.urandom(16)).decode("ascii")
    request = (f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
               f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n")
    for header in headers:
        request += header + "\r\n"
    sock.sendall((request + "\r\n").encode("ascii"))
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            raise AssertionError("connection closed during the handshake")
        data += chunk
    head, rest = data.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    if not lines[0].startswith("HTTP/1.1 101"):
        raise AssertionError(f"handshake refused: {lines[0]}")
    response_headers = {k.strip().lower(): v.strip()
                        for k, v in (line.split(":", 1) for line in lines[1:] if ":" in line)}
    expected = base64.b64encode(hashlib.sha1((key + GUID).encode("ascii")).digest()).decode("ascii")
    assert response_headers.get("sec-websocket-accept") == expected
    return sock, response_headers, rest


def frame(opcode, payload, fin=True, rsv1=False):
    """One masked client frame."""
    first = (0x80 if fin else 0) | (0x40 if rsv1 else 0) | opcode
    length = len(payload)
    if length < 126:
        header = bytes([first, 0x80 | length])
    elif length < 65536:
        header = bytes([first, 0x80 | 126]) + struct.pack("!H", length)
    else:
        header = bytes([first, 0x80 | 127]) + struct.pack("!Q", length)
    mask = os.urandom(4)
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload)) if length < 4096 else \
        _mask_fast(payload, mask)
    return header + mask + masked


def _mask_fast(payload, mask):
    repeated = (mask * (len(payload) // 4 + 1))[:len(payload)]
    return (int.from_bytes(payload, "big") ^ int.from_bytes(repeated, "big")).to_bytes(len(payload), "big")


def read_frames_until_close(sock, timeout=10):
    """Reads server frames until a close frame; returns its code, or None
    if the connection ended (EOF or reset) without one."""
    deadline = time.monotonic() + timeout
    buffer = b""
    while time.monotonic() < deadline:
        sock.settimeout(max(deadline - time.monotonic(), 0.01))
        try:
            chunk = sock.recv(65536)
        except (ConnectionResetError, socket.timeout):
            return None
        if not chunk:
            return None
        buffer += chunk
        while len(buffer) >= 2:
            opcode = buffer[0] & 0x0F
            length = buffer[1] & 0x7F
            offset = 2
            if length == 126:
                if len(buffer) < 4:
                    break
                length = struct.unpack("!H", buffer[2:4])[0]
                offset = 4
            elif length == 127:
                if len(buffer) < 10:
                    break
                length = struct.unpack("!Q", buffer[2:10])[0]
                offset = 10
            if len(buffer) < offset + length:
                break
            payload = buffer[offset:offset + length]
            buffer = buffer[offset + length:]
            if opcode == 0x8:
                return struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else 1005
    return None


class SnapshotCounter:
    """A well-behaved client on the side, in a thread: counts its snapshots
    and the longest wait between two."""

    def __init__(self, port):
        self.ws = RawWebSocket(port, "/ws/v1?metrics=cpu.usage_percent")
        self.count = 0
        self.longest_gap = 0.0
        self.running = True
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        last = time.monotonic()
        while self.running:
            try:
                frame = self.ws.recv_json(timeout=1)
            except TimeoutError:
                continue
            except OSError:
                return
            if frame.get("type") == "snapshot":
                now = time.monotonic()
                if self.count > 0:
                    self.longest_gap = max(self.longest_gap, now - last)
                last = now
                self.count += 1

    def close(self):
        self.running = False
        self.thread.join(timeout=5)
        self.ws.close()


def json_frame(obj):
    return frame(0x1, json.dumps(obj).encode("utf-8"))
