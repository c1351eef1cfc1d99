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


LABEL_EVENTS = ("label", "pause", "resume", "end", "start")


def label_spans(events: list[dict], n_packets: int) -> list[tuple[str, int, int]]:
    """Runs of identical per-packet labels as (label, first packet, end packet exclusive), from the
    events alone: a label holds from its event to the next, a pause suspends it until `resume`,
    and a run boundary (`start`, `end`) resets it; events apply in packet order, file order within
    a packet. UNLABELLED where none holds."""
    pieces: list[tuple[str, int, int]] = []
    label, paused, since = UNLABELLED, False, 0
    for event in sorted(events, key=lambda e: int(e.get("packet", 0))):  # stable: file order within a packet
        kind = event["event"]
        if kind not in LABEL_EVENTS:
            continue
        at = min(max(int(event.get("packet", 0)), 0), n_packets)
        pieces.append((UNLABELLED if paused else label, since, at))
        since = at
        if kind == "label":
            label = event.get("label", UNLABELLED)
        elif kind in ("pause", "resume"):
            paused = kind == "pause"
        else:
            label, paused = UNLABELLED, False
    pieces.append((UNLABELLED if paused else label, since, n_packets))
    out: list[tuple[str, int, int]] = []
    for lab, a, b in pieces:
        if b <= a:
            continue
        if out and out[-1][0] == lab and out[-1][2] == a:
            out[-1] = (lab, out[-1][1], b)
        else:
            out.append((lab, a, b))
    return out


def labels_per_packet(events: list[dict], n_packets: int) -> np.ndarray:
    """The label of every packet (numpy unicode array; UNLABELLED where none or paused)."""
    width = max([len(e.get("label", "")) for e in events] + [1])
    out = np.full(n_packets, UNLABELLED, dtype=f"<U{width}")
    for label, a, b in label_spans(events, n_packets):
        out[a:b] = label
    return out


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
