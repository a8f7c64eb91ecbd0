# SPDX-License-Identifier: LGPL-2.1-or-later
"""sonded's configuration file: every invalid value is refused with a
message naming the file, the group, the key and what is wrong, and every
key has its effect; command-line options override the file."""

import json
import os
import shutil
import ssl
import subprocess
import tempfile
import textwrap
import unittest
import urllib.error
import urllib.request

from sondetest import COLLECTORS, Sonded, WebSocketClient, closed_port, no_bus_env, run_cli, run_sonded


def http_get(url, headers=None, context=None):
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10, context=context) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


class ConfigTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix='sonde-config-')

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def write(self, text, name='sonde.conf'):
        path = os.path.join(self.tmp, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, 'w') as f:
            f.write(textwrap.dedent(text))
        return path

    def assert_refused(self, text, expected, *args):
        path = self.write(text)
        result = run_sonded('--config', path, *args)
        self.assertEqual(result.returncode, 1, result.stderr)
        self.assertEqual(result.stdout, '')   # never started listening
        self.assertIn(f'sonded: {path}: {expected}', result.stderr)
        return result

    def start(self, text, *args, env=None):
        path = self.write(text)
        return Sonded('--config', path, *args, env=env)

    def test_refused(self):
        cases = [
            ('[server]\nport=70000\n', '[server] port: 70000 is not a port (0-65535)'),
            ('[server]\nport=-1\n', '[server] port: -1 is not a port (0-65535)'),
            ('[server]\nport=abc\n', '[server] port: abc is not a port (0-65535)'),
            ('[server]\naddress=not-an-ip\n', '[server] address: not-an-ip is not an IP address'),
            ('[server]\ntoken=\n', '[server] token: is empty'),
            ('[server]\ntls-certificate=cert.pem\n', '[server] tls-key: missing'),
            ('[server]\ntls-key=key.pem\n', '[server] tls-certificate: missing'),
            ('[server]\ntls-certificate=/nonexistent/cert.pem\ntls-key=/nonexistent/key.pem\n',
             '[server] tls-certificate: /nonexistent/cert.pem: no such file'),
            ('[server]\nallowed-origins=evil.example\n',
             '[server] allowed-origins: evil.example is not an origin'),
            # Sandboxed frames and file:// pages send "null": any of them
            # would be let in.
            ('[server]\nallowed-origins=null\n',
             '[server] allowed-origins: null is not an origin: scheme://host[:port] with http or https'),
            ('[server]\nallowed-origins=http://good.example;null\n',
             '[server] allowed-origins: null is not an origin'),
            ('[server]\nallowed-origins=ftp://good.example\n',
             '[server] allowed-origins: ftp://good.example is not an origin'),
            ('[server]\nallowed-origins=http://\n', '[server] allowed-origins: http:// is not an origin'),
            ('[server]\nallowed-origins=http://good.example/\n',
             '[server] allowed-origins: http://good.example/ is not an origin'),
            ('[server]\nallowed-origins=http://good.example/path\n',
             '[server] allowed-origins: http://good.example/path is not an origin'),
            ('[server]\nallowed-origins=http://user@good.example\n',
             '[server] allowed-origins: http://user@good.example is not an origin'),
            ('[server]\nallowed-origins=http://good.example:\n',
             '[server] allowed-origins: http://good.example: is not an origin'),
            ('[server]\nallowed-origins=http://good.example:99999\n',
             '[server] allowed-origins: http://good.example:99999 is not an origin'),
            ('[server]\nallowed-origins=http://good.example?x=1\n',
             '[server] allowed-origins: http://good.example?x=1 is not an origin'),
            ('[server]\ninterval-min-ms=50\n',
             '[server] interval-min-ms: 50 is not an interval in milliseconds (100-60000)'),
            ('[server]\ninterval-max-ms=70000\n',
             '[server] interval-max-ms: 70000 is not an interval in milliseconds (100-60000)'),
            ('[server]\ninterval-min-ms=5000\ninterval-max-ms=1000\n',
             '[server] interval-min-ms: 5000 is greater than interval-max-ms (1000)'),
            ('[server]\nidle-timeout=-5\n', '[server] idle-timeout: -5 is not a number of seconds (0-86400)'),
            ('[server]\nprot=1\n', '[server] prot: unknown key'),
            ('[sever]\nport=1\n', '[sever]: unknown group'),
            ('[collectors]\nenabled=cpu;nosuch;\n', "[collectors] enabled: no collector named 'nosuch'"),
            ('[collectors]\ndisabled=nosuch\n', "[collectors] disabled: no collector named 'nosuch'"),
            ('[history]\nseconds=100000\n', '[history] seconds: 100000 is not a number of seconds (0-86400)'),
            ('[history]\nseconds=1.5\n', '[history] seconds: 1.5 is not a number of seconds (0-86400)'),
        ]
        for text, expected in cases:
            with self.subTest(config=text):
                self.assert_refused(text, expected)

    def test_refused_bad_tls_files(self):
        cert = self.write('not a certificate\n', 'cert.pem')
        key = self.write('not a key\n', 'key.pem')
        self.assert_refused(f'[server]\ntls-certificate={cert}\ntls-key={key}\n',
                            f'[server] tls-certificate: cannot load {cert}')

    def test_refused_syntax(self):
        path = self.write('this is not a key file\n')
        result = run_sonded('--config', path)
        self.assertEqual(result.returncode, 1)
        self.assertIn(f'sonded: {path}: ', result.stderr)

    def test_missing_file(self):
        path = os.path.join(self.tmp, 'missing.conf')
        result = run_sonded('--config', path)
        self.assertEqual(result.returncode, 1)
        self.assertIn(f'sonded: {path}: no such file', result.stderr)

    def test_default_location(self):
        # $XDG_CONFIG_HOME/sonde/sonde.conf is read without --config...
        path = self.write('[server]\nport=70000\n', 'sonde/sonde.conf')
        env = no_bus_env(XDG_CONFIG_HOME=self.tmp)
        result = run_sonded(env=env)
        self.assertEqual(result.returncode, 1)
        self.assertIn(f'sonded: {path}: [server] port: 70000 is not a port', result.stderr)
        # ...and is optional.
        os.unlink(path)
        daemon = Sonded('--port', '0', env=env)
        self.assertEqual(daemon.stop(), 0)

    def test_address_and_override(self):
        # Any loopback address binds; nothing is sent to it.
        daemon = self.start('[server]\naddress=127.0.0.2\nport=0\n')
        self.assertEqual(daemon.host, '127.0.0.2')
        self.assertEqual(daemon.stop(), 0)
        daemon = self.start('[server]\naddress=127.0.0.2\nport=0\n', '--address', '127.0.0.1')
        self.assertEqual(daemon.host, '127.0.0.1')
        self.assertEqual(daemon.stop(), 0)

    def test_port_and_override(self):
        port = closed_port()
        daemon = self.start(f'[server]\nport={port}\n')
        self.assertEqual(daemon.port, port)
        status, body = http_get(f'{daemon.http}/status')
        self.assertEqual(status, 200)
        self.assertEqual(daemon.stop(), 0)
        daemon = self.start(f'[server]\nport={port}\n', '--port', '0')
        self.assertNotEqual(daemon.port, port)
        self.assertEqual(daemon.stop(), 0)

    def test_token(self):
        daemon = self.start('[server]\nport=0\ntoken=s3cret\n')
        try:
            status, body = http_get(f'{daemon.http}/status')
            self.assertEqual(status, 401)
            status, body = http_get(f'{daemon.http}/status', {'Authorization': 'Bearer s3cret'})
            self.assertEqual(status, 200)
            # The CLI: refused without the token, fine with it.
            result = run_cli('--url', daemon.url, 'status')
            self.assertEqual(result.returncode, 1)
            self.assertIn('token', result.stderr)
            result = run_cli('--url', daemon.url, 'watch', '--count', '1', 'cpu')
            self.assertEqual(result.returncode, 1)
            self.assertIn('token', result.stderr)
            result = run_cli('--url', daemon.url, '--token', 's3cret', 'status')
            self.assertEqual(result.returncode, 0, result.stderr)
            result = run_cli('--url', daemon.url, 'watch', '--json', '--count', '1', 'cpu',
                             env=no_bus_env(SONDE_TOKEN='s3cret'))
            self.assertEqual(result.returncode, 0, result.stderr)
        finally:
            self.assertEqual(daemon.stop(), 0)

    def test_settings_reach_the_server(self):
        # Every route, including those without a handler of their own,
        # checks the configured token and origins.
        daemon = self.start('[server]\nport=0\ntoken=s3cret\nallowed-origins=http://good.example\n')
        try:
            url = f'{daemon.http}/no-such-route'
            self.assertEqual(http_get(url)[0], 401)
            self.assertEqual(http_get(url, {'Authorization': 'Bearer wrong'})[0], 401)
            self.assertEqual(http_get(url, {'Authorization': 'Bearer s3cret'})[0], 404)
            self.assertEqual(http_get(url, {'Authorization': 'Bearer s3cret',
                                            'Origin': 'http://evil.example'})[0], 403)
            self.assertEqual(http_get(url, {'Authorization': 'Bearer s3cret',
                                            'Origin': 'http://good.example'})[0], 404)
        finally:
            self.assertEqual(daemon.stop(), 0)

    def test_tls(self):
        if shutil.which('openssl') is None:
            self.skipTest('openssl is not installed')
        subprocess.run(['openssl', 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2',
                        '-subj', '/CN=127.0.0.1', '-keyout', os.path.join(self.tmp, 'key.pem'),
                        '-out', os.path.join(self.tmp, 'cert.pem')],
                       check=True, capture_output=True, timeout=60)
        # Relative paths are relative to the file's directory.
        daemon = self.start('[server]\nport=0\ntls-certificate=cert.pem\ntls-key=key.pem\n')
        try:
            self.assertEqual(daemon.scheme, 'wss')
            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
            status, body = http_get(f'https://127.0.0.1:{daemon.port}/status', context=context)
            self.assertEqual(status, 200)
            self.assertEqual(body['status'], 'ok')
            # The certificate served is ours.
            with open(os.path.join(self.tmp, 'cert.pem')) as f:
                ours = ssl.PEM_cert_to_DER_cert(f.read())
            served = ssl.get_server_certificate(('127.0.0.1', daemon.port), timeout=10)
            self.assertEqual(ssl.PEM_cert_to_DER_cert(served), ours)
        finally:
            self.assertEqual(daemon.stop(), 0)

    def test_allowed_origins(self):
        daemon = self.start('[server]\nport=0\nallowed-origins=http://good.example;http://also.example\n')
        try:
            status, body = http_get(f'{daemon.http}/status', {'Origin': 'http://evil.example'})
            self.assertEqual(status, 403)
            self.assertEqual(body['code'], 'forbidden_origin')
            for origin in ('http://good.example', 'http://also.example'):
                status, body = http_get(f'{daemon.http}/status', {'Origin': origin})
                self.assertEqual(status, 200)
            status, body = http_get(f'{daemon.http}/status')
            self.assertEqual(status, 200)
        finally:
            self.assertEqual(daemon.stop(), 0)

    def test_allowed_origins_forms(self):
        # Ports, IPv6 literals and https are origins too.
        daemon = self.start('[server]\nport=0\n'
                            'allowed-origins=https://good.example:8443;http://[::1]:8080;HTTP://Up.Example\n')
        try:
            status, _ = http_get(f'{daemon.http}/status', {'Origin': 'https://good.example:8443'})
            self.assertEqual(status, 200)
        finally:
            self.assertEqual(daemon.stop(), 0)

    def test_readable_token_warns(self):
        text = '[server]\nport=0\ntoken=s3cret\n'
        for mode, warned in ((0o644, 'every user'), (0o640, 'its group'), (0o600, None)):
            with self.subTest(mode=oct(mode)):
                path = self.write(text)
                os.chmod(path, mode)
                # It still starts: the warning is on stderr.
                daemon = Sonded('--config', path)
                self.assertEqual(daemon.stop(), 0)
                if warned is None:
                    self.assertNotIn('warning', daemon.stderr_text)
                else:
                    self.assertIn(f'sonded: warning: {path} holds a token and is readable by {warned} '
                                  f'(mode {mode:04o}); make it private with chmod 600 {path}',
                                  daemon.stderr_text)
        # Readable without a token is fine.
        path = self.write('[server]\nport=0\n')
        os.chmod(path, 0o644)
        daemon = Sonded('--config', path)
        self.assertEqual(daemon.stop(), 0)
        self.assertNotIn('warning', daemon.stderr_text)

    def test_exposed_address_warns(self):
        # 192.0.2.1 (TEST-NET-1) is no address of this machine: binding it
        # fails, and nothing is ever sent; the warning comes first.
        result = run_sonded('--port', '0', '--address', '192.0.2.1')
        self.assertEqual(result.returncode, 1)
        self.assertIn('sonded: warning: listening on 192.0.2.1, beyond this machine, without a configured token',
                      result.stderr)
        self.assertIn('sonded: warning: listening on 192.0.2.1, beyond this machine, without TLS',
                      result.stderr)
        path = self.write('[server]\naddress=192.0.2.1\nport=0\ntoken=s3cret\n')
        os.chmod(path, 0o600)
        result = run_sonded('--config', path)
        self.assertEqual(result.returncode, 1)
        self.assertNotIn('without a configured token', result.stderr)
        self.assertIn('without TLS', result.stderr)
        # Loopback, by address or name, is quiet.
        for address in ('127.0.0.1', 'localhost', '::1'):
            with self.subTest(address=address):
                daemon = Sonded('--port', '0', '--address', address, env=no_bus_env())
                self.assertEqual(daemon.stop(), 0)
                self.assertNotIn('warning', daemon.stderr_text)

    def test_interval_bounds(self):
        daemon = self.start('[server]\nport=0\ninterval-min-ms=500\ninterval-max-ms=5000\n')
        try:
            client = WebSocketClient('127.0.0.1', daemon.port)
            hello = json.loads(client.recv_text())
            client.close()
            self.assertEqual(hello['type'], 'hello')
            self.assertEqual(hello['interval_min_ms'], 500)
            self.assertEqual(hello['interval_max_ms'], 5000)
            result = run_cli('--url', daemon.url, 'watch', '--count', '1', '--interval', '200', 'cpu')
            self.assertEqual(result.returncode, 1)
            self.assertIn('500', result.stderr)
        finally:
            self.assertEqual(daemon.stop(), 0)

    def test_collectors(self):
        daemon = self.start('[server]\nport=0\n[collectors]\nenabled=cpu;memory;host\ndisabled=host\n')
        try:
            status, body = http_get(f'{daemon.http}/status')
            self.assertEqual([c['name'] for c in body['collectors']], ['cpu', 'memory'])
        finally:
            self.assertEqual(daemon.stop(), 0)
        # --disable adds to the file's list.
        daemon = self.start('[server]\nport=0\n[collectors]\ndisabled=host;gateway\n', '--disable', 'cpu')
        try:
            status, body = http_get(f'{daemon.http}/status')
            self.assertEqual([c['name'] for c in body['collectors']],
                             [name for name in COLLECTORS if name not in ('host', 'gateway', 'cpu')])
        finally:
            self.assertEqual(daemon.stop(), 0)

    def test_example_is_valid(self):
        # data/sonde.conf.example, uncommented, is a valid configuration
        # that documents every key the daemon reads.
        source = os.path.join(os.environ['SONDE_SOURCE_ROOT'], 'data', 'sonde.conf.example')
        with open(source) as f:
            lines = f.read().splitlines()
        keys = set()
        uncommented = []
        for line in lines:
            if line.startswith('#') and '=' in line and not line.startswith('# '):
                key, value = line[1:].split('=', 1)
                keys.add(key)
                # Fixed ports could be taken on a test machine.
                if key in ('tls-certificate', 'tls-key', 'port', 'disabled', 'listeners'):
                    continue
                if key == 'token':
                    value = 'example-token'
                uncommented.append(f'{key}={value}')
            else:
                uncommented.append(line)
        self.assertEqual(keys, {'address', 'port', 'token', 'tls-certificate', 'tls-key',
                                'allowed-origins', 'interval-min-ms', 'interval-max-ms',
                                'idle-timeout', 'enabled', 'disabled', 'seconds', 'listeners',
                                'node-id', 'telemetry-interval', 'files', 'allowed-paths',
                                'notify', 'metric', 'above', 'for-seconds', 'cooldown-seconds',
                                'message', 'allowed-programs', 'working-directory',
                                'timeout-seconds', 'max-output-bytes', 'max-concurrent'})
        path = self.write('\n'.join(uncommented) + '\n')
        daemon = Sonded('--config', path, '--port', '0')
        self.assertEqual(daemon.stop(), 0)


if __name__ == '__main__':
    unittest.main(verbosity=2)
