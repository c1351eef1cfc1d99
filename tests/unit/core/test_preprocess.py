"""The model input: one link (B, 1, S, W'), and a joint model's links side by side."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from csi_edge.model.card import FeatureSpec, ModelCard, ScalerSpec, standard_heads
from csi_edge.model.preprocess import prepare


def card(links: int, transform: str = "none", per_window: str = "divide-mean") -> ModelCard:
    w = 40 // 2 + 1 if transform == "psd" else 40
    return ModelCard(name="m", onnx_file="m.onnx", onnx_sha256="", window=40, hop=10, heads=standard_heads(("empty", "walking")),
                     feature=FeatureSpec(name="amplitude", transform=transform, subcarriers=52),
                     scaler=ScalerSpec(kind="maxmin", per_window=per_window, min=0.1, max=2.5),
                     input_shape=(None, links, 52, w), links=links)  # fmt: skip


@pytest.mark.parametrize("transform", ["none", "diff", "psd"])
@pytest.mark.parametrize("per_window", ["none", "center-median", "divide-mean"])
def test_links_side_by_side_are_each_prepared_as_if_alone(transform, per_window):
    rng = np.random.default_rng(1)
    links = [rng.gamma(2.0 + k, 1.0, (3, 40, 52)).astype(np.float32) for k in range(3)]
    joint = prepare(np.concatenate(links, axis=2), card(3, transform, per_window))
    alone = [prepare(x, card(1, transform, per_window)) for x in links]
    assert joint.shape == (3, 3, 52, 40 // 2 + 1 if transform == "psd" else 40) and joint.flags["C_CONTIGUOUS"]
    np.testing.assert_array_equal(joint, np.concatenate(alone, axis=1))


def test_windows_of_another_width_are_refused():
    with pytest.raises(ValueError, match="windows of 52 values per packet; model m@.* reads 3 link\\(s\\) of 52 subcarriers"):
        prepare(np.ones((1, 40, 52), np.float32), card(3))
    assert prepare(np.ones((1, 40, 52), np.float32), dataclasses.replace(card(3), links=1, input_shape=(None, 1, 52, 40))).shape == (1, 1, 52, 40)
