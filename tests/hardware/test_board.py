"""Hardware tier: a real RX board on a serial port (skipped unless `pytest --port PORT`).

The same checks the simulator-backed tests make, against the real radio: the board answers a
HELLO request, streams decodable CSI frames with the L-LTF present, and its STATS counters
satisfy the firmware's invariant.
"""

from __future__ import annotations

import time

import numpy as np
import serial

from csi_edge.decoder import StreamDecoder
from csi_edge.frames import FrameBatch

READ_SECONDS = 10.0


def _read(port: str, seconds: float):
    decoder = StreamDecoder()
    frames, hellos, stats = [], [], []
    with serial.Serial(port, 921600, timeout=0.2) as link:
        link.reset_input_buffer()
        link.write(b"h")  # HELLO request (docs/wire-protocol.md)
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            out = decoder.feed(link.read(4096))
            frames.append(out.frames)
            hellos += out.hellos
            stats += out.stats
    return FrameBatch.concat(frames), hellos, stats, decoder


def test_board_streams_csi_hello_and_stats(board_port):
    frames, hellos, stats, decoder = _read(board_port, READ_SECONDS)
    assert hellos and hellos[-1].role == 1, "no HELLO from an RX board after the 'h' request"
    assert len(frames) >= 0.5 * hellos[-1].send_rate_hz * READ_SECONDS, f"only {len(frames)} CSI frames"
    assert np.all(frames.meta["csi_len"] >= 128), "frames without the L-LTF block"
    assert np.all(np.diff(frames.meta["seq"]) > 0) or len(frames) < 2, "TX sequence not increasing"
    assert not decoder.errors, f"decode errors on a clean link: {dict(decoder.errors)}"
    assert stats, "no STATS frame in 10 s"
    last = stats[-1]
    assert last.captured >= last.sent + last.dropped_queue + last.dropped_write
