"""Importers: recordings made elsewhere -> the one frame representation (`FrameBatch`).

- `LogStream(path)`: any capture the stream decoder reads (protocol v1, esp-csi text,
  ESP32-CSI-Tool CSV, full `idf.py monitor` logs, UTF-16 saves), decoded chunk by chunk with
  flat memory; `load_log(path)` collects it into one FrameBatch.
- `load_3do(path)`: one recording of the 3DO dataset (Strohmayer & Kampel, ICPR 2024), laid out
  as `<root>/d<day>/<sequence>/csiposreg.csv`; `find_3do(root)` lists them. The CSV has a
  header line naming at least `data,x,y,z,class`:

      data   the CSI bytes as printed by their tooling, "[b0,b1,...]" (quoted; spaces also read)
      x,y,z  person position, metres (video at 30 Hz interpolated onto the 100 Hz CSI packets)
      class  1 walking, 2 sitting, 3 lying

  Packets arrive at 100 Hz from an ESP32-S3 pair in HT40 with the secondary channel below, so
  frames get format FORMAT_3DO, secondary_channel 2, bandwidth 1, seq 0..N-1 and a synthetic
  timestamp_us of seq * 10,000.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from csi_edge.decoder import Decoded, StreamDecoder
from csi_edge.decoder.text_values import parse_csi_arrays
from csi_edge.errors import DataError
from csi_edge.frames import FORMAT_3DO, SECONDARY_BELOW, FrameBatch, empty_meta

CHUNK_BYTES = 1 << 20
THREE_DO_CLASSES = {1: "walking", 2: "sitting", 3: "lying"}
THREE_DO_RATE_HZ = 100.0
THREE_DO_COLUMNS = ("data", "x", "y", "z", "class")


@dataclass
class LogImport:
    """A decoded capture and the decoder that read it (errors, ignored, stats, hellos)."""

    frames: FrameBatch
    decoder: StreamDecoder
    stats: int = 0
    hellos: int = 0
    logs: int = 0


class LogStream:
    """A capture file decoded chunk by chunk: iterate for each chunk's `Decoded` (memory stays
    flat whatever the file's size); `decoder` holds the counts (errors, ignored, encoding)."""

    def __init__(self, path: str | Path, progress: Callable[[int], None] | None = None) -> None:
        self.path = path
        self.progress = progress
        self.decoder = StreamDecoder()
        self.stats = self.hellos = self.logs = 0

    def __iter__(self) -> Iterator[Decoded]:
        decoder = self.decoder
        try:
            with open(self.path, "rb") as f:
                while chunk := f.read(CHUNK_BYTES):
                    yield self._count(decoder.feed(chunk))
                    if self.progress:
                        self.progress(len(chunk))
        except OSError as exc:
            raise DataError(f"{self.path}: cannot read ({exc.strerror or exc})") from None
        yield self._count(decoder.finish())

    def _count(self, decoded: Decoded) -> Decoded:
        self.stats += len(decoded.stats)
        self.hellos += len(decoded.hellos)
        self.logs += len(decoded.logs)
        return decoded


def load_log(path: str | Path, progress: Callable[[int], None] | None = None) -> LogImport:
    """Decode a capture file of any supported format into memory; `progress(bytes)` per chunk."""
    stream = LogStream(path, progress)
    frames = FrameBatch.concat([decoded.frames for decoded in stream])
    return LogImport(frames, stream.decoder, stream.stats, stream.hellos, stream.logs)


def nothing_decoded(path: str | Path, size: int, decoder: StreamDecoder) -> DataError:
    """The one-line error for a file without CSI packets, saying what it held instead."""
    what = [f"{size} bytes"]
    for name, counts in (("errors", decoder.errors), ("ignored", decoder.ignored)):
        if counts:
            what.append(f"{name} " + ", ".join(f"{key} {n}" for key, n in sorted(counts.items())))
    return DataError(f"{path}: no CSI packets in this file ({'; '.join(what)})")


