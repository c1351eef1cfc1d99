"""Property tests over the whole StreamDecoder (binary frames, text lines, garbage, chunking)."""

from __future__ import annotations

import struct
import zlib
from collections import Counter

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from csi_edge import protocol as p
from csi_edge.decoder import StreamDecoder, decode_bytes
from csi_edge.decoder.reasons import BINARY_REASONS
from csi_edge.frames import FrameBatch

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def run_chunked(data: bytes, cuts: list[int]):
    """Feed `data` split at `cuts` (sorted offsets); -> (frames, decoder)."""
    decoder = StreamDecoder()
    parts, last = [], 0
    for cut in sorted(set(c for c in cuts if 0 < c < len(data))) + [len(data)]:
        parts.append(decoder.feed(data[last:cut]).frames)
        last = cut
    parts.append(decoder.finish().frames)
    return FrameBatch.concat(parts), decoder


def same(a: FrameBatch, b: FrameBatch) -> bool:
    return a.meta.tobytes() == b.meta.tobytes() and a.csi.tobytes() == b.csi.tobytes()


def meta_to_frames(frames: FrameBatch) -> bytes:
    """Re-encode decoded frames as protocol v1 (the inverse of binary.header_to_meta)."""
    m = frames.meta
    header = np.zeros(len(m), dtype=p.CSI_HEADER_DTYPE)
    for name in ("seq", "timestamp_us", "tx_timestamp_us", "rssi", "noise_floor", "rate", "sig_mode", "mcs",
                 "bandwidth", "channel", "secondary_channel", "agc_gain", "fft_gain", "sig_len", "rx_state",
                 "ant", "csi_len"):  # fmt: skip
        header[name] = m[name]
    names = ("smoothing", "not_sounding", "aggregation", "stbc", "fec_coding", "sgi", "first_word_invalid", "gain_lock")
    header["flags"] = [p.csi_flags(**{k: int(r[k]) for k in names}) for r in m]
    return p.encode_csi_batch(header, frames.csi)


csi_frame = st.builds(
    lambda csi, seq, ts, rssi, sec, flags: p.encode_csi(
        csi, seq=seq, timestamp_us=ts, rssi=rssi, secondary_channel=sec, flags=flags, channel=6, agc_gain=30, fft_gain=-4
    ),
    st.binary(min_size=0, max_size=612),
    st.integers(0, 2**32 - 1),
    st.integers(0, 2**63 - 1),
    st.integers(-128, 127),
    st.integers(0, 2),
    st.integers(0, 0x3FF),
)
garbage = st.binary(max_size=300)


@SETTINGS
@given(st.binary(max_size=4000), st.lists(st.integers(0, 4000), max_size=20))
def test_random_bytes_never_raise(data, cuts):
    frames, decoder = run_chunked(data, cuts)
    assert len(frames) == decoder.frames_decoded


@SETTINGS
@given(st.lists(st.tuples(garbage, csi_frame), min_size=1, max_size=8), garbage, st.lists(st.integers(0, 8000), max_size=12))
def test_frames_in_garbage_are_all_recovered_byte_exact(pairs, tail, cuts):
    frames_bytes = [frame for _, frame in pairs]
    stream = b"".join(g + f for g, f in pairs) + tail
    decoded, _ = run_chunked(stream, cuts)
    assert len(decoded) == len(frames_bytes)
    for i, original in enumerate(frames_bytes):
        row = decoded[i]
        n = int(row.meta["csi_len"][0])
        assert meta_to_frames(FrameBatch(row.meta, row.csi[:, :n].copy())) == original


@SETTINGS
@given(st.lists(csi_frame, min_size=1, max_size=6), st.data())
def test_torn_final_frame_is_reported_not_decoded(frames_bytes, data):
    last = frames_bytes[-1]
    cut = data.draw(st.integers(2, len(last) - 1), label="cut")  # from the sync pair on (1 byte is just a byte)
    stream = b"".join(frames_bytes[:-1]) + last[:cut]
    decoded, decoder = run_chunked(stream, data.draw(st.lists(st.integers(0, len(stream)), max_size=8)))
    assert len(decoded) == len(frames_bytes) - 1
    assert decoder.errors["truncated"] >= 1
    assert b"".join(frames_bytes[:-1]) == meta_to_frames(decoded) if len(decoded) else True


