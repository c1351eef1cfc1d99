"""Fitting what the model card stores: scaler statistics and the optional PCA/ICA reducer.

Everything is fitted on TRAINING windows only (a seeded sample of at most `FIT_WINDOWS`),
through `csi_edge.model.preprocess` so the statistics match what the daemon computes.
The reducer maps the subcarrier axis of the prepared input, S -> d, linearly
(PCA: W = components, b = -W mean; ICA: FastICA's unmixing matrix likewise), and becomes
the first MatMul of the exported network (`nets.Reducer`): the ONNX input stays [B, 1, S, W].
UMAP is non-linear and cannot be folded into the graph; see `fit_umap`.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from csi_edge.model.card import FeatureSpec, ModelCard, ScalerSpec, standard_heads
from csi_edge.model.preprocess import prepare, unscaled
from csi_edge.tools.train.datasets import WindowSet

FIT_WINDOWS = 2048
REDUCERS = ("none", "pca", "ica", "umap")


def draft_card(name: str, ws: WindowSet, feature: str, transform: str, scaler: str, per_window: str, layouts=("none", "below", "above")) -> ModelCard:
    w_out = ws.window // 2 + 1 if transform == "psd" else ws.window
    return ModelCard(
        name=name,
        onnx_file=f"{name}.onnx",
        onnx_sha256="",
        window=ws.window,
        hop=ws.hop,
        heads=standard_heads(ws.classes),
        feature=FeatureSpec(name=feature, transform=transform, subcarriers=ws.subcarriers, layouts=tuple(layouts)),
        scaler=ScalerSpec(kind=scaler, per_window=per_window),
        input_shape=(None, ws.links, ws.subcarriers, w_out),
        links=ws.links,
    )


def fit_sample(ws: WindowSet, seed: int, limit: int = FIT_WINDOWS) -> np.ndarray:
    rng = np.random.default_rng(seed)
    idx = np.sort(rng.choice(len(ws), size=min(limit, len(ws)), replace=False))
    return ws.windows(idx)


def fit_scaler(card: ModelCard, windows: np.ndarray, per_subcarrier: bool = False) -> ModelCard:
    """Card with scaler statistics fitted on training feature windows (B, W, S)."""
    if card.scaler.kind == "none":
        return card
    x = unscaled(windows, card)  # (B, W', S)
    axis = (0, 1) if per_subcarrier else None

    def stat(fn):
        v = fn(x, axis=axis)
        return [float(a) for a in np.ravel(v)] if per_subcarrier else float(v)

    if card.scaler.kind == "maxmin":
        scaler = dataclasses.replace(card.scaler, min=stat(np.min), max=stat(np.max))
    else:
        scaler = dataclasses.replace(card.scaler, mean=stat(np.mean), std=stat(np.std))
    return dataclasses.replace(card, scaler=scaler)


def fit_reducer(kind: str, dims: int, card: ModelCard, windows: np.ndarray, seed: int):
    """(weight (d, S), bias (d,)) of a linear reducer fitted on prepared training windows."""
    x = prepare(windows, card)[:, 0]  # (B, S, W')
    rows = np.transpose(x, (0, 2, 1)).reshape(-1, x.shape[1])  # packets x subcarriers
    rng = np.random.default_rng(seed)
    if len(rows) > 50_000:
        rows = rows[rng.choice(len(rows), 50_000, replace=False)]
    if kind == "pca":
        from sklearn.decomposition import PCA

        model = PCA(n_components=dims, random_state=seed).fit(rows)
    elif kind == "ica":
        from sklearn.decomposition import FastICA

        model = FastICA(n_components=dims, whiten="unit-variance", random_state=seed, max_iter=400).fit(rows)
    else:
        raise ValueError(f"reducer {kind!r} is not linear")
    weight = np.asarray(model.components_, dtype=np.float32)
    bias = -(weight @ np.asarray(model.mean_, dtype=np.float32))
    return weight, bias


def fit_umap(dims: int, rows: np.ndarray, seed: int):
    """A UMAP embedding of packet rows (n, S) -> fitted reducer (non-linear: ablation only)."""
    import umap

    return umap.UMAP(n_components=dims, random_state=seed, n_neighbors=15, low_memory=True).fit(rows)
