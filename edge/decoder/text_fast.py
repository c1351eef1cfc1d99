"""The text decoder's fast path: one compiled pass over a region's bytes.

`decode_region(decoder, region)` gives exactly what `TextDecoder.decode` gives on the same
region (frames, `errors`, `ignored`, the header in force afterwards), only faster. A compiled
kernel walks the region once and decodes every line that is a *clean* CSI row of a layout it
knows; every other line keeps its reference treatment (`TextDecoder._scan` and `_checked_rows`,
the numpy path), and the two sets of rows are merged back into line order. The kernel accepts
only rows whose every byte it has checked against a strict grammar (`_textscan.c`, where the
byte-level state machine is written down) for which the reference path provably yields the
same values, so a quirk of the reference parsers can never make the two paths differ: when in
doubt, the kernel hands the line over.

The kernel is a C extension built at install (`text_kernel`); where it is not built, or with
the environment variable CSI_EDGE_NO_KERNEL=1, `TextDecoder` never calls this module and the
numpy path runs unchanged.
"""

from __future__ import annotations

import numpy as np

from csi_edge.decoder import text_kernel
from csi_edge.decoder.text_kernel import FALLBACK, K_FLOAT, K_INT, K_MAC, K_ROLE, K_TEXT, MAX_COLUMNS, PAD, scan_region
from csi_edge.decoder.text_layout import FLOAT_COLUMNS, LAYOUTS_BY_WIDTH, META_COLUMNS, Layout
from csi_edge.decoder.text_values import assemble_rows
from csi_edge.frames import META_DTYPE, META_FIELDS, META_OFFSETS, FrameBatch, empty_meta

MIN_ROW_BYTES = 16  # `CSI_DATA,` + a column + `,[1 2]` and a LF: no kernel row is shorter
# META integer fields a text column can fill, in META_DTYPE order.
INT_FIELDS = tuple(name for name in META_FIELDS if name in {v for v in META_COLUMNS.values() if v})


def available() -> bool:
    """The compiled kernel is built and loaded (and not turned off)."""
    return text_kernel.KERNEL is not None


# -- layouts as the kernel reads them -------------------------------------------------------


class _Specs:
    """The layouts the kernel may use with one header in force, as arrays.

    A row of w columns uses the header's layout when it has w columns, else the known layout
    of that width (`text_layout.LAYOUTS_BY_WIDTH`): the rule of `TextDecoder._checked_rows`.
    A layout the kernel cannot read exactly as the reference does (two columns filling the
    same field, a role column after the leading text columns) gets no spec: its rows fall back.
    """

    def __init__(self, header: Layout | None) -> None:
        by_width = dict(LAYOUTS_BY_WIDTH)
        if header is not None:
            by_width[header.width] = header
        self.layouts: list[Layout] = []
        self.spec_of_width = np.full(MAX_COLUMNS + 1, -1, dtype=np.int64)
        rows: list[np.ndarray] = []
        for width, layout in sorted(by_width.items()):
            spec = _layout_spec(layout) if 0 < width <= MAX_COLUMNS else None
            if spec is not None:
                self.spec_of_width[width] = len(rows)
                self.layouts.append(layout)
                rows.append(spec)
        shape = (max(len(rows), 1), MAX_COLUMNS)
        self.kinds = np.zeros(shape, dtype=np.int64)
        self.fields = np.full(shape, -1, dtype=np.int64)
        self.lows = np.full(shape, np.iinfo(np.int64).min, dtype=np.int64)
        self.highs = np.full(shape, np.iinfo(np.int64).max, dtype=np.int64)
        self.len_cols = np.full(shape[0], -1, dtype=np.int64)
        for s, (kinds, fields, lows, highs, len_col) in enumerate(rows):
            w = len(kinds)
            self.kinds[s, :w], self.fields[s, :w], self.lows[s, :w], self.highs[s, :w] = kinds, fields, lows, highs
            self.len_cols[s] = len_col
        self.formats = np.array([layout.format for layout in self.layouts] or [0], dtype=np.uint8)

    def arrays(self) -> tuple:
        return self.spec_of_width, self.kinds, self.fields, self.lows, self.highs, self.len_cols