def text_row(seq: int, values: list[int], style: int) -> bytes:
    head = f"CSI_DATA,{seq},1a:00:00:00:00:00,-40,11,1,0,1,1,1,0,0,0,1,-95,0,11,2,{1000 + seq},0,44,0,{len(values)},0,"
    if style == 0:
        return (head + '"[' + ",".join(map(str, values)) + ']"').encode()
    tool = f"CSI_DATA,AP,1a:00:00:00:00:00,-40,11,1,0,1,1,1,0,0,0,1,-95,0,11,2,{1000 + seq},0,44,0,0,{seq}.5,384,"
    return (tool + "[" + " ".join(map(str, values)) + " ]").encode()


text_line = st.one_of(
    st.builds(text_row, st.integers(0, 10**6), st.lists(st.integers(-128, 127), min_size=2, max_size=64).filter(lambda v: len(v) % 2 == 0), st.integers(0, 1)),
    st.sampled_from([b"I (123) wifi:mode : sta", b"", b"   ", b"\x1b[0;32mboot\x1b[0m", b"caf\xe9", b"type,id,mac,rssi,x"]),
)  # fmt: skip


@SETTINGS
@given(st.lists(st.tuples(text_line, st.sampled_from([b"\n", b"\r\n", b"\r"])), max_size=20), st.booleans(),
       st.lists(st.integers(0, 5000), max_size=20))  # fmt: skip
def test_text_in_random_chunks_equals_one_shot(lines, torn_tail, cuts):
    stream = b"".join(line + end for line, end in lines)
    if torn_tail:
        stream += text_row(7, [1, 2, 3, 4], 0)[:-9]
    whole, one = decode_bytes(stream)
    chunked, decoder = run_chunked(stream, cuts)
    assert same(whole.frames, chunked)
    assert decoder.errors == one.errors and decoder.ignored == one.ignored
    good = sum(1 for line, _ in lines if line.startswith(b"CSI_DATA"))
    assert len(chunked) == good and decoder.errors["truncated_line"] == int(torn_tail)


@SETTINGS
@given(st.lists(st.one_of(csi_frame, text_line.map(lambda line: line + b"\n")), max_size=12),
       st.lists(st.integers(0, 8000), max_size=16))  # fmt: skip
def test_binary_and_text_mixed_in_random_chunks_equals_one_shot(pieces, cuts):
    stream = b"".join(pieces)
    whole, one = decode_bytes(stream)
    chunked, decoder = run_chunked(stream, cuts)
    assert same(whole.frames, chunked) and decoder.errors == one.errors
    assert len(chunked) == sum(1 for x in pieces if x.startswith((p.SYNC, b"CSI_DATA")))


def mutate(line: bytes, at: int, byte: bytes) -> bytes:
    at %= max(len(line), 1)
    return line[:at] + byte + line[at + 1 :]


damaged_line = st.builds(mutate, text_line, st.integers(0, 2000), st.sampled_from([b",", b"-", b" ", b"x", b".", b'"', b"", b"12"]))


@SETTINGS
@given(st.lists(st.one_of(text_line, damaged_line), max_size=25))
def test_bulk_header_path_equals_row_by_row_path(lines):
    stream = b"\n".join(lines) + b"\n"
    fast, slow = StreamDecoder(), StreamDecoder()
    fast.text.bulk_min_rows = 1
    slow.text.bulk_headers = False
    fast.text.fast = slow.text.fast = False  # the numpy paths (text_fast has its own tests)
    a = FrameBatch.concat([fast.feed(stream).frames, fast.finish().frames])
    b = FrameBatch.concat([slow.feed(stream).frames, slow.finish().frames])
    assert same(a, b) and fast.errors == slow.errors


