"""The decoder's work is linear in its input, whatever the input, fed whole or in chunks.

No timing here: `StreamDecoder.work` counts the bytes framed, the sync pairs visited and the text
bytes parsed, and `crc_bytes` the bytes run through CRC-32. Both must stay within a constant
times the input (plus one held frame per chunk), and the outcomes must not depend on chunking.
(`csi-edge bench decode --flood` measures the time of the same inputs.)
"""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from csi_edge import protocol as p
from csi_edge.decoder import StreamDecoder
from csi_edge.decoder.lines import MAX_LINE
from csi_edge.frames import FrameBatch

SETTINGS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def decode(data: bytes, chunk: int | None = None, cuts: list[int] | None = None):
    """-> (frames, decoder, chunks fed)."""
    decoder = StreamDecoder()
    if cuts is None:
        step = chunk or max(len(data), 1)
        cuts = list(range(step, len(data), step))
    bounds = [0] + sorted({c for c in cuts if 0 < c < len(data)}) + [len(data)]
    parts = [decoder.feed(data[a:b]).frames for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
    parts.append(decoder.finish().frames)
    return FrameBatch.concat(parts), decoder, len(bounds) - 1


def outcome(frames: FrameBatch, decoder: StreamDecoder):
    return frames.meta.tobytes(), frames.csi.tobytes(), dict(decoder.errors), dict(decoder.ignored)


def capture(n: int) -> bytes:
    header = np.zeros(n, dtype=p.CSI_HEADER_DTYPE)
    header["seq"] = np.arange(n)
    header["csi_len"] = 128
    csi = np.random.default_rng(1).integers(-100, 100, (n, 128)).astype(np.int8)
    return p.encode_csi_batch(header, csi)


def flip_bits(data: bytes, every: int) -> bytes:
    """One flipped bit in every `every` bytes."""
    rng = np.random.default_rng(2)
    out = bytearray(data)
    for start in range(0, len(out) - every, every):
        out[start + int(rng.integers(every))] ^= 1 << int(rng.integers(8))
    return bytes(out)


def assert_linear(data: bytes, chunk: int | None) -> tuple:
    frames, decoder, chunks = decode(data, chunk)
    # each byte framed once, plus a held frame again per chunk; each pair visited once (+1 per wait)
    assert decoder.work <= 3 * len(data) + chunks * (p.MAX_FRAME + 2), (decoder.work, len(data), chunks)
    pairs = data.count(p.SYNC) + data[1:].count(p.SYNC)  # upper bound on overlapping sync pairs
    assert decoder.crc_bytes <= pairs * p.MAX_FRAME
    return outcome(frames, decoder), decoder


def test_sync_flood_is_linear_and_chunking_changes_nothing():
    flood = p.SYNC * (1 << 17)  # 256 KiB; the old reader rescanned to the end per pair (73 s for 64 KiB)
    whole, decoder = assert_linear(flood, None)
    assert decoder.crc_bytes == 0  # no pair has a valid envelope: no CRC at all
    assert decoder.errors == {"version": (1 << 17) - 2, "truncated": 2, "line_too_long": 1}
    for chunk in (1000, 4096, 65537):
        assert assert_linear(flood, chunk)[0] == whole


def test_bit_flipped_capture_is_linear_fed_whole_or_in_chunks():
    data = flip_bits(capture(3000), 500)  # 516 kB, the "one bit flip per 500 bytes"
    whole, decoder = assert_linear(data, None)
    assert decoder.crc_bytes <= 2 * len(data)
    assert 0 < decoder.errors["crc"] and len(np.frombuffer(whole[0], dtype=np.uint8)) > 0
    for chunk in (517, 4096, 1 << 20):
        assert assert_linear(data, chunk)[0] == whole


def test_flood_of_valid_envelopes_checks_each_crc_once():
    # every 6 bytes a pair announcing a 1024-byte frame that never has a good CRC
    data = (p.SYNC + bytes([p.VERSION, p.TYPE_CSI]) + p.MAX_PAYLOAD.to_bytes(2, "little")) * 20_000
    whole, decoder = assert_linear(data, None)
    assert decoder.errors["crc"] + decoder.errors["truncated"] == 20_000
    assert assert_linear(data, 3000)[0] == whole


piece = st.one_of(
    st.builds(lambda n: p.SYNC * n, st.integers(1, 300)),
    st.builds(lambda seq: p.encode_csi(bytes(range(128)), seq=seq), st.integers(0, 2**32 - 1)),
    st.builds(lambda n: flip_bits(capture(n), 97), st.integers(1, 4)),
    st.binary(max_size=200),
    st.sampled_from([b"type,seq,mac,rssi,data\n", b"CSI_DATA,1,1a:00:00:00:00:00,-40,[1 2]\n", b"I (12) boot\r\n",
                     b"x" * 5000]),  # fmt: skip
)


@SETTINGS
@given(st.lists(piece, max_size=30), st.lists(st.integers(0, 40_000), max_size=30))
def test_any_mix_whole_equals_chunked_with_linear_work(pieces, cuts):
    data = b"".join(pieces)
    whole_frames, whole, _ = decode(data)
    frames, decoder, chunks = decode(data, cuts=cuts)
    assert outcome(frames, decoder) == outcome(whole_frames, whole)
    assert decoder.work <= 3 * len(data) + chunks * (p.MAX_FRAME + 2)
    assert whole.work <= 3 * len(data) + p.MAX_FRAME + 2


def test_line_too_long_is_counted_once_per_line_however_it_arrives():
    row = b"CSI_DATA,1,1a:00:00:00:00:00,-40,[1 2]\n"
    data = b"type,seq,mac,rssi,data\n" + row + b"y" * (3 * MAX_LINE) + b"\n" + row + b"z" * (MAX_LINE + 1) + b"\r" + row
    results = []
    for chunk in (None, 1000, 16_384, MAX_LINE, MAX_LINE + 1):
        frames, decoder, _ = decode(data, chunk)
        assert decoder.errors == {"line_too_long": 2} and len(frames) == 3  # the old reader: 4 (per 64 KiB)
        results.append(outcome(frames, decoder))
    assert all(r == results[0] for r in results)
