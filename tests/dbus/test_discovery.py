# SPDX-License-Identifier: LGPL-2.1-or-later
"""Opt-in UDP discovery: sonded answers probes on a loopback port when
[discovery] enabled=true, `sonde discover` lists it, garbage and floods
get no reply and no log flood. Every datagram goes to 127.0.0.1 (unicast)
on a probed free port: never to a broadcast or any other address."""

import json
import os
import re
import shutil
import socket
import tempfile
import textwrap
import time
import unittest

from sondetest import Sonded, run_cli, run_sonded

LINE = re.compile(r'^(\S+)  +127\.0\.0\.1  +(ws://127\.0\.0\.1:(\d+)/ws/v1)  +(\S+)$')


def free_udp_port():
    """A loopback UDP port nothing is bound to (just released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


class Prober:
    """A UDP socket on 127.0.0.1 that sends to one loopback port only."""

    def __init__(self, port):
        self.port = port
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(('127.0.0.1', 0))

    def send(self, data):
        self.sock.sendto(data, ('127.0.0.1', self.port))

    def replies(self, wait):
        """Every reply until none came for `wait` seconds."""
        replies = []
        while True:
            self.sock.settimeout(wait)
            try:
                data, sender = self.sock.recvfrom(65536)
            except TimeoutError:
                return replies
            self.assertFrom(sender)
            replies.append(json.loads(data))

    def assertFrom(self, sender):
        assert sender == ('127.0.0.1', self.port), sender

    def close(self):
        self.sock.close()


class DiscoveryTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix='sonde-discovery-')
        self.addCleanup(shutil.rmtree, self.tmp, True)

    def write(self, text):
        path = os.path.join(self.tmp, 'sonde.conf')
        with open(path, 'w') as f:
            f.write(textwrap.dedent(text))
        return path

    def start(self, port, extra=''):
        path = self.write(f'''
            [server]
            port=0

            [discovery]
            enabled=true
            port={port}
            ''' + extra)
        daemon = Sonded('--config', path)
        self.addCleanup(daemon.stop)
        # After the URL, flushed with it: "discovery ADDRESS:PORT" (the
        # pipe's reader may hold it already, so no select() here).
        line = daemon.process.stdout.readline().strip()
        self.assertEqual(line, f'discovery 127.0.0.1:{port}')
        prober = Prober(port)
        self.addCleanup(prober.close)
        return daemon, prober

    def check_announce(self, announce, daemon):
        self.assertEqual(set(announce), {'type', 'hostname', 'ws_port', 'formats', 'version', 'tls'})
        self.assertEqual(announce['type'], 'announce')
        self.assertEqual(announce['hostname'], socket.gethostname())
        self.assertEqual(announce['ws_port'], daemon.port)
        self.assertEqual(announce['formats'][0], 'native')
        for name in ('kairos', 'resolvix', 'ziggie'):
            self.assertIn(name, announce['formats'])
        self.assertEqual(announce['version'], os.environ['SONDE_VERSION'])
        self.assertIs(announce['tls'], False)

    def test_cli_lists_the_daemon(self):
        port = free_udp_port()
        daemon, _ = self.start(port)
        for args in ([], ['--address', '127.0.0.1'], ['--address', 'localhost']):
            with self.subTest(args=args):
                result = run_cli('discover', '--port', str(port), '--timeout', '1', *args)
                self.assertEqual(result.returncode, 0, result.stderr)
                lines = result.stdout.splitlines()
                self.assertEqual(len(lines), 1, result.stdout)
                match = LINE.match(lines[0])
                self.assertIsNotNone(match, lines[0])
                hostname, url, ws_port, formats = match.groups()
                self.assertEqual(hostname, socket.gethostname())
                self.assertEqual(url, daemon.url)
                self.assertEqual(int(ws_port), daemon.port)
                self.assertTrue(formats.startswith('native,'), formats)
                self.assertIn('kairos', formats.split(','))

    def test_cli_nobody_answers(self):
        port = free_udp_port()
        started = time.monotonic()
        result = run_cli('discover', '--port', str(port), '--timeout', '0.5')
        self.assertEqual(result.returncode, 1)
        self.assertEqual(result.stdout, '')
        self.assertIn(f'sonde discover: no daemon answered at 127.0.0.1 port {port} within 0.5 s',
                      result.stderr)
        self.assertLess(time.monotonic() - started, 5)

    def test_cli_usage(self):
        cases = [
            (['--address', 'nowhere'], 'sonde discover: nowhere is not an IP address'),
            (['--port', '0'], 'sonde discover: port 0 is out of range (1-65535)'),
            (['--port', '70000'], 'sonde discover: port 70000 is out of range (1-65535)'),
            (['--timeout', '0'], 'sonde discover: the timeout must be more than 0'),
            (['--timeout', '61'], 'sonde discover: the timeout must be more than 0'),
            (['extra'], 'sonde discover: unexpected argument “extra”'),
        ]
        for args, expected in cases:
            with self.subTest(args=args):
                result = run_cli('discover', *args)
                self.assertEqual(result.returncode, 2, result.stderr)
                self.assertIn(expected, result.stderr)

    def test_probes(self):
        port = free_udp_port()
        daemon, prober = self.start(port)
        prober.send(b'SONDE_DISCOVER')
        replies = prober.replies(1)
        self.assertEqual(len(replies), 1)
        self.check_announce(replies[0], daemon)

        prober.send(b'{"type":"discover"}')
        replies = prober.replies(1)
        self.assertEqual(len(replies), 1)
        self.check_announce(replies[0], daemon)

    def test_garbage_is_ignored_quietly(self):
        port = free_udp_port()
        daemon, prober = self.start(port)
        garbage = [b'', b'SONDE', b'SONDE_DISCOVER\n', b'sonde_discover', b'{"type":"announce"}',
                   b'{"type":"discover"', b'\x00' * 32, b'{' * 500, b'SONDE_DISCOVER' + b' ' * 600,
                   b'{"type":"discover"' + b' ' * 494 + b'}', os.urandom(1400)]
        for _ in range(20):
            for datagram in garbage:
                prober.send(datagram)
        self.assertEqual(prober.replies(1), [])

        # Still answering, and the 220 datagrams made at most one log line.
        prober.send(b'SONDE_DISCOVER')
        self.assertEqual(len(prober.replies(1)), 1)
        self.assertEqual(daemon.stop(), 0)
        lines = [line for line in daemon.stderr_text.splitlines() if 'Discovery' in line]
        self.assertEqual(len(lines), 1, daemon.stderr_text)
        self.assertIn('127.0.0.1', lines[0])

    def test_reply_limit(self):
        port = free_udp_port()
        daemon, prober = self.start(port)
        # A flood of probes: ten answered at once (the default limit), the
        # rest dropped; one more may slip in as the bucket refills.
        for _ in range(200):
            prober.send(b'SONDE_DISCOVER')
        replies = prober.replies(1)
        self.assertGreaterEqual(len(replies), 10)
        self.assertLessEqual(len(replies), 12)
        # The limit refills: a second later a probe is answered again.
        time.sleep(1)
        prober.send(b'SONDE_DISCOVER')
        self.assertEqual(len(prober.replies(1)), 1)

    def test_off_by_default(self):
        port = free_udp_port()
        path = self.write(f'''
            [server]
            port=0

            [discovery]
            port={port}
            ''')
        daemon = Sonded('--config', path)
        self.addCleanup(daemon.stop)
        prober = Prober(port)
        self.addCleanup(prober.close)
        prober.send(b'SONDE_DISCOVER')
        self.assertEqual(prober.replies(1), [])
        self.assertEqual(daemon.stop(), 0)

    def test_refused(self):
        # A port that another socket holds stops sonded at start.
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as taken:
            taken.bind(('127.0.0.1', 0))
            port = taken.getsockname()[1]
            path = self.write(f'[server]\nport=0\n[discovery]\nenabled=true\nport={port}\n')
            result = run_sonded('--config', path)
        self.assertEqual(result.returncode, 1)
        self.assertIn(f'sonded: cannot answer discovery probes on 127.0.0.1 UDP port {port}:',
                      result.stderr)

        for text, expected in [
            ('[discovery]\nenabled=perhaps\n', '[discovery] enabled: perhaps is not true or false'),
            ('[discovery]\nport=65536\n', '[discovery] port: 65536 is not a port (0-65535)'),
            ('[discovery]\naddress=0.0.0.0\n', '[discovery] address: unknown key'),
        ]:
            with self.subTest(config=text):
                path = self.write(text)
                result = run_sonded('--config', path, '--port', '0')
                self.assertEqual(result.returncode, 1, result.stderr)
                self.assertIn(f'sonded: {path}: {expected}', result.stderr)


if __name__ == '__main__':
    unittest.main(verbosity=2)
