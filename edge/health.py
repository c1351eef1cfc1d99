"""The periodic health report (`<prefix>/<node>/health`, JSON lines, logs, systemd STATUS=).

Gathers, every [health] interval_s: link figures (packet rate, loss, RSSI, gains, decode errors
by reason, the board's STATS), the source's connection state, window fill / resets / filled
packets, inference latency p50/p99 over the recent windows, and the publishers' queue depth,
drops and broker connection. Field names carry their units (docs/data-fields.md).
"""

from __future__ import annotations

import time
from collections import deque

import numpy as np


class LatencyStats:
    """Recent latencies (ms) in a bounded ring; percentiles on demand."""

    def __init__(self, keep: int = 1000) -> None:
        self._values: deque[float] = deque(maxlen=keep)

    def add(self, ms: float) -> None:
        self._values.append(ms)

    def percentiles(self) -> tuple[float | None, float | None]:
        if not self._values:
            return None, None
        p50, p99 = np.percentile(np.fromiter(self._values, float), [50, 99])
        return round(float(p50), 3), round(float(p99), 3)


class HealthClock:
    def __init__(self, interval_s: float, now: float | None = None) -> None:
        self.interval_s = interval_s
        self._next = (time.monotonic() if now is None else now) + interval_s

    def due(self, now: float) -> bool:
        if now < self._next:
            return False
        self._next = now + self.interval_s
        return True


def status_line(health: dict) -> str:
    """One short line for systemd's STATUS= (shown by `systemctl status csi-edge`)."""
    activity = health.get("activity") or "-"
    broker = {True: "up", False: "down", None: "off"}[health.get("broker_connected")]
    return (f"{health['packet_rate_Hz']:.0f} pkt/s, loss {health['loss_percent']:.1f}%, "
            f"window {health['window_fill_percent']:.0f}%, activity {activity}, broker {broker}")
