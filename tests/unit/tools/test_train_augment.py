"""Augmentations: what each one preserves, which classes it touches, and seeded determinism."""

from __future__ import annotations

import numpy as np
import pytest

from csi_edge.errors import UsageError
from csi_edge.tools.train.augment import augment, parse_augment


def _batch(b=6, s=5, w=40, seed=0):
    rng = np.random.default_rng(seed)
    return rng.random((b, 1, s, w), dtype=np.float32), np.arange(b) % 3


def test_rotation_preserves_the_multiset_of_columns_and_stays_within_limit():
    x, y = _batch()
    out = augment(x, y, parse_augment("rotate:1:0.125"), np.random.default_rng(1))
    limit = round(0.125 * x.shape[-1])
    for i in range(len(x)):
        shifts = [k for k in range(-limit, limit + 1) if np.array_equal(np.roll(x[i], k, axis=-1), out[i])]
        assert shifts, f"window {i} is not a rotation within +-{limit}"
        cols_in = sorted(map(tuple, x[i, 0].T))
        cols_out = sorted(map(tuple, out[i, 0].T))
        assert cols_in == cols_out
    assert not np.array_equal(out, x)  # something rotated


def test_flip_only_touches_declared_symmetric_classes():
    x, y = _batch()
    out = augment(x, y, parse_augment("flip:1"), np.random.default_rng(0), symmetric=frozenset({0}))
    for i in range(len(x)):
        expected = x[i, ..., ::-1] if y[i] == 0 else x[i]
        np.testing.assert_array_equal(out[i], expected)
    # nothing declared symmetric: nothing flips
    np.testing.assert_array_equal(augment(x, y, parse_augment("flip:1"), np.random.default_rng(0)), x)


def test_seeded_determinism_and_input_untouched():
    x, y = _batch()
    augs = parse_augment("scale,rotate,drop-sub,drop-pkt")
    before = x.copy()
    a = augment(x, y, augs, np.random.default_rng(7))
    b = augment(x, y, augs, np.random.default_rng(7))
    c = augment(x, y, augs, np.random.default_rng(8))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    np.testing.assert_array_equal(x, before)


def test_scale_stays_in_range():
    x, y = _batch()
    out = augment(x, y, parse_augment("scale:1:0.2"), np.random.default_rng(0))
    ratio = out / x
    for i in range(len(x)):
        assert np.allclose(ratio[i], ratio[i].flat[0], rtol=1e-5)
        assert 0.8 - 1e-6 <= ratio[i].flat[0] <= 1.2 + 1e-6


def test_packet_dropout_replaces_columns_by_the_subcarrier_mean():
    x, y = _batch(b=2, s=4, w=50)
    out = augment(x, y, parse_augment("drop-pkt:1:0.3"), np.random.default_rng(0))
    changed = np.nonzero(~np.all(out == x, axis=2))  # (window, 0, column)
    assert len(changed[0]) > 0
    for i, _, t in zip(*changed, strict=True):
        np.testing.assert_allclose(out[i, 0, :, t], x[i, 0].mean(axis=1), rtol=1e-6)


def test_subcarrier_dropout_replaces_rows_by_the_window_mean():
    x, y = _batch(b=3, s=20, w=30)
    out = augment(x, y, parse_augment("drop-sub:1:0.3"), np.random.default_rng(0))
    rows = np.nonzero(~np.all(out == x, axis=3))
    assert len(rows[0]) > 0
    for i, _, s in zip(*rows, strict=True):
        np.testing.assert_allclose(out[i, 0, s], x[i].mean(), rtol=1e-6)


def test_probability_zero_is_identity_and_parse_errors():
    x, y = _batch()
    np.testing.assert_array_equal(augment(x, y, parse_augment("rotate:0,scale:0"), np.random.default_rng(0)), x)
    assert parse_augment("none") == ()
    for bad in ("spin", "rotate:2", "rotate:x"):
        with pytest.raises(UsageError):
            parse_augment(bad)


def test_joint_windows_move_together_in_time_and_vary_per_link_otherwise():
    """(B, L, S, W): a rotation shifts every link alike (their packets are the same); gains,
    dropped subcarriers and subcarrier orders are drawn for each link."""
    rng = np.random.default_rng(3)
    x, y = rng.random((4, 3, 6, 40), dtype=np.float32) + 1.0, np.zeros(4, dtype=np.int64)
    rotated = augment(x, y, parse_augment("rotate:1:0.125"), np.random.default_rng(1))
    for i in range(4):
        assert any(np.array_equal(np.roll(x[i], k, axis=-1), rotated[i]) for k in range(-5, 6))
    scaled = augment(x, y, parse_augment("scale:1:0.5"), np.random.default_rng(1))
    gains = (scaled / x).reshape(4, 3, -1)
    assert np.allclose(gains, gains[..., :1], rtol=1e-5)  # one gain per window and link
    assert all(len(np.unique(np.round(gains[i, :, 0], 5))) == 3 for i in range(4))  # each link its own
    shuffled = augment(x, y, parse_augment("shuffle-sub:1"), np.random.default_rng(1))
    for i in range(4):
        for link in range(3):
            assert sorted(map(tuple, shuffled[i, link])) == sorted(map(tuple, x[i, link]))  # rows of the same link
    assert all(not np.array_equal(shuffled[:, link], x[:, link]) for link in range(3))
    dropped = augment(x, y, parse_augment("drop-sub:1:0.5"), np.random.default_rng(1))
    assert all((dropped[:, link] != x[:, link]).any() for link in range(3))
