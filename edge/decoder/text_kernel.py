"""The numba kernel of the text decoder's fast path (`text_fast`): one pass over a region.

`scan_region` classifies each line of a region (CR/CRLF already LF) and decodes the clean CSI
rows straight into preallocated arrays; `text_fast.decode_region` drives it and hands every
line it does not decode to the numpy reference path. The byte-level state machine is written
down above the kernel. Without numba the functions stay plain Python (importable, never run).
"""

from __future__ import annotations

import types

import numpy as np

from csi_edge.frames import MAX_CSI_BYTES

numba: types.ModuleType | None
try:
    import numba
except ImportError:  # the core install (e.g. the daemon on a Jetson): the numpy path only
    numba = None

# Per-line status codes written by the kernel.
BLANK, TEXT, ROW, FALLBACK, STOP = 0, 1, 2, 3, 4
# Column kinds of a layout, as the kernel reads them.
K_TEXT, K_INT, K_MAC, K_FLOAT, K_ROLE = 0, 1, 2, 3, 4
MAX_COLUMNS = 64  # wider rows go to the reference path
PAD = 4  # NUL bytes after the region, so that the array parser may look 3 bytes ahead
MAX_INT_DIGITS = 18  # always fits int64
MAX_FLOAT_DIGITS = 15  # mantissa < 2**53: exact as a double (see _parse_float)
_HEAD_STOPS = np.zeros(256, dtype=np.bool_)  # bytes the HEAD state looks at: NUL (PAD), LF, `,`, `C`, `[`
_HEAD_STOPS[[0, 10, 44, 67, 91]] = True
_SEPARATORS = np.zeros(256, dtype=np.bool_)  # between array values: space, `,`, TAB, `;`
_SEPARATORS[[32, 44, 9, 59]] = True
_TOKEN_ENDS = _SEPARATORS.copy()  # what may follow a value: a separator or `]`
_TOKEN_ENDS[93] = True
_POW10 = np.array([float(10**k) for k in range(23)])  # 10**k, k <= 22, is exact as a double (5**22 < 2**53)


# -- the kernel ---------------------------------------------------------------------------
#
# The region (CR/CRLF already turned into LF) is a uint8 array. Each line goes through these
# states; every byte is looked at once (a row's header columns are re-read from the offsets
# recorded in HEAD, a few dozen bytes). Rows are written straight into preallocated arrays:
# `values` (the CSI bytes of all rows back to back), `counts`, and the META record bytes of
# each row (a record of unknowns first, then each column at its field's offset).
#
#   PREFIX  from the line start to `CSI_DATA` or LF, noting whether every byte was
#           whitespace (space, 9..13) and whether `type,` occurred.
#           LF first:  blank -> BLANK;  `type,` seen -> STOP;  else -> TEXT (a log line).
#           `CSI_DATA` after `type,` -> STOP (maybe the CSI-Tool header line ending in CSI_DATA).
#   HEAD    `CSI_DATA` must be followed by `,`; then up to `[`: every `,` ends a column
#           (start/end recorded); a second `CSI_DATA` or LF -> FALLBACK. The text between
#           the last `,` and `[` must be empty or one `"` (esp-csi's quote).
#   LAYOUT  the column count selects the layout (`spec_of_width`, -1: none -> FALLBACK);
#           each column is checked and converted by its kind:
#             K_INT    -?[0-9]{1,18}, within its META field's range
#             K_MAC    hh:hh:hh:hh:hh:hh (hex, either case)
#             K_FLOAT  -?[0-9]+(.[0-9]+)?, at most 15 digits (exact; see _parse_float)
#             K_ROLE   printable, not starting with a digit (ESP32-CSI-Tool AP/STA)
#             K_TEXT   printable (ignored)
#           (printable: 0x21..0x7e except `"`, `[`, `]`; never empty)
#   ARRAY   after `[`, up to `]`: separators (space, `,`, TAB, `;`) and tokens
#           -?(0|[1-9][0-9]{0,2}) in -128..127, each followed by a separator or `]`;
#           anything else (LF included: a torn row) -> FALLBACK. Values go to `values`.
#   TAIL    after `]` to LF: anything but a second `CSI_DATA` (glued rows -> FALLBACK).
#   CHECK   count even and not 0 (ARRAY stops at 612); esp-csi `len` equal to count -> ROW,
#           else FALLBACK.
#
# STOP returns to Python at once (a header line changes the layout of the rows after it);
# FALLBACK lines are handed to the reference path after the pass, TEXT lines are only counted.


