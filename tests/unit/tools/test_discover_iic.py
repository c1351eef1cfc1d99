"""The IIC loss on hand-computed joint distributions, pairs, scores, and seeded determinism."""

from __future__ import annotations

import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from csi_edge.tools.discover.iic import IICConfig, assign, iic_loss, joint_distribution, mutual_information, train_iic  # noqa: E402
from csi_edge.tools.discover.metrics import scores  # noqa: E402
from csi_edge.tools.discover.pairs import make_pairs, neighbour_starts  # noqa: E402
from csi_edge.tools.discover.run import InputDef, input_card  # noqa: E402
from csi_edge.tools.discover.windows import Windows  # noqa: E402
from csi_edge.tools.train.datasets import Recording  # noqa: E402


def _one_hot(idx, k):
    return torch.nn.functional.one_hot(torch.as_tensor(idx), k).float()


def test_uniform_assignments_carry_no_information():
    z = torch.full((10, 4), 0.25)
    p = joint_distribution(z, z)
    assert torch.allclose(p, torch.full((4, 4), 1 / 16))
    assert float(iic_loss(z, z)) == pytest.approx(0.0, abs=1e-6)


def test_perfectly_aligned_balanced_pairs_reach_minus_log_k():
    k = 5
    z = _one_hot(np.arange(20) % k, k)  # 4 windows per cluster, each paired with itself
    p = joint_distribution(z, z)
    assert torch.allclose(p, torch.eye(k) / k)
    assert float(iic_loss(z, z)) == pytest.approx(-math.log(k), abs=1e-5)


def test_degenerate_single_cluster_scores_zero_not_minus_log_k():
    z = _one_hot(np.zeros(12, dtype=int), 3)  # every window in cluster 0: H(z) = 0
    assert float(iic_loss(z, z)) == pytest.approx(0.0, abs=1e-6)


def test_hand_computed_two_cluster_joint():
    # 10 pairs: 4 (0, 0), 4 (1, 1), 1 (0, 1), 1 (1, 0) -> P = [[.4, .1], [.1, .4]], marginals .5
    a = _one_hot([0, 0, 0, 0, 1, 1, 1, 1, 0, 1], 2)
    b = _one_hot([0, 0, 0, 0, 1, 1, 1, 1, 1, 0], 2)
    p = joint_distribution(a, b)
    assert torch.allclose(p, torch.tensor([[0.4, 0.1], [0.1, 0.4]]))
    expected = 2 * 0.4 * math.log(0.4 / 0.25) + 2 * 0.1 * math.log(0.1 / 0.25)  # 0.1927 nats
    assert float(mutual_information(p)) == pytest.approx(expected, abs=1e-6)
    assert float(iic_loss(a, b)) == pytest.approx(-expected, abs=1e-6)


def test_joint_is_symmetrised():
    # x always in cluster 0, its pair always in cluster 1: unsymmetrised P = [[0, 1], [0, 0]]
    # (I = 0); symmetrised P = [[0, .5], [.5, 0]]: the two clusters predict each other, I = log 2
    a, b = _one_hot([0] * 6, 2), _one_hot([1] * 6, 2)
    p = joint_distribution(a, b)
    assert torch.allclose(p, p.t()) and float(p.sum()) == pytest.approx(1.0)
    assert float(iic_loss(a, b)) == pytest.approx(-math.log(2), abs=1e-5)


def test_soft_assignments_give_a_gradient_towards_agreement():
    logits = torch.zeros(8, 2, requires_grad=True)
    target = _one_hot([0, 1] * 4, 2)
    loss = iic_loss(torch.softmax(logits + 3 * target, dim=1), target)
    loss.backward()
    # raising each window's logit of its pair's cluster lowers the loss
    assert torch.all(logits.grad[target.bool()] < 0)


def _windows(n=600, recordings=3, labels=True):
    rng = np.random.default_rng(0)
    recs = []
    for r in range(recordings):
        t = np.arange(n)
        amp = 10 + rng.normal(0, 0.3, (n, 52))
        if r % 2:
            amp += 3 * np.sin(t / 3.0)[:, None]
        label = np.array(["walking" if r % 2 else "empty"] * n) if labels else np.array([""] * n)
        recs.append(Recording(amp.astype(np.float32), label, "p", f"rec{r}"))
    return Windows(recs, window=32, hop=8)


