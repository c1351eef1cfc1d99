"""Position skill: the network's position error beside the error of a constant.

A position head is worth publishing only when it beats the trivial answer "the person is
where people usually are": the constant baseline, the mean position of the training windows
(`baseline_position`). `position_skill` measures both root mean squared Euclidean errors on
the same windows, so the ratio `rmse_m / baseline_rmse_m` says how much the network knows
about position (1.0: nothing; the daemon publishes positions only below its configured
`[model] position_skill_ratio`, 0.8 by default).

Training declares it in the card's position head (schema 2: `baseline` and `skill`, measured on
the validation windows; `declare_position`), and per test part `rmse_m` and `baseline_rmse_m` in
`metrics`. A model trained without positions has no position head.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from csi_edge.model.card import POSITION, ModelCard, Skill, position_head
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


def declare_position(card: ModelCard, skill: dict | None, baseline_xyz) -> ModelCard:
    """The card with its position head as training measured it: no head without positions
    (`baseline_xyz` None), else the constant baseline and the skill (None: not measured)."""
    heads = tuple(h for h in card.heads if h.name != POSITION)
    if baseline_xyz is None:
        return dataclasses.replace(card, heads=heads)
    old = card.head(POSITION)
    measured = None
    if skill is not None:
        rest = {k: v for k, v in skill.items() if k not in ("rmse_m", "baseline_rmse_m", "measured_on", "baseline_xyz")}
        measured = Skill(float(skill["rmse_m"]), float(skill["baseline_rmse_m"]), str(skill.get("measured_on", "")), rest)
    head = position_head(old.output if old else "position", old.units if old else "m", baseline_xyz, measured)
    return dataclasses.replace(card, heads=(*heads, head))
