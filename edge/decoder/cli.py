"""`csi-edge decode PATH [--out FRAMES.npz]`: decode any supported capture, report what it held.

Prints one JSON object on stdout:

    {"path": ..., "bytes": N, "encoding": "bytes" | "utf-16-le" | ...,
     "rows": frames decoded, "errors": {reason: count}, "ignored": {kind: count},
     "formats": {"v1" | "esp-csi" | "csi-tool": frames}, "stats": n, "hellos": n, "logs": n,
     "out": path of the NPZ or null}

Exit 0 whatever the lines held (bad lines are counted, not fatal); exit 1 with one line when
the file cannot be read. Large files show a progress bar on stderr.
"""

from __future__ import annotations

import json
import os
import sys

from csi_edge.errors import DataError

PROGRESS_MIN_BYTES = 8 << 20


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "decode",
        help="decode a capture (v1 binary, esp-csi, ESP32-CSI-Tool) and count what it held",
        description="Decode a capture file of any supported format; print one JSON summary line.",
    )
    p.add_argument("path", help="capture file (binary v1, esp-csi text, ESP32-CSI-Tool CSV, monitor log)")
    p.add_argument("--out", metavar="FRAMES.npz", help="also write the frames (meta fields, csi, amplitude) as NPZ")
    p.set_defaults(func=run)


def summary(path: str, result, size: int) -> dict:
    """The JSON summary of a decoded capture (shared with `csi-edge import`)."""
    from collections import Counter

    from csi_edge.frames import FORMAT_NAMES

    dec = result.decoder
    formats = Counter(FORMAT_NAMES.get(int(f), str(int(f))) for f in result.frames.meta["format"])
    return {
        "path": path,
        "bytes": size,
        "encoding": dec.encoding.encoding,
        "rows": len(result.frames),
        "errors": dict(sorted(dec.errors.items())),
        "ignored": dict(sorted(dec.ignored.items())),
        "formats": dict(sorted(formats.items())),
        "stats": result.stats,
        "hellos": result.hellos,
        "logs": result.logs,
    }


def decode_file(path: str):
    """Decode `path` with a progress bar for large files -> (LogImport, size in bytes)."""
    from tqdm import tqdm

    from csi_edge.importers import load_log

    if not os.path.isfile(path):
        raise DataError(f"{path}: no such file")
    size = os.path.getsize(path)
    with tqdm(total=size, unit="B", unit_scale=True, desc="decode", file=sys.stderr,
              disable=size < PROGRESS_MIN_BYTES, leave=False) as bar:  # fmt: skip
        result = load_log(path, progress=bar.update)
    return result, size


def run(args) -> int:
    result, size = decode_file(args.path)
    report = summary(args.path, result, size)
    report["out"] = None
    if args.out:
        from csi_edge.frames_npz import save_frames

        try:
            save_frames(args.out, result.frames)
        except OSError as exc:
            raise DataError(f"{args.out}: cannot write ({exc.strerror or exc})") from None
        report["out"] = args.out
    print(json.dumps(report))
    return 0
