"""Protocol v1 binary frames: find and check them in a byte buffer, gather CSI frames in bulk.

Layout (docs/wire-protocol.md; sizes and offsets from `csi_edge.protocol`):

    0    2  sync 0xC5 0xED                          p.SYNC
    2    1  version (1)                             p.VERSION
    3    1  type (1 CSI, 2 STATS, 3 HELLO, 4 LOG)   p.TYPE_*
    4    2  payload length N (u16 LE, <= 1024)      p.MAX_PAYLOAD
    6    N  payload                                 p.HEADER_SIZE = 6
    6+N  4  CRC-32 (zlib) over bytes 2 .. 6+N-1     p.OVERHEAD = 10

The reader is a sequential machine with one cursor. At a sync pair it checks, in order, the
version, the length bound, that the whole frame is there, and the CRC. A frame that passes
is consumed whole (then its payload must fit its type, else it is counted as `type` or
`payload` and skipped); any failure is counted and the cursor moves one byte on (so a good
frame hidden in a bad one's claimed length is not lost). Every byte not inside a CRC-valid
frame is text for the text decoder.

`frame_region` runs that machine in time linear in the buffer, whatever it holds: every sync
pair is found with one numpy pass and its envelope read with a few more; a run of pairs that
fail their envelope (a sync flood) is counted from cumulative sums, not visited one by one;
each CRC-valid frame moves the cursor with one table lookup; and each candidate's CRC is
computed at most once. The CSI headers and bytes of the good frames are then gathered with
one sliding-window copy into one FrameBatch (`gather_csi`).
"""

from __future__ import annotations

import struct
import zlib
from bisect import bisect_left
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from csi_edge import protocol as p
from csi_edge.decoder.reasons import DecodeReason
from csi_edge.frames import FORMAT_V1, MAX_CSI_BYTES, FrameBatch, empty_meta

_U32 = struct.Struct("<I")
_U16 = struct.Struct("<H")
_ENVELOPE = struct.Struct("<BBH")  # version, type, length (after the sync pair)
_S0, _S1 = p.SYNC[0], p.SYNC[1]
_FIRST = p.SYNC[:1]
_MIN_BY_TYPE = np.full(256, -1, dtype=np.int64)  # -1: unknown type
_MIN_BY_TYPE[list(p.MIN_PAYLOAD)] = list(p.MIN_PAYLOAD.values())
_VERSION, _LENGTH, _CRC = DecodeReason.VERSION.value, DecodeReason.LENGTH.value, DecodeReason.CRC.value


@dataclass
class Framing:
    """What `frame_region` decided about a buffer.

    Bytes before `stop` are decided: the CRC-valid frames listed here (in stream order), the
    failures counted in `errors`, and text (everything else). From `stop` on the reader waits
    for more bytes: an incomplete frame, or a last byte that may start a sync pair; `need` is
    the buffer length at which that frame can be decided (0: nothing waits).
    """

    stop: int
    need: int = 0
    starts: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))  # sync offsets
    ends: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))  # one past the CRC
    types: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.uint8))
    good: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))  # payload fits its type
    csi_len: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))  # CSI frames
    errors: Counter = field(default_factory=Counter)
    visited: int = 0  # sync pairs looked at (each at most once, plus one per wait)
    crc_bytes: int = 0  # bytes run through CRC-32 (each candidate at most once)


SMALL_BYTES = 4096  # below this (a live serial read) plain Python beats numpy's per-call cost


@dataclass
class _Candidates:
    """The sync pairs of a buffer. Pairs whose envelope fails (version, length) are kept only as
    counts, since the reader passes them in runs; the others ("plain" pairs, index i) as lists.
    (A 1 MiB sync flood is half a million pairs: no per-pair Python objects for those.)"""

    count: int  # all pairs
    at_all: np.ndarray | list[int]  # offset of every pair (read once per run of failures)
    bad_versions: np.ndarray | list[int]  # version failures among the pairs before pair k (len count + 1)
    index: list[int]  # plain pair i is pair index[i]
    at: list[int]  # its offset
    ends: list[int]  # offset one past the frame it announces
    decidable: list[bool]  # its envelope is there and so is the whole frame
    after: list[int]  # the first pair at or after the end of its frame
    after_plain: list[int]  # the first plain pair at or after the end of its frame


