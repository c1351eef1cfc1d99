"""The web server thread's state: what a page gets when it connects, and the live fan-out.

Every push interval `pump()` takes what the loop thread handed over (csi_edge.web.feed), keeps
the history a new page needs (the last `heatmap_s` of heatmap rows, the activity timeline at
one sample per second for `timeline_s`, the latest state, health, card and capture label) and
offers each new message, serialised once, to every connected page. Each page has its own
bounded queue: a page that cannot keep up loses its oldest queued messages (it shows the
newest), counted per page and in total (`dropped`); nothing here ever waits for a browser.

Messages (docs/web.md): JSON text `{"type": ..., "data": ...}` for hello, card, state, health,
label, timeline and live; binary heatmap frames (`encode_rows`):

    offset size  field
    0      1     kind 0x48 ('H')
    1      1     version (1)
    2      2     subcarriers S (uint16 LE, 52)
    4      2     rows N (uint16 LE)
    6      2     reserved (0)
    8      4     scale (float32 LE), steps per dB: amplitude = 10 ** (value / scale / 20)
    12     8     when the frame was built, host monotonic seconds (float64 LE)
    20     2N    age of each row then, ms (uint16 LE, oldest first)
    20+2N  N*S   the rows, uint8, subcarrier -26 .. -1, +1 .. +26
"""

from __future__ import annotations

import asyncio
import json
import math
import struct
import time
from collections import deque
from dataclasses import dataclass

import numpy as np

from csi_edge import __version__
from csi_edge.timefmt import utc_iso
from csi_edge.web.feed import HEATMAP_SCALE, Feed, Message, Rows

FRAME_HEADER = struct.Struct("<BBHHHfd")
FRAME_KIND = 0x48
FRAME_VERSION = 1
MAX_FRAME_ROWS = 4096
RATE_WINDOW_S = 2.0  # the live packet rate is averaged over this long
MAX_SPREAD_S = 0.5  # rows of one batch are spread over at most this long before its arrival


@dataclass(frozen=True)
class HubSettings:
    node: str
    mode: str  # "run" (the daemon) or "capture"
    heatmap_s: float
    timeline_s: float
    control: bool  # control actions are offered (a token is configured and a daemon takes commands)
    client_queue: int


class Client:
    """One connected page: its bounded outgoing queue and what it lost."""

    def __init__(self, maxsize: int) -> None:
        self.queue: asyncio.Queue[str | bytes | None] = asyncio.Queue(maxsize)
        self.dropped = 0

    def offer(self, message: str | bytes) -> bool:
        """Queue `message`; when the queue is full the oldest one goes (False: one was lost)."""
        lost = False
        while self.queue.full():
            self.queue.get_nowait()
            self.dropped += 1
            lost = True
        self.queue.put_nowait(message)
        return not lost


def to_json(kind: str, data: object) -> str:
    try:
        return json.dumps({"type": kind, "data": data}, separators=(",", ":"), allow_nan=False)
    except ValueError:  # a NaN somewhere: JSON has none, the page shows null
        return json.dumps({"type": kind, "data": _no_nan(data)}, separators=(",", ":"))


