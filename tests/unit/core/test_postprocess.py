"""Post-processing: softmax, EMA smoothing, hysteresis on the argmax, presence, gated position."""

from __future__ import annotations

import numpy as np
import pytest

from csi_edge.model.postprocess import PostProcessor, softmax

CLASSES = ("empty", "walking", "sitting")


def heads(probs, position=None) -> dict:
    out = {"activity": np.log(np.asarray(probs, dtype=np.float64))[None, :]}
    if position is not None:
        out["position"] = np.asarray([position], dtype=np.float32)
    return out


def test_softmax_sums_to_one_and_is_shift_invariant():
    x = np.array([[1000.0, 1001.0, 999.0]])
    p = softmax(x)
    assert p.sum() == pytest.approx(1.0) and np.argmax(p) == 1


def test_hysteresis_keeps_the_activity_until_another_wins_by_the_margin():
    post = PostProcessor(CLASSES, smoothing=1.0, hysteresis=0.2)
    assert post(heads([0.1, 0.8, 0.1]))[0].activity == "walking"
    r = post(heads([0.1, 0.45, 0.45 + 1e-9]))[0]  # sitting ahead, but by less than 0.2
    assert r.activity == "walking" and r.confidence == pytest.approx(0.45, abs=1e-3)
    assert post(heads([0.1, 0.2, 0.7]))[0].activity == "sitting"


def test_smoothing_is_an_ema_of_probabilities_and_position():
    post = PostProcessor(CLASSES, smoothing=0.5, hysteresis=0.0, position_smoothing=0.5, positions=True)
    post(heads([1 / 3, 1 / 3, 1 / 3], [0.0, 0.0, 0.0]))
    r = post(heads([0.0 + 1e-12, 1.0, 0.0 + 1e-12], [2.0, 4.0, 1.0]))[0]
    assert r.probabilities["walking"] == pytest.approx(0.5 * (1 / 3) + 0.5, abs=1e-3)
    assert r.position == (1.0, 2.0, 0.5)


def test_presence_from_the_empty_class_and_reset():
    post = PostProcessor(CLASSES, smoothing=1.0, presence_threshold=0.5)
    assert post(heads([0.9, 0.05, 0.05]))[0].presence is False
    assert post(heads([0.2, 0.7, 0.1]))[0].presence is True
    post.reset()
    assert post(heads([0.1, 0.1, 0.8]))[0].activity == "sitting"
    assert PostProcessor(("a", "b"))(heads([0.5, 0.5]))[0].presence is None


def test_no_position_without_skill_even_when_the_model_outputs_one():
    post = PostProcessor(CLASSES, smoothing=1.0, positions=False)
    assert post(heads([0.1, 0.8, 0.1], [1.0, 2.0, 0.5]))[0].position is None


def test_no_position_while_the_room_is_empty_and_a_fresh_average_after():
    post = PostProcessor(CLASSES, smoothing=1.0, position_smoothing=0.5, positions=True)
    assert post(heads([0.1, 0.8, 0.1], [2.0, 2.0, 2.0]))[0].position == (2.0, 2.0, 2.0)
    empty = post(heads([0.9, 0.05, 0.05], [9.0, 9.0, 9.0]))[0]
    assert empty.presence is False and empty.position is None
    back = post(heads([0.1, 0.8, 0.1], [4.0, 4.0, 4.0]))[0]
    assert back.position == (4.0, 4.0, 4.0)  # not averaged with the guesses before or while empty
