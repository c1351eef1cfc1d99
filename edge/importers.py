"""Importers: recordings made elsewhere -> the one frame representation (`FrameBatch`).

- `load_log(path)`: any capture the stream decoder reads (protocol v1, esp-csi text,
  ESP32-CSI-Tool CSV, full `idf.py monitor` logs, UTF-16 saves), read in chunks.
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
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from csi_edge.decoder import StreamDecoder
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


def load_log(path: str | Path, progress: Callable[[int], None] | None = None) -> LogImport:
    """Decode a capture file of any supported format; `progress(bytes)` after each chunk."""
    decoder = StreamDecoder()
    parts: list[FrameBatch] = []
    result = LogImport(FrameBatch.empty(), decoder)
    try:
        with open(path, "rb") as f:
            while chunk := f.read(CHUNK_BYTES):
                _collect(decoder.feed(chunk), parts, result)
                if progress:
                    progress(len(chunk))
    except OSError as exc:
        raise DataError(f"{path}: cannot read ({exc.strerror or exc})") from None
    _collect(decoder.finish(), parts, result)
    result.frames = FrameBatch.concat(parts)
    return result


def _collect(decoded, parts: list[FrameBatch], result: LogImport) -> None:
    parts.append(decoded.frames)
    result.stats += len(decoded.stats)
    result.hellos += len(decoded.hellos)
    result.logs += len(decoded.logs)


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
