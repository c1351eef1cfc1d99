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

import os
import tempfile
import zipfile
from pathlib import Path
from typing import BinaryIO

import numpy as np

from csi_edge.errors import DataError
from csi_edge.features import amplitude
from csi_edge.frames import META_DTYPE, META_FIELDS, FrameBatch
from csi_edge.layout import N_LLTF


def save_frames(path: str | Path, frames: FrameBatch, extra: dict[str, np.ndarray] | None = None) -> None:
    """Write `frames` (and per-frame `extra` arrays) to `path` (.npz, compressed)."""
    with FramesWriter(path, tuple(extra or ())) as writer:
        writer.add(frames, extra)


class FramesWriter:
    """Writes the NPZ of `save_frames` batch by batch, with memory that does not grow with the count.

    Each array is appended to a raw file in a temporary folder beside `path`; `close()` streams
    them into the NPZ (CSI rows padded to the longest row of all batches then) and renames it
    into place, so a failed or interrupted write leaves no partial `path`. Use as a context
    manager: leaving it with an exception removes everything.
    """

    def __init__(self, path: str | Path, extra_keys: tuple[str, ...] = ()) -> None:
        self.path = Path(path)
        clash = set(extra_keys) & (set(META_FIELDS) | {"csi", "amplitude"})
        if clash:
            raise ValueError(f"extra array {sorted(clash)[0]!r} clashes with a frame field")
        self._dir = tempfile.TemporaryDirectory(dir=self.path.parent, prefix=f".{self.path.name}.")
        self._files: dict[str, BinaryIO] = {}
        self._dtypes: dict[str, np.dtype] = {}
        self._extra_keys = extra_keys
        self._csi_blocks: list[tuple[int, int]] = []  # (rows, width) per batch, in order
        self.rows = 0

    def __enter__(self) -> FramesWriter:
        return self

    def __exit__(self, kind, value, traceback) -> None:
        if kind is None:
            self.close()
        else:
            self.abort()

    def add(self, frames: FrameBatch, extra: dict[str, np.ndarray] | None = None) -> None:
        n = len(frames)
        extra = extra or {}
        if set(extra) != set(self._extra_keys) or any(len(v) != n for v in extra.values()):
            raise ValueError(f"extra arrays must be {list(self._extra_keys)}, one value per frame")
        if n == 0:
            return
        amp, valid = amplitude(frames)
        amp[~valid] = np.nan
        arrays = {name: frames.meta[name] for name in META_FIELDS}
        arrays.update(amplitude=amp.astype(np.float32), **extra)
        for key, value in arrays.items():
            self._append(key, np.ascontiguousarray(value))
        self._append("csi", np.ascontiguousarray(frames.csi))
        self._csi_blocks.append(frames.csi.shape)
        self.rows += n

    def close(self) -> None:
        """Assemble the NPZ and move it into place."""
        try:
            for f in self._files.values():
                f.close()
            part = self.path.with_name(self.path.name + ".part")
            with zipfile.ZipFile(part, "w", compression=zipfile.ZIP_DEFLATED) as npz:
                for key in (*META_FIELDS, "csi", "amplitude", *self._extra_keys):
                    self._member(npz, key)
            os.replace(part, self.path)
        finally:
            self._dir.cleanup()

    def abort(self) -> None:
        for f in self._files.values():
            f.close()
        self._dir.cleanup()

    def _append(self, key: str, value: np.ndarray) -> None:
        if key not in self._files:
            self._files[key] = open(os.path.join(self._dir.name, key), "wb")  # noqa: SIM115 - closed in close()
            self._dtypes[key] = value.dtype
        self._files[key].write(value.tobytes())

    def _dtype(self, key: str) -> np.dtype:
        if key in self._dtypes:
            return self._dtypes[key]
        if key in META_FIELDS:
            return META_DTYPE[key]
        return np.dtype(_EMPTY_DTYPES.get(key, np.float64))  # an array nothing was written to

    def _member(self, npz: zipfile.ZipFile, key: str) -> None:
        """One `<key>.npy` member, streamed from its raw file in blocks."""
        dtype = self._dtype(key)
        width = max((w for _, w in self._csi_blocks), default=0)
        shape: tuple[int, ...] = (self.rows,)
        if key == "csi":
            shape = (self.rows, width)
        elif key == "amplitude":
            shape = (self.rows, N_LLTF)
        with npz.open(f"{key}.npy", "w", force_zip64=True) as member:
            np.lib.format.write_array_header_2_0(member, {"descr": np.lib.format.dtype_to_descr(dtype), "fortran_order": False, "shape": shape})
            if not self.rows:
                return
            with open(os.path.join(self._dir.name, key), "rb") as raw:
                if key != "csi":
                    while data := raw.read(_BLOCK):
                        member.write(data)
                    return
                for rows, w in self._csi_blocks:  # re-pad each batch's rows to the longest row
                    block = np.frombuffer(raw.read(rows * w), dtype=np.int8).reshape(rows, w)
                    member.write(np.pad(block, ((0, 0), (0, width - w))).tobytes() if w != width else block.tobytes())


_BLOCK = 8 << 20
_EMPTY_DTYPES: dict[str, type] = {"csi": np.int8, "amplitude": np.float32}


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
