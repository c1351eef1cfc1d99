"""Crash recovery of a session whose recorder died (kill -9, power loss).

A manifest whose `status` is "recording" while nobody holds the lock belongs to a recorder
that died. `recover` then cuts the torn tail of raw.bin and labels.jsonl, closes the labels
timeline at the last good packet, and rewrites the manifest with the counts and a `recovery`
entry saying what happened. `open_for_reading` (used by `load_session`: info, plot, export,
training) recovers first, so those tools see a consistent session. Replay does not: it reads
raw.bin read-only and never changes a session (`reader.read_stream`).
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from csi_edge.errors import DataError
from csi_edge.session import rawlog
from csi_edge.session.decode import decode_session
from csi_edge.session.directory import LABELS, MANIFEST, RAW, SessionLock, read_manifest
from csi_edge.session.files import fsync_dir, write_json_atomic
from csi_edge.session.labels import read_events
from csi_edge.timefmt import utc_iso


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
    d = Path(directory)
    raw = d / RAW
    entry: dict = {"at": utc_iso(), "torn_bytes": 0, "labels_torn_bytes": 0, "label_events_dropped": 0}
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
