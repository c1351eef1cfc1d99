"""The daemon under systemd: the unit verifies, and sd_notify reaches a real NOTIFY_SOCKET."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from daemon_harness import REPO, DaemonProcess, PtyBoard
from test_daemon import _run_args, model_path  # noqa: F401 - fixture reuse

pytestmark = pytest.mark.timeout(120)
UNIT = REPO / "systemd" / "csi-edge.service"
INSTALLED_EXE = "/opt/csi-edge/venv/bin/csi-edge"


def test_systemd_analyze_verify_passes(tmp_path):
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed (Debian: apt-get install systemd)")
    unit = UNIT.read_text()
    assert INSTALLED_EXE in unit and "Type=notify" in unit and "WatchdogSec=" in unit
    # verify checks that ExecStart exists: point it at this checkout's entry point instead of
    # the /opt install path (the only change made to the unit under test)
    exe = Path(sys.executable).parent / "csi-edge"
    assert exe.exists()
    tested = tmp_path / "csi-edge.service"
    tested.write_text(unit.replace(INSTALLED_EXE, str(exe)))
    res = subprocess.run([analyze, "verify", str(tested)], capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    assert "csi-edge.service" not in res.stderr, res.stderr  # no warnings about our unit


def test_unit_hardening_and_restart_policy():
    unit = dict(line.split("=", 1) for line in UNIT.read_text().splitlines() if "=" in line and not line.startswith("#"))
    expected = {"Restart": "on-failure", "NoNewPrivileges": "yes", "ProtectSystem": "strict", "ProtectHome": "yes",
                "PrivateTmp": "yes", "User": "csi-edge", "SupplementaryGroups": "dialout", "ExecReload": "/bin/kill -HUP $MAINPID"}
    for key, value in expected.items():
        assert unit.get(key) == value, key


def test_daemon_notifies_ready_watchdog_status_and_stopping(tmp_path, model_path):  # noqa: F811
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(tmp_path / "notify"))
    sock.settimeout(30)
    board = PtyBoard(tmp_path / "csi-edge-rx", speed=10.0)
    env = {"NOTIFY_SOCKET": str(tmp_path / "notify"), "WATCHDOG_USEC": "200000"}
    daemon = DaemonProcess(_run_args(board, None, "notify", model_path), env=env)
    messages: list[bytes] = []
    try:
        while not any(b"READY=1" in m for m in messages):
            messages.append(sock.recv(4096))
        ready_log = daemon.wait_log(" ready ")
        while not any(m.startswith(b"STATUS=") and b"pkt/s" in m for m in messages):
            messages.append(sock.recv(4096))
        assert daemon.terminate() == 0
        while b"STOPPING=1" not in messages:
            messages.append(sock.recv(4096))
    finally:
        daemon.kill()
        board.close()
        sock.close()
    assert int(ready_log.split("frames=")[1].split()[0]) > 0  # READY only once frames flow
    assert b"WATCHDOG=1" in messages
    ready = next(m for m in messages if b"READY=1" in m)
    assert ready == b"READY=1\nSTATUS=processing serial:" + str(board.link).encode()
