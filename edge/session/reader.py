"""Read a session back: decoded packets, labels per packet, positions, the raw byte stream.

`load_session` (info, plot, export, training) recovers a session whose recorder died first
(recovery.py), then decodes it (decode.py) and attaches the labels timeline and the optional
trajectory. `read_stream` (replay, `capture export --format raw`) returns the original byte
stream read-only: it never repairs or rewrites the session, a torn tail is just left out.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from csi_edge.errors import DataError
from csi_edge.frames import FrameBatch
from csi_edge.session.decode import DecodedSession, decode_session
from csi_edge.session.directory import LABELS, RAW, TRAJECTORY, read_manifest
from csi_edge.session.labels import StreamClock, labels_per_packet, read_events
from csi_edge.session.rawlog import RawLogReader
from csi_edge.session.recovery import open_for_reading


@dataclass
class Session:
    """A session read back: manifest, decoded packets, labels timeline."""

    directory: Path
    manifest: dict
    decoded: DecodedSession
    events: list[dict]
    labels: np.ndarray  # per packet; "" = unlabelled or paused
    positions: np.ndarray | None = None  # (N, 3) metres from trajectory.csv (NaN outside), or None

    @property
    def frames(self) -> FrameBatch:
        return self.decoded.frames


def session_clock(sess: Session) -> np.ndarray:
    """Seconds since the first packet on the RX clock, restarted per run (never backwards)."""
    ts = sess.frames.meta["timestamp_us"]
    clock = np.zeros(len(ts))
    starts = sess.decoded.run_starts + [len(ts)]
    offset = 0.0
    for a, b in zip(starts[:-1], starts[1:], strict=True):
        if b > a:
            clock[a:b] = offset + StreamClock().advance(ts[a:b])
            offset = clock[b - 1]
    return clock


def load_session(directory: str | Path) -> Session:
    d = Path(directory)
    manifest = open_for_reading(d)
    decoded = decode_session(d)
    events, _ = read_events(d / LABELS)
    labels = labels_per_packet(events, len(decoded.frames))
    return Session(d, manifest, decoded, events, labels, read_trajectory(d, len(decoded.frames)))


def read_trajectory(directory: str | Path, n_packets: int) -> np.ndarray | None:
    """(N, 3) positions per packet from DIR/trajectory.csv; None without one, or when it no
    longer matches the packets (an --append after attach-trajectory: `verify` reports it)."""
    path = Path(directory) / TRAJECTORY
    if not path.exists():
        return None
    try:
        data = np.atleast_1d(np.genfromtxt(path, delimiter=",", names=True))
    except ValueError as exc:
        raise DataError(f"{path}: unreadable trajectory ({exc})") from None
    if len(data) != n_packets:
        return None
    return np.stack([data["x"], data["y"], data["z"]], axis=1)


def open_stream(directory: str | Path) -> RawLogReader:
    """The session's raw log opened read-only (replay): `payloads()` yields the original byte
    stream (all runs, in order) one record at a time. Nothing in the session is repaired,
    truncated or rewritten; a torn tail is simply where the stream ends."""
    d = Path(directory)
    read_manifest(d)  # a clear error for a directory that is not a session
    return RawLogReader(d / RAW)


def read_stream(directory: str | Path) -> bytes:
    """The whole original byte stream of a session, read-only (see `open_stream`)."""
    reader = open_stream(directory)
    try:
        return b"".join(reader.payloads())
    finally:
        reader.close()
