"""`csi-edge capture`: record labelled sessions, inspect, plot, export, verify, add positions.

    csi-edge capture record --source sim|serial:PATH|replay:PATH --out DIR [--protocol SPEC]
                            [--tag key=value ...] [--append] [--classes a,b,c] [--label NAME]
    csi-edge capture info DIR [--json]
    csi-edge capture plot DIR [--out PNG]
    csi-edge capture export DIR --format 3do-csv|npz|raw [--out PATH]
    csi-edge capture verify DIR
    csi-edge capture attach-trajectory DIR track.csv [--offset S]

The session format is described in docs/session-format.md.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from csi_edge.errors import UsageError
from csi_edge.source.base import SOURCES

EXPORT_FORMATS = """formats:
  3do-csv: the 3DO dataset's CSV layout (data,x,y,z,class; raw CSI bytes per packet, positions from
           trajectory.csv, 3DO class codes), readable by its loaders and by `csi-edge import`
  npz:     numpy arrays: meta, csi (int8), amplitude (52 L-LTF), label, label_code, classes, xyz, manifest
  raw:     the original byte stream as it came over the wire (e.g. for tools that read serial logs)
"""


def register(subparsers) -> None:
    parser = subparsers.add_parser("capture", help="record and inspect labelled CSI sessions",
                                   description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    sub = parser.add_subparsers(dest="capture_command", metavar="SUBCOMMAND", parser_class=type(parser))
    parser.set_defaults(func=lambda args: parser.print_help(sys.stderr) or 2)
    _register_record(sub)

    p = sub.add_parser("info", help="summary of a session (recovers a crashed one first)")
    p.add_argument("session", type=Path)
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run_info)

    p = sub.add_parser("plot", help="PNG: amplitude heatmap with label bands, packet rate and RSSI")
    p.add_argument("session", type=Path)
    p.add_argument("--out", type=Path, help="PNG path (default: SESSION/session.png)")
    p.set_defaults(func=run_plot)

    p = sub.add_parser("export", help="write the session as 3DO CSV, NPZ, or the raw byte stream",
                       description="Write a session in another format.", epilog=EXPORT_FORMATS,
                       formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    p.add_argument("session", type=Path)
    p.add_argument("--format", required=True, choices=("3do-csv", "npz", "raw"), help="one of the formats below")
    p.add_argument("--out", type=Path, help="output file (default: SESSION/export.<ext>)")
    p.set_defaults(func=run_export)

    p = sub.add_parser("verify", help="re-decode, check record CRCs and the manifest; exit 1 on problems")
    p.add_argument("session", type=Path)
    p.set_defaults(func=run_verify)

    p = sub.add_parser("attach-trajectory", help="interpolate a trajectory CSV (timestamp,x,y,z) onto the packets")
    p.add_argument("session", type=Path)
    p.add_argument("track", type=Path, help="CSV with columns timestamp (s), x, y, z (m)")
    p.add_argument("--offset", type=float, default=0.0, help="seconds added to the track's timestamps")
    p.add_argument("--clock", choices=("auto", "session", "unix"), default="auto",
                   help="track time base: seconds from the first packet (session) or Unix time (unix); "
                        "auto: unix when timestamps exceed 1e9")  # fmt: skip
    p.set_defaults(func=run_attach_trajectory)


def _register_record(sub) -> None:
    p = sub.add_parser("record", help="record a session from a board, the simulator or a replay",
                       description="Record into a new session directory. Interactive (keys switch labels) when "
                                   "stdin is a terminal and no --protocol is given.")  # fmt: skip
    p.add_argument("--source", help=f"KIND[:TARGET], KIND one of {', '.join(SOURCES)}, e.g. sim, serial:PATH, replay:PATH "
                   "(default: [source] spec)")
    p.add_argument("--out", required=True, type=Path, help="session directory (new, or existing with --append)")
    p.add_argument("--protocol", help='scripted labels, e.g. "walking:300,pause:10,sitting:300" (s; "500p" = packets)')
    p.add_argument("--tag", action="append", default=[], metavar="KEY=VALUE",
                   help="session tag such as environment=lab, day=1, person=p1, room=r1 (repeatable)")  # fmt: skip
    p.add_argument("--notes", default="", help="free text stored in the manifest")
    p.add_argument("--classes", help="comma-separated labels (default: [capture] classes)")
    p.add_argument("--label", help="label from the first packet (non-interactive recordings)")
    p.add_argument("--append", action="store_true", help="add a run to an existing session")
    p.add_argument("--fsync-interval", type=float, help="seconds between fsyncs (default: [capture] fsync_interval_s)")
    p.add_argument("--max-packets", type=int, help="stop after this many packets")
    p.add_argument("--realtime", action="store_true", help="replay/sim at the recorded pace")
    p.add_argument("--web", metavar="HOST:PORT", help="serve the live web view (heatmap, link, current label) there, "
                   "e.g. 127.0.0.1:8080 ([web] enabled/host/port)")
    p.add_argument("--config", type=Path, help="configuration file (TOML)")
    p.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE", help="override a config key")
    p.set_defaults(func=run_record)


def parse_tags(items: list[str]) -> dict[str, str]:
    tags = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"--tag {item!r}: expected KEY=VALUE, e.g. day=1")
        tags[key.strip()] = value.strip()
    return tags


def run_record(args) -> int:
    from csi_edge.tools.capture.record_cmd import record

    return record(args)


def run_info(args) -> int:
    from csi_edge.session.info import format_info, session_info

    info = session_info(args.session)
    print(json.dumps(info) if args.json else format_info(info))
    return 0


def run_plot(args) -> int:
    from csi_edge.tools.capture.plot import plot_session

    out = plot_session(args.session, args.out)
    print(out)
    return 0


def run_export(args) -> int:
    from csi_edge.tools.capture.export import export_session

    out = export_session(args.session, args.format, args.out)
    print(out)
    return 0


def run_verify(args) -> int:
    from csi_edge.tools.capture.verify import verify_session

    problems = verify_session(args.session)
    for line in problems:
        print(f"{args.session}: {line}", file=sys.stderr)
    if not problems:
        print(f"{args.session}: ok")
    return 1 if problems else 0


def run_attach_trajectory(args) -> int:
    from csi_edge.tools.capture.trajectory import attach_trajectory

    report = attach_trajectory(args.session, args.track, offset_s=args.offset, clock=args.clock)
    print(f"{report['path']}: {report['packets_covered']}/{report['packets']} packets inside the track "
          f"({report['coverage_percent']:.1f} % coverage), track {report['track_points']} points "
          f"over {report['track_span_s']:.1f} s")  # fmt: skip
    return 0
