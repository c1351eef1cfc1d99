"""The labels timeline (`labels.jsonl`) of a session, read back per packet.

`labels.jsonl` is append-only, one JSON object per line. Every event carries `packet`, the
index (0-based, in decoded stream order over the whole session) of the first packet it applies
to, the RX timestamp of that packet (`timestamp_us`, board clock) and the host wall clock
(`wall_time`, Unix seconds) when the event happened (keypress, protocol boundary).

Rule: a change applies from the first packet decoded *after* the keypress or protocol time,
so an event is written when that packet is decoded, with that packet's index. Events:

- `{"event": "start", "packet", "wall_time", "run", "source"}`: a recording run begins
  (`run` counts `--append` runs from 0);
- `{"event": "label", "label", "packet", "timestamp_us", "wall_time", "by"}`: packets from
  `packet` on carry `label` (`by`: key, protocol or option);
- `{"event": "pause", ...}` / `{"event": "resume", ...}`: packets in between carry no label
  (they are still recorded);
- `{"event": "mark", "packet", "timestamp_us", "wall_time", "note"}`: an instant of interest;
- `{"event": "end", "packet", "wall_time", "reason"}`: the run ended before `packet`
  (reason: stop, source-closed, protocol-done or recovered).

The recorder writes these events (csi_edge.tools.capture); this module reads them back.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

UNLABELLED = ""


def read_events(path: str | Path) -> tuple[list[dict], int]:
    """Events of a labels.jsonl; also the byte length of its complete, parseable prefix.

    A torn last line (crash mid-write) is not an event; everything after the first bad line
    is ignored and reported through the returned length (used by recovery to cut it).
    """
    path = Path(path)
    if not path.exists():
        return [], 0
    data = path.read_bytes()
    events: list[dict] = []
    good = 0
    for line in data.splitlines(keepends=True):
        if not line.endswith(b"\n"):
            break
        try:
            event = json.loads(line)
        except ValueError:
            break
        if not isinstance(event, dict) or "event" not in event:
            break
        events.append(event)
        good += len(line)
    return events, good


def labels_per_packet(events: list[dict], n_packets: int) -> np.ndarray:
    """The label of every packet (numpy unicode array; UNLABELLED where none or paused)."""
    width = max([len(e.get("label", "")) for e in events] + [1])
    out = np.full(n_packets, UNLABELLED, dtype=f"<U{width}")
    label, paused, since = UNLABELLED, False, 0
    for event in sorted(events, key=lambda e: int(e.get("packet", 0))):  # stable: file order within a packet
        at = min(max(int(event.get("packet", 0)), 0), n_packets)
        kind = event["event"]
        if kind not in ("label", "pause", "resume", "end", "start"):
            continue
        if not paused and label:
            out[since:at] = label
        since = at
        if kind == "label":
            label = event.get("label", UNLABELLED)
        elif kind == "pause":
            paused = True
        elif kind == "resume":
            paused = False
        else:  # start / end: a run boundary resets the state
            label, paused = UNLABELLED, False
    if not paused and label:
        out[since:] = label
    return out


def label_spans(events: list[dict], n_packets: int) -> list[tuple[str, int, int]]:
    """Runs of identical per-packet labels as (label, first packet, end packet exclusive)."""
    labels = labels_per_packet(events, n_packets)
    if n_packets == 0:
        return []
    change = np.flatnonzero(labels[1:] != labels[:-1]) + 1
    starts = np.r_[0, change]
    ends = np.r_[change, n_packets]
    return [(str(labels[s]), int(s), int(e)) for s, e in zip(starts, ends, strict=True)]


class StreamClock:
    """Seconds on the stream clock (RX timestamps), never going backwards across resets."""

    def __init__(self) -> None:
        self.now_s = 0.0
        self._last_us: int | None = None

    def advance(self, timestamp_us: np.ndarray) -> np.ndarray:
        """Clock value (s) at each packet; RX time jumps backwards (reboot) count as 0."""
        ts = np.asarray(timestamp_us, dtype=np.int64)
        if len(ts) == 0:
            return np.zeros(0)
        prev = np.r_[ts[0] if self._last_us is None else self._last_us, ts[:-1]]
        step = np.where((ts >= 0) & (prev >= 0), np.maximum(ts - prev, 0), 0)
        clock = self.now_s + np.cumsum(step) / 1e6
        self.now_s = float(clock[-1])
        self._last_us = int(ts[-1])
        return clock
