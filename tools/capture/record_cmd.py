"""`csi-edge capture record`: configuration, source, labeller and screen wired together."""

from __future__ import annotations

import sys
import time

from csi_edge.config import load_config, parse_listen
from csi_edge.errors import CsiEdgeError, UsageError
from csi_edge.source import Source, SourceClosed, open_source, parse_spec
from csi_edge.tools.capture.cli import parse_tags
from csi_edge.tools.capture.labeller import Labeller, ProtocolState
from csi_edge.tools.capture.labels import parse_classes, parse_protocol
from csi_edge.tools.capture.recorder import Recorder, RecordOptions, check_new_or_append
from csi_edge.tools.capture.ui import PlainUI, TerminalUI

WAIT_REPORT_S = 10.0  # while no byte has arrived, say so this often


def wait_for_first_bytes(source: Source, spec: str) -> tuple[bytes, int, int]:
    """Read until the source delivers its first bytes: (bytes, wall ns, monotonic ns) at arrival.
    Nothing is created before (a source that never sends leaves no empty session behind);
    while waiting, say what we wait for and why the source is not there yet."""
    started = time.monotonic()
    next_report = started
    while True:
        try:
            chunk = source.read(0.2)
        except SourceClosed:
            raise CsiEdgeError(f"{spec}: no CSI packets in this source (it ended before its first byte); nothing recorded") from None
        if chunk:
            return chunk, time.time_ns(), time.monotonic_ns()
        now = time.monotonic()
        if now >= next_report:
            status = source.status()
            why = f" ({status['error']})" if status.get("error") else ""
            print(f"capture: waiting for the first bytes from {spec}{why}; nothing is recorded until they arrive "
                  f"({now - started:.0f} s, Ctrl-C to give up)", file=sys.stderr, flush=True)  # fmt: skip
            next_report = now + WAIT_REPORT_S


def record(args) -> int:
    overrides = {}
    if args.fsync_interval is not None:
        overrides["capture.fsync_interval_s"] = args.fsync_interval
    if args.source:
        overrides["source.spec"] = args.source
    # Pace: a replay runs as fast as possible unless --realtime (labels run on the RX clock, so
    # both label the same); the simulator follows [sim] realtime (default 100 Hz) or --realtime.
    overrides["source.replay_realtime"] = bool(args.realtime)
    if args.web:
        overrides.update(parse_listen(args.web))
    if args.realtime:
        overrides["sim.realtime"] = True
    config = load_config(args.config, overrides=overrides, sets=args.set)
    classes = parse_classes(args.classes) if args.classes else tuple(config.capture.classes)
    segments = parse_protocol(args.protocol, classes) if args.protocol else None
    if args.label is not None and args.label not in classes:
        raise UsageError(f"--label {args.label!r}: not a class (classes: {', '.join(classes)})")
    if args.max_packets is not None and args.max_packets < 1:
        raise UsageError("--max-packets must be >= 1")
    opts = RecordOptions(
        out=args.out, source_spec=config.source.spec, classes=classes, tags=parse_tags(args.tag),
        notes=args.notes, protocol_spec=args.protocol, fsync_interval_s=config.capture.fsync_interval_s,
        append=args.append, max_packets=args.max_packets,
    )  # fmt: skip
    check_new_or_append(opts.out, opts.append)
    cls, target = parse_spec(opts.source_spec)
    problem = cls.target_problem(target, config)
    if problem:
        raise UsageError(f"--source {opts.source_spec}: {problem}; nothing recorded")
    if cls.kind == "sim":
        print("capture: warning: the source is the SIMULATOR: this session will hold simulated data, not measurements "
              "(its manifest says source sim)", file=sys.stderr, flush=True)  # fmt: skip

    def make_labeller(log):
        lab = Labeller(log, classes, ProtocolState(segments) if segments else None)
        if args.label is not None:
            lab.request("label", label=args.label, by="option")
        return lab

    web = _start_web(config) if config.web.enabled else None
    try:
        recorder = _open_recorder(opts, config, make_labeller)
    except BaseException:
        if web is not None:
            web.stop()
        raise
    interactive = sys.stdin.isatty() and sys.stdout.isatty()
    ui = TerminalUI() if interactive else PlainUI()
    if web is not None:
        ui = web.around(ui, recorder)
    try:
        state = recorder.run(ui)
    finally:
        ui.close(recorder)
    counts = recorder.counts()
    print(f"{opts.out}: {counts['packets']} packets, {counts['lost']} lost, "
          f"{sum(counts['decode_errors'].values())} decode errors, {counts['duration_s']:.1f} s "
          f"({state.stop_reason})", file=sys.stderr)  # fmt: skip
    return 0


def _open_recorder(opts: RecordOptions, config, make_labeller) -> Recorder:
    """Open the source and wait for its first bytes: only then is the session created."""
    source = open_source(opts.source_spec, config)
    try:
        first = wait_for_first_bytes(source, opts.source_spec)
        return Recorder(opts, source, make_labeller, first=first)
    except BaseException:
        source.close()
        raise


def _start_web(config):
    """The web view (csi_edge.tools.capture.web), listening before the session is created."""
    from csi_edge.tools.capture.web import WebView

    web = WebView(config)
    web.start()
    print(f"web view: {web.url}", file=sys.stderr)
    return web
