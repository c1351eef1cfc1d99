"""Simulated multi-link rooms: `link` N places receiver N; one seed, one person on every link."""

from __future__ import annotations

import numpy as np
import pytest

from csi_edge.config import load_config
from csi_edge.decoder import decode_bytes
from csi_edge.errors import UsageError
from csi_edge.source import open_source
from csi_edge.tools.sim import simulate, stream
from csi_edge.tools.sim.room import RX_POSITIONS, room_for_day, with_receiver


@pytest.fixture(scope="module")
def links():
    return [simulate(40, day=2, activity="mixed", seed=9, link=k) for k in range(len(RX_POSITIONS))]


def test_at_least_three_receiver_positions_around_the_area():
    assert len(RX_POSITIONS) >= 3
    assert len({tuple(p) for p in RX_POSITIONS}) == len(RX_POSITIONS)
    room = room_for_day(1)
    assert with_receiver(room, 0) is room
    assert np.array_equal(with_receiver(room, 2).rx, RX_POSITIONS[2])
    assert np.array_equal(with_receiver(room, 2).scatterers, room.scatterers)  # same room, other receiver
    with pytest.raises(ValueError, match="link must be"):
        with_receiver(room, len(RX_POSITIONS))


def test_same_seed_same_person_on_every_link(links):
    ref = links[0]
    for other in links[1:]:
        common, ia, ib = np.intersect1d(ref.truth["seq"], other.truth["seq"], return_indices=True)
        assert len(common) > 0.97 * len(ref)
        for field in ("activity", "x", "y", "z"):
            assert np.array_equal(ref.truth[field][ia], other.truth[field][ib], equal_nan=True), field
        assert np.isfinite(ref.truth["x"][ia]).any()  # the mixed schedule has a person in it


def test_links_differ_in_what_the_receiver_sees(links):
    a, b = links[0], links[1]
    _, ia, ib = np.intersect1d(a.truth["seq"], b.truth["seq"], return_indices=True)
    assert not np.array_equal(a.csi[ia], b.csi[ib])
    assert not np.array_equal(a.truth["seq"], b.truth["seq"])  # each receiver loses its own packets
    assert not np.array_equal(a.header["timestamp_us"][ia], b.header["timestamp_us"][ib])  # own clock


def test_link_zero_is_the_single_link_simulator():
    assert simulate(5, day=3, activity="walking", seed=2, link=0).to_v1() == simulate(5, day=3, activity="walking", seed=2).to_v1()


def test_stream_carries_the_link_and_its_receiver_mac():
    chunks = list(stream(day=1, activity="sitting", seed=1, realtime=False, seconds=2, link=1))
    decoded, decoder = decode_bytes(b"".join(c for c, _ in chunks))
    assert not dict(decoder.errors)
    assert decoded.hellos and decoded.hellos[0].mac.endswith(":02")
    rec = simulate(2, day=1, activity="sitting", seed=1, link=1)
    assert np.array_equal(decoded.frames.csi, rec.csi)


def test_sim_source_takes_the_link_from_the_spec_or_the_config():
    cfg = load_config(None, {}, ["sim.link=2", "sim.realtime=false", "sim.seed=4"])
    with open_source("sim", cfg, seconds=1) as src:
        assert src.name == "sim:2"
    with open_source("sim:1", cfg, seconds=1) as src:
        assert src.name == "sim:1"
        data = src.read(1.0)
    decoded, _ = decode_bytes(data)
    assert decoded.hellos[0].mac.endswith(":02")
    with pytest.raises(UsageError, match="sim:N"):
        open_source("sim:7", cfg, seconds=1)
