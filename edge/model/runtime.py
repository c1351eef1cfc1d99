"""ONNX Runtime session for a model package, with providers chosen by availability.

`LoadedModel.load(path, ...)` reads the card (`load_card`: sha256 checked), opens an
`onnxruntime.InferenceSession` with the preferred providers that are present (TensorRT, then
CUDA, then CPU by default: a Jetson with the GPU build gets the GPU, this machine gets the
CPU), checks the ONNX input/outputs against the card, and warms the session up on zeros so
the first real window does not pay for allocation (or a TensorRT engine build).

`run(x)` takes the prepared input (B, 1, S, W') and returns one array per head of the card
(`{head name: (B, size)}`: the activity logits (B, C), a position (B, 3) in its units, ...).
Every head's ONNX output must exist and have the card's size. A model whose batch dimension
is fixed at 1 is run window by window.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from csi_edge.errors import ModelMismatchError
from csi_edge.logs import event
from csi_edge.model.card import ModelCard, load_card

log = logging.getLogger("csi_edge.model")

PROVIDERS = {
    "tensorrt": "TensorrtExecutionProvider",
    "cuda": "CUDAExecutionProvider",
    "cpu": "CPUExecutionProvider",
}


def pick_providers(preference: list[str], available: list[str]) -> list[str]:
    """ORT provider names in preference order, keeping those present; CPU always last resort."""
    chosen = [PROVIDERS[p] for p in preference if p in PROVIDERS and PROVIDERS[p] in available]
    if PROVIDERS["cpu"] not in chosen:
        chosen.append(PROVIDERS["cpu"])
    return chosen


def default_model_path() -> Path | None:
    """The shipped default model: next to the package (checkout/editable) or under /opt."""
    here = Path(__file__).resolve()
    for base in (here.parents[2] / "models", Path("/opt/csi-edge/models"), Path("/usr/share/csi-edge/models")):
        if (base / "default.json").exists():
            return base / "default"
    return None


ModelOutput = dict[str, np.ndarray]  # head name -> float32 (B, head size)


class LoadedModel:
    def __init__(self, card: ModelCard, onnx_path: Path, session) -> None:
        self.card = card
        self.onnx_path = onnx_path
        self.session = session
        self.providers = session.get_providers()
        inputs = session.get_inputs()
        self._input = inputs[0].name
        batch = inputs[0].shape[0]
        self._fixed_batch = batch if isinstance(batch, int) else None
        self._fetch = list(card.outputs)

    @classmethod
    def load(cls, path: str | Path, providers: Sequence[str] = ("tensorrt", "cuda", "cpu"), threads: int = 1, warmup: int = 2) -> LoadedModel:
        import onnxruntime as ort

        card, onnx_path = load_card(path)
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.log_severity_level = 3
        chosen = pick_providers(list(providers), ort.get_available_providers())
        try:
            session = ort.InferenceSession(os.fspath(onnx_path), sess_options=options, providers=chosen)
        except Exception as exc:  # noqa: BLE001 - ORT raises several unrelated types
            raise ModelMismatchError(f"{onnx_path}: ONNX Runtime cannot load the model ({str(exc).splitlines()[0]})") from None
        model = cls(card, onnx_path, session)
        model._check_io()
        model.warm_up(warmup)
        event(log, "model_loaded", model=card.model_id, providers=",".join(model.providers), window=card.window, hop=card.hop)
        return model

    def _check_io(self) -> None:
        card = self.card
        shape = self.session.get_inputs()[0].shape
        if self.session.get_inputs()[0].name != card.input_name:
            raise ModelMismatchError(f"{self.onnx_path}: input is {self.session.get_inputs()[0].name!r}, the card says {card.input_name!r}")
        expected = list(card.input_shape[1:])
        actual = list(shape[1:])
        if any(isinstance(a, int) and isinstance(e, int) and a != e for a, e in zip(actual, expected, strict=True)):
            raise ModelMismatchError(f"{self.onnx_path}: input shape {shape} does not match the card's {list(card.input_shape)}")
        outputs = {o.name: o.shape for o in self.session.get_outputs()}
        for head in card.heads:
            if head.output not in outputs:
                raise ModelMismatchError(f"{self.onnx_path}: no output {head.output!r} for the card's head {head.name!r} "
                                         f"(outputs: {', '.join(outputs)})")
            n_out = outputs[head.output][-1]
            if isinstance(n_out, int) and n_out != head.size:
                what = "classes" if head.kind == "classes" else "components"
                raise ModelMismatchError(f"{self.onnx_path}: output {head.output!r} has {n_out} values but the card's head "
                                         f"{head.name!r} names {head.size} {what}")

    def input_example(self, batch: int = 1) -> np.ndarray:
        shape = [batch] + [d if isinstance(d, int) else 1 for d in self.card.input_shape[1:]]
        return np.zeros(shape, dtype=np.float32)

    def warm_up(self, runs: int) -> None:
        for _ in range(runs):
            self.run(self.input_example())

    def run(self, x: np.ndarray) -> ModelOutput:
        if self._fixed_batch == 1 and len(x) > 1:
            outs = [self.session.run(self._fetch, {self._input: x[i : i + 1]}) for i in range(len(x))]
            arrays = [np.concatenate([o[k] for o in outs]) for k in range(len(self._fetch))]
        else:
            arrays = self.session.run(self._fetch, {self._input: x})
        return {head.name: np.asarray(a, dtype=np.float32).reshape(len(x), -1)[:, : head.size]
                for head, a in zip(self.card.heads, arrays, strict=True)}
