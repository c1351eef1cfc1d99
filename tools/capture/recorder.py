"""The record loop: source -> raw log (lossless) + decoder (validate, count) -> labels.

Each chunk is appended to raw.bin as it arrives (so nothing that arrived is lost, even if it
does not decode). Stored chunks are decoded together every DECODE_INTERVAL_S (every read for a
paced source, a real-time replay, which then waits in `pace` until its packets are due), and
always before a keypress is applied, so a key never relabels packets that arrived before it; the
decoded packets are labelled and counted. Every `fsync_interval_s` the files are flushed to
the OS and the background syncer (syncer.py) fsyncs raw.bin, then labels.jsonl, then replaces
the manifest with the counts taken before the fsync, so a reader polling the manifest knows
which bytes and packets are safely on disk. At the end everything is synced in the loop.
"""

from __future__ import annotations

import json
import signal
import socket
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from csi_edge import __version__
from csi_edge.decoder import StreamDecoder
from csi_edge.errors import CsiEdgeError, UsageError
from csi_edge.frames import FrameBatch
from csi_edge.session.counters import LinkCounters, error_counts
from csi_edge.session.directory import (
    FORMAT,
    FORMAT_VERSION,
    LABELS,
    LOCK,
    MANIFEST,
    RAW,
    SessionLock,
    is_session,
    read_manifest,
)
from csi_edge.session.files import write_json_atomic
from csi_edge.session.rawlog import FILE_HEADER_SIZE, RawLogWriter
from csi_edge.session.recovery import recover
from csi_edge.source import SourceClosed
from csi_edge.timefmt import utc_iso
from csi_edge.tools.capture.labeller import EventLog, Labeller
from csi_edge.tools.capture.syncer import Syncer

READ_TIMEOUT_S = 0.05  # source read timeout: bounds key latency and the fsync interval error
DECODE_INTERVAL_S = 0.1  # stored chunks are decoded together at most this far apart (and before keys)


@dataclass
class RecordOptions:
    out: Path
    source_spec: str
    classes: tuple[str, ...]
    tags: dict[str, str] = field(default_factory=dict)
    notes: str = ""
    protocol_spec: str | None = None
    fsync_interval_s: float = 1.0
    append: bool = False
    max_packets: int | None = None  # stop after this many packets in this run (scripts, tests)


@dataclass
class RunState:
    """What the screen shows; updated by the loop."""

    counters: LinkCounters
    decoder: StreamDecoder
    labeller: Labeller
    started_mono: float
    first_packet: int
    stop_reason: str | None = None

    def rate_hz(self) -> float:
        return self.counters.monitor.rate_hz


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


def new_manifest(opts: RecordOptions) -> dict:
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "session_id": uuid.uuid4().hex,
        "created": utc_iso(),
        "host": socket.gethostname(),
        "tool_version": __version__,
        "source": opts.source_spec,
        "tags": dict(opts.tags),
        "notes": opts.notes,
        "classes": list(opts.classes),
        "protocol": opts.protocol_spec,
        "fsync_interval_s": opts.fsync_interval_s,
        "boards": [],
        "status": "recording",
        "recovered": False,
        "runs": [],
        "counts": {"packets": 0, "lost": 0, "decode_errors": {}, "duration_s": 0.0, "raw_bytes": 0},
    }


