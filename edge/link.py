"""Link monitor: what the stream says about the radio link and the board, per decoded batch.

Counts, vectorised over each FrameBatch:
- TX sequence numbers, classified by `csi_edge.seq` (the one home of that arithmetic): gaps =
  packets lost on the air or in the board (`lost`), late packets = duplicates / out of order
  (`reordered`), restarts = the TX rebooted and counts from 0 again (`seq_restarts`); the
  classification of the latest batch is kept (`seq_steps`, `seq_rows`) for callers that need
  to know *where* the gaps are (the capture counters);
- packet rate (packets per second of host time over a sliding window of batches);
- RSSI / noise floor (mean of the latest batch), AGC / FFT gain and gain-lock state (latest);
- decode errors by reason (the decoder's own Counter, reported as is);
- the board's STATS frames (latest counters: queue drops, send errors, ...).
"""

from __future__ import annotations

from collections import Counter, deque

import numpy as np

from csi_edge.frames import FFT_GAIN_UNKNOWN, FrameBatch
from csi_edge.protocol import Hello, Stats
from csi_edge.seq import SeqKind, SeqSteps, classify

_NO_ROWS = np.zeros(0, dtype=np.int64)
_NO_STEPS = classify(None, _NO_ROWS)  # an empty batch (its `last` is never read)


class LinkMonitor:
    def __init__(self, rate_window_s: float = 5.0) -> None:
        self.received = 0
        self.lost = 0
        self.reordered = 0
        self.seq_restarts = 0
        self.last_seq: int | None = None
        self.rssi_dBm = float("nan")
        self.noise_floor_dBm = float("nan")
        self.agc_gain = -1
        self.fft_gain = FFT_GAIN_UNKNOWN
        self.gain_lock = -1
        self.secondary_channel = -1
        self.board_stats: Stats | None = None
        self.hello: Hello | None = None
        self.decode_errors: Counter[str] = Counter()
        self.seq_rows = _NO_ROWS  # rows of the latest batch that carry a seq ...
        self.seq_steps: SeqSteps = _NO_STEPS  # ... and how each was classified
        self._rate: deque[tuple[float, int]] = deque()
        self._rate_window = rate_window_s

    def update(self, frames: FrameBatch, now: float, stats=(), hellos=()) -> None:
        """Account for one decoded batch that arrived at host time `now` (monotonic seconds)."""
        if stats:
            self.board_stats = stats[-1]
        if hellos:
            self.hello = hellos[-1]
        n = len(frames)
        self._rate.append((now, n))
        while self._rate and self._rate[0][0] < now - self._rate_window:
            self._rate.popleft()
        if n == 0:
            self.seq_rows, self.seq_steps = _NO_ROWS, _NO_STEPS
            return
        meta = frames.meta
        self._count_seq(meta["seq"])
        self.received += n
        self.rssi_dBm = float(meta["rssi"].mean())
        self.noise_floor_dBm = float(meta["noise_floor"].mean())
        last = meta[-1]
        self.agc_gain, self.fft_gain, self.gain_lock = int(last["agc_gain"]), int(last["fft_gain"]), int(last["gain_lock"])
        self.secondary_channel = int(last["secondary_channel"])

    def _count_seq(self, seq: np.ndarray) -> None:
        self.seq_rows = np.flatnonzero(seq >= 0)  # text formats may carry no seq (-1)
        steps = self.seq_steps = classify(self.last_seq, seq[self.seq_rows])
        self.lost += steps.lost
        self.reordered += steps.count(SeqKind.LATE)
        self.seq_restarts += steps.count(SeqKind.RESTART)
        self.last_seq = steps.last

    def set_decode_errors(self, errors: Counter) -> None:
        self.decode_errors = Counter(errors)

    @property
    def rate_hz(self) -> float:
        if len(self._rate) < 2:
            return 0.0
        span = self._rate[-1][0] - self._rate[0][0]
        return sum(n for _, n in list(self._rate)[1:]) / span if span > 0 else 0.0

    @property
    def loss_percent(self) -> float:
        total = self.received + self.lost
        return 100.0 * self.lost / total if total else 0.0

    def snapshot(self) -> dict:
        """Health fields (names carry units; see docs/data-fields.md)."""
        out: dict[str, object] = {
            "packet_rate_Hz": round(self.rate_hz, 2),
            "packets_received": self.received,
            "packets_lost": self.lost,
            "loss_percent": round(self.loss_percent, 3),
            "packets_reordered": self.reordered,
            "seq_restarts": self.seq_restarts,
            "rssi_dBm": None if np.isnan(self.rssi_dBm) else round(self.rssi_dBm, 1),
            "noise_floor_dBm": None if np.isnan(self.noise_floor_dBm) else round(self.noise_floor_dBm, 1),
            "agc_gain": self.agc_gain,
            "fft_gain": None if self.fft_gain == FFT_GAIN_UNKNOWN else self.fft_gain,
            "gain_lock": self.gain_lock,
            "decode_errors": dict(self.decode_errors),
        }
        if self.board_stats is not None:
            out["board"] = self.board_stats.to_dict()
        if self.hello is not None:
            out["firmware"] = self.hello.firmware_version
        return out