def frame_region(buf: bytes | bytearray, pos: int, final: bool) -> Framing:
    """Run the reader over buf[pos:]; `final`: the stream ends with `buf` (nothing waits)."""
    n = len(buf)
    first = buf.find(_FIRST, pos)
    if first < 0:
        return Framing(stop=n)
    arr = np.frombuffer(buf, dtype=np.uint8) if n - first >= SMALL_BYTES else None
    cands = _candidates(buf, first) if arr is None else _candidates_bulk(arr, first)
    out = Framing(stop=n)
    consumed, cursor = _walk(buf, cands, final, out)
    if out.need == 0 and not final and buf[n - 1] == _S0 and n - 1 >= cursor:
        out.stop, out.need = n - 1, n + 1  # a lone first sync byte: wait for the next one
    if consumed:
        starts = np.array([cands.at[i] for i in consumed], dtype=np.int64)
        ends = np.array([cands.ends[i] for i in consumed], dtype=np.int64)
        if arr is None:
            _describe(buf, starts, ends, out)
        else:
            _describe_bulk(arr, starts, ends, out)
    return out


def _candidates_bulk(arr: np.ndarray, first: int) -> _Candidates:
    n = len(arr)
    rest = arr[first:]
    at = np.flatnonzero((rest[:-1] == _S0) & (rest[1:] == _S1)).astype(np.int64) + first
    last = n - 1
    header = at + p.HEADER_SIZE <= n
    version = arr[np.minimum(at + 2, last)]
    length = arr[np.minimum(at + 4, last)].astype(np.int64) | (arr[np.minimum(at + 5, last)].astype(np.int64) << 8)
    version_bad = header & (version != p.VERSION)
    index = np.flatnonzero(~(version_bad | (header & (length > p.MAX_PAYLOAD))))
    plain_at, plain_header = at[index], header[index]
    ends = plain_at + p.OVERHEAD + length[index]
    after = np.searchsorted(at, ends)
    return _Candidates(
        len(at), at, np.concatenate(([0], np.cumsum(version_bad))), index.tolist(), plain_at.tolist(), ends.tolist(),
        (plain_header & (ends <= n)).tolist(), after.tolist(), np.searchsorted(index, after).tolist(),
    )  # fmt: skip


def _candidates(buf: bytes | bytearray, first: int) -> _Candidates:
    """`_candidates_bulk` for a small buffer, in plain Python."""
    n = len(buf)
    at_all: list[int] = []
    bad_versions = [0]
    index: list[int] = []
    ends: list[int] = []
    decidable: list[bool] = []
    k = buf.find(p.SYNC, first)
    while k >= 0:
        header = k + p.HEADER_SIZE <= n
        version, _, length = _ENVELOPE.unpack_from(buf, k + 2) if header else (p.VERSION, 0, 0)
        version_bad = version != p.VERSION
        if not (version_bad or length > p.MAX_PAYLOAD):
            index.append(len(at_all))
            ends.append(k + p.OVERHEAD + length)
            decidable.append(header and ends[-1] <= n)
        at_all.append(k)
        bad_versions.append(bad_versions[-1] + version_bad)
        k = buf.find(p.SYNC, k + 1)
    after = [bisect_left(at_all, end) for end in ends]
    after_plain = [bisect_left(index, a) for a in after]
    return _Candidates(len(at_all), at_all, bad_versions, index, [at_all[k] for k in index], ends, decidable, after, after_plain)


