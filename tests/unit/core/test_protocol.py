"""Protocol v1: every frame type round-trips through the encoder and the stream decoder."""

from __future__ import annotations

import numpy as np
import pytest

from csi_edge import protocol as p
from csi_edge.decoder import StreamDecoder, decode_bytes
from csi_edge.frames import GAIN_LOCK_LOCKED


def _hello() -> p.Hello:
    return p.Hello(1, 2, 3, 1, "24:0a:c4:00:00:01", "24:0a:c4:00:00:02", 11, 2, 1, 11, 100, 0, 0,
                   921600, 1, 1, 100, "csi-edge 1.2.3 abcdef")  # fmt: skip


def _stats() -> p.Stats:
    return p.Stats(5_000_000, 500, 490, 7, 3, 12, 4, 31, 64, 30, -4, GAIN_LOCK_LOCKED, 1, 0, 0, 0)


def test_csi_frame_round_trip_all_fields():
    csi = np.arange(-64, 64, dtype=np.int8)
    flags = p.csi_flags(smoothing=1, stbc=2, sgi=1, first_word_invalid=1, gain_lock=GAIN_LOCK_LOCKED)
    data = p.encode_csi(csi, seq=0xFFFFFFF0, timestamp_us=2**40 + 5, tx_timestamp_us=123, rssi=-77,
                        noise_floor=-95, rate=11, sig_mode=1, mcs=7, bandwidth=1, channel=11,
                        secondary_channel=2, agc_gain=33, fft_gain=-12, flags=flags, sig_len=44,
                        rx_state=0, ant=1)  # fmt: skip
    assert len(data) == 172  # the L-LTF-only size budget in docs/wire-protocol.md
    decoded, decoder = decode_bytes(data)
    assert not decoder.errors
    m = decoded.frames.meta[0]
    assert (m["seq"], m["timestamp_us"], m["tx_timestamp_us"]) == (0xFFFFFFF0, 2**40 + 5, 123)
    assert (m["rssi"], m["noise_floor"], m["rate"], m["sig_mode"], m["mcs"]) == (-77, -95, 11, 1, 7)
    assert (m["bandwidth"], m["channel"], m["secondary_channel"]) == (1, 11, 2)
    assert (m["agc_gain"], m["fft_gain"], m["gain_lock"]) == (33, -12, GAIN_LOCK_LOCKED)
    assert (m["smoothing"], m["stbc"], m["sgi"], m["first_word_invalid"], m["aggregation"]) == (1, 2, 1, 1, 0)
    assert (m["sig_len"], m["ant"], m["csi_len"]) == (44, 1, 128)
    np.testing.assert_array_equal(decoded.frames.csi[0], csi)


def test_stats_hello_log_round_trip():
    data = p.encode_hello(_hello()) + p.encode_stats(_stats()) + p.encode_log(3, "gain locked: agc 30 fft -4")
    decoded, decoder = decode_bytes(data)
    assert not decoder.errors and len(decoded.frames) == 0
    assert decoded.hellos == [_hello()]
    assert decoded.stats == [_stats()]
    assert decoded.logs == [p.LogRecord(3, "gain locked: agc 30 fft -4")]
    assert decoded.hellos[0].firmware_version == "1.2.3"


@pytest.mark.parametrize("corrupt_at", [0, 2, 3, 4, 10, 100, 171])
def test_corrupted_frame_is_counted_and_neighbours_survive(corrupt_at):
    frames = [p.encode_csi(np.full(128, i, dtype=np.int8), seq=i) for i in range(3)]
    middle = bytearray(frames[1])
    middle[corrupt_at] ^= 0xFF
    decoded, decoder = decode_bytes(frames[0] + bytes(middle) + frames[2])
    assert list(decoded.frames.meta["seq"]) == [0, 2]
    # a broken sync pair turns the frame into unrecognised bytes; anything else is a frame error
    assert sum(decoder.errors.values()) + sum(decoder.ignored.values()) >= 1


def test_mixed_csi_lengths_are_padded_and_lengths_kept():
    data = b"".join(p.encode_csi(np.full(n, 1, dtype=np.int8), seq=n) for n in (128, 384, 0, 612))
    decoded, _ = decode_bytes(data)
    assert list(decoded.frames.meta["csi_len"]) == [128, 384, 0, 612]
    assert decoded.frames.csi.shape == (4, 612)
    assert decoded.frames.csi[0, 128:].sum() == 0 and decoded.frames.csi[3].sum() == 612


def test_split_sync_pair_across_chunks():
    data = p.encode_csi(np.zeros(128, dtype=np.int8), seq=7) * 2
    decoder = StreamDecoder()
    got = [decoder.feed(data[: 172 + 1]), decoder.feed(data[173:]), decoder.finish()]
    assert [int(s) for d in got for s in d.frames.meta["seq"]] == [7, 7]
    assert not decoder.errors


def test_unknown_type_with_good_crc_is_skipped_whole():
    """A future frame type is counted and skipped whole, even if its payload holds a frame."""
    inner = p.encode_csi(np.zeros(128, dtype=np.int8), seq=99)
    future = p.frame(9, inner)  # a CSI frame hidden inside an unknown type's payload
    short = p.frame(p.TYPE_STATS, b"\x00" * 10)  # CRC good, payload too short for STATS
    good = p.encode_csi(np.ones(128, dtype=np.int8), seq=1)
    decoded, decoder = decode_bytes(future + short + good)
    assert list(decoded.frames.meta["seq"]) == [1]
    assert dict(decoder.errors) == {"type": 1, "payload": 1}


def test_the_docs_list_every_decode_reason_and_nothing_else():
    from pathlib import Path

    from csi_edge.decoder import ERROR_REASONS, DecodeReason
    from csi_edge.decoder.reasons import reasons_markdown

    docs = (Path(__file__).resolve().parents[3] / "docs" / "wire-protocol.md").read_text()
    assert reasons_markdown() in docs
    assert ERROR_REASONS == tuple(r.value for r in DecodeReason) and len(set(ERROR_REASONS)) == len(ERROR_REASONS)
