"""`csi-edge capture record`: configuration, source, labeller and screen wired together."""

from __future__ import annotations

import sys

from csi_edge.config import load_config, parse_listen
from csi_edge.errors import UsageError
from csi_edge.source import open_source
from csi_edge.tools.capture.cli import parse_tags
from csi_edge.tools.capture.labeller import Labeller, ProtocolState
from csi_edge.tools.capture.labels import parse_classes, parse_protocol
from csi_edge.tools.capture.recorder import Recorder, RecordOptions, check_new_or_append
from csi_edge.tools.capture.ui import PlainUI, TerminalUI


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
    source = open_source(opts.source_spec, config)
    try:
        return Recorder(opts, source, make_labeller)
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
