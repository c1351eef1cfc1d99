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

import mmap
import os
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

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

    records: list[Record] = field(default_factory=list)
    good_end: int = FILE_HEADER_SIZE  # end of the last good record: truncate here after a crash
    size: int = 0  # file size when scanned
    corrupt: list[tuple[int, int]] = field(default_factory=list)  # skipped (start, end) ranges
    header_ok: bool = True

    @property
    def torn_bytes(self) -> int:
        """Bytes after the last good record (a torn tail)."""
        return self.size - self.good_end

    @property
    def payload_bytes(self) -> int:
        return sum(len(r.payload) for r in self.records)


def encode_record(payload: bytes, wall_ns: int, mono_ns: int) -> bytes:
    head = RECORD_HEAD.pack(RECORD_MAGIC, len(payload), wall_ns, mono_ns)
    crc = zlib.crc32(payload, zlib.crc32(head[4:]))
    return head + payload + CRC.pack(crc)


def _record_at(data: bytes | mmap.mmap, pos: int) -> Record | None:
    """The good record starting at `pos`, or None (bad magic, length, torn, CRC)."""
    if data[pos : pos + 4] != RECORD_MAGIC or pos + RECORD_HEAD_SIZE > len(data):
        return None
    _, length, wall_ns, mono_ns = RECORD_HEAD.unpack_from(data, pos)
    end = pos + RECORD_HEAD_SIZE + length + CRC.size
    if length == 0 or length > MAX_PAYLOAD or end > len(data):
        return None
    with memoryview(data) as view:  # released at once: a mapped file can then be closed
        body = view[pos + 4 : end - CRC.size]
        if zlib.crc32(body) != CRC.unpack_from(data, end - CRC.size)[0]:
            return None
        payload = bytes(body[RECORD_HEAD_SIZE - 4 :])
    return Record(pos, wall_ns, mono_ns, payload)


def _walk(data: bytes | mmap.mmap, scan: Scan) -> Iterator[Record]:
    """The good records of a raw log held in `data` (bytes or a read-only mmap), in order;
    fills in `scan` (header, good_end, corrupt ranges) as it goes."""
    if data[:FILE_HEADER_SIZE] != FILE_HEADER:
        scan.header_ok = False
        scan.good_end = 0
        return
    pos = FILE_HEADER_SIZE
    while pos < len(data):
        record = _record_at(data, pos)
        if record is not None:
            yield record
            pos += RECORD_OVERHEAD + len(record.payload)
            scan.good_end = pos
            continue
        nxt = data.find(RECORD_MAGIC, pos + 1)
        while nxt >= 0 and _record_at(data, nxt) is None:
            nxt = data.find(RECORD_MAGIC, nxt + 1)
        if nxt < 0:
            return  # torn tail: nothing good follows
        scan.corrupt.append((pos, nxt))
        pos = nxt


def scan_bytes(data: bytes) -> Scan:
    """Check every record of a raw log held in memory (see the module docstring)."""
    scan = Scan(size=len(data))
    scan.records = list(_walk(data, scan))
    return scan


def scan_file(path: str | Path) -> Scan:
    with open(path, "rb") as fh:
        return scan_bytes(fh.read())


def read_stream_bytes(path: str | Path) -> bytes:
    """The original byte stream: every good record's payload, in order."""
    return b"".join(r.payload for r in scan_file(path).records)


def is_raw_log(path: str | Path) -> bool:
    """True when `path` is a file that starts with the raw log's file header."""
    try:
        with open(path, "rb") as fh:
            return fh.read(FILE_HEADER_SIZE) == FILE_HEADER
    except OSError:
        return False


class RawLogReader:
    """A raw log opened read-only (mapped, not loaded): its good payloads, one record at a time.

    Never repairs or rewrites anything: a torn tail is simply where the stream ends.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        try:
            with open(self.path, "rb") as fh:
                size = os.fstat(fh.fileno()).st_size
                self._map = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) if size else None
        except OSError as exc:
            raise DataError(f"{self.path}: cannot open the raw log ({exc.strerror})") from None
        self.scan = Scan(size=size)
        if self._map is not None and self._map[:FILE_HEADER_SIZE] != FILE_HEADER:
            self.close()
            raise DataError(f"{self.path}: bad file header; not a csi-edge raw log")

    def payloads(self) -> Iterator[bytes]:
        if self._map is not None:
            for record in _walk(self._map, self.scan):
                yield record.payload

    def close(self) -> None:
        if self._map is not None:
            self._map.close()
            self._map = None


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
