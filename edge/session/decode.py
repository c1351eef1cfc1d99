"""Decode a session's raw.bin with the one decoder, one recording run at a time.

Each recording run (the manifest's `runs` record the raw.bin offset where each run starts) is
decoded by a fresh decoder and counted on its own, exactly as it was live, so the recorder,
`info` and training count packets, losses and labels the same way. Records are decoded in
groups (at most GROUP_BYTES that arrived within GROUP_SPAN_NS) for speed. Each packet's
`meta["host_time_s"]` is the wall clock of the group's last record, back-dated along the RX
clock from the group's last packet (by at most GROUP_SPAN_NS), i.e. the host time of arrival
for a stream that arrives in real time.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from csi_edge import protocol as p
from csi_edge.decoder import StreamDecoder
from csi_edge.frames import FrameBatch
from csi_edge.session import rawlog
from csi_edge.session.counters import LinkCounters, error_counts
from csi_edge.session.directory import RAW, read_manifest
from csi_edge.session.labels import StreamClock

GROUP_BYTES = 1 << 16  # records decoded in one feed: at most this many bytes ...
GROUP_SPAN_NS = 250_000_000  # ... that arrived within this span (host times stay accurate)


@dataclass
class DecodedSession:
    """Everything decoded from raw.bin (no labels)."""

    frames: FrameBatch
    counters: LinkCounters
    scan: rawlog.Scan
    errors: Counter = field(default_factory=Counter)
    run_starts: list[int] = field(default_factory=list)  # first packet of each run
    duration_s: float = 0.0  # sum over runs of the RX-clock span of their packets
    hellos: list[p.Hello] = field(default_factory=list)
    stats: list[p.Stats] = field(default_factory=list)
    logs: list[p.LogRecord] = field(default_factory=list)

    def counts(self) -> dict:
        return {
            "packets": self.counters.packets,
            "lost": self.counters.lost,
            "decode_errors": error_counts(self.errors),
            "duration_s": round(self.duration_s, 6),
            "raw_bytes": self.scan.payload_bytes,
        }


def run_offsets(manifest: dict) -> list[int]:
    """raw.bin offsets where recording runs start (the first run starts after the header)."""
    offsets = [int(r.get("raw_offset", rawlog.FILE_HEADER_SIZE)) for r in manifest.get("runs", [])]
    return sorted(set(offsets) | {rawlog.FILE_HEADER_SIZE})


def decode_session(directory: Path, scan: rawlog.Scan | None = None) -> DecodedSession:
    """Decode every good record of DIR/raw.bin, one fresh decoder per recording run."""
    d = Path(directory)
    scan = scan if scan is not None else rawlog.scan_file(d / RAW)
    starts = run_offsets(read_manifest(d))
    out = DecodedSession(FrameBatch.empty(), LinkCounters(), scan)
    batches: list[FrameBatch] = []
    run_records: list[list[rawlog.Record]] = [[] for _ in starts]
    for record in scan.records:
        run_records[int(np.searchsorted(starts, record.offset, side="right")) - 1].append(record)
    for records in run_records:
        if not records:
            continue
        run = _decode_run(records, out)
        out.run_starts.append(out.counters.packets)
        out.counters.new_run()
        out.counters.update(run)
        if len(run) > 1:
            clock = StreamClock().advance(run.meta["timestamp_us"])
            out.duration_s += float(clock[-1] - clock[0])
        batches.append(run)
    out.frames = FrameBatch.concat(batches)
    return out


def _decode_run(records: list[rawlog.Record], out: DecodedSession) -> FrameBatch:
    """Decode one run's records, a group of records per feed (GROUP_BYTES / GROUP_SPAN_NS)."""
    decoder = StreamDecoder()
    batches: list[FrameBatch] = []
    group: list[rawlog.Record] = []
    size = 0
    for record in records:
        if group and (size + len(record.payload) > GROUP_BYTES or record.mono_ns - group[0].mono_ns > GROUP_SPAN_NS):
            _collect(decoder.feed(b"".join(r.payload for r in group)), group[-1].wall_ns, batches, out)
            group, size = [], 0
        group.append(record)
        size += len(record.payload)
    if group:
        _collect(decoder.feed(b"".join(r.payload for r in group)), group[-1].wall_ns, batches, out)
    _collect(decoder.finish(), records[-1].wall_ns, batches, out)
    out.errors.update(decoder.errors)
    return FrameBatch.concat(batches)


def _collect(decoded, wall_ns: int, batches: list[FrameBatch], out: DecodedSession) -> None:
    """Keep a feed's results; host time = feed's last arrival, back-dated along the RX clock."""
    frames = decoded.frames
    if len(frames):
        ts = frames.meta["timestamp_us"]
        back_s = np.where(ts >= 0, (ts[-1] - ts) / 1e6, 0.0) if ts[-1] >= 0 else np.zeros(len(ts))
        frames.meta["host_time_s"] = wall_ns / 1e9 - np.clip(back_s, 0.0, GROUP_SPAN_NS / 1e9)
        batches.append(frames)
    out.hellos.extend(decoded.hellos)
    out.stats.extend(decoded.stats)
    out.logs.extend(decoded.logs)
