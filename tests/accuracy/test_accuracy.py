# SPDX-License-Identifier: LGPL-2.1-or-later
"""Accuracy of a running sonded against the kernel and common tools.

Starts the daemon given by $SONDED on a free port, reads
GET /api/v1/snapshot and compares the values with /proc, os.statvfs(),
socket and psutil, within the tolerances stated in each test. The
psutil-based checks are skipped, not failed, when psutil is missing.
"""

import json
import os
import re
import select
import signal
import socket
import subprocess
import threading
import time
import unittest
import urllib.error
import urllib.request

try:
    import psutil
except ImportError:  # optional: only some checks need it
    psutil = None

NEEDS_PSUTIL = 'python3-psutil is not installed'

# The collectors whose fields are compared below.
COLLECTORS = ('cpu', 'memory', 'disk', 'network', 'processes', 'host')

STARTUP_TIMEOUT = 15.0   # until the "listening on" line
SNAPSHOT_TIMEOUT = 5.0   # until every collector is in the snapshot
MIB = 1024 * 1024

LISTENING_RE = re.compile(r'ws://127\.0\.0\.1:(\d+)/ws/v1')


def read_meminfo_total():
    with open('/proc/meminfo') as f:
        for line in f:
            if line.startswith('MemTotal:'):
                return int(line.split()[1]) * 1024
    raise AssertionError('no MemTotal in /proc/meminfo')


def read_curr_estab():
    """Tcp: CurrEstab of /proc/net/snmp, found by its column name."""
    with open('/proc/net/snmp') as f:
        tcp = [line.split() for line in f if line.startswith('Tcp:')]
    return int(tcp[1][tcp[0].index('CurrEstab')])


def statvfs_usage_percent(path):
    """Usage as df and psutil.disk_usage() compute it: the space reserved
    for root counts as neither used nor available."""
    st = os.statvfs(path)
    used = (st.f_blocks - st.f_bfree) * st.f_frsize
    avail = st.f_bavail * st.f_frsize
    if used + avail == 0:
        return 0.0
    return 100.0 * used / (used + avail)


class Daemon:
    def __init__(self, path):
        env = dict(os.environ)
        # Never talk to the developer's session bus: an already running
        # sonded there would take over this instance (GApplication
        # uniqueness), and with no address at all GLib may autolaunch a
        # bus. An unreachable address makes sonded run standalone.
        env['DBUS_SESSION_BUS_ADDRESS'] = 'unix:path=/nonexistent/sonde-accuracy-test'
        self.proc = subprocess.Popen([path, '--port', '0'],
                                     stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE,
                                     env=env)
        self.port = self._read_port()
        # Keep draining stdout so the daemon can never block on a full pipe.
        self._drain = threading.Thread(target=self._drain_stdout, daemon=True)
        self._drain.start()

    def _read_port(self):
        fd = self.proc.stdout.fileno()
        deadline = time.monotonic() + STARTUP_TIMEOUT
        buf = b''
        while True:
            while b'\n' in buf:
                line, buf = buf.split(b'\n', 1)
                match = LISTENING_RE.search(line.decode(errors='replace'))
                if match:
                    return int(match.group(1))
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self.stop()
                raise AssertionError(
                    'sonded printed no "listening on ws://127.0.0.1:PORT/ws/v1" line '
                    'within %.0f s (is stdout flushed?); got %r' % (STARTUP_TIMEOUT, buf))
            ready, _, _ = select.select([fd], [], [], remaining)
            if not ready:
                continue
            chunk = os.read(fd, 4096)
            if not chunk:
                code = self.proc.wait()
                raise AssertionError('sonded exited with status %d before listening; '
                                     'stdout was %r' % (code, buf))
            buf += chunk

    def _drain_stdout(self):
        try:
            while self.proc.stdout.read(4096):
                pass
        except (OSError, ValueError):
            pass

    def get_json(self, path):
        url = 'http://127.0.0.1:%d%s' % (self.port, path)
        with urllib.request.urlopen(url, timeout=10) as response:
            return json.load(response)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()   # SIGTERM to this PID only
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc.stdout.close()
        return self.proc.returncode


