"""`csi-edge eval`: score an exported model (ONNX + card) on dataset SPECs, per part.

    csi-edge eval --model models/NAME --data SPEC [--data SPEC ...] [--label-regex RX] [--json]

The card supplies window, hop, feature, transform and scaler, so they are not repeated here.
`--json` prints one JSON object: part name -> {accuracy, f1_macro, precision, recall,
class_recall, n, and for data with positions position_rmse_m, position_baseline_rmse_m (the
constant baseline: the mean position of the model's training windows, from its card) and
n_positions} plus `all` when there are several parts. The text output prints the same.
`--tta` adds `PART+tta` entries: BatchNorm statistics re-estimated on that part's unlabelled
windows (needs the NAME.pt checkpoint written by `train`, and torch).
`--confusion DIR` writes one confusion-matrix PNG per part.
`--adapt` adds `PART+adapt` entries: the daemon's test-time adaptation (input statistics
re-estimated on the stream, csi_edge.calibration.adapt), each part streamed in time order.
`--baseline PART=FILE` gives each part its empty-room baseline (a model with `feature.relative`
needs one per part). When the data holds labels the model does not know, each part also gets
`novelty_auroc` (unknown vs known windows), `n_unknown` and the `unknown` rates (docs/calibration.md).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def register(subparsers) -> None:
    p = subparsers.add_parser("eval", help="evaluate a model per dataset part (day, trial)", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", required=True, help="models/NAME (NAME.onnx + NAME.json)")
    p.add_argument("--data", action="append", required=True, metavar="SPEC", help="dataset SPEC (repeatable)")
    p.add_argument("--label-regex", help="csi: SPECs: regex whose first group is the label")
    p.add_argument("--hop", type=int, help="evaluate every HOP packets (default: the card's hop)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--tta", action="store_true", help="also report test-time BatchNorm adaptation (+tta)")
    p.add_argument("--confusion", metavar="DIR", help="write confusion matrices as PNG here")
    p.add_argument("--adapt", nargs="?", const="mean", choices=("mean", "mean-std"), help="also report the daemon's test-time "
                   "input adaptation (+adapt; mode mean (default) or mean-std, as [calibration] adapt)")
    p.add_argument("--baseline", action="append", metavar="PART=FILE", help="empty-room baseline of a part (repeatable)")
    p.add_argument("--threads", type=int, default=1, help="onnxruntime threads (default 1)")
    p.set_defaults(func=run)


def run(args) -> int:
    import numpy as np

    from csi_edge.errors import DataError, UsageError
    from csi_edge.model.card import load_card
    from csi_edge.tools.train.datasets import WindowSet
    from csi_edge.tools.train.evaluate import onnx_predict, ort_session, per_part, strip_confusion
    from csi_edge.tools.train.specs import load_specs

    if args.hop is not None and args.hop < 1:
        raise UsageError(f"--hop must be >= 1 (got {args.hop})")
    card, onnx_path = load_card(args.model)
    from csi_edge.tools.train.calibration import adapted_predict, ort_runner, parse_baselines, relative_recordings
    from csi_edge.tools.train.novelty import open_set, open_set_metrics

    recordings = relative_recordings(load_specs(args.data, card.feature.name, args.label_regex), card.feature.relative,
                                     parse_baselines(args.baseline))
    width, links = recordings[0].features.shape[1], recordings[0].links
    if (width, links) != (card.links * card.feature.subcarriers, card.links):
        raise DataError(f"data has {links} link(s) of {width // links} subcarriers per packet; model {card.model_id} reads "
                        f"{card.links} link(s) of {card.feature.subcarriers}")  # fmt: skip
    ws = WindowSet(recordings, card.window, args.hop or card.hop, card.classes)
    if len(ws) == 0:
        raise DataError(f"no windows of {card.window} packets with labels among {list(card.classes)} in {', '.join(args.data)}")
    session = ort_session(onnx_path, args.threads)
    logits, pos = onnx_predict(session, card, ws, progress=not args.json)
    if pos is None:  # a model without a position head
        pos = np.full((len(ws), 3), np.nan, np.float32)
    baseline = card_baseline(card)
    result = per_part(ws, logits, pos, baseline)
    if args.adapt:
        adapted = per_part(ws, *adapted_predict(ort_runner(session, card), card, ws, mode=args.adapt), baseline)
        result.update({f"{k}+adapt": v for k, v in adapted.items()})
    open_ws = open_set(recordings, ws)
    if open_ws is not None:
        all_logits, _ = onnx_predict(session, card, open_ws)
        for part, m in open_set_metrics(card, open_ws, all_logits).items():
            result.setdefault(part, {}).update(m)
    if args.tta:
        result.update(_tta(card, onnx_path, ws, baseline))
    if args.confusion:
        from csi_edge.tools.train.plots import confusion_png

        for part, m in result.items():
            if "confusion" in m:
                confusion_png(m["confusion"], card.classes, Path(args.confusion) / f"confusion_{part}.png", f"{card.name}: {part}")
    result = {part: position_names(m) for part, m in strip_confusion(result).items()}
    if args.json:
        json.dump(result, sys.stdout)
        sys.stdout.write("\n")
    else:
        print_text(card, result, len(ws))
    return 0


def card_baseline(card):
    """The constant position baseline recorded at training (None for cards without one)."""
    import numpy as np

    head = card.head("position")
    return None if head is None or head.baseline is None else np.asarray(head.baseline, dtype=np.float64)


def position_names(m: dict) -> dict:
    """Card metric names -> eval's stable names: rmse_m -> position_rmse_m, baseline_rmse_m ->
    position_baseline_rmse_m."""
    out = {k: v for k, v in m.items() if k not in ("rmse_m", "baseline_rmse_m")}
    for old, new in (("rmse_m", "position_rmse_m"), ("baseline_rmse_m", "position_baseline_rmse_m")):
        if old in m:
            out[new] = m[old]
    return out


def print_text(card, result: dict, n_windows: int) -> None:
    from csi_edge.config import ModelConfig
    from csi_edge.model.card import position_skill_text

    print(f"model {card.model_id} ({card.architecture}), {n_windows} windows")
    print(f"  position skill at training: {position_skill_text(card, ModelConfig().position_skill_ratio)}")
    for part, m in result.items():
        pos = ""
        if "position_rmse_m" in m:
            base = f" (constant baseline {m['position_baseline_rmse_m']:.2f} m)" if "position_baseline_rmse_m" in m else ""
            pos = f"  position RMSE {m['position_rmse_m']:.2f} m{base}"
        if "novelty_auroc" in m:
            pos += f"  novelty AUROC {m['novelty_auroc']:.3f} ({m['n_unknown']} unknown)"
        recall = " ".join(f"{c} {100 * v:.0f}" for c, v in m.get("class_recall", {}).items())
        print(f"  {part:>10}: accuracy {100 * m.get('accuracy', 0):.1f} %  macro-F1 {100 * m.get('f1_macro', 0):.1f} %{pos}  "
              f"recall % {recall}  n={m.get('n', 0)}")


def _tta(card, onnx_path: Path, ws, baseline) -> dict:
    from csi_edge.errors import DataError
    from csi_edge.tools.train.checkpoint import load_model

    pt = onnx_path.with_suffix(".pt")
    if not pt.exists():
        raise DataError(f"{pt}: --tta needs the training checkpoint beside the model")
    from csi_edge.tools.train.run import evaluate_parts

    model, pipeline, _ = load_model(pt, card)
    return {k: v for k, v in evaluate_parts(model, pipeline, ws, tta=True, baseline=baseline).items() if k.endswith("+tta")}
