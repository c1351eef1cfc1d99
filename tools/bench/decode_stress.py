"""The decoder under stress, and as a whole command: `csi-edge bench decode --flood | --memory | --commands`.

--flood     hostile inputs decoded in this process, fed whole and in chunks (their outcomes are
            checked equal): a 1 MiB sync flood (`C5 ED` repeated), a v1 capture with one bit
            flipped per 500 bytes, and 1 MiB of sync pairs with valid envelopes announcing
            1024-byte frames whose CRC never matches. Prints seconds and the decoder's work
            counters per input byte (tests/unit/core/test_decoder_work.py bounds them).
--memory    peak RSS of whole `csi-edge decode F` and `csi-edge decode F --out F.npz` processes on
            v1 files of the given sizes in MB (written to --dir or a temporary folder by
            repeating a block of frames, deleted afterwards).
--commands  wall time of whole commands, process start to exit, on the same ESP32-CSI-Tool file
            (--rows rows; --csi-tool to give one): `csi-edge decode F` against a script that
            runs `csiread.ESP32(F).read()`. "cold" is each command's first run after install,
            with no Python bytecode cache (an empty PYTHONPYCACHEPREFIX; the file itself is
            in the page cache for both); "warm" is the best of --repeat further runs.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from csi_edge.tools.bench.figure import save

FLOOD_BYTES = 1 << 20


def add_arguments(parser) -> None:
    parser.add_argument("--flood", action="store_true", help="hostile inputs (sync flood, bit flips), whole vs chunked")
    parser.add_argument("--memory", metavar="MB,MB", help="peak RSS of whole decode commands on v1 files of these sizes")
    parser.add_argument("--commands", action="store_true", help="whole commands cold and warm: decode vs csiread")


def wanted(args) -> bool:
    return bool(args.flood or args.memory or args.commands)


def run(args) -> int:
    if args.flood:
        flood()
    if args.memory:
        memory([int(x) for x in args.memory.split(",")], args.dir)
    if args.commands:
        commands(args)
    return 0


# -- hostile inputs ---------------------------------------------------------------------------


def _capture(frames: int) -> bytes:
    from csi_edge import protocol as p

    header = np.zeros(frames, dtype=p.CSI_HEADER_DTYPE)
    header["seq"], header["csi_len"] = np.arange(frames), 128
    csi = np.random.default_rng(0).integers(-100, 100, (frames, 128)).astype(np.int8)
    return p.encode_csi_batch(header, csi)


def hostile_inputs() -> dict[str, bytes]:
    from csi_edge import protocol as p

    flipped = bytearray(_capture(2_000_000 // 172))
    rng = np.random.default_rng(1)
    for start in range(0, len(flipped) - 500, 500):
        flipped[start + int(rng.integers(500))] ^= 1 << int(rng.integers(8))
    envelope = p.SYNC + bytes([p.VERSION, p.TYPE_CSI]) + p.MAX_PAYLOAD.to_bytes(2, "little")
    return {
        "sync flood 1 MiB": p.SYNC * (FLOOD_BYTES // 2),
        "bit flip / 500 B, 2 MB": bytes(flipped),
        "valid-envelope flood 1 MiB": envelope * (FLOOD_BYTES // len(envelope)),
    }


def _decode(data: bytes, chunk: int | None):
    from csi_edge.decoder import StreamDecoder

    decoder = StreamDecoder()
    step = chunk or len(data)
    t0 = time.perf_counter()
    rows = sum(len(decoder.feed(data[i : i + step])) for i in range(0, len(data), step))
    rows += len(decoder.finish())
    return time.perf_counter() - t0, rows, decoder


def flood() -> None:
    print(f"{'input':<28} {'fed':>10} {'seconds':>8} {'rows':>6} {'work/B':>7} {'CRC/B':>6}  outcome")
    for name, data in hostile_inputs().items():
        outcomes = set()
        for chunk in (None, 1 << 20, 4096):
            seconds, rows, dec = _decode(data, chunk)
            outcome = (rows, tuple(sorted(dec.errors.items())), tuple(sorted(dec.ignored.items())))
            outcomes.add(outcome)
            fed = "whole" if chunk is None else f"{chunk // 1024} KiB"
            print(f"{name:<28} {fed:>10} {seconds:>8.3f} {rows:>6} {dec.work / len(data):>7.2f} "
                  f"{dec.crc_bytes / len(data):>6.2f}  {dict(dec.errors)}")  # fmt: skip
        print(f"{'':<28} {'':>10} same outcome whole and chunked: {'yes' if len(outcomes) == 1 else 'NO'}")


# -- whole commands ---------------------------------------------------------------------------


def _timed_command(argv: list[str], env: dict | None = None) -> tuple[float, int]:
    """Run argv to completion -> (wall seconds, peak RSS in KB of that process)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise RuntimeError(f"{' '.join(argv)} exited {proc.returncode}")
    return seconds, int(usage.ru_maxrss)


