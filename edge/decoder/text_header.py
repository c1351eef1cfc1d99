"""Bulk path for the header columns of text rows: all rows of one layout in a few numpy calls.

Input: the header texts of N rows that share a layout of W columns, each text exactly
`f0,f1,...,f{W-1},` (the part between `CSI_DATA,` and the array's `[`, esp-csi's `"` dropped). All
texts are joined; the W*N commas give every field's byte range at once. Text columns are read
from those ranges (mac: 17 bytes each, decoded once per distinct value; real_timestamp: a
float per row) and then overwritten with `0` so that one `np.fromstring` parses every integer
column of every row.

Returns None whenever a precondition does not hold (a stray comma, an empty or odd-length
text field, a field that is not an integer); the caller then takes the row-by-row path in
`text.TextDecoder._fill_meta_rows`, which also isolates the bad rows. Both paths fill the same
columns (the tests compare them).
"""

from __future__ import annotations

import numpy as np

from csi_edge.decoder.text_layout import FLOAT_COLUMNS, META_COLUMNS
from csi_edge.decoder.text_values import _fromstring_ints
from csi_edge.frames import mac_to_int

MAC_CHARS = 17
MAX_FLOAT_CHARS = 32


def header_columns(heads: list[bytes], names: tuple[str, ...], macs: dict[bytes, int]):
    """-> ({column name: (N,) array}, fits (N,) bool) or None (take the row-by-row path)."""
    n, w = len(heads), len(names)
    joined = b"".join(heads)
    buf = np.frombuffer(joined, dtype=np.uint8)
    if b'"' in joined:  # esp-csi's quote before `[` ends every head; any other quote is bad
        quotes = np.flatnonzero(buf == 34)
        head_ends = np.cumsum(np.fromiter(map(len, heads), dtype=np.int64, count=n)) - 1
        if quotes.size != n or not np.array_equal(quotes, head_ends):
            return None
        buf = np.delete(buf, quotes)
    else:
        buf = buf.copy()
    commas = np.flatnonzero(buf == 44)
    if commas.size != n * w:
        return None
    ends = commas.reshape(n, w)
    starts = np.empty_like(ends)
    starts[:, 1:] = ends[:, :-1] + 1
    starts[0, 0] = 0
    starts[1:, 0] = ends[:-1, -1] + 1
    lengths = ends - starts
    columns: dict[str, np.ndarray] = {}
    fits = np.ones(n, dtype=bool)
    for k, name in enumerate(names):
        if name in META_COLUMNS and name != "mac":
            continue  # an integer column
        s, length = starts[:, k], lengths[:, k]
        if not length.all():
            return None
        if name == "mac":
            if not (length == MAC_CHARS).all():
                return None
            columns["mac"] = _macs(_gather(buf, s, MAC_CHARS), macs)
        elif name in FLOAT_COLUMNS:
            width = int(length.max())
            if width > MAX_FLOAT_CHARS:
                return None
            text = _gather(buf, s, width, length)
            try:
                columns[name] = text.view(f"S{width}").reshape(n).astype(np.float64)
            except ValueError:
                return None
        elif name == "role":  # ESP32-CSI-Tool AP/STA: a number here means an esp-csi row
            fits = (buf[s] - np.uint8(48)) >= 10
        _blank(buf, s, length)
    ints = _fromstring_ints(buf.tobytes(), n * w)
    if ints is None:
        return None
    ints = ints.reshape(n, w)
    for k, name in enumerate(names):
        if name in META_COLUMNS and name != "mac":
            columns[name] = ints[:, k]
    return columns, fits


def _gather(buf: np.ndarray, starts: np.ndarray, width: int, lengths: np.ndarray | None = None) -> np.ndarray:
    """(N, width) bytes from each start; bytes past `lengths` are NUL."""
    cols = np.arange(width)
    out = buf[np.minimum(starts[:, None] + cols, len(buf) - 1)]
    if lengths is not None:
        out[cols >= lengths[:, None]] = 0
    return out


def _macs(text: np.ndarray, cache: dict[bytes, int]) -> np.ndarray:
    """(N, 17) MAC texts -> uint64, decoding each distinct MAC once."""
    if (text == text[0]).all():  # the usual case: one transmitter
        mac = text[0].tobytes()
        if mac not in cache:
            cache[mac] = mac_to_int(mac.decode("ascii", "replace"))
        return np.full(len(text), cache[mac], dtype=np.uint64)
    unique, inverse = np.unique(text.view(f"S{MAC_CHARS}").reshape(-1), return_inverse=True)
    values = np.empty(len(unique), dtype=np.uint64)
    for i, mac in enumerate(unique.tolist()):
        if mac not in cache:
            cache[mac] = mac_to_int(mac.decode("ascii", "replace"))
        values[i] = cache[mac]
    return values[inverse.reshape(-1)]


def _blank(buf: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> None:
    """Overwrite each field with spaces and a final `0`, so that it parses as the integer 0."""
    cols = np.arange(int(lengths.max()))
    inside = cols < lengths[:, None]
    buf[(starts[:, None] + cols)[inside]] = 32
    buf[starts + lengths - 1] = 48
