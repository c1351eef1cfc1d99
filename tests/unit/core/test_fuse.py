"""The fusion arithmetic, node tracking (clock skew, late, stale, dropped) and room rounds."""

from __future__ import annotations

import json

import pytest

from csi_edge.config import load_config
from csi_edge.fuse.fusion import Geometry, NodeEstimate, fuse, pool
from csi_edge.fuse.nodes import FuseTimes, NodeTracker
from csi_edge.fuse.room import RoomFuser
from csi_edge.timefmt import utc_iso

T0 = 1_800_000_000.0
TIMES = FuseTimes(max_age_s=1.0, max_skew_s=2.0, stale_s=3.0, drop_s=10.0)


def est(node, empty, walking, position=None, geometry=None, confidence=None):
    probs = {"empty": empty, "walking": walking, "sitting": round(1 - empty - walking, 6)}
    conf = confidence if confidence is not None else max(probs.values())
    return NodeEstimate(node, probs, conf, position, geometry)


def state(t: float, seq: int, empty=0.1, walking=0.8, position=None) -> bytes:
    probs = {"empty": empty, "walking": walking, "sitting": round(1 - empty - walking, 6)}
    pos = None if position is None else dict(zip("xyz", position, strict=True))
    return json.dumps({"time": utc_iso(t), "seq": seq, "node": "n", "activity": max(probs, key=probs.get), "probabilities": probs,
                       "confidence": max(probs.values()), "presence": empty < 0.5, "position": pos}).encode()


def test_product_pooling_sharpens_agreement_and_mean_averages():
    a, b = est("a", 0.1, 0.6), est("b", 0.1, 0.6)
    prod, mean = pool([a, b], "product"), pool([a, b], "mean")
    assert mean == pytest.approx(a.probabilities)
    assert prod == pytest.approx(a.probabilities, abs=1e-9)  # identical opinions: the geometric mean is the same opinion
    c = est("c", 0.05, 0.05)  # sure it is sitting
    assert pool([a, c], "product")["sitting"] > pool([a, c], "mean")["sitting"] - 0.2
    assert sum(pool([a, c], "product").values()) == pytest.approx(1.0)


def test_pooling_uses_only_classes_every_link_knows():
    a = NodeEstimate("a", {"empty": 0.2, "walking": 0.8}, 0.8)
    b = NodeEstimate("b", {"empty": 0.5, "walking": 0.3, "lying": 0.2}, 0.5)
    assert set(pool([a, b], "mean")) == {"empty", "walking"}


def test_presence_and_position_only_from_links_with_positions():
    fused = fuse([est("a", 0.1, 0.8, position=(1.0, 1.0, 1.0)), est("b", 0.1, 0.8)])
    assert fused.presence is True
    assert fused.position == (1.0, 1.0, 1.0) and fused.position_weights == {"a": 1.0}
    nobody = fuse([est("a", 0.9, 0.05, position=(1.0, 1.0, 1.0)), est("b", 0.9, 0.05)])
    assert nobody.presence is False and nobody.position is None  # no position for an empty room
    assert fuse([est("a", 0.1, 0.8), est("b", 0.1, 0.8)]).position is None
    no_empty = fuse([NodeEstimate("a", {"walking": 0.7, "sitting": 0.3}, 0.7)])
    assert no_empty.presence is None and no_empty.activity == "walking"


def test_position_weighted_by_confidence_and_link_geometry():
    near = Geometry((1.0, -2.0, 1.0), (1.0, 5.0, 1.0))  # its line runs through x = 1
    far = Geometry((4.0, -2.0, 1.0), (4.0, 5.0, 1.0))  # x = 4
    a = est("a", 0.1, 0.8, position=(1.2, 1.0, 1.0), geometry=near, confidence=0.5)
    b = est("b", 0.1, 0.8, position=(2.2, 1.0, 1.0), geometry=far, confidence=0.5)
    fused = fuse([a, b], geometry_scale_m=1.0)
    assert fused.position_weights["a"] > fused.position_weights["b"]
    assert 1.2 < fused.position[0] < 1.7
    plain = fuse([est("a", 0.1, 0.8, position=(1.0, 1.0, 1.0), confidence=0.9), est("b", 0.1, 0.8, position=(3.0, 1.0, 1.0), confidence=0.3)])
    assert plain.position_weights == {"a": 0.75, "b": 0.25} and plain.position[0] == pytest.approx(1.5)
    assert near.distance_m(1.0, 1.0) == 0.0 and near.distance_m(3.0, 9.0) == pytest.approx(((2**2) + (4**2)) ** 0.5)


