"""Decoder throughput on one core: v1 binary, esp-csi text and ESP32-CSI-Tool CSV, vs csiread.

Inputs (100,000 rows by default, written to --dir or a temporary folder, or given with --v1 /
--esp-csi / --csi-tool):

- v1: protocol-v1 CSI frames, 128 CSI bytes each (L-LTF, the firmware's default), random values;
- esp-csi: espressif esp-csi rows cycled from the real `esp-csi-s3` recordings (384 values,
  quoted, comma separated), and the same rows cut to their first 128 values (`len` 128);
- csi-tool: ESP32-CSI-Tool rows cycled from the real `mendelas-hand` recordings (128 values,
  space separated), without a header line so that csiread can read the same file.
  Without ../shared/data/real the text rows are synthetic with the same shapes.

Each decoder reads the whole file from disk (ours through `csi_edge.importers.load_log`, 1 MiB
chunks; csiread through `csiread.ESP32(...).read()`); the best of --repeat runs counts. csiread's
values are checked against ours before its time is reported. Text inputs are decoded twice: by
the default decoder (the compiled kernel of `decoder.text_fast` where it is built) and by the
numpy reference path (`<input> numpy`, as with CSI_EDGE_NO_KERNEL=1).

--flood, --memory and --commands run the other decoder benchmarks instead (`decode_stress`):
hostile inputs, peak memory of whole commands, and whole commands cold and warm vs csiread.
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

import numpy as np

from csi_edge.tools.bench.figure import save

REAL = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "real"


def add_arguments(parser) -> None:
    parser.add_argument("--rows", type=int, default=100_000, help="rows per generated file (default 100000)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per decoder; the best counts (default 3)")
    parser.add_argument("--dir", metavar="DIR", help="write the generated files here (default: a temporary folder)")
    parser.add_argument("--v1", metavar="PATH", help="use this v1 binary file instead of generating one")
    parser.add_argument("--esp-csi", metavar="PATH", help="use this esp-csi text file instead of generating one")
    parser.add_argument("--csi-tool", metavar="PATH", help="use this ESP32-CSI-Tool CSV (no header) instead")
    parser.add_argument("--no-csiread", action="store_true", help="skip the csiread comparison")
    parser.add_argument("--plot", metavar="PNG", default="bench-decode.png", help="bar chart (default bench-decode.png; '' for none)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    from csi_edge.tools.bench import decode_stress

    decode_stress.add_arguments(parser)


def real_rows(folder: str, marker: bytes = b"CSI_DATA,") -> list[bytes]:
    rows: list[bytes] = []
    for path in sorted((REAL / folder).glob("*.csv")) if (REAL / folder).is_dir() else []:
        rows += [line.rstrip(b"\r") for line in path.read_bytes().split(b"\n") if line.startswith(marker)]
    return rows


def synthetic_text(kind: str, n: int, values: int) -> list[bytes]:
    rng = np.random.default_rng(1)
    rows = []
    for i in range(min(n, 512)):
        data = rng.integers(-40, 40, values).tolist()
        if kind == "esp-csi":
            rows.append(f'CSI_DATA,{i},1a:00:00:00:00:00,-40,11,1,0,1,1,1,0,0,0,1,-95,0,11,2,{1000 * i},0,44,0,'
                        f'{values},0,"[{",".join(map(str, data))}]"'.encode())  # fmt: skip
        else:
            rows.append(f"CSI_DATA,AP,48:E7:29:89:3A:50,-31,11,1,4,1,1,1,1,0,0,0,-90,1,6,1,{1000 * i},0,84,0,0,"
                        f"{i / 100:.3f},384,[{' '.join(map(str, data))} ]".encode())  # fmt: skip
    return rows


def cut_esp_csi(row: bytes, values: int) -> bytes:
    """An esp-csi row with only its first `values` CSI values (and `len` saying so)."""
    head, _, rest = row.partition(b'"[')
    fields = head.split(b",")
    fields[-3] = str(values).encode()
    data = rest.split(b"]")[0].split(b",")[:values]
    return b",".join(fields) + b'"[' + b",".join(data) + b']"'


def write_inputs(folder: Path, n: int) -> dict[str, Path]:
    from csi_edge import protocol as p

    rng = np.random.default_rng(0)
    header = np.zeros(n, dtype=p.CSI_HEADER_DTYPE)
    header["seq"] = np.arange(n)
    header["timestamp_us"] = np.arange(n) * 10_000
    header["rssi"], header["channel"], header["secondary_channel"], header["csi_len"] = -40, 6, 2, 128
    paths = {"v1": folder / "bench-v1.bin"}
    paths["v1"].write_bytes(p.encode_csi_batch(header, rng.integers(-40, 40, (n, 128)).astype(np.int8)))
    esp = real_rows("esp-csi-s3") or synthetic_text("esp-csi", n, 384)
    tool = real_rows("mendelas-hand") or synthetic_text("csi-tool", n, 128)
    texts = {"esp-csi-384": esp, "esp-csi-128": [cut_esp_csi(r, 128) for r in esp], "csi-tool": tool}
    for name, rows in texts.items():
        paths[name] = folder / f"bench-{name}.csv"
        paths[name].write_bytes(b"\n".join(rows[i % len(rows)] for i in range(n)) + b"\n")
    return paths


def best_of(repeat: int, fn) -> tuple[float, float, object]:
    """Best wall-clock and best CPU seconds of `repeat` runs (CPU time is what counts on a
    shared machine: other processes stretch wall time, not this process's CPU time)."""
    best, best_cpu, result = float("inf"), float("inf"), None
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        result = fn()
        best = min(best, time.perf_counter() - t0)
        best_cpu = min(best_cpu, time.process_time() - c0)
    return best, best_cpu, result


def _timed(path: Path, repeat: int, numpy_only: bool) -> dict:
    from csi_edge.decoder import text_kernel
    from csi_edge.importers import load_log

    saved = text_kernel.KERNEL
    if numpy_only:
        text_kernel.KERNEL = None  # decoders made now take the numpy path
    try:
        seconds, cpu, imported = best_of(repeat, lambda: load_log(path))
    finally:
        text_kernel.KERNEL = saved
    rows = len(imported.frames)
    return {"rows": rows, "seconds": round(seconds, 4), "rows_per_s": round(rows / seconds),
            "rows_per_cpu_s": round(rows / cpu), "MB_per_s": round(path.stat().st_size / seconds / 1e6, 1),
            "errors": dict(imported.decoder.errors)}  # fmt: skip


def measure(paths: dict[str, Path], repeat: int, with_csiread: bool) -> dict:
    from csi_edge.decoder import text_fast
    from csi_edge.decoder.text_values import parse_csi_arrays
    from csi_edge.importers import load_log

    parse_csi_arrays([b"0"])  # build the lookup table outside the timing
    kernel = text_fast.available()
    results: dict = {}
    for name, path in paths.items():
        results[name] = _timed(path, repeat, numpy_only=False)
        if name != "v1" and kernel:
            results[f"{name} numpy"] = _timed(path, repeat, numpy_only=True)
    if with_csiread and "csi-tool" in paths:
        theirs = _csiread(paths["csi-tool"], repeat, load_log(paths["csi-tool"]).frames)
        results["csiread"] = theirs
        for key, name in (("", "csi-tool"), ("numpy_", "csi-tool numpy")):
            if name in results:
                results[f"{key}ratio_vs_csiread"] = round(results[name]["rows_per_s"] / theirs["rows_per_s"], 2)
                results[f"{key}cpu_ratio_vs_csiread"] = round(results[name]["rows_per_cpu_s"] / theirs["rows_per_cpu_s"], 2)
    results["kernel"] = {"available": kernel}
    return results


def _csiread(path: Path, repeat: int, ours) -> dict:
    import csiread

    def read():
        data = csiread.ESP32(str(path), if_report=False)
        data.read()
        return data

    seconds, cpu, data = best_of(repeat, read)
    raw = ours.csi[:, :128].astype(np.float64)
    same = data.csi.shape[0] == len(ours) and np.array_equal(data.csi, raw[:, 1::2] + 1j * raw[:, 0::2])
    if not same:
        raise RuntimeError("csiread and csi-edge disagree on the CSI values of the benchmark file")
    rows = int(data.csi.shape[0])
    return {"rows": rows, "seconds": round(seconds, 4), "rows_per_s": round(rows / seconds), "rows_per_cpu_s": round(rows / cpu)}


def plot(path: str, results: dict) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [k for k, v in results.items() if isinstance(v, dict) and "rows_per_s" in v]
    y = np.arange(len(names))
    fig, ax = plt.subplots(figsize=(7.5, 4.0))
    for offset, key, label, colour in ((-0.2, "rows_per_s", "wall clock", "#2a7"), (0.2, "rows_per_cpu_s", "CPU time", "#58c")):
        rates = [results[k][key] / 1000 for k in names]
        ax.barh(y + offset, rates, height=0.38, label=label, color=colour)
        for yy, r in zip(y + offset, rates, strict=True):
            ax.text(r, yy, f" {r:,.0f}k", va="center", fontsize=8)
    ax.set_yticks(y, names)
    ax.set_xlabel("thousand rows (frames) per second, one thread")
    ax.set_title("csi-edge decoder throughput (csiread: same ESP32-CSI-Tool file)")
    ax.set_xlim(0, ax.get_xlim()[1] * 1.12)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2, frameon=False)
    save(fig, path)


