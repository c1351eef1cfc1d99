"""Helpers for the `csi-edge capture` integration tests: the CLI as real subprocesses.

Waiting is always a bounded poll of an observable (a file, a manifest, a process), never a
sleep used as synchronisation.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CSI_EDGE = str(Path(sys.executable).with_name("csi-edge"))
POLL_S = 0.02


def run_cli(*args, check: bool = True, timeout: float = 120, stdin=subprocess.DEVNULL) -> subprocess.CompletedProcess:
    proc = subprocess.run([CSI_EDGE, *map(str, args)], capture_output=True, text=True, timeout=timeout, stdin=stdin)
    if check and proc.returncode != 0:
        raise AssertionError(f"csi-edge {' '.join(map(str, args))} exited {proc.returncode}: {proc.stderr[-2000:]}")
    return proc


def wait_for(predicate, timeout: float = 30.0, what: str = "condition"):
    """Poll `predicate()` until it returns something truthy (returned), or fail after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(POLL_S)  # polling interval, not synchronisation


def read_json(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None  # not written yet (the manifest is replaced atomically, so never half)


def label_events(session: Path) -> list[dict]:
    try:
        lines = (session / "labels.jsonl").read_text().splitlines(keepends=True)
    except OSError:
        return []
    return [json.loads(line) for line in lines if line.endswith("\n")]


def sim_file(tmp: Path, name: str, seconds: float, seed: int, activity: str = "mixed") -> tuple[Path, list[dict]]:
    """A simulated recording (v1 frames) and its ground truth rows (seq, activity, x, y, z)."""
    path = tmp / name
    run_cli("sim", "--out", path, "--seconds", seconds, "--activity", activity, "--seed", seed)
    with open(f"{path}.truth.csv", newline="") as fh:
        return path, list(csv.DictReader(fh))


def truth_segments(rows: list[dict]) -> list[tuple[str, int]]:
    """Runs of the same activity as (activity, packets), in order."""
    runs: list[list] = []
    for row in rows:
        if runs and runs[-1][0] == row["activity"]:
            runs[-1][1] += 1
        else:
            runs.append([row["activity"], 1])
    return [(a, n) for a, n in runs]


class SimPty:
    """`csi-edge sim --pty ...` as a subprocess; `path` is the pty it serves."""

    def __init__(self, *args) -> None:
        self.proc = subprocess.Popen([CSI_EDGE, "sim", "--pty", *map(str, args)], stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)  # fmt: skip
        self.path = self.proc.stdout.readline().strip()
        if not self.path.startswith("/dev/"):
            self.stop()
            raise AssertionError(f"csi-edge sim --pty printed {self.path!r}: {self.proc.stderr.read()[-1000:]}")

    def wait(self, timeout: float = 120.0) -> str:
        """Wait for the simulator to finish on its own (--seconds); returns its stderr."""
        self.proc.wait(timeout=timeout)
        return self.proc.stderr.read()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for stream in (self.proc.stdout, self.proc.stderr):
            stream.close()


def need_tmux() -> str:
    tmux = shutil.which("tmux")
    if tmux is None:
        pytest.skip("tmux is not installed (apt-get install tmux)")
    return tmux


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
