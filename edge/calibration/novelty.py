"""Novelty of a window: how unlike the training data of the known classes it looks.

A score of the activity head's logits (higher = more novel):
- `msp`: 1 - the largest softmax probability (maximum softmax probability, Hendrycks & Gimpel 2017);
- `energy`: -logsumexp(logits) (energy score, Liu et al. 2020).
Both work with any classifier exported to ONNX (no access to inner features needed).

The card's `novelty.quantiles` are the score's percentiles on held-out windows of the known
classes; novelty = the interpolated fraction of those windows that score lower, 0..1 (0.99:
more unusual than 99 % of held-out windows). Above `threshold` (0.99 by default, i.e. 1 % of
known held-out windows would be called unknown) the daemon reports `activity: "unknown"`.
With `tails = "both"` a score far *below* the held-out range counts too (|2F - 1|): an unknown
activity with stronger signals than any known one (walking, for a model that never saw it)
makes the logits *more* confident, not less (docs/benchmarks.md#calibration-drift-novelty-and-adaptation-across-sessions).
"""

from __future__ import annotations

import numpy as np

from csi_edge.model.card import NoveltySpec

N_QUANTILES = 101


def novelty_score(kind: str, logits: np.ndarray) -> np.ndarray:
    """(B, C) logits -> (B,) raw score, higher = more novel."""
    z = np.asarray(logits, dtype=np.float64)
    top = z.max(axis=-1, keepdims=True)
    lse = top[..., 0] + np.log(np.exp(z - top).sum(axis=-1))
    if kind == "msp":
        return 1.0 - np.exp(top[..., 0] - lse)
    if kind == "energy":
        return -lse
    raise ValueError(f"unknown novelty score {kind!r}")


def fit_quantiles(scores: np.ndarray, n: int = N_QUANTILES) -> tuple[float, ...]:
    """Percentiles 0..100 of held-out scores (the card's `novelty.quantiles`)."""
    q = np.percentile(np.asarray(scores, dtype=np.float64), np.linspace(0, 100, n))
    return tuple(float(v) for v in np.maximum.accumulate(q))


def novelty_from_scores(scores: np.ndarray, quantiles) -> np.ndarray:
    """Raw scores -> novelty in 0..1: the fraction of held-out windows scoring lower (linear
    between percentiles; on a plateau of equal percentiles, its lower end)."""
    q = np.asarray(quantiles, dtype=np.float64)
    s = np.asarray(scores, dtype=np.float64)
    levels = np.linspace(0.0, 1.0, len(q))
    idx = np.searchsorted(q, s, side="left")  # percentiles strictly below each score
    hi = np.clip(idx, 1, len(q) - 1)
    lo_q, hi_q = q[hi - 1], q[hi]
    frac = np.clip((s - lo_q) / np.maximum(hi_q - lo_q, 1e-300), 0.0, 1.0)
    out = levels[hi - 1] + frac * (levels[hi] - levels[hi - 1])
    return np.where(idx == 0, 0.0, np.where(idx >= len(q), 1.0, out))


def novelty(spec: NoveltySpec, logits: np.ndarray) -> np.ndarray:
    """(B, C) logits -> (B,) novelty 0..1 as the card defines it (`tails` "both": |2F - 1|, so a
    window scoring below nearly every held-out window is as novel as one scoring above)."""
    f = novelty_from_scores(novelty_score(spec.score, logits), spec.quantiles)
    return np.abs(2.0 * f - 1.0) if spec.tails == "both" else f


def auroc(scores_known: np.ndarray, scores_unknown: np.ndarray) -> float:
    """Area under the ROC curve of `unknown vs known` by score (ties count half); NaN if a side is empty."""
    k, u = np.asarray(scores_known, np.float64), np.asarray(scores_unknown, np.float64)
    if not len(k) or not len(u):
        return float("nan")
    both = np.concatenate([k, u])
    order = np.argsort(both, kind="mergesort")
    ranks = np.empty(len(both))
    sorted_vals = both[order]
    # average ranks of ties
    uniq, first, counts = np.unique(sorted_vals, return_index=True, return_counts=True)
    avg = first + (counts - 1) / 2.0 + 1.0
    ranks[order] = np.repeat(avg, counts)
    rank_u = ranks[len(k):].sum()
    return float((rank_u - len(u) * (len(u) + 1) / 2.0) / (len(k) * len(u)))
