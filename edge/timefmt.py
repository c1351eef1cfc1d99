"""The one UTC timestamp format of csi-edge: `2026-11-22T04:21:03.123Z` (ISO 8601, milliseconds).

Used by `state` and `health` messages, log lines and session manifests.
"""

from __future__ import annotations

import time


def utc_iso(t: float | None = None) -> str:
    """`t` (Unix seconds; default now) as an ISO 8601 UTC timestamp with milliseconds."""
    t = time.time() if t is None else t
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{int(t % 1 * 1000):03d}Z"
