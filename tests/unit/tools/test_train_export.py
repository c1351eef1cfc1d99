"""Export: ONNX parity with PyTorch, the card round trip and its sha256 check."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from csi_edge.errors import ModelMismatchError  # noqa: E402
from csi_edge.model.card import ScalerSpec, load_card  # noqa: E402
from csi_edge.model.preprocess import prepare  # noqa: E402
from csi_edge.tools.train.datasets import Recording, WindowSet  # noqa: E402
from csi_edge.tools.train.export import parity, write_model  # noqa: E402
from csi_edge.tools.train.nets import CompactCNN, JointModel, Reducer  # noqa: E402
from csi_edge.tools.train.prep import draft_card, fit_reducer, fit_sample, fit_scaler  # noqa: E402


def _data(n=400, s=52):
    rng = np.random.default_rng(0)
    rec = Recording(rng.random((n, s), dtype=np.float32) * 20, np.array(["empty", "walking"] * (n // 2)), "p", "t")
    return WindowSet([rec], window=64, hop=16, classes=("empty", "walking"))


def _model(card, reducer=None):
    torch.manual_seed(0)
    d = card.feature.subcarriers if reducer is None else reducer[0].shape[0]
    model = JointModel(CompactCNN(len(card.classes)), Reducer(*reducer) if reducer else None)
    with torch.no_grad():  # non-trivial BatchNorm statistics
        model.train()
        model(torch.randn(8, 1, card.feature.subcarriers, card.input_shape[3]))
    assert d > 0
    return model.eval()


@pytest.mark.parametrize("reduce", [None, "pca"])
def test_onnx_matches_pytorch_within_1e4(tmp_path, reduce):
    ws = _data()
    card = fit_scaler(draft_card("m", ws, "amplitude", "none", "maxmin", "none"), fit_sample(ws, 0))
    reducer = fit_reducer("pca", 6, card, fit_sample(ws, 0), 0) if reduce else None
    model = _model(card, reducer)
    final = write_model(model, card, tmp_path / "m")
    x = prepare(ws.windows(np.arange(len(ws))), final)
    assert x.shape[1:] == (1, 52, 64)  # the reducer lives inside the graph
    assert parity(model, tmp_path / "m.onnx", x) < 1e-4
    import onnxruntime as ort

    sess = ort.InferenceSession(str(tmp_path / "m.onnx"), providers=["CPUExecutionProvider"])
    assert [i.name for i in sess.get_inputs()] == ["csi"]
    assert [o.name for o in sess.get_outputs()] == ["class_logits", "position"]
    out = sess.run(None, {"csi": x[:3]})  # dynamic batch
    assert out[0].shape == (3, 2) and out[1].shape == (3, 3)


def test_card_round_trip_and_sha256(tmp_path):
    ws = _data()
    card = fit_scaler(draft_card("m", ws, "amplitude", "psd", "z", "center-mean"), fit_sample(ws, 0), per_subcarrier=True)
    card = dataclasses.replace(card, metrics={"d2": {"accuracy": 0.5, "n": 3}}, notes="simulated")
    final = write_model(_model(card), card, tmp_path / "rt")
    loaded, onnx_path = load_card(tmp_path / "rt")
    assert loaded == final
    assert loaded.input_shape[3] == 33 and loaded.feature.transform == "psd"
    assert isinstance(loaded.scaler, ScalerSpec) and len(loaded.scaler.mean) == 52
    with open(onnx_path, "ab") as fh:
        fh.write(b"\0")
    with pytest.raises(ModelMismatchError, match="sha256"):
        load_card(tmp_path / "rt")
