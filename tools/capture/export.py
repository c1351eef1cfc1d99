"""`capture export`: a session as 3DO-compatible CSV, as NPZ, or as its raw byte stream.

3do-csv: the column layout of the 3DO dataset's CSV files, readable by its loaders and by
`csi-edge import`::

    data,x,y,z,class
    "[b0,b1,...,bL-1]",x,y,z,class

`data` holds each packet's raw CSI bytes exactly as received (int8, imaginary first), so the
subcarrier layout code computes the same amplitudes from it as from the session, provided
the reader assumes the session's secondary channel (3DO: HT40, secondary below; the export
warns when the session is not). x, y, z come from trajectory.csv (NaN without one, and where
the track does not cover the packet; `csi-edge import` skips such rows). `class` uses the
3DO codes (`csi_edge.importers.THREE_DO_CLASSES`: walking 1, sitting 2, lying 3), 0 for
`empty` (the 3DO loaders' background), -1 for packets without a label or with another label.

npz: `meta` (csi_edge.frames.META_DTYPE per packet, host_time_s filled), `csi` (int8 N x L),
`amplitude` (float32 N x 52, csi_edge.features.amplitude), `amplitude_valid`, `label`
(unicode, "" = none), `label_code` (int, -1 = none), `classes`, `xyz` (N x 3, NaN without a
trajectory) and `manifest` (the manifest as a JSON string).

raw: the original byte stream (csi_edge.session.read_stream), e.g. for tools
that read serial logs.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import numpy as np
from tqdm import tqdm

from csi_edge.features import amplitude
from csi_edge.frames import SECONDARY_BELOW
from csi_edge.session.reader import Session, load_session, read_stream

EXTENSIONS = {"3do-csv": "csv", "npz": "npz", "raw": "bin"}
NO_CLASS = -1
THREE_DO_BACKGROUND = 0  # the 3DO loaders reserve class 0 for the background (no person)
_INT8_TEXT = np.array([str(v) for v in range(-128, 128)], dtype=object)


def label_codes(labels: np.ndarray, classes: list[str] | dict[str, int]) -> np.ndarray:
    """Per-packet class codes: index in `classes`, or the code a {name: code} map gives."""
    mapping = classes if isinstance(classes, dict) else {name: i for i, name in enumerate(classes)}
    codes = np.full(len(labels), NO_CLASS, dtype=np.int64)
    for name, code in mapping.items():
        codes[labels == name] = code
    return codes


def three_do_codes() -> dict[str, int]:
    from csi_edge.importers import THREE_DO_CLASSES

    return {"empty": THREE_DO_BACKGROUND, **{name: code for code, name in THREE_DO_CLASSES.items()}}


def export_session(directory: str | Path, fmt: str, out: str | Path | None = None) -> Path:
    d = Path(directory)
    out = Path(out) if out is not None else d / f"export.{EXTENSIONS[fmt]}"
    if fmt == "raw":
        _atomic_write(out, lambda fh: fh.write(read_stream(d)), binary=True)
        return out
    sess = load_session(d)
    xyz = sess.positions if sess.positions is not None else np.full((len(sess.frames), 3), np.nan)
    if fmt == "3do-csv":
        _warn_layout(sess)
        _atomic_write(out, lambda fh: _write_3do(fh, sess, xyz))
    else:
        _write_npz(out, sess, xyz)
    return out


def _warn_layout(sess: Session) -> None:
    sec = sess.frames.meta["secondary_channel"]
    other = int(np.count_nonzero(sec != SECONDARY_BELOW))
    if other:
        print(f"warning: {other} packets are not HT40 secondary-below; a 3DO reader assumes it, "
              f"so their amplitudes will differ", file=sys.stderr)  # fmt: skip


def _write_3do(fh, sess: Session, xyz: np.ndarray) -> None:
    mapping = three_do_codes()
    codes = label_codes(sess.labels, mapping)
    other = sorted(set(np.unique(sess.labels)) - set(mapping) - {""})
    if other:
        print(f"warning: labels {', '.join(other)} have no 3DO class; exported as class {NO_CLASS}", file=sys.stderr)
    meta, csi = sess.frames.meta, sess.frames.csi
    fh.write("data,x,y,z,class\n")
    for i in tqdm(range(len(meta)), desc="3do-csv", unit="pkt", disable=len(meta) < 20000):
        row = _INT8_TEXT[csi[i, : meta["csi_len"][i]].astype(np.int64) + 128]
        x, y, z = xyz[i]
        fh.write(f'"[{",".join(row)}]",{x:.6g},{y:.6g},{z:.6g},{codes[i]}\n')


def _write_npz(out: Path, sess: Session, xyz: np.ndarray) -> None:
    amp, valid = amplitude(sess.frames)
    classes = list(sess.manifest.get("classes", []))
    arrays = {
        "meta": sess.frames.meta,
        "csi": sess.frames.csi,
        "amplitude": amp,
        "amplitude_valid": valid,
        "label": sess.labels,
        "label_code": label_codes(sess.labels, classes),
        "classes": np.array(classes, dtype=str),
        "xyz": xyz.astype(np.float32),
        "manifest": np.array(json.dumps(sess.manifest)),
    }
    _atomic_write(out, lambda fh: np.savez_compressed(fh, **arrays), binary=True)


def _atomic_write(out: Path, write, binary: bool = False) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    with open(tmp, "wb" if binary else "w", **({} if binary else {"encoding": "utf-8", "newline": ""})) as fh:
        write(fh)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, out)
