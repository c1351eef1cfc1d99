"""`csi-edge calibrate`: record the empty-room baseline of a link (docs/calibration.md).

    csi-edge calibrate --source SPEC --seconds N --out FILE [--config FILE] [--set KEY=VALUE ...]

Reads N seconds of packets (by the receiver's clock) from any source the daemon reads (the
same registry, decoder and amplitude feature), and writes the baseline: per-subcarrier profile
and spread, gains and lock state, the link's identity (from the board's HELLO and the frames).
Leave the room empty while it records. `csi-edge run --baseline FILE` (or `[calibration]
baseline`) loads it; a baseline recorded on another link is refused.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from csi_edge.config import describe_keys, load_config
from csi_edge.source.base import SOURCES

EXAMPLES = """examples:
  csi-edge calibrate --source serial:/dev/csi-edge-rx --seconds 60 --out /var/lib/csi-edge/baseline.json
  csi-edge calibrate --source sim --set sim.activity=empty --set sim.realtime=false --seconds 60 --out day1.json
  csi-edge calibrate --source replay:session-01/ --set source.replay_realtime=false --seconds 30 --out base.json
"""


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "calibrate", help="record the empty-room baseline of a link (for drift alerts and baseline-relative models)",
        description=__doc__, epilog=EXAMPLES + "\n" + describe_keys(), formatter_class=argparse.RawDescriptionHelpFormatter,
    )  # fmt: skip
    p.add_argument("--source", metavar="SPEC", help=f"KIND[:TARGET], KIND one of {', '.join(SOURCES)} ([source] spec)")
    p.add_argument("--seconds", type=float, default=60.0, metavar="N", help="seconds of packets to record (default 60)")
    p.add_argument("--out", required=True, metavar="FILE", help="baseline file to write (JSON)")
    p.add_argument("--config", metavar="FILE", help="TOML configuration (default /etc/csi-edge/config.toml if present)")
    p.add_argument("--set", dest="sets", action="append", default=[], metavar="SECTION.KEY=VALUE", help="override any configuration key")
    p.add_argument("--window", type=int, metavar="N", help="packets per window for the statistics (default [window] size, else 351)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def run(args) -> int:
    from csi_edge.errors import UsageError
    from csi_edge.logs import setup_logging
    from csi_edge.source import parse_spec

    if not 1.0 <= args.seconds <= 86_400:
        raise UsageError(f"--seconds must be 1..86400 (got {args.seconds})")
    if args.window is not None and args.window < 2:
        raise UsageError(f"--window must be >= 2 (got {args.window})")
    cfg = load_config(args.config, {"source.spec": args.source} if args.source else {}, args.sets)
    setup_logging(cfg.log.level, cfg.log.format)
    parse_spec(cfg.source.spec)
    out = Path(args.out)
    if not out.parent.is_dir():
        raise UsageError(f"--out {out}: folder {out.parent} does not exist")
    window = args.window or cfg.window.size or 351
    hop = cfg.window.hop or 10
    baseline = record(cfg, cfg.source.spec, args.seconds, window, hop, progress=not args.no_progress)
    baseline.save(out)
    link = baseline.link
    print(f"wrote {out}: {baseline.windows} windows, {baseline.seconds:.1f} s of packets; link channel {link.channel}, "
          f"{link.bandwidth_MHz} MHz, tx {link.tx_mac}, rx {link.rx_mac}, scaling {link.csi_scale}; "
          f"null drift p95 {baseline.null_drift_dB.get('p95')} dB, motion p95 {baseline.motion.get('p95')}", file=sys.stderr)
    return 0


def record(cfg, spec: str, seconds: float, window: int, hop: int, progress: bool = True):
    """Read `seconds` of packets from `spec` into a Baseline (one-line errors otherwise)."""
    from tqdm import tqdm

    from csi_edge.calibration.stats import BaselineBuilder
    from csi_edge.errors import CsiEdgeError
    from csi_edge.source import SourceClosed, open_source

    builder = BaselineBuilder(window, hop, spec)
    reader = _Reader(cfg, window, hop, builder)
    wall_limit = 3.0 * seconds + 30.0
    t0 = time.monotonic()
    source = open_source(spec, cfg, seconds + (window + hop) / 100.0 + 2.0)  # a generated source stops by itself
    bar = tqdm(total=round(seconds, 1), unit="s", desc="calibrating (keep the room empty)", disable=not progress,
               bar_format="{l_bar}{bar}| {n:.1f}/{total:.1f} s [{elapsed}<{remaining}]")
    try:
        while builder.seconds < seconds:
            try:
                chunk = source.read(cfg.source.read_timeout_s)
            except SourceClosed:
                reader.feed(None, source)
                break
            reader.feed(chunk, source)
            bar.update(min(round(builder.seconds, 1), bar.total) - bar.n)  # tqdm rate-limits the redraws
            if time.monotonic() - t0 > wall_limit:
                raise CsiEdgeError(f"{spec}: only {builder.seconds:.1f} s of packets in {wall_limit:.0f} s of waiting "
                                   f"(needed {seconds:g} s); is the board streaming?")
    finally:
        bar.close()
        source.close()
    if builder.seconds < seconds or not builder.n_windows:
        raise CsiEdgeError(f"{spec}: the source ended after {builder.seconds:.1f} s of packets and {builder.n_windows} "
                           f"windows of {window}; a baseline needs --seconds {seconds:g}")
    return builder.build()


class _Reader:
    """Bytes -> decoder -> amplitude -> window ring -> baseline builder (the daemon's stages)."""

    def __init__(self, cfg, window: int, hop: int, builder) -> None:
        from csi_edge.decoder import StreamDecoder
        from csi_edge.features import packet_feature
        from csi_edge.window import WindowRing

        self.decoder = StreamDecoder()
        self.feature = packet_feature("amplitude")
        self.ring = WindowRing(window, hop, 52, cfg.window.max_gap_fill)
        self.builder = builder

    def feed(self, chunk: bytes | None, source) -> None:
        decoded = self.decoder.finish() if chunk is None else self.decoder.feed(chunk)
        frames = decoded.frames
        self.builder.add_frames(frames.meta, decoded.hellos)
        if not len(frames):
            return
        source.pace(frames.meta)
        feats, valid = self.feature(frames)
        out = self.ring.push(feats, valid, frames.meta["seq"], time.monotonic())
        self.builder.add_windows(out.windows)
