# SPDX-License-Identifier: LGPL-2.1-or-later
"""Translations: the German catalog built from po/ is used by sonde and
sonded under LANGUAGE=de, and it is complete for every marked string."""

import os
import re
import shutil
import subprocess
import tempfile
import unittest

from sondetest import closed_port, no_bus_env, run_cli, run_sonded

SOURCE_ROOT = os.environ['SONDE_SOURCE_ROOT']
LOCALEDIR = os.environ['SONDE_TEST_LOCALEDIR']


def german():
    # C.UTF-8 is always there; LANGUAGE picks the catalog.
    return no_bus_env(LANGUAGE='de', LC_ALL='C.UTF-8', SONDE_LOCALEDIR=LOCALEDIR)


def english():
    env = no_bus_env(LC_ALL='C.UTF-8', SONDE_LOCALEDIR=LOCALEDIR)
    env.pop('LANGUAGE', None)
    return env


class TranslationTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix='sonde-i18n-')

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def test_catalog_built(self):
        self.assertTrue(os.path.isfile(os.path.join(LOCALEDIR, 'de', 'LC_MESSAGES', 'sonde.mo')))

    def test_cli_help(self):
        result = run_cli('--help', env=german())
        self.assertEqual(result.returncode, 0)
        self.assertIn('Den Sonde-Systemmonitor abfragen und beobachten.', result.stdout)
        self.assertIn('Befehle:', result.stdout)
        self.assertIn('Momentaufnahmen', run_cli('watch', '--help', env=german()).stdout)

        result = run_cli('--help', env=english())
        self.assertIn('Query and watch the Sonde system-monitoring daemon.', result.stdout)
        self.assertNotIn('Befehle:', result.stdout)

    def test_cli_error(self):
        url = f'ws://127.0.0.1:{closed_port()}/ws/v1'
        result = run_cli('--url', url, 'status', env=german())
        self.assertEqual(result.returncode, 1)
        self.assertIn(f'sonde: sonded ist unter {url} nicht erreichbar', result.stderr)

    def test_daemon(self):
        path = os.path.join(self.tmp, 'sonde.conf')
        with open(path, 'w') as f:
            f.write('[server]\nport=70000\n')
        result = run_sonded('--config', path, env=german())
        self.assertEqual(result.returncode, 1)
        self.assertIn(f'sonded: {path}: [server] port: 70000 ist kein Port (0-65535)', result.stderr)

        result = run_sonded('--help', env=german())
        self.assertIn('Die Konfiguration aus DATEI lesen', result.stdout)

    def test_complete(self):
        # The template of today's sources, with the glib preset's keywords.
        with open(os.path.join(SOURCE_ROOT, 'po', 'POTFILES.in')) as f:
            files = [line.strip() for line in f if line.strip() and not line.startswith('#')]
        self.assertEqual(files, sorted(files), 'POTFILES.in is not sorted')
        marked = set()
        for directory in ('src/cli', 'src/daemon'):
            for name in os.listdir(os.path.join(SOURCE_ROOT, directory)):
                if name.endswith('.c'):
                    with open(os.path.join(SOURCE_ROOT, directory, name)) as f:
                        if re.search(r'\bN?_\s*\(\s*"', f.read()):
                            marked.add(f'{directory}/{name}')
        self.assertEqual(set(files), marked, 'POTFILES.in does not list every file with _()')

        pot = os.path.join(self.tmp, 'sonde.pot')
        subprocess.run(['xgettext', '--from-code=UTF-8', '--add-comments', '--keyword=_', '--keyword=N_',
                        '--keyword=C_:1c,2', '--keyword=NC_:1c,2', '--keyword=g_dngettext:2,3',
                        '--directory', SOURCE_ROOT, '--output', pot, *files],
                       check=True, capture_output=True, timeout=60)
        po = os.path.join(SOURCE_ROOT, 'po', 'de.po')
        result = subprocess.run(['msgcmp', po, pot], capture_output=True, text=True, timeout=60)
        self.assertEqual(result.returncode, 0, result.stderr)
        result = subprocess.run(['msgfmt', '--check', '--statistics', '-o', '/dev/null', po],
                                capture_output=True, text=True, timeout=60)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertNotIn('untranslated', result.stderr)
        self.assertNotIn('fuzzy', result.stderr)
        with open(os.path.join(SOURCE_ROOT, 'po', 'LINGUAS')) as f:
            self.assertIn('de', f.read().split())


if __name__ == '__main__':
    unittest.main(verbosity=2)
