"""The arithmetic of fusion: several links' estimates of one room -> one estimate.

Inputs are `NodeEstimate`s (one per link: what its latest `state` message said); the output
is a `Fused` estimate. Pure functions, no I/O: the service (`service.py`) and the offline
evaluation (`csi-edge bench fusion`) call the same code.

- **Activity**: class probabilities pooled over the classes every link knows, either as a
  normalised weighted geometric mean (`product`: log-linear pooling; a link that is sure moves
  the result more than one that is not) or as a weighted mean (`mean`), each link weighted by
  its `weight` (1 unless `[[fuse.links]]` says otherwise); the activity is the most probable
  class and `confidence` its pooled probability.
- **Presence**: `1 - p(empty) >= presence_threshold` on the pooled probabilities (None when the
  links' models have no `empty` class).
- **Position**: only from links that publish one (a link's `position` is null unless its model
  has measured position skill and it sees someone), and only while the pooled presence is
  not false. A weighted mean, each link weighted by its weight and confidence times, when its geometry is
  configured, exp(-d^2 / 2s^2) with d the horizontal distance of the links' mean estimate from
  that link's TX-RX segment and s = `geometry_scale_m`: a link is most sensitive near its own
  line (its Fresnel zone) and says little about a person far from it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

EMPTY = "empty"
PROB_FLOOR = 1e-4  # keeps one link's hard zero from vetoing a class in the product


@dataclass(frozen=True)
class Geometry:
    """Where a link's boards are (metres, room coordinates of the positions)."""

    tx: tuple[float, float, float]
    rx: tuple[float, float, float]

    def distance_m(self, x: float, y: float) -> float:
        """Horizontal distance of (x, y) from the TX-RX segment."""
        (ax, ay, _), (bx, by, _) = self.tx, self.rx
        dx, dy = bx - ax, by - ay
        length2 = dx * dx + dy * dy
        t = 0.0 if length2 == 0 else min(1.0, max(0.0, ((x - ax) * dx + (y - ay) * dy) / length2))
        return math.hypot(ax + t * dx - x, ay + t * dy - y)


@dataclass(frozen=True)
class NodeEstimate:
    """One link's latest estimate, as its state message carried it."""

    node: str
    probabilities: dict[str, float]
    confidence: float
    position: tuple[float, float, float] | None = None
    geometry: Geometry | None = None
    weight: float = 1.0  # the link's vote ([[fuse.links]] weight)


@dataclass(frozen=True)
class Fused:
    activity: str
    probabilities: dict[str, float]
    confidence: float
    presence: bool | None
    position: tuple[float, float, float] | None
    position_weights: dict[str, float]  # node -> normalised weight of its position (only nodes that gave one)


def pool(estimates: Sequence[NodeEstimate], method: str = "product") -> dict[str, float]:
    """Pooled class probabilities over the classes all estimates share (summing to 1)."""
    classes = [c for c in estimates[0].probabilities if all(c in e.probabilities for e in estimates[1:])]
    if not classes:
        return {}
    total_w = sum(e.weight for e in estimates) or float(len(estimates))
    weights = [e.weight / total_w if total_w else 1.0 / len(estimates) for e in estimates]
    if method == "mean":
        raw = {c: sum(w * e.probabilities[c] for w, e in zip(weights, estimates, strict=True)) for c in classes}
    elif method == "product":
        logs = {c: sum(w * math.log(max(e.probabilities[c], PROB_FLOOR)) for w, e in zip(weights, estimates, strict=True)) for c in classes}
        top = max(logs.values())
        raw = {c: math.exp(v - top) for c, v in logs.items()}
    else:
        raise ValueError(f"pooling must be product or mean (got {method!r})")
    total = sum(raw.values()) or 1.0
    return {c: v / total for c, v in raw.items()}


def position_weights(estimates: Sequence[NodeEstimate], scale_m: float) -> dict[str, float]:
    """node -> normalised weight of every estimate that has a position."""
    with_pos = [(e, e.position) for e in estimates if e.position is not None]
    if not with_pos:
        return {}
    cx = sum(p[0] for _, p in with_pos) / len(with_pos)
    cy = sum(p[1] for _, p in with_pos) / len(with_pos)
    raw = {}
    for e, _ in with_pos:
        w = max(e.confidence, 1e-3) * e.weight
        if e.geometry is not None:
            d = e.geometry.distance_m(cx, cy)
            w *= math.exp(-0.5 * (d / scale_m) ** 2)
        raw[e.node] = w
    total = sum(raw.values())
    return {n: w / total for n, w in raw.items()} if total > 0 else {n: 1.0 / len(raw) for n in raw}


def fuse(estimates: Sequence[NodeEstimate], pooling: str = "product", presence_threshold: float = 0.5,
         geometry_scale_m: float = 1.5) -> Fused | None:  # fmt: skip
    """The room's estimate from its links' (None when there is nothing to fuse)."""
    if not estimates:
        return None
    probs = pool(estimates, pooling)
    if not probs:
        return None
    activity = max(probs, key=probs.__getitem__)
    presence = None if EMPTY not in probs else bool(1.0 - probs[EMPTY] >= presence_threshold)
    weights = position_weights(estimates, geometry_scale_m) if presence is not False else {}
    position = None
    if weights:
        by_node = {e.node: e.position for e in estimates if e.position is not None}
        x, y, z = (round(sum(w * by_node[n][k] for n, w in weights.items()), 3) for k in range(3))
        position = (x, y, z)
    return Fused(activity, {c: round(p, 4) for c, p in probs.items()}, round(probs[activity], 4), presence,
                 position, {n: round(w, 3) for n, w in weights.items()})  # fmt: skip
