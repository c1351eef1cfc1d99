"""A capture session directory: its files, its manifest, and the recorder's lock.

    DIR/raw.bin         append-only raw log of the bytes that arrived (rawlog.py)
    DIR/labels.jsonl    append-only labels timeline (labels.py)
    DIR/manifest.json   session description and counts, replaced atomically (files.py)
    DIR/trajectory.csv  optional positions interpolated onto the packets (reader.py)
    DIR/.lock           flock(2)-held by the recorder while it runs

The format is described in docs/session-format.md.
"""

from __future__ import annotations

import fcntl
import json
import os
from pathlib import Path

from csi_edge.errors import DataError

RAW = "raw.bin"
LABELS = "labels.jsonl"
MANIFEST = "manifest.json"
TRAJECTORY = "trajectory.csv"
LOCK = ".lock"
FORMAT = "csi-edge-session"
FORMAT_VERSION = 1


def read_manifest(directory: Path) -> dict:
    path = Path(directory) / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DataError(f"{directory}: not a capture session (no {MANIFEST})") from None
    except (OSError, ValueError) as exc:
        raise DataError(f"{path}: unreadable manifest ({exc})") from None
    if manifest.get("format") != FORMAT:
        raise DataError(f"{path}: not a csi-edge session manifest (format {manifest.get('format')!r})")
    return manifest


def is_session(directory: Path) -> bool:
    d = Path(directory)
    return (d / MANIFEST).exists() or (d / RAW).exists()


class SessionLock:
    """An exclusive flock on DIR/.lock; the kernel releases it when the holder dies."""

    def __init__(self, directory: Path) -> None:
        self.path = Path(directory) / LOCK
        self._fd: int | None = None

    def try_acquire(self) -> bool:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd
        return True

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
