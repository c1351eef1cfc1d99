"""`csi-edge decode PATH [--out FRAMES.npz]`: decode any supported capture, report what it held.

Prints one JSON object on stdout:

    {"path": ..., "bytes": N, "encoding": "bytes" | "utf-16-le" | ...,
     "rows": frames decoded, "errors": {reason: count}, "ignored": {kind: count},
     "formats": {"v1" | "esp-csi" | "csi-tool": frames}, "stats": n, "hellos": n, "logs": n,
     "out": path of the NPZ or null}

The file is decoded chunk by chunk and `--out` is written as it goes: memory does not grow with
the file. Exit 0 whatever the lines held (bad lines are counted, not fatal); exit 1 with one line
when the file cannot be read or holds no CSI packet at all (an empty file included). Large files
show a progress bar on stderr.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from collections.abc import Callable

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


def decode_file(path: str, each: Callable | None = None) -> dict:
    """Decode `path` chunk by chunk (a progress bar for large files), calling `each(frames)` per
    chunk -> the JSON summary. A file without CSI packets is a DataError."""
    from tqdm import tqdm

    from csi_edge.frames import FORMAT_NAMES
    from csi_edge.importers import LogStream, check_readable, nothing_decoded

    size = check_readable(path)
    formats: Counter[str] = Counter()
    rows = 0
    with tqdm(total=size, unit="B", unit_scale=True, desc="decode", file=sys.stderr,
              disable=size < PROGRESS_MIN_BYTES, leave=False) as bar:  # fmt: skip
        stream = LogStream(path, progress=bar.update)
        for decoded in stream:
            frames = decoded.frames
            if len(frames):
                rows += len(frames)
                codes, counts = _unique(frames.meta["format"])
                formats.update({FORMAT_NAMES.get(c, str(c)): n for c, n in zip(codes, counts, strict=True)})
                if each is not None:
                    each(frames)
    dec = stream.decoder
    if not rows:
        raise nothing_decoded(path, size, dec)
    return {
        "path": path,
        "bytes": size,
        "encoding": dec.encoding.encoding,
        "rows": rows,
        "errors": dict(sorted(dec.errors.items())),
        "ignored": dict(sorted(dec.ignored.items())),
        "formats": dict(sorted(formats.items())),
        "stats": stream.stats,
        "hellos": stream.hellos,
        "logs": stream.logs,
    }


def _unique(values) -> tuple[list[int], list[int]]:
    import numpy as np

    codes, counts = np.unique(values, return_counts=True)
    return codes.tolist(), counts.tolist()


def run(args) -> int:
    if not args.out:
        report = decode_file(args.path)
    else:
        report = decode_to_npz(args.path, args.out)
    report["out"] = args.out or None
    print(json.dumps(report))
    return 0


def decode_to_npz(path: str, out: str) -> dict:
    """`decode_file` writing the frames to `out` as they come (`csi_edge.frames_npz`)."""
    from csi_edge.frames_npz import FramesWriter

    try:
        writer = FramesWriter(out)
    except OSError as exc:
        raise DataError(f"{out}: cannot write ({exc.strerror or exc})") from None
    try:
        with writer:
            report = decode_file(path, writer.add)
    except OSError as exc:
        raise DataError(f"{out}: cannot write ({exc.strerror or exc})") from None
    return report
