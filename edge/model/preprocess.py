"""Window preprocessing: per-packet features (B, W, S) -> model input (B, 1, S, W'); for a joint
model over N links, (B, W, N x S) -> (B, N, S, W').

One implementation, used by the daemon, `eval` and training, driven by the model card:

1. transform along time: `none`; `diff` (first-order difference, first column repeated so the
   width stays W); `psd` (power spectral density |rfft|^2 / W of the mean-removed window,
   W' = W // 2 + 1 frequency bins);
2. per-window normalisation (`scaler.per_window`): subtract (`center-*`) or divide by
   (`divide-*`) each subcarrier's own temporal median or mean within the window: the static
   channel drifts between sessions while motion patterns do not;
3. scaler with statistics fitted on training data only: `maxmin` -> (x - min) / (max - min),
   `z` -> (x - mean) / std; each statistic a scalar or one value per subcarrier.

Between steps 2 and 3 the daemon may adapt the input to the stream (`adapt`, a callable on
the unscaled windows; csi_edge.calibration.adapt). Baseline-relative features (the card's
`feature.relative`) are a per-packet step before all of this (csi_edge.calibration.relative).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from csi_edge.model.card import ModelCard, ScalerSpec

EPS = 1e-6


def transform(windows: np.ndarray, kind: str) -> np.ndarray:
    """(B, W, S) -> (B, W', S) along the time axis."""
    if kind == "none":
        return windows
    if kind == "diff":
        return np.diff(windows, axis=1, prepend=windows[:, :1, :])
    if kind == "psd":
        centred = windows - windows.mean(axis=1, keepdims=True)
        return (np.abs(np.fft.rfft(centred, axis=1)) ** 2 / windows.shape[1]).astype(np.float32)
    raise ValueError(f"unknown transform {kind!r}")


def per_window(windows: np.ndarray, kind: str) -> np.ndarray:
    if kind == "none":
        return windows
    how, stat = kind.split("-")
    ref = np.median(windows, axis=1, keepdims=True) if stat == "median" else windows.mean(axis=1, keepdims=True)
    return windows - ref if how == "center" else windows / (np.abs(ref) + EPS)


def _stat(value) -> np.ndarray:
    return np.asarray(value, dtype=np.float32)


def scale(windows: np.ndarray, scaler: ScalerSpec) -> np.ndarray:
    if scaler.kind == "none":
        return windows
    if scaler.kind == "maxmin":
        lo, hi = _stat(scaler.min), _stat(scaler.max)
        return (windows - lo) / np.maximum(hi - lo, EPS)
    if scaler.kind == "z":
        return (windows - _stat(scaler.mean)) / np.maximum(_stat(scaler.std), EPS)
    raise ValueError(f"unknown scaler {scaler.kind!r}")


def unscaled(windows: np.ndarray, card_or_transform: ModelCard | str, per_window_kind: str = "none") -> np.ndarray:
    """Steps 1-2 only (what scaler statistics are fitted on). (B, W, S) -> (B, W', S)."""
    if isinstance(card_or_transform, ModelCard):
        per_window_kind = card_or_transform.scaler.per_window
        card_or_transform = card_or_transform.feature.transform
    x = np.asarray(windows, dtype=np.float32)
    return per_window(transform(x, card_or_transform), per_window_kind)


def prepare(windows: np.ndarray, card: ModelCard, adapt: Callable[[np.ndarray], np.ndarray] | None = None) -> np.ndarray:
    """Per-packet feature windows (B, W, links x S) -> float32 model input (B, links, S, W').

    A joint model's links (`card.links`) lie side by side along the subcarrier axis, link after
    link; every step above works per subcarrier, so each link is prepared as if it were alone."""
    u = unscaled(windows, card)
    x = scale(u if adapt is None else adapt(u), card.scaler)
    b, w, width = x.shape
    if width != card.links * card.feature.subcarriers:
        raise ValueError(f"windows of {width} values per packet; model {card.model_id} reads {card.links} link(s) of "
                         f"{card.feature.subcarriers} subcarriers")  # fmt: skip
    x = np.transpose(x, (0, 2, 1)).reshape(b, card.links, card.feature.subcarriers, w)
    return np.ascontiguousarray(x, dtype=np.float32)
