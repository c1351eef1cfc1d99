"""Bulk number parsing for the text decoder: many rows per numpy call, no per-value Python.

Two parsers:

- `parse_csi_arrays(arrays)`: the CSI byte arrays (`1 -2 3` / `1,-2,3`, values -128..127).
  All arrays are joined into one buffer and parsed by a vectorised table lookup: for every
  token (a run of digits) the last three bytes index a 2**24-entry table that holds the
  token's value, with the sign or a fourth digit checked from the byte before. A row is bad
  when it holds anything other than separators and int8 numbers.
- `parse_int_columns(texts, width)`: the integer header columns of many rows, each text
  holding exactly `width` comma-separated integers; bad rows are found by bisection.
"""

from __future__ import annotations

import warnings

import numpy as np

from csi_edge.frames import FrameBatch

INVALID = np.int16(-32768)
_THREE_DIGITS = 1000  # table offset for 3-digit tokens, whose sign byte lies before the window
_SEPARATOR_BYTES = b" \t,;"  # normalised to a space before parsing
_NORMALISE = bytes.maketrans(b"\t,;", b"   ")


def _build_table() -> np.ndarray:
    """Table [b[e], b[e-1], b[e-2]] (256, 256, 256) where e is the offset of a token's last digit."""
    table = np.full(1 << 24, INVALID, dtype=np.int16)
    anything = np.arange(256)
    space, minus, zero = 32, 45, 48
    for d0 in range(10):
        last = (zero + d0) << 16
        table[anything | (space << 8) | last] = d0  # "d"
        table[space | (minus << 8) | last] = -d0  # "-d"
        for d1 in range(10):
            mid = (zero + d1) << 8
            if d1:  # no leading zeros
                table[space | mid | last] = 10 * d1 + d0  # "dd"
                table[minus | mid | last] = -(10 * d1 + d0)  # "-dd"
            for d2 in range(1, 10):  # "ddd": sign or validity decided by the byte before
                table[(zero + d2) | mid | last] = _THREE_DIGITS + 100 * d2 + 10 * d1 + d0
    return table.reshape(256, 256, 256)


_TABLE: np.ndarray | None = None


def _table() -> np.ndarray:
    global _TABLE
    if _TABLE is None:
        _TABLE = _build_table()
    return _TABLE


