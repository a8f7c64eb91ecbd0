# SPDX-License-Identifier: LGPL-2.1-or-later
"""The sonde CLI against sonded on port 0 (given with --url), and against a
closed port; no session bus anywhere."""

import base64
import hashlib
import http.server
import json
import os
import re
import signal
import socket
import struct
import tempfile
import threading
import time
import unittest

from sondetest import COLLECTORS, Sonded, closed_port, no_bus_env, run_cli

TIMESTAMP_RE = re.compile(r'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$')


class CliTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.daemon = Sonded('--port', '0')
        cls.url = cls.daemon.url

    @classmethod
    def tearDownClass(cls):
        assert cls.daemon.stop() == 0

    def sonde(self, *args, **kwargs):
        return run_cli('--url', self.url, *args, **kwargs)

    def assert_clean_failure(self, result, code=1):
        self.assertEqual(result.returncode, code, result.stderr)
        self.assertTrue(result.stderr.startswith('sonde'), result.stderr)
        for bad in ('CRITICAL', 'WARNING', 'Traceback', 'assertion'):
            self.assertNotIn(bad, result.stderr)

    def test_status(self):
        result = self.sonde('status')
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn(self.url, result.stdout)
        self.assertIn('Collectors:', result.stdout)
        lines = result.stdout.splitlines()
        rows = [line.split() for line in lines if line.startswith('  ')]
        self.assertEqual([row[0] for row in rows], COLLECTORS)
        # Aligned: the state column starts at the same place on every row.
        starts = {line.index(line.split()[1], len(line.split()[0]) + 2)
                  for line in lines if line.startswith('  ')}
        self.assertEqual(len(starts), 1)

    def test_list(self):
        result = self.sonde('list')
        self.assertEqual(result.returncode, 0, result.stderr)
        lines = result.stdout.splitlines()
        header = lines[0]
        self.assertEqual(header.split()[:3], ['METRIC', 'UNIT', 'KIND'])
        unit_column = header.index('UNIT')
        kind_column = header.index('KIND')
        rows = {line.split()[0]: line for line in lines[1:]}
        self.assertGreater(len(rows), 40)
        self.assertEqual({name.split('.')[0] for name in rows}, set(COLLECTORS))
        row = rows['cpu.usage_percent']
        self.assertEqual(row[unit_column:].split()[0], 'percent')
        self.assertEqual(row[kind_column:].split()[0], 'gauge')
        self.assertEqual(rows['memory.total_bytes'][unit_column:].split()[0], 'bytes')
        for line in lines[1:]:
            self.assertEqual(line[unit_column - 2:unit_column], '  ', line)
            self.assertNotEqual(line[unit_column], ' ', line)

    def test_snapshot(self):
        result = self.sonde('snapshot', 'cpu.usage_percent', 'memory.*')
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertGreater(len(result.stdout.splitlines()), 5)   # pretty
        snapshot = json.loads(result.stdout)
        self.assertRegex(snapshot['timestamp'], TIMESTAMP_RE)
        self.assertEqual(list(snapshot['data']['cpu']), ['usage_percent'])
        self.assertIn('total_bytes', snapshot['data']['memory'])
        self.assertEqual(set(snapshot['data']), {'cpu', 'memory'})

        result = self.sonde('snapshot')
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(set(json.loads(result.stdout)['data']), set(COLLECTORS))

    def test_snapshot_unknown_metric(self):
        result = self.sonde('snapshot', 'nosuch.metric')
        self.assert_clean_failure(result)
        self.assertIn("Unknown metric 'nosuch.metric'", result.stderr)
        self.assertEqual(result.stdout, '')

    def test_watch_json(self):
        result = self.sonde('watch', '--json', '--count', '3', '--interval', '200', 'cpu.usage_percent')
        self.assertEqual(result.returncode, 0, result.stderr)
        frames = [json.loads(line) for line in result.stdout.splitlines()]
        self.assertEqual(len(frames), 3)
        for frame in frames:
            self.assertEqual(frame['type'], 'snapshot')
            self.assertEqual(frame['subscription'], 'watch')
            self.assertEqual(list(frame['data']), ['cpu'])
            self.assertEqual(list(frame['data']['cpu']), ['usage_percent'])
        seqs = [frame['seq'] for frame in frames]
        self.assertEqual(seqs, sorted(seqs))

    def test_watch_table(self):
        result = self.sonde('watch', '--count', '2', '--interval', '200',
                            'cpu.usage_percent', 'memory.usage_percent', 'memory.total_bytes')
        self.assertEqual(result.returncode, 0, result.stderr)
        lines = result.stdout.splitlines()
        self.assertEqual(len(lines), 3, result.stdout)
        header = lines[0].split()
        self.assertEqual(header[0], 'TIME')
        self.assertEqual(sorted(header[1:]),
                         ['cpu.usage_percent', 'memory.total_bytes', 'memory.usage_percent'])
        for row in lines[1:]:
            self.assertRegex(row, r'^\d\d:\d\d:\d\d ')
            self.assertRegex(row, r'\d+\.\d %')          # percentages
            self.assertRegex(row, r'\d+\.\d [KMGT]iB')   # sizes
            # Right-aligned under the header.
            self.assertEqual(len(row), len(lines[0]), (row, lines[0]))

    def test_watch_errors(self):
        result = self.sonde('watch')
        self.assert_clean_failure(result, 2)
        result = self.sonde('watch', '--count', '1', 'nosuch.metric')
        self.assert_clean_failure(result)
        self.assertIn("nosuch.metric", result.stderr)
        result = self.sonde('watch', '--count', '1', '--interval', '50', 'cpu')
        self.assert_clean_failure(result)
        self.assertIn('interval', result.stderr)

    def test_url_forms(self):
        for url in (f'http://127.0.0.1:{self.daemon.port}', f'127.0.0.1:{self.daemon.port}',
                    f'ws://127.0.0.1:{self.daemon.port}'):
            with self.subTest(url=url):
                result = run_cli('--url', url, 'snapshot', 'host.hostname')
                self.assertEqual(result.returncode, 0, result.stderr)
        self.assert_clean_failure(run_cli('--url', 'ftp://x', 'status'))

    def test_closed_port(self):
        url = f'ws://127.0.0.1:{closed_port()}/ws/v1'
        for args in (['status'], ['list'], ['snapshot'], ['watch', '--count', '1', 'cpu']):
            with self.subTest(args=args):
                result = run_cli('--url', url, *args)
                self.assert_clean_failure(result)
                self.assertIn(f'cannot reach sonded at {url}', result.stderr)
                self.assertEqual(result.stdout, '')

    def test_nothing_reachable(self):
        # No --url and no session bus: the default port is the last resort.
        with socket.socket() as probe:
            if probe.connect_ex(('127.0.0.1', 54112)) == 0:
                self.skipTest('something listens on the default port 54112')
        result = run_cli('status')
        self.assert_clean_failure(result)
        self.assertIn('ws://127.0.0.1:54112/ws/v1', result.stderr)
        self.assertIn('--url', result.stderr)

    def test_standalone_never_idles(self):
        # By hand and with no session bus at all, sonded serves until told
        # to stop, whatever the idle timeout; SIGINT ends it cleanly.
        daemon = Sonded('--port', '0', '--idle-timeout', '1')
        time.sleep(3)
        self.assertTrue(daemon.alive())
        result = run_cli('--url', daemon.url, 'snapshot', 'cpu.cores')
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(daemon.stop(signal.SIGINT), 0)

    def test_usage(self):
        result = run_cli()
        self.assertEqual(result.returncode, 2)
        self.assertIn('sonde [OPTION', result.stderr)
        self.assertIn('watch', result.stderr)
        self.assert_clean_failure(run_cli('frobnicate'), 2)
        self.assert_clean_failure(run_cli('status', 'extra'), 2)
        result = run_cli('--help')
        self.assertEqual(result.returncode, 0)
        for command in ('status', 'list', 'snapshot', 'watch'):
            self.assertIn(command, result.stdout)
        result = run_cli('watch', '--help')
        self.assertEqual(result.returncode, 0)
        self.assertIn('--interval', result.stdout)
        self.assertIn('--json', result.stdout)