def _layout_spec(layout: Layout):
    """-> (kinds, fields, lows, highs, len column or -1) per column, or None (no fast path)."""
    kinds, fields, lows, highs, targets = [], [], [], [], set()
    big = np.iinfo(np.int64)
    for k, name in enumerate(layout.names):
        kind, field, lo, hi, target = K_TEXT, -1, big.min, big.max, None
        if name == "mac":
            kind, target = K_MAC, "mac"
        elif name in FLOAT_COLUMNS:
            kind, target = K_FLOAT, FLOAT_COLUMNS[name]
            if target != "host_time_s":
                return None
        elif name in META_COLUMNS:
            kind, target = K_INT, META_COLUMNS[name] or name
            if META_COLUMNS[name]:
                field = INT_FIELDS.index(target)
                info = np.iinfo(META_DTYPE[target])
                lo, hi = int(info.min), int(info.max)
        elif name == "role":
            kind, target = K_ROLE, "role"
            if k >= layout.pre:
                return None
        if target is not None:
            if target in targets:
                return None
            targets.add(target)
        kinds.append(kind)
        fields.append(field)
        lows.append(lo)
        highs.append(hi)
    len_col = layout.names.index("len") if layout.checks_len else -1
    return kinds, fields, lows, highs, len_col


_SPECS: dict = {}
_TEMPLATE = empty_meta(1).view(np.uint8).copy()  # a record of unknowns, copied into each row first
_RECORD = np.array([(META_OFFSETS[name], META_DTYPE[name].itemsize) for name in INT_FIELDS + ("mac",)], dtype=np.int64)


def _specs(header: Layout | None) -> _Specs:
    specs = _SPECS.get(header)
    if specs is None:
        if len(_SPECS) > 64:
            _SPECS.clear()
        specs = _SPECS[header] = _Specs(header)
    return specs


# -- the driver ------------------------------------------------------------------------------