def run(args) -> int:
    from csi_edge.tools.bench import decode_stress

    if decode_stress.wanted(args):
        return decode_stress.run(args)
    given = {"v1": args.v1, "esp-csi-384": args.esp_csi, "csi-tool": args.csi_tool}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(args.dir or tmp)
        folder.mkdir(parents=True, exist_ok=True)
        paths = write_inputs(folder, args.rows) if not all(given.values()) else {}
        paths.update({k: Path(v) for k, v in given.items() if v})
        results = measure(paths, args.repeat, not args.no_csiread)
    if args.plot:
        plot(args.plot, results)
    if args.json:
        print(json.dumps(results))
        return 0
    print(f"{'input':<18} {'rows':>8} {'best s':>8} {'rows/s':>10} {'rows/CPU-s':>11} {'MB/s':>7}  errors")
    for name, r in results.items():
        if isinstance(r, dict) and "rows" in r:
            print(f"{name:<18} {r['rows']:>8} {r['seconds']:>8.3f} {r['rows_per_s']:>10,} {r['rows_per_cpu_s']:>11,} "
                  f"{r.get('MB_per_s', ''):>7}  {r.get('errors', '')}")  # fmt: skip
    if "ratio_vs_csiread" in results:
        print(f"csi-tool / csiread: {results['ratio_vs_csiread']:.2f}x wall, {results['cpu_ratio_vs_csiread']:.2f}x CPU")
    if "numpy_ratio_vs_csiread" in results:
        print(f"csi-tool numpy / csiread: {results['numpy_ratio_vs_csiread']:.2f}x wall, "
              f"{results['numpy_cpu_ratio_vs_csiread']:.2f}x CPU")  # fmt: skip
    if not results["kernel"]["available"]:
        print("text kernel: not built (or CSI_EDGE_NO_KERNEL=1): numpy path only")
    if args.plot:
        print(f"plot: {args.plot}")
    return 0
