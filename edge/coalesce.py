"""Read coalescing: decode in batches at 100 Hz without delaying any result.

At 100 Hz a serial read returns one frame, and the fixed cost of running every stage on a
1-packet batch dominates the CPU use. But a result is only due every `hop` packets (when the
window ring emits), so packets that cannot complete a window may wait and be decoded together
with the one that does. `Coalescer` holds raw bytes until either

- the newest complete protocol-v1 CSI frame held (found from the end by its sync pair, checked
  by its CRC, so a sync pattern inside CSI bytes cannot fool it) brings the window ring to its
  next emission (`needed` packets after the ring's last seq, or a gap that resets the ring);
- the bytes are not v1 frames we can read a seq from (text formats: no holding);
- the oldest held bytes have waited `max_hold_s` (a bound on staleness of link figures).

The packet that completes a window is therefore decoded on the read that brought it: the
packet-to-publish latency is unchanged, while decode/feature/window work runs once per hop.
"""

from __future__ import annotations

import struct
import zlib

from csi_edge import protocol as p
from csi_edge.seq import SEQ_MOD

_ENV = struct.Struct("<BBHI")  # version, type, length, then the CSI payload's first field: seq
_CRC = struct.Struct("<I")
SEARCH_BACK = 4096  # bytes searched from the end for the newest complete frame


def newest_csi_seq(data: bytes) -> int | None:
    """Seq of the newest complete, CRC-valid v1 CSI frame in `data` (searching from the end)."""
    end = len(data)
    lo = max(0, end - SEARCH_BACK)
    pos = data.rfind(p.SYNC, lo, end)
    while pos >= 0:
        if pos + p.HEADER_SIZE + 4 <= end:
            version, ftype, length, seq = _ENV.unpack_from(data, pos + 2)
            stop = pos + p.HEADER_SIZE + length
            if version == p.VERSION and ftype == p.TYPE_CSI and stop + 4 <= end and length >= p.CSI_HEADER_SIZE:
                if zlib.crc32(memoryview(data)[pos + 2 : stop]) == _CRC.unpack_from(data, stop)[0]:
                    return seq
        pos = data.rfind(p.SYNC, lo, pos)
    return None


class Coalescer:
    def __init__(self, max_hold_s: float = 0.1) -> None:
        self.max_hold_s = max_hold_s
        self._held: list[bytes] = []
        self._since: float | None = None
        self.enabled = True

    @property
    def holding(self) -> bool:
        return bool(self._held)

    def offer(self, chunk: bytes, arrival: float, last_seq: int | None, needed: int, max_fill: int) -> bytes | None:
        """Add `chunk`; return all held bytes when they should be decoded now, else None.

        `last_seq`: seq of the newest packet in the window ring; `needed`: packets until its
        next emission; `max_fill`: the ring's longest filled gap (a longer one resets it).
        """
        if chunk:
            self._held.append(chunk)
            if self._since is None:
                self._since = arrival
        if not self._held:
            return None
        since = arrival if self._since is None else self._since
        if self.enabled and needed > 1 and last_seq is not None and arrival - since < self.max_hold_s:
            seq = newest_csi_seq(self._held[-1]) if len(self._held[-1]) >= 64 else newest_csi_seq(b"".join(self._held[-3:]))
            if seq is not None:
                advance = (seq - last_seq) % SEQ_MOD
                if 0 < advance < needed and advance <= max_fill + 1:
                    return None  # the held packets cannot complete a window yet
        data = b"".join(self._held) if len(self._held) > 1 else self._held[0]
        self._held.clear()
        self._since = None
        return data
