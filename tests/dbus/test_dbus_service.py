# SPDX-License-Identifier: LGPL-2.1-or-later
"""sonded as org.sonde.Sonde1 on a private session bus: activation by a
method call, properties, methods, D-Bus errors, collector switching with
notifications, idle exit and re-activation, the CLI finding the daemon
through D-Bus, and sonded by hand owning the name."""

import json
import os
import re
import subprocess
import sys
import time
import unittest

from sondetest import (BUS_NAME, INTERFACE, OBJECT_PATH, COLLECTORS, VERSION, PrivateBus, Sonded,
                       WebSocketClient, call, get_all, get_property, pid_alive, run_cli, spin,
                       wait_until)
from gi.repository import Gio, GLib

# tests/services/sonde-test.conf
IDLE_TIMEOUT = 2
HISTORY_SECONDS = 120
TIMESTAMP_RE = re.compile(r'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$')


def error_name(error):
    return Gio.DBusError.get_remote_error(error)


class DBusServiceTest(unittest.TestCase):
    def setUp(self):
        self.bus = PrivateBus()

    def tearDown(self):
        self.bus.stop()

    def activate(self):
        """Starts the daemon with a method call from a connection that then
        leaves; returns the daemon's pid."""
        caller = self.bus.connect()
        call(caller, 'ListMetrics', None, '(a(ssss))')
        caller.close_sync(None)
        return self.bus.owner_pid()

    def test_method_call_activates(self):
        self.assertFalse(self.bus.has_owner())
        metrics, = call(self.bus.bus, 'ListMetrics', None, '(a(ssss))')
        self.assertTrue(self.bus.has_owner())
        by_name = {m[0]: m for m in metrics}
        self.assertEqual(by_name['cpu.usage_percent'][1:3], ('percent', 'gauge'))
        self.assertEqual(by_name['memory.total_bytes'][1], 'bytes')
        self.assertTrue(by_name['cpu.usage_percent'][3])
        self.assertEqual({name.split('.')[0] for name in by_name}, set(COLLECTORS))

    def test_properties(self):
        props = get_all(self.bus.bus)
        self.assertEqual(props['Version'], VERSION)
        match = re.match(r'^ws://127\.0\.0\.1:(\d+)/ws/v1$', props['Uri'])
        self.assertIsNotNone(match, props['Uri'])
        self.assertEqual(int(match.group(1)), props['Port'])
        self.assertNotEqual(props['Port'], 0)
        self.assertNotEqual(props['Port'], 54112)   # port=0 in the test config
        self.assertEqual(props['Collectors'], COLLECTORS)
        # [history] seconds of the test config reached the engine.
        self.assertEqual(props['HistorySeconds'], HISTORY_SECONDS)
        # The test's own connection is not a caller of a method yet.
        self.assertEqual(props['ClientCount'], 0)
        # The Uri is real: the daemon answers there.
        client = WebSocketClient('127.0.0.1', props['Port'])
        self.assertIn('101', client.status_line)
        client.close()

    def test_get_snapshot(self):
        text, = call(self.bus.bus, 'GetSnapshot',
                     GLib.Variant('(as)', (['cpu.*', 'memory.usage_percent', 'host.hostname'],)), '(s)')
        snapshot = json.loads(text)
        self.assertEqual(set(snapshot), {'timestamp', 'data'})
        self.assertRegex(snapshot['timestamp'], TIMESTAMP_RE)
        data = snapshot['data']
        self.assertEqual(set(data), {'cpu', 'memory', 'host'})
        self.assertIn('usage_percent', data['cpu'])
        self.assertIn('cores', data['cpu'])
        self.assertEqual(data['cpu']['cores'], os.cpu_count())
        self.assertTrue(0 <= data['cpu']['usage_percent'] <= 100)
        self.assertEqual(list(data['memory']), ['usage_percent'])
        self.assertEqual(data['host'], {'hostname': os.uname().nodename})

        # No pattern: every collector.
        text, = call(self.bus.bus, 'GetSnapshot', GLib.Variant('(as)', ([],)), '(s)')
        self.assertEqual(set(json.loads(text)['data']), set(COLLECTORS))

        # Globs inside a name.
        text, = call(self.bus.bus, 'GetSnapshot', GLib.Variant('(as)', (['*.usage_percent'],)), '(s)')
        data = json.loads(text)['data']
        self.assertEqual(set(data), {'cpu', 'memory', 'disk'})
        for fields in data.values():
            self.assertEqual(list(fields), ['usage_percent'])

    def test_errors(self):
        cases = [
            ('EnableCollector', GLib.Variant('(s)', ('nosuch',)), 'org.sonde.Sonde1.Error.UnknownCollector'),
            ('DisableCollector', GLib.Variant('(s)', ('nosuch',)), 'org.sonde.Sonde1.Error.UnknownCollector'),
            ('DisableCollector', GLib.Variant('(s)', ('',)), 'org.sonde.Sonde1.Error.UnknownCollector'),
            ('GetSnapshot', GLib.Variant('(as)', (['nosuch.metric'],)), 'org.sonde.Sonde1.Error.UnknownMetric'),
            ('GetSnapshot', GLib.Variant('(as)', (['cpu.nosuch'],)), 'org.sonde.Sonde1.Error.UnknownMetric'),
            ('GetSnapshot', GLib.Variant('(as)', (['bad pattern!'],)), 'org.sonde.Sonde1.Error.InvalidPattern'),
            ('GetSnapshot', GLib.Variant('(as)', (['x' * 200],)), 'org.sonde.Sonde1.Error.InvalidPattern'),
            ('GetSnapshot', GLib.Variant('(as)', (['cpu'] * 300,)), 'org.sonde.Sonde1.Error.InvalidPattern'),
            # Wrong signatures are refused by GDBus itself.
            ('GetSnapshot', GLib.Variant('(s)', ('cpu',)), 'org.freedesktop.DBus.Error.InvalidArgs'),
            ('EnableCollector', None, 'org.freedesktop.DBus.Error.InvalidArgs'),
            ('NoSuchMethod', None, 'org.freedesktop.DBus.Error.UnknownMethod'),
        ]
        for method, args, expected in cases:
            with self.subTest(method=method, args=args):
                with self.assertRaises(GLib.Error) as caught:
                    call(self.bus.bus, method, args)
                self.assertEqual(error_name(caught.exception), expected, caught.exception.message)
        # The message says what is wrong.
        with self.assertRaises(GLib.Error) as caught:
            call(self.bus.bus, 'EnableCollector', GLib.Variant('(s)', ('nosuch',)))
        self.assertIn("No collector named 'nosuch'", caught.exception.message)
        # Still serving, same daemon.
        pid = self.bus.owner_pid()
        text, = call(self.bus.bus, 'GetSnapshot', GLib.Variant('(as)', (['cpu.cores'],)), '(s)')
        self.assertIn('cores', json.loads(text)['data']['cpu'])
        self.assertEqual(self.bus.owner_pid(), pid)

    def test_enable_disable(self):
        changes = []

        def on_signal(connection, sender, path, interface, signal, params):
            iface, changed, invalidated = params.unpack()
            if iface == INTERFACE and 'Collectors' in changed:
                changes.append(changed['Collectors'])

        watcher = self.bus.connect()
        watcher.signal_subscribe(None, 'org.freedesktop.DBus.Properties', 'PropertiesChanged',
                                 OBJECT_PATH, None, Gio.DBusSignalFlags.NONE, on_signal)
        self.assertEqual(get_property(watcher, 'Collectors'), COLLECTORS)

        call(self.bus.bus, 'DisableCollector', GLib.Variant('(s)', ('host',)))
        self.assertTrue(spin(10, lambda: changes), 'no PropertiesChanged for Collectors')
        self.assertEqual(changes[-1], [name for name in COLLECTORS if name != 'host'])
        self.assertEqual(get_property(self.bus.bus, 'Collectors'), [name for name in COLLECTORS if name != 'host'])
        # Disabled means not served: not in snapshots, catalog or patterns.
        with self.assertRaises(GLib.Error) as caught:
            call(self.bus.bus, 'GetSnapshot', GLib.Variant('(as)', (['host.hostname'],)))
        self.assertEqual(error_name(caught.exception), 'org.sonde.Sonde1.Error.UnknownMetric')
        text, = call(self.bus.bus, 'GetSnapshot', GLib.Variant('(as)', ([],)), '(s)')
        self.assertNotIn('host', json.loads(text)['data'])
        metrics, = call(self.bus.bus, 'ListMetrics', None, '(a(ssss))')
        self.assertFalse([m for m in metrics if m[0].startswith('host.')])
        # Twice is fine.
        call(self.bus.bus, 'DisableCollector', GLib.Variant('(s)', ('host',)))

        del changes[:]
        call(self.bus.bus, 'EnableCollector', GLib.Variant('(s)', ('host',)))
        self.assertTrue(spin(10, lambda: changes), 'no PropertiesChanged for Collectors')
        self.assertEqual(sorted(changes[-1]), sorted(COLLECTORS))
        text, = call(self.bus.bus, 'GetSnapshot', GLib.Variant('(as)', (['host.hostname'],)), '(s)')
        self.assertEqual(json.loads(text)['data']['host']['hostname'], os.uname().nodename)
        # Enabling a served collector does nothing.
        call(self.bus.bus, 'EnableCollector', GLib.Variant('(s)', ('cpu',)))
        self.assertEqual(sorted(get_property(self.bus.bus, 'Collectors')), sorted(COLLECTORS))

    def test_client_count(self):
        counts = []

        def on_signal(connection, sender, path, interface, signal, params):
            iface, changed, invalidated = params.unpack()
            if iface == INTERFACE and 'ClientCount' in changed:
                counts.append(changed['ClientCount'])

        self.bus.bus.signal_subscribe(None, 'org.freedesktop.DBus.Properties', 'PropertiesChanged',
                                      OBJECT_PATH, None, Gio.DBusSignalFlags.NONE, on_signal)
        port = get_property(self.bus.bus, 'Port')
        self.assertEqual(get_property(self.bus.bus, 'ClientCount'), 0)

        caller = self.bus.connect()
        call(caller, 'ListMetrics', None, '(a(ssss))')
        self.assertTrue(spin(10, lambda: get_property(self.bus.bus, 'ClientCount') == 1))

        client = WebSocketClient('127.0.0.1', port)
        self.assertIn('101', client.status_line)
        self.assertTrue(spin(10, lambda: get_property(self.bus.bus, 'ClientCount') == 2))
        client.close()
        self.assertTrue(spin(10, lambda: get_property(self.bus.bus, 'ClientCount') == 1))

        caller.close_sync(None)
        self.assertTrue(spin(10, lambda: get_property(self.bus.bus, 'ClientCount') == 0))
        # Each change was announced.
        self.assertTrue(spin(5, lambda: counts and counts[-1] == 0), counts)
        self.assertIn(2, counts)

    def test_idle_exit_and_reactivation(self):
        pid = self.activate()
        self.assertTrue(pid)
        port = get_property(self.bus.bus, 'Port')
        # The caller left: the name goes within the idle timeout (plus slack).
        start = time.monotonic()
        self.assertTrue(wait_until(lambda: not self.bus.has_owner(), IDLE_TIMEOUT + 8),
                        'sonded did not leave on idle')
        elapsed = time.monotonic() - start
        self.assertGreater(elapsed, IDLE_TIMEOUT * 0.5)
        self.assertTrue(wait_until(lambda: not pid_alive(pid), 5), 'sonded is still running')

        # The next call starts a new daemon, transparently.
        text, = call(self.bus.bus, 'GetSnapshot', GLib.Variant('(as)', (['cpu.usage_percent'],)), '(s)')
        self.assertIn('usage_percent', json.loads(text)['data']['cpu'])
        new_pid = self.bus.owner_pid()
        self.assertTrue(new_pid)
        self.assertNotEqual(new_pid, pid)
        del port

    def test_clients_keep_it_alive(self):
        pid = self.activate()
        port = get_property(self.bus.bus, 'Port')

        # A WebSocket client keeps the daemon, however long it stays.
        client = WebSocketClient('127.0.0.1', port)
        self.assertIn('101', client.status_line)
        time.sleep(IDLE_TIMEOUT + 2)
        self.assertTrue(self.bus.has_owner())
        client.close()
        self.assertTrue(wait_until(lambda: not self.bus.has_owner(), IDLE_TIMEOUT + 8))
        self.assertTrue(wait_until(lambda: not pid_alive(pid), 5))

        # So does a D-Bus caller that stays on the bus.
        caller = self.bus.connect()
        call(caller, 'ListMetrics', None, '(a(ssss))')
        pid = self.bus.owner_pid()
        time.sleep(IDLE_TIMEOUT + 2)
        self.assertTrue(self.bus.has_owner())
        self.assertEqual(self.bus.owner_pid(), pid)
        caller.close_sync(None)
        self.assertTrue(wait_until(lambda: not self.bus.has_owner(), IDLE_TIMEOUT + 8))

    def test_idle_timeout_config_and_option(self):
        # As a service started by hand on the bus: [server] idle-timeout of
        # the file applies, and --idle-timeout overrides it. Without
        # either it would stay 60 s (GApplication alone: 10 s).
        with open(os.path.join(self.bus.tmp, 'short.conf'), 'w') as f:
            f.write('[server]\nport=0\nidle-timeout=1\n')
        with open(os.path.join(self.bus.tmp, 'long.conf'), 'w') as f:
            f.write('[server]\nport=0\nidle-timeout=600\n')
        for args in (['--config', os.path.join(self.bus.tmp, 'short.conf')],
                     ['--config', os.path.join(self.bus.tmp, 'long.conf'), '--idle-timeout', '1']):
            with self.subTest(args=args):
                start = time.monotonic()
                daemon = Sonded('--gapplication-service', *args, env=self.bus.env())
                self.assertTrue(wait_until(self.bus.has_owner, 10))
                daemon.process.wait(8)
                self.assertEqual(daemon.stop(), 0)
                self.assertLess(time.monotonic() - start, 8)
                self.assertFalse(self.bus.has_owner())

        # idle-timeout=0: never leaves on idle.
        daemon = Sonded('--gapplication-service', '--config', os.path.join(self.bus.tmp, 'long.conf'),
                        '--idle-timeout', '0', env=self.bus.env())
        time.sleep(3)
        self.assertTrue(daemon.alive())
        self.assertEqual(daemon.stop(), 0)

    def test_gdbus_call_activates(self):
        # The example, with the gdbus tool.
        result = subprocess.run(
            ['gdbus', 'call', '--session', '--dest', BUS_NAME, '--object-path', OBJECT_PATH,
             '--method', 'org.sonde.Sonde1.GetSnapshot', "['cpu.*']"],
            capture_output=True, text=True, env=self.bus.env(), timeout=60)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn('usage_percent', result.stdout)

    def test_cli_through_dbus(self):
        # No --url: the CLI reads Uri over D-Bus, which starts the daemon.
        self.assertFalse(self.bus.has_owner())
        result = run_cli('snapshot', 'cpu.usage_percent', env=self.bus.env())
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn('usage_percent', json.loads(result.stdout)['data']['cpu'])
        self.assertTrue(self.bus.has_owner())

        result = run_cli('status', env=self.bus.env())
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn(get_property(self.bus.bus, 'Uri'), result.stdout)

        result = run_cli('watch', '--json', '--count', '2', '--interval', '200', 'cpu.usage_percent',
                         env=self.bus.env())
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(len(result.stdout.splitlines()), 2)

    def test_standalone_owns_name(self):
        # By hand, sonded owns the name if it is free...
        first = Sonded('--port', '0', env=self.bus.env())
        try:
            self.assertTrue(wait_until(self.bus.has_owner, 10))
            self.assertEqual(self.bus.owner_pid(), first.process.pid)
            self.assertEqual(get_property(self.bus.bus, 'Port'), first.port)
            # ...never leaves on idle...
            time.sleep(IDLE_TIMEOUT + 1)
            self.assertTrue(first.alive())
            # ...and a second one by hand still serves its own port.
            second = Sonded('--port', '0', env=self.bus.env())
            try:
                self.assertNotEqual(second.port, first.port)
                time.sleep(1)
                self.assertTrue(second.alive())
                self.assertEqual(self.bus.owner_pid(), first.process.pid)
            finally:
                self.assertEqual(second.stop(), 0)
        finally:
            self.assertEqual(first.stop(), 0)
        self.assertTrue(wait_until(lambda: not self.bus.has_owner(), 10))


class AlertTest(unittest.TestCase):
    """A collector that fails raises Alert('collector_error', why)."""

    def setUp(self):
        self.bus = PrivateBus(os.environ['SONDE_TEST_ALERT_SERVICE_DIR'])

    def tearDown(self):
        self.bus.stop()

    def test_alert_on_collector_error(self):
        alerts = []

        def on_alert(connection, sender, path, interface, signal, params):
            alerts.append(params.unpack())

        self.bus.bus.signal_subscribe(None, INTERFACE, 'Alert', OBJECT_PATH, None,
                                      Gio.DBusSignalFlags.NONE, on_alert)
        self.assertIn('failing', get_property(self.bus.bus, 'Collectors'))
        # The snapshot is still answered, without the failed collector.
        text, = call(self.bus.bus, 'GetSnapshot', GLib.Variant('(as)', (['failing', 'cpu.cores'],)), '(s)')
        self.assertEqual(set(json.loads(text)['data']), {'cpu'})
        self.assertTrue(spin(10, lambda: alerts), 'no Alert signal')
        kind, message = alerts[0]
        self.assertEqual(kind, 'collector_error')
        self.assertIn('simulated failure', message)


if __name__ == '__main__':
    unittest.main(verbosity=2)