if numba is not None:
    _jit = numba.njit(cache=True, nogil=True)
else:  # keep the module importable (and its constants usable) without numba

    def _jit(fn):
        return fn


@_jit
def _mark_at(buf, i, n):
    """`CSI_DATA` at buf[i]."""
    return (
        i + 8 <= n and buf[i] == 67 and buf[i + 1] == 83 and buf[i + 2] == 73 and buf[i + 3] == 95
        and buf[i + 4] == 68 and buf[i + 5] == 65 and buf[i + 6] == 84 and buf[i + 7] == 65
    )  # fmt: skip


@_jit
def _type_at(buf, i, n):
    """`type,` at buf[i]."""
    return i + 5 <= n and buf[i] == 116 and buf[i + 1] == 121 and buf[i + 2] == 112 and buf[i + 3] == 101 and buf[i + 4] == 44


@_jit
def _line_end(buf, i, n):
    while i < n and buf[i] != 10:
        i += 1
    return i


@_jit
def _parse_int(buf, s, e):
    """-?[0-9]{1,18} -> (ok, value)."""
    neg = s < e and buf[s] == 45
    if neg:
        s += 1
    if e - s < 1 or e - s > MAX_INT_DIGITS:
        return False, 0
    v = 0
    for i in range(s, e):
        d = buf[i] - 48
        if d < 0 or d > 9:
            return False, 0
        v = v * 10 + d
    return True, -v if neg else v


@_jit
def _parse_float(buf, s, e):
    """-?[0-9]+(.[0-9]+)? with at most 15 digits -> (ok, value).

    The digits form an integer m < 2**53 and the fraction has k <= 15 digits, so m and 10**k
    are exact doubles and m / 10**k is one correctly rounded IEEE division: the same double
    that Python's `float()` and numpy's string cast (both correctly rounded) produce.
    """
    neg = s < e and buf[s] == 45
    if neg:
        s += 1
    m = 0
    digits = 0
    frac = -1  # digits after the point; -1: no point yet
    for i in range(s, e):
        c = buf[i]
        if c == 46 and frac < 0 and digits > 0:
            frac = 0
            continue
        d = c - 48
        if d < 0 or d > 9:
            return False, 0.0
        m = m * 10 + d
        digits += 1
        if frac >= 0:
            frac += 1
    if digits == 0 or digits > MAX_FLOAT_DIGITS or frac == 0:
        return False, 0.0
    v = float(m) / _POW10[max(frac, 0)]
    return True, -v if neg else v


@_jit
def _hex(c):
    if 48 <= c <= 57:
        return c - 48
    if 97 <= c <= 102:
        return c - 87
    if 65 <= c <= 70:
        return c - 55
    return -1


@_jit
def _parse_mac(buf, s, e):
    """hh:hh:hh:hh:hh:hh -> (ok, 48-bit value)."""
    if e - s != 17:
        return False, 0
    v = 0
    for k in range(6):
        if k and buf[s + 3 * k - 1] != 58:
            return False, 0
        hi, lo = _hex(buf[s + 3 * k]), _hex(buf[s + 3 * k + 1])
        if hi < 0 or lo < 0:
            return False, 0
        v = v * 256 + hi * 16 + lo
    return True, v


