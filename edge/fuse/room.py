"""One room: its nodes' trackers, the alignment of their states, the fused state and health.

Alignment in rounds: the first new state after a fused state opens a round; the round closes
when every live node of the room has delivered a new state, or `hold_s` after it opened,
whichever comes first (a slow or silent node never holds the room up for longer). The fused
state then uses each live node's latest state, whose age (skew-corrected) is reported per node.
No I/O here: `service.py` feeds messages in and publishes what comes out.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from csi_edge.config import FuseConfig, FuseRoom
from csi_edge.fuse.fusion import Geometry, fuse
from csi_edge.fuse.nodes import STATUSES, FuseTimes, NodeTracker
from csi_edge.timefmt import utc_iso


@dataclass(frozen=True)
class RoomFields:
    """What the room's fused states carry (for Home Assistant discovery)."""

    classes: tuple[str, ...]
    position: bool


def geometries(cfg: FuseConfig) -> dict[str, Geometry]:
    return {link.node: Geometry(tuple(link.tx_m), tuple(link.rx_m)) for link in cfg.links if link.tx_m}  # type: ignore[arg-type]


class RoomFuser:
    def __init__(self, room: FuseRoom, cfg: FuseConfig) -> None:
        self.name = room.name
        self.cfg = cfg
        times = FuseTimes(cfg.max_age_s, cfg.max_skew_s, cfg.stale_s, cfg.drop_s)
        geo = geometries(cfg)
        weights = {link.node: link.weight for link in cfg.links}
        self.nodes = {n: NodeTracker(n, times, geo.get(n), weights.get(n, 1.0)) for n in room.nodes}
        self._fresh: set[str] = set()  # nodes with a new state since the last fused state
        self.deadline: float | None = None  # when the open round closes (fuse wall clock)
        self.fused = 0
        self.last_fused: dict | None = None
        self.started = time.time()

    # input --------------------------------------------------------------------------------
    def state(self, node: str, payload: bytes, arrival: float) -> None:
        if self.nodes[node].receive(payload, arrival) is None:
            return
        self._fresh.add(node)
        if self.deadline is None:
            self.deadline = arrival + self.cfg.hold_s

    def availability(self, node: str, payload: bytes) -> None:
        self.nodes[node].set_availability(payload)

    # output -------------------------------------------------------------------------------
    def live(self, now: float) -> list[NodeTracker]:
        return [t for t in self.nodes.values() if t.status(now) == "live" and t.latest is not None]

    def due(self, now: float) -> bool:
        """A round is open and complete (every live node delivered) or its hold time is over."""
        if self.deadline is None:
            return False
        return now >= self.deadline or {t.name for t in self.live(now)} <= self._fresh

    def fused_state(self, now: float) -> dict | None:
        """Close the round: the fused state message (None when no live node has a state)."""
        self.deadline = None
        self._fresh.clear()
        live = self.live(now)
        result = fuse([t.latest.estimate for t in live if t.latest is not None], self.cfg.pooling,
                      self.cfg.presence_threshold, self.cfg.geometry_scale_m)  # fmt: skip
        if result is None:
            return None
        self.fused += 1
        nodes = {}
        for t in live:
            assert t.latest is not None
            entry: dict = {"time": t.latest.time, "age_ms": round((t.age_s(now) or 0.0) * 1000.0, 1),
                           "activity": max(t.latest.estimate.probabilities, key=t.latest.estimate.probabilities.__getitem__),
                           "confidence": t.latest.estimate.confidence}  # fmt: skip
            if t.name in result.position_weights:
                entry["position_weight"] = result.position_weights[t.name]
            nodes[t.name] = entry
        position = None if result.position is None else dict(zip("xyz", result.position, strict=True))
        self.last_fused = {
            "time": utc_iso(now), "seq": self.fused, "site": self.cfg.site, "room": self.name,
            "activity": result.activity, "probabilities": result.probabilities, "confidence": result.confidence,
            "presence": result.presence, "position": position, "nodes": nodes,
        }  # fmt: skip
        return self.last_fused

    def fields(self, now: float) -> RoomFields | None:
        """Classes and whether positions are published, from the nodes known now (None: no node yet)."""
        known = [t for t in self.nodes.values() if t.latest is not None and t.status(now) in ("live", "stale")]
        if not known:
            return None
        classes = [c for c in known[0].latest.estimate.probabilities if all(c in t.latest.estimate.probabilities for t in known)]  # type: ignore[union-attr]
        return RoomFields(tuple(classes), any(t.ever_position for t in known))

    def health(self, now: float) -> dict:
        reports = {name: t.report(now) for name, t in self.nodes.items()}
        counts = {s: sum(r["status"] == s for r in reports.values()) for s in STATUSES}
        return {
            "time": utc_iso(now), "site": self.cfg.site, "room": self.name, "uptime_s": round(now - self.started, 1),
            "nodes_live": counts["live"], "nodes_stale": counts["stale"],
            "nodes_missing": counts["dropped"] + counts["offline"] + counts["unseen"],
            "states_received": sum(t.states for t in self.nodes.values()),
            "states_late": sum(t.late for t in self.nodes.values()),
            "states_bad": sum(t.bad for t in self.nodes.values()),
            "fused": self.fused, "nodes": reports,
        }  # fmt: skip
