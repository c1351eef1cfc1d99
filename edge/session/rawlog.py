"""The session's raw log, `raw.bin`: exactly the bytes that arrived, framed for crash safety.

A source hands the recorder chunks of bytes; each chunk becomes one record. The payloads,
concatenated in file order, are the original byte stream, bit for bit (`read_stream`).

File layout (all integers little-endian)::

    offset  size  field
    0       16    file header: b"CSIEDGE-RAWLOG" + u16 format version (1)
    16      ...   records, back to back

Record layout::

    offset  size  type   field
    0       4     u8[4]  magic b"CSRc"
    4       4     u32    payload length N (1 .. MAX_PAYLOAD)
    8       8     u64    host wall clock when the chunk arrived, ns since the Unix epoch
    16      8     u64    host monotonic clock (CLOCK_MONOTONIC) at arrival, ns
    24      N     u8[N]  payload: the bytes exactly as the source delivered them
    24+N    4     u32    CRC-32 (zlib) over bytes 4 .. 24+N-1 (length, clocks, payload)

A record is N + 28 bytes. A record is good when its magic, length bound, completeness and
CRC all check. A crash can only leave a torn *last* record (the file is append-only), so
`scan` stops at the first bad record and reports `good_end`, the offset to truncate to. If
good records follow a bad region (damage in the middle, not a crash), `scan` resynchronises
on the next magic whose record checks and reports the skipped byte range as a problem.

Readers never change the file: `scan_file` and `RawLogReader` (replay) open it read-only;
only crash recovery (recovery.py, under the session lock) calls `truncate`.
"""

from __future__ import annotations

import io
import os
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from csi_edge.errors import DataError
from csi_edge.session.files import AppendOnlyFile

FILE_MAGIC = b"CSIEDGE-RAWLOG"
FILE_VERSION = 1
FILE_HEADER = FILE_MAGIC + struct.pack("<H", FILE_VERSION)
FILE_HEADER_SIZE = len(FILE_HEADER)  # 16
RECORD_MAGIC = b"CSRc"
RECORD_HEAD = struct.Struct("<4sIQQ")  # magic, length, wall_ns, mono_ns
RECORD_HEAD_SIZE = RECORD_HEAD.size  # 24
CRC = struct.Struct("<I")
RECORD_OVERHEAD = RECORD_HEAD_SIZE + CRC.size  # 28
MAX_PAYLOAD = 1 << 24  # 16 MiB: no source read is ever that large
READ_BLOCK = 1 << 20  # raw.bin is read in blocks of this size (never whole)
MAX_CORRUPT_LISTED = 1000  # damaged ranges listed individually (all are counted)


@dataclass(frozen=True)
class Record:
    """One good record: where it sits in the file and what it holds."""

    offset: int  # file offset of the record's magic
    wall_ns: int
    mono_ns: int
    payload: bytes


@dataclass
class Scan:
    """Result of checking a whole raw log."""

    records: list[Record] = field(default_factory=list)  # kept only when asked (scan_bytes, scan_file)
    good_end: int = FILE_HEADER_SIZE  # end of the last good record: truncate here after a crash
    size: int = 0  # file size when scanned
    corrupt: list[tuple[int, int]] = field(default_factory=list)  # skipped (start, end) ranges, the first MAX_CORRUPT_LISTED
    corrupt_count: int = 0
    header_ok: bool = True
    record_count: int = 0  # good records
    payload_total: int = 0  # their payload bytes

    @property
    def torn_bytes(self) -> int:
        """Bytes after the last good record (a torn tail)."""
        return self.size - self.good_end

    @property
    def payload_bytes(self) -> int:
        return self.payload_total

    def add_corrupt(self, start: int, end: int) -> None:
        self.corrupt_count += 1
        if len(self.corrupt) < MAX_CORRUPT_LISTED:
            self.corrupt.append((start, end))


def encode_record(payload: bytes, wall_ns: int, mono_ns: int) -> bytes:
    head = RECORD_HEAD.pack(RECORD_MAGIC, len(payload), wall_ns, mono_ns)
    crc = zlib.crc32(payload, zlib.crc32(head[4:]))
    return head + payload + CRC.pack(crc)


class _Window:
    """A sliding window onto a file: the bytes from `base` on, read in READ_BLOCK blocks and
    dropped once consumed, so memory stays bounded by the largest record (not the file)."""

    def __init__(self, fh: BinaryIO, size: int) -> None:
        self.fh, self.size = fh, size
        self.base = 0
        self.data = b""

    @property
    def end(self) -> int:
        return self.base + len(self.data)

    def cover(self, end: int) -> bool:
        """Have the bytes up to `end` in the window; False when the file is shorter."""
        if end > self.size:
            return False
        if end > self.end:
            more = self.fh.read(min(max(end - self.end, READ_BLOCK), self.size - self.end))
            self.data += more
        return self.end >= end

    def drop_before(self, offset: int) -> None:
        """Bytes before `offset` are no longer needed (dropped a block at a time: linear cost)."""
        cut = offset - self.base
        if cut >= READ_BLOCK or cut >= len(self.data) > 0:
            self.data = self.data[cut:]
            self.base = offset

    def find(self, needle: bytes, start: int) -> int:
        """File offset of the first `needle` at or after `start`, or -1 (reads on as needed)."""
        while True:
            at = self.data.find(needle, max(start - self.base, 0))
            if at >= 0:
                return self.base + at
            if self.end >= self.size:
                return -1
            self.drop_before(max(start, self.end - len(needle) + 1))
            self.cover(min(self.end + READ_BLOCK, self.size))

    def record_at(self, pos: int) -> Record | None:
        """The good record starting at `pos`, or None (bad magic, length, torn, CRC)."""
        if not self.cover(pos + RECORD_HEAD_SIZE):
            return None
        i = pos - self.base
        if self.data[i : i + 4] != RECORD_MAGIC:
            return None
        _, length, wall_ns, mono_ns = RECORD_HEAD.unpack_from(self.data, i)
        end = pos + RECORD_HEAD_SIZE + length + CRC.size
        if length == 0 or length > MAX_PAYLOAD or not self.cover(end):
            return None
        i, j = pos - self.base, end - self.base
        with memoryview(self.data) as view:
            if zlib.crc32(view[i + 4 : j - CRC.size]) != CRC.unpack_from(self.data, j - CRC.size)[0]:
                return None
        return Record(pos, wall_ns, mono_ns, self.data[i + RECORD_HEAD_SIZE : j - CRC.size])


