# SPDX-License-Identifier: LGPL-2.1-or-later
"""The sonde CLI against sonded on port 0 (given with --url), and against a
closed port; no session bus anywhere."""

import json
import re
import signal
import socket
import time
import unittest

from sondetest import COLLECTORS, Sonded, closed_port, run_cli

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


if __name__ == '__main__':
    unittest.main(verbosity=2)
