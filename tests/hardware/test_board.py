"""Hardware tier: a real pair flashed with `csi-edge flash pair`, the RX on a serial port.

    pytest --port /dev/ttyACM0 tests/hardware                          # the RX board
    CSI_EDGE_TX_PORT=/dev/ttyACM1 pytest --port /dev/ttyACM0 tests/hardware   # + the TX reset test

Skipped unless --port names the RX. What an installer needs to know after flashing:
- the board runs (HELLO status), and its HELLO matches the settings in its own NVS partition
  (read back with esptool, not taken from the flash tool's files);
- at least 95 % of the TX rate (>= 95 Hz at 100 Hz) sustained over 60 s, and every missing TX
  sequence number accounted for by the board's counters (lost on air, or dropped);
- AGC/FFT gains present in every frame, and the gain lock in the state the settings ask for;
- TX sequence numbers strictly increasing (no MAC retry streamed twice);
- with CSI_EDGE_TX_PORT: the TX is reset (esptool, which resets the chip like a power cycle
  restarts the firmware) and the RX's stream comes back by itself, seq restarting near 0,
  with nothing done on the host side.
docs/firmware.md (bring-up checklist) says what each failure means.
"""

from __future__ import annotations

import os
import subprocess
import time
from dataclasses import dataclass, field

import numpy as np
import pytest
import serial

from csi_edge import protocol as p
from csi_edge.decoder import StreamDecoder
from csi_edge.frames import FrameBatch
from csi_edge.tools.flash import boards, layout, nvs_image, settings, verify

SUSTAIN_S = 60.0
MIN_RATE_FRACTION = 0.95
GAIN_LOCK_LOCKED, GAIN_LOCK_SKIPPED = 2, 3


@dataclass
class Capture:
    frames: FrameBatch
    hellos: list = field(default_factory=list)
    stats: list = field(default_factory=list)
    logs: list = field(default_factory=list)
    errors: dict = field(default_factory=dict)
    seconds: float = 0.0


def _capture(port: str, seconds: float, ask_hello: bool = True) -> Capture:
    decoder = StreamDecoder()
    out = Capture(FrameBatch.concat([]))
    batches = []
    with serial.Serial(port, 921600, timeout=0.2) as link:
        link.reset_input_buffer()
        if ask_hello:
            link.write(b"h")  # HELLO request (docs/wire-protocol.md)
        t0 = time.monotonic()
        while time.monotonic() - t0 < seconds:
            got = decoder.feed(link.read(max(1, link.in_waiting)))
            batches.append(got.frames)
            out.hellos += got.hellos
            out.stats += got.stats
            out.logs += got.logs
        out.seconds = time.monotonic() - t0
    out.frames = FrameBatch.concat(batches)
    out.errors = dict(decoder.errors)
    return out


@pytest.fixture(scope="module")
def sustained(request) -> Capture:
    """60 s of the RX's stream (read once, checked by several tests)."""
    port = request.config.getoption("--port")
    if not port:
        pytest.skip("hardware test: give the RX board's serial port with --port /dev/ttyACM0")
    return _capture(port, SUSTAIN_S)


def _running_hello(cap: Capture) -> p.Hello:
    assert cap.hellos, "no HELLO after the 'h' request: wrong port or transport, or the firmware did not start"
    hello = cap.hellos[-1]
    assert hello.role == settings.ROLE_RX, "the board on --port is not the RX"
    assert hello.problem is None, f"the board reports: {hello.problem}"
    return hello


