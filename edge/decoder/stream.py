"""The streaming decoder: arbitrary byte chunks in, batches of frames out.

One decoder serves live serial, replays, capture and training. It finds protocol-v1 binary
frames (by their sync pair, checked by CRC; `binary`), treats every other byte as text cut
into lines (`lines`), hands the lines to the text decoder (esp-csi and ESP32-CSI-Tool
formats; `text`), and returns what it found in stream order. Every failure is classified and
counted in `errors` (`DecodeReason` value -> count); lines that are simply not CSI (boot
banners, logs) are counted in `ignored`. Nothing good is ever dropped: a chunk boundary may
fall anywhere, including inside a frame, inside a line, or between the two bytes of a sync pair,
and the outcome is the same however the stream is cut.

Decoding has two steps, and `feed` runs both: `take(chunk)` frames the bytes (envelopes and
CRCs, text cut into lines: each byte is looked at once) and `flush()` builds what was taken into
one `Decoded` (CSI rows gathered, text rows parsed). The read coalescer (`csi_edge.coalesce`)
takes every read as it arrives and flushes once per window hop, using `pending_seq`, the seq of
the newest CSI frame taken: the frames are checked once, and built once.

Work is linear in the input: `work` counts the bytes framed (a held incomplete frame is framed
again when it can complete: at most p.MAX_FRAME bytes per chunk), the sync pairs visited and the
text bytes parsed; `Framing.crc_bytes` the bytes checked by CRC (each candidate at most once).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from csi_edge import protocol as p
from csi_edge.decoder.binary import Framing, frame_region, gather_csi
from csi_edge.decoder.lines import LineBuffer
from csi_edge.decoder.text import TextDecoder
from csi_edge.decoder.text_encoding import EncodingSniffer
from csi_edge.frames import MAX_CSI_BYTES, FrameBatch


@dataclass
class Decoded:
    """What one `feed` (or `flush`) produced."""

    frames: FrameBatch
    stats: list[p.Stats] = field(default_factory=list)
    hellos: list[p.Hello] = field(default_factory=list)
    logs: list[p.LogRecord] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.frames)


class StreamDecoder:
    """`feed(chunk)` -> Decoded; `finish()` at the end of the stream (reports a torn tail).

    `take(chunk)` + `flush()` is `feed` in two steps (see the module docstring).
    """

    def __init__(self) -> None:
        self._buf = bytearray()  # bytes not decided yet: an incomplete frame, a first sync byte
        self._need = 0  # len(_buf) at which the frame at its start can be decided
        self.errors: Counter[str] = Counter()
        self.ignored: Counter[str] = Counter()
        self.text = TextDecoder(self.errors, self.ignored)
        self.lines = LineBuffer(self.errors)
        # UTF-16 captures (Windows) are transcoded before anything else; see text_encoding.
        self.encoding = EncodingSniffer()
        self.frames_decoded = 0
        self.bytes_fed = 0
        self.work = 0  # bytes framed + sync pairs visited + text bytes parsed (linear in the input)
        self.crc_bytes = 0
        self._pending = _Pending()

    @property
    def pending_seq(self) -> int | None:
        """Seq of the newest CSI frame taken and not flushed, if nothing else (text) is pending."""
        return self._pending.newest_seq if not self._pending.text else None

    @property
    def pending(self) -> bool:
        return self._pending.any()

    def feed(self, chunk: bytes) -> Decoded:
        self.take(chunk)
        return self.flush()

    def finish(self) -> Decoded:
        """End of stream: decide a held frame (torn: `truncated`), end the last line, flush."""
        self._take(self.encoding.finish(), final=True)
        self._pending.add_text(self.lines.close())
        return self.flush()

    def take(self, chunk: bytes) -> None:
        """Frame `chunk` (the first decoding step); its results wait for `flush`."""
        self.bytes_fed += len(chunk)
        self._take(self.encoding.feed(bytes(chunk)), final=False)

    def flush(self) -> Decoded:
        """Build everything taken since the last flush into one Decoded (stream order)."""
        pending, self._pending = self._pending, _Pending()
        texts, offsets, csi_len = pending.close()
        csi = gather_csi(pending.store, np.concatenate(offsets), np.concatenate(csi_len)) if offsets else None
        parts: list[FrameBatch] = []
        row = 0
        for k, region in enumerate(texts):  # text region k comes before CSI run k
            if region:
                self.work += len(region)
                parts.append(self.text.decode(region))
            if csi is not None and k < len(offsets):
                parts.append(csi if len(offsets) == 1 else csi[row : row + len(offsets[k])])
                row += len(offsets[k])
        frames = FrameBatch.concat(parts)
        self.frames_decoded += len(frames)
        return Decoded(frames, pending.stats, pending.hellos, pending.logs)

    def _take(self, data: bytes, final: bool) -> None:
        if self._buf or not data:
            self._buf += data
            if not self._buf or (not final and len(self._buf) < self._need):
                return  # waiting for the rest of a frame: nothing to decide yet
            buf: bytes | bytearray = self._buf
        else:
            buf = data  # nothing held (the usual case): no copy
        framing = frame_region(buf, 0, final)
        self.work += len(buf) + framing.visited
        self.crc_bytes += framing.crc_bytes
        self.errors.update(framing.errors)
        self._route(buf, framing)
        self._buf = bytearray(buf[framing.stop :])
        self._need = framing.need - framing.stop if framing.need else 0

    def _route(self, buf: bytes | bytearray, framing: Framing) -> None:
        """Send the text between frames to the line buffer and the frames to `_pending`."""
        starts, ends, stop = framing.starts, framing.ends, framing.stop
        pending = self._pending
        if not len(starts):
            pending.add_text(self.lines.add(bytes(buf[:stop])))  # (no copy when `buf` is bytes and whole)
            return
        # A frame ends the current line. Only frames with text before them (or the first one,
        # when a line is open) need that; the frames in between are taken in runs.
        starts_at, ends_at = starts.tolist(), ends.tolist()
        breaks = [k for k, (s, e) in enumerate(zip(starts_at, [0, *ends_at[:-1]], strict=True)) if s != e]
        if self.lines.open and (not breaks or breaks[0] != 0):
            breaks.insert(0, 0)
        is_csi = framing.good & (framing.types == p.TYPE_CSI)
        if not breaks:  # frames back to back, no text: one run (a live read, a clean v1 file)
            pending.add_csi(buf, starts[is_csi], framing.csi_len[is_csi])
        else:
            at_break = set(breaks)
            bounds = ([0] if breaks[0] else []) + breaks + [len(starts_at)]
            for lo, hi in zip(bounds[:-1], bounds[1:], strict=True):
                if lo in at_break:
                    text_from = ends_at[lo - 1] if lo else 0
                    if text_from < starts_at[lo]:
                        pending.add_text(self.lines.add(bytes(buf[text_from : starts_at[lo]])))
                    pending.add_text(self.lines.close())
                run = is_csi[lo:hi]
                pending.add_csi(buf, starts[lo:hi][run], framing.csi_len[lo:hi][run])
        for k in np.flatnonzero(framing.good & ~is_csi).tolist():
            payload = bytes(buf[int(starts[k]) + p.HEADER_SIZE : int(ends[k]) - p.CRC.size])
            pending.add_other(int(framing.types[k]), payload)
        if ends_at[-1] < stop:
            pending.add_text(self.lines.add(bytes(buf[ends_at[-1] : stop])))


class _Pending:
    """What `take` found and `flush` will build, in stream order: text region 0, CSI run 0,
    text region 1, CSI run 1, ... (a region may be empty).

    CSI frames are copied into `store` (one slice per run) and recorded by payload offset;
    consecutive text is joined into one region (frames of other types do not split it).
    """

    def __init__(self) -> None:
        self.store = bytearray()
        self.offsets: list[np.ndarray] = []  # payload offsets in `store`, per CSI run
        self.csi_len: list[np.ndarray] = []
        self.texts: list[bytes] = []  # text region before each CSI run (and one after the last)
        self.text = False
        self.newest_seq: int | None = None
        self.stats: list[p.Stats] = []
        self.hellos: list[p.Hello] = []
        self.logs: list[p.LogRecord] = []
        self._text: list[bytes] = []

    def any(self) -> bool:
        return bool(self.offsets or self._text or self.stats or self.hellos or self.logs)

    def add_text(self, text: bytes) -> None:
        if text:
            self._text.append(text)
            self.text = True

    def add_csi(self, buf: bytes | bytearray, starts: np.ndarray, csi_len: np.ndarray) -> None:
        if not len(starts):
            return
        lo = int(starts[0])
        hi = int(starts[-1]) + p.HEADER_SIZE + p.CSI_HEADER_SIZE + int(csi_len[-1])
        offsets = starts - lo + (len(self.store) + p.HEADER_SIZE)
        self.store += buf[lo:hi]
        if self._text or not self.offsets:  # text since the last run: a new run
            self._end_text()
            self.offsets.append(offsets)
            self.csi_len.append(csi_len)
        else:
            self.offsets[-1] = np.concatenate([self.offsets[-1], offsets])
            self.csi_len[-1] = np.concatenate([self.csi_len[-1], csi_len])
        at = int(offsets[-1]) + p.CSI_SEQ_OFFSET
        self.newest_seq = int.from_bytes(self.store[at : at + 4], "little")

    def add_other(self, frame_type: int, payload: bytes) -> None:
        if frame_type == p.TYPE_STATS:
            self.stats.append(p.parse_stats(payload))
        elif frame_type == p.TYPE_HELLO:
            self.hellos.append(p.parse_hello(payload))
        elif frame_type == p.TYPE_LOG:
            self.logs.append(p.parse_log(payload))

    def close(self) -> tuple[list[bytes], list[np.ndarray], list[np.ndarray]]:
        """-> (text regions, CSI payload offsets per run, csi_len per run)."""
        self._end_text()
        self.store += bytes(p.CSI_HEADER_SIZE + MAX_CSI_BYTES)  # gather_csi reads whole rows
        return self.texts, self.offsets, self.csi_len

    def _end_text(self) -> None:
        self.texts.append(b"".join(self._text))
        self._text = []


def decode_bytes(data: bytes) -> tuple[Decoded, StreamDecoder]:
    """Decode a complete byte string (a file's contents)."""
    decoder = StreamDecoder()
    first = decoder.feed(data)
    last = decoder.finish()
    merged = Decoded(
        FrameBatch.concat([first.frames, last.frames]),
        first.stats + last.stats,
        first.hellos + last.hellos,
        first.logs + last.logs,
    )
    return merged, decoder