@_jit
def _printable(buf, s, e):
    if e <= s:
        return False
    for i in range(s, e):
        c = buf[i]
        if c < 33 or c > 126 or c == 34 or c == 91 or c == 93:
            return False
    return True


@_jit
def _put(meta, row, offset, size, value):
    """Store an integer of 1, 2, 4 or 8 bytes little-endian (two's complement) into the record
    bytes of `row` (spelled out by size: 4x faster than a loop over the bytes)."""
    meta[row, offset] = value & 0xFF
    if size > 1:
        meta[row, offset + 1] = (value >> 8) & 0xFF
        if size > 2:
            meta[row, offset + 2] = (value >> 16) & 0xFF
            meta[row, offset + 3] = (value >> 24) & 0xFF
            if size > 4:
                for b in range(4, 8):
                    meta[row, offset + b] = (value >> (8 * b)) & 0xFF


@_jit
def _columns(buf, spec, ncol, row, col_starts, col_ends, kinds, fields, lows, highs, len_col, meta, layout, hosts):
    """LAYOUT state: check and convert the header columns of one row into its META record
    bytes (`layout`: byte offset and size of each INT_FIELDS field, then of `mac`)
    -> (ok, claimed len)."""
    claimed = -1
    for k in range(ncol):
        s, e = col_starts[k], col_ends[k]
        kind = kinds[spec, k]
        if kind == K_INT:
            ok, v = _parse_int(buf, s, e)
            if not ok or v < lows[spec, k] or v > highs[spec, k]:
                return False, claimed
            f = fields[spec, k]
            if f >= 0:
                _put(meta, row, layout[f, 0], layout[f, 1], v)
            if k == len_col:
                claimed = v
        elif kind == K_MAC:
            ok, mac = _parse_mac(buf, s, e)
            if not ok:
                return False, claimed
            _put(meta, row, layout[-1, 0], 8, mac)
        elif kind == K_FLOAT:
            ok, x = _parse_float(buf, s, e)
            if not ok:
                return False, claimed
            hosts[row] = x
        elif not _printable(buf, s, e) or (kind == K_ROLE and 48 <= buf[s] <= 57):
            return False, claimed
    return True, claimed


@_jit
def _array(buf, i, n, values, w):
    """ARRAY state from the byte after `[` -> (ok, index of `]` or of a byte where the row
    failed, new write position).

    A token is read without branching on its length (random 1..3 digit tokens would make a
    digit-by-digit loop mispredict once per value): the three bytes after its first digit are
    looked at together. `buf` has PAD NUL bytes after the region (n), so they always exist.
    """
    limit = w + MAX_CSI_BYTES
    while i < n:
        c = buf[i]
        if _SEPARATORS[c]:
            i += 1
            continue
        if c == 93:
            return True, i, w
        start = i  # a failure reports a byte of this line (the token may run past the LF)
        neg = c == 45
        j = i + 1 if neg else i
        d0 = np.int64(buf[j]) - 48
        d1 = np.int64(buf[j + 1]) - 48
        d2 = np.int64(buf[j + 2]) - 48
        d3 = np.int64(buf[j + 3]) - 48
        two = (d1 >= 0) & (d1 <= 9)
        three = two & (d2 >= 0) & (d2 <= 9)
        four = three & (d3 >= 0) & (d3 <= 9)
        v = 10 * d0 + d1 if two else d0
        v = 10 * v + d2 if three else v
        v = -v if neg else v
        i = j + 1 + np.int64(two) + np.int64(three)
        bad = (d0 < 0) | (d0 > 9) | four | ((d0 == 0) & (two | neg)) | (v > 127) | (v < -128)
        if bad | (i >= n) | (not _TOKEN_ENDS[buf[i]]) | (w == limit):
            return False, start, w
        values[w] = v
        w += 1
    return False, i, w


