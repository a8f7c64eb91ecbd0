# SPDX-License-Identifier: LGPL-2.1-or-later
"""sonded's alert rules from outside: a rule of the configuration that
always holds reaches a native client subscribed to `alert` events once per
cooldown, the built-in CPU rule speaks the servercontrol seed's text and
can be amended or switched off, bad rules are refused at start with the
file, group and key, and alerts reach D-Bus: the Alert signal and, with
[alerts] notify=true, a notification server (a fake one of the test's)."""

import calendar
import json
import os
import re
import shutil
import socket
import tempfile
import textwrap
import time
import unittest

from sondetest import PrivateBus, Sonded, WebSocketClient, run_sonded, spin
from gi.repository import Gio, GLib

# A rule that always holds: a CPU usage is never below 0.
ALWAYS = '''
[server]
port=0

[alert low]
metric=cpu.usage_percent
above=-1
cooldown-seconds=2
'''

TIMESTAMP = re.compile(r'^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)\.(\d{3})Z$')


def epoch_ms(text):
    match = TIMESTAMP.match(text)
    assert match, text
    y, mo, d, h, mi, s, ms = (int(g) for g in match.groups())
    return calendar.timegm((y, mo, d, h, mi, s, 0, 0, 0)) * 1000 + ms


def collect_frames(daemon, path, seconds):
    """The frames a native client at path receives in the given time."""
    client = WebSocketClient('127.0.0.1', daemon.port, path)
    assert '101' in client.status_line, client.status_line
    frames = []
    deadline = time.monotonic() + seconds
    try:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            client.sock.settimeout(remaining)
            try:
                frames.append(json.loads(client.recv_text()))
            except TimeoutError:
                break
    finally:
        client.close()
    return frames


def collect_alerts(daemon, seconds):
    """The alert events a native client subscribed to `alert` receives in
    the given time, as (epoch ms, data, frame), in order."""
    frames = collect_frames(daemon, '/ws/v1?metrics=cpu.usage_percent&events=alert&interval_ms=60000',
                            seconds)
    alerts = []
    for frame in frames:
        if frame['type'] == 'event':
            assert frame['event'] == 'alert', frame
            alerts.append((epoch_ms(frame['timestamp']), frame['data'], frame))
    return alerts


class ConfigDir(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix='sonde-alerts-')

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def write(self, text):
        path = os.path.join(self.tmp, 'sonde.conf')
        with open(path, 'w') as f:
            f.write(textwrap.dedent(text))
        return path

    def start(self, text, env=None):
        daemon = Sonded('--config', self.write(text), env=env)
        self.addCleanup(daemon.stop)
        return daemon


