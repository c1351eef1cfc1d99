"""`capture attach-trajectory`: ground-truth positions interpolated onto the CSI packets.

Input: a CSV with a header naming `timestamp` (seconds), `x`, `y`, `z` (metres), e.g. 30 Hz
from visual SLAM. Its time base is either

- `session`: seconds since the session's first packet (on the RX clock, runs back to back), or
- `unix`: Unix seconds; each packet's Unix time is its RX clock plus one offset, the median of
  (record wall clock - RX clock) over the session, which removes the serial chunking jitter;

`auto` picks `unix` when the timestamps exceed 1e9. `--offset S` is added to the track's
timestamps. Positions are interpolated linearly onto every packet (30 Hz -> 100 Hz, as in the
paper); packets outside the track's time span get NaN, and coverage is the share inside it.

Output: DIR/trajectory.csv (written atomically), one row per packet::

    packet,timestamp_us,t_s,x,y,z

(`timestamp_us` the packet's RX time, `t_s` its time on the track's clock after the offset),
and a `trajectory` entry in the manifest (source file, clock, offset, coverage).
"""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path

import numpy as np

from csi_edge.errors import DataError, UsageError
from csi_edge.session.directory import MANIFEST, TRAJECTORY
from csi_edge.session.files import fsync_dir, write_json_atomic
from csi_edge.session.reader import load_session, session_clock

COLUMNS = ("timestamp", "x", "y", "z")
UNIX_THRESHOLD_S = 1e9


def read_track(path: Path) -> np.ndarray:
    """(M, 4) float64: timestamp, x, y, z; DataError naming the file and line."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise DataError(f"{path}: cannot read ({exc.strerror})") from None
    except UnicodeDecodeError as exc:
        raise DataError(f"{path} @ byte {exc.start}: not a text CSV (timestamp,x,y,z)") from None
    reader = csv.reader(io.StringIO(text))
    header = [h.strip().lower() for h in next(reader, [])]
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise DataError(f"{path} line 1: missing column(s) {', '.join(missing)} (need {','.join(COLUMNS)})")
    idx = [header.index(c) for c in COLUMNS]
    rows = []
    for number, row in enumerate(reader, 2):
        if not row or not "".join(row).strip():
            continue
        try:
            rows.append([float(row[i]) for i in idx])
        except (ValueError, IndexError):
            raise DataError(f"{path} line {number}: expected numbers in {','.join(COLUMNS)}") from None
    track = np.array(rows, dtype=np.float64).reshape(-1, 4)
    if len(track) < 2:
        raise DataError(f"{path}: need at least 2 trajectory points (got {len(track)})")
    bad = np.flatnonzero(np.diff(track[:, 0]) <= 0)
    if len(bad):
        raise DataError(f"{path} line {bad[0] + 3}: timestamps must increase")
    return track


def interpolate(track: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Positions (N, 3) at times t (NaN outside the track's span) and the inside mask."""
    inside = (t >= track[0, 0]) & (t <= track[-1, 0])
    xyz = np.full((len(t), 3), np.nan)
    for k in range(3):
        xyz[inside, k] = np.interp(t[inside], track[:, 0], track[:, k + 1])
    return xyz, inside


def attach_trajectory(directory: str | Path, track_path: str | Path, offset_s: float = 0.0, clock: str = "auto") -> dict:
    sess = load_session(directory)
    track = read_track(Path(track_path))
    track[:, 0] += offset_s
    if clock == "auto":
        clock = "unix" if track[0, 0] > UNIX_THRESHOLD_S else "session"
    if clock not in ("session", "unix"):
        raise UsageError(f"--clock {clock!r}: expected auto, session or unix")
    session_s = session_clock(sess)
    t = session_s
    if clock == "unix" and len(t):
        t = session_s + float(np.median(sess.frames.meta["host_time_s"] - session_s))
    xyz, inside = interpolate(track, t)
    out = Path(directory) / TRAJECTORY
    _write_rows(out, sess.frames.meta["timestamp_us"], t, xyz)
    n = len(t)
    report = {
        "path": str(out),
        "track": str(track_path),
        "clock": clock,
        "offset_s": offset_s,
        "packets": n,
        "packets_covered": int(inside.sum()),
        "coverage_percent": round(100.0 * inside.sum() / n, 3) if n else 0.0,
        "track_points": len(track),
        "track_span_s": round(float(track[-1, 0] - track[0, 0]), 3),
    }
    manifest = sess.manifest
    manifest["trajectory"] = {k: v for k, v in report.items() if k != "path"}
    write_json_atomic(Path(directory) / MANIFEST, manifest)
    return report


def _write_rows(path: Path, timestamp_us: np.ndarray, t: np.ndarray, xyz: np.ndarray) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w", encoding="utf-8", newline="") as fh:
        fh.write("packet,timestamp_us,t_s,x,y,z\n")
        for i in range(len(t)):
            x, y, z = xyz[i]
            fh.write(f"{i},{int(timestamp_us[i])},{t[i]:.6f},{x:.6g},{y:.6g},{z:.6g}\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    fsync_dir(path.parent)
