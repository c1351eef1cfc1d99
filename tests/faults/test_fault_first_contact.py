"""What a new user meets first: no silent simulator, a missing serial port, an empty file, a
capture that cannot start. One line each, and nothing left behind that blocks the retry."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from capture_support import SimPty, run_cli, sim_file
from daemon_harness import REPO

pytestmark = pytest.mark.timeout(120)


def csi_edge(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "csi_edge.cli", *args], capture_output=True, text=True, timeout=120, cwd=REPO)


def test_no_silent_simulator(tmp_path, model):
    for command in (["run", "--no-mqtt"], ["capture", "record", "--out", str(tmp_path / "s")]):
        proc = csi_edge(*command)
        assert proc.returncode == 2 and "no source: pass --source" in proc.stderr and "sim (simulated boards" in proc.stderr
    assert not (tmp_path / "s").exists()
    sim = csi_edge("run", "--source", "sim", "--no-mqtt", "--model", str(model), "--seconds", "1")
    assert sim.returncode == 0 and "warning source_simulated" in sim.stderr


def test_capture_from_a_missing_port_fails_at_once_and_the_retry_works(tmp_path):
    out = tmp_path / "session"
    proc = csi_edge("capture", "record", "--source", "serial:/dev/ttyDOESNOTEXIST", "--out", str(out), "--label", "walking")
    assert proc.returncode == 2 and "serial port /dev/ttyDOESNOTEXIST does not exist" in proc.stderr
    assert "Traceback" not in proc.stderr and not out.exists()
    board = SimPty("--seconds", "2", "--fast", "--activity", "walking")
    try:
        retry = run_cli("capture", "record", "--source", f"serial:{board.path}", "--out", out, "--label", "walking",
                        "--max-packets", "50")  # fmt: skip
    finally:
        board.stop()
    assert "(max-packets)" in retry.stderr and (out / "manifest.json").exists()  # recorded until --max-packets


def test_capture_keeps_what_the_board_says_about_itself(tmp_path):
    stream, _ = sim_file(tmp_path, "sim.bin", 3, seed=1)  # starts with the board's HELLO
    out = tmp_path / "session"
    run_cli("capture", "record", "--source", f"replay:{stream}", "--out", out, "--label", "walking")
    boards = json.loads((out / "manifest.json").read_text())["boards"]
    assert boards and boards[0]["csi_scaling"] == "manual:4" and boards[0]["country"] == "01" and boards[0]["problem"] is None


def test_an_empty_recording_says_there_are_no_packets(tmp_path, model):
    empty = tmp_path / "empty.bin"
    empty.write_bytes(b"")
    run = csi_edge("run", "--source", f"replay:{empty}", "--no-mqtt", "--model", str(model))
    assert run.returncode == 1 and f"replay:{empty}: no CSI packets in this file" in run.stderr
    out = tmp_path / "session"
    capture = csi_edge("capture", "record", "--source", f"replay:{empty}", "--out", str(out))
    assert capture.returncode == 1 and "no CSI packets" in capture.stderr and not out.exists()


def test_capture_export_help_lists_its_formats():
    text = csi_edge("capture", "export", "--help").stdout
    for fmt in ("3do-csv", "npz", "raw"):
        assert f"{fmt}:" in text
