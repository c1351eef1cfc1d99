"""`csi-edge train`: train a joint activity + position model and export it as ONNX + card.

    csi-edge train --data SPEC [--data SPEC ...] [--val SPEC] [--test SPEC] --out models/NAME

Writes models/NAME.onnx, models/NAME.json (card with per-part test metrics) and models/NAME.pt
(best weights + last state; `--resume models/NAME.pt` continues an interrupted run).
`--seeds N` trains N seeds (seed, seed+1, ...) and prints mean +- std; the model of the first
seed is exported. `--ablation table2|table3|all` runs the paper's ablation tables instead
(see tools/train/ablation.py) and writes Markdown + CSV + plots into --out (a directory).
SPEC syntax: docs/training.md and tools/train/specs.py.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from csi_edge.errors import UsageError
from csi_edge.model.card import NOVELTY_SCORES, PER_WINDOW, RELATIVE, SCALERS, TRANSFORMS

SIM_NOTE = (
    "Trained on SIMULATED data (csi-edge's simulator benchmark), not on a real room. It shows the "
    "pipeline end to end; real deployments should train on captures from the real room "
    "(csi-edge capture, then csi-edge train --data session:DIR)."
)


def add_input_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("input definition (stored in the card)")
    g.add_argument("--window", type=int, default=351, help="packets per window (default 351 = 3.5 s at 100 Hz)")
    g.add_argument("--hop", type=int, default=10, help="packets between windows (default 10)")
    g.add_argument("--feature", default="amplitude", help="per-packet feature: amplitude (default), amplitude-3do, phase")
    g.add_argument("--transform", default="none", choices=TRANSFORMS, help="window transform: none (default), diff, psd")
    g.add_argument("--scaler", default="maxmin", choices=SCALERS, help="scaler fitted on training data (default maxmin)")
    g.add_argument("--scaler-stats", default="global", choices=("global", "subcarrier"), help="one statistic, or one per subcarrier")
    g.add_argument("--per-window", default="center-mean", choices=PER_WINDOW, help="per-window normalisation (default center-mean: chosen by cross-day validation, docs/training.md)")
    g.add_argument("--reduce", default="none", choices=("none", "pca", "ica", "umap"), help="dimensionality reduction over subcarriers (umap: not exportable)")
    g.add_argument("--dims", default="8", help="dimensions for --reduce (default 8); the ablation takes a list, e.g. 4,8,16")
    g.add_argument("--relative", default="none", choices=RELATIVE, help="baseline-relative features: db = amplitude in dB relative to "
                   "each part's empty-room baseline (needs --baseline PART=FILE; the daemon then needs --baseline)")


def add_calibration_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("calibration (docs/calibration.md)")
    g.add_argument("--no-adaptable", dest="adaptable", action="store_false", help="do not write NAME.adapt.onnx (the graph "
                   "the daemon's [calibration] adapt = batchnorm runs)")
    g.add_argument("--baseline", action="append", metavar="PART=FILE", help="empty-room baseline of a dataset part (day, "
                   "trial) from csi-edge calibrate, for --relative db (repeatable)")


def register(subparsers) -> None:
    p = subparsers.add_parser("train", help="train a model (ONNX + card) from sessions, 3DO, simulator or arrays", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", action="append", required=True, metavar="SPEC", help="training data (repeatable)")
    p.add_argument("--val", action="append", metavar="SPEC", help="validation data (cross-session); default: --val-split of --data")
    p.add_argument("--test", action="append", metavar="SPEC", help="test data; its per-part metrics go into the card")
    p.add_argument("--out", required=True, help="models/NAME (files NAME.onnx, NAME.json, NAME.pt); a directory with --ablation")
    p.add_argument("--label-regex", help="csi: SPECs: regex whose first group, matched on the file name, is the label")
    add_input_options(p)
    add_calibration_options(p)
    p.add_argument("--classes", default="", metavar="A,B,C", help="train on these labels only; windows of other labels are "
                   "unknown activities in test data (novelty AUROC)")
    p.add_argument("--novelty-score", default="energy", choices=NOVELTY_SCORES, help="novelty score calibrated on the validation "
                   "windows into the card (default energy)")
    g = p.add_argument_group("training")
    g.add_argument("--arch", default="compact", choices=("compact", "efficientnetv2s"))
    g.add_argument("--epochs", type=int, default=25)
    g.add_argument("--batch", type=int, default=32)
    g.add_argument("--lr", type=float, default=1e-3)
    g.add_argument("--weight-decay", type=float, default=1e-2)
    g.add_argument("--alpha", type=float, default=0.4, help="loss = MSE + alpha * CE (default 0.4)")
    g.add_argument("--seed", type=int, default=0)
    g.add_argument("--seeds", type=int, default=1, help="train this many seeds and report mean +- std")
    g.add_argument("--threads", type=int, default=2, help="torch threads (default 2)")
    g.add_argument("--epoch-windows", type=int, default=0, help="windows drawn per epoch (default: size of the training set)")
    g.add_argument("--no-balance", action="store_true", help="uniform instead of class-balanced sampling")
    g.add_argument("--val-split", type=float, default=0.2, help="random validation fraction of --data when no --val (default 0.2, the paper's 8:2)")
    g.add_argument("--augment", default="rotate", help="augmentations name[:p[:m]],... of scale, rotate, flip, drop-sub, drop-pkt; 'none' (default rotate)")
    g.add_argument("--symmetric", default="", help="comma-separated classes that may be flipped in time (default none)")
    g.add_argument("--tta", action="store_true", help="also report test-time BatchNorm adaptation (+tta keys)")
    g.add_argument("--resume", help="continue from a NAME.pt checkpoint")
    g.add_argument("--ablation", choices=("table2", "table3", "all"), help="run the paper's ablation tables into --out")
    g.add_argument("--ablation-rows", help="only these comma-separated rows of the ablation (e.g. A,A_mm,mmAUG)")
    g.add_argument("--notes", default="", help="free text for the card (default: a note on simulated data for sim: SPECs)")
    g.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=run)


def options_from(args):
    from csi_edge.tools.train.augment import parse_augment
    from csi_edge.tools.train.loop import TrainConfig
    from csi_edge.tools.train.run import Options

    for name in ("window", "hop", "epochs", "batch", "seeds", "threads"):
        if getattr(args, name) < 1:
            raise UsageError(f"--{name} must be >= 1 (got {getattr(args, name)})")
    if args.window < 2:
        raise UsageError("--window must be >= 2")
    if not 0 <= args.val_split < 1:
        raise UsageError(f"--val-split must be in [0, 1) (got {args.val_split})")
    from csi_edge.features import PACKET_FEATURES

    if args.feature not in PACKET_FEATURES:
        raise UsageError(f"--feature {args.feature!r} unknown (known: {', '.join(PACKET_FEATURES)})")
    try:
        dims = [int(d) for d in str(args.dims).split(",") if d.strip()]
    except ValueError:
        raise UsageError(f"--dims must be an integer or a comma-separated list (got {args.dims!r})") from None
    if not dims or (len(dims) > 1 and not args.ablation):
        raise UsageError("--dims takes one integer (a list only with --ablation)")
    args.dims_list = dims
    opts = Options(args.window, args.hop, args.feature, args.transform, args.scaler, args.scaler_stats, args.per_window, args.reduce, dims[0], args.val_split, args.tta,
                   classes=args.classes, relative=args.relative, novelty_score=args.novelty_score)
    cfg = TrainConfig(
        arch=args.arch, epochs=args.epochs, batch=args.batch, lr=args.lr, weight_decay=args.weight_decay, alpha=args.alpha,
        seed=args.seed, threads=args.threads, epoch_windows=args.epoch_windows, balanced=not args.no_balance,
        augment=parse_augment(args.augment), symmetric=tuple(s for s in args.symmetric.split(",") if s), progress=not args.no_progress,
    )
    return opts, cfg


def run(args) -> int:
    import dataclasses
    import sys

    from csi_edge.tools.train.run import card_for, load_data, run_once
    from csi_edge.tools.train.seeds import summarise

    if hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(line_buffering=True)  # epoch lines appear live in logs
    opts, cfg = options_from(args)
    if args.ablation:
        from csi_edge.tools.train.ablation import run_ablation

        return run_ablation(args, opts, cfg)
    if opts.reduce == "umap":
        raise UsageError("--reduce umap cannot be exported to ONNX (non-linear); use it in --ablation, or pca/ica")
    out = Path(args.out)
    if out.suffix in (".onnx", ".json"):
        out = out.with_suffix("")
    out.parent.mkdir(parents=True, exist_ok=True)
    from csi_edge.tools.train.calibration import parse_baselines

    data = load_data(args.data, args.val, args.test, opts, args.label_regex, args.seed, parse_baselines(args.baseline))
    print(f"train: {data.train.summary()}\nval: {data.val.summary()}")
    runs = []
    for k in range(args.seeds):
        seed_cfg = dataclasses.replace(cfg, seed=cfg.seed + k)
        ckpt = out.with_name(out.name + (".pt" if k == 0 else f".seed{seed_cfg.seed}.pt"))
        resume = Path(args.resume) if args.resume and k == 0 else None
        model, pipeline, result, parts = run_once(data, opts, seed_cfg, ckpt, resume, out.name)
        runs.append(parts)
        print(f"seed {seed_cfg.seed}: {result.seconds:.0f} s, {result.windows_per_s:.0f} windows/s, best epoch {result.best_epoch}")
        if k == 0:
            first = (model, pipeline, result, parts)
    model, pipeline, result, parts = first
    notes = args.notes or (SIM_NOTE if any(s.startswith("sim:") for s in args.data) else "")
    card = card_for(pipeline, opts, cfg, data, result, parts, args.arch, notes)
    if args.seeds > 1:
        card = dataclasses.replace(card, metrics={**card.metrics, "seeds": summarise(runs)})
    from csi_edge.tools.train.export import write_model

    card = write_model(model, card, out)
    if args.adaptable:
        from csi_edge.tools.train.bn_adapt import export_adaptable

        card = export_adaptable(model, card, out)  # NAME.adapt.onnx: BatchNorm adaptation in the daemon
        card.save(out.with_name(out.name + ".json"))
    _print_metrics(parts, summarise(runs) if args.seeds > 1 else None)
    print(f"wrote {out}.onnx and {out}.json ({card.model_id})")
    return 0


def _print_metrics(parts: dict, seeds: dict | None) -> None:
    for name, m in parts.items():
        rmse = f", rmse {m['rmse_m']:.3f} m" if "rmse_m" in m else ""
        rmse += f", novelty AUROC {m['novelty_auroc']:.3f} ({m['n_unknown']} unknown)" if "novelty_auroc" in m else ""
        print(f"  {name}: acc {m.get('accuracy', float('nan')):.3f}, f1 {m.get('f1_macro', float('nan')):.3f}{rmse} (n={m.get('n', 0)})")
    if seeds:
        print("over seeds (mean +- std):")
        print(json.dumps(seeds, indent=1))