class Recorder:
    """One recording run into a session directory (new, or appended with --append)."""

    def __init__(self, opts: RecordOptions, source, labeller_factory, first: tuple[bytes, int, int] | None = None) -> None:
        """`first`: the bytes the source delivered before the session existed (bytes, wall ns,
        monotonic ns): nothing is created until a source has sent something."""
        self.opts = opts
        self.source = source
        self._first = first
        self.dir = Path(opts.out)
        check_new_or_append(self.dir, opts.append)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.lock = SessionLock(self.dir)
        if not self.lock.try_acquire():
            raise UsageError(f"--out {self.dir}: another capture is recording into this session")
        try:
            check_new_or_append(self.dir, opts.append)  # again, now that we hold the lock
            self.manifest, self.base = self._open_manifest()
        except BaseException:
            self.lock.release()
            raise
        self.raw = RawLogWriter(self.dir / RAW)
        self.events = EventLog(self.dir / LABELS)
        self.state = RunState(LinkCounters(), StreamDecoder(), labeller_factory(self.events),
                              time.monotonic(), self.base["packets"])  # fmt: skip
        self._last_sync = self._last_decode = time.monotonic()
        self._pending: list[bytes] = []  # stored in raw.bin, not decoded yet
        self._hello_keys: set[str] = {str(b) for b in self.manifest["boards"]}
        self.syncer = Syncer(self.dir / MANIFEST, (self.raw.fileno(), self.events.fileno()))
        self.on_frames: Callable[[FrameBatch, float], None] | None = None  # every decoded batch (the web view)

    def _open_manifest(self) -> tuple[dict, dict]:
        """Create the manifest, or (--append) recover and extend the existing one."""
        if self.opts.append:
            manifest = read_manifest(self.dir)
            if manifest.get("status") == "recording":  # its recorder died: repair first
                manifest = recover(self.dir, manifest)
            manifest["status"] = "recording"
        else:
            manifest = new_manifest(self.opts)
        base = dict(manifest["counts"])
        raw = self.dir / RAW
        raw_offset = max(raw.stat().st_size if raw.exists() else 0, FILE_HEADER_SIZE)
        manifest["tags"].update(self.opts.tags)
        manifest["runs"].append({"started": utc_iso(), "ended": None, "source": self.opts.source_spec,
                                 "first_packet": base["packets"], "raw_offset": raw_offset, "protocol": self.opts.protocol_spec})  # fmt: skip
        write_json_atomic(self.dir / MANIFEST, manifest)
        return manifest, base

    # -- the loop ---------------------------------------------------------------------------

    def run(self, ui) -> RunState:
        st = self.state
        run_index = len(self.manifest["runs"]) - 1
        self.events.write({"event": "start", "packet": st.first_packet, "wall_time": time.time(),
                           "run": run_index, "source": self.opts.source_spec})  # fmt: skip
        stop = _StopOnSignal()
        try:
            if self._first is not None:
                chunk, wall_ns, mono_ns = self._first
                self._first = None
                self.raw.append(chunk, wall_ns, mono_ns)
                self._pending.append(chunk)
            while st.stop_reason is None:
                self._step()
                keys = ui.poll_keys()
                if keys:  # packets that arrived before the keypress are not relabelled
                    self.decode_pending(time.monotonic())
                for key in keys:
                    ui.handle_key(key, self)
                ui.render(self)
                if stop.signalled:
                    st.stop_reason = "stop"
        except OSError as exc:  # disk full, device gone: one line, after closing what we can
            st.stop_reason = "write-error"
            raise CsiEdgeError(f"{self.dir}: cannot write the session ({exc.strerror or exc}); "
                               "what was synced is kept, `csi-edge capture info` repairs the rest") from None  # fmt: skip
        finally:
            stop.restore()
            try:
                self.close()
            except OSError as exc:  # the session stays "recording": the next reader recovers it
                self.lock.release()
                raise CsiEdgeError(f"{self.dir}: cannot close the session ({exc.strerror or exc}); "
                                   "`csi-edge capture info` repairs it") from None  # fmt: skip
        return st

    def _step(self) -> None:
        st = self.state
        try:
            chunk = self.source.read(READ_TIMEOUT_S)
        except SourceClosed:
            chunk, st.stop_reason = b"", "source-closed"
        now = time.monotonic()
        if chunk:
            self.raw.append(chunk, time.time_ns(), time.monotonic_ns())
            self._pending.append(chunk)
        if st.stop_reason is not None or now - self._last_decode >= DECODE_INTERVAL_S or self.source.paced:
            self.decode_pending(now)  # a paced replay waits for its packets' RX time: decode each read
        if st.labeller.finished and st.stop_reason is None:
            st.stop_reason = "protocol-done"
        limit = self.opts.max_packets
        if limit is not None and st.counters.packets >= limit and st.stop_reason is None:
            st.stop_reason = "max-packets"
        if now - self._last_sync >= self.opts.fsync_interval_s:
            self.sync()

    def decode_pending(self, now: float) -> None:
        """Decode the chunks stored since the last call (in one feed: the decoder is vectorised)."""
        st = self.state
        self._last_decode = now
        data = b"".join(self._pending)
        self._pending.clear()
        if data:
            self._decoded(st.decoder.feed(data), now)
        else:
            st.counters.monitor.update(FrameBatch.empty(), now)  # the rate decays while idle
        if st.stop_reason == "source-closed":
            self._decoded(st.decoder.finish(), now)

    def _decoded(self, decoded, now: float) -> None:
        st = self.state
        if len(decoded.frames):
            st.labeller.apply(decoded.frames, st.first_packet + st.counters.packets)
            st.counters.update(decoded.frames, now)
            self.source.pace(decoded.frames.meta)
            if self.on_frames is not None:
                self.on_frames(decoded.frames, now)
        if decoded.stats:  # the board's own counters (queue drops, send errors, ...)
            self.manifest["board_stats"] = decoded.stats[-1].to_dict()
        for hello in decoded.hellos:
            board = {"seen_at_packet": st.first_packet + st.counters.packets, **hello.to_dict(),
                     "csi_scaling": hello.csi_scaling, "problem": hello.problem}  # fmt: skip
            key = str({k: v for k, v in board.items() if k != "seen_at_packet"})
            if key not in self._hello_keys:  # each distinct board configuration once
                self._hello_keys.add(key)
                self.manifest["boards"].append(board)
                if hello.problem is not None:
                    print(f"capture: the board {hello.mac} reports a problem: {hello.problem}", file=sys.stderr, flush=True)

    def sync(self) -> None:
        """Hand the bytes written so far to the OS and have the syncer make them durable."""
        self.raw.flush()
        self.events.flush()
        self.manifest["counts"] = self.counts()
        self.syncer.request(json.loads(json.dumps(self.manifest)))  # a snapshot for the thread
        self._last_sync = time.monotonic()

    def counts(self) -> dict:
        st, base = self.state, self.base
        errors = Counter(base.get("decode_errors", {}))
        errors.update(st.decoder.errors)
        return {
            "packets": base["packets"] + st.counters.packets,
            "lost": base["lost"] + st.counters.lost,
            "decode_errors": error_counts(errors),
            "duration_s": round(base.get("duration_s", 0.0) + st.labeller.clock.now_s, 6),
            "raw_bytes": base.get("raw_bytes", 0) + self.raw.bytes_written,
        }

    def close(self) -> None:
        st = self.state
        now = time.monotonic()
        self.decode_pending(now)
        if st.stop_reason != "source-closed":  # the run's stream ends here (a torn frame counts)
            self._decoded(st.decoder.finish(), now)
        reason = st.stop_reason or "stop"
        if not st.labeller.finished:
            self.events.write({"event": "end", "packet": st.first_packet + st.counters.packets,
                               "wall_time": time.time(), "reason": reason})  # fmt: skip
        run = self.manifest["runs"][-1]
        run.update(ended=utc_iso(), end_reason=reason, packets=st.counters.packets)
        self.manifest["status"] = "closed"
        self.manifest["counts"] = self.counts()
        self.syncer.stop()
        self.raw.close()  # flush + fsync
        self.events.close()
        write_json_atomic(self.dir / MANIFEST, self.manifest)
        self.source.close()
        self.lock.release()


class _StopOnSignal:
    """SIGTERM / SIGINT / SIGHUP end the run cleanly (the session is closed, not torn)."""

    SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)

    def __init__(self) -> None:
        self.signalled = False
        self._old = {sig: signal.signal(sig, self._handle) for sig in self.SIGNALS}

    def _handle(self, signum, frame) -> None:
        self.signalled = True

    def restore(self) -> None:
        for sig, old in self._old.items():
            signal.signal(sig, old)