class _Pass:
    """Output arrays of the kernel for one region (one slot per possible row)."""

    def __init__(self, region: bytes, lines: int) -> None:
        rows = min(lines, len(region) // MIN_ROW_BYTES + 1)  # at most one row per line
        self.status = np.zeros(lines, dtype=np.int8)
        self.line_starts = np.zeros(lines, dtype=np.int64)
        self.values = np.empty(len(region) // 2 + 1, dtype=np.int8)
        self.counts = np.zeros(rows, dtype=np.int64)
        self.meta = np.empty(rows, dtype=META_DTYPE)
        self.hosts = np.empty(rows, dtype=np.float64)
        self.row_lines = np.zeros(rows, dtype=np.int64)
        self.row_specs = np.zeros(rows, dtype=np.int64)
        self.col_starts = np.zeros(MAX_COLUMNS, dtype=np.int64)
        self.col_ends = np.zeros(MAX_COLUMNS, dtype=np.int64)

    def outputs(self) -> tuple:
        meta_bytes = self.meta.view(np.uint8).reshape(len(self.meta), META_DTYPE.itemsize)
        return (self.status, self.line_starts, self.values, self.counts, meta_bytes, self.hosts,
                self.row_lines, self.row_specs, self.col_starts, self.col_ends)  # fmt: skip


def decode_region(decoder, region: bytes) -> FrameBatch:
    """`TextDecoder.decode` for a region whose CRs are already LFs, through the kernel."""
    buf = np.frombuffer(region + bytes(PAD), dtype=np.uint8)
    lines = int(np.count_nonzero(buf == 10)) + 1  # (bytes.count is 5x slower)
    decoder.lines_seen += lines
    out = _Pass(region, lines)
    segments = [(0, decoder.header)]  # (first line, header in force from there on)
    pending: list[tuple[int, int, bytes, bytes]] = []  # (segment, line, head, array) for the reference path
    kernel_batches: list[tuple[FrameBatch, np.ndarray]] = []
    pos = line = row = w = text_lines = 0
    while True:
        specs = _specs(decoder.header)
        arrays = (*specs.arrays(), _TEMPLATE, _RECORD, *out.outputs())
        pos, line, row_end, w, texts, finished = scan_region(buf, len(region), pos, line, row, w, *arrays)
        text_lines += texts
        kernel_batches.append(_kernel_rows(out, specs, row, row_end, w))
        row = row_end
        if finished:
            break
        end = region.find(b"\n", pos)
        end = len(region) if end < 0 else end
        if _reference_line(decoder, region[pos:end], line, len(segments) - 1, pending):
            segments.append((line + 1, decoder.header))
        pos, line = end + 1, line + 1
        if pos > len(region):
            break
    if text_lines:
        decoder.ignored["text_line"] += text_lines
    for fallback in np.flatnonzero(out.status[:line + 1] == FALLBACK).tolist():
        start = int(out.line_starts[fallback])
        end = region.find(b"\n", start)
        segment = int(np.searchsorted([s for s, _ in segments], fallback, side="right")) - 1
        _reference_line(decoder, region[start : end if end >= 0 else len(region)], fallback, segment, pending)
    parts = [part for part in kernel_batches if len(part[0])]
    parts += _reference_rows(decoder, pending, segments)
    if not parts:
        return FrameBatch.empty()
    if len(parts) == 1:
        return parts[0][0]
    order = np.argsort(np.concatenate([lines for _, lines in parts]), kind="stable")
    return FrameBatch.concat([batch for batch, _ in parts])[order]


def _kernel_rows(out: _Pass, specs: _Specs, lo: int, hi: int, w: int) -> tuple[FrameBatch, np.ndarray]:
    """The rows the kernel decoded into slots lo..hi-1 -> (batch, their line numbers)."""
    n = hi - lo
    if n == 0:
        return FrameBatch.empty(), np.zeros(0, dtype=np.int64)
    meta = out.meta[lo:hi]
    meta["host_time_s"] = out.hosts[lo:hi]
    meta["format"] = specs.formats[out.row_specs[lo:hi]]
    counts = out.counts[lo:hi]
    first = int(out.counts[:lo].sum())
    values = out.values[first : first + int(counts.sum())]
    return assemble_rows(meta, values, counts, np.ones(n, dtype=bool)), out.row_lines[lo:hi]


def _reference_line(decoder, text: bytes, line: int, segment: int, pending: list) -> bool:
    """One line the kernel did not decode, cut and classified by the reference `_scan`
    (glued mode: cutting at every `CSI_DATA` is what the reference does to a line with two).
    Its rows join `pending`; -> True when it was a header line (a new segment begins)."""
    scan = decoder._scan([text], glued=True)
    decoder.errors.update(scan.errors)
    decoder.ignored.update(scan.ignored)
    pending.extend((segment, line, head, array) for head, array in zip(scan.heads, scan.arrays, strict=True))
    return bool(scan.headers)


def _reference_rows(decoder, pending: list, segments: list) -> list[tuple[FrameBatch, np.ndarray]]:
    """Parse the pending rows with the reference path, each segment under its header."""
    last, parts = decoder.header, []
    for segment in sorted({s for s, *_ in pending}):
        # in line order (a fallback line is queued after the lines the kernel stopped at); stable,
        # so the rows of one glued line keep their order
        rows = sorted(((line, head, array) for s, line, head, array in pending if s == segment), key=lambda r: r[0])
        decoder.header = segments[segment][1]
        meta, values, counts, good = decoder._checked_rows([r[1] for r in rows], [r[2] for r in rows])
        lines = np.array([r[0] for r in rows], dtype=np.int64)[good]
        parts.append((assemble_rows(meta, values, counts, good), lines))
    decoder.header = last
    return parts
