"""The disk fills up under a recording: the recorder stops with one line naming the session and
the reason, leaves no half-written temporary file, and once there is room again `capture info`
recovers everything that was written and `verify` agrees."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from capture_support import run_cli, sim_file
from daemon_harness import REPO
from fault_support import grow

pytestmark = pytest.mark.timeout(150)


def test_capture_on_a_full_disk(tmp_path, tmpfs):
    stream, _ = sim_file(tmp_path, "sim.bin", 30, seed=2)  # ~520 kB of frames for a 256 KiB disk
    disk = tmpfs(256)
    out = disk / "session"
    proc = subprocess.run([sys.executable, "-m", "csi_edge.cli", "capture", "record", "--source", f"replay:{stream}",
                           "--out", str(out), "--label", "walking", "--fsync-interval", "0.05"],
                          capture_output=True, text=True, timeout=120, cwd=REPO, stdin=subprocess.DEVNULL)  # fmt: skip
    errors = [line for line in proc.stderr.splitlines() if "error:" in line]
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert len(errors) == 1 and str(out) in errors[0] and "No space left on device" in errors[0]
    assert not list(out.glob(".*.tmp"))  # no .manifest.json.tmp left behind
    grow(disk, 4096)  # room again
    info = json.loads(run_cli("capture", "info", out, "--json").stdout)
    assert info["recovered"] is True and info["packets"] > 100
    assert run_cli("capture", "verify", out, check=False).returncode == 0
