"""Results: what the pipeline hands to the publishers, and the one builder of `state` messages.

`WindowResult` is one window's outcome (typed, frozen): the post-processed `Estimate`, when it
was computed, which packet ended the window and when that packet arrived. `state_payload`
turns it into the JSON-ready `state` message (fields in docs/data-fields.md); nothing else
builds that message. `StateFields` says what a model's state messages carry (its classes,
whether positions are published), which is what Home Assistant discovery announces.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from csi_edge.model.card import ModelCard, publishes_position
from csi_edge.model.postprocess import Estimate


@dataclass(frozen=True)
class WindowResult:
    time: str  # UTC ISO 8601 when the result was computed (csi_edge.timefmt.utc_iso)
    seq: int  # result counter since the daemon started (1, 2, ...)
    node: str
    model: str  # model id NAME@sha256[:12]
    estimate: Estimate
    packet_seq: int  # TX seq of the window's newest packet (-1 unknown)
    arrival: float  # host monotonic time the window's newest packet arrived (or, replayed, was due)
    link: str | None = None  # the link's name when a daemon with several links publishes per link


@dataclass(frozen=True)
class StateFields:
    """What the state messages of a model carry (for Home Assistant discovery)."""

    model_id: str
    classes: tuple[str, ...]
    position: bool  # positions are published (the model has measured position skill)
    card: ModelCard | None = field(default=None, compare=False, repr=False)  # the whole card (the web view shows it)
    novelty: bool = False  # novelty is published and `activity` may be "unknown"
    links: tuple[str, ...] = ()  # each of these links publishes its own states (a multi-link daemon, per-link model)

    @classmethod
    def of(cls, card: ModelCard, position_skill_ratio: float) -> StateFields:
        return cls(card.model_id, card.classes, publishes_position(card, position_skill_ratio), card, card.novelty is not None)


def state_payload(result: WindowResult, now: float) -> dict:
    """The `state` message for `result`, handed to the publishers at host monotonic time `now`."""
    e = result.estimate
    position = None if e.position is None else dict(zip("xyz", e.position, strict=True))
    return {
        "time": result.time, "seq": result.seq, "node": result.node, "model": result.model,
        "activity": e.activity, "probabilities": e.probabilities, "confidence": e.confidence,
        "presence": e.presence, "position": position, "novelty": e.novelty, "packet_seq": result.packet_seq,
        "latency_ms": round((now - result.arrival) * 1000.0, 3),
    } | ({} if result.link is None else {"link": result.link})  # fmt: skip
