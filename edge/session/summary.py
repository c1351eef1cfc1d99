"""The figures of `info` gathered while a session streams by (memory flat in the session size).

`SummarySink` receives the decoded packets group by group (csi_edge.session.decode) and keeps
only what the summary needs: the session clock (RX time, restarted per run, never backwards)
at the packets where label spans begin and end, RSSI totals, AGC/FFT gain histograms per
minute of RX time (exact medians from counts), where the stream fell silent, and the clock at
the first gain change. Label spans come from the events alone (labels.label_spans: no
per-packet label array). The numbers equal those computed from the whole session in memory.
"""

from __future__ import annotations

from collections import Counter

import numpy as np

from csi_edge.frames import FFT_GAIN_UNKNOWN, FrameBatch
from csi_edge.session.counters import LinkCounters
from csi_edge.session.labels import StreamClock

STREAM_GAP_S = 1.0  # RX-clock silence longer than this is a warning
GAIN_BUCKET_S = 60.0
MAX_SILENCES = 10

def median_of_counts(counts: Counter) -> float:
    """np.median of the values a Counter counts."""
    values = sorted(counts)
    cum = np.cumsum([counts[v] for v in values])
    n = int(cum[-1])

    def nth(k: int) -> float:
        return float(values[int(np.searchsorted(cum, k, side="right"))])

    return nth(n // 2) if n % 2 else (nth(n // 2 - 1) + nth(n // 2)) / 2


class SummarySink:
    """A FrameSink keeping the figures of `info` (see the module docstring)."""

    def __init__(self, events: list[dict], counters: LinkCounters) -> None:
        self.counters = counters
        wanted = {0}
        for e in events:
            k = int(e.get("packet", 0))
            wanted.update((k, k - 1))
        self.wanted = np.asarray(sorted(w for w in wanted if w >= 0), dtype=np.int64)
        self.clock_at: dict[int, float] = {}
        self.clock = StreamClock()
        self.last_clock: float | None = None
        self.rssi_sum = 0
        self.rssi_min: float | None = None
        self.rssi_max: float | None = None
        self.gains: dict[int, tuple[Counter, Counter]] = {}  # minute bucket -> (AGC counts, FFT counts)
        self.silences: list[tuple[float, int, float]] = []  # (seconds, packet after it, clock there)
        self.first_gain_change_s: float | None = None

    def run_started(self, packet: int) -> None:
        fresh = StreamClock()
        fresh.now_s = self.clock.now_s  # a run restarts the RX clock where the last one ended
        self.clock = fresh

    def frames(self, batch: FrameBatch, first_packet: int) -> None:
        meta = batch.meta
        clock = self.clock.advance(meta["timestamp_us"])
        index = np.arange(first_packet, first_packet + len(batch))
        hit = self.wanted[(self.wanted >= first_packet) & (self.wanted < first_packet + len(batch))]
        self.clock_at.update({int(k): float(clock[k - first_packet]) for k in hit})
        self._silences(clock, index)
        self.last_clock = float(clock[-1])
        rssi = meta["rssi"].astype(np.int64)
        self.rssi_sum += int(rssi.sum())
        lo, hi = float(rssi.min()), float(rssi.max())
        self.rssi_min = lo if self.rssi_min is None else min(self.rssi_min, lo)
        self.rssi_max = hi if self.rssi_max is None else max(self.rssi_max, hi)
        self._gains(meta, clock)
        changes = self.counters.gain_changes
        if self.first_gain_change_s is None and changes and changes[0].packet >= first_packet:
            self.first_gain_change_s = float(clock[changes[0].packet - first_packet])

    def _silences(self, clock: np.ndarray, index: np.ndarray) -> None:
        if len(self.silences) >= MAX_SILENCES:
            return
        prev = np.r_[clock[0] if self.last_clock is None else self.last_clock, clock[:-1]]
        steps = clock - prev
        for i in np.flatnonzero(steps > STREAM_GAP_S)[: MAX_SILENCES - len(self.silences)]:
            self.silences.append((float(steps[i]), int(index[i]), float(clock[i])))

    def _gains(self, meta: np.ndarray, clock: np.ndarray) -> None:
        bucket = (clock // GAIN_BUCKET_S).astype(int)
        for b in np.unique(bucket):
            rows = meta[bucket == b]
            agc, fft = self.gains.setdefault(int(b), (Counter(), Counter()))
            agc.update(dict(zip(*np.unique(rows["agc_gain"], return_counts=True), strict=True)))
            known = rows["fft_gain"][rows["fft_gain"] != FFT_GAIN_UNKNOWN]
            fft.update(dict(zip(*np.unique(known, return_counts=True), strict=True)))

    def seconds(self, a: int, b: int) -> float:
        """RX-clock seconds from packet a to packet b - 1 (a label span [a, b))."""
        end = self.last_clock if b >= self.counters.packets else self.clock_at[b - 1]
        assert end is not None, "seconds() of a session without packets"
        return float(end - self.clock_at[a])

    def gains_over_time(self) -> list[dict]:
        out = []
        for b in sorted(self.gains):
            agc, fft = self.gains[b]
            out.append({"t_s": float(b * GAIN_BUCKET_S), "packets": int(sum(agc.values())),
                        "agc_gain": median_of_counts(agc), "fft_gain": median_of_counts(fft) if fft else None})  # fmt: skip
        return out

    def rssi_stats(self) -> dict | None:
        n = self.counters.packets
        if not n:
            return None
        return {"mean": round(self.rssi_sum / n, 2), "min": self.rssi_min, "max": self.rssi_max}
