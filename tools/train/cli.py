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
from pathlib import Path

from csi_edge.errors import UsageError
from csi_edge.model.card import NOVELTY_SCORES, PER_WINDOW, RELATIVE, SCALERS, TRANSFORMS
from csi_edge.tools.train import ARCHS
from csi_edge.tools.train.seeds import fmt

# metric -> (scale, digits) for printing: percent or metres
SCALE = {"accuracy": (100, 1), "f1_macro": (100, 1), "rmse_m": (1, 2), "baseline_rmse_m": (1, 2)}

SIM_NOTE = (
    "Trained on SIMULATED data (csi-edge's simulator benchmark), not on a real room. It shows the "
    "pipeline end to end; real deployments should train on captures from the real room "
    "(csi-edge capture, then csi-edge train --data session:DIR)."
)


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """The module docstring as written, and every option's default (when it has one) in --help."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if action.default not in (None, False, "", argparse.SUPPRESS) and "%(default)" not in text:
            text += " (default: %(default)s)"
        return text


def add_input_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("input definition (stored in the card)")
    g.add_argument("--window", type=int, default=351, help="packets per window (351 = 3.5 s at 100 Hz)")
    g.add_argument("--hop", type=int, default=10, help="packets between windows")
    g.add_argument("--feature", default="amplitude", help="per-packet feature: amplitude, amplitude-3do, phase")
    g.add_argument("--transform", default="none", choices=TRANSFORMS, help="window transform")
    g.add_argument("--scaler", default="maxmin", choices=SCALERS, help="scaler fitted on training data")
    g.add_argument("--scaler-stats", default="global", choices=("global", "subcarrier"), help="one statistic, or one per subcarrier")
    g.add_argument("--per-window", default="center-mean", choices=PER_WINDOW, help="per-window normalisation (chosen by cross-day validation, docs/training.md)")
    g.add_argument("--reduce", default="none", choices=("none", "pca", "ica", "umap"), help="dimensionality reduction over subcarriers (umap: not exportable)")
    g.add_argument("--dims", default="8", help="dimensions for --reduce; the ablation takes a list, e.g. 4,8,16")
    g.add_argument("--relative", default="none", choices=RELATIVE, help="baseline-relative features: db = amplitude in dB relative to "
                   "each part's empty-room baseline (needs --baseline PART=FILE; the daemon then needs --baseline)")


def add_calibration_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("calibration (docs/calibration.md)")
    g.add_argument("--no-adaptable", dest="adaptable", action="store_false", help="do not write NAME.adapt.onnx (the graph "
                   "the daemon's [calibration] adapt = batchnorm runs)")
    g.add_argument("--baseline", action="append", metavar="PART=FILE", help="empty-room baseline of a dataset part (day, "
                   "trial) from csi-edge calibrate, for --relative db (repeatable)")


def register(subparsers) -> None:
    p = subparsers.add_parser("train", help="train a model (ONNX + card) from sessions, 3DO, simulator or arrays", description=__doc__, formatter_class=HelpFormatter)
    p.add_argument("--data", action="append", required=True, metavar="SPEC", help="training data (repeatable)")
    p.add_argument("--val", action="append", metavar="SPEC", help="validation data (cross-session); without it: --val-split of --data")
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
    g.add_argument("--arch", default="compact", choices=ARCHS, help="network")
    g.add_argument("--epochs", type=int, default=25, help="epochs (cosine annealing over them)")
    g.add_argument("--batch", type=int, default=32, help="windows per batch")
    g.add_argument("--lr", type=float, default=1e-3, help="AdamW learning rate")
    g.add_argument("--weight-decay", type=float, default=1e-2, help="AdamW weight decay")
    g.add_argument("--alpha", type=float, default=0.4, help="loss = MSE(position) + alpha * CE(class)")
    g.add_argument("--seed", type=int, default=0, help="random seed (data split, sampling, augmentation, weights)")
    g.add_argument("--seeds", type=int, default=1, help="train this many seeds and report mean +- std")
    g.add_argument("--threads", type=int, default=1, help="torch intra-op threads (more only on idle cores: 2 threads on 2 busy cores ran 14x slower)")
    g.add_argument("--epoch-windows", type=int, default=0, help="windows drawn per epoch (0: the size of the training set)")
    g.add_argument("--no-balance", action="store_true", help="uniform instead of class-balanced sampling")
    g.add_argument("--val-split", type=float, default=0.2, help="random validation fraction of --data when there is no --val (the paper's 8:2)")
    g.add_argument("--augment", default="rotate", help="augmentations name[:p[:m]],... of scale, rotate, flip, drop-sub, drop-pkt, shuffle-sub, or 'none'")
    g.add_argument("--symmetric", default="", help="comma-separated classes that may be flipped in time")
    g.add_argument("--tta", action="store_true", help="also report test-time BatchNorm adaptation (+tta keys)")
    g.add_argument("--resume", help="continue from a NAME.pt checkpoint")
    g.add_argument("--ablation", choices=("table2", "table3", "all"), help="run the paper's ablation tables into --out")
    g.add_argument("--ablation-rows", help="only these comma-separated rows of the ablation (e.g. A,A_mm,mmAUG)")
    g.add_argument("--notes", default="", help="free text for the card (empty: a note on simulated data for sim: SPECs)")
    g.add_argument("--no-progress", action="store_true", help="no progress bars")
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
    print(f"train: {describe(data.train.summary())}\nval:   {describe(data.val.summary())}")
    for line in data_warnings(data):
        print(f"warning: {line}", file=sys.stderr)
    runs = []
    for k in range(args.seeds):
        seed_cfg = dataclasses.replace(cfg, seed=cfg.seed + k)
        ckpt = out.with_name(out.name + (".pt" if k == 0 else f".seed{seed_cfg.seed}.pt"))
        resume = Path(args.resume) if args.resume and k == 0 else None
        run = run_once(data, opts, seed_cfg, ckpt, resume, out.name)
        runs.append(run.parts)
        print(f"seed {seed_cfg.seed}: {run.result.seconds:.0f} s, {run.result.windows_per_s:.0f} training windows/s "
              f"(data path {run.result.data_seconds:.1f} s of it), best epoch {run.result.best_epoch}; "
              f"{describe_skill(run.skill)}")
        if k == 0:
            first = run
    notes = args.notes or (SIM_NOTE if any(s.startswith("sim:") for s in args.data) else "")
    card = card_for(first, opts, cfg, data, args.arch, notes)
    if args.seeds > 1:
        card = dataclasses.replace(card, metrics={**card.metrics, "seeds": summarise(runs)})
    from csi_edge.tools.train.export import write_model

    card = write_model(first.model, card, out)
    if args.adaptable and card.adapt is not None:  # a joint model has no per-link adaptation statistics
        from csi_edge.tools.train.bn_adapt import export_adaptable

        card = export_adaptable(first.model, card, out)  # NAME.adapt.onnx: BatchNorm adaptation in the daemon
        card.save(out.with_name(out.name + ".json"))
    print_metrics(first.parts, summarise(runs) if args.seeds > 1 else None)
    print(f"wrote {out}.onnx and {out}.json ({card.model_id})")
    return 0


def data_warnings(data) -> list[str]:
    """What the training data cannot teach, said before hours of training."""
    out = []
    if "empty" not in data.train.classes:
        out.append("no 'empty' class in the training data: the model cannot recognise an empty room, so presence "
                   "will be unavailable (record an empty room and label it 'empty')")  # fmt: skip
    if not data.train.has_positions:
        out.append("the training data has no positions: the model gets no position head and will never publish a position")
    return out


def describe(summary: dict) -> str:
    """A WindowSet summary as one line of text."""
    classes = ", ".join(f"{c} {n:,}" for c, n in summary["class_windows"].items())
    parts = ", ".join(summary["parts"]) or "-"
    return f"{summary['windows']:,} windows ({classes}) from {summary['packets']:,} packets in {summary['recordings']} recordings, parts {parts}"


def describe_skill(skill: dict | None) -> str:
    if skill is None:
        return "no position skill (no positions)"
    return (f"position RMSE {skill['rmse_m']:.2f} m on {skill['measured_on']} vs {skill['baseline_rmse_m']:.2f} m "
            f"for the constant baseline (ratio {skill['ratio']:.2f})")  # fmt: skip


def print_metrics(parts: dict, seeds: dict | None) -> None:
    for name, m in parts.items():
        if "n" not in m or "accuracy" not in m:
            continue
        pos = f", position RMSE {m['rmse_m']:.2f} m (constant {m['baseline_rmse_m']:.2f} m)" if "baseline_rmse_m" in m else ""
        pos += f", novelty AUROC {m['novelty_auroc']:.3f} ({m['n_unknown']} unknown)" if "novelty_auroc" in m else ""
        recall = ", ".join(f"{c} {100 * v:.0f}" for c, v in m.get("class_recall", {}).items())
        print(f"  {name}: accuracy {100 * m['accuracy']:.1f} %, macro-F1 {100 * m['f1_macro']:.1f} %{pos}; recall % {recall} (n={m['n']})")
    if seeds:
        print("over seeds (mean +- std):")
        for name, stats in seeds.items():
            cells = [f"{key} {fmt(stats[key], *SCALE[key])}" for key in SCALE if key in stats]
            print(f"  {name}: " + ", ".join(cells))
