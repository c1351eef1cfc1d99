"""Text CSI formats: espressif esp-csi `CSI_DATA` lines and ESP32-CSI-Tool CSV lines.

    esp-csi:   CSI_DATA,<id>,<mac>,<rssi>,...,<len>,<first_word>,"[b0,b1,...]"[,extra columns]
               (or "b0,b1,..." without the brackets, as some tools re-save it; e.g. with a label)
    CSI-Tool:  CSI_DATA,<role>,<mac>,<rssi>,...,<real_time_set>,<real_timestamp>,<len>,[b0 b1 ...]

Column layouts (and the header lines that name them) are in `text_layout`. The array may use
commas, spaces or both, quoted or not (without brackets it must be quoted); anything after
it is ignored (e.g. a `,class` or `,label` column). A row may be preceded by any text on its line (ANSI escapes, a host timestamp, a log
prefix): decoding starts at `CSI_DATA`. Lines end with LF, CRLF or a lone CR.

Outcomes per line: a frame; a header line (`ignored["header"]`); a blank line (not counted);
another text line (`ignored["text_line"]`); or an error counted in `errors` by its first
failure, in this order:

    truncated_line   `CSI_DATA` without a complete array (`[...]` or `"..."`) after it
    layout           a column count that no header line or known layout explains
    bad_field        a header column that is not an integer (or float where one is expected)
    bad_array        the array holds something other than int8 numbers
    array_length     empty, odd or > 612 values, or (esp-csi) not the `len` it claims

Speed: the per-line Python work is a few `find`s and slices; the numbers of all rows of a
region are parsed together (`text_values`). Where the compiled kernel is built (the C extension
of `text_kernel`), regions of FAST_MIN_BYTES and more go through `text_fast` instead: one
compiled pass that decodes the clean rows and hands every other line back to this path, with
identical results (CSI_EDGE_NO_KERNEL=1 turns it off).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from csi_edge.decoder import text_fast
from csi_edge.decoder.reasons import TEXT_ROW_REASONS, DecodeReason
from csi_edge.decoder.text_header import header_columns
from csi_edge.decoder.text_layout import FLOAT_COLUMNS, LAYOUTS_BY_WIDTH, META_COLUMNS, Layout, parse_header
from csi_edge.decoder.text_values import assemble_rows, parse_csi_arrays, parse_float_column, parse_int_columns
from csi_edge.frames import MAX_CSI_BYTES, FrameBatch, empty_meta, mac_to_int

MARK = b"CSI_DATA"
BULK_MIN_ROWS = 16  # fewer rows: the row-by-row header path has less fixed cost
# Below this a region (a few lines of a live serial read) costs more to set the kernel up for
# than to parse on the numpy path.
FAST_MIN_BYTES = 1 << 12
# status codes of bad rows: 1 + index in TEXT_ROW_REASONS (a row counts under its first failure)
_CODE = {reason: 1 + k for k, reason in enumerate(TEXT_ROW_REASONS)}


class TextDecoder:
    """Decodes complete text lines; counts failures in `errors`, non-CSI lines in `ignored`."""

    def __init__(self, errors: Counter, ignored: Counter) -> None:
        self.errors = errors
        self.ignored = ignored
        self.lines_seen = 0
        self.header: Layout | None = None  # layout named by the most recent header line
        self._macs: dict[bytes, int] = {}
        self.bulk_headers = True  # False: always the row-by-row path (tests compare the two)
        self.bulk_min_rows = BULK_MIN_ROWS
        # the compiled kernel (text_fast) for regions of fast_min_bytes and more, where it is built
        self.fast = text_fast.available()
        self.fast_min_bytes = FAST_MIN_BYTES

    def decode(self, region: bytes) -> FrameBatch:
        """Decode a region of text holding complete lines (the last may lack its newline)."""
        if b"\r" in region:
            region = region.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        if self.fast and len(region) >= self.fast_min_bytes:
            return text_fast.decode_region(self, region)  # same result, one compiled pass
        lines = region.split(b"\n")
        self.lines_seen += len(lines)
        header = self.header
        scan = self._scan(lines, glued=False)
        if scan.marked != region.count(MARK):  # some line holds two rows: one was torn
            self.header = header
            scan = self._scan(lines, glued=True)
        self.errors.update(scan.errors)
        self.ignored.update(scan.ignored)
        if not scan.headers:
            return self._rows(scan.heads, scan.arrays)
        # header lines inside the region: each applies to the rows after it
        last = self.header
        bounds = [0] + [row for row, _ in scan.headers] + [len(scan.heads)]
        layouts = [header] + [layout for _, layout in scan.headers]
        parts = []
        for lo, hi, layout in zip(bounds[:-1], bounds[1:], layouts, strict=True):
            self.header = layout
            parts.append(self._rows(scan.heads[lo:hi], scan.arrays[lo:hi]))
        self.header = last
        return FrameBatch.concat(parts)

    def _scan(self, lines: list[bytes], glued: bool) -> _Scan:
        """Cut each CSI line into its header text and array text; classify the other lines.

        `glued`: also cut lines holding several `CSI_DATA` marks into one row per mark
        (the slow path, taken only when a region needs it).
        """
        scan = _Scan()
        heads, arrays = scan.heads, scan.arrays
        marked = 0
        for line in lines:
            at = line.find(MARK)
            if at < 0:
                if line.strip():
                    self._other_line(line, scan)
                continue
            marked += 1
            if glued and line.find(MARK, at + 8) >= 0:
                for piece in line[at:].split(MARK)[1:]:
                    self._row_line(MARK + piece, scan)
                continue
            open_at, close_at = _array_span(line, at)
            if close_at < 0:
                self._unfinished(line, at, scan)
                continue
            heads.append(line[at + 9 : open_at])
            arrays.append(line[open_at + 1 : close_at])
        scan.marked = marked
        return scan

    def _row_line(self, line: bytes, scan: _Scan) -> None:
        """One row starting with `CSI_DATA` (the loop in `_scan`, spelled out)."""
        open_at, close_at = _array_span(line, 0)
        if close_at < 0:
            self._unfinished(line, 0, scan)
            return
        scan.heads.append(line[9:open_at])
        scan.arrays.append(line[open_at + 1 : close_at])

    # -- line classification ------------------------------------------------------------

    def _other_line(self, line: bytes, scan: _Scan) -> None:
        layout = parse_header(line) if b"type," in line else None
        if layout is not None:
            self.header = layout
            scan.headers.append((len(scan.heads), layout))
            scan.ignored["header"] += 1
        else:
            scan.ignored["text_line"] += 1

    def _unfinished(self, line: bytes, at: int, scan: _Scan) -> None:
        """A line with CSI_DATA but no array: the CSI-Tool header line, or a torn row."""
        if b"type," in line[:at] and parse_header(line) is not None:
            self._other_line(line, scan)
        else:
            scan.errors[DecodeReason.TRUNCATED_LINE.value] += 1

    # -- bulk parsing -------------------------------------------------------------------

    def _rows(self, heads: list[bytes], arrays: list[bytes]) -> FrameBatch:
        """Parse the rows cut by `_scan` in bulk; count the bad ones; -> the good ones' frames."""
        if not heads:
            return FrameBatch.empty()
        return assemble_rows(*self._checked_rows(heads, arrays))

    def _checked_rows(self, heads: list[bytes], arrays: list[bytes]):
        """Parse and check N rows; count the bad ones -> (meta, values, counts, good)."""
        n = len(heads)
        values, counts, array_ok = parse_csi_arrays(arrays)
        widths = [h.count(b",") for h in heads]
        meta = empty_meta(n)
        status = np.zeros(n, dtype=np.int8)  # 0 good, else _CODE of its first failure
        len_differs = np.zeros(n, dtype=bool)
        for width in set(widths):
            rows = np.flatnonzero(np.asarray(widths) == width) if len(set(widths)) > 1 else np.arange(n)
            layout = self.header if self.header is not None and self.header.width == width else None
            layout = layout or LAYOUTS_BY_WIDTH.get(width)
            if layout is None:
                status[rows] = _CODE[DecodeReason.LAYOUT]
                continue
            claimed, fields_ok, fits = self._fill_meta(meta, rows, [heads[i] for i in rows], layout)
            status[rows[~fields_ok]] = _CODE[DecodeReason.BAD_FIELD]
            status[rows[~fits]] = _CODE[DecodeReason.LAYOUT]
            if layout.checks_len:
                len_differs[rows] = claimed != counts[rows]
        bad_length = len_differs | (counts == 0) | (counts % 2 == 1) | (counts > MAX_CSI_BYTES)
        status[(status == 0) & ~array_ok] = _CODE[DecodeReason.BAD_ARRAY]
        status[(status == 0) & bad_length] = _CODE[DecodeReason.ARRAY_LENGTH]
        for code, count in zip(*np.unique(status[status > 0], return_counts=True), strict=True):
            self.errors[TEXT_ROW_REASONS[code - 1].value] += int(count)
        return meta, values, counts, status == 0

    def _fill_meta(self, meta: np.ndarray, rows: np.ndarray, heads: list[bytes], layout: Layout):
        """Parse the header columns of `rows` (one layout) into `meta`.

        Returns the `len` column, which rows parsed, and which rows fit the layout at all (an
        ESP32-CSI-Tool `role` is never a number: such a row is an esp-csi row that lost a column).
        """
        bulk = self.bulk_headers and len(heads) >= self.bulk_min_rows
        fast = header_columns(heads, layout.names, self._macs) if bulk else None
        if fast is not None:
            columns, fits = fast
            ok = np.ones(len(rows), dtype=bool)
        else:
            columns, ok, fits = self._columns_by_row(heads, layout)
        for name, values in columns.items():
            target = FLOAT_COLUMNS.get(name) or META_COLUMNS.get(name) or ("mac" if name == "mac" else None)
            if target is None:
                continue
            if meta.dtype[target].kind == "i":  # a value that does not fit its field is a bad field
                info = np.iinfo(meta.dtype[target])
                ok &= (values >= info.min) & (values <= info.max)
            meta[target][rows] = values
        meta["format"][rows] = layout.format
        claimed = columns["len"] if "len" in columns else np.full(len(rows), -1)
        return claimed, ok, fits

    def _columns_by_row(self, heads: list[bytes], layout: Layout):
        """Row-by-row path (and reference) for the header columns: -> (columns, ok, fits)."""
        names = layout.names
        pre, post = layout.pre, layout.post
        middle_width = layout.width - pre - post
        split = [h.split(b",", pre) for h in heads]  # pre text columns + the rest
        tails: list[list[bytes]] = []
        if post:
            tails = [s[-1].rsplit(b",", post + 1) for s in split]
            middles = [t[0] for t in tails]
        else:
            middles = [s[-1].rstrip(b'" \t').rstrip(b",") for s in split]
        ints, ok = parse_int_columns(middles, middle_width)
        columns: dict[str, np.ndarray] = {name: ints[:, k] for k, name in enumerate(layout.middle)}
        for k in range(pre):
            self._text_column(names[k], [s[k] for s in split], columns, ok)
        for k in range(post):
            name = names[layout.width - post + k]
            self._text_column(name, [t[k + 1] for t in tails], columns, ok)
        fits = np.ones(len(heads), dtype=bool)
        if "role" in names:
            roles = [s[names.index("role")] for s in split]
            numeric = {r for r in set(roles) if r[:1].isdigit()}
            if numeric:
                fits = np.fromiter((r not in numeric for r in roles), dtype=bool, count=len(heads))
        return columns, ok, fits

    def _text_column(self, name: str, texts: list[bytes], columns: dict, ok: np.ndarray) -> None:
        """A column split off one by one: mac, a float, an integer, or text to ignore."""
        if name == "mac":
            macs = self._macs
            for text in set(texts) - macs.keys():
                macs[text] = mac_to_int(text.decode("ascii", "replace"))
            columns["mac"] = np.fromiter(map(macs.__getitem__, texts), dtype=np.uint64, count=len(texts))
        elif name in FLOAT_COLUMNS:
            values = parse_float_column(texts)
            ok &= ~np.isnan(values)
            columns[name] = values
        elif name in META_COLUMNS:
            ints, good = parse_int_columns(texts, 1)
            ok &= good
            columns[name] = ints[:, 0]


@dataclass
class _Scan:
    """What one pass over a region's lines found (merged into the counters at the end)."""

    heads: list = field(default_factory=list)
    arrays: list = field(default_factory=list)
    errors: Counter = field(default_factory=Counter)
    ignored: Counter = field(default_factory=Counter)
    headers: list = field(default_factory=list)  # (index of the next row, Layout) per header line
    marked: int = 0


def _array_span(line: bytes, at: int) -> tuple[int, int]:
    """Where the array of the row whose `CSI_DATA` is at line[at] opens and closes (-1: it does
    not close): `[...]` (quoted or not), or else the first quoted field (`"0,0,9,..."`, an esp-csi
    variant with the brackets left out)."""
    open_at = line.find(b"[", at)
    if open_at < 0:
        open_at = line.find(b'"', at)
        return open_at, (line.find(b'"', open_at + 1) if open_at >= 0 else -1)
    return open_at, line.find(b"]", open_at)
