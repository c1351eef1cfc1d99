"""TX sequence arithmetic (csi_edge.seq): next, gap, late, restart, modulo 2**32."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from csi_edge.seq import LATE_SPAN, RESTART_JUMP, SEQ_MOD, SeqKind, classify, forward

N, G, L, R = SeqKind.NEXT, SeqKind.GAP, SeqKind.LATE, SeqKind.RESTART


def kinds(prev, seq):
    return [SeqKind(k) for k in classify(prev, np.array(seq)).kind]


def test_consecutive_gap_and_wrap():
    assert kinds(None, [7, 8, 9]) == [N, N, N]
    assert kinds(9, [10, 13]) == [N, G]
    assert classify(9, np.array([10, 13])).lost == 2
    assert kinds(SEQ_MOD - 1, [0, 1]) == [N, N]  # u32 wrap
    assert forward(SEQ_MOD - 2, 1) == 3


def test_duplicates_and_late_packets_do_not_move_the_chain():
    s = classify(10, np.array([11, 11, 9, 12]))
    assert [SeqKind(k) for k in s.kind] == [N, L, L, N]
    assert s.last == 12 and s.lost == 0


def test_tx_restart_at_zero_is_a_restart_not_late():
    s = classify(100_099, np.array([0, 1, 2]))
    assert [SeqKind(k) for k in s.kind] == [R, N, N]
    assert s.last == 2 and s.lost == 0


def test_restart_one_packet_per_call():
    prev = 100_099
    seen = []
    for q in range(5):
        s = classify(prev, np.array([q]))
        seen.append(SeqKind(s.kind[0]))
        prev = s.last
    assert seen == [R, N, N, N, N]


def test_late_span_and_restart_jump_bounds():
    assert kinds(1000, [1000 - LATE_SPAN + 1]) == [L]
    assert kinds(1000, [1000 - LATE_SPAN - 1]) == [R]
    assert kinds(1000, [1000 + RESTART_JUMP]) == [G]
    assert kinds(1000, [1000 + RESTART_JUMP + 1]) == [R]


@given(st.integers(0, SEQ_MOD - 1), st.lists(st.integers(1, 5), min_size=1, max_size=50))
def test_forward_steps_count_every_lost_packet(start, steps):
    seq = (start + np.cumsum(steps)) % SEQ_MOD
    s = classify(start, seq)
    assert s.lost == sum(steps) - len(steps)
    assert s.last == int(seq[-1])
    assert not s.late.any()
