"""The one UTC timestamp format of csi-edge: `2026-11-22T04:21:03.123Z` (ISO 8601, milliseconds).

Used by `state` and `health` messages, log lines and session manifests; `parse_utc_iso` reads it
back (the fusion service aligns node states by it).
"""

from __future__ import annotations

import calendar
import functools
import time


def utc_iso(t: float | None = None) -> str:
    """`t` (Unix seconds; default now) as an ISO 8601 UTC timestamp with milliseconds."""
    t = time.time() if t is None else t
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{int(t % 1 * 1000):03d}Z"


def parse_utc_iso(text: str) -> float:
    """`utc_iso`'s format back to Unix seconds (ValueError if it is not that format)."""
    if len(text) != 24 or text[19] != "." or text[23] != "Z":
        raise ValueError(f"not a UTC timestamp like 2026-11-22T04:21:03.123Z: {text!r}")
    return _whole_seconds(text[:19]) + int(text[20:23]) / 1000.0


@functools.lru_cache(maxsize=256)
def _whole_seconds(text: str) -> float:
    return float(calendar.timegm(time.strptime(text, "%Y-%m-%dT%H:%M:%S")))
