"""Text encodings a Windows terminal or editor leaves on a saved capture.

The decoder works on bytes and everything it looks for is ASCII, so UTF-8, cp1252 and other
8-bit encodings need nothing: their non-ASCII bytes only ever sit in lines that are not CSI
rows. UTF-16 (PowerShell's `>` and `Out-File` default) puts a NUL after every ASCII byte and
must be transcoded. It is recognised by its byte-order mark at the start of the stream:

    EF BB BF   UTF-8 BOM        dropped
    FF FE      UTF-16 LE BOM    the rest of the stream is transcoded to UTF-8
    FE FF      UTF-16 BE BOM    the rest of the stream is transcoded to UTF-8

A UTF-16 BOM counts only when the text after it looks like UTF-16 (a NUL in most high bytes
of its first 16 code units): serial noise at a board's reset can start with FF FE too. A stream
without a BOM is passed through unchanged. Transcoding is incremental, so a chunk boundary may
split a UTF-16 code unit.
"""

from __future__ import annotations

import codecs

_BOMS = (
    (codecs.BOM_UTF8, None),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_SNIFF = 3  # bytes needed to decide, without a UTF-16 BOM
_SNIFF_UTF16 = 2 + 32  # a UTF-16 BOM and 16 code units


class EncodingSniffer:
    """Looks at the first bytes of a stream once; then passes or transcodes every chunk."""

    def __init__(self) -> None:
        self._head = b""
        self._decided = False
        self._decoder: codecs.IncrementalDecoder | None = None
        self.encoding = "bytes"  # or "utf-8-sig", "utf-16-le", "utf-16-be"

    def feed(self, chunk: bytes) -> bytes:
        if not self._decided:
            self._head += chunk
            if len(self._head) < _SNIFF and any(bom.startswith(self._head) for bom, _ in _BOMS):
                return b""  # could still become a BOM: wait for more bytes
            if len(self._head) < _SNIFF_UTF16 and self._head[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
                return b""  # a UTF-16 BOM: wait for enough text to confirm it
            chunk, self._head = self._head, b""
            chunk = self._decide(chunk)
        if self._decoder is None:
            return chunk
        return self._decoder.decode(chunk).encode("utf-8")

    def finish(self) -> bytes:
        tail = b""
        if not self._decided:
            tail, self._head = self._decide(self._head), b""
        if self._decoder is None:
            return tail
        return self._decoder.decode(tail, final=True).encode("utf-8")

    def _decide(self, head: bytes) -> bytes:
        self._decided = True
        for bom, encoding in _BOMS:
            if head.startswith(bom) and (encoding is None or _looks_utf16(head[2:], encoding)):
                if encoding is None:
                    self.encoding = "utf-8-sig"
                else:
                    self.encoding = encoding
                    self._decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
                return head[len(bom) :]
        return head


def _looks_utf16(text: bytes, encoding: str) -> bool:
    """Mostly ASCII code units: the high byte (second in LE, first in BE) is NUL."""
    high = text[1::2] if encoding == "utf-16-le" else text[0::2]
    high = high[: len(text) // 2]
    return not high or high.count(0) >= 0.75 * len(high)