def _csi_edge() -> list[str]:
    """The installed `csi-edge` entry point beside this Python (else the module)."""
    script = Path(sys.executable).with_name("csi-edge")
    return [str(script)] if script.exists() else [sys.executable, "-m", "csi_edge.cli"]


def memory(sizes_mb: list[int], folder: str | None) -> None:
    block = _capture(20_000)  # 3.4 MB
    with tempfile.TemporaryDirectory(dir=folder) as tmp:
        print(f"{'input':>10} {'decode s':>9} {'peak RSS':>10} {'--out s':>8} {'peak RSS':>10}")
        for mb in sizes_mb:
            path = Path(tmp) / f"v1-{mb}MB.bin"
            with open(path, "wb") as f:
                for _ in range(max(1, round(mb * 1e6 / len(block)))):
                    f.write(block)
            plain = _timed_command([*_csi_edge(), "decode", str(path)])
            out = _timed_command([*_csi_edge(), "decode", str(path), "--out", str(path.with_suffix(".npz"))])
            size = path.stat().st_size / 1e6
            print(f"{size:>7.0f} MB {plain[0]:>8.1f}s {plain[1] / 1024:>7.0f} MB {out[0]:>7.1f}s {out[1] / 1024:>7.0f} MB")
            path.unlink()
            path.with_suffix(".npz").unlink()


_CSIREAD = "import csiread, sys; d = csiread.ESP32(sys.argv[1], if_report=False); d.read()"


def commands(args) -> None:
    from csi_edge.tools.bench.decode import write_inputs

    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        path = Path(args.csi_tool) if args.csi_tool else write_inputs(Path(tmp), args.rows)["csi-tool"]
        runs = {
            "csi-edge decode": [*_csi_edge(), "decode", str(path)],
            "csiread": [sys.executable, "-c", _CSIREAD, str(path)],
        }
        results = {}
        for name, argv in runs.items():
            with tempfile.TemporaryDirectory() as cache:  # no bytecode cache: a first run
                cold = _timed_command(argv, dict(os.environ, PYTHONPYCACHEPREFIX=cache))[0]
            warm = min(_timed_command(argv)[0] for _ in range(max(1, args.repeat)))
            results[name] = (cold, warm)
        size_mb = path.stat().st_size / 1e6
    print(f"whole commands, process start to exit, on one ESP32-CSI-Tool file ({size_mb:.0f} MB)")
    print(f"{'command':<18} {'cold s':>7} {'warm s':>7}")
    for name, (cold, warm) in results.items():
        print(f"{name:<18} {cold:>7.2f} {warm:>7.2f}")
    (oc, ow), (tc, tw) = results["csi-edge decode"], results["csiread"]
    print(f"csi-edge decode is {tc / oc:.2f}x csiread cold, {tw / ow:.2f}x warm")
    if args.plot:
        plot_path = str(Path(args.plot).with_name(Path(args.plot).stem + "-commands.png"))
        _plot_commands(plot_path, results, size_mb)
        print(f"plot: {plot_path}")


def _plot_commands(path: str, results: dict[str, tuple[float, float]], size_mb: float) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(results)
    y = np.arange(len(names))
    fig, ax = plt.subplots(figsize=(7.0, 2.6))
    for offset, k, label, colour in ((-0.2, 0, "cold (first run after install)", "#c63"), (0.2, 1, "warm", "#2a7")):
        secs = [results[name][k] for name in names]
        ax.barh(y + offset, secs, height=0.38, label=label, color=colour)
        for yy, v in zip(y + offset, secs, strict=True):
            ax.text(v, yy, f" {v:.2f} s", va="center", fontsize=8)
    ax.set_yticks(y, names)
    ax.set_xlabel(f"seconds, process start to exit ({size_mb:.0f} MB ESP32-CSI-Tool file)")
    ax.set_xlim(0, ax.get_xlim()[1] * 1.15)
    ax.legend(loc="lower right", fontsize=8, frameon=False)
    save(fig, path)