def test_node_clock_skew_is_corrected_and_backlogs_are_late():
    node = NodeTracker("a", TIMES)
    skew = -1.5  # the node's clock is 1.5 s behind fuse's
    for k in range(20):
        t = T0 + k * 0.1
        assert node.receive(state(t + skew, k + 1), arrival=t + 0.01 + 0.02 * (k % 3)) is not None
    assert node.skew_s == pytest.approx(1.5 + 0.01, abs=1e-3)
    assert node.age_s(T0 + 2.0) == pytest.approx(0.1, abs=0.02)
    # a backlog: states computed 30 s ago, delivered now (a node that lost the broker for a while)
    assert node.receive(state(T0 - 30 + skew, 100), arrival=T0 + 2.0) is None
    assert node.late == 1
    # a duplicate (QoS 1 redelivery) or an older state is late too
    assert node.receive(state(T0 + 1.9 + skew, 20), arrival=T0 + 2.01) is None
    assert node.late == 2 and node.states == 20
    assert node.receive(b"{not json", arrival=T0 + 2.1) is None and node.bad == 1


def test_skew_estimate_is_clamped_so_a_backlog_cannot_pass_for_a_slow_clock():
    node = NodeTracker("a", TIMES)
    assert node.receive(state(T0 - 300, 1), arrival=T0) is None  # first message, 5 minutes old
    assert node.skew_s == 2.0 and node.late == 1


def test_node_status_live_stale_dropped_offline():
    node = NodeTracker("a", TIMES)
    assert node.status(T0) == "unseen"
    node.receive(state(T0, 1), arrival=T0)
    assert node.status(T0 + 1) == "live"
    assert node.status(T0 + 5) == "stale"
    assert node.status(T0 + 11) == "dropped" and node.latest is None
    node.receive(state(T0 + 12, 2), arrival=T0 + 12)  # comes back without a restart
    assert node.status(T0 + 12) == "live"
    node.set_availability(b"offline")
    assert node.status(T0 + 12) == "offline"
    node.receive(state(T0 + 13, 3), arrival=T0 + 13)
    assert node.status(T0 + 13) == "live"


def test_room_round_closes_when_every_live_node_delivered_or_after_hold():
    cfg = load_config(None, sets=["fuse.rooms=[{name = \"lab\", nodes = [\"a\", \"b\"]}]", "fuse.hold_s=0.2"]).fuse
    room = RoomFuser(cfg.rooms[0], cfg)
    room.state("a", state(T0, 1, position=(1.0, 2.0, 1.0)), T0)
    assert room.due(T0)  # b was never seen: a alone is every live node
    first = room.fused_state(T0)
    assert first["nodes"].keys() == {"a"} and first["position"] == {"x": 1.0, "y": 2.0, "z": 1.0}
    room.state("b", state(T0 + 0.05, 1), T0 + 0.05)
    room.state("a", state(T0 + 0.1, 2, position=(1.0, 2.0, 1.0)), T0 + 0.1)
    assert room.due(T0 + 0.1)
    fused = room.fused_state(T0 + 0.1)
    assert fused["nodes"].keys() == {"a", "b"} and fused["room"] == "lab" and fused["site"] == "home"
    assert fused["nodes"]["a"]["position_weight"] == 1.0 and "position_weight" not in fused["nodes"]["b"]
    assert set(fused) >= {"time", "activity", "probabilities", "presence", "position", "nodes"}
    room.state("a", state(T0 + 0.2, 3), T0 + 0.2)
    assert not room.due(T0 + 0.25)  # waiting for b ...
    assert room.due(T0 + 0.41)  # ... but not longer than hold_s
    health = room.health(T0 + 5)
    assert health["nodes_stale"] == 2 and health["nodes_live"] == 0 and health["nodes"]["a"]["states"] == 3
    assert room.fields(T0 + 0.3).classes == ("empty", "walking", "sitting") and room.fields(T0 + 0.3).position
