"""A crafted checkpoint: `csi-edge export crafted.pt` must not run what the file carries.
Checkpoints load weights only (issue 11 defect 2); this is its fault test."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys

import pytest
from daemon_harness import REPO

pytestmark = pytest.mark.timeout(180)


class _Payload:
    """Unpickling this runs a shell command (what a malicious .pt does)."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


def test_a_crafted_checkpoint_runs_nothing(tmp_path):
    pytest.importorskip("torch", reason="export needs the [train] extra (torch)")
    marker = tmp_path / "pwned"
    crafted = tmp_path / "crafted.pt"
    crafted.write_bytes(pickle.dumps({"model": _Payload(str(marker))}))
    proc = subprocess.run([sys.executable, "-m", "csi_edge.cli", "export", str(crafted), "--out", str(tmp_path / "x")],
                          capture_output=True, text=True, timeout=150, cwd=REPO)  # fmt: skip
    assert not marker.exists(), "the checkpoint ran a command"
    assert proc.returncode != 0 and "Traceback" not in proc.stderr
    assert len([line for line in proc.stderr.splitlines() if "error:" in line]) == 1
