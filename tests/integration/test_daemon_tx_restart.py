"""The transmitter reboots mid-stream: the daemon keeps publishing (issue 9, a live bug).

A real pty plays the RX board: frames are written ONE AT A TIME at 100 Hz, as the firmware
sends them over USB, so each serial read usually holds a single frame. Mid-stream the TX
sequence jumps back to 0 (the transmitter rebooted). The real daemon (`csi-edge run --source
serial:/dev/pts/N`, a subprocess) must publish again within one window of the restart, count
the restart, and keep going. The board thread paces its writes (it plays a 100 Hz board);
the test waits on events (log lines, JSON lines) with bounded timeouts, never on sleeps.
"""

from __future__ import annotations

import os
import threading
import time
import tty

import pytest
from daemon_harness import DaemonProcess

from csi_edge.tools.bench.tiny_model import build_tiny_model
from csi_edge.tools.sim import simulate

pytestmark = pytest.mark.timeout(120)

WINDOW, HOP = 100, 10
BEFORE_SEQ = 500_000  # the transmitter has been up for a while ...
BEFORE_S, AFTER_S = 3.0, 4.0  # ... then reboots and counts from 0 again


def frames_of(seconds: float, start_seq: int, seed: int) -> list[bytes]:
    rec = simulate(seconds, activity="walking", seed=seed, start_seq=start_seq, loss=False)
    blob = rec.to_v1()
    size = len(blob) // len(rec)
    return [blob[i : i + size] for i in range(0, len(blob), size)]


class OneFrameBoard(threading.Thread):
    """Writes each frame with its own write() at `rate_hz` into a pty master."""

    def __init__(self, frames: list[bytes], rate_hz: float = 100.0) -> None:
        super().__init__(daemon=True)
        self.master, self.slave = os.openpty()
        tty.setraw(self.slave)
        self.path = os.ttyname(self.slave)
        self.frames, self.period = frames, 1.0 / rate_hz
        self.go = threading.Event()
        self.stop = threading.Event()
        self.written = 0

    def run(self) -> None:
        if not self.go.wait(60):
            return
        t0 = time.monotonic()
        for k, frame in enumerate(self.frames):
            if self.stop.is_set():
                return
            os.write(self.master, frame)
            self.written = k + 1
            delay = t0 + (k + 1) * self.period - time.monotonic()
            if delay > 0:
                self.stop.wait(delay)  # pacing the simulated board, not synchronising the test

    def close(self) -> None:
        self.stop.set()
        self.go.set()
        self.join(5)
        os.close(self.master)
        os.close(self.slave)


def test_daemon_keeps_publishing_after_the_transmitter_restarts(tmp_path):
    before = frames_of(BEFORE_S, BEFORE_SEQ, seed=4)
    after = frames_of(AFTER_S, 0, seed=5)
    model = build_tiny_model(tmp_path / "m", window=WINDOW, hop=HOP)
    board = OneFrameBoard(before + after)
    board.start()
    daemon = DaemonProcess(["--source", f"serial:{board.path}", "--no-mqtt", "--jsonl", "-", "--model", str(model),
                            "--node", "restart", "--set", "health.interval_s=0.5"])
    try:
        daemon.wait_log("serial_open", timeout=60)  # pyserial flushes the input on open: write after it
        board.go.set()
        first = daemon.wait_json(lambda o: o["topic"] == "state", timeout=30)
        assert first["packet_seq"] >= BEFORE_SEQ
        restarted = daemon.wait_json(lambda o: o["topic"] == "state" and o["packet_seq"] < BEFORE_SEQ, timeout=30)
        later = daemon.wait_json(lambda o: o["topic"] == "state" and o["packet_seq"] < BEFORE_SEQ
                                 and o["seq"] >= restarted["seq"] + 5, timeout=30)
        health = daemon.wait_json(lambda o: o["topic"] == "health" and o["seq_restarts"] >= 1, timeout=30)
        assert daemon.terminate() == 0
    finally:
        daemon.kill()
        board.close()
    # within one window of the restart: the ring restarted at seq 0 and was full again at seq 99
    assert restarted["packet_seq"] == WINDOW - 1
    assert later["packet_seq"] == WINDOW - 1 + 5 * HOP  # and it keeps going, one result per hop
    assert health["seq_restarts"] == 1 and health["window_resets"] >= 1 and health["packets_lost"] == 0
    assert any("window_reset" in line and "seq restart" in line for line in daemon.err_lines)
