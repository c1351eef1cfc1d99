"""Compare the simulator with real ESP32 recordings: numbers on stdout, plots in docs/img/.

    python -m csi_edge.tools.sim.compare_real [--seconds 60] [--real DIR] [--img DIR]

Both sides go through the project's one decoder (`csi_edge.decoder.decode_bytes`; the
simulator's protocol-v1 bytes, the real files' text) and the one feature (`features.amplitude`,
52 L-LTF subcarriers), so the comparison is of what a model would see. Metrics per recording:

- amplitude level: mean, 1st and 99th percentile (int8 units after the radio's AGC);
- spread across subcarriers: std of the per-subcarrier mean amplitude / overall mean
  (frequency selectivity of the static channel);
- temporal variation: mean over subcarriers of std/mean over time (`temporal_cv`), split into
  the per-packet scale (`scale_cv`: the cv of each packet's mean amplitude: AGC steps) and the
  shape (`shape_cv`: the cv after dividing each packet by its mean amplitude);
- temporal autocorrelation of the amplitude (mean over subcarriers) at lags of 1, 10, 50
  packets;
- packet intervals between consecutive received packets (ms): median, std, 5th/95th pct;
- loss: from timing gaps (an interval of ~k periods, minus 0.4 period of slack for jitter,
  means k - 1 lost packets; checked on the simulator, whose true loss is known) for
  every recording, and from the TX sequence numbers for the simulator;
- the effect of motion: temporal_cv of motion over that of the static/empty recording.

Real side: mendelas-hand (ESP32, 100 Hz: E00 static vs E02 hand waving, 60 and 140 cm),
esp32-csi-tool-s3 (ESP32-S3, ~10 Hz: empty_01 vs hand_01), esp-csi-s3 (ESP32-S3 HT40 below,
~100 Hz, a static link: los/nlos). Simulated: day 1 empty / walking / sitting / lying, and
day 3 empty (furniture moved).
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from csi_edge.decoder import decode_bytes
from csi_edge.features import amplitude
from csi_edge.frames import FrameBatch

REPO = Path(__file__).resolve().parents[2]
REAL = REPO / ".." / "shared" / "data" / "real"
IMG = REPO / "docs" / "img"

REAL_FILES = {  # name -> (relative path, group)
    "mendelas 140cm static": ("mendelas-hand/E00_static_15s_140cm_trial01.csv", "static"),
    "mendelas 140cm waving": ("mendelas-hand/E02_hand_waving_140cm_trial01.csv", "motion"),
    "mendelas 60cm static": ("mendelas-hand/E00_static_15s_60cm_trial01.csv", "static"),
    "mendelas 60cm waving": ("mendelas-hand/E02_hand_waving_60cm_trial01.csv", "motion"),
    "tool-s3 empty": ("esp32-csi-tool-s3/empty_01.csv", "static"),
    "tool-s3 hand": ("esp32-csi-tool-s3/hand_01.csv", "motion"),
    "esp-csi-s3 los": ("esp-csi-s3/los_session01.csv", "static"),
    "esp-csi-s3 nlos": ("esp-csi-s3/nlos_session01.csv", "static"),
}
MOTION_PAIRS = (
    ("mendelas 140cm static", "mendelas 140cm waving"),
    ("mendelas 60cm static", "mendelas 60cm waving"),
    ("tool-s3 empty", "tool-s3 hand"),
    ("sim empty", "sim walking"),
    ("sim empty", "sim sitting"),
    ("sim empty", "sim lying"),
)
LAGS = (1, 10, 50)


@dataclass(frozen=True)
class Series:
    name: str
    source: str  # "real" or "sim"
    group: str  # "static" or "motion"
    amp: np.ndarray  # (N, 52) float32
    timestamp_us: np.ndarray  # (N,)
    seq: np.ndarray  # (N,), -1 when the format has none


def _series(name: str, source: str, group: str, frames: FrameBatch) -> Series:
    amp, valid = amplitude(frames)
    meta = frames.meta[valid]
    return Series(name, source, group, amp[valid], meta["timestamp_us"].astype(np.int64), meta["seq"].astype(np.int64))


def load_real(root: Path) -> list[Series]:
    out = []
    for name, (rel, group) in REAL_FILES.items():
        path = root / rel
        if path.exists():
            decoded, _ = decode_bytes(path.read_bytes())
            out.append(_series(name, "real", group, decoded.frames))
    return out


def load_sim(seconds: float) -> list[Series]:
    from csi_edge.tools.sim.simulator import simulate

    runs = [("sim empty", 1, "empty", "static"), ("sim walking", 1, "walking", "motion"),
            ("sim sitting", 1, "sitting", "motion"), ("sim lying", 1, "lying", "motion"),
            ("sim day3 empty", 3, "empty", "static")]  # fmt: skip
    out = []
    for name, day, activity, group in runs:
        decoded, decoder = decode_bytes(simulate(seconds, day=day, activity=activity, seed=0).to_v1())
        assert not decoder.errors, decoder.errors
        out.append(_series(name, "sim", group, decoded.frames))
    return out


def autocorrelation(amp: np.ndarray, max_lag: int) -> np.ndarray:
    """Mean over subcarriers of the normalised autocorrelation at lags 0..max_lag (packets)."""
    x = amp - amp.mean(axis=0)
    var = np.sum(x * x, axis=0)
    keep = var > 0
    x, var = x[:, keep], var[keep]
    lags = np.arange(min(max_lag, len(x) - 2) + 1)
    return np.array([np.mean(np.sum(x[: len(x) - k] * x[k:], axis=0) / var) for k in lags])


def intervals_ms(s: Series) -> np.ndarray:
    """Intervals between consecutive received packets (where seq says they are consecutive)."""
    d = np.diff(s.timestamp_us) / 1000.0
    if np.all(s.seq >= 0):
        d = d[np.diff(s.seq) == 1]
    return d[d > 0]


def metrics(s: Series) -> dict:
    a = s.amp
    mean_sc = a.mean(axis=0)
    scale = a.mean(axis=1)
    shape = a / scale[:, None]
    ac = autocorrelation(a, max(LAGS))
    iv = intervals_ms(s)
    m = {
        "packets": len(a),
        "mean": float(a.mean()),
        "p1": float(np.percentile(a, 1)),
        "p99": float(np.percentile(a, 99)),
        "spread_sc": float(mean_sc.std() / a.mean()),
        "temporal_cv": float(np.mean(a.std(axis=0) / mean_sc)),
        "scale_cv": float(scale.std() / scale.mean()),
        "shape_cv": float(np.mean(shape.std(axis=0) / shape.mean(axis=0))),
        "interval_median_ms": float(np.median(iv)),
        "interval_std_ms": float(iv.std()),
        "interval_p5_ms": float(np.percentile(iv, 5)),
        "interval_p95_ms": float(np.percentile(iv, 95)),
    }
    for lag in LAGS:
        m[f"ac{lag}"] = float(ac[lag]) if lag < len(ac) else float("nan")
    # an interval of ~k nominal periods hides k - 1 lost packets; 0.4 period of slack for jitter
    period = m["interval_median_ms"]
    slots = np.rint(np.diff(s.timestamp_us) / 1000.0 / period - 0.4).clip(min=1)
    m["loss_timing_pct"] = 100.0 * float(np.sum(slots - 1) / np.sum(slots))
    if s.source == "sim":  # esp-csi's id column is a receive counter, so only the sim has TX seq
        span = int(s.seq[-1] - s.seq[0] + 1)
        m["loss_seq_pct"] = 100.0 * (span - len(s.seq)) / span
    return m


def print_tables(series: list[Series], table: dict[str, dict]) -> None:
    cols = ("packets", "mean", "p1", "p99", "spread_sc", "temporal_cv", "scale_cv", "shape_cv", "ac1", "ac10", "ac50",
            "interval_median_ms", "interval_std_ms", "interval_p5_ms", "interval_p95_ms")  # fmt: skip
    print("| recording | " + " | ".join(cols) + " |")
    print("|---" * (len(cols) + 1) + "|")
    for s in series:
        m = table[s.name]
        cells = [f"{m[c]:.0f}" if c == "packets" else f"{m[c]:.3g}" for c in cols]
        print(f"| {s.name} | " + " | ".join(cells) + " |")
    print()
    print("| static | motion | temporal_cv ratio | shape_cv ratio |")
    print("|---|---|---|---|")
    for a, b in MOTION_PAIRS:
        if a in table and b in table:
            r1 = table[b]["temporal_cv"] / table[a]["temporal_cv"]
            r2 = table[b]["shape_cv"] / table[a]["shape_cv"]
            print(f"| {a} | {b} | {r1:.2f} | {r2:.2f} |")
    print("\n| recording | loss from timing gaps (%) | loss from seq (%) |")
    print("|---|---|---|")
    for s in series:
        m = table[s.name]
        seq_loss = f"{m['loss_seq_pct']:.2f}" if "loss_seq_pct" in m else "-"
        print(f"| {s.name} | {m['loss_timing_pct']:.2f} | {seq_loss} |")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m csi_edge.tools.sim.compare_real", description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="simulated seconds per activity (default 60)")
    parser.add_argument("--real", type=Path, default=REAL, help=f"real recordings folder (default {REAL})")
    parser.add_argument("--img", type=Path, default=IMG, help=f"where the PNGs go (default {IMG})")
    args = parser.parse_args(argv)
    real = load_real(args.real)
    if not real:
        print(f"compare_real: no real recordings under {args.real}", file=sys.stderr)
        return 1
    series = real + load_sim(args.seconds)
    table = {s.name: metrics(s) for s in series}
    print_tables(series, table)
    from csi_edge.tools.sim.compare_plots import plot_all

    for path in plot_all(series, table, args.img):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
