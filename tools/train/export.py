"""Export: a trained JointModel -> `NAME.onnx` + `NAME.json` (model card).

ONNX: input `csi` [batch, 1, S, W'] float32 (dynamic batch), one output per head of the card
(schema 2, `card.heads`): `class_logits` [batch, C] and, for a model trained with positions,
`position` [batch, 3] (metres); opset `OPSET` (TorchScript exporter, dynamo=False). A PCA/ICA
reducer is inside the graph (MatMul + Add), so S stays the feature's subcarrier count.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import warnings
from pathlib import Path

import numpy as np
import torch

from csi_edge.model.card import ModelCard, sha256_file

OPSET = 18


class LogitsOnly(torch.nn.Module):
    """The network without its position output: for models trained without positions."""

    def __init__(self, model: torch.nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.model(x)
        return out[0] if isinstance(out, tuple) else out  # a classes-only network (discover) returns the logits alone


def export_onnx(model: torch.nn.Module, card: ModelCard, onnx_path: Path) -> None:
    """Write the ONNX graph; with one output in the card (no positions) only `class_logits`."""
    model = model.eval()
    if len(card.outputs) == 1:
        model = LogitsOnly(model).eval()
    dummy = torch.zeros((2, *card.input_shape[1:]), dtype=torch.float32)
    buf = io.BytesIO()
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # the TorchScript exporter is the simple, stable path
        torch.onnx.export(
            model,
            (dummy,),
            buf,
            input_names=[card.input_name],
            output_names=list(card.outputs),
            dynamic_axes={card.input_name: {0: "batch"}, **{name: {0: "batch"} for name in card.outputs}},
            opset_version=OPSET,
            dynamo=False,
        )
    tmp = Path(str(onnx_path) + ".tmp")
    tmp.write_bytes(buf.getvalue())
    tmp.replace(onnx_path)


def write_model(model: torch.nn.Module, card: ModelCard, out_base: Path) -> ModelCard:
    """Write out_base.onnx and out_base.json; returns the final card (with sha256)."""
    out_base = Path(out_base)
    out_base.parent.mkdir(parents=True, exist_ok=True)
    onnx_path = out_base.with_name(out_base.name + ".onnx")
    card = dataclasses.replace(card, name=out_base.name, onnx_file=onnx_path.name)
    export_onnx(model, card, onnx_path)
    card = dataclasses.replace(
        card,
        onnx_sha256=sha256_file(onnx_path),
        created=card.created or dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat(),
    )
    card.save(out_base.with_name(out_base.name + ".json"))
    return card


def parity(model: torch.nn.Module, onnx_path: Path, x: np.ndarray) -> float:
    """Max |torch - onnxruntime| over both outputs for inputs x (B, 1, S, W')."""
    from csi_edge.tools.train.evaluate import ort_session

    session = ort_session(onnx_path)
    with torch.no_grad():
        ref = [t.numpy() for t in model.eval()(torch.from_numpy(x))]
    got = session.run(None, {session.get_inputs()[0].name: x})
    ref = ref[: len(got)]  # a graph without the position output
    return float(max(np.max(np.abs(a - b)) for a, b in zip(ref, got, strict=True)))
