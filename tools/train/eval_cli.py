"""`csi-edge eval`: score an exported model (ONNX + card) on dataset SPECs, per part.

    csi-edge eval --model models/NAME --data SPEC [--data SPEC ...] [--label-regex RX] [--json]

The card supplies window, hop, feature, transform and scaler, so they are not repeated here.
`--json` prints one JSON object: part name -> {accuracy, f1_macro, precision, recall,
rmse_m (when positions exist), n, ...} plus `all` when there are several parts.
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
    width = recordings[0].features.shape[1]
    if width != card.feature.subcarriers:
        raise DataError(f"data has {width} subcarriers per packet; model {card.model_id} expects {card.feature.subcarriers}")
    ws = WindowSet(recordings, card.window, args.hop or card.hop, card.classes)
    if len(ws) == 0:
        raise DataError(f"no windows of {card.window} packets with labels among {list(card.classes)} in {', '.join(args.data)}")
    session = ort_session(onnx_path, args.threads)
    logits, pos = onnx_predict(session, card, ws, progress=not args.json)
    result = per_part(ws, logits, pos)
    if args.adapt:
        result.update({f"{k}+adapt": v for k, v in per_part(ws, *adapted_predict(ort_runner(session, card), card, ws, mode=args.adapt)).items()})
    open_ws = open_set(recordings, ws)
    if open_ws is not None:
        all_logits, _ = onnx_predict(session, card, open_ws)
        for part, m in open_set_metrics(card, open_ws, all_logits).items():
            result.setdefault(part, {}).update(m)
    if args.tta:
        result.update(_tta(card, onnx_path, ws))
    if args.confusion:
        from csi_edge.tools.train.plots import confusion_png

        for part, m in result.items():
            if "confusion" in m:
                confusion_png(m["confusion"], card.classes, Path(args.confusion) / f"confusion_{part}.png", f"{card.name}: {part}")
    if args.json:
        json.dump(strip_confusion(result), sys.stdout)
        sys.stdout.write("\n")
    else:
        print(f"model {card.model_id} ({card.architecture}), {len(ws)} windows")
        for part, m in result.items():
            rmse = f"  rmse {m['rmse_m']:.3f} m" if "rmse_m" in m else ""
            rmse += f"  novelty AUROC {m['novelty_auroc']:.3f} ({m['n_unknown']} unknown)" if "novelty_auroc" in m else ""
            print(f"  {part:>10}: acc {m.get('accuracy', 0):.3f}  f1 {m.get('f1_macro', 0):.3f}  "
                  f"prec {m.get('precision', 0):.3f}  rec {m.get('recall', 0):.3f}{rmse}  n={m.get('n', 0)}")
    return 0


def _tta(card, onnx_path: Path, ws) -> dict:
    from csi_edge.errors import DataError
    from csi_edge.tools.train.checkpoint import load_model

    pt = onnx_path.with_suffix(".pt")
    if not pt.exists():
        raise DataError(f"{pt}: --tta needs the training checkpoint beside the model")
    from csi_edge.tools.train.run import evaluate_parts

    model, pipeline, _ = load_model(pt, card)
    return {k: v for k, v in evaluate_parts(model, pipeline, ws, tta=True).items() if k.endswith("+tta")}
