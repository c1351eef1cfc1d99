"""Cross-session benchmark of calibration, adaptation and novelty (docs/benchmarks.md#calibration-drift-novelty-and-adaptation-across-sessions).

    python -m csi_edge.tools.train.calibration_bench --out reports/calibration [--seeds 3] [--datasets sim,real]

Datasets (train on one session, test on the others):
- `sim`: the simulator's benchmark, day 1 -> days 2 (same room) and 3 (furniture moved); the
  baseline of each day is recorded with `csi-edge calibrate`'s code from a separate empty-room
  stream of that day (another seed), never from test data;
- `real`: shared/data/real/mendelas-hand, trial01 -> trial02, one part per distance and trial;
  the baseline of a part is the first 5 s of its empty-room (E00) file, and those seconds are
  cut from the test windows of every variant (so no test window overlaps its baseline).

Cross-session accuracy, per seed, of three input variants:
- `centre`: the shipped recipe (per-window centring, max-min, rotation);
- `none`: no per-window centring (absolute amplitudes);
- `relative`: amplitudes in dB relative to each part's baseline, no centring (calibrated);
  also evaluated with the *training* session's baseline on the test parts (`stale`: what happens
  without recalibration);
each evaluated plain, with the daemon's test-time adaptation (`+adapt-batchnorm`: BatchNorm
statistics averaged over the stream as the daemon does with the adaptable ONNX graph;
`+adapt-mean`, `+adapt-mean-std`: input statistics) and with
BatchNorm re-estimation on the whole test part at once (`+tta`, `eval --tta`, for comparison).

Novelty: leave one class out (train without it, test with all), the `centre` recipe; per
held-out class and seed: novelty AUROC (msp, energy), known-class accuracy, unknown rates.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

from csi_edge.config import load_config
from csi_edge.tools.train.bn_adapt import batchnorm_predict
from csi_edge.tools.train.calibration import adapted_predict, relative_recordings
from csi_edge.tools.train.datasets import Recording, WindowSet, classes_of, split_random
from csi_edge.tools.train.evaluate import per_part, strip_confusion
from csi_edge.tools.train.loop import TrainConfig, predict
from csi_edge.tools.train.novelty import open_set
from csi_edge.tools.train.run import Data, Options, run_once
from csi_edge.tools.train.specs import load_specs

REAL = (Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "real" / "mendelas-hand").resolve()
VARIANTS = {"centre": ("center-mean", "none"), "none": ("none", "none"), "relative": ("none", "db")}


@dataclass
class Setup:
    name: str
    train: list[Recording]
    test: list[Recording]
    baselines: dict  # part -> Baseline (each part's own)
    stale: dict  # test part -> the training session's Baseline
    trim: dict = field(default_factory=dict)  # recording source -> packets cut from its start (test only)
    heldout: tuple[str, ...] = ()


def _record_sim_baseline(day: int, seconds: float, seed: int):
    from csi_edge.calibration.cli import record

    cfg = load_config(None, {"sim.day": day, "sim.activity": "empty", "sim.seed": seed, "sim.realtime": False})
    return record(cfg, "sim", seconds, 351, 10, progress=False)


def sim_setup(seconds: float, sequences: int) -> Setup:
    spec = f"sim:days=%s&seconds={seconds:g}&sequences={sequences}"
    train, test = load_specs([spec % 1]), load_specs([spec % "2,3"])
    baselines = {f"d{d}": _record_sim_baseline(d, 60.0, 4242) for d in (1, 2, 3)}
    return Setup("sim", train, test, baselines, {p: baselines["d1"] for p in ("d2", "d3")},
                 heldout=("walking", "sitting", "lying"))


def real_setup(calib_s: float = 5.0) -> Setup:
    from csi_edge.calibration.cli import record

    rx = "(E0\\d)_"
    parts = "?part=(\\d\\d\\d?cm_trial0\\d)"  # no "+": the SPEC query is URL-decoded
    train = load_specs([f"csi:{REAL}/*trial01.csv{parts}"], label_regex=rx)
    test = load_specs([f"csi:{REAL}/*trial02.csv{parts}"], label_regex=rx)
    cfg = load_config(None, {"source.replay_realtime": False})
    baselines, trim = {}, {}
    for dist in ("60cm", "140cm"):
        for trial in ("trial01", "trial02"):
            path = REAL / f"E00_static_15s_{dist}_{trial}.csv"
            b = record(cfg, f"replay:{path}", calib_s, 351, 10, progress=False)
            baselines[f"{dist}_{trial}"] = b
            trim[str(path)] = b.packets
    stale = {f"{d}_trial02": baselines[f"{d}_trial01"] for d in ("60cm", "140cm")}
    return Setup("real", train, test, baselines, stale, trim, heldout=("E00", "E01", "E02"))


def _trimmed(recs: list[Recording], trim: dict) -> list[Recording]:
    out = []
    for r in recs:
        cut = trim.get(str(Path(r.source)), 0) or trim.get(r.source, 0)
        out.append(dataclasses.replace(r, features=r.features[cut:], labels=r.labels[cut:],
                                       positions=None if r.positions is None else r.positions[cut:]) if cut else r)
    return out


def make_data(train: list[Recording], test: list[Recording], classes: tuple[str, ...], seed: int) -> Data:
    ws, val = split_random(WindowSet(train, 351, 10, classes), 0.2, seed)
    test_ws = WindowSet(test, 351, 10, classes)
    summary = {"layouts": sorted({lay for r in train for lay in r.layouts}),
               "bandwidths_MHz": sorted({r.bandwidth for r in train if r.bandwidth})}
    return Data(ws, val, test_ws, summary, open_set(test, test_ws))


def _scores(parts: dict) -> dict:
    return {k: {m: v[m] for m in ("accuracy", "f1_macro", "n") if m in v} for k, v in strip_confusion(parts).items()}


def cross_session(setup: Setup, seeds: list[int], cfg: TrainConfig, out: Path) -> list[dict]:
    rows = []
    test_raw = _trimmed(setup.test, setup.trim)
    for variant, (per_window, relative) in VARIANTS.items():
        train = relative_recordings(setup.train, relative, setup.baselines)
        test = relative_recordings(test_raw, relative, setup.baselines)
        classes = classes_of(setup.train)
        for seed in seeds:
            t0 = time.perf_counter()
            opts = Options(per_window=per_window, relative=relative, tta=True)
            data = make_data(train, test, classes, seed)
            model, pipeline, result, parts = run_once(data, opts, dataclasses.replace(cfg, seed=seed), out / "tmp.pt")
            evals = {"plain": {k: v for k, v in parts.items() if not k.endswith("+tta")},
                     "+tta": {k[:-4]: v for k, v in parts.items() if k.endswith("+tta")}}
            evals["+adapt-batchnorm"] = per_part(data.test, *batchnorm_predict(model, pipeline, data.test))
            for mode in ("mean", "mean-std"):
                evals[f"+adapt-{mode}"] = per_part(data.test, *adapted_predict(_torch_runner(model), pipeline.card, data.test, mode=mode))
            if relative != "none":
                stale = relative_recordings(test_raw, relative, {**setup.baselines, **setup.stale})
                stale_ws = WindowSet(stale, 351, 10, classes)
                evals["stale"] = per_part(stale_ws, *predict(model, pipeline, stale_ws))
            for mode, res in evals.items():
                rows.append({"dataset": setup.name, "variant": variant, "eval": mode, "seed": seed, "parts": _scores(res)})
            print(f"{setup.name} {variant} seed {seed}: {time.perf_counter() - t0:.0f} s; " + ", ".join(
                f"{mode} {p} {m['accuracy']:.3f}" for mode, res in evals.items() for p, m in _scores(res).items() if "accuracy" in m),
                flush=True)  # fmt: skip
    return rows


def novelty_loo(setup: Setup, seeds: list[int], cfg: TrainConfig, out: Path) -> list[dict]:
    rows = []
    test = _trimmed(setup.test, setup.trim)
    labels = classes_of(setup.train)
    for held in setup.heldout:
        classes = tuple(c for c in labels if c != held)
        for seed in seeds:
            data = make_data(setup.train, test, classes, seed)
            _, _, _, parts = run_once(data, Options(per_window="center-mean"), dataclasses.replace(cfg, seed=seed), out / "tmp.pt")
            keep = ("accuracy", "f1_macro", "n", "n_unknown", "novelty_auroc_msp", "novelty_auroc_energy", "novelty_auroc_both",
                    "unknown_rate_known", "unknown_rate_unknown")
            rows.append({"dataset": setup.name, "heldout": held, "seed": seed,
                         "parts": {p: {k: m[k] for k in keep if k in m} for p, m in strip_confusion(parts).items()}})
            p = rows[-1]["parts"].get("all") or next(iter(rows[-1]["parts"].values()))
            print(f"{setup.name} without {held} seed {seed}: AUROC msp {p['novelty_auroc_msp']:.3f} energy "
                  f"{p['novelty_auroc_energy']:.3f} two-sided {p['novelty_auroc_both']:.3f}, known acc {p.get('accuracy', float('nan')):.3f}", flush=True)
    return rows


def _torch_runner(model):
    import torch

    def run(x):
        model.eval()
        with torch.no_grad():
            logits, pos = model(torch.from_numpy(x))
        return logits.numpy(), pos.numpy()

    return run


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", default="reports/calibration")
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--datasets", default="sim,real")
    p.add_argument("--parts", default="cross,novelty", help="cross (accuracy), novelty (leave one class out)")
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--epoch-windows", type=int, default=1024)
    p.add_argument("--sim-seconds", type=float, default=30.0)
    p.add_argument("--sim-sequences", type=int, default=2)
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    cfg = TrainConfig(epochs=args.epochs, epoch_windows=args.epoch_windows, threads=args.threads, progress=False,
                      log_epochs=False, augment=_rotate())
    seeds = list(range(args.seeds))
    results: dict = json.loads((out / "results.json").read_text()) if (out / "results.json").exists() else {}
    for name in args.datasets.split(","):
        setup = sim_setup(args.sim_seconds, args.sim_sequences) if name == "sim" else real_setup()
        results[f"{name}:baselines"] = {part: {"null_drift_dB": b.null_drift_dB, "windows": b.windows, "source": b.source}
                                        for part, b in setup.baselines.items()}
        if "cross" in args.parts:
            results[f"{name}:cross"] = cross_session(setup, seeds, cfg, out)
        if "novelty" in args.parts:
            results[f"{name}:novelty"] = novelty_loo(setup, seeds, cfg, out)
        (out / "results.json").write_text(json.dumps(results, indent=1))
    (out / "tmp.pt").unlink(missing_ok=True)
    return 0


def _rotate():
    from csi_edge.tools.train.augment import parse_augment

    return parse_augment("rotate")


if __name__ == "__main__":
    raise SystemExit(main())
