# SPDX-License-Identifier: LGPL-2.1-or-later
"""Helpers of the D-Bus, CLI, config and i18n tests: a private session bus
whose service directory activates the build tree's sonded, sonded started
by hand, and the sonde CLI. Every wait is bounded."""

import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import gi
gi.require_version('Gio', '2.0')
gi.require_version('GLib', '2.0')
from gi.repository import Gio, GLib  # noqa: E402

BUS_NAME = 'org.sonde.Sonde1'
OBJECT_PATH = '/org/sonde/Sonde1'
INTERFACE = 'org.sonde.Sonde1'
# Every collector the build's plugins provide, in the engine's order.
COLLECTORS = ['cpu', 'memory', 'disk', 'network', 'processes', 'gateway', 'host', 'logs']

SONDED = os.environ.get('SONDED', '')
SONDE = os.environ.get('SONDE_CLI', '')
SERVICE_DIR = os.environ.get('SONDE_TEST_SERVICE_DIR', '')
VERSION = os.environ.get('SONDE_VERSION', '')
URL_RE = re.compile(r'^listening on (wss?)://([0-9.:\[\]a-f]+):(\d+)/ws/v1$')


def wait_until(predicate, timeout, interval=0.05):
    """Polls predicate until it returns a true value or timeout seconds pass."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            return value
        time.sleep(interval)


def no_bus_env(**extra):
    """The environment of a process that must not find any session bus."""
    env = dict(os.environ)
    env['DBUS_SESSION_BUS_ADDRESS'] = 'unix:path=/nonexistent/sonde-test-bus'
    env.pop('DISPLAY', None)
    env.update(extra)
    return env


class PrivateBus:
    """A dbus-daemon of our own, listening on a socket in a temporary
    directory, activating services from service_dir."""

    def __init__(self, service_dir=SERVICE_DIR):
        self.tmp = tempfile.mkdtemp(prefix='sonde-bus-')
        self.socket_path = os.path.join(self.tmp, 'bus')
        self.address = 'unix:path=' + self.socket_path
        config = os.path.join(self.tmp, 'session.conf')
        with open(config, 'w') as f:
            f.write(f'''<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>{self.address}</listen>
  <servicedir>{service_dir}</servicedir>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
''')
        self.log_path = os.path.join(self.tmp, 'dbus-daemon.log')
        env = dict(os.environ)
        # Activated services inherit it, whatever the dbus-daemon version.
        env['DBUS_SESSION_BUS_ADDRESS'] = self.address
        env.pop('DBUS_STARTER_ADDRESS', None)
        self.log = open(self.log_path, 'w')
        self.process = subprocess.Popen(
            ['dbus-daemon', '--config-file=' + config, '--nofork'],
            stdin=subprocess.DEVNULL, stdout=self.log, stderr=subprocess.STDOUT, env=env)
        if not wait_until(lambda: os.path.exists(self.socket_path), 10):
            self.stop()
            raise RuntimeError('dbus-daemon did not start')
        self.connections = []
        self.bus = self.connect()

    def connect(self):
        """A new connection of its own: a separate D-Bus caller."""
        connection = Gio.DBusConnection.new_for_address_sync(
            self.address,
            Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT |
            Gio.DBusConnectionFlags.MESSAGE_BUS_CONNECTION,
            None, None)
        connection.set_exit_on_close(False)
        self.connections.append(connection)
        return connection

    def env(self, **extra):
        env = dict(os.environ)
        env['DBUS_SESSION_BUS_ADDRESS'] = self.address
        env.update(extra)
        return env

    def has_owner(self):
        reply = self.bus.call_sync('org.freedesktop.DBus', '/org/freedesktop/DBus',
                                   'org.freedesktop.DBus', 'NameHasOwner',
                                   GLib.Variant('(s)', (BUS_NAME,)), GLib.VariantType('(b)'),
                                   Gio.DBusCallFlags.NONE, 5000, None)
        return reply.unpack()[0]

    def owner_pid(self):
        """The pid of the daemon owning the name, or None."""
        try:
            reply = self.bus.call_sync('org.freedesktop.DBus', '/org/freedesktop/DBus',
                                       'org.freedesktop.DBus', 'GetConnectionUnixProcessID',
                                       GLib.Variant('(s)', (BUS_NAME,)), GLib.VariantType('(u)'),
                                       Gio.DBusCallFlags.NONE, 5000, None)
        except GLib.Error:
            return None
        return reply.unpack()[0]

    def stop(self):
        pid = self.owner_pid() if getattr(self, 'bus', None) else None
        for connection in getattr(self, 'connections', []):
            if not connection.is_closed():
                connection.close_sync(None)
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        # An activated sonded leaves when its bus goes; make sure.
        if pid:
            wait_until(lambda: not pid_alive(pid), 5)
            if pid_alive(pid):
                os.kill(pid, signal.SIGKILL)
        self.log.close()
        shutil.rmtree(self.tmp, ignore_errors=True)


def pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie of ours counts as gone.
    try:
        with open(f'/proc/{pid}/stat') as f:
            return f.read().split(')')[-1].split()[0] != 'Z'
    except OSError:
        return False


def call(connection, method, args=None, reply_type=None, timeout_ms=30000):
    """Calls a method of org.sonde.Sonde1 and returns its unpacked reply."""
    reply = connection.call_sync(BUS_NAME, OBJECT_PATH, INTERFACE, method, args,
                                 GLib.VariantType(reply_type) if reply_type else None,
                                 Gio.DBusCallFlags.NONE, timeout_ms, None)
    return reply.unpack() if reply is not None else None


def get_property(connection, name):
    reply = connection.call_sync(BUS_NAME, OBJECT_PATH, 'org.freedesktop.DBus.Properties', 'Get',
                                 GLib.Variant('(ss)', (INTERFACE, name)), GLib.VariantType('(v)'),
                                 Gio.DBusCallFlags.NONE, 30000, None)
    return reply.unpack()[0]


def get_all(connection):
    reply = connection.call_sync(BUS_NAME, OBJECT_PATH, 'org.freedesktop.DBus.Properties', 'GetAll',
                                 GLib.Variant('(s)', (INTERFACE,)), GLib.VariantType('(a{sv})'),
                                 Gio.DBusCallFlags.NONE, 30000, None)
    return reply.unpack()[0]


def spin(timeout, predicate=lambda: False):
    """Runs the default main context until predicate holds or timeout."""
    context = GLib.MainContext.default()
    deadline = time.monotonic() + timeout
    while not predicate() and time.monotonic() < deadline:
        context.iteration(False)
        time.sleep(0.01)
    return predicate()


class Sonded:
    """sonded started by hand; reads its "listening on" line."""

    def __init__(self, *args, env=None, expect_listening=True):
        self.process = subprocess.Popen([SONDED, *args], stdin=subprocess.DEVNULL,
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                        env=env if env is not None else no_bus_env(), text=True)
        self.url = None
        if expect_listening:
            line = self._readline(30)
            match = URL_RE.match(line.strip())
            if not match:
                self.stop()
                raise AssertionError(f'sonded said {line!r}, stderr: {self.stderr_text}')
            self.line = line.strip()
            self.url = line.strip()[len('listening on '):]
            self.scheme, self.host, self.port = match.group(1), match.group(2), int(match.group(3))
            self.http = ('https' if self.scheme == 'wss' else 'http') + f'://{self.host}:{self.port}'
        self.stderr_text = ''

    def _readline(self, timeout):
        import selectors
        selector = selectors.DefaultSelector()
        selector.register(self.process.stdout, selectors.EVENT_READ)
        if not selector.select(timeout):
            return ''
        return self.process.stdout.readline()

    def alive(self):
        return self.process.poll() is None

    def stop(self, sig=signal.SIGTERM, timeout=15):
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        out, err = self.process.communicate(timeout=10)
        self.stderr_text = err
        return self.process.returncode


def run_sonded(*args, env=None, timeout=30):
    """Runs sonded expecting it to exit by itself (a refused config)."""
    return subprocess.run([SONDED, *args], stdin=subprocess.DEVNULL, capture_output=True,
                          text=True, env=env if env is not None else no_bus_env(), timeout=timeout)


def run_cli(*args, env=None, timeout=60):
    return subprocess.run([SONDE, *args], stdin=subprocess.DEVNULL, capture_output=True,
                          text=True, env=env if env is not None else no_bus_env(), timeout=timeout)


def closed_port():
    """A loopback port that nothing listens on (just released)."""
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


class WebSocketClient:
    """A bare WebSocket handshake on /ws/v1, held open: enough to count as
    a client without a WebSocket library."""

    def __init__(self, host, port, path='/ws/v1'):
        self.sock = socket.create_connection((host, port), timeout=10)
        request = (f'GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n'
                   'Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n'
                   'Sec-WebSocket-Version: 13\r\n\r\n')
        self.sock.sendall(request.encode())
        response = b''
        while b'\r\n\r\n' not in response:
            chunk = self.sock.recv(4096)
            if not chunk:
                break
            response += chunk
        head, _, self.buffer = response.partition(b'\r\n\r\n')
        self.status_line = head.split(b'\r\n', 1)[0].decode()

    def _recv_exact(self, n):
        while len(self.buffer) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError('connection closed')
            self.buffer += chunk
        data, self.buffer = self.buffer[:n], self.buffer[n:]
        return data

    def recv_text(self):
        """The next text frame from the server (unmasked, unfragmented)."""
        while True:
            first, second = self._recv_exact(2)
            length = second & 0x7f
            if length == 126:
                length = int.from_bytes(self._recv_exact(2), 'big')
            elif length == 127:
                length = int.from_bytes(self._recv_exact(8), 'big')
            payload = self._recv_exact(length)
            if first & 0x0f == 0x1:
                return payload.decode()

    def close(self):
        self.sock.close()
