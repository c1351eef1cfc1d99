"""Baseline-relative packet features: each amplitude in dB relative to the link's baseline.

`relative_dB(a, profile)` = 20 log10(a / profile) per subcarrier. The room's static frequency
response (what the empty-room baseline holds) becomes 0 dB everywhere; a person standing
still, or furniture moved, shows as a lasting offset. That is the difference from per-window
centring, which removes every window's own static level, including a still person's. A model
trained on these features records `feature.relative = "db"` in its card and needs a baseline
at run time (`csi-edge run --baseline FILE`); training takes one baseline per dataset part
(`csi-edge train --baseline PART=FILE`).
"""

from __future__ import annotations

import numpy as np

from csi_edge.calibration.stats import EPS


def relative_dB(amplitudes: np.ndarray, profile: np.ndarray) -> np.ndarray:
    """(..., S) amplitudes -> float32 dB relative to `profile` (S,)."""
    a = np.maximum(np.asarray(amplitudes, dtype=np.float32), EPS)
    return (20.0 * np.log10(a / np.maximum(np.asarray(profile, dtype=np.float32), EPS))).astype(np.float32)


def apply_relative(kind: str, amplitudes: np.ndarray, profile: np.ndarray | None) -> np.ndarray:
    """The card's `feature.relative` step; `none` passes the amplitudes through."""
    if kind == "none":
        return amplitudes
    if profile is None:
        raise ValueError("a baseline-relative model needs a baseline")
    if kind == "db":
        return relative_dB(amplitudes, profile)
    raise ValueError(f"unknown relative feature {kind!r}")
