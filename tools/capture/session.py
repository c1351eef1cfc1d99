"""A capture session directory: files, manifest, lock, crash recovery, and the byte stream.

    DIR/raw.bin         append-only raw log of the bytes that arrived (see rawlog.py)
    DIR/labels.jsonl    append-only labels timeline (see labels.py)
    DIR/manifest.json   session description and counts, replaced atomically
    DIR/trajectory.csv  optional positions interpolated onto the packets (see trajectory.py)
    DIR/.lock           flock(2)-held by the recorder while it runs

A manifest whose `status` is "recording" while nobody holds the lock belongs to a recorder
that died (kill -9, power loss). `recover` then cuts the torn tail of raw.bin and labels.jsonl,
closes the labels timeline at the last good packet, and rewrites the manifest with the counts
and a `recovery` entry saying what happened. Readers call `open_for_reading`, which recovers
first, so every tool sees a consistent session.
"""

from __future__ import annotations

import datetime as _dt
import fcntl
import json
import os
import time
from pathlib import Path

from csi_edge.errors import DataError, UsageError
from csi_edge.tools.capture import rawlog
from csi_edge.tools.capture.labels import read_events

RAW = "raw.bin"
LABELS = "labels.jsonl"
MANIFEST = "manifest.json"
TRAJECTORY = "trajectory.csv"
LOCK = ".lock"
FORMAT = "csi-edge-session"
FORMAT_VERSION = 1


def now_iso() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="milliseconds")


def write_json_atomic(path: Path, obj: dict) -> None:
    """Write + fsync a temporary file, rename it over `path`, fsync the directory."""
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(obj, fh, indent=2, sort_keys=False)
        fh.write("\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    fsync_dir(path.parent)


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


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


def check_new_or_append(directory: Path, append: bool) -> None:
    """Refuse to record into an existing session without --append; never overwrite."""
    d = Path(directory)
    if d.exists() and not d.is_dir():
        raise UsageError(f"--out {d}: exists and is not a directory")
    if is_session(d):
        if not append:
            raise UsageError(f"--out {d}: a session already exists there; pass --append to add to it (never overwritten)")
        read_manifest(d)
    elif append:
        raise UsageError(f"--out {d}: --append given but there is no session to append to")
    elif d.exists() and any(p.name != LOCK for p in d.iterdir()):
        raise UsageError(f"--out {d}: directory is not empty and holds no session; choose a new directory")


def open_for_reading(directory: Path) -> dict:
    """The manifest of a session, recovering it first if its recorder died."""
    d = Path(directory)
    if not d.is_dir():
        raise DataError(f"{d}: no such session directory")
    manifest = read_manifest(d)
    if manifest.get("status") == "recording":
        lock = SessionLock(d)
        if lock.try_acquire():
            try:
                manifest = recover(d, manifest)
            finally:
                lock.release()
    return manifest


def recover(directory: Path, manifest: dict) -> dict:
    """Repair a session whose recorder died (caller holds the lock); returns the new manifest."""
    from csi_edge.tools.capture.reader import decode_session  # reader imports this module

    d = Path(directory)
    raw = d / RAW
    entry: dict = {"at": now_iso(), "torn_bytes": 0, "labels_torn_bytes": 0, "label_events_dropped": 0}
    if not raw.exists() or raw.stat().st_size < rawlog.FILE_HEADER_SIZE:
        with open(raw, "wb") as fh:  # crashed before the header was durable
            fh.write(rawlog.FILE_HEADER)
            fh.flush()
            os.fsync(fh.fileno())
    scan = rawlog.scan_file(raw)
    if not scan.header_ok:
        raise DataError(f"{raw}: bad file header; not a csi-edge raw log")
    if scan.torn_bytes:
        entry["torn_bytes"] = scan.torn_bytes
        entry["truncated_at"] = scan.good_end
        rawlog.truncate(raw, scan.good_end)
    decoded = decode_session(d, scan)
    n = decoded.counters.packets
    entry["packets"] = n
    entry["records"] = len(scan.records)
    _close_labels(d, n, entry)
    manifest["status"] = "closed"
    manifest["recovered"] = True
    manifest.setdefault("recovery", []).append(entry)
    manifest["counts"] = decoded.counts()
    runs = manifest.get("runs") or []
    if runs and runs[-1].get("ended") is None:
        runs[-1]["ended"] = entry["at"]
        runs[-1]["end_reason"] = "recovered"
    write_json_atomic(d / MANIFEST, manifest)
    return manifest


def _close_labels(d: Path, n_packets: int, entry: dict) -> None:
    """Cut a torn last line, drop events past the last good packet, append an end event."""
    path = d / LABELS
    events, good = read_events(path)
    size = path.stat().st_size if path.exists() else 0
    keep = [e for e in events if int(e.get("packet", 0)) <= n_packets]
    entry["labels_torn_bytes"] = size - good
    entry["label_events_dropped"] = len(events) - len(keep)
    end = json.dumps({"event": "end", "packet": n_packets, "wall_time": time.time(), "reason": "recovered"}) + "\n"
    if len(keep) == len(events):  # append-only repair: cut the torn line, add the end
        with open(path, "a+b") as fh:
            fh.truncate(good)
            fh.write(end.encode())
            fh.flush()
            os.fsync(fh.fileno())
    else:  # dropping events is not an append: rewrite atomically
        tmp = path.with_name(f".{LABELS}.tmp")
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write("".join(json.dumps(e) + "\n" for e in keep) + end)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    fsync_dir(d)


def read_session(directory: str | Path):
    """The session read back (`reader.Session`: frames, per-packet labels, positions, manifest).

    Used by training (`session:DIR`); labels are "" where a packet has none (paused or before
    the first label).
    """
    from csi_edge.tools.capture.reader import load_session  # reader imports this module

    return load_session(directory)


def read_stream(directory: str | Path) -> bytes:
    """The session's original byte stream (all runs, in order), for replay and export.

    Only good records are returned; a torn tail is left out (and cut, when the recorder is dead).
    """
    d = Path(directory)
    open_for_reading(d)
    return rawlog.read_stream_bytes(d / RAW)
