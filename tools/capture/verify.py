"""`capture verify`: check a session without changing it; one line per problem.

Checks: the manifest parses; raw.bin's file header and every record's magic, length and
CRC-32 (damaged ranges and a torn tail are reported with their byte offsets); re-decoding
raw.bin gives the manifest's packets, lost, decode errors and raw bytes; labels.jsonl parses
line by line, its packet indexes never go backwards and stay within the session; a
trajectory.csv has one row per packet. A session whose recorder died is reported, not
repaired (`capture info` repairs it).
"""

from __future__ import annotations

import json
from pathlib import Path

from csi_edge.errors import DataError
from csi_edge.session import rawlog
from csi_edge.session.decode import decode_session
from csi_edge.session.directory import LABELS, RAW, TRAJECTORY, SessionLock, read_manifest

COMPARED = ("packets", "lost", "decode_errors", "raw_bytes")


def verify_session(directory: str | Path) -> list[str]:
    d = Path(directory)
    try:
        manifest = read_manifest(d)
    except DataError as exc:
        return [str(exc)]
    problems: list[str] = []
    if manifest.get("status") == "recording":
        lock = SessionLock(d)
        if lock.try_acquire():
            lock.release()
            problems.append("manifest status is 'recording' but no recorder is running: it crashed "
                            "(`csi-edge capture info` recovers the session)")  # fmt: skip
        else:
            problems.append("a recorder is still writing this session; counts are checked as of its last sync")
    if not (d / RAW).exists():
        return problems + [f"{RAW}: missing"]
    scan = rawlog.scan_file(d / RAW)
    if not scan.header_ok:
        return problems + [f"{RAW} @ byte 0: bad file header (expected {rawlog.FILE_HEADER!r})"]
    for start, end in scan.corrupt:
        problems.append(f"{RAW} @ byte {start}: {end - start} bytes fail the record check (magic, length or CRC)")
    if scan.torn_bytes:
        problems.append(f"{RAW} @ byte {scan.good_end}: torn tail of {scan.torn_bytes} bytes")
    decoded = decode_session(d, scan)
    counts, stored = decoded.counts(), manifest.get("counts", {})
    for key in COMPARED:
        if stored.get(key) != counts[key]:
            problems.append(f"{RAW}: re-decoding gives {key} {counts[key]}, manifest.json says {stored.get(key)}")
    problems += _check_labels(d / LABELS, counts["packets"])
    problems += _check_trajectory(d / TRAJECTORY, counts["packets"])
    return problems


def _check_labels(path: Path, n_packets: int) -> list[str]:
    if not path.exists():
        return [f"{LABELS}: missing"]
    problems = []
    last = 0
    with open(path, "rb") as fh:
        for number, line in enumerate(fh, 1):
            where = f"{LABELS} line {number}"
            try:
                event = json.loads(line)
                packet = int(event["packet"])
                kind = event["event"]
            except (ValueError, KeyError, TypeError):
                problems.append(f"{where}: not a label event ({line[:40]!r})")
                continue
            if not line.endswith(b"\n"):
                problems.append(f"{where}: torn (no newline)")
            if packet < last:
                problems.append(f"{where}: {kind} at packet {packet} goes back before packet {last}")
            if packet > n_packets:
                problems.append(f"{where}: {kind} at packet {packet} is past the last packet ({n_packets})")
            last = max(last, packet)
    return problems


def _check_trajectory(path: Path, n_packets: int) -> list[str]:
    if not path.exists():
        return []
    with open(path, encoding="utf-8") as fh:
        rows = sum(1 for _ in fh) - 1
    if rows != n_packets:
        return [f"{TRAJECTORY}: {rows} rows for {n_packets} packets (re-run attach-trajectory)"]
    return []
