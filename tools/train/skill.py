"""Position skill: the network's position error beside the error of a constant.

A position head is worth publishing only when it beats the trivial answer "the person is
where people usually are": the constant baseline, the mean position of the training windows
(`baseline_position`). `position_skill` measures both root mean squared Euclidean errors on
the same windows, so the ratio `rmse_m / baseline_rmse_m` says how much the network knows
about position (1.0: nothing; the daemon publishes positions only below its configured
`[model] position_skill_ratio`, 0.8 by default).

Training records it in the card (schema 1: `training["position_skill"]`, measured on the
validation windows; per test part `rmse_m` and `baseline_rmse_m` in `metrics`). A model trained
without positions records none.
"""

from __future__ import annotations

import numpy as np

from csi_edge.tools.train.datasets import WindowSet


def baseline_position(ws: WindowSet) -> np.ndarray | None:
    """(3,) mean position of the windows of `ws` that have one; None when none has."""
    pos = ws.positions(np.arange(len(ws)))
    known = np.isfinite(pos).all(axis=1)
    return pos[known].mean(axis=0).astype(np.float64) if known.any() else None


def rmse(pred: np.ndarray, true: np.ndarray) -> float:
    """Root mean squared Euclidean error (metres) over rows; `pred` may be one (3,) row."""
    return float(np.sqrt(np.mean(np.sum((np.asarray(pred) - true) ** 2, axis=-1))))


def position_skill(pred: np.ndarray, true: np.ndarray, baseline_xyz: np.ndarray | None, measured_on: str) -> dict | None:
    """{rmse_m, baseline_rmse_m, ratio, n_positions, measured_on, baseline_xyz} over the rows
    of `true` (M, 3) that are known; None without a baseline or a known position."""
    known = np.isfinite(true).all(axis=1)
    if baseline_xyz is None or not known.any():
        return None
    model, base = rmse(pred[known], true[known]), rmse(np.asarray(baseline_xyz)[None], true[known])
    return {
        "rmse_m": round(model, 4),
        "baseline_rmse_m": round(base, 4),
        "ratio": round(model / base, 4) if base > 0 else None,
        "n_positions": int(known.sum()),
        "measured_on": measured_on,
        "baseline_xyz": [float(v) for v in baseline_xyz],
    }
