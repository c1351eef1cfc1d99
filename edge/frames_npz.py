"""Frames on disk as one NPZ file: what `csi-edge decode --out` and `csi-edge import` write.

Keys (N frames):

    <meta field>  (N,)        every META_DTYPE field under its own name (seq, timestamp_us,
                              rssi, secondary_channel, csi_len, format, ...), same dtypes
    csi           (N, L) int8 raw CSI bytes, zero-padded on the right to the longest row
    amplitude     (N, 52) f4  the default feature (csi_edge.features.amplitude), NaN rows
                              where the frame has no complete L-LTF
    extra keys                importers add per-frame labels (3DO: x_m, y_m, z_m, label)

`load_frames` rebuilds the FrameBatch (and returns the extra per-frame arrays).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from csi_edge.errors import DataError
from csi_edge.features import amplitude
from csi_edge.frames import META_DTYPE, META_FIELDS, FrameBatch


def save_frames(path: str | Path, frames: FrameBatch, extra: dict[str, np.ndarray] | None = None) -> None:
    """Write `frames` (and per-frame `extra` arrays) to `path` (.npz, compressed)."""
    amp, valid = amplitude(frames)
    amp[~valid] = np.nan
    arrays: dict[str, Any] = {name: frames.meta[name] for name in META_FIELDS}  # Any: numpy's stub types **kwds like allow_pickle
    arrays.update(csi=frames.csi, amplitude=amp.astype(np.float32))
    for key, value in (extra or {}).items():
        if key in arrays or len(value) != len(frames):
            raise ValueError(f"extra array {key!r} clashes with a frame field or has the wrong length")
        arrays[key] = value
    np.savez_compressed(path, **arrays)


def load_frames(path: str | Path) -> tuple[FrameBatch, dict[str, np.ndarray]]:
    """Read an NPZ written by `save_frames` -> (frames, extra per-frame arrays)."""
    try:
        with np.load(path) as npz:
            data = {key: npz[key] for key in npz.files}
    except (OSError, ValueError) as exc:
        raise DataError(f"{path}: not a frames NPZ file ({exc})") from None
    missing = [name for name in (*META_FIELDS, "csi") if name not in data]
    if missing:
        raise DataError(f"{path}: not a frames NPZ file (missing {', '.join(missing[:3])})")
    meta = np.zeros(len(data["csi"]), dtype=META_DTYPE)
    for name in META_FIELDS:
        meta[name] = data.pop(name)
    csi = data.pop("csi").astype(np.int8, copy=False)
    data.pop("amplitude", None)
    return FrameBatch(meta, np.ascontiguousarray(csi.reshape(len(meta), -1))), data
