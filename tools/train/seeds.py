"""Mean +- standard deviation of per-part metrics over several seeds."""

from __future__ import annotations

import numpy as np

KEYS = ("accuracy", "f1_macro", "precision", "recall", "rmse_m", "baseline_rmse_m")


def summarise(runs: list[dict]) -> dict:
    """[{part: {metric: value}}] per seed -> {part: {metric: {"mean", "std", "values"}}}."""
    out: dict = {}
    for part in runs[0] if runs else {}:
        out[part] = {}
        for key in KEYS:
            values = [r[part][key] for r in runs if part in r and key in r[part]]
            if values:
                out[part][key] = {"mean": float(np.mean(values)), "std": float(np.std(values)), "values": [float(v) for v in values]}
    return out


def fmt(stat: dict | None, scale: float = 1.0, digits: int = 1) -> str:
    if not stat:
        return "-"
    return f"{stat['mean'] * scale:.{digits}f} ± {stat['std'] * scale:.{digits}f}"
