"""Pairs (x, x') that share the activity: what the clusters learn to ignore.

- `augment`: x' = a label-preserving augmentation of x, with the training augmentations
  (`csi_edge.tools.train.augment`): magnitude scaling (+-10 %), circular time rotation (up to
  +-12.5 % of the window) and subcarrier dropout (5 % of the rows). Never a time flip: it turns
  sitting down into standing up.
- `temporal`: x' = the window `NEAR_PACKETS` (20-50 packets, 200-500 ms at 100 Hz) later in the
  same recording (earlier when the recording ends first): an activity persists over a few
  hundred milliseconds, the noise does not.
- `both`: the temporal neighbour, augmented.
- `noisy`: `both`, then a per-subcarrier gain (x' deviations from the window's own
  per-subcarrier mean multiplied by g ~ U(1 - `GAIN`, 1 + `GAIN`)) and additive white noise
  (sigma ~ U(0, `NOISE`) times the window's standard deviation): the link's SNR and gains change
  with the distance between the boards and between sessions, the activity does not.

Both members are prepared exactly as the exported model sees its input
(`csi_edge.model.preprocess.prepare` with the card: features, per-window normalisation, scaler).
"""

from __future__ import annotations

import numpy as np

from csi_edge.model.card import ModelCard
from csi_edge.model.preprocess import prepare
from csi_edge.tools.discover.windows import Windows
from csi_edge.tools.train.augment import Aug, augment

PAIRS = ("augment", "temporal", "both", "noisy")
GAIN, NOISE = 0.3, 1.0
AUGMENT = (Aug("scale", 1.0, 0.1), Aug("rotate", 1.0, 0.125), Aug("drop-sub", 1.0, 0.05))
NEAR_PACKETS = (20, 50)


def neighbour_starts(wins: Windows, idx: np.ndarray, rng: np.random.Generator, near: tuple[int, int] = NEAR_PACKETS) -> np.ndarray:
    """First packet of a window `near` packets after each window `idx` (before it at the end)."""
    start = wins.start[idx]
    last_start = wins.lengths()[wins.rec[idx]] - wins.window
    offset = rng.integers(near[0], near[1] + 1, size=len(idx))
    later = start + offset
    earlier = np.maximum(start - offset, 0)
    return np.where(later <= last_start, later, earlier)


def make_pairs(kind: str, wins: Windows, idx: np.ndarray, card: ModelCard, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(x, x') model inputs (B, 1, S, W') for windows `idx`."""
    x = prepare(wins.windows(idx), card)
    if kind == "augment":
        other = x
    elif kind in ("temporal", "both", "noisy"):
        other = prepare(wins.gather(wins.rec[idx], neighbour_starts(wins, idx, rng)), card)
    else:
        raise ValueError(f"unknown pair kind {kind!r} (known: {', '.join(PAIRS)})")
    if kind in ("augment", "both", "noisy"):
        other = augment(other, np.zeros(len(idx), np.int64), AUGMENT, rng)
    if kind == "noisy":
        other = jitter(other, rng)
    return x, other


def jitter(x: np.ndarray, rng: np.random.Generator, gain: float = GAIN, noise: float = NOISE) -> np.ndarray:
    """Per-subcarrier gain around each row's mean and additive noise, on inputs (B, 1, S, W)."""
    b, _, s, _ = x.shape
    mean = x.mean(axis=3, keepdims=True)
    g = rng.uniform(1 - gain, 1 + gain, size=(b, 1, s, 1)).astype(np.float32)
    sigma = rng.uniform(0, noise, size=(b, 1, 1, 1)).astype(np.float32) * x.std(axis=(2, 3), keepdims=True)
    return (mean + (x - mean) * g + sigma * rng.standard_normal(x.shape, dtype=np.float32)).astype(np.float32)
