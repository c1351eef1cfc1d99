"""raw.bin: lossless byte stream, torn tails cut at the last good record, damage resynced."""

from __future__ import annotations

import struct

from hypothesis import given, settings
from hypothesis import strategies as st

from csi_edge.session import rawlog


def _log(chunks: list[bytes]) -> bytes:
    return rawlog.FILE_HEADER + b"".join(rawlog.encode_record(c, 1_700_000_000_000_000_000 + i, i) for i, c in enumerate(chunks))


chunk_lists = st.lists(st.binary(min_size=1, max_size=300), min_size=1, max_size=12)


@given(chunk_lists)
def test_payloads_concatenate_to_the_original_stream(chunks):
    scan = rawlog.scan_bytes(_log(chunks))
    assert [r.payload for r in scan.records] == chunks
    assert scan.torn_bytes == 0 and not scan.corrupt
    assert [r.mono_ns for r in scan.records] == list(range(len(chunks)))


@settings(max_examples=60)
@given(chunk_lists, st.data())
def test_any_truncation_keeps_exactly_the_complete_records(chunks, data):
    """Power loss can cut the file anywhere: every record wholly before the cut survives."""
    full = _log(chunks)
    cut = data.draw(st.integers(rawlog.FILE_HEADER_SIZE, len(full)))
    scan = rawlog.scan_bytes(full[:cut])
    ends = [rawlog.FILE_HEADER_SIZE]
    for c in chunks:
        ends.append(ends[-1] + rawlog.RECORD_OVERHEAD + len(c))
    complete = sum(1 for e in ends[1:] if e <= cut)
    assert [r.payload for r in scan.records] == chunks[:complete]
    assert scan.good_end == ends[complete]
    assert scan.torn_bytes == cut - ends[complete]


def test_a_damaged_record_in_the_middle_is_skipped_and_reported(tmp_path):
    chunks = [b"first chunk", b"second chunk", b"third chunk"]
    data = bytearray(_log(chunks))
    second = rawlog.FILE_HEADER_SIZE + rawlog.RECORD_OVERHEAD + len(chunks[0])
    data[second + rawlog.RECORD_HEAD_SIZE + 3] ^= 0xFF  # flip a payload bit: CRC fails
    scan = rawlog.scan_bytes(bytes(data))
    assert [r.payload for r in scan.records] == [chunks[0], chunks[2]]
    third = second + rawlog.RECORD_OVERHEAD + len(chunks[1])
    assert scan.corrupt == [(second, third)]
    assert scan.torn_bytes == 0


def test_a_length_field_pointing_past_the_end_is_a_torn_tail():
    data = bytearray(_log([b"ok", b"tail"]))
    last = rawlog.FILE_HEADER_SIZE + rawlog.RECORD_OVERHEAD + 2
    struct.pack_into("<I", data, last + 4, 10_000)
    scan = rawlog.scan_bytes(bytes(data))
    assert [r.payload for r in scan.records] == [b"ok"]
    assert scan.good_end == last


def test_writer_appends_and_truncate_cuts_the_tail(tmp_path):
    path = tmp_path / "raw.bin"
    writer = rawlog.RawLogWriter(path)
    writer.append(b"abc", 1, 2)
    writer.append(b"defg", 3, 4)
    writer.close()
    with open(path, "ab") as fh:
        fh.write(rawlog.encode_record(b"torn record", 5, 6)[:-3])
    scan = rawlog.scan_file(path)
    assert scan.torn_bytes == rawlog.RECORD_OVERHEAD + len(b"torn record") - 3
    rawlog.truncate(path, scan.good_end)
    assert rawlog.read_stream_bytes(path) == b"abcdefg"
    assert path.stat().st_size == scan.good_end
    again = rawlog.RawLogWriter(path)  # reopening appends, never rewrites the header
    again.append(b"h", 7, 8)
    again.close()
    assert rawlog.read_stream_bytes(path) == b"abcdefgh"


def test_a_file_without_the_header_is_not_a_raw_log():
    scan = rawlog.scan_bytes(b"\xc5\xed\x01\x01" + b"\0" * 40)
    assert not scan.header_ok and scan.records == []