def flip(frame: bytes, at: int, bit: int) -> bytes:
    at %= len(frame)
    return frame[:at] + bytes([frame[at] ^ (1 << bit)]) + frame[at + 1 :]


damaged_frame = st.builds(flip, csi_frame, st.integers(0, 700), st.integers(0, 7))
other_frame = st.sampled_from([
    p.encode_log(3, "hello"), p.frame(9, b"unknown type"), p.frame(p.TYPE_STATS, b"short"),
    p.frame(p.TYPE_CSI, b"\0" * 10),
])  # fmt: skip


def reference_reader(stream: bytes) -> tuple[list[tuple[int, bytes]], Counter]:
    """The binary reader as docs/wire-protocol.md states it, one byte at a time (no bulk tricks)
    -> (type and payload of every good frame, binary failure counts)."""
    pos, n, good, errors = 0, len(stream), [], Counter()
    while pos < n:
        if stream[pos : pos + 2] != p.SYNC:
            pos += 1
            continue
        reason, end = None, n
        if pos + p.HEADER_SIZE > n:
            reason = "truncated"
        else:
            version, ftype, length = struct.unpack_from("<BBH", stream, pos + 2)
            end = pos + p.OVERHEAD + length
            if version != p.VERSION:
                reason = "version"
            elif length > p.MAX_PAYLOAD:
                reason = "length"
            elif end > n:
                reason = "truncated"
            elif zlib.crc32(stream[pos + 2 : end - 4]) != struct.unpack_from("<I", stream, end - 4)[0]:
                reason = "crc"
        if reason:
            errors[reason] += 1
            pos += 1
            continue
        payload = stream[pos + p.HEADER_SIZE : end - 4]
        if ftype not in p.MIN_PAYLOAD:
            errors["type"] += 1
        elif len(payload) < p.MIN_PAYLOAD[ftype] or (
            ftype == p.TYPE_CSI and int.from_bytes(payload[32:34], "little") > min(len(payload) - 34, 612)
        ):
            errors["payload"] += 1
        else:
            good.append((ftype, payload))
        pos = end
    return good, errors


@SETTINGS
@given(st.lists(st.one_of(csi_frame, damaged_frame, other_frame, garbage), max_size=12), st.lists(st.integers(0, 8000), max_size=8))
def test_binary_reader_equals_the_byte_by_byte_reference(pieces, cuts):
    """Both ways of reading the envelopes (numpy for large buffers, plain Python for small ones)."""
    from csi_edge.decoder import binary

    stream = b"".join(pieces)
    good, errors = reference_reader(stream)
    csi = [payload for ftype, payload in good if ftype == p.TYPE_CSI]
    expected = [p.frame(p.TYPE_CSI, c[: 34 + int.from_bytes(c[32:34], "little")]) for c in csi]
    logs = [(payload[0], payload[1:].decode("utf-8", "replace")) for ftype, payload in good if ftype == p.TYPE_LOG]
    saved = binary.SMALL_BYTES
    try:
        for threshold in (0, 1 << 30, saved):  # always numpy, never numpy, as shipped
            binary.SMALL_BYTES = threshold
            frames, decoder = run_chunked(stream, cuts)
            assert [meta_to_frames(row) for row in trimmed(frames)] == expected
            binary_errors = {k: v for k, v in decoder.errors.items() if k in BINARY_REASONS}
            assert binary_errors == {k: v for k, v in errors.items() if v}
            decoded, _ = decode_bytes(stream)
            assert [(r.level, r.text) for r in decoded.logs] == logs
    finally:
        binary.SMALL_BYTES = saved


def trimmed(frames: FrameBatch) -> list[FrameBatch]:
    """Each frame on its own, cut to its csi_len (so that it re-encodes byte-exact)."""
    lengths = frames.meta["csi_len"]
    return [FrameBatch(frames.meta[i : i + 1], frames.csi[i : i + 1, : int(lengths[i])].copy()) for i in range(len(frames))]
