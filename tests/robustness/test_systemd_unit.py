# SPDX-License-Identifier: LGPL-2.1-or-later
"""The installed systemd user unit bounds and sandboxes sonded, and
systemd accepts every directive of it (systemd-analyze verify, when the
command exists).

Usage: test_systemd_unit.py BUILT-UNIT-FILE
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

UNIT = sys.argv.pop(1) if len(sys.argv) > 1 else None

EXPECTED = {
    "LimitNOFILE": "65536",
    "MemoryMax": "512M",
    "NoNewPrivileges": "yes",
    "ProtectSystem": "strict",
    "ProtectHome": "read-only",
    "ReadWritePaths": "-%h/.config/sonde -%t",
    "PrivateTmp": "yes",
    "ProtectKernelTunables": "yes",
    "ProtectKernelModules": "yes",
    "ProtectControlGroups": "yes",
    "RestrictAddressFamilies": "AF_UNIX AF_INET AF_INET6 AF_NETLINK",
    "RestrictNamespaces": "yes",
    "LockPersonality": "yes",
    "MemoryDenyWriteExecute": "yes",
    "RestrictRealtime": "yes",
    "SystemCallArchitectures": "native",
}

# Each of these would hide /proc, /sys or the logs that sonded reads.
FORBIDDEN = ["ProtectProc", "ProcSubset", "PrivateDevices", "InaccessiblePaths",
             "ProtectKernelLogs"]


def read_service_section(path):
    section = None
    keys = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            match = re.match(r"^\[(.+)\]$", line)
            if match:
                section = match.group(1)
                continue
            key, _, value = line.partition("=")
            if section == "Service":
                keys.setdefault(key.strip(), []).append(value.strip())
    return keys


class SystemdUnitTest(unittest.TestCase):
    def setUp(self):
        if UNIT is None or not os.path.exists(UNIT):
            self.fail(f"no built unit file: {UNIT!r}")

    def test_directives(self):
        keys = read_service_section(UNIT)
        for key, value in EXPECTED.items():
            self.assertEqual(keys.get(key), [value], f"{key}= in {UNIT}")
        for key in FORBIDDEN:
            self.assertNotIn(key, keys)
        self.assertEqual(keys["Type"], ["dbus"])
        self.assertTrue(keys["ExecStart"][0].endswith("/sonded --gapplication-service"))

    def test_systemd_accepts_it(self):
        analyze = shutil.which("systemd-analyze")
        if analyze is None:
            self.skipTest("systemd-analyze is not installed")
        with tempfile.TemporaryDirectory(prefix="sonde-unit-") as tmp:
            runtime = os.path.join(tmp, "runtime")
            os.mkdir(runtime, 0o700)
            # The unit as installed, but with an ExecStart that exists here:
            # verify refuses a command it cannot find.
            unit = os.path.join(tmp, "sonded.service")
            with open(UNIT) as src, open(unit, "w") as dst:
                for line in src:
                    if line.startswith("ExecStart="):
                        line = f"ExecStart={shutil.which('true') or '/bin/true'} --gapplication-service\n"
                    dst.write(line)
            env = dict(os.environ, XDG_RUNTIME_DIR=runtime, SYSTEMD_LOG_LEVEL="info")
            result = subprocess.run([analyze, "--user", "verify", "--man=no", unit],
                                    capture_output=True, text=True, env=env, timeout=60)
            output = result.stdout + result.stderr
            self.assertEqual(result.returncode, 0, output)
            # Unknown or invalid directives are only warned about.
            complaints = [line for line in output.splitlines()
                          if "sonded.service" in line or "ignoring" in line.lower()]
            self.assertEqual(complaints, [], output)


if __name__ == "__main__":
    unittest.main()