def check_readable(path: str | Path) -> int:
    """The size of `path`, or a DataError naming why it cannot be decoded."""
    p = Path(path)
    if p.is_dir():
        raise DataError(f"{path}: is a directory, not a capture file")
    if not p.exists():
        raise DataError(f"{path}: no such file")
    if not p.is_file():
        raise DataError(f"{path}: not a regular file")
    return p.stat().st_size


@dataclass
class ThreeDORecording:
    """One 3DO recording: frames plus per-frame position (metres) and class label (1..3)."""

    frames: FrameBatch
    x_m: np.ndarray
    y_m: np.ndarray
    z_m: np.ndarray
    label: np.ndarray
    bad_rows: int = 0

    def extra(self) -> dict[str, np.ndarray]:
        return {"x_m": self.x_m, "y_m": self.y_m, "z_m": self.z_m, "label": self.label}


def is_3do_csv(path: str | Path) -> bool:
    """True when the file's first line names the 3DO columns."""
    try:
        with open(path, "rb") as f:
            first = f.readline(4096).decode("utf-8-sig", "replace")
    except OSError:
        return False
    names = [n.strip().strip('"').lower() for n in first.split(",")]
    return all(c in names for c in THREE_DO_COLUMNS)


def load_3do(path: str | Path) -> ThreeDORecording:
    """Read one `csiposreg.csv`; rows whose CSI or labels do not parse are skipped and counted."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig", errors="replace")
    except OSError as exc:
        raise DataError(f"{path}: cannot read ({exc.strerror or exc})") from None
    rows = csv.reader(io.StringIO(text))
    header = [n.strip().lower() for n in next(rows, [])]
    missing = [c for c in THREE_DO_COLUMNS if c not in header]
    if missing:
        raise DataError(f"{path}: line 1: not a 3DO csiposreg.csv (missing column {', '.join(missing)})")
    col = {c: header.index(c) for c in THREE_DO_COLUMNS}
    width = max(col.values()) + 1
    table = [r for r in rows if r]
    short = [r for r in table if len(r) < width]
    table = [r for r in table if len(r) >= width]
    arrays = [r[col["data"]].strip().strip("[]").encode("ascii", "replace") for r in table]
    values, counts, ok = parse_csi_arrays(arrays)
    labels = _floats(table, [col["x"], col["y"], col["z"], col["class"]])
    ok &= ~np.isnan(labels).any(axis=1) & (counts > 0)
    return _three_do_recording(values, counts, ok, labels, len(short))


def _floats(table: list[list[str]], columns: list[int]) -> np.ndarray:
    out = np.full((len(table), len(columns)), np.nan)
    for i, row in enumerate(table):
        for j, c in enumerate(columns):
            try:
                out[i, j] = float(row[c])
            except ValueError:
                pass
    return out


def _three_do_recording(values, counts, ok, labels, short: int) -> ThreeDORecording:
    keep = np.repeat(ok, counts)
    values, counts, labels = values[keep], counts[ok], labels[ok]
    n = len(counts)
    width = int(counts.max()) if n else 0
    csi = np.zeros((n, width), dtype=np.int8)
    if n:
        starts = np.cumsum(counts) - counts
        csi[np.repeat(np.arange(n), counts), np.arange(values.size) - np.repeat(starts, counts)] = values
    meta = empty_meta(n)
    meta["seq"] = np.arange(n)
    meta["timestamp_us"] = np.arange(n) * int(1e6 / THREE_DO_RATE_HZ)
    meta["secondary_channel"] = SECONDARY_BELOW
    meta["bandwidth"] = 1
    meta["csi_len"] = counts
    meta["format"] = FORMAT_3DO
    return ThreeDORecording(
        FrameBatch(meta, csi), labels[:, 0], labels[:, 1], labels[:, 2], labels[:, 3].astype(np.int8),
        bad_rows=int(np.count_nonzero(~ok)) + short,
    )


def find_3do(root: str | Path) -> list[tuple[int, str, Path]]:
    """(day, sequence, path) of every `d<day>/<sequence>/csiposreg.csv` under `root`, sorted."""
    found = []
    for path in sorted(Path(root).glob("d*/*/csiposreg.csv")):
        match = re.fullmatch(r"d(\d+)", path.parent.parent.name)
        if match:
            found.append((int(match.group(1)), path.parent.name, path))
    return found
