"""The web view's hand-off from the daemon's loop thread to the web server's thread.

The loop thread (the daemon's, or the capture's) calls `packets`, `message` and `card`. Each
call is cheap and never blocks: `packets` keeps every `decimation`-th packet, takes the 52
L-LTF amplitudes of only those (the one feature implementation, csi_edge.features) and
quantises them to uint8 dB steps before anything crosses to the other thread; every hand-off is one
append to a bounded deque (atomic in CPython, no lock). The server thread takes what has
arrived with `drain()` every push interval. If the server thread stalls, the oldest items
go first and are counted (`handoff_dropped`).
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass

import numpy as np

from csi_edge.features import amplitude
from csi_edge.frames import FrameBatch

# uint8 value = round(HEATMAP_SCALE x 20 log10(amplitude)): 0.18 dB steps from 0 dB (amplitude 1) to
# 45 dB (181, the largest an int8 pair can hold). Typical amplitudes (5..30) get 70+ levels; a
# linear uint8 would give them 15.
HEATMAP_SCALE = 5.6
MAX_ROW_BATCHES = 2048  # decimated batches waiting for the server thread (about 20 s at 100 batches/s)
MAX_MESSAGES = 1024  # state / health / card / label messages waiting for the server thread


@dataclass(frozen=True)
class Rows:
    """Decimated heatmap rows of one decoded batch."""

    arrival: float  # host monotonic time the batch arrived
    values: np.ndarray  # uint8 (N, 52): amplitude in dB x HEATMAP_SCALE, rounded and clipped


@dataclass(frozen=True)
class Message:
    kind: str  # "state" | "health" | "card" | "label"
    payload: object  # a JSON-ready dict (state, health, label) or the card view (card)
    at: float  # host monotonic time it was handed over


def quantise(amplitudes: np.ndarray) -> np.ndarray:
    """float amplitudes -> uint8 dB steps (see HEATMAP_SCALE); below 1 (0 dB) -> 0."""
    db = 20.0 * np.log10(np.maximum(amplitudes, 1.0))
    return np.clip(np.rint(db * HEATMAP_SCALE), 0, 255).astype(np.uint8)


class Feed:
    def __init__(self, decimation: int) -> None:
        self.decimation = decimation
        self._phase = 0  # packets seen modulo decimation: the next kept packet is where this is 0
        self._rows: deque[Rows] = deque(maxlen=MAX_ROW_BATCHES)
        self._messages: deque[Message] = deque(maxlen=MAX_MESSAGES)
        self.packets_total = 0  # packets seen (read by the server thread for the live rate)
        self.last_packet: float | None = None  # host monotonic time of the newest packet
        self.handoff_dropped = 0

    # loop thread ------------------------------------------------------------------------------
    def packets(self, frames: FrameBatch, arrival: float) -> None:
        n = len(frames)
        if n == 0:
            return
        first = (-self._phase) % self.decimation
        self._phase = (self._phase + n) % self.decimation
        self.packets_total += n
        self.last_packet = arrival
        if first >= n:
            return
        amp, valid = amplitude(frames[first :: self.decimation])
        if not valid.all():
            amp = amp[valid]
        if len(amp):
            self._put(self._rows, Rows(arrival, quantise(amp)))

    def message(self, kind: str, payload: object) -> None:
        self._put(self._messages, Message(kind, payload, time.monotonic()))

    def _put(self, queue: deque, item) -> None:
        if len(queue) == queue.maxlen:
            self.handoff_dropped += 1
        queue.append(item)

    # server thread ----------------------------------------------------------------------------
    def drain(self) -> tuple[list[Rows], list[Message]]:
        """Everything handed over since the last call, oldest first."""
        rows = [self._rows.popleft() for _ in range(len(self._rows))]
        messages = [self._messages.popleft() for _ in range(len(self._messages))]
        return rows, messages
