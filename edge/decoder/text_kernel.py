"""The compiled kernel of the text decoder's fast path (`text_fast`): one pass over a region.

The kernel is C (`_textscan.c`, where its byte-level state machine is written down), built by
setuptools as the extension `csi_edge.decoder._textscan` when the package is installed, and
called here through ctypes with numpy arrays. It has no JIT and no fixed start-up cost beyond
loading a small shared library. The extension is optional: where it could not be built (no C
compiler), `KERNEL` is None and the text decoder runs its numpy path, with the same results.
"""

from __future__ import annotations

import ctypes
import importlib
import os

# Per-line status codes written by the kernel.
BLANK, TEXT, ROW, FALLBACK, STOP = 0, 1, 2, 3, 4
# Column kinds of a layout, as the kernel reads them.
K_TEXT, K_INT, K_MAC, K_FLOAT, K_ROLE = 0, 1, 2, 3, 4
MAX_COLUMNS = 64  # wider rows go to the reference path
PAD = 4  # NUL bytes after the region, so that the array parser may look 3 bytes ahead
MAX_INT_DIGITS = 18  # always fits int64
MAX_FLOAT_DIGITS = 15  # mantissa < 2**53: exact as a double
MAX_CSI_BYTES = 612
# What the C file must agree on (its `csi_scan_constants`), checked when it is loaded.
_CONSTANTS = (1, MAX_COLUMNS, PAD, MAX_INT_DIGITS, MAX_FLOAT_DIGITS, MAX_CSI_BYTES, BLANK, TEXT, ROW, FALLBACK,
              STOP, K_TEXT, K_INT, K_MAC, K_FLOAT, K_ROLE)  # fmt: skip

_P, _I = ctypes.c_void_p, ctypes.c_int64
_ARRAYS = ("spec_of_width", "kinds", "fields", "lows", "highs", "len_cols", "template_", "layout",
           "status", "line_starts", "values", "counts", "meta", "hosts", "row_lines", "row_specs",
           "col_starts", "col_ends")  # fmt: skip


class _Scan(ctypes.Structure):
    """`csi_scan_t` of _textscan.c, field for field."""

    _fields_ = [
        ("buf", _P), ("n", _I), ("spec_of_width", _P), ("widths", _I), ("kinds", _P), ("fields", _P),
        ("lows", _P), ("highs", _P), ("len_cols", _P), ("template_", _P), ("record_size", _I), ("layout", _P),
        ("layout_rows", _I), ("status", _P), ("line_starts", _P), ("values", _P), ("counts", _P), ("meta", _P),
        ("hosts", _P), ("row_lines", _P), ("row_specs", _P), ("col_starts", _P), ("col_ends", _P),
        ("pos", _I), ("line", _I), ("row", _I), ("w", _I), ("text_lines", _I), ("finished", _I),
    ]  # fmt: skip


def _load():
    """The kernel's C function, or None (not built, disabled, or built from another version)."""
    if os.environ.get("CSI_EDGE_NO_KERNEL", "") not in ("", "0"):
        return None
    try:
        extension = importlib.import_module("csi_edge.decoder._textscan")
    except ImportError:
        return None
    library = ctypes.CDLL(extension.__file__)
    constants = (ctypes.c_int64 * len(_CONSTANTS)).in_dll(library, "csi_scan_constants")
    if tuple(constants) != _CONSTANTS:
        return None
    fn = library.csi_scan_region
    fn.argtypes, fn.restype = [ctypes.POINTER(_Scan)], ctypes.c_int
    return fn


KERNEL = _load()


def scan_region(buf, n, pos, line, row, w, spec_of_width, kinds, fields, lows, highs, len_cols, template, layout,
                status, line_starts, values, counts, meta, hosts, row_lines, row_specs, col_starts, col_ends):  # fmt: skip
    """Classify the lines of buf[:n] from buf[pos] (line number `line`) on; decode clean rows from
    slot `row` and value offset `w` on. Stops after the last line or at a STOP line.

    -> (pos, line, row, w, text lines, finished); on a STOP, pos/line are the STOP line's.
    Every array must be C-contiguous with the dtype text_fast gives it.
    """
    arrays = (spec_of_width, kinds, fields, lows, highs, len_cols, template, layout, status, line_starts, values,
              counts, meta, hosts, row_lines, row_specs, col_starts, col_ends)  # fmt: skip
    scan = _Scan(buf=buf.ctypes.data, n=n, widths=spec_of_width.size, record_size=template.size,
                 layout_rows=len(layout), pos=pos, line=line, row=row, w=w)  # fmt: skip
    for name, array in zip(_ARRAYS, arrays, strict=True):
        setattr(scan, name, array.ctypes.data)
    assert KERNEL is not None
    KERNEL(ctypes.byref(scan))
    return scan.pos, scan.line, scan.row, scan.w, scan.text_lines, bool(scan.finished)
