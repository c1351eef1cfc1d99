"""Post-processing: softmax, EMA smoothing, hysteresis on the argmax, presence, position."""

from __future__ import annotations

import numpy as np
import pytest

from csi_edge.model.postprocess import PostProcessor, softmax

CLASSES = ("empty", "walking", "sitting")


def logits_for(probs):
    return np.log(np.asarray(probs, dtype=np.float64))[None, :]


def test_softmax_sums_to_one_and_is_shift_invariant():
    x = np.array([[1000.0, 1001.0, 999.0]])
    p = softmax(x)
    assert p.sum() == pytest.approx(1.0) and np.argmax(p) == 1


def test_hysteresis_keeps_the_activity_until_another_wins_by_the_margin():
    post = PostProcessor(CLASSES, smoothing=1.0, hysteresis=0.2)
    assert post(logits_for([0.1, 0.8, 0.1]), None)[0].activity == "walking"
    r = post(logits_for([0.1, 0.45, 0.45 + 1e-9]), None)[0]  # sitting ahead, but by less than 0.2
    assert r.activity == "walking" and r.confidence == pytest.approx(0.45, abs=1e-3)
    assert post(logits_for([0.1, 0.2, 0.7]), None)[0].activity == "sitting"


def test_smoothing_is_an_ema_of_probabilities_and_position():
    post = PostProcessor(CLASSES, smoothing=0.5, hysteresis=0.0, position_smoothing=0.5)
    post(logits_for([1 / 3, 1 / 3, 1 / 3]), np.array([[0.0, 0.0, 0.0]]))
    r = post(logits_for([0.0 + 1e-12, 1.0, 0.0 + 1e-12]), np.array([[2.0, 4.0, 1.0]]))[0]
    assert r.probabilities["walking"] == pytest.approx(0.5 * (1 / 3) + 0.5, abs=1e-3)
    assert r.position == (1.0, 2.0, 0.5)


def test_presence_from_the_empty_class_and_reset():
    post = PostProcessor(CLASSES, smoothing=1.0, presence_threshold=0.5)
    assert post(logits_for([0.9, 0.05, 0.05]), None)[0].presence is False
    assert post(logits_for([0.2, 0.7, 0.1]), None)[0].presence is True
    post.reset()
    assert post(logits_for([0.1, 0.1, 0.8]), None)[0].activity == "sitting"
    assert PostProcessor(("a", "b"))(logits_for([0.5, 0.5]), None)[0].presence is None
