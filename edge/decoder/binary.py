"""Protocol v1 binary frames: scan a byte buffer, check envelopes, gather CSI frames in bulk.

Layout (docs/wire-protocol.md):

    0  2  sync 0xC5 0xED
    2  1  version (1)
    3  1  type (1 CSI, 2 STATS, 3 HELLO, 4 LOG)
    4  2  payload length N (u16 LE, <= 1024)
    6  N  payload
    6+N 4 CRC-32 (zlib) over bytes 2 .. 6+N-1

Checks run envelope first: version, then length bound, then completeness, then CRC, then the
payload size for its type. Any failure is classified, counted, and the scan resumes one byte
after the failed sync (so a good frame hidden inside a bad one's claimed length is not lost).
The per-frame Python work is a few slices and one zlib.crc32; the CSI headers and bytes of all
good frames are then gathered with numpy fancy indexing into one FrameBatch.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass, field

import numpy as np

from csi_edge import protocol as p
from csi_edge.frames import FORMAT_V1, FrameBatch, empty_meta

_ENV = struct.Struct("<BBH")  # version, type, length (after the 2 sync bytes)
_U32 = struct.Struct("<I")
_U16 = struct.Struct("<H")


@dataclass
class BinaryScan:
    """Result of scanning one region that starts at a sync pair."""

    end: int  # offset just after the last byte consumed
    csi_offsets: list[int] = field(default_factory=list)  # payload starts of CSI frames
    csi_lengths: list[int] = field(default_factory=list)
    others: list[tuple[int, bytes]] = field(default_factory=list)  # (type, payload)
    failed: str | None = None  # reason when the scan stopped on a bad frame
    incomplete: bool = False  # stopped because the frame at `end` is not complete yet


def scan_frames(data: bytes, pos: int, errors: dict) -> BinaryScan:
    """Decode consecutive frames starting at `data[pos]` (which must be a sync pair).

    Stops at the first byte that is not a sync pair (the caller handles text or garbage
    there), at an incomplete frame (`incomplete`: wait for more bytes), or after a bad frame
    (`failed`: counted in `errors`; `end` = failed sync + 1).
    """
    n = len(data)
    scan = BinaryScan(end=pos)
    offsets, lengths, others = scan.csi_offsets, scan.csi_lengths, scan.others
    view = memoryview(data)
    sync = p.SYNC
    crc32 = zlib.crc32
    while pos + 2 <= n and data[pos : pos + 2] == sync:
        if pos + p.HEADER_SIZE > n:
            scan.incomplete = True
            break
        version, ftype, length = _ENV.unpack_from(data, pos + 2)
        reason = None
        if version != p.VERSION:
            reason = "version"
        elif length > p.MAX_PAYLOAD:
            reason = "length"
        if reason is None:
            end = pos + p.HEADER_SIZE + length + 4
            if end > n:
                scan.incomplete = True
                break
            body_end = end - 4
            if crc32(view[pos + 2 : body_end]) != _U32.unpack_from(data, body_end)[0]:
                reason = "crc"
            elif ftype == p.TYPE_CSI:
                start = pos + p.HEADER_SIZE
                if length < p.CSI_HEADER_SIZE:
                    reason = "payload"
                else:
                    csi_len = _U16.unpack_from(data, start + 32)[0]
                    if csi_len > length - p.CSI_HEADER_SIZE or csi_len > 612:
                        reason = "payload"
                    else:
                        offsets.append(start)
                        lengths.append(csi_len)
            elif ftype in (p.TYPE_STATS, p.TYPE_HELLO, p.TYPE_LOG):
                minimum = {p.TYPE_STATS: p.STATS_STRUCT.size, p.TYPE_HELLO: p.HELLO_STRUCT.size, p.TYPE_LOG: 1}[ftype]
                if length < minimum:
                    reason = "payload"
                else:
                    others.append((ftype, bytes(view[pos + p.HEADER_SIZE : body_end])))
            else:
                reason = "type"
        if reason is not None:
            errors[reason] = errors.get(reason, 0) + 1
            scan.failed = reason
            scan.end = pos + 1
            view.release()
            return scan
        pos = end
    scan.end = pos
    view.release()
    return scan


_HEADER_INDEX = np.arange(p.CSI_HEADER_SIZE)


def gather_csi(data: bytes, offsets: list[int], lengths: list[int]) -> FrameBatch:
    """Build a FrameBatch from the payload offsets of good CSI frames in `data`."""
    if not offsets:
        return FrameBatch.empty()
    buf = np.frombuffer(data, dtype=np.uint8)
    starts = np.asarray(offsets, dtype=np.int64)
    lens = np.asarray(lengths, dtype=np.int64)
    header = buf[starts[:, None] + _HEADER_INDEX].copy().view(p.CSI_HEADER_DTYPE).reshape(-1)
    width = int(lens.max())
    if width and np.all(lens == width):
        csi = buf[starts[:, None] + p.CSI_HEADER_SIZE + np.arange(width)].view(np.int8)
    else:
        cols = np.arange(width)
        idx = np.minimum(starts[:, None] + p.CSI_HEADER_SIZE + cols, len(buf) - 1)
        csi = np.where(cols < lens[:, None], buf[idx], 0).astype(np.uint8).view(np.int8)
    return FrameBatch(header_to_meta(header), np.ascontiguousarray(csi))


def header_to_meta(header: np.ndarray) -> np.ndarray:
    """Protocol-v1 CSI headers -> META_DTYPE records."""
    meta = empty_meta(len(header))
    for name in ("seq", "timestamp_us", "tx_timestamp_us", "rssi", "noise_floor", "rate", "sig_mode", "mcs",
                 "bandwidth", "channel", "secondary_channel", "agc_gain", "fft_gain", "sig_len", "rx_state",
                 "ant", "csi_len"):  # fmt: skip
        meta[name] = header[name]
    flags = header["flags"].astype(np.int32)
    meta["smoothing"] = (flags & p.FLAG_SMOOTHING) != 0
    meta["not_sounding"] = (flags & p.FLAG_NOT_SOUNDING) != 0
    meta["aggregation"] = (flags & p.FLAG_AGGREGATION) != 0
    meta["stbc"] = (flags >> p.FLAG_STBC_SHIFT) & 3
    meta["fec_coding"] = (flags & p.FLAG_FEC_CODING) != 0
    meta["sgi"] = (flags & p.FLAG_SGI) != 0
    meta["first_word_invalid"] = (flags & p.FLAG_FIRST_WORD_INVALID) != 0
    meta["gain_lock"] = (flags >> p.FLAG_GAIN_LOCK_SHIFT) & 3
    meta["format"] = FORMAT_V1
    return meta
