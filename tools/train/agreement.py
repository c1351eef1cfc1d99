"""Live agreement, offline: what the daemon would report on simulated mixed runs vs the truth.

    python -m csi_edge.tools.train.agreement --model models/default [--days 1,2,3] [--seeds 0,1,2]
        [--seconds 300] [--segment-seconds 20,60] [--grid] [--json] [--plot PATH]

For each (day, seed) the simulator plays a `mixed` run (segments of all four activities, as in
`csi-edge sim --activity mixed` and the demo). Windows of the card's size are cut every `hop`
packets, the ONNX model scores them, and the daemon's own post-processing
(`csi_edge.model.postprocess.PostProcessor`: EMA smoothing of the probabilities, hysteresis)
turns them into reported activities, in order, exactly as `csi-edge run` does with the
configured `[model] smoothing` / `hysteresis`. Agreement = the share of results whose reported
activity equals the truth at the window's last packet (what the demo compares), with per-class
recall and the share outside transitions (windows whose packets all share one truth label).
`--grid` repeats the post-processing for a grid of smoothing / hysteresis values on the same
model outputs (the evidence for the daemon's defaults). Differences from a live run: windows
skip lost packets where the daemon interpolates short gaps (0.8 % loss).
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass

import numpy as np

from csi_edge.model.card import ACTIVITY
from csi_edge.model.postprocess import PostProcessor

GRID_SMOOTHING = (1.0, 0.5, 0.3, 0.2, 0.1, 0.05)
GRID_HYSTERESIS = (0.0, 0.1, 0.2, 0.3)


@dataclass(frozen=True)
class Scored:
    """Model outputs over one mixed run, in time order."""

    day: int
    seed: int
    logits: np.ndarray  # (M, C)
    truth: np.ndarray  # (M,) class index of each window's last packet
    pure: np.ndarray  # (M,) bool: every packet of the window has the same truth label


def score_runs(model: str, days, seeds, seconds: float, segment_s: tuple[float, float], progress: bool = True) -> tuple[tuple[str, ...], list[Scored]]:
    """Simulate the mixed runs and score every window with the ONNX model."""
    from tqdm import tqdm

    from csi_edge.model.card import load_card
    from csi_edge.tools.sim.recording import ACTIVITIES
    from csi_edge.tools.sim.simulator import simulate
    from csi_edge.tools.train.datasets import WindowSet
    from csi_edge.tools.train.evaluate import onnx_predict, ort_session
    from csi_edge.tools.train.specs import frames_recording

    card, onnx_path = load_card(model)
    session = ort_session(onnx_path)
    out = []
    for day, seed in tqdm([(d, s) for d in days for s in seeds], desc="mixed runs", unit="run", disable=not progress):
        rec = simulate(seconds, day=day, activity="mixed", seed=seed, segment_s=segment_s)
        labels = np.asarray(ACTIVITIES, dtype=object)[rec.labels]
        recording = frames_recording(rec.to_frames(), labels, f"d{day}", f"mixed day {day} seed {seed}", card.feature.name, rec.positions)
        ws = WindowSet([recording], card.window, card.hop, card.classes)
        logits, _ = onnx_predict(session, card, ws)
        codes = np.array([card.classes.index(str(v)) if str(v) in card.classes else -1 for v in recording.labels])
        spans = codes[ws.start[:, None] + np.arange(card.window)]
        out.append(Scored(day, seed, logits, ws.y, (spans == spans[:, :1]).all(axis=1)))
    return card.classes, out


def reported(scored: Scored, classes: tuple[str, ...], smoothing: float, hysteresis: float) -> np.ndarray:
    """(M,) class index the daemon reports for each window (fresh post-processor per run)."""
    post = PostProcessor(classes, smoothing=smoothing, hysteresis=hysteresis)
    results = post({ACTIVITY: scored.logits})
    return np.array([classes.index(r.activity) for r in results])


def agreement(runs: list[Scored], classes: tuple[str, ...], smoothing: float, hysteresis: float) -> dict:
    """Agreement per day (and `all`), per-class recall and agreement outside transitions."""
    per_day: dict[str, dict] = {}
    for key in sorted({f"d{r.day}" for r in runs}) + ["all"]:
        sel = [r for r in runs if key == "all" or f"d{r.day}" == key]
        pred = np.concatenate([reported(r, classes, smoothing, hysteresis) for r in sel])
        truth = np.concatenate([r.truth for r in sel])
        pure = np.concatenate([r.pure for r in sel])
        per_seed = [float(np.mean(reported(r, classes, smoothing, hysteresis) == r.truth)) for r in sel]
        per_day[key] = {
            "agreement": float(np.mean(pred == truth)),
            "agreement_std_over_runs": float(np.std(per_seed)),
            "agreement_outside_transitions": float(np.mean(pred[pure] == truth[pure])),
            "class_recall": {c: float(np.mean(pred[truth == i] == i)) for i, c in enumerate(classes) if np.any(truth == i)},
            "confusion": [[int(np.sum((truth == i) & (pred == j))) for j in range(len(classes))] for i in range(len(classes))],
            "n": int(len(truth)),
            "runs": len(sel),
        }
    return per_day


def grid(runs: list[Scored], classes: tuple[str, ...]) -> list[dict]:
    rows = []
    for s in GRID_SMOOTHING:
        for h in GRID_HYSTERESIS:
            res = agreement(runs, classes, s, h)
            rows.append({"smoothing": s, "hysteresis": h, **{k: round(v["agreement"], 4) for k, v in res.items()}})
    return rows


def _floats(text: str, name: str) -> tuple[float, ...]:
    try:
        return tuple(float(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise SystemExit(f"agreement: --{name} takes comma-separated numbers (got {text!r})") from None


def main(argv: list[str] | None = None) -> int:
    from csi_edge.config import ModelConfig

    defaults = ModelConfig()
    ap = argparse.ArgumentParser(prog="python -m csi_edge.tools.train.agreement", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    ap.add_argument("--model", default="models/default", help="models/NAME (default models/default)")
    ap.add_argument("--days", default="1,2,3", help="simulated days (default 1,2,3)")
    ap.add_argument("--seeds", default="0,1,2", help="simulator seeds, one mixed run each (default 0,1,2)")
    ap.add_argument("--seconds", type=float, default=300.0, help="length of each run (default 300)")
    ap.add_argument("--segment-seconds", default="20,60", help="mixed segment length range (default 20,60: the simulator's)")
    ap.add_argument("--smoothing", type=float, default=defaults.smoothing, help=f"EMA weight of the newest result (default {defaults.smoothing}, the daemon's)")
    ap.add_argument("--hysteresis", type=float, default=defaults.hysteresis, help=f"switch margin (default {defaults.hysteresis}, the daemon's)")
    ap.add_argument("--grid", action="store_true", help="also try a grid of smoothing / hysteresis values")
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    ap.add_argument("--plot", help="write the agreement grid (with --grid) as a PNG here")
    args = ap.parse_args(argv)
    seg = _floats(args.segment_seconds, "segment-seconds")
    seg = (seg[0], seg[-1])
    days = [int(d) for d in _floats(args.days, "days")]
    seeds = [int(s) for s in _floats(args.seeds, "seeds")]
    classes, runs = score_runs(args.model, days, seeds, args.seconds, seg, progress=not args.json)
    result = {"model": args.model, "smoothing": args.smoothing, "hysteresis": args.hysteresis, "seconds": args.seconds,
              "segment_seconds": list(seg), "seeds": seeds, "classes": list(classes),
              "days": agreement(runs, classes, args.smoothing, args.hysteresis)}  # fmt: skip
    if args.grid:
        result["grid"] = grid(runs, classes)
        if args.plot:
            from csi_edge.tools.train.plots import agreement_grid_png

            agreement_grid_png(result["grid"], args.plot, f"{args.model}: live agreement (offline)")
    if args.json:
        json.dump(result, sys.stdout)
        sys.stdout.write("\n")
        return 0
    print(f"{args.model}: smoothing {args.smoothing}, hysteresis {args.hysteresis}; {len(seeds)} mixed run(s) of {args.seconds:.0f} s per day")
    for key, m in result["days"].items():
        recall = ", ".join(f"{c} {100 * v:.0f}" for c, v in m["class_recall"].items())
        print(f"  {key}: agreement {100 * m['agreement']:.1f} % (outside transitions {100 * m['agreement_outside_transitions']:.1f} %); "
              f"recall % {recall}; n={m['n']}")
    for row in result.get("grid", []):
        cells = ", ".join(f"{k} {100 * v:.1f}" for k, v in row.items() if k not in ("smoothing", "hysteresis"))
        print(f"  smoothing {row['smoothing']:<5} hysteresis {row['hysteresis']:<4}: {cells}")
    return 0


def cli(argv: list[str] | None = None) -> int:
    from csi_edge.errors import CsiEdgeError

    try:
        return main(argv)
    except CsiEdgeError as exc:
        print(f"agreement: error: {exc}", file=sys.stderr)
        return exc.exit_code


if __name__ == "__main__":
    raise SystemExit(cli())
