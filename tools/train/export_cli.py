"""`csi-edge export`: re-export a training checkpoint (NAME.pt) to ONNX + model card.

    csi-edge export models/NAME.pt --out models/OTHER [--last]

The card keeps everything the checkpoint recorded (feature, window, hop, scaler statistics,
classes); metrics are kept from an existing card beside the checkpoint when there is one.
A parity check (PyTorch vs onnxruntime on random inputs) must pass within 1e-4.
"""

from __future__ import annotations

import argparse
from pathlib import Path

PARITY_TOL = 1e-4


def register(subparsers) -> None:
    p = subparsers.add_parser("export", help="re-export a training checkpoint to ONNX + card", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("checkpoint", help="NAME.pt written by csi-edge train")
    p.add_argument("--out", required=True, help="models/NAME for NAME.onnx + NAME.json")
    p.add_argument("--last", action="store_true", help="export the last epoch instead of the best")
    p.set_defaults(func=run)


def run(args) -> int:
    import dataclasses
    import json

    import numpy as np

    from csi_edge.errors import CsiEdgeError, DataError
    from csi_edge.tools.train.checkpoint import load_model
    from csi_edge.tools.train.export import parity, write_model
    from csi_edge.tools.train.skill import declare_position

    pt = Path(args.checkpoint)
    if not pt.exists():
        raise DataError(f"{pt}: checkpoint not found")
    model, pipeline, meta = load_model(pt, which="last" if args.last else "best")
    card = dataclasses.replace(pipeline.card, architecture=meta["config"]["arch"])
    old = pt.with_suffix(".json")
    if old.exists():
        try:
            prev = json.loads(old.read_text())
            card = dataclasses.replace(card, training=prev.get("training", {}), metrics=prev.get("metrics", {}), notes=prev.get("notes", ""))
        except json.JSONDecodeError:
            pass
    if "position_baseline_xyz" in meta:  # measured on validation after training: the checkpoint's own
        card = declare_position(card, meta.get("position_skill"), meta["position_baseline_xyz"])
    out = Path(args.out)
    base = out.with_suffix("") if out.suffix in (".onnx", ".json") else out
    card = write_model(model, card, base)
    x = np.random.default_rng(0).random((4, *card.input_shape[1:]), dtype=np.float32)
    err = parity(model, base.with_name(card.onnx_file), x)
    if err > PARITY_TOL:
        raise CsiEdgeError(f"{card.onnx_file}: PyTorch vs onnxruntime differ by {err:.2e} (> {PARITY_TOL})")
    print(f"wrote {card.onnx_file} + card ({card.model_id}); parity max |diff| {err:.1e}")
    return 0
