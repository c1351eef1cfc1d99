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
A run of back-to-back good frames is found in bulk (`_good_run`: envelopes read with numpy,
the chain followed through the lengths, one zlib.crc32 per frame); the per-frame loop only
classifies the frame where such a run stops. The CSI headers and bytes of all good frames are
then gathered with one sliding-window copy into one FrameBatch.
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
    there), at an incomplete frame (`incomplete`: wait for more bytes), or after a frame
    whose envelope or CRC is bad (`failed`: counted in `errors`; `end` = failed sync + 1).
    A frame with a good CRC but an unknown type or a short payload is counted and skipped
    whole, as the C reader does.
    """
    n = len(data)
    scan = BinaryScan(end=pos)
    offsets, lengths, others = scan.csi_offsets, scan.csi_lengths, scan.others
    if n - pos >= _FAST_MIN_BYTES:
        pos = _good_run(data, pos, scan)  # bulk prefix of good frames; the loop does the rest
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
        if reason in ("type", "payload"):
            # the CRC vouches for the frame: count it and skip it whole (docs/wire-protocol.md)
            errors[reason] = errors.get(reason, 0) + 1
        elif reason is not None:
            errors[reason] = errors.get(reason, 0) + 1
            scan.failed = reason
            scan.end = pos + 1
            view.release()
            return scan
        pos = end
    scan.end = pos
    view.release()
    return scan


_FAST_MIN_BYTES = 4096  # below this the per-frame loop alone is as fast
_MIN_PAYLOAD = {p.TYPE_CSI: p.CSI_HEADER_SIZE, p.TYPE_STATS: p.STATS_STRUCT.size, p.TYPE_HELLO: p.HELLO_STRUCT.size,
                p.TYPE_LOG: 1}  # fmt: skip
_MIN_BY_TYPE = np.full(256, -1, dtype=np.int64)  # -1: unknown type
_MIN_BY_TYPE[list(_MIN_PAYLOAD)] = list(_MIN_PAYLOAD.values())


def _good_run(data: bytes, pos: int, scan: BinaryScan) -> int:
    """Bulk path: record the run of back-to-back good frames starting at `pos`; -> its end.

    Envelopes of every sync pair are read with numpy, the chain of frames is followed through
    their lengths (a sync pair inside a payload is skipped by the chain), and each frame's
    CRC is checked with one zlib call. The run stops before the first frame that is not
    complete and good in every respect; `scan_frames`' loop then classifies that one, so both
    paths count exactly the same outcomes.
    """
    n = len(data)
    buf = np.frombuffer(data, dtype=np.uint8)
    rest = buf[pos:]
    cands = np.flatnonzero((rest[:-1] == 0xC5) & (rest[1:] == 0xED)) + pos
    cands = cands[cands + p.HEADER_SIZE <= n]
    if cands.size == 0:
        return pos
    length = buf[cands + 4].astype(np.int64) | (buf[cands + 5].astype(np.int64) << 8)
    ends = cands + p.HEADER_SIZE + length + p.CRC.size
    ftype = buf[cands + 3]
    ok = (buf[cands + 2] == p.VERSION) & (length <= p.MAX_PAYLOAD) & (ends <= n)
    ok &= _MIN_BY_TYPE[ftype] >= 0
    nxt = np.minimum(np.searchsorted(cands, ends), cands.size - 1)
    chain = _follow(ok.tolist(), nxt.tolist(), cands.tolist(), ends.tolist())
    if not chain:
        return pos
    idx = np.asarray(chain)
    starts, stops, types, lens = cands[idx], ends[idx], ftype[idx], length[idx]
    stored = _u32_at(buf, stops - 4)
    good = _crc_prefix(data, starts.tolist(), stops.tolist(), stored.tolist())
    payload_ok = lens >= _MIN_BY_TYPE[types]
    is_csi = types == p.TYPE_CSI
    csi_len = np.where(is_csi, _u16_at(buf, np.minimum(starts + p.HEADER_SIZE + 32, n - 2)), 0)
    payload_ok &= ~is_csi | ((csi_len <= lens - p.CSI_HEADER_SIZE) & (csi_len <= 612))
    bad = np.flatnonzero(~payload_ok[:good])
    good = int(bad[0]) if bad.size else good
    if good == 0:
        return pos
    csi = np.flatnonzero(is_csi[:good])
    scan.csi_offsets.extend((starts[csi] + p.HEADER_SIZE).tolist())
    scan.csi_lengths.extend(csi_len[csi].tolist())
    for k in np.flatnonzero(~is_csi[:good]).tolist():
        a, b = int(starts[k]) + p.HEADER_SIZE, int(stops[k]) - p.CRC.size
        scan.others.append((int(types[k]), data[a:b]))
    return int(stops[good - 1])


def _follow(ok: list, nxt: list, cands: list, ends: list) -> list[int]:
    """Indices of the chain of envelope-good frames from candidate 0, linked end-to-start."""
    chain = []
    k = 0
    while ok[k]:
        chain.append(k)
        j = nxt[k]
        if cands[j] != ends[k]:
            break
        k = j
    return chain


def _crc_prefix(data: bytes, starts: list, stops: list, stored: list) -> int:
    """Number of leading frames whose CRC matches."""
    crc32 = zlib.crc32
    view = memoryview(data)
    try:
        for i, (a, b, want) in enumerate(zip(starts, stops, stored, strict=True)):
            if crc32(view[a + 2 : b - 4]) != want:
                return i
    finally:
        view.release()
    return len(starts)


def _u16_at(buf: np.ndarray, at: np.ndarray) -> np.ndarray:
    return buf[at].astype(np.int64) | (buf[at + 1].astype(np.int64) << 8)


def _u32_at(buf: np.ndarray, at: np.ndarray) -> np.ndarray:
    return _u16_at(buf, at) | (_u16_at(buf, at + 2) << 16)


def gather_csi(data: bytes, offsets: list[int], lengths: list[int]) -> FrameBatch:
    """Build a FrameBatch from the payload offsets of good CSI frames in `data`."""
    if not offsets:
        return FrameBatch.empty()
    buf = np.frombuffer(data, dtype=np.uint8)
    starts = np.asarray(offsets, dtype=np.int64)
    lens = np.asarray(lengths, dtype=np.int64)
    width = int(lens.max())
    span = p.CSI_HEADER_SIZE + width
    if int(starts.max()) + span > len(buf):  # the last frame's CRC is shorter than the padding
        buf = np.concatenate([buf, np.zeros(span, dtype=np.uint8)])
    rows = np.lib.stride_tricks.sliding_window_view(buf, span)[starts]  # one copy per frame
    header = np.ascontiguousarray(rows[:, : p.CSI_HEADER_SIZE]).view(p.CSI_HEADER_DTYPE).reshape(-1)
    csi = rows[:, p.CSI_HEADER_SIZE :].view(np.int8)
    if not np.all(lens == width):
        csi[np.arange(width) >= lens[:, None]] = 0  # bytes past csi_len belong to the CRC
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