class AccuracyTest(unittest.TestCase):
    daemon = None

    @classmethod
    def setUpClass(cls):
        path = os.environ.get('SONDED')
        if not path:
            raise unittest.SkipTest('SONDED is not set: run through "meson test"')
        if not os.access(path, os.X_OK):
            raise AssertionError('SONDED=%s is not an executable' % path)
        cls.daemon = Daemon(path)

    @classmethod
    def tearDownClass(cls):
        if cls.daemon is not None:
            code = cls.daemon.stop()
            cls.daemon = None
            # Exiting on SIGTERM, cleanly or by the signal itself, is fine.
            if code not in (0, -signal.SIGTERM):
                raise AssertionError('sonded exited with status %d on SIGTERM' % code)

    def snapshot(self):
        """A snapshot with every compared collector, retrying for a while
        since collectors start on demand."""
        deadline = time.monotonic() + SNAPSHOT_TIMEOUT
        last = None
        while True:
            try:
                last = self.daemon.get_json('/api/v1/snapshot')
            except (urllib.error.URLError, OSError, ValueError) as e:
                last = e
            else:
                data = last.get('data', {}) if isinstance(last, dict) else {}
                missing = [c for c in COLLECTORS if not isinstance(data.get(c), dict)]
                if not missing:
                    return data
            if time.monotonic() >= deadline:
                self.fail('no complete /api/v1/snapshot within %.0f s; last answer: %r'
                          % (SNAPSHOT_TIMEOUT, last))
            time.sleep(0.2)

    def field(self, data, collector, name):
        values = data[collector]
        self.assertIn(name, values, '%s.%s missing from the snapshot' % (collector, name))
        return values[name]

    # memory ---------------------------------------------------------------

    def test_memory_total_exact(self):
        """memory.total_bytes == MemTotal * 1024 exactly (and psutil's total)."""
        total = self.field(self.snapshot(), 'memory', 'total_bytes')
        self.assertEqual(total, read_meminfo_total())
        if psutil is not None:
            self.assertEqual(total, psutil.virtual_memory().total)

    @unittest.skipIf(psutil is None, NEEDS_PSUTIL)
    def test_memory_available(self):
        """memory.available_bytes within 5 % of the total of psutil's."""
        data = self.snapshot()
        available = self.field(data, 'memory', 'available_bytes')
        vm = psutil.virtual_memory()
        self.assertLessEqual(abs(available - vm.available), 0.05 * vm.total,
                             'sonde %d, psutil %d' % (available, vm.available))

    # disk -----------------------------------------------------------------

    def test_disk_root_usage(self):
        """disk.usage_percent within 1 percentage point of df's for /."""
        usage = self.field(self.snapshot(), 'disk', 'usage_percent')
        expected = statvfs_usage_percent('/')
        self.assertLessEqual(abs(usage - expected), 1.0,
                             'sonde %.2f %%, df/statvfs %.2f %% (used / (used + available))'
                             % (usage, expected))

    # cpu ------------------------------------------------------------------

    def test_cpu_cores(self):
        """cpu.cores == os.cpu_count()."""
        self.assertEqual(self.field(self.snapshot(), 'cpu', 'cores'), os.cpu_count())

    # processes ------------------------------------------------------------

    @unittest.skipIf(psutil is None, NEEDS_PSUTIL)
    def test_process_count(self):
        """processes.count within 10 % of len(psutil.pids())."""
        count = self.field(self.snapshot(), 'processes', 'count')
        expected = len(psutil.pids())
        self.assertLessEqual(abs(count - expected), 0.10 * expected,
                             'sonde %d, psutil %d' % (count, expected))

    # network --------------------------------------------------------------

    @unittest.skipIf(psutil is None, NEEDS_PSUTIL)
    def test_network_totals(self):
        """network.total_rx/tx_bytes <= psutil's read right after, within 1 MiB + 10 %.

        psutil is summed over the interfaces sonde lists, so that whether
        loopback is counted does not matter, only that the counters agree."""
        data = self.snapshot()
        pernic = psutil.net_io_counters(pernic=True)
        names = [i.get('name') for i in data['network'].get('interfaces', [])
                 if isinstance(i, dict)]
        names = [n for n in names if n in pernic]
        if names:
            rx = sum(pernic[n].bytes_recv for n in names)
            tx = sum(pernic[n].bytes_sent for n in names)
        else:
            total = psutil.net_io_counters()
            rx, tx = total.bytes_recv, total.bytes_sent

        for field, expected in (('total_rx_bytes', rx), ('total_tx_bytes', tx)):
            value = self.field(data, 'network', field)
            msg = '%s: sonde %d, psutil %d over %s' % (field, value, expected, names or 'all')
            self.assertGreaterEqual(value, 0, msg)
            self.assertLessEqual(value, expected, msg)
            self.assertLessEqual(expected - value, MIB + 0.10 * expected, msg)

    @unittest.skipIf(psutil is None, NEEDS_PSUTIL)
    def test_active_connections(self):
        """network.active_connections and psutil's TCP sockets in ESTABLISHED or
        CLOSE_WAIT both within the range Tcp: CurrEstab took meanwhile, +-(5 + 5 %).

        Other work on the machine opens and closes connections all the time
        (hundreds a second while a test suite runs), so neither is compared
        with one reading: a thread reads /proc/net/snmp every millisecond
        from before the snapshot's sample to after psutil's walk of
        /proc/net/tcp and tcp6, and both must fall in what it saw."""
        seen = [read_curr_estab()]
        stop = threading.Event()

        def poll():
            while not stop.is_set():
                seen.append(read_curr_estab())
                time.sleep(0.001)

        poller = threading.Thread(target=poll)
        self.snapshot()
        poller.start()
        try:
            # Every collector is sampled each second (history, or the
            # snapshot's keeping it sampled): after 2 s the snapshot holds a
            # value read while the thread was polling.
            time.sleep(2.0)
            value = self.field(self.snapshot(), 'network', 'active_connections')
            connections = psutil.net_connections('tcp')
        finally:
            stop.set()
            poller.join()
        seen.append(read_curr_estab())
        counted = sum(1 for c in connections
                      if c.status in (psutil.CONN_ESTABLISHED, psutil.CONN_CLOSE_WAIT))

        low, high = min(seen), max(seen)
        slack = 5 + 0.05 * high
        for name, got in (('sonde', value), ('psutil', counted)):
            msg = '%s %d, CurrEstab %d..%d over %d readings' % (name, got, low, high, len(seen))
            self.assertGreaterEqual(got, low - slack, msg)
            self.assertLessEqual(got, high + slack, msg)

    # host -----------------------------------------------------------------

    def test_hostname(self):
        """host.hostname == socket.gethostname()."""
        self.assertEqual(self.field(self.snapshot(), 'host', 'hostname'), socket.gethostname())

    @unittest.skipIf(psutil is None, NEEDS_PSUTIL)
    def test_boot_time(self):
        """host.boot_time within 2 s of psutil.boot_time()."""
        boot_time = self.field(self.snapshot(), 'host', 'boot_time')
        self.assertLessEqual(abs(boot_time - psutil.boot_time()), 2.0,
                             'sonde %r, psutil %r' % (boot_time, psutil.boot_time()))


if __name__ == '__main__':
    unittest.main(verbosity=2)
