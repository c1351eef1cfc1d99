"""`csi-edge import PATH --out FRAMES.npz`: a capture or a 3DO csiposreg.csv -> frames NPZ.

The NPZ is the same as `csi-edge decode --out` writes (see `csi_edge.frames_npz`); a 3DO
recording adds per-frame `x_m`, `y_m`, `z_m` (metres) and `label` (1 walking, 2 sitting,
3 lying). Prints one JSON summary line.
"""

from __future__ import annotations

import json

from csi_edge.errors import DataError


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "import",
        help="convert a capture log or a 3DO csiposreg.csv into a frames NPZ",
        description="Convert a capture (any format `decode` reads) or a 3DO csiposreg.csv into a frames NPZ.",
    )
    p.add_argument("path", help="capture file, or a 3DO d<day>/<sequence>/csiposreg.csv")
    p.add_argument("--out", metavar="FRAMES.npz", required=True, help="NPZ file to write")
    p.add_argument("--format", choices=("auto", "log", "3do"), default="auto",
                   help="input kind (default: auto, 3DO when the first line names data,x,y,z,class)")  # fmt: skip
    p.set_defaults(func=run)


def run(args) -> int:
    from csi_edge.decoder.cli import decode_to_npz
    from csi_edge.frames_npz import save_frames
    from csi_edge.importers import check_readable, is_3do_csv, load_3do

    check_readable(args.path)
    kind = args.format
    if kind == "auto":
        kind = "3do" if is_3do_csv(args.path) else "log"
    if kind == "log":  # streamed: memory stays flat whatever the capture's size
        report = decode_to_npz(args.path, args.out) | {"format": "log", "out": args.out}
        print(json.dumps(report))
        return 0
    rec = load_3do(args.path)
    report = {"path": args.path, "format": "3do", "rows": len(rec.frames), "bad_rows": rec.bad_rows}
    try:
        save_frames(args.out, rec.frames, rec.extra())
    except OSError as exc:
        raise DataError(f"{args.out}: cannot write ({exc.strerror or exc})") from None
    report["out"] = args.out
    print(json.dumps(report))
    return 0