class NativeAlertTest(ConfigDir):
    def test_once_per_cooldown(self):
        daemon = self.start(ALWAYS)
        alerts = collect_alerts(daemon, 7.5)
        low = [(ms, data) for ms, data, _ in alerts if data['rule'] == 'low']
        # About 7.5 s at one per 2 s: 3 or 4, never more.
        self.assertGreaterEqual(len(low), 3, alerts)
        self.assertLessEqual(len(low), 4, alerts)
        for (before, _), (after, _) in zip(low, low[1:]):
            # Tick times: exactly 2 s apart, a late tick at most one more.
            self.assertGreaterEqual(after - before, 2000)
            self.assertLessEqual(after - before, 3000)

        ms, data = low[0]
        self.assertEqual(set(data), {'rule', 'metric', 'value', 'threshold', 'comparison',
                                     'hostname', 'message'})
        self.assertEqual(data['metric'], 'cpu.usage_percent')
        self.assertEqual(data['comparison'], 'above')
        self.assertEqual(data['threshold'], -1)
        self.assertTrue(0 <= data['value'] <= 100, data)
        self.assertEqual(data['hostname'], socket.gethostname())
        self.assertRegex(data['message'], r'^cpu\.usage_percent above -1 \(\d+(\.\d)?\)$')
        frame = alerts[0][2]
        self.assertEqual(frame['source'], 'cpu')

        # A client that did not ask for alerts gets none.
        frames = collect_frames(daemon, '/ws/v1?metrics=cpu.usage_percent&interval_ms=1000', 2.5)
        types = [frame['type'] for frame in frames]
        self.assertIn('snapshot', types)
        self.assertNotIn('event', types)

    def test_builtin_rule(self):
        # [alert cpu] amends the built-in rule: the seed's text, with the
        # threshold of the file.
        daemon = self.start('''
            [server]
            port=0

            [alert cpu]
            above=-1
            ''')
        alerts = collect_alerts(daemon, 3)
        self.assertGreaterEqual(len(alerts), 1, alerts)
        ms, data, frame = alerts[0]
        self.assertEqual(data['rule'], 'cpu')
        self.assertEqual(data['message'], 'CPU usage exceeded -1%!')
        self.assertEqual(data['metric'], 'cpu.usage_percent')
        # Its cooldown is still a minute.
        self.assertEqual(len(alerts), 1, alerts)

    def test_builtin_rule_switched_off(self):
        daemon = self.start(ALWAYS + '''
            [alert cpu]
            above=-1
            enabled=false
            ''')
        alerts = collect_alerts(daemon, 3.5)
        rules = [data['rule'] for _, data, _ in alerts]
        self.assertIn('low', rules)
        self.assertNotIn('cpu', rules)

    def test_rule_on_disabled_collector_waits(self):
        # A rule on a collector that is not served is accepted; it fires
        # nothing until the collector is enabled.
        daemon = self.start(ALWAYS + '''
            [collectors]
            disabled=cpu
            ''')
        self.assertEqual(collect_alerts(daemon, 2.5), [])

    def test_refused(self):
        cases = [
            ('[alert x]\nmetric=cpu.nope\nabove=1\n',
             '[alert x] metric: No metric named cpu.nope'),
            ('[alert x]\nmetric=cpu.brand\nabove=1\n',
             '[alert x] metric: cpu.brand is not numeric'),
            ('[alert x]\nmetric=disk.partitions\nabove=1\n',
             '[alert x] metric: disk.partitions is a table'),
            ('[alert x]\nmetric=nope\nabove=1\n',
             "[alert x] metric: 'nope' is not a metric name"),
            ('[alert x]\nabove=1\n',
             '[alert x] metric: missing: a rule needs a metric'),
            ('[alert x]\nmetric=cpu.usage_percent\n',
             '[alert x] above: missing: a rule needs above=NUMBER or below=NUMBER'),
            ('[alert x]\nmetric=cpu.usage_percent\nabove=1\nbelow=2\n',
             '[alert x] below: above and below exclude each other'),
            ('[alert x]\nmetric=cpu.usage_percent\nabove=ninety\n',
             '[alert x] above: ninety is not a number'),
            ('[alert x]\nmetric=cpu.usage_percent\nbelow=inf\n',
             '[alert x] below: inf is not a number'),
            ('[alert x]\nmetric=cpu.usage_percent\nabove=1\nfor-seconds=-5\n',
             '[alert x] for-seconds: -5 is not a number of seconds (0-604800)'),
            ('[alert x]\nmetric=cpu.usage_percent\nabove=1\ncooldown-seconds=soon\n',
             '[alert x] cooldown-seconds: soon is not a number of seconds'),
            ('[alert x]\nmetric=cpu.usage_percent\nabove=1\nenabled=perhaps\n',
             '[alert x] enabled: perhaps is not true or false'),
            ('[alert x]\nmetric=cpu.usage_percent\nabove=1\nthreshold=3\n',
             '[alert x] threshold: unknown key'),
            ('[alert cpu]\nmetric=cpu.nope\n',
             '[alert cpu] metric: No metric named cpu.nope'),
            ('[alert cpu]\nabove=1\nbelow=1\n',
             '[alert cpu] below: above and below exclude each other'),
            ('[alerts]\nnotify=sometimes\n',
             '[alerts] notify: sometimes is not true or false'),
            ('[alerts]\nlevel=1\n',
             '[alerts] level: unknown key'),
        ]
        for text, expected in cases:
            with self.subTest(config=text):
                path = self.write(text)
                result = run_sonded('--config', path, '--port', '0')
                self.assertEqual(result.returncode, 1, result.stderr)
                self.assertEqual(result.stdout, '')
                self.assertIn(f'sonded: {path}: {expected}', result.stderr)
                self.assertNotIn('CRITICAL', result.stderr)


NOTIFICATIONS_XML = '''
<node>
  <interface name="org.freedesktop.Notifications">
    <method name="Notify">
      <arg type="s" direction="in"/><arg type="u" direction="in"/><arg type="s" direction="in"/>
      <arg type="s" direction="in"/><arg type="s" direction="in"/><arg type="as" direction="in"/>
      <arg type="a{sv}" direction="in"/><arg type="i" direction="in"/>
      <arg type="u" direction="out"/>
    </method>
    <method name="GetCapabilities"><arg type="as" direction="out"/></method>
    <method name="CloseNotification"><arg type="u" direction="in"/></method>
    <method name="GetServerInformation">
      <arg type="s" direction="out"/><arg type="s" direction="out"/>
      <arg type="s" direction="out"/><arg type="s" direction="out"/>
    </method>
  </interface>
</node>
'''


