"""Text between binary frames, cut into complete lines; a line has a bounded length.

A line ends at LF, CR (CRLF is a CR and an empty line), a CRC-valid binary frame, or the end
of the stream. A line longer than MAX_LINE bytes cannot be a CSI row (the longest is about
3 KiB): it is counted once as `line_too_long` and dropped, whether it arrived in one piece or
across many chunks, so memory stays bounded and the outcome does not depend on chunking.
"""

from __future__ import annotations

from collections import Counter

from csi_edge.decoder.reasons import DecodeReason

MAX_LINE = 1 << 16
_TOO_LONG = DecodeReason.LINE_TOO_LONG.value


class LineBuffer:
    """Feed text with `add`; end the current line with `close`. Both return complete lines."""

    def __init__(self, errors: Counter) -> None:
        self.errors = errors
        self._tail = bytearray()  # the unfinished last line
        self._dropping = False  # inside a line already counted as too long

    @property
    def open(self) -> bool:
        """A line has begun (or is being dropped) and not ended yet."""
        return bool(self._tail) or self._dropping

    def add(self, text: bytes) -> bytes:
        """Text continuing the stream -> the lines it completes (each with its line end)."""
        if self._dropping:
            first = _first_end(text, 0)
            if first < 0:
                return b""
            text = text[first:]  # the dropped line ends here (what follows is an empty line)
            self._dropping = False
        last = max(text.rfind(b"\n"), text.rfind(b"\r"))
        if last < 0:
            self._grow(text)
            return b""
        done = b"".join((self._tail, memoryview(text)[: last + 1])) if self._tail else text[: last + 1]
        self._tail = bytearray()
        self._grow(text[last + 1 :])
        return self._drop_long(done)

    def close(self) -> bytes:
        """A frame or the end of the stream ends the current line -> it, with a LF."""
        self._dropping = False
        if not self._tail:
            return b""
        line = bytes(self._tail) + b"\n"
        self._tail = bytearray()
        return line

    def _grow(self, text: bytes) -> None:
        self._tail += text
        if len(self._tail) > MAX_LINE:
            self.errors[_TOO_LONG] += 1
            self._tail = bytearray()
            self._dropping = True

    def _drop_long(self, lines: bytes) -> bytes:
        """`lines` (complete lines) without those longer than MAX_LINE, each counted once.

        Linear: from a line start, the last line end within MAX_LINE + 1 bytes is found with
        one rfind; if there is none, the line there is too long.
        """
        n = len(lines)
        pos, kept_from, kept = 0, 0, []
        while pos + MAX_LINE < n:
            window = pos + MAX_LINE + 1
            end = max(lines.rfind(b"\n", pos, window), lines.rfind(b"\r", pos, window))
            if end >= 0:
                pos = end + 1
                continue
            end = _first_end(lines, window)  # exists: `lines` ends with a line end
            self.errors[_TOO_LONG] += 1
            kept.append(lines[kept_from:pos])
            kept_from = pos = end  # keep the line end: an empty line stands where the long one was
        if not kept:
            return lines
        kept.append(lines[kept_from:])
        return b"".join(kept)


def _first_end(text: bytes, start: int) -> int:
    """Offset of the first LF or CR at or after `start`, or -1 (reads no further than it)."""
    lf = text.find(b"\n", start)
    cr = text.find(b"\r", start, lf if lf >= 0 else len(text))
    return cr if cr >= 0 else lf
