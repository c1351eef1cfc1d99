"""`csi-edge bench drift`: the drift score and its alarm on the simulator (docs/calibration.md).

A day-1 empty-room baseline (recorded by `csi-edge calibrate`'s code from a separate stream,
seed 4242) is held against simulated streams fed through the daemon's own `Pipeline`
(decoder, window ring, `LinkCalibration`, the model), as fast as they are generated:

- `day1-mixed`: 10 minutes of day 1 (same room), activities mixed (empty, walking, sitting, lying);
- `day2-mixed`: 10 minutes of day 2 (furniture nudged, another execution);
- `day3-mixed`: 10 minutes of day 3 (furniture moved), activities mixed;
- `day3-empty`: 3 minutes of day 3, nobody in the room.

Per stream: the drift (dB) after every chunk (0.1 s of stream), the stream time of the first
alarm, the time the room first was quiet, the drift's percentiles; plots of the drift over time
(`drift_over_time.png`) and of its distribution (`drift_hist.png`) in `--plots DIR`.
`--real` adds the shared real recordings (mendelas-hand: each file against the first 5 s of
the trial01 empty-room file at its distance).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

STREAMS = {"day1-mixed": (1, "mixed", 600.0), "day2-mixed": (2, "mixed", 600.0), "day3-mixed": (3, "mixed", 600.0),
           "day3-empty": (3, "empty", 180.0)}  # fmt: skip
REAL = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "real" / "mendelas-hand"


def add_arguments(p) -> None:
    p.add_argument("--model", help="model package (default: models/default); the drift does not depend on it")
    p.add_argument("--streams", default=",".join(STREAMS), help=f"comma-separated, of {', '.join(STREAMS)}")
    p.add_argument("--seed", type=int, default=1, help="simulator seed of the streams (default 1)")
    p.add_argument("--plots", metavar="DIR", help="write drift_over_time.png and drift_hist.png here")
    p.add_argument("--real", action="store_true", help="also the real recordings (mendelas-hand)")
    p.add_argument("--json", action="store_true", help="print one JSON object")


def _pipeline(model_path, baseline_path: Path, sets: dict):
    from csi_edge.config import load_config
    from csi_edge.daemon import load_model
    from csi_edge.pipeline import Pipeline

    cfg = load_config(None, {"calibration.baseline": str(baseline_path), "mqtt.enabled": False,
                             **({"model.path": str(model_path)} if model_path else {}), **sets})
    return Pipeline(cfg, load_model(cfg), "bench")


def run_stream(model_path, baseline_path: Path, day: int, activity: str, seconds: float, seed: int) -> dict:
    """Feed one simulated stream through the pipeline; the drift trace and the alarm time."""
    from csi_edge.tools.sim import stream

    pipe = _pipeline(model_path, baseline_path, {})
    t, drift, alarm, truth_act = [], [], [], []
    packets = 0
    for data, truth in stream(day=day, activity=activity, seed=seed, realtime=False, seconds=seconds):
        pipe.feed(data, packets / 100.0)
        packets += len(truth)
        calib = pipe.calibration
        assert calib is not None and calib.drift is not None
        t.append(packets / 100.0)
        drift.append(np.nan if calib.drift.drift_dB is None else calib.drift.drift_dB)
        alarm.append(calib.drift.alarm)
        truth_act.append(int(truth["activity"][-1]) if len(truth) else -1)
    d = np.asarray(drift)
    first = next((ti for ti, a in zip(t, alarm, strict=True) if a), None)
    quiet = next((ti for ti, v in zip(t, d, strict=True) if np.isfinite(v)), None)
    finite = d[np.isfinite(d)]
    summary = {"seconds": seconds, "alarm_at_s": first, "first_quiet_s": quiet, "alarm_end": alarm[-1] if alarm else False,
               "quiet_s": round(pipe.calibration.drift.quiet_s, 1) if pipe.calibration and pipe.calibration.drift else 0.0}
    if len(finite):
        summary.update({f"drift_p{q}_dB": round(float(np.percentile(finite, q)), 3) for q in (5, 50, 95)})
        summary["drift_max_dB"] = round(float(finite.max()), 3)
    return {"summary": summary, "t": t, "drift": d.tolist(), "alarm": alarm, "activity": truth_act}


def run_real(model_path, workdir: Path) -> dict:
    """Each real recording against the trial01 empty-room baseline (first 5 s) at its distance."""
    from csi_edge.calibration.cli import record
    from csi_edge.config import load_config

    cfg = load_config(None, {"source.replay_realtime": False})
    out = {}
    for dist in ("60cm", "140cm"):
        base = record(cfg, f"replay:{REAL / f'E00_static_15s_{dist}_trial01.csv'}", 5.0, 351, 10, progress=False)
        path = workdir / f"real_{dist}.json"
        base.save(path)
        for f in sorted(REAL.glob(f"*_{dist}_trial0*.csv")):
            pipe = _pipeline(model_path, path, {"source.replay_realtime": False, "calibration.drift_hold_s": 0.0})
            pipe.feed(f.read_bytes(), 0.0)
            pipe.finish(0.0)
            d = pipe.calibration.drift if pipe.calibration else None
            out[f.stem] = {"drift_dB": None if d is None or d.drift_dB is None else round(d.drift_dB, 3),
                           "quiet_s": None if d is None else round(d.quiet_s, 1)}
    return out


def run(args) -> int:
    import tempfile

    from csi_edge.calibration.cli import record
    from csi_edge.config import load_config

    names = [s for s in args.streams.split(",") if s]
    unknown = [s for s in names if s not in STREAMS]
    if unknown:
        from csi_edge.errors import UsageError

        raise UsageError(f"--streams: unknown {unknown[0]!r} (known: {', '.join(STREAMS)})")
    with tempfile.TemporaryDirectory() as tmp:
        cfg = load_config(None, {"sim.day": 1, "sim.activity": "empty", "sim.seed": 4242, "sim.realtime": False})
        baseline = record(cfg, "sim", 60.0, 351, 10, progress=not args.json)
        path = Path(tmp) / "day1.json"
        baseline.save(path)
        traces = {}
        for name in names:
            day, activity, seconds = STREAMS[name]
            traces[name] = run_stream(args.model, path, day, activity, seconds, args.seed)
            if not args.json:
                print(f"{name}: {json.dumps(traces[name]['summary'])}", file=sys.stderr)
        real = run_real(args.model, Path(tmp)) if args.real else None
    result = {"baseline": {"null_drift_dB": baseline.null_drift_dB, "motion": baseline.motion},
              "streams": {k: v["summary"] for k, v in traces.items()}, **({"real": real} if real else {})}
    if args.plots:
        plot(traces, Path(args.plots))
    print(json.dumps(result, indent=None if args.json else 1))
    return 0


def plot(traces: dict, out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from csi_edge.config import CalibrationConfig

    c = CalibrationConfig()
    out.mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(figsize=(9, 4))
    for name, tr in traces.items():
        (line,) = ax.plot(tr["t"], tr["drift"], label=name, lw=1.2)
        s = tr["summary"]
        if s["alarm_at_s"] is not None:
            ax.axvline(s["alarm_at_s"], color=line.get_color(), ls=":", lw=1)
    ax.axhline(c.drift_alarm_dB, color="red", ls="--", lw=0.8, label=f"alarm {c.drift_alarm_dB} dB")
    ax.axhline(c.drift_clear_dB, color="green", ls="--", lw=0.8, label=f"clear {c.drift_clear_dB} dB")
    ax.set(xlabel="stream time, s", ylabel="drift, dB (quiet-room profile vs day-1 baseline)",
           title="Drift score over time (dotted: alarm raised)")
    ax.legend(fontsize=8, ncol=2)
    fig.tight_layout()
    fig.savefig(out / "calibration_drift_over_time.png", dpi=110)
    plt.close(fig)
    fig, ax = plt.subplots(figsize=(7, 3.5))
    bins = np.linspace(0, max(5.0, max(np.nanmax(tr["drift"]) if np.isfinite(tr["drift"]).any() else 0 for tr in traces.values())), 60)
    for name, tr in traces.items():
        d = np.asarray(tr["drift"])
        ax.hist(d[np.isfinite(d)], bins=bins, alpha=0.5, label=name, density=True)
    ax.axvline(c.drift_alarm_dB, color="red", ls="--", lw=0.8)
    ax.set(xlabel="drift, dB", ylabel="density", title="Distribution of the drift score (every 0.1 s of stream)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out / "calibration_drift_hist.png", dpi=110)
    plt.close(fig)
