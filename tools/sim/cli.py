"""`csi-edge sim`: simulated TX + RX boards, to a file, stdout or a pseudo-terminal."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import BinaryIO, TextIO

from csi_edge.errors import CsiEdgeError, UsageError
from csi_edge.tools.sim.recording import ACTIVITIES, truth_csv
from csi_edge.tools.sim.room import RX_POSITIONS
from csi_edge.tools.sim.streaming import FORMATS, stream

DESCRIPTION = """\
Simulate the two boards of the reference setup (TX and RX 7.2 m apart behind two plasterboard
walls, a 4 m x 2.5 m monitored area, furniture, one person) and emit what the RX board would
send over USB: protocol v1 frames (HELLO, CSI at 100 Hz, STATS every second) or espressif
esp-csi CSI_DATA text. Ground truth (seq, activity, x, y, z per received packet; metres, room
coordinates, nan when the room is empty) is written to PATH.truth.csv (or --truth).
--link N places the receiver at position N (0: opposite the TX, 1 and 2: 1.8 m to either
side): the links of one seed see the same person at the same sequence numbers.
Same arguments -> byte-identical output."""

EPILOG = """\
examples:
  csi-edge sim --seconds 60 --day 1 --activity walking --seed 1 --out walk.bin
  csi-edge sim --seconds 600 --activity mixed --format esp-csi --out mixed.csv
  csi-edge sim --pty                      # prints /dev/pts/N, then streams at 100 Hz
  csi-edge sim --pty --fast --seconds 30  # as fast as the reader reads, then exit
  csi-edge sim --seconds 10 --out rec.bin && csi-edge decode rec.bin
  csi-edge sim --seconds 10 --out - > rec.bin   # to stdout: no truth file unless --truth
  for n in 0 1 2; do csi-edge sim --link $n --seed 5 --out room-link$n.bin; done  # one room, 3 receivers