def test_windows_keep_unlabelled_windows_with_times():
    wins = _windows(labels=False)
    assert len(wins) == 3 * ((600 - 32) // 8 + 1) and not wins.labelled.any()
    assert wins.classes == ()
    assert wins.time_s[0] == pytest.approx(31 / 100.0)
    assert wins.windows(np.array([1])).shape == (1, 32, 52)


def test_temporal_neighbours_stay_in_their_recording():
    wins = _windows()
    rng = np.random.default_rng(1)
    idx = np.arange(len(wins))
    starts = neighbour_starts(wins, idx, rng)
    gap = np.abs(starts - wins.start)
    assert np.all((gap >= 20) & (gap <= 50))
    assert np.all(starts >= 0) and np.all(starts + wins.window <= 600)
    last = idx[wins.start == wins.start.max()]
    assert np.all(starts[last] < wins.start[last])  # no room after the last window: earlier


def test_scores_match_permuted_clusters_and_count_unmatched_over_clusters():
    y = np.array([0, 0, 1, 1, 2, 2])
    assert scores(y, np.array([2, 2, 0, 0, 1, 1]), 3, 3)["acc"] == 1.0
    s = scores(y, np.array([0, 3, 1, 1, 2, 2]), 4, 3)  # class 0 split over clusters 0 and 3
    assert s["acc"] == pytest.approx(5 / 6, abs=1e-4) and s["acc_many"] == 1.0
    assert s["nmi"] < 1.0 and s["ari"] < 1.0


def _run(seed, pairs="both", over=0):
    wins = _windows()
    card = input_card(wins, InputDef(window=32, hop=8), seed=0)
    cfg = IICConfig(clusters=2, overclusters=over, heads=2, pairs=pairs, steps=6, batch=16, seed=seed, threads=1, progress=False)
    result = train_iic(cfg, wins, card)
    return result, assign(result.net, wins, card, result.head), wins, card


def test_same_seed_same_clusters_other_seed_other_weights():
    a, pa, _, _ = _run(seed=3, over=4)
    b, pb, _, _ = _run(seed=3, over=4)
    c, _, _, _ = _run(seed=4, over=4)
    assert a.head_losses == b.head_losses and a.over_losses == b.over_losses and a.history == b.history
    np.testing.assert_array_equal(pa, pb)
    wa, wc = a.net.state_dict(), c.net.state_dict()
    assert any(not torch.equal(wa[k], wc[k]) for k in wa)
    assert len(a.over_losses) == 2 and a.over is not None


@pytest.mark.parametrize("kind", ["augment", "temporal", "both", "noisy"])
def test_pairs_are_prepared_model_inputs(kind):
    wins = _windows()
    card = input_card(wins, InputDef(window=32, hop=8), seed=0)
    x, x2 = make_pairs(kind, wins, np.arange(5), card, np.random.default_rng(0))
    assert x.shape == x2.shape == (5, 1, 52, 32)
    assert not np.array_equal(x, x2)


def test_packet_labels_follow_the_window_that_ends_at_or_after_them():
    from csi_edge.tools.discover.naming import packet_labels

    out = packet_labels(np.array([3, 5, 7]), ["a", "b", "c"], 10)
    assert list(out) == ["a"] * 4 + ["b"] * 2 + ["c"] * 2 + ["", ""]


def test_jitter_keeps_each_rows_mean_and_changes_its_spread():
    from csi_edge.tools.discover.pairs import jitter

    rng = np.random.default_rng(0)
    x = rng.random((4, 1, 52, 200), dtype=np.float32)
    y = jitter(x, np.random.default_rng(1), gain=0.3, noise=0.0)
    np.testing.assert_allclose(y.mean(axis=3), x.mean(axis=3), atol=1e-5)
    ratio = (y - y.mean(axis=3, keepdims=True)).std(axis=3) / (x - x.mean(axis=3, keepdims=True)).std(axis=3)
    assert np.all((ratio > 0.69) & (ratio < 1.31)) and ratio.std() > 0.05  # one gain per subcarrier


def test_marginal_weight_adds_the_entropies_of_the_marginals():
    # w = 2: I + (H(z) + H(z')); aligned balanced pairs over 4 clusters: log 4 + 2 log 4
    z = _one_hot(np.arange(8) % 4, 4)
    assert float(iic_loss(z, z, marginal_weight=2.0)) == pytest.approx(-3 * math.log(4), abs=1e-5)
    a = _one_hot([0, 0, 0, 1], 2)  # unbalanced: the weight rewards balance on top of I
    gain = float(iic_loss(a, a, 1.0) - iic_loss(a, a, 2.0))
    entropy = -(0.75 * math.log(0.75) + 0.25 * math.log(0.25))
    assert gain == pytest.approx(2 * entropy, abs=1e-5)


def test_named_class_is_the_label_of_the_most_probable_cluster():
    from csi_edge.tools.discover.naming import NamedModel, class_order, class_scores, merge_matrix

    labels = ["walking", "empty", "empty", "empty"]  # three clusters merge into "empty"
    classes = class_order(labels)
    merge = merge_matrix(labels, classes)
    probs = np.array([[0.4, 0.2, 0.2, 0.2], [0.1, 0.7, 0.1, 0.1]], dtype=np.float32)
    scores = class_scores(probs, merge)
    assert classes == ("empty", "walking")
    np.testing.assert_allclose(scores, [[0.2, 0.4], [0.7, 0.1]])  # a sum would give "empty" (0.6) to the first
    head = torch.nn.Linear(3, 4)
    model = NamedModel(torch.nn.Identity(), head, merge).eval()
    x = torch.randn(5, 3)
    with torch.no_grad():
        p = head(x).softmax(dim=1).numpy()
        np.testing.assert_allclose(model(x).exp().numpy(), class_scores(p, merge), rtol=1e-5)
