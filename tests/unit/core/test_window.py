"""Window ring: emission every hop, gap filling by interpolation, resets on long gaps."""

from __future__ import annotations

import numpy as np
import pytest

from csi_edge.window import Reset, WindowRing


def rows(seq, s=4):
    """Features whose value encodes the seq, so interpolation is checkable."""
    seq = np.asarray(seq, dtype=np.int64)
    return np.repeat(seq[:, None].astype(np.float32), s, axis=1), np.ones(len(seq), bool), seq


def test_emits_every_hop_once_full_and_windows_are_in_time_order():
    ring = WindowRing(size=20, hop=5, subcarriers=4)
    out = ring.push(*rows(range(0, 34)), arrival=1.0)
    assert len(out) == 3  # windows ending at seq 19, 24, 29
    assert out.end_seq.tolist() == [19, 24, 29]
    assert out.windows.shape == (3, 20, 4)
    assert out.windows[0, :, 0].tolist() == list(range(0, 20))
    assert out.windows[2, :, 0].tolist() == list(range(10, 30))
    out = ring.push(*rows(range(34, 35)), arrival=2.0)
    assert out.end_seq.tolist() == [34] and out.arrival.tolist() == [2.0]
    assert out.windows[0, -1, 0] == 34 and out.windows[0, 0, 0] == 15


def test_batch_boundaries_do_not_change_the_windows():
    a, b = WindowRing(20, 3, 4), WindowRing(20, 3, 4)
    whole = a.push(*rows(range(100)), arrival=0.0)
    parts = [b.push(*rows(range(i, min(i + 7, 100))), arrival=0.0) for i in range(0, 100, 7)]
    got = np.concatenate([p.windows for p in parts if len(p)])
    np.testing.assert_array_equal(whole.windows, got)


def test_short_gap_is_filled_by_linear_interpolation():
    ring = WindowRing(size=10, hop=1, subcarriers=4, max_gap_fill=3)
    seq = [0, 1, 2, 3, 4, 8, 9, 10]  # 5, 6, 7 lost
    out = ring.push(*rows(seq), arrival=0.0)
    assert ring.filled == 3 and ring.resets == 0
    assert out.windows[0, :, 0].tolist() == list(range(0, 10))  # 5, 6, 7 interpolated exactly
    assert out.end_seq.tolist() == [9, 10]


def test_gap_across_batches_is_filled_from_the_previous_batch():
    ring = WindowRing(size=6, hop=1, subcarriers=4, max_gap_fill=2)
    ring.push(*rows([0, 1, 2]), arrival=0.0)
    out = ring.push(*rows([5, 6]), arrival=0.0)
    assert ring.filled == 2
    assert out.windows[0, :, 0].tolist() == [0, 1, 2, 3, 4, 5]


def test_long_gap_resets_the_window_and_is_reported():
    ring = WindowRing(size=5, hop=1, subcarriers=4, max_gap_fill=2)
    out = ring.push(*rows([0, 1, 2, 3, 4, 5, 20, 21, 22, 23, 24]), arrival=0.0)
    assert out.resets == [Reset(restart=False, lost=14)] and ring.resets == 1
    assert out.end_seq.tolist() == [4, 5, 24]  # no window spans the hole
    assert out.windows[-1, :, 0].tolist() == [20, 21, 22, 23, 24]


def test_duplicates_and_out_of_order_packets_are_dropped():
    ring = WindowRing(size=4, hop=1, subcarriers=4)
    out = ring.push(*rows([0, 1, 1, 2, 0, 3]), arrival=0.0)
    assert ring.dropped == 2
    assert out.windows[0, :, 0].tolist() == [0, 1, 2, 3]


def test_sequence_wraps_at_2_pow_32():
    ring = WindowRing(size=4, hop=1, subcarriers=4, max_gap_fill=1)
    out = ring.push(*rows([2**32 - 2, 2**32 - 1, 0, 1]), arrival=0.0)
    assert ring.resets == 0 and len(out) == 1


def test_invalid_rows_count_as_lost():
    ring = WindowRing(size=4, hop=1, subcarriers=4, max_gap_fill=1)
    x, valid, seq = rows([0, 1, 2, 3, 4])
    valid[2] = False
    out = ring.push(x, valid, seq, arrival=0.0)
    assert ring.filled == 1
    assert out.windows[0, :, 0].tolist() == [0, 1, 2, 3]


def test_rows_without_seq_are_taken_as_consecutive():
    ring = WindowRing(size=3, hop=2, subcarriers=4)
    x, valid, _ = rows([7, 8, 9, 10, 11])
    out = ring.push(x, valid, np.full(5, -1), arrival=0.0)
    assert len(out) == 2 and out.windows[1, :, 0].tolist() == [9, 10, 11]


def test_fill_percent():
    ring = WindowRing(size=10, hop=1, subcarriers=4)
    ring.push(*rows(range(5)), arrival=0.0)
    assert ring.fill_percent == pytest.approx(50.0)


def one_packet(ring: WindowRing, seq: int):
    """Push a single packet, as a live serial read at 100 Hz usually delivers."""
    return ring.push(np.ones((1, ring.subcarriers), np.float32), np.ones(1, bool), np.array([seq]), 0.0)


def test_tx_restart_one_packet_per_push_keeps_emitting_windows():
    """The issue's reproduction: the TX reboots at seq 100_099 and counts from 0 again; each
    push holds one packet. The ring must reset once and emit again after one window."""
    ring = WindowRing(size=20, hop=5, subcarriers=2, max_gap_fill=20)
    for seq in range(100_000, 100_100):
        one_packet(ring, seq)
    emitted = [len(one_packet(ring, seq)) for seq in range(500)]
    assert sum(emitted) == (500 - 20) // 5 + 1 == 97
    assert emitted.index(1) == 19  # the first window after the restart is full at its 20th packet
    assert ring.resets == 1 and ring.dropped == 0


def test_tx_restart_inside_a_batch_resets_at_the_restart_packet():
    ring = WindowRing(size=4, hop=1, subcarriers=4)
    ring.push(*rows(range(5000, 5010)), arrival=0.0)
    out = ring.push(*rows([5010, 5011, 0, 1, 2, 3]), arrival=0.0)
    assert out.resets == [Reset(restart=True, lost=0)]
    assert out.end_seq.tolist() == [5010, 5011, 3]  # no window mixes the two chains
    assert out.windows[-1, :, 0].tolist() == [0, 1, 2, 3]


def test_late_packets_just_behind_are_dropped_not_taken_for_a_restart():
    ring = WindowRing(size=4, hop=1, subcarriers=4)
    ring.push(*rows(range(100, 110)), arrival=0.0)
    out = ring.push(*rows([108, 110, 111]), arrival=0.0)
    assert ring.dropped == 1 and ring.resets == 0 and out.end_seq.tolist() == [110, 111]