@_jit
def _row(buf, at, n, row, w, spec_of_width, kinds, fields, lows, highs, len_cols, template, layout,
         values, counts, meta, hosts, row_specs, col_starts, col_ends):  # fmt: skip
    """HEAD .. CHECK for the row whose `CSI_DATA` is at buf[at] -> (status, line end, write pos)."""
    i = at + 8
    if i >= n or buf[i] != 44:
        return FALLBACK, _line_end(buf, i, n), w
    i += 1
    start, ncol = i, 0
    while True:  # HEAD
        c = buf[i]
        if _HEAD_STOPS[c]:  # one test per ordinary byte
            if i >= n or c == 10:
                return FALLBACK, i, w
            if c == 91:
                break
            if c == 44:
                if ncol == MAX_COLUMNS:
                    return FALLBACK, _line_end(buf, i, n), w
                col_starts[ncol], col_ends[ncol] = start, i
                ncol += 1
                start = i + 1
            elif c == 67 and _mark_at(buf, i, n):
                return FALLBACK, _line_end(buf, i, n), w
        i += 1
    if not (i == start or (i == start + 1 and buf[start] == 34)) or ncol >= spec_of_width.size:
        return FALLBACK, _line_end(buf, i, n), w
    spec = spec_of_width[ncol]
    if spec < 0:
        return FALLBACK, _line_end(buf, i, n), w
    for b in range(template.size):
        meta[row, b] = template[b]
    hosts[row] = np.nan
    ok, claimed = _columns(buf, spec, ncol, row, col_starts, col_ends, kinds, fields, lows, highs, len_cols[spec], meta, layout, hosts)  # fmt: skip
    if not ok:
        return FALLBACK, _line_end(buf, i, n), w
    ok, i, w_end = _array(buf, i + 1, n, values, w)
    if not ok:
        return FALLBACK, _line_end(buf, i, n), w
    count = w_end - w
    i += 1
    while i < n and buf[i] != 10:  # TAIL
        if buf[i] == 67 and _mark_at(buf, i, n):
            return FALLBACK, _line_end(buf, i, n), w
        i += 1
    if count == 0 or count % 2 == 1 or (len_cols[spec] >= 0 and claimed != count):  # CHECK
        return FALLBACK, i, w
    counts[row], row_specs[row] = count, spec
    return ROW, i, w_end


@_jit
def scan_region(buf, n, pos, line, row, w, spec_of_width, kinds, fields, lows, highs, len_cols, template, layout,
                status, line_starts, values, counts, meta, hosts, row_lines, row_specs, col_starts, col_ends):  # fmt: skip
    """Classify the lines of buf[:n] from buf[pos] (line number `line`) on; decode clean rows from slot `row`
    and value offset `w` on. Stops after the last line or at a STOP line.

    -> (pos, line, row, w, text lines, finished); on a STOP, pos/line are the STOP line's.
    """
    text_lines = 0
    while pos <= n:
        line_starts[line] = pos
        i, blank, typed, at = pos, True, False, -1
        while i < n:  # PREFIX
            c = buf[i]
            if c == 10:
                break
            if c == 67 and _mark_at(buf, i, n):
                at = i
                break
            if c == 116 and _type_at(buf, i, n):
                typed = True
            if blank and not (c == 32 or 9 <= c <= 13):
                blank = False
            i += 1
        if typed:
            code = STOP
        elif at < 0:
            code = BLANK if blank else TEXT
        else:
            code, i, w = _row(buf, at, n, row, w, spec_of_width, kinds, fields, lows, highs, len_cols, template, layout,
                              values, counts, meta, hosts, row_specs, col_starts, col_ends)  # fmt: skip
        status[line] = code
        if code == STOP:
            return pos, line, row, w, text_lines, False
        if code == ROW:
            row_lines[row] = line
            row += 1
        elif code == TEXT:
            text_lines += 1
        line += 1
        pos = i + 1
    return pos, line, row, w, text_lines, True
