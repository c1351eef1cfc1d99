"""The read coalescer: frames are checked once (by the decoder), built once per window hop."""

from __future__ import annotations

import numpy as np

from csi_edge import protocol as p
from csi_edge.coalesce import Coalescer
from csi_edge.decoder import StreamDecoder


def frame(seq: int) -> bytes:
    return p.encode_csi(np.full(128, seq % 100, dtype=np.int8), seq=seq)


def offer_all(coalescer: Coalescer, chunks: list[bytes], last_seq: int | None, needed: int, t0: float = 0.0):
    """Offer each chunk 1 ms apart -> list of (index, seqs built) for the offers that released."""
    out = []
    for i, chunk in enumerate(chunks):
        decoded = coalescer.offer(chunk, t0 + i * 0.001, last_seq, needed, max_fill=10)
        if decoded is not None:
            out.append((i, decoded.frames.meta["seq"].tolist()))
    return out


def test_holds_until_the_packet_that_completes_a_window_and_checks_each_frame_once():
    decoder = StreamDecoder()
    coalescer = Coalescer(decoder)
    reads = [frame(s) for s in range(10, 20)]
    # ring's newest seq 9, emits after 10 more packets: the 10th read releases all ten
    assert offer_all(coalescer, reads, last_seq=9, needed=10) == [(9, list(range(10, 20)))]
    assert not coalescer.holding
    assert decoder.crc_bytes == sum(len(r) - 6 for r in reads)  # one CRC per frame, nowhere else


def test_a_jump_back_a_gap_too_long_or_text_releases_at_once():
    for reads, last in (
        ([frame(5)], 100),  # TX restart: seq far behind
        ([frame(100)], 100),  # a duplicate (late)
        ([frame(150)], 100),  # a gap longer than the ring fills (max_fill 10)
        ([b"CSI_DATA,1,1a:00:00:00:00:00,-40,[1 2]\n"], 100),  # text: no seq to hold on
    ):
        coalescer = Coalescer(StreamDecoder())
        released = offer_all(coalescer, reads, last_seq=last, needed=10)
        assert [i for i, _ in released] == [0] and not coalescer.holding


def test_held_bytes_wait_at_most_max_hold_and_a_torn_frame_holds_nothing():
    decoder = StreamDecoder()
    coalescer = Coalescer(decoder, max_hold_s=0.05)
    assert coalescer.offer(frame(1), 0.0, last_seq=0, needed=10, max_fill=10) is None
    assert coalescer.holding
    whole = frame(2)
    assert coalescer.offer(whole[:50], 0.01, last_seq=0, needed=10, max_fill=10) is None  # torn: still held
    decoded = coalescer.offer(whole[50:], 0.06, last_seq=0, needed=10, max_fill=10)  # 60 ms > 50 ms
    assert decoded is not None and decoded.frames.meta["seq"].tolist() == [1, 2]
    assert coalescer.offer(whole[:50], 0.07, last_seq=2, needed=10, max_fill=10) is None
    assert not coalescer.holding  # half a frame is nothing to build yet


def test_disabled_coalescer_releases_every_read():
    coalescer = Coalescer(StreamDecoder())
    coalescer.enabled = False
    assert [i for i, _ in offer_all(coalescer, [frame(s) for s in range(1, 4)], 0, 10)] == [0, 1, 2]
