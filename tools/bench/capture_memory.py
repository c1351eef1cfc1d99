"""`csi-edge bench capture-memory`: peak memory of `capture info` / `capture verify` by session size.

For each `--mb` size: writes a synthetic session (protocol-v1 frames, L-LTF, consecutive sequence
numbers at 100 Hz, 10 frames per raw.bin record as a serial read would bring them, a labels
timeline with a label change every tenth of the session, a manifest whose counts match), runs
`csi-edge capture info` and `csi-edge capture verify` on it in fresh processes, reports each
one's peak resident memory (ru_maxrss) and wall time, and deletes the session. Flat means the
peak does not grow with the session (a 4 GB overnight session must fit a Jetson).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tqdm import tqdm

FRAMES_PER_RECORD = 10
FRAMES_PER_BLOCK = 20_000


def add_arguments(parser) -> None:
    parser.add_argument("--mb", type=float, nargs="+", default=[100.0, 500.0], help="session sizes in MB of raw.bin (default 100 500)")
    parser.add_argument("--dir", type=Path, help="where to write the sessions (default: a temporary folder); each is deleted after")
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def write_session(directory: Path, megabytes: float, progress: bool = True) -> int:
    """A synthetic session of about `megabytes` MB; returns its packet count."""
    from csi_edge import protocol as p
    from csi_edge.session.directory import LABELS, MANIFEST, RAW
    from csi_edge.session.files import write_json_atomic
    from csi_edge.session.rawlog import RawLogWriter
    from csi_edge.tools.bench.pipeline import frames_bytes
    from csi_edge.tools.capture.recorder import RecordOptions, new_manifest

    frame_size = p.OVERHEAD + p.CSI_HEADER_SIZE + 128
    total = int(megabytes * 1e6 / frame_size)
    directory.mkdir(parents=True)
    raw = RawLogWriter(directory / RAW)
    t0 = time.time_ns()
    bar = tqdm(total=total, unit="frame", desc=f"writing {megabytes:g} MB session", disable=not progress, mininterval=2.0)
    for start in range(0, total, FRAMES_PER_BLOCK):
        frames = frames_bytes(min(FRAMES_PER_BLOCK, total - start), start_seq=start, seed=start)
        for i in range(0, len(frames), FRAMES_PER_RECORD):
            k = start + i
            raw.append(b"".join(frames[i : i + FRAMES_PER_RECORD]), t0 + k * 10_000_000, k * 10_000_000)
        bar.update(len(frames))
    bar.close()
    raw.close()
    classes = ("empty", "walking", "sitting", "lying")
    events = [{"event": "start", "packet": 0, "wall_time": t0 / 1e9, "run": 0, "source": "bench"}]
    for j in range(10):
        packet = j * total // 10
        events.append({"event": "label", "label": classes[j % 4], "packet": packet, "timestamp_us": packet * 10_000,
                       "wall_time": t0 / 1e9 + packet / 100, "by": "protocol"})  # fmt: skip
    events.append({"event": "end", "packet": total, "wall_time": t0 / 1e9 + total / 100, "reason": "stop"})
    (directory / LABELS).write_text("".join(json.dumps(e) + "\n" for e in events))
    manifest = new_manifest(RecordOptions(out=directory, source_spec="bench", classes=classes))
    manifest["status"] = "closed"
    manifest["runs"].append({"started": "", "ended": "", "source": "bench", "first_packet": 0, "raw_offset": 16, "protocol": None})
    manifest["counts"] = {"packets": total, "lost": 0, "decode_errors": {}, "duration_s": round((total - 1) * 0.01, 6),
                          "raw_bytes": total * frame_size}  # fmt: skip
    write_json_atomic(directory / MANIFEST, manifest)
    return total


def peak_of(args: list[str]) -> dict:
    """Run `csi-edge ARGS` in a fresh process; its exit code, peak RSS (MB) and wall time."""
    cmd = [sys.executable, "-c", "import resource, subprocess, sys; r = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL); "
           "print(r.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)",
           sys.executable, "-m", "csi_edge.cli", *args]  # fmt: skip
    t0 = time.monotonic()
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.split()
    return {"exit_code": int(out[0]), "peak_rss_MB": round(int(out[1]) / 1024, 1), "seconds": round(time.monotonic() - t0, 1)}


def run(args) -> int:
    base = args.dir or Path(tempfile.mkdtemp(prefix="csi-edge-capture-memory-"))
    base.mkdir(parents=True, exist_ok=True)
    rows = []
    try:
        for mb in args.mb:
            session = base / f"session-{mb:g}MB"
            packets = write_session(session, mb, progress=not args.json)
            size = (session / "raw.bin").stat().st_size
            row = {"raw_MB": round(size / 1e6, 1), "packets": packets}
            for command in ("info", "verify"):
                figures = peak_of(["capture", command, str(session)])
                row.update({f"{command}_{k}": v for k, v in figures.items()})
            rows.append(row)
            shutil.rmtree(session)
    finally:
        if args.dir is None:
            shutil.rmtree(base, ignore_errors=True)
    if args.json:
        print(json.dumps({"sessions": rows, "load_average": [round(x, 2) for x in os.getloadavg()]}))
    else:
        print(f"{'raw.bin MB':>10} {'packets':>9}  {'info peak MB':>12} {'info s':>7}  {'verify peak MB':>14} {'verify s':>8}")
        for r in rows:
            print(f"{r['raw_MB']:>10} {r['packets']:>9}  {r['info_peak_rss_MB']:>12} {r['info_seconds']:>7}  "
                  f"{r['verify_peak_rss_MB']:>14} {r['verify_seconds']:>8}")  # fmt: skip
    return 0
