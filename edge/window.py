"""Window ring: per-packet features in, model windows out every `hop` packets.

Input per push: features float32 (N, S), validity (N,), TX seq (N,) (-1 unknown), host arrival
time of the batch. Output: every window completed by the push, as one array (B, W, S) in time
order, with the seq and arrival time of each window's newest packet (packet-to-publish latency
is measured from that arrival).

Lost-packet policy (by TX sequence number, classified by `csi_edge.seq`):
- a gap of 1..`max_gap_fill` packets is filled by linear interpolation between the packets on
  either side (counted in `filled`);
- a longer gap, or a TX restart (the transmitter rebooted and counts from 0 again), resets the
  window: the ring starts filling again from that packet, no window spans the hole, and the
  reset is reported (`resets`, `WindowOutput.resets`);
- late packets (duplicates, out of order) are dropped (`dropped`);
- invalid rows (e.g. too few CSI bytes for the feature) are treated as lost;
- rows without a seq (text formats that lack one) are taken as consecutive.
Everything is vectorised per batch; the only Python loop is over resets, which are rare.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from csi_edge.seq import SeqKind, classify


@dataclass(frozen=True)
class Reset:
    """Why the window started filling again."""

    restart: bool  # the TX restarted (its sequence jumped back, or far ahead)
    lost: int  # packets missing in the gap (0 for a restart)


@dataclass(frozen=True)
class WindowOutput:
    windows: np.ndarray  # float32 (B, W, S)
    end_seq: np.ndarray  # int64 (B,) seq of each window's newest packet (-1 unknown)
    arrival: np.ndarray  # float64 (B,) host monotonic time the newest packet arrived
    resets: list[Reset] = field(default_factory=list)  # in stream order

    def __len__(self) -> int:
        return len(self.windows)


class WindowRing:
    def __init__(self, size: int = 351, hop: int = 10, subcarriers: int = 52, max_gap_fill: int = 20) -> None:
        if size < 2 or hop < 1:
            raise ValueError("window size must be >= 2 and hop >= 1")
        self.size, self.hop, self.max_gap_fill = size, hop, max_gap_fill
        self.subcarriers = subcarriers
        self._tail = np.zeros((0, subcarriers), dtype=np.float32)  # newest size-1 rows
        self._count = 0  # rows since the last reset (real + filled)
        self._last_seq: int | None = None
        self.filled = 0
        self.resets = 0
        self.dropped = 0
        self.windows_out = 0

    @property
    def fill_percent(self) -> float:
        return 100.0 * min(self._count, self.size) / self.size

    @property
    def last_seq(self) -> int | None:
        """Seq of the newest packet taken in (None before the first one with a seq)."""
        return self._last_seq

    @property
    def packets_to_emit(self) -> int:
        """Rows (packets, real or filled) until the next window is emitted."""
        if self._count < self.size:
            return self.size - self._count
        return self.hop - (self._count - self.size) % self.hop

    def reset(self) -> None:
        self._tail = self._tail[:0]
        self._count = 0

    def push(self, features: np.ndarray, valid: np.ndarray, seq: np.ndarray, arrival: float) -> WindowOutput:
        features = np.asarray(features, dtype=np.float32)
        keep = np.asarray(valid, dtype=bool)
        x, s = features[keep], np.asarray(seq, dtype=np.int64)[keep]
        parts: list[WindowOutput] = []
        resets: list[Reset] = []
        if len(x):
            for seg_x, seg_fill, seg_seq, reset in self._segments(x, s):
                if reset is not None:
                    resets.append(reset)
                    self.resets += 1
                    self.reset()
                rows, row_seq = self._interpolate(seg_x, seg_fill, seg_seq)
                parts.append(self._append(rows, row_seq, arrival))
        return _concat(parts, self.size, self.subcarriers, resets)

    def _segments(self, x: np.ndarray, s: np.ndarray):
        """Split a batch where the window must reset; yield (rows, fills, seqs, Reset | None)."""
        if s[0] < 0 or self._last_seq is None and np.all(s < 0):
            yield x, np.zeros(len(x), dtype=np.int64), s, None  # no seq: take rows as consecutive
            return
        steps = classify(self._last_seq, s)
        kind, step = steps.kind, steps.step
        late = steps.late
        if late.any():
            self.dropped += int(np.count_nonzero(late))
            x, s, kind, step = x[~late], s[~late], kind[~late], step[~late]
            if not len(x):
                return
        self._last_seq = steps.last
        restart = kind == SeqKind.RESTART
        gaps = np.where(restart, 0, step - 1)
        breaks = np.flatnonzero(restart | (gaps > self.max_gap_fill))
        bounds = [0, *breaks.tolist(), len(x)]
        for a, b in zip(bounds[:-1], bounds[1:], strict=True):
            if a == b:
                continue
            fills = gaps[a:b].copy()
            reset = None
            if a in breaks:
                reset = Reset(restart=bool(restart[a]), lost=int(gaps[a]))
                fills[0] = 0
            yield x[a:b], fills, s[a:b], reset

    def _interpolate(self, x: np.ndarray, fills: np.ndarray, s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Insert fills[i] linearly interpolated rows before row i (from the previous row)."""
        if not fills.any():
            return x, s
        if self._count == 0:
            fills[0] = 0  # nothing before the first row of a fresh window
        if not fills.any():
            return x, s
        prev = np.concatenate([self._tail[-1:] if len(self._tail) else x[:1], x[:-1]])
        reps = fills + 1
        src = np.repeat(np.arange(len(x)), reps)
        k = np.arange(len(src)) - np.repeat(np.cumsum(reps) - reps, reps)  # 0..fills[i]
        frac = ((k + 1) / reps[src]).astype(np.float32)[:, None]
        rows = prev[src] + (x[src] - prev[src]) * frac
        row_seq = np.where(k == fills[src], s[src], -1)
        self.filled += int(fills.sum())
        return rows, row_seq

    def _append(self, rows: np.ndarray, row_seq: np.ndarray, arrival: float) -> WindowOutput:
        w = self.size
        ext = np.concatenate([self._tail, rows]) if len(self._tail) else rows
        counts = self._count + 1 + np.arange(len(rows))
        emit = np.flatnonzero((counts >= w) & ((counts - w) % self.hop == 0))
        self._count += len(rows)
        if len(emit):
            ends = len(self._tail) + emit  # index in ext of each window's newest row
            views = sliding_window_view(ext, w, axis=0)  # (len(ext)-w+1, S, w)
            windows = np.ascontiguousarray(views[ends - w + 1].transpose(0, 2, 1))
            self.windows_out += len(emit)
            out = WindowOutput(windows, row_seq[emit].astype(np.int64), np.full(len(emit), arrival))
        else:
            out = WindowOutput(np.zeros((0, w, self.subcarriers), np.float32), np.zeros(0, np.int64), np.zeros(0))
        self._tail = ext[-(w - 1):].copy()
        return out


def _concat(parts: list[WindowOutput], w: int, s: int, resets: list[Reset]) -> WindowOutput:
    parts = [p for p in parts if len(p)]
    if not parts:
        return WindowOutput(np.zeros((0, w, s), np.float32), np.zeros(0, np.int64), np.zeros(0), resets)
    if len(parts) == 1:
        p = parts[0]
        return WindowOutput(p.windows, p.end_seq, p.arrival, resets)
    return WindowOutput(
        np.concatenate([p.windows for p in parts]),
        np.concatenate([p.end_seq for p in parts]),
        np.concatenate([p.arrival for p in parts]),
        resets,
    )