def _walk(buf: bytes | bytearray, cands: _Candidates, final: bool, out: Framing) -> tuple[list[int], int]:
    """The sequential reader over the pairs -> (plain indices of CRC-valid frames, cursor).

    `k` is the next pair to look at, `i` the next plain pair (index[i] >= k); the pairs from k
    to index[i] all fail their envelope and are counted in one step.
    """
    index, at, ends, decidable = cands.index, cands.at, cands.ends, cands.decidable
    plain = len(index)
    consumed: list[int] = []
    errors = out.errors
    view = memoryview(buf)
    crc32, stored = zlib.crc32, _U32.unpack_from
    cursor, k, i = 0, 0, 0  # cursor: the reader's position (after the last frame consumed or pair failed)
    try:
        while True:
            j = index[i] if i < plain else cands.count
            if j > k:  # a run of envelope failures
                versions = int(cands.bad_versions[j]) - int(cands.bad_versions[k])
                if versions:
                    errors[_VERSION] += versions
                if versions < j - k:
                    errors[_LENGTH] += j - k - versions
                out.visited += j - k
                cursor = int(cands.at_all[j - 1]) + 1
            if i == plain:
                break
            out.visited += 1
            c = at[i]
            if not decidable[i]:
                if not final:
                    out.stop, out.need = c, (ends[i] if c + p.HEADER_SIZE <= len(buf) else c + p.HEADER_SIZE)
                    break
                errors[DecodeReason.TRUNCATED.value] += 1  # the stream ended inside this frame
                cursor, k, i = c + 1, j + 1, i + 1
                continue
            e = ends[i]
            out.crc_bytes += e - c - 6
            if crc32(view[c + 2 : e - 4]) == stored(buf, e - 4)[0]:
                consumed.append(i)
                cursor, k, i = e, cands.after[i], cands.after_plain[i]
            else:
                errors[_CRC] += 1
                cursor, k, i = c + 1, j + 1, i + 1
    finally:
        view.release()
    return consumed, cursor


def _describe(buf: bytes | bytearray, starts: np.ndarray, ends: np.ndarray, out: Framing) -> None:
    """Types, payload checks and csi_len of the CRC-valid frames at `starts` (counting type and
    payload failures), frame by frame; `_describe_bulk` is the same with numpy."""
    types, good, csi_len = [], [], []
    for start, end in zip(starts.tolist(), ends.tolist(), strict=True):
        ftype, length = buf[start + 3], end - start - p.OVERHEAD
        minimum = p.MIN_PAYLOAD.get(ftype, -1)
        is_csi = ftype == p.TYPE_CSI and length >= minimum
        n = _U16.unpack_from(buf, start + p.HEADER_SIZE + p.CSI_LEN_OFFSET)[0] if is_csi else 0
        reason = None
        if minimum < 0:
            reason = DecodeReason.TYPE.value
        elif length < minimum or (is_csi and n > min(length - p.CSI_HEADER_SIZE, MAX_CSI_BYTES)):
            reason = DecodeReason.PAYLOAD.value
        if reason:
            out.errors[reason] += 1
        types.append(ftype)
        good.append(reason is None)
        csi_len.append(n)
    out.starts, out.ends = starts, ends
    out.types, out.good, out.csi_len = np.array(types, np.uint8), np.array(good, bool), np.array(csi_len, np.int64)


def _describe_bulk(arr: np.ndarray, starts: np.ndarray, ends: np.ndarray, out: Framing) -> None:
    types = arr[starts + 3]
    lengths = ends - starts - p.OVERHEAD
    minimum = _MIN_BY_TYPE[types]
    is_csi = types == p.TYPE_CSI
    unknown = minimum < 0
    short = ~unknown & (lengths < minimum)
    has_len = is_csi & ~short
    len_at = np.where(has_len, starts + p.HEADER_SIZE + p.CSI_LEN_OFFSET, starts)  # inside the frame either way
    csi_len = np.where(has_len, arr[len_at].astype(np.int64) | (arr[len_at + 1].astype(np.int64) << 8), 0)
    short |= is_csi & ~short & ((csi_len > lengths - p.CSI_HEADER_SIZE) | (csi_len > MAX_CSI_BYTES))
    if unknown.any():
        out.errors[DecodeReason.TYPE.value] += int(np.count_nonzero(unknown))
    if short.any():
        out.errors[DecodeReason.PAYLOAD.value] += int(np.count_nonzero(short))
    out.starts, out.ends, out.types, out.good, out.csi_len = starts, ends, types, ~(unknown | short), csi_len


def gather_csi(data: bytes | bytearray, offsets: np.ndarray, lengths: np.ndarray) -> FrameBatch:
    """Build a FrameBatch from the payload offsets of good CSI frames in `data`."""
    if not len(offsets):
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


# CSI header fields copied to META_DTYPE as they are (flags are split into their bits)
_PLAIN_FIELDS = tuple(name for name in p.CSI_HEADER_DTYPE.names or () if name != "flags")
_UNKNOWN = empty_meta(1)


def header_to_meta(header: np.ndarray) -> np.ndarray:
    """Protocol-v1 CSI headers -> META_DTYPE records."""
    meta = np.repeat(_UNKNOWN, len(header))  # (empty_meta, in one call)
    for name in _PLAIN_FIELDS:
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
