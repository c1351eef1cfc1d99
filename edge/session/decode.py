"""Decode a session's raw.bin with the one decoder, one recording run at a time, as a stream.

Each recording run (the manifest's `runs` record the raw.bin offset where each run starts) is
decoded by a fresh decoder and counted on its own, exactly as it was live, so the recorder,
`info` and training count packets, losses and labels the same way. Records are decoded in
groups (at most GROUP_BYTES that arrived within GROUP_SPAN_NS) for speed. Each packet's
`meta["host_time_s"]` is the wall clock of the group's last record, back-dated along the RX
clock from the group's last packet (by at most GROUP_SPAN_NS), i.e. the host time of arrival
for a stream that arrives in real time.

raw.bin is read in blocks and each decoded group goes to a `FrameSink` as it comes: `info` and
`verify` summarise on the way (memory flat in the session size: a 4 GB overnight session is
normal); `decode_session` keeps every frame (training, plots, export need them).
"""

from __future__ import annotations

import bisect
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np

from csi_edge import protocol as p
from csi_edge.decoder import StreamDecoder
from csi_edge.frames import FrameBatch
from csi_edge.session import rawlog
from csi_edge.session.counters import MAX_LISTED, LinkCounters, error_counts
from csi_edge.session.directory import RAW, read_manifest
from csi_edge.session.labels import StreamClock

GROUP_BYTES = 1 << 16  # records decoded in one feed: at most this many bytes ...
GROUP_SPAN_NS = 250_000_000  # ... that arrived within this span (host times stay accurate)
BATCH_PACKETS = 8192  # decoded groups are counted and handed on in batches of about this many packets


class FrameSink(Protocol):
    """Where decoded packets go, in stream order."""

    def run_started(self, packet: int) -> None:
        """A recording run starts at session packet index `packet`."""

    def frames(self, batch: FrameBatch, first_packet: int) -> None:
        """Decoded packets; the first is session packet `first_packet`."""


class CountOnly:
    """A sink that keeps nothing: the counts are all (recovery, verify)."""

    def run_started(self, packet: int) -> None:
        pass

    def frames(self, batch: FrameBatch, first_packet: int) -> None:
        pass


class KeepFrames:
    """A sink that keeps every batch (`decode_session`)."""

    def __init__(self) -> None:
        self.batches: list[FrameBatch] = []

    def run_started(self, packet: int) -> None:
        pass

    def frames(self, batch: FrameBatch, first_packet: int) -> None:
        self.batches.append(batch)


@dataclass
class DecodedSession:
    """Everything decoded from raw.bin (no labels); `frames` only from `decode_session`."""

    frames: FrameBatch
    counters: LinkCounters
    scan: rawlog.Scan
    errors: Counter = field(default_factory=Counter)
    run_starts: list[int] = field(default_factory=list)  # first packet of each run
    duration_s: float = 0.0  # sum over runs of the RX-clock span of their packets
    hellos: list[p.Hello] = field(default_factory=list)  # the first MAX_LISTED
    last_stats: p.Stats | None = None  # the board's latest STATS
    logs: list[p.LogRecord] = field(default_factory=list)  # the first MAX_LISTED

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
    """Decode every good record of DIR/raw.bin (or of `scan`'s kept records), keeping the frames."""
    sink = KeepFrames()
    out = stream_session(directory, sink, scan)
    out.frames = FrameBatch.concat(sink.batches)
    return out


def stream_session(directory: Path, sink: FrameSink, scan: rawlog.Scan | None = None,
                   counters: LinkCounters | None = None) -> DecodedSession:  # fmt: skip
    """Decode DIR/raw.bin read as a stream (or `scan`'s kept records), handing each decoded
    group to `sink` (after `counters`, if given, counted it); the result holds the counts, not
    the frames. Memory is bounded by a group and the largest record, whatever the file size."""
    d = Path(directory)
    starts = run_offsets(read_manifest(d))
    if scan is None:
        scan = rawlog.Scan()
        records: Iterable[rawlog.Record] = rawlog.stream_file(d / RAW, scan)
    else:
        records = scan.records
    out = DecodedSession(FrameBatch.empty(), counters if counters is not None else LinkCounters(), scan)
    _Runs(out, starts, sink).decode(records)
    return out


