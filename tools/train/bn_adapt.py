"""BatchNorm test-time adaptation that runs in ONNX Runtime (the daemon has no torch).

`export_adaptable(model, card, base)` writes `NAME.adapt.onnx` beside the model: the same
network in which every BatchNorm takes its normalisation statistics as graph inputs
(`bn<i>_mean`, `bn<i>_var`, defaulting to the training running statistics: overridable
initializers, so fed nothing it computes exactly what `NAME.onnx` computes) and reports the
per-channel first and second moments of what it normalises (`bn<i>_m1`, `bn<i>_m2`, over
batch and space) as extra outputs. The daemon's `BatchNormAdapter`
(csi_edge.calibration.adapt) averages those moments over the stream and feeds them back:
BatchNorm statistics re-estimated on the stream, bounded, reversible and freezable, with no
torch at run time. The card's `adapt` names the file, its sha256 and each layer's training
statistics.

`AdaptableModel` is the same computation in torch (what is exported, and what the benchmark
runs offline).
"""

from __future__ import annotations

import dataclasses
import io
import warnings
from pathlib import Path

import numpy as np
import torch
from torch import nn

from csi_edge.model.card import BatchNormLayer, ModelCard, sha256_file


class _FedBN(nn.Module):
    """BatchNorm2d with its statistics fed from outside; records the moments of its input."""

    def __init__(self, bn: nn.BatchNorm2d, owner: AdaptableModel, index: int) -> None:
        super().__init__()
        self.weight, self.bias, self.eps = bn.weight, bn.bias, bn.eps
        self._owner = [owner]  # a list: not a submodule (no recursion)
        self.index = index

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        owner = self._owner[0]
        owner.moments.append((x.mean(dim=(0, 2, 3)), (x * x).mean(dim=(0, 2, 3))))
        mean, var = owner.fed[2 * self.index], owner.fed[2 * self.index + 1]
        scale = self.weight / torch.sqrt(var + self.eps)
        return (x - mean[None, :, None, None]) * scale[None, :, None, None] + self.bias[None, :, None, None]


class AdaptableModel(nn.Module):
    """forward(x, mean_0, var_0, mean_1, var_1, ...) -> (logits, position, m1_0, m2_0, ...);
    without `position` (a model trained without positions) -> (logits, m1_0, m2_0, ...)."""

    def __init__(self, model: nn.Module, position: bool = True) -> None:
        super().__init__()
        import copy

        self.position = position
        self.model = copy.deepcopy(model).eval()
        self.layers: list[nn.BatchNorm2d] = []
        self.fed: tuple = ()
        self.moments: list = []
        self._replace(self.model)

    def _replace(self, module: nn.Module) -> None:
        for name, child in module.named_children():
            if isinstance(child, nn.BatchNorm2d):
                self.layers.append(child)
                setattr(module, name, _FedBN(child, self, len(self.layers) - 1))
            else:
                self._replace(child)

    def training_stats(self) -> list[torch.Tensor]:
        out = []
        for bn in self.layers:
            out += [bn.running_mean.detach().clone(), bn.running_var.detach().clone()]
        return out

    def forward(self, x: torch.Tensor, *stats: torch.Tensor):
        self.fed, self.moments = stats, []
        logits, pos = self.model(x)
        flat = [t for pair in self.moments for t in pair]
        return (logits, pos, *flat) if self.position else (logits, *flat)


def layer_names(n: int) -> list[str]:
    return [f"bn{i}" for i in range(n)]


def export_adaptable(model: nn.Module, card: ModelCard, base: Path, opset: int = 18) -> ModelCard:
    """Write `base.adapt.onnx`; return the card with `adapt.onnx_file`, sha256 and layers."""
    import onnx
    from onnx import numpy_helper

    if card.adapt is None:
        raise ValueError("the card has no adapt statistics")
    wrapped = AdaptableModel(model, position=len(card.outputs) > 1)  # the graph's outputs follow the card's heads
    stats = wrapped.training_stats()
    names = layer_names(len(wrapped.layers))
    inputs = [card.input_name] + [f"{n}_{k}" for n in names for k in ("mean", "var")]
    outputs = list(card.outputs) + [f"{n}_{k}" for n in names for k in ("m1", "m2")]
    dummy = torch.zeros((2, *card.input_shape[1:]), dtype=torch.float32)
    buf = io.BytesIO()
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(wrapped, (dummy, *stats), buf, input_names=inputs, output_names=outputs,
                          dynamic_axes={card.input_name: {0: "batch"}, **{o: {0: "batch"} for o in card.outputs}},
                          opset_version=opset, dynamo=False)  # fmt: skip
    graph = onnx.load_from_string(buf.getvalue())
    for name, value in zip(inputs[1:], stats, strict=True):  # defaults: fed nothing, it is the plain model
        graph.graph.initializer.append(numpy_helper.from_array(value.numpy().astype(np.float32), name))
    path = base.with_name(base.name + ".adapt.onnx")
    tmp = Path(str(path) + ".tmp")
    tmp.write_bytes(graph.SerializeToString())
    tmp.replace(path)
    layers = tuple(BatchNormLayer(n, int(bn.num_features), tuple(float(v) for v in bn.running_mean),
                                  tuple(float(v) for v in bn.running_var)) for n, bn in zip(names, wrapped.layers, strict=True))
    adapt = dataclasses.replace(card.adapt, onnx_file=path.name, onnx_sha256=sha256_file(path), batchnorm=layers)
    return dataclasses.replace(card, adapt=adapt)


def batchnorm_predict(model: nn.Module, pipeline, ws, windows: int = 3000, batch: int = 16) -> tuple[np.ndarray, np.ndarray]:
    """The daemon's BatchNormAdapter, offline in torch: each part streamed in order."""
    from csi_edge.calibration.adapt import BatchNormAdapter

    wrapped = AdaptableModel(model)
    layers = [BatchNormLayer(n, int(bn.num_features), tuple(bn.running_mean.tolist()), tuple(bn.running_var.tolist()))
              for n, bn in zip(layer_names(len(wrapped.layers)), wrapped.layers, strict=True)]  # fmt: skip
    logits = np.zeros((len(ws), len(ws.classes)), np.float32)
    pos = np.zeros((len(ws), 3), np.float32)
    with torch.no_grad():
        for idx in ws.parts().values():
            adapter = BatchNormAdapter(layers, windows=windows)
            for a in range(0, len(idx), batch):
                sel = idx[a : a + batch]
                feeds = [torch.from_numpy(v) for v in adapter.feed_list()]
                out = wrapped(torch.from_numpy(pipeline.inputs(ws, sel)), *feeds)
                logits[sel], pos[sel] = out[0].numpy(), out[1].numpy()
                adapter.update([t.numpy() for t in out[2:]], len(sel))
    return logits, pos