class FakeNotificationServer:
    """org.freedesktop.Notifications on the private bus, recording Notify."""

    def __init__(self, bus):
        self.connection = bus.connect()
        self.calls = []
        info = Gio.DBusNodeInfo.new_for_xml(NOTIFICATIONS_XML).interfaces[0]
        self.registration = self.connection.register_object(
            '/org/freedesktop/Notifications', info, self.on_call, None, None)
        reply = self.connection.call_sync(
            'org.freedesktop.DBus', '/org/freedesktop/DBus', 'org.freedesktop.DBus', 'RequestName',
            GLib.Variant('(su)', ('org.freedesktop.Notifications', 4)), GLib.VariantType('(u)'),
            Gio.DBusCallFlags.NONE, 5000, None)
        assert reply.unpack()[0] == 1, 'cannot own org.freedesktop.Notifications'

    def on_call(self, connection, sender, path, interface, method, params, invocation):
        if method == 'Notify':
            self.calls.append(params.unpack())
            invocation.return_value(GLib.Variant('(u)', (len(self.calls),)))
        elif method == 'GetCapabilities':
            invocation.return_value(GLib.Variant('(as)', (['body'],)))
        elif method == 'GetServerInformation':
            invocation.return_value(GLib.Variant('(ssss)', ('fake', 'sonde-tests', '1', '1.2')))
        else:
            invocation.return_value(None)


class DBusAlertTest(ConfigDir):
    def setUp(self):
        super().setUp()
        self.bus = PrivateBus()
        self.addCleanup(self.bus.stop)
        self.signals = []
        self.bus.bus.signal_subscribe(None, 'org.sonde.Sonde1', 'Alert', '/org/sonde/Sonde1', None,
                                      Gio.DBusSignalFlags.NONE, self.on_alert)

    def on_alert(self, connection, sender, path, interface, signal, params):
        self.signals.append(params.unpack())

    def alerts_of(self, rule_message):
        return [s for s in self.signals if s[0] == 'alert' and s[1].startswith(rule_message)]

    def test_alert_signal_and_notification(self):
        server = FakeNotificationServer(self.bus)
        daemon = self.start(ALWAYS + '''
            [alerts]
            notify=true
            ''', env=self.bus.env())
        self.assertTrue(spin(10, lambda: self.alerts_of('cpu.usage_percent above -1 (')),
                        f'no Alert signal: {self.signals}')
        kind, message = self.alerts_of('cpu.usage_percent above -1 (')[0]
        self.assertRegex(message, r'^cpu\.usage_percent above -1 \(\d+(\.\d)?\)$')

        # The same alert, as a desktop notification through GApplication.
        self.assertTrue(spin(10, lambda: server.calls), 'no notification')
        app_name, replaces, icon, summary, body, actions, hints, timeout = server.calls[0]
        self.assertEqual(summary, 'Sonde alert: low')
        self.assertRegex(body, r'^cpu\.usage_percent above -1 \(\d+(\.\d)?\)$')
        self.assertEqual(hints.get('desktop-entry'), 'org.sonde.Sonde1')

        # One per cooldown, on both.
        spin(4.5)
        self.assertLessEqual(len(self.alerts_of('cpu.usage_percent above -1 (')), 4)
        self.assertGreaterEqual(len(server.calls), 2)
        self.assertLessEqual(len(server.calls), 4)
        self.assertTrue(daemon.alive())
        self.assertEqual(daemon.stop(), 0)
        self.assertNotIn('WARNING', daemon.stderr_text)

    def test_no_notification_unless_asked(self):
        server = FakeNotificationServer(self.bus)
        self.start(ALWAYS, env=self.bus.env())
        self.assertTrue(spin(10, lambda: self.alerts_of('cpu.usage_percent above -1 (')))
        spin(2.5)
        self.assertEqual(server.calls, [])

    def test_notify_without_notification_server(self):
        # A bus but nobody to show notifications: alerts go on, quietly.
        daemon = self.start(ALWAYS + '''
            [alerts]
            notify=true
            ''', env=self.bus.env())
        self.assertTrue(spin(10, lambda: len(self.alerts_of('cpu.usage_percent above -1 (')) >= 2))
        self.assertEqual(daemon.stop(), 0)
        self.assertNotIn('WARNING', daemon.stderr_text)
        self.assertNotIn('CRITICAL', daemon.stderr_text)


class NoBusNotifyTest(ConfigDir):
    def test_notify_without_bus(self):
        # No session bus at all: nothing blocks, nothing fails.
        daemon = self.start(ALWAYS + '''
            [alerts]
            notify=true
            ''')
        alerts = collect_alerts(daemon, 3)
        self.assertGreaterEqual(len(alerts), 1)
        self.assertEqual(daemon.stop(), 0)
        self.assertNotIn('WARNING', daemon.stderr_text)
        self.assertNotIn('CRITICAL', daemon.stderr_text)


if __name__ == '__main__':
    unittest.main(verbosity=2)
