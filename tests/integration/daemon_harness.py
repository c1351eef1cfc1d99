"""Test harness for `csi-edge run`: simulated boards on a real pty, the daemon as a subprocess.

`PtyBoard` plays the RX board: a real pty whose slave is reachable through a symlink (like the
udev rule's /dev/csi-edge-rx); a thread writes the simulator's byte stream into the master at
`speed` x real time. `replug()` closes the pty (the daemon sees the device vanish) and
re-points the symlink to a fresh one. `inject()` writes extra bytes (garbage) into the stream.

`DaemonProcess` runs `python -m csi_edge.cli run ...` (or another command: `fuse`) and collects stdout (JSON lines) and
stderr (log events) line by line in queues, so tests wait on events, never on sleeps.
"""

from __future__ import annotations

import json
import os
import queue
import select
import subprocess
import sys
import threading
import time
import tty
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]


def board_chunks(seed: int = 0, activity: str = "walking"):
    """The simulator's RX byte stream (v1 frames, HELLO, STATS), as fast as it is taken."""
    from csi_edge.tools.sim import stream

    return stream(day=1, activity=activity, seed=seed, fmt="v1", realtime=False)


class PtyBoard:
    def __init__(self, link: Path, speed: float = 10.0, seed: int = 0, activity: str = "walking") -> None:
        self.link = Path(link)
        self.speed = speed
        self._chunks = board_chunks(seed, activity)
        self._extra: queue.Queue[bytes] = queue.Queue()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._running = threading.Event()
        self._running.set()
        self.truth: list[np.ndarray] = []
        self.written = 0
        self._open_pty()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _open_pty(self) -> None:
        master, slave = os.openpty()
        tty.setraw(slave)
        self.master, self.slave = master, slave
        tmp = self.link.with_suffix(".tmp")
        if tmp.is_symlink():
            tmp.unlink()
        tmp.symlink_to(os.ttyname(slave))
        os.replace(tmp, self.link)  # atomic re-point, as udev does

    def replug(self) -> None:
        """The board vanishes (pty closed) and reappears under the same link."""
        with self._lock:
            os.close(self.master)
            os.close(self.slave)
            self._open_pty()

    def pause(self) -> None:
        """The board stops sending (e.g. to let everything in flight settle)."""
        self._running.clear()

    def resume(self) -> None:
        self._running.set()

    def inject(self, data: bytes) -> None:
        self._extra.put(data)

    def _write_all(self, data: bytes) -> None:
        view = memoryview(data)
        while view and not self._stop.is_set():
            with self._lock:
                fd = self.master
                _, writable, _ = select.select([], [fd], [], 0.05)
                if writable:
                    try:
                        n = os.write(fd, view[:4096])
                    except BlockingIOError:
                        continue
                    view = view[n:]
                    self.written += n

    def _run(self) -> None:
        t0 = time.monotonic()
        packets = 0
        for data, truth in self._chunks:
            if not self._running.is_set():
                paused = time.monotonic()
                while not self._running.wait(0.1):
                    if self._stop.is_set():
                        return
                t0 += time.monotonic() - paused  # resume at the real-time pace
            if self._stop.is_set():
                return
            while not self._extra.empty():
                self._write_all(self._extra.get())
            self._write_all(data)
            if truth is not None:
                self.truth.append(truth)
            packets += 10
            delay = t0 + packets / (100.0 * self.speed) - time.monotonic()
            if delay > 0:
                self._stop.wait(delay)  # pacing the simulated board, not synchronising the test

    def truth_activity_codes(self) -> np.ndarray:
        return np.concatenate([t["activity"] for t in self.truth]) if self.truth else np.zeros(0)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        for fd in (self.master, self.slave):
            try:
                os.close(fd)
            except OSError:
                pass


class DaemonProcess:
    def __init__(self, args: list[str], env: dict | None = None, command: str = "run") -> None:
        cmd = [sys.executable, "-m", "csi_edge.cli", command, *args]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=REPO,
                                     env={**os.environ, **(env or {})})
        self.stdout: queue.Queue[str] = queue.Queue()
        self.stderr: queue.Queue[str] = queue.Queue()
        self.err_lines: list[str] = []
        self.out_lines: list[str] = []
        for stream, q, keep in ((self.proc.stdout, self.stdout, self.out_lines), (self.proc.stderr, self.stderr, self.err_lines)):
            threading.Thread(target=self._pump, args=(stream, q, keep), daemon=True).start()

    @staticmethod
    def _pump(stream, q, keep) -> None:
        for raw in stream:
            line = raw.decode(errors="replace").rstrip("\n")
            keep.append(line)
            q.put(line)
        q.put(None)

    def wait_log(self, needle: str, timeout: float = 20.0) -> str:
        """Wait for a stderr line containing `needle`."""
        return self._wait(self.stderr, lambda line: needle in line, timeout, f"log line with {needle!r}")

    def wait_json(self, predicate, timeout: float = 20.0) -> dict:
        """Wait for a JSON line on stdout for which `predicate(obj)` is true."""
        found = self._wait(self.stdout, lambda line: line.startswith("{") and predicate(json.loads(line)), timeout, "JSON line")
        return json.loads(found)

    def _wait(self, q, match, timeout, what) -> str:
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"timed out waiting for {what}; stderr tail: {self.err_lines[-8:]}")
            try:
                line = q.get(timeout=left)
            except queue.Empty:
                continue
            if line is None:
                q.put(None)
                raise AssertionError(f"daemon exited ({self.proc.poll()}) before {what}; stderr tail: {self.err_lines[-8:]}")
            if match(line):
                return line

    def json_lines(self, topic: str) -> list[dict]:
        out = []
        for line in list(self.out_lines):
            if line.startswith("{"):
                obj = json.loads(line)
                if obj.get("topic") == topic:
                    out.append(obj)
        return out

    def terminate(self, timeout: float = 30.0) -> int:
        if self.proc.poll() is None:
            self.proc.terminate()
        code = self.proc.wait(timeout)
        return code

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
