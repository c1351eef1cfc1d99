"""Turn keypresses and the scripted protocol into label events at exact packet boundaries.

The recorder calls `request(...)` when a key is pressed and `apply(frames, first_packet)` for
every decoded batch, in stream order. Requests wait for the next packet: the event is written
with that packet's index and RX timestamp (see labels.py for the rule and the event format).
The protocol runner finds its segment boundaries inside each batch on the stream clock, so a
boundary lands on the same packet however the bytes were chunked.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from csi_edge.frames import FrameBatch
from csi_edge.session.files import AppendOnlyFile
from csi_edge.session.labels import UNLABELLED, StreamClock
from csi_edge.tools.capture.labels import PAUSE, Segment


class EventLog(AppendOnlyFile):
    """labels.jsonl opened for appending; lines reach the OS at once, fsync on `sync()`."""

    def __init__(self, path: Path) -> None:
        super().__init__(path, binary=False)

    def write(self, event: dict) -> None:
        self._fh.write(json.dumps(event) + "\n")
        self._fh.flush()


@dataclass
class ProtocolState:
    segments: list[Segment]
    index: int = -1  # current segment; -1 before the first packet
    start_clock: float = 0.0
    start_packet: int = 0
    done: bool = False

    @property
    def current(self) -> Segment | None:
        return self.segments[self.index] if 0 <= self.index < len(self.segments) else None

    def remaining(self, clock_s: float, packet: int) -> float | int | None:
        seg = self.current
        if seg is None:
            return None
        if seg.seconds is not None:
            return max(0.0, seg.seconds - (clock_s - self.start_clock))
        return max(0, seg.packets - (packet - self.start_packet))


@dataclass
class Labeller:
    """Current label, pause state, per-label packet counts; writes events to an EventLog."""

    log: EventLog
    classes: tuple[str, ...]
    protocol: ProtocolState | None = None
    label: str = UNLABELLED
    paused: bool = False
    counts: Counter = field(default_factory=Counter)
    marks: int = 0
    clock: StreamClock = field(default_factory=StreamClock)
    _pending: list[dict] = field(default_factory=list)

    def request(self, event: str, **fields) -> None:
        """A keypress: applies from the next decoded packet."""
        self._pending.append({"event": event, "wall_time": time.time(), **fields})

    @property
    def finished(self) -> bool:
        return self.protocol is not None and self.protocol.done

    def apply(self, frames: FrameBatch, first_packet: int) -> None:
        """Emit the events that fall on this batch and count its packets per label."""
        n = len(frames)
        if n == 0:
            return
        ts = frames.meta["timestamp_us"]
        clock = self.clock.advance(ts)
        cuts = [(0, e) for e in self._pending]  # (row, event) in order
        self._pending = []
        if self.protocol is not None and not self.protocol.done:
            cuts += self._protocol_cuts(clock, first_packet, n)
        row = 0
        for at, event in cuts:
            self._count(row, at)
            row = at
            self._emit(event, first_packet + at, int(ts[at]))
        self._count(row, n)

    def _count(self, start: int, end: int) -> None:
        if end > start and self.label and not self.paused:
            self.counts[self.label] += end - start

    def _emit(self, event: dict, packet: int, timestamp_us: int) -> None:
        kind = event["event"]
        if kind == "label":
            self.label = event["label"]
        elif kind == "pause":
            self.paused = True
        elif kind == "resume":
            self.paused = False
        elif kind == "mark":
            self.marks += 1
        elif kind == "end":  # the protocol is done: later packets carry no label
            self.label, self.paused = UNLABELLED, False
        self.log.write({"event": kind, **{k: v for k, v in event.items() if k != "event"},
                        "packet": packet, "timestamp_us": timestamp_us})  # fmt: skip

    def _protocol_cuts(self, clock: np.ndarray, first_packet: int, n: int) -> list[tuple[int, dict]]:
        """Segment boundaries inside this batch, as (row, event) in order."""
        st = self.protocol
        cuts: list[tuple[int, dict]] = []
        row = 0
        if st.index < 0:
            cuts += self._enter(0, 0, clock, first_packet)
        while not st.done:
            seg = st.current
            if seg.seconds is not None:
                hit = np.flatnonzero(clock[row:] - st.start_clock >= seg.seconds)
                if not len(hit):
                    break
                row += int(hit[0])
            else:
                row = st.start_packet + seg.packets - first_packet
                if row >= n:
                    break
            cuts += self._enter(st.index + 1, row, clock, first_packet)
        return cuts

    def _enter(self, index: int, row: int, clock: np.ndarray, first_packet: int) -> list[tuple[int, dict]]:
        st = self.protocol
        was_pause = st.current is not None and st.current.label == PAUSE
        st.index, st.start_clock, st.start_packet = index, float(clock[row]), first_packet + row
        now = time.time()
        if index >= len(st.segments):
            st.done = True
            return [(row, {"event": "end", "reason": "protocol-done", "wall_time": now})]
        seg = st.segments[index]
        meta = {"wall_time": now, "by": "protocol", "segment": index}
        if seg.label == PAUSE:
            return [(row, {"event": "pause", **meta})]
        cuts = [(row, {"event": "resume", **meta})] if was_pause else []
        return cuts + [(row, {"event": "label", "label": seg.label, **meta})]