def walk(fh: BinaryIO, size: int, scan: Scan) -> Iterator[Record]:
    """The good records of a raw log of `size` bytes read from `fh`, in order, with memory
    bounded by the largest record; fills in `scan` (header, good_end, counts, corrupt ranges)
    as it goes (complete once the iterator is exhausted)."""
    scan.size = size
    window = _Window(fh, size)
    if not window.cover(FILE_HEADER_SIZE) or window.data[:FILE_HEADER_SIZE] != FILE_HEADER:
        scan.header_ok = False
        scan.good_end = 0
        return
    pos = FILE_HEADER_SIZE
    while pos < size:
        record = window.record_at(pos)
        if record is not None:
            scan.record_count += 1
            scan.payload_total += len(record.payload)
            yield record
            pos += RECORD_OVERHEAD + len(record.payload)
            scan.good_end = pos
            window.drop_before(pos)
            continue
        nxt = window.find(RECORD_MAGIC, pos + 1)
        while nxt >= 0 and window.record_at(nxt) is None:
            nxt = window.find(RECORD_MAGIC, nxt + 1)
        if nxt < 0:
            return  # torn tail: nothing good follows
        scan.add_corrupt(pos, nxt)
        pos = nxt


def stream_file(path: str | Path, scan: Scan) -> Iterator[Record]:
    """`walk` over the raw log at `path` (opened read-only); `scan` is complete at the end."""
    with open(path, "rb") as fh:
        yield from walk(fh, os.fstat(fh.fileno()).st_size, scan)


def scan_bytes(data: bytes) -> Scan:
    """Check every record of a raw log held in memory, keeping the records."""
    scan = Scan()
    scan.records = list(walk(io.BytesIO(data), len(data), scan))
    return scan


def scan_file(path: str | Path, keep_records: bool = True) -> Scan:
    """Check every record of the raw log at `path`; `keep_records=False` keeps only the counts
    and ranges (memory bounded whatever the file size)."""
    scan = Scan()
    records = stream_file(path, scan)
    if keep_records:
        scan.records = list(records)
    else:
        for _ in records:
            pass
    return scan


def read_stream_bytes(path: str | Path) -> bytes:
    """The original byte stream: every good record's payload, in order."""
    return b"".join(r.payload for r in stream_file(path, Scan()))


def is_raw_log(path: str | Path) -> bool:
    """True when `path` is a file that starts with the raw log's file header."""
    try:
        with open(path, "rb") as fh:
            return fh.read(FILE_HEADER_SIZE) == FILE_HEADER
    except OSError:
        return False


class RawLogReader:
    """A raw log opened read-only: its good payloads, one record at a time (read in blocks:
    memory bounded whatever the file size). Never repairs or rewrites anything: a torn tail is
    simply where the stream ends."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        try:
            self._fh: BinaryIO | None = open(self.path, "rb")
        except OSError as exc:
            raise DataError(f"{self.path}: cannot open the raw log ({exc.strerror})") from None
        size = os.fstat(self._fh.fileno()).st_size
        self.scan = Scan(size=size)
        if size and self._fh.read(FILE_HEADER_SIZE) != FILE_HEADER:
            self.close()
            raise DataError(f"{self.path}: bad file header; not a csi-edge raw log")
        self._fh.seek(0)

    def payloads(self) -> Iterator[bytes]:
        if self._fh is not None and self.scan.size:
            for record in walk(self._fh, self.scan.size, self.scan):
                yield record.payload

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None


class RawLogWriter(AppendOnlyFile):
    """Appends records to raw.bin; `sync()` flushes and fsyncs (the caller decides when)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        new = not self.path.exists() or self.path.stat().st_size == 0
        super().__init__(self.path, binary=True)
        if new:
            self._fh.write(FILE_HEADER)
            self.sync()
        self.pending = 0  # bytes written since the last sync
        self.bytes_written = 0  # payload bytes written by this writer

    def append(self, payload: bytes, wall_ns: int, mono_ns: int) -> None:
        if not payload:
            return
        for start in range(0, len(payload), MAX_PAYLOAD):
            part = payload[start : start + MAX_PAYLOAD]
            self._fh.write(encode_record(part, wall_ns, mono_ns))
            self.pending += len(part)
            self.bytes_written += len(part)

    def sync(self) -> None:
        super().sync()
        self.pending = 0


def truncate(path: str | Path, size: int) -> None:
    """Cut a torn tail: shrink the file to `size` bytes and make that durable."""
    with open(path, "r+b") as fh:
        fh.truncate(size)
        fh.flush()
        os.fsync(fh.fileno())