def parse_csi_arrays(arrays: list[bytes]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Parse N array texts (without brackets) -> (values int8 (T,), counts (N,), ok (N,)).

    `values` holds the tokens of all rows back to back (bad rows' tokens included, to be
    dropped by the caller with `np.repeat(ok, counts)`); `counts` is tokens per row.
    """
    n = len(arrays)
    pad = b"\0\0   "  # two bytes for the shifted views below, three separators
    joined = pad + b" ".join(arrays) + b" "
    if b"," in joined or b"\t" in joined or b";" in joined:
        joined = joined.translate(_NORMALISE)
    whole = np.frombuffer(joined, dtype=np.uint8)
    buf, before1, before2 = whole[2:], whole[1:-1], whole[:-2]  # buf[i-1] == before1[i]
    digit = (buf - np.uint8(48)) < 10
    ends = np.flatnonzero(digit[:-1] & ~digit[1:])
    lengths = np.fromiter(map(len, arrays), dtype=np.int64, count=n) + 1
    bounds = np.cumsum(lengths) + len(pad) - 3  # offset in buf of the space after each row
    counts = np.diff(np.searchsorted(ends, bounds), prepend=0)
    values = _table()[buf[ends], before1[ends], before2[ends]]
    three = np.flatnonzero(values >= _THREE_DIGITS)
    if three.size:
        sign = buf[ends[three] - 3]
        v = values[three] - _THREE_DIGITS
        v = np.where(sign == 45, -v, v)
        v[(sign != 32) & (sign != 45)] = INVALID
        values[three] = v
    bad_token = (values < -128) | (values > 127)
    ok = np.ones(n, dtype=bool)
    if bad_token.any():
        row_of = np.repeat(np.arange(n), counts)
        ok[row_of[bad_token]] = False
    minus = joined.count(b"-")
    clean = not joined.translate(None, b"0123456789- \0")
    if not clean or minus != int(np.count_nonzero(values < 0)):
        ok &= _rows_with_clean_text(arrays)  # stray characters or signs somewhere
    return values.astype(np.int8), counts, ok


_ALLOWED = b"0123456789-" + _SEPARATOR_BYTES


def _rows_with_clean_text(arrays: list[bytes]) -> np.ndarray:
    """Slow path (only when a region holds a bad array): which rows contain only numbers."""
    ok = np.ones(len(arrays), dtype=bool)
    for i, text in enumerate(arrays):
        if text.translate(None, _ALLOWED):
            ok[i] = False
            continue
        tokens = text.translate(_NORMALISE).split()
        if any(not _is_int_token(t) for t in tokens):
            ok[i] = False
    return ok


def _is_int_token(token: bytes) -> bool:
    body = token[1:] if token.startswith(b"-") else token
    return body.isdigit() and (len(body) == 1 or not body.startswith(b"0"))


def parse_int_columns(texts: list[bytes], width: int) -> tuple[np.ndarray, np.ndarray]:
    """Parse N texts of `width` comma-separated integers -> (int64 (N, width), ok (N,)).

    One `np.fromstring` call when every row is good; otherwise the rows are bisected until
    the bad ones are isolated (rows of bad rows hold zeros).
    """
    n = len(texts)
    out = np.zeros((n, width), dtype=np.int64)
    ok = np.ones(n, dtype=bool)
    if n == 0 or width == 0:
        return out, ok
    _parse_range(texts, width, 0, n, out, ok)
    return out, ok


def _parse_range(texts: list[bytes], width: int, lo: int, hi: int, out: np.ndarray, ok: np.ndarray) -> None:
    values = _fromstring_ints(b",".join(texts[lo:hi]), (hi - lo) * width)
    if values is not None:
        out[lo:hi] = values.reshape(hi - lo, width)
        return
    if hi - lo == 1:
        ok[lo] = False
        return
    mid = (lo + hi) // 2
    _parse_range(texts, width, lo, mid, out, ok)
    _parse_range(texts, width, mid, hi, out, ok)


def _fromstring_ints(text: bytes, expected: int) -> np.ndarray | None:
    """All of `text` as comma-separated int64, or None if it is not exactly `expected` ints."""
    if b"." in text or b"x" in text or b"X" in text:
        return None  # strtol-style parsers accept these partially; a header int never has them
    digit = (np.frombuffer(text, dtype=np.uint8) - np.uint8(48)) < 10
    runs = int(np.count_nonzero(digit[1:] & ~digit[:-1])) + int(digit[:1].sum())
    if runs != expected:
        return None  # fromstring reads an empty, "-" or "+" field as 0: every field needs digits
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            values = np.fromstring(text, dtype=np.int64, sep=",")
    except (ValueError, DeprecationWarning):
        return None
    return values if values.size == expected else None


def parse_float_column(texts: list[bytes]) -> np.ndarray:
    """One float per text (e.g. real_timestamp seconds); NaN where it does not parse."""
    try:
        return np.fromiter(map(float, texts), dtype=np.float64, count=len(texts))
    except ValueError:
        pass
    out = np.full(len(texts), np.nan)
    for i, text in enumerate(texts):
        try:
            out[i] = float(text)
        except ValueError:
            pass
    return out


def assemble_rows(meta: np.ndarray, values: np.ndarray, counts: np.ndarray, good: np.ndarray) -> FrameBatch:
    """Keep the good rows; lay their values out as int8 (N, longest) zero-padded on the right."""
    if not good.all():
        values = values[np.repeat(good, counts)]
        counts = counts[good]
        meta = meta[good]
    meta["csi_len"] = counts
    n = len(counts)
    if n == 0:
        return FrameBatch.empty()
    width = int(counts.max())
    if np.all(counts == width):
        csi = values.reshape(n, width)
    else:
        csi = np.zeros((n, width), dtype=np.int8)
        starts = np.cumsum(counts) - counts
        cols = np.arange(values.size) - np.repeat(starts, counts)
        csi[np.repeat(np.arange(n), counts), cols] = values
    return FrameBatch(meta, np.ascontiguousarray(csi))