class _Runs:
    """Feeds records run by run, group by group, into fresh decoders (see the module docstring)."""

    def __init__(self, out: DecodedSession, starts: list[int], sink: FrameSink) -> None:
        self.out, self.starts, self.sink = out, starts, sink
        self.run = -1
        self.decoder = StreamDecoder()
        self.clock = StreamClock()
        self.group: list[rawlog.Record] = []
        self.size = 0
        self.run_packets = 0
        self.batch: list[FrameBatch] = []  # decoded, not yet counted (see BATCH_PACKETS)
        self.batch_packets = 0
        self.batch_mono_ns = 0

    def decode(self, records: Iterable[rawlog.Record]) -> None:
        for record in records:
            run = bisect.bisect_right(self.starts, record.offset) - 1
            if run != self.run:
                self._end_run()
                self._start_run(run)
            if self.group and (self.size + len(record.payload) > GROUP_BYTES
                               or record.mono_ns - self.group[0].mono_ns > GROUP_SPAN_NS):  # fmt: skip
                self._feed()
            self.group.append(record)
            self.size += len(record.payload)
        self._end_run()

    def _start_run(self, run: int) -> None:
        out = self.out
        self.run = run
        self.decoder, self.clock, self.run_packets = StreamDecoder(), StreamClock(), 0
        out.run_starts.append(out.counters.packets)
        out.counters.new_run()
        self.sink.run_started(out.counters.packets)

    def _feed(self) -> None:
        last = self.group[-1]
        self._collect(self.decoder.feed(b"".join(r.payload for r in self.group)), last)
        self.group, self.size = [], 0

    def _end_run(self) -> None:
        if self.run < 0:
            return
        last = self.group[-1] if self.group else None
        if self.group:
            self._feed()
        if last is not None:
            self._collect(self.decoder.finish(), last)
        self._count()
        self.out.errors.update(self.decoder.errors)
        if self.run_packets > 1:
            self.out.duration_s += self.clock.now_s
        self.run = -1

    def _collect(self, decoded, last: rawlog.Record) -> None:
        """Keep a feed's results; host time = the feed's last arrival, back-dated along the RX
        clock. They are counted and handed on a batch at a time (vectorised over more packets)."""
        out = self.out
        frames = decoded.frames
        if len(frames):
            ts = frames.meta["timestamp_us"]
            back_s = np.where(ts >= 0, (ts[-1] - ts) / 1e6, 0.0) if ts[-1] >= 0 else np.zeros(len(ts))
            frames.meta["host_time_s"] = last.wall_ns / 1e9 - np.clip(back_s, 0.0, GROUP_SPAN_NS / 1e9)
            self.batch.append(frames)
            self.batch_packets += len(frames)
            self.batch_mono_ns = last.mono_ns
            if self.batch_packets >= BATCH_PACKETS:
                self._count()
        out.hellos.extend(decoded.hellos[: max(0, MAX_LISTED - len(out.hellos))])
        if decoded.stats:
            out.last_stats = decoded.stats[-1]
        out.logs.extend(decoded.logs[: max(0, MAX_LISTED - len(out.logs))])

    def _count(self) -> None:
        if not self.batch:
            return
        frames = FrameBatch.concat(self.batch)
        self.batch, self.batch_packets = [], 0
        out = self.out
        first = out.counters.packets
        out.counters.update(frames, self.batch_mono_ns / 1e9)
        self.clock.advance(frames.meta["timestamp_us"])
        self.run_packets += len(frames)
        self.sink.frames(frames, first)