days: 1 reference, 2 same room / other execution, 3 furniture moved."""


def register(subparsers) -> None:
    parser = subparsers.add_parser("sim", help="simulated boards: CSI stream with ground truth",
                                   description=DESCRIPTION, epilog=EPILOG,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    where = parser.add_argument_group("output (one of)")
    where.add_argument("--out", metavar="PATH", help="write the recording to PATH ('-' for stdout)")
    where.add_argument("--pty", action="store_true", help="serve the stream on a pseudo-terminal; its path is the first line on stdout")
    parser.add_argument("--seconds", type=float, default=None, help="duration in seconds of TX time (default: 60 for --out, endless for --pty)")
    parser.add_argument("--day", type=int, choices=(1, 2, 3), default=1, help="1 reference, 2 same room/other execution, 3 furniture moved (default 1)")
    parser.add_argument("--activity", choices=(*ACTIVITIES, "mixed"), default="mixed", help="what the person does (default mixed: 20-60 s segments of all four)")
    parser.add_argument("--seed", type=int, default=0, help="random seed of the execution (default 0)")
    parser.add_argument("--segment-seconds", metavar="LO[,HI]", default="20,60",
                        help="mixed: each activity segment lasts LO..HI seconds (default 20,60; one number: fixed length)")
    parser.add_argument("--format", dest="fmt", choices=FORMATS, default="v1", help="v1 binary frames or esp-csi text (default v1)")
    parser.add_argument("--truth", metavar="PATH", help="ground-truth CSV path (default PATH.truth.csv; none for stdout/--pty unless given)")
    parser.add_argument("--fast", action="store_true", help="--pty: stream as fast as the reader reads instead of 100 Hz real time")
    parser.add_argument("--start-seq", type=int, default=0, help="sequence number of the first packet (default 0)")
    parser.add_argument("--link", type=int, default=0, metavar="N",
                        help=f"receiver position 0..{len(RX_POSITIONS) - 1} around the monitored area (default 0; same seed, same person)")
    radio = parser.add_argument_group("radio")
    radio.add_argument("--channel", type=int, default=11, help="primary channel 1..14 (default 11)")
    radio.add_argument("--secondary", choices=("below", "none"), default="below", help="secondary channel: below = HT40 (3DO setup, default), none = HT20")
    radio.add_argument("--first-word-invalid", action="store_true", help="mark and garble CSI bytes 0..3 like some ESP32 firmware")
    radio.add_argument("--gain-lock", action="store_true", help="freeze AGC/FFT gain after the first 100 packets")
    radio.add_argument("--no-loss", action="store_true", help="no packet loss")
    parser.set_defaults(func=run)


def _check(args) -> None:
    if bool(args.out) == bool(args.pty):
        raise UsageError("give exactly one of --out PATH or --pty")
    if args.seconds is not None and not args.seconds > 0:
        raise UsageError(f"--seconds must be > 0 (got {args.seconds})")
    if not 1 <= args.channel <= 14:
        raise UsageError(f"--channel must be 1..14 (got {args.channel})")
    if not 0 <= args.start_seq < 2**31:
        raise UsageError(f"--start-seq must be 0..2147483647 (got {args.start_seq})")
    if not 0 <= args.link < len(RX_POSITIONS):
        raise UsageError(f"--link must be 0..{len(RX_POSITIONS) - 1} (got {args.link})")
    if args.fast and not args.pty:
        raise UsageError("--fast applies to --pty (files are always written as fast as possible)")
    args.segment_s = segment_range(args.segment_seconds)


def segment_range(text: str) -> tuple[float, float]:
    """'30' -> (30, 30); '20,60' -> (20, 60); UsageError otherwise."""
    try:
        values = [float(v) for v in text.split(",")]
    except ValueError:
        values = []
    if len(values) not in (1, 2) or not 1 <= values[0] <= values[-1]:
        raise UsageError(f"--segment-seconds must be LO or LO,HI seconds with 1 <= LO <= HI (got {text!r})")
    return values[0], values[-1]


def _stream(args, realtime: bool, seconds: float | None):
    return stream(day=args.day, activity=args.activity, seed=args.seed, fmt=args.fmt, realtime=realtime,
                  seconds=seconds, start_seq=args.start_seq, segment_s=args.segment_s, link=args.link, channel=args.channel,
                  secondary=args.secondary, first_word_invalid=args.first_word_invalid, gain_lock=args.gain_lock,
                  loss=not args.no_loss)  # fmt: skip


def _open(path: str, mode: str):
    try:
        return open(path, mode)
    except OSError as exc:
        raise CsiEdgeError(f"{path}: cannot write ({exc.strerror})") from None


def _truth_rows(truth_file: TextIO | None, rows, first: bool) -> None:
    if truth_file is not None:
        truth_file.write(truth_csv(rows, header_line=first))


def write_file(args) -> int:
    seconds = 60.0 if args.seconds is None else args.seconds
    to_stdout = args.out == "-"
    truth_path = args.truth or (None if to_stdout else f"{args.out}.truth.csv")
    out: BinaryIO = sys.stdout.buffer if to_stdout else _open(args.out, "wb")
    truth = _open(truth_path, "w") if truth_path else None
    packets = 0
    try:
        for i, (data, rows) in enumerate(_stream(args, realtime=False, seconds=seconds)):
            out.write(data)
            _truth_rows(truth, rows, i == 0)
            packets += len(rows)
        out.flush()
    except BrokenPipeError:
        raise
    except OSError as exc:
        raise CsiEdgeError(f"{'stdout' if to_stdout else args.out}: write failed ({exc.strerror})") from None
    finally:
        if not to_stdout:
            out.close()
        if truth is not None:
            truth.close()
    where = "stdout" if to_stdout else args.out
    print(f"csi-edge sim: {packets} packets ({seconds:g} s, day {args.day}, {args.activity}, {args.fmt}, link {args.link}) -> {where}"
          + (f", truth -> {truth_path}" if truth_path else ""), file=sys.stderr)  # fmt: skip
    return 0


def serve_pty(args) -> int:
    from csi_edge.tools.sim.pty_port import PtyWriter, open_port

    port = open_port()
    writer = PtyWriter(port, start_timeout_s=10.0 if args.fast else 0.3)
    truth = _open(args.truth, "w") if args.truth else None
    print(port.path, flush=True)
    header = True
    try:
        for data, rows in _stream(args, realtime=not args.fast, seconds=args.seconds):
            if writer.write(data) and truth is not None:  # truth of the delivered chunks only
                _truth_rows(truth, rows, header)
                truth.flush()
                header = False
        writer.drain(timeout_s=5.0)
    except KeyboardInterrupt:
        pass
    finally:
        if truth is not None:
            truth.close()
        port.close()
    if writer.dropped or writer.cut:
        print(f"csi-edge sim: reader too slow: {writer.dropped} chunks dropped, {writer.cut} cut", file=sys.stderr)
    return 0


def run(args) -> int:
    _check(args)
    if args.out and args.out != "-" and Path(args.out).is_dir():
        raise UsageError(f"--out {args.out}: is a directory")
    return serve_pty(args) if args.pty else write_file(args)