# What a hostile or broken server may answer: nesting that would exhaust a
# recursive parser, and text that a terminal would act on (clear the
# screen, move the cursor, set the title, 8-bit CSI, reversed text).
DEEP = '[' * 100000 + ']' * 100000
NASTY = 'x\x1b[2J\x1b]0;owned\x07\r\x9b31m\u202eevil\x7f'
NASTY_ESCAPED = 'x\\x1b[2J\\x1b]0;owned\\x07\\x0d\\u009b31m\\u202eevil\\x7f'
RAW_CONTROLS = re.compile('[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]')


class FakeHandler(http.server.BaseHTTPRequestHandler):
    """Answers GET PATH with the server's canned body for PATH, and a
    WebSocket upgrade with its canned frames; records Authorization."""

    protocol_version = 'HTTP/1.1'

    def log_message(self, *args):
        pass

    def do_GET(self):
        server = self.server
        server.authorizations.append(self.headers.get('Authorization'))
        if self.headers.get('Upgrade', '').lower() == 'websocket':
            self.websocket()
            return
        body = server.bodies.get(self.path.split('?')[0], '{}')
        data = body.encode('utf-8') if isinstance(body, str) else body
        self.send_response(200)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def websocket(self):
        key = self.headers['Sec-WebSocket-Key']
        accept = base64.b64encode(hashlib.sha1(
            (key + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').encode()).digest()).decode()
        self.send_response(101)
        self.send_header('Upgrade', 'websocket')
        self.send_header('Connection', 'Upgrade')
        self.send_header('Sec-WebSocket-Accept', accept)
        self.end_headers()
        self.wfile.flush()
        for text in self.server.frames:
            payload = text.encode('utf-8')
            if len(payload) < 126:
                header = bytes([0x81, len(payload)])
            elif len(payload) < 65536:
                header = bytes([0x81, 126]) + struct.pack('!H', len(payload))
            else:
                header = bytes([0x81, 127]) + struct.pack('!Q', len(payload))
            self.wfile.write(header + payload)
        self.wfile.flush()
        # Until the client goes.
        self.connection.settimeout(20)
        try:
            while self.connection.recv(4096):
                pass
        except OSError:
            pass


class FakeServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass   # a client that hangs up early (the body over 4 MiB)

    def __init__(self, port=0, bodies=None, frames=()):
        super().__init__(('127.0.0.1', port), FakeHandler)
        self.bodies = bodies or {}
        self.frames = list(frames)
        self.authorizations = []
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self):
        return f'ws://127.0.0.1:{self.server_address[1]}'

    def close(self):
        self.shutdown()
        self.server_close()
        self.thread.join(10)


class HostileServerTest(unittest.TestCase):
    """The CLI against servers that are not sonded: it must not crash,
    hang or print what the server says raw."""

    def fake(self, **kwargs):
        server = FakeServer(**kwargs)
        self.addCleanup(server.close)
        return server

    def assert_safe(self, result):
        for bad in ('CRITICAL', 'WARNING', 'Traceback', 'assertion'):
            self.assertNotIn(bad, result.stderr)
        self.assertIn(result.returncode, (0, 1), result.stderr)
        self.assertIsNone(RAW_CONTROLS.search(result.stdout), repr(result.stdout))
        self.assertIsNone(RAW_CONTROLS.search(result.stderr), repr(result.stderr))

    def test_deep_json(self):
        server = self.fake(bodies={'/status': DEEP, '/api/v1/catalog': '{"metrics":' + DEEP + '}',
                                   '/api/v1/snapshot': '{"a":' + DEEP + '}'},
                           frames=['{"type":"snapshot","subscription":"watch","data":' + DEEP + '}'])
        for args in (['status'], ['list'], ['snapshot'], ['watch', '--json', '--count', '1', 'a']):
            with self.subTest(args=args):
                result = run_cli('--url', server.url, *args, timeout=30)
                self.assert_safe(result)
                self.assertEqual(result.returncode, 1, result.stderr)
                self.assertIn('nested deeper than 64 levels', result.stderr)

    def test_big_json(self):
        # Bounded: a body over 4 MiB is refused, not read whole.
        big = '{"hostname":"' + 'a' * (6 * 1024 * 1024) + '"}'
        server = self.fake(bodies={'/status': big})
        result = run_cli('--url', server.url, 'status', timeout=30)
        self.assert_safe(result)
        self.assertEqual(result.returncode, 1)
        self.assertIn('larger than 4 MiB', result.stderr)

    def test_control_characters(self):
        status = {'version': NASTY, 'hostname': NASTY, 'clients': 'not a number',
                  'collectors': [{'name': NASTY, 'running': True, 'last_sample': NASTY},
                                 {'name': 5, 'running': 'yes'}, 'not an object', None]}
        catalog = {'metrics': [{'name': NASTY, 'unit': NASTY, 'kind': 'gauge', 'description': NASTY},
                               7, {'name': ['wrong', 'type']}]}
        snapshot = {'data': {NASTY: {'field': NASTY}}}
        frame = {'type': 'snapshot', 'subscription': 'watch', 'seq': 1,
                 'timestamp': NASTY, 'data': {'cpu': {NASTY: NASTY}}}
        server = self.fake(bodies={'/status': json.dumps(status), '/api/v1/catalog': json.dumps(catalog),
                                   '/api/v1/snapshot': json.dumps(snapshot)},
                           frames=[json.dumps(frame)])

        result = run_cli('--url', server.url, 'status')
        self.assert_safe(result)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn(NASTY_ESCAPED, result.stdout)

        result = run_cli('--url', server.url, 'list')
        self.assert_safe(result)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn(NASTY_ESCAPED, result.stdout)

        # As JSON, the same JSON, every control character \u-escaped.
        for args in (['snapshot'], ['watch', '--json', '--count', '1', 'cpu']):
            with self.subTest(args=args):
                result = run_cli('--url', server.url, *args, timeout=30)
                self.assert_safe(result)
                self.assertEqual(result.returncode, 0, result.stderr)
                parsed = json.loads(result.stdout.splitlines()[0] if args[0] == 'watch' else result.stdout)
                self.assertEqual(parsed['data'], snapshot['data'] if args[0] == 'snapshot' else frame['data'])

        result = run_cli('--url', server.url, 'watch', '--count', '1', 'cpu', timeout=30)
        self.assert_safe(result)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn('cpu.' + NASTY_ESCAPED, result.stdout)

    def test_error_messages(self):
        server = self.fake(bodies={'/status': json.dumps({'type': 'error', 'code': 'x', 'message': NASTY}),
                                   '/api/v1/catalog': '{"a":"\x1b[2J\x1b]0;owned\x07'},
                           frames=[json.dumps({'type': 'error', 'message': NASTY})])
        # Not JSON, and the parser's message would quote it.
        result = run_cli('--url', server.url, 'list')
        self.assert_safe(result)
        self.assertEqual(result.returncode, 1)
        self.assertIn('not Sonde JSON', result.stderr)
        # A 200 with an error body is still printed safely; so is an error frame.
        result = run_cli('--url', server.url, 'watch', '--count', '1', 'cpu', timeout=30)
        self.assert_safe(result)
        self.assertEqual(result.returncode, 1)
        self.assertIn('sonde: ' + NASTY_ESCAPED, result.stderr)

    def test_token_goes_only_where_named(self):
        config_home = tempfile.TemporaryDirectory(prefix='sonde-cli-config-')
        self.addCleanup(config_home.cleanup)
        os.makedirs(os.path.join(config_home.name, 'sonde'))
        with open(os.path.join(config_home.name, 'sonde', 'sonde.conf'), 'w') as f:
            f.write('[server]\ntoken=from-config\n')

        # Named with --url: $SONDE_TOKEN, else sonde.conf's token, is sent.
        server = self.fake(bodies={'/status': '{"collectors":[]}'})
        env = no_bus_env(XDG_CONFIG_HOME=config_home.name)
        self.assertEqual(run_cli('--url', server.url, 'status', env=env).returncode, 0)
        env = no_bus_env(XDG_CONFIG_HOME=config_home.name, SONDE_TOKEN='from-env')
        self.assertEqual(run_cli('--url', server.url, 'status', env=env).returncode, 0)
        self.assertEqual(server.authorizations, ['Bearer from-config', 'Bearer from-env'])

        # Without either, the token sonded generated for this user.
        generated_home = tempfile.TemporaryDirectory(prefix='sonde-cli-generated-')
        self.addCleanup(generated_home.cleanup)
        os.makedirs(os.path.join(generated_home.name, 'sonde'))
        with open(os.path.join(generated_home.name, 'sonde', 'token'), 'w') as f:
            f.write('generated-token\n')
        generated_env = no_bus_env(XDG_CONFIG_HOME=generated_home.name)
        self.assertEqual(run_cli('--url', server.url, 'status', env=generated_env).returncode, 0)
        self.assertEqual(server.authorizations[-1], 'Bearer generated-token')

        # No --url and no D-Bus: whoever holds the default port gets none of
        # them, only a --token given on purpose.
        try:
            fallback = self.fake(port=54112, bodies={'/status': '{"collectors":[]}'},
                                 frames=[json.dumps({'type': 'snapshot', 'subscription': 'watch',
                                                     'data': {'cpu': {'x': 1}}})])
        except OSError:
            self.skipTest('the default port 54112 is taken')
        for args in (['status'], ['watch', '--json', '--count', '1', 'cpu']):
            result = run_cli(*args, env=env, timeout=30)
            self.assertEqual(result.returncode, 0, result.stderr)
        result = run_cli('status', env=generated_env)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(fallback.authorizations, [None, None, None])
        result = run_cli('--token', 'on-purpose', 'status', env=env)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(fallback.authorizations, [None, None, None, 'Bearer on-purpose'])


if __name__ == '__main__':
    unittest.main(verbosity=2)