def _no_nan(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _no_nan(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_no_nan(v) for v in value]
    return value


def encode_rows(times: np.ndarray, rows: np.ndarray, now: float) -> bytes:
    """One binary heatmap frame (layout in the module docstring); `times` host monotonic."""
    ages = np.clip(np.rint((now - times) * 1000.0), 0, 65535).astype("<u2")
    header = FRAME_HEADER.pack(FRAME_KIND, FRAME_VERSION, rows.shape[1], len(rows), 0, HEATMAP_SCALE, now)
    return header + ages.tobytes() + np.ascontiguousarray(rows, dtype=np.uint8).tobytes()


class Hub:
    def __init__(self, settings: HubSettings, feed: Feed) -> None:
        self.settings = settings
        self.feed = feed
        self.boot_id = f"{time.time_ns():x}"
        self.started = utc_iso()
        self.started_mono = time.monotonic()
        self.clients: set[Client] = set()
        self.latest: dict[str, object] = {}  # kind -> payload (state, health, card, label)
        self._heat: deque[tuple[np.ndarray, np.ndarray]] = deque()  # (times, rows) per batch
        self._timeline: deque[list] = deque()  # [time, activity, confidence, presence]
        self._last_row_time: float | None = None
        self._rate: deque[tuple[float, int]] = deque()
        self.dropped = 0  # messages some page did not get (its queue was full)

    # the loop of the server thread ---------------------------------------------------------------
    def pump(self, now: float) -> None:
        rows, messages = self.feed.drain()
        if rows:
            self.broadcast(self._take_rows(rows, now))
        for m in messages:
            self._remember(m)
            self.broadcast(to_json(m.kind, m.payload))

    def live(self, now: float) -> str:
        """The 1 Hz status line of the stream (packet rate, newest packet's age, pages)."""
        feed = self.feed
        self._rate.append((now, feed.packets_total))
        while self._rate and now - self._rate[0][0] > RATE_WINDOW_S:
            self._rate.popleft()
        t0, n0 = self._rate[0]
        rate = (feed.packets_total - n0) / (now - t0) if now - t0 >= 0.5 else None
        age = None if feed.last_packet is None else max(0.0, now - feed.last_packet)
        return to_json("live", {
            "packets": feed.packets_total, "rate_Hz": None if rate is None else round(rate, 1),
            "packet_age_s": None if age is None else round(age, 2), "uptime_s": round(now - self.started_mono, 1),
            "clients": len(self.clients), "web_dropped": self.dropped + feed.handoff_dropped,
        })  # fmt: skip

    def broadcast(self, message: str | bytes) -> None:
        for client in self.clients:
            if not client.offer(message):
                self.dropped += 1

    def _take_rows(self, batches: list[Rows], now: float) -> bytes:
        """Time each row (a batch's rows are spread up to its arrival), keep them, encode them."""
        all_times, all_rows = [], []
        for b in batches:
            m = len(b.values)
            prev = self._last_row_time
            span = 0.0 if prev is None else min(max(b.arrival - prev, 0.0), MAX_SPREAD_S)
            times = b.arrival - span * (m - 1 - np.arange(m)) / m
            self._last_row_time = b.arrival
            self._heat.append((times, b.values))
            all_times.append(times)
            all_rows.append(b.values)
        horizon = now - self.settings.heatmap_s
        while self._heat and self._heat[0][0][-1] < horizon:
            self._heat.popleft()
        times, rows = np.concatenate(all_times)[-MAX_FRAME_ROWS:], np.concatenate(all_rows)[-MAX_FRAME_ROWS:]
        return encode_rows(times, rows, now)

    def _remember(self, m: Message) -> None:
        self.latest[m.kind] = m.payload
        if m.kind == "state" and isinstance(m.payload, dict):
            tl = self._timeline
            if not tl or m.at - tl[-1][0] >= 1.0:
                p = m.payload
                tl.append([m.at, p.get("activity"), p.get("confidence"), p.get("presence")])
            while tl and m.at - tl[0][0] > self.settings.timeline_s:
                tl.popleft()

    # what a page gets when it connects ------------------------------------------------------------
    def hello(self, now: float) -> list[str | bytes]:
        s = self.settings
        out: list[str | bytes] = [to_json("hello", {
            "boot_id": self.boot_id, "node": s.node, "mode": s.mode, "version": __version__, "started": self.started,
            "uptime_s": round(now - self.started_mono, 1), "control": s.control,
            "heatmap": {"seconds": s.heatmap_s, "decimation": self.feed.decimation, "scale": HEATMAP_SCALE},
            "timeline_s": s.timeline_s,
        })]  # fmt: skip
        for kind in ("card", "health", "label", "state"):
            if kind in self.latest:
                out.append(to_json(kind, self.latest[kind]))
        items = [[round(now - t, 2), a, c, p] for t, a, c, p in self._timeline]
        out.append(to_json("timeline", {"items": items}))
        heat = [h for h in self._heat if h[0][-1] >= now - s.heatmap_s]
        if heat:
            times = np.concatenate([t for t, _ in heat])
            rows = np.concatenate([r for _, r in heat])
            recent = times >= now - s.heatmap_s
            out.append(encode_rows(times[recent][-MAX_FRAME_ROWS:], rows[recent][-MAX_FRAME_ROWS:], now))
        return out
