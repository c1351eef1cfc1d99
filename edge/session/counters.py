"""Link counters of a capture: the daemon's LinkMonitor plus where gaps and gain changes are.

Counting (received, lost, RSSI, gains, rate) is `csi_edge.link.LinkMonitor`, the same code
the daemon runs. On top, a capture needs *where* things happened, by packet index, for the
`info` warnings: the sequence gaps and the AGC/FFT gain changes. The same counting runs live
(`update` per decoded batch) and when a session is read back (`update` over each run), so
`record` and `info` agree exactly.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from csi_edge.frames import FFT_GAIN_UNKNOWN, FrameBatch
from csi_edge.link import LinkMonitor
from csi_edge.seq import SeqKind

MAX_LISTED = 1000  # gaps and gain changes listed individually (all are counted)


@dataclass
class GainChange:
    packet: int  # first packet with the new gains
    agc_gain: int
    fft_gain: int


@dataclass
class LinkCounters:
    """Running totals over the packets seen so far (see module docstring)."""

    monitor: LinkMonitor = field(default_factory=LinkMonitor)
    packets: int = 0
    rssi_last: int | None = None
    agc_gain: int | None = None
    fft_gain: int | None = None
    gain_changes: list[GainChange] = field(default_factory=list)  # the first MAX_LISTED
    gain_change_count: int = 0
    gaps: list[tuple[int, int]] = field(default_factory=list)  # (packet, seq numbers missing before it)
    gap_count: int = 0

    def new_run(self) -> None:
        """A new recording run (--append): no gap or gain change across the boundary."""
        self.monitor.last_seq = None
        self.agc_gain = self.fft_gain = None

    def update(self, frames: FrameBatch, now: float = 0.0) -> None:
        """Count one decoded batch (`now`: host monotonic seconds, for the packet rate)."""
        n = len(frames)
        if n == 0:
            return
        meta = frames.meta
        self.monitor.update(frames, now)
        self._track_gaps()
        self.rssi_last = int(meta["rssi"][-1])
        self._track_gains(meta)
        self.packets += n

    def _track_gaps(self) -> None:
        """List where the latest batch's sequence gaps are (the monitor has classified it)."""
        steps = self.monitor.seq_steps
        gap = steps.kind == SeqKind.GAP
        rows = self.monitor.seq_rows[gap]
        self.gap_count += len(rows)
        for row, step in list(zip(rows, steps.step[gap], strict=True))[: max(0, MAX_LISTED - len(self.gaps))]:
            self.gaps.append((self.packets + int(row), int(step) - 1))

    def _track_gains(self, meta: np.ndarray) -> None:
        agc = meta["agc_gain"].astype(np.int64)
        fft = meta["fft_gain"].astype(np.int64)
        prev_agc = np.r_[agc[0] if self.agc_gain is None else self.agc_gain, agc[:-1]]
        prev_fft = np.r_[fft[0] if self.fft_gain is None else self.fft_gain, fft[:-1]]
        known = (agc >= 0) & (prev_agc >= 0) & (fft != FFT_GAIN_UNKNOWN) & (prev_fft != FFT_GAIN_UNKNOWN)
        changed = np.flatnonzero(known & ((agc != prev_agc) | (fft != prev_fft)))
        self.gain_change_count += len(changed)
        for i in changed[: max(0, MAX_LISTED - len(self.gain_changes))]:
            self.gain_changes.append(GainChange(self.packets + int(i), int(agc[i]), int(fft[i])))
        self.agc_gain, self.fft_gain = int(agc[-1]), int(fft[-1])

    @property
    def lost(self) -> int:
        return self.monitor.lost

    @property
    def gain_lock(self) -> int:
        return self.monitor.gain_lock

    @property
    def loss_percent(self) -> float:
        return self.monitor.loss_percent


def error_counts(errors: Counter) -> dict[str, int]:
    return {k: int(v) for k, v in sorted(errors.items()) if v}