def test_rx_sustains_the_tx_rate_and_counts_every_loss(sustained):
    hello = _running_hello(sustained)
    assert not sustained.errors, f"decode errors on a clean link: {sustained.errors}"
    frames, stats = sustained.frames, sustained.stats
    rate_hz = len(frames) / sustained.seconds
    assert rate_hz >= MIN_RATE_FRACTION * hello.send_rate_hz, (
        f"{rate_hz:.1f} Hz over {sustained.seconds:.0f} s, the TX sends {hello.send_rate_hz} Hz")
    assert len(stats) >= SUSTAIN_S - 2, f"only {len(stats)} STATS frames in {SUSTAIN_S:.0f} s"
    first, last = stats[0], stats[-1]
    queued = last.captured - last.sent - last.dropped_queue - last.dropped_write
    assert 0 <= queued <= last.queue_capacity, "captured != sent + dropped + queued"
    # sequence numbers the host never saw = lost on air + dropped on the board (within the
    # second the first and last STATS leave open at each end)
    seq = frames.meta["seq"].astype(np.int64)
    missing = int(seq[-1] - seq[0] + 1 - len(seq))
    counted = (last.seq_gaps - first.seq_gaps) + (last.dropped_queue - first.dropped_queue) + (
        last.dropped_write - first.dropped_write)
    slack = 2 * hello.send_rate_hz * (1 - MIN_RATE_FRACTION) + 5
    assert abs(missing - counted) <= slack, f"{missing} seqs missing on the host, the board counted {counted}"


def test_seq_strictly_increasing(sustained):
    seq = sustained.frames.meta["seq"].astype(np.int64)
    assert len(seq) > 1
    assert np.all(np.diff(seq) > 0), "TX sequence not strictly increasing (a retry streamed twice, or a TX reboot)"


def test_gains_present_and_lock_as_configured(sustained):
    hello = _running_hello(sustained)
    meta = sustained.frames.meta
    assert np.all(meta["agc_gain"] > 0), "frames without an AGC gain"
    state = meta["gain_lock"]
    if not hello.gain_lock:
        assert np.all(state == 0), "gain lock state set although the lock is off"
        return
    settled = state[hello.gain_lock_packets + 10 :]
    assert len(settled) and np.all(np.isin(settled, (GAIN_LOCK_LOCKED, GAIN_LOCK_SKIPPED))), (
        f"gain lock not settled after {hello.gain_lock_packets} packets: states {np.unique(state)}")
    assert sustained.stats[-1].gain_lock == int(settled[-1]), "STATS and the CSI frames disagree on the lock"


def test_hello_matches_the_boards_own_nvs(board_port, tmp_path):
    """Reads the NVS partition back with esptool (this resets the RX), then the HELLO."""
    image = tmp_path / "nvs.bin"
    cmd = boards.read_flash_command(board_port, layout.NVS_OFFSET, layout.NVS_SIZE, image)
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, boards.explain_failure(board_port, res.stdout + res.stderr)
    stored = nvs_image.read_nvs(image.read_bytes(), str(image)).get(settings.NAMESPACE)
    assert stored, f"{board_port}: no csi_edge namespace in NVS (flash with csi-edge flash pair)"
    values = {key: value for key, (_type, value) in stored.items()}
    cap = _capture(board_port, 8.0)  # the board has just rebooted: HELLO at boot, and on request
    hello = _running_hello(cap)
    assert verify.hello_mismatches(hello, values, None) == [], "HELLO differs from the board's NVS"
    assert hello.extended, "firmware 1.0 on the board: flash the 1.1 build"


def test_tx_reset_recovers_without_the_host(board_port):
    tx_port = os.environ.get("CSI_EDGE_TX_PORT")
    if not tx_port:
        pytest.skip("give the TX board's port in CSI_EDGE_TX_PORT to reset it during the test")
    before = _capture(board_port, 3.0)
    rate_hz = _running_hello(before).send_rate_hz
    assert len(before.frames), "no CSI before the TX reset"
    # esptool resets the TX into its bootloader and back (--after hard-reset): the TX firmware
    # starts again from seq 0, as after a power cycle
    res = subprocess.run(boards.reset_command(tx_port), capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, boards.explain_failure(tx_port, res.stdout + res.stderr)
    after = _capture(board_port, 15.0, ask_hello=False)  # the host does nothing but read
    seq = after.frames.meta["seq"].astype(np.int64)
    assert len(seq) >= MIN_RATE_FRACTION * rate_hz * 10, "the stream did not come back within 5 s of the TX reset"
    assert seq.min() < 20 * rate_hz, "no restarted TX sequence (near 0) after the reset"
    assert not after.errors, f"decode errors after the TX reset: {after.errors}"
