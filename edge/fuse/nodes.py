"""One node (link) as the fusion service sees it: its latest state, its clock, its status.

Each `state` message carries `time`, the node's UTC clock when the result was computed. On
arrival (fuse's wall clock) the offset `arrival - time` is the node's clock skew plus the
delivery delay. The skew estimate is the smallest offset over the last `SKEW_WINDOW_S`
seconds (the least-delayed message), clamped to +-`max_skew_s`; a message's age is then
`offset - skew`. Clamping keeps a backlog (a node that was cut off from the broker flushes
minutes of queued results when it returns) from passing as a node with a slow clock.

A state is used only if it is newer than the node's latest (by its `time`: QoS 1 duplicates
and reordered messages are `late`) and its age on arrival is at most `max_age_s` (else `late`
too); unparsable messages are `bad`. Both are counted per node and reported in health.

Status (docs/fleet.md): `live` (a state within `stale_s`), `stale` (none for `stale_s`; not
fused), `dropped` (none for `drop_s`: forgotten until it publishes again), `offline` (its
availability topic said so: the daemon stopped or its connection died), `unseen` (configured,
never heard from).
"""

from __future__ import annotations

import json
from collections import deque
from dataclasses import dataclass

from csi_edge.fuse.fusion import Geometry, NodeEstimate
from csi_edge.timefmt import parse_utc_iso

SKEW_WINDOW_S = 60.0
STATUSES = ("live", "stale", "dropped", "offline", "unseen")


@dataclass(frozen=True)
class FuseTimes:
    max_age_s: float
    max_skew_s: float
    stale_s: float
    drop_s: float


@dataclass(frozen=True)
class NodeState:
    """A parsed state message."""

    time_s: float  # node clock, Unix seconds
    time: str  # as sent
    seq: int
    estimate: NodeEstimate


def parse_state(node: str, payload: bytes, geometry: Geometry | None, weight: float = 1.0) -> NodeState:
    """A state message -> NodeState (ValueError / KeyError / TypeError on a malformed one)."""
    msg = json.loads(payload)
    probs = msg["probabilities"]
    if not isinstance(probs, dict) or not probs:
        raise ValueError("probabilities must be a non-empty object")
    pos = msg.get("position")
    position = None if pos is None else (float(pos["x"]), float(pos["y"]), float(pos["z"]))
    estimate = NodeEstimate(node, {str(k): float(v) for k, v in probs.items()}, float(msg["confidence"]), position, geometry, weight)
    return NodeState(parse_utc_iso(msg["time"]), msg["time"], int(msg.get("seq", 0)), estimate)


class NodeTracker:
    def __init__(self, name: str, times: FuseTimes, geometry: Geometry | None = None, weight: float = 1.0) -> None:
        self.name = name
        self.times = times
        self.geometry = geometry
        self.weight = weight
        self.latest: NodeState | None = None
        self.last_arrival = -1.0  # fuse wall clock of the latest accepted state
        self.offline = False
        self.states = self.late = self.bad = 0
        self.ever_position = False  # has published a position since it was last dropped
        self._offsets: deque[tuple[float, float]] = deque()  # (arrival, offset)
        self.skew_s = 0.0

    def receive(self, payload: bytes, arrival: float) -> NodeState | None:
        """Take one state message that arrived at fuse wall time `arrival`; the state if used."""
        try:
            state = parse_state(self.name, payload, self.geometry, self.weight)
        except (ValueError, KeyError, TypeError, AttributeError):
            self.bad += 1
            return None
        offset = arrival - state.time_s
        self._offsets.append((arrival, offset))
        while self._offsets[0][0] < arrival - SKEW_WINDOW_S:
            self._offsets.popleft()
        limit = self.times.max_skew_s
        self.skew_s = min(limit, max(-limit, min(o for _, o in self._offsets)))
        if offset - self.skew_s > self.times.max_age_s or (self.latest is not None and state.time_s <= self.latest.time_s):
            self.late += 1
            return None
        self.states += 1
        self.latest, self.last_arrival, self.offline = state, arrival, False
        self.ever_position = self.ever_position or state.estimate.position is not None
        return state

    def set_availability(self, payload: bytes) -> None:
        self.offline = payload.strip() == b"offline"
        if self.offline:
            self._forget()

    def _forget(self) -> None:
        self.latest = None
        self.ever_position = False

    def status(self, now: float) -> str:
        if self.offline:
            return "offline"
        if self.last_arrival < 0:
            return "unseen"
        age = now - self.last_arrival
        if age > self.times.drop_s:
            self._forget()
            return "dropped"
        return "stale" if age > self.times.stale_s else "live"

    def age_s(self, now: float) -> float | None:
        """Age of the latest state in fuse's clock (its time corrected for the node's skew)."""
        return None if self.latest is None else now - (self.latest.time_s + self.skew_s)

    def report(self, now: float) -> dict:
        """This node's entry in the room's health message."""
        since = None if self.last_arrival < 0 else round(now - self.last_arrival, 2)
        return {"status": self.status(now), "states": self.states, "late": self.late, "bad": self.bad,
                "skew_ms": round(self.skew_s * 1000.0, 1), "last_state_s": since}  # fmt: skip
