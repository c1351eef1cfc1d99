"""Clusters against labels, and the k-means baseline on the same input windows.

- `acc`: clustering accuracy, the fraction of windows whose cluster maps to their class under
  the best one-to-one matching of clusters to classes (Hungarian algorithm,
  `scipy.optimize.linear_sum_assignment` on the contingency table). With more clusters than
  classes the unmatched clusters count as wrong, so over-clusterings are scored by `acc_many`:
  each cluster takes its majority class (many-to-one; what naming clusters can reach at best).
- `nmi`, `ari`: normalised mutual information and adjusted Rand index (scikit-learn).
Only labelled windows are scored.

k-means (scikit-learn `KMeans`, k-means++ initialisation, `n_init` restarts, seeded) runs on the
flattened model input (B, S x W'), exactly the windows IIC sees before any pair is made. It is
fitted on a seeded sample of at most `KMEANS_FIT` windows and then assigns every window.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment

from csi_edge.model.card import ModelCard
from csi_edge.model.preprocess import prepare
from csi_edge.tools.discover.windows import Windows

KMEANS_FIT = 3000
KMEANS_INIT = 4


def contingency(y: np.ndarray, c: np.ndarray, n_clusters: int, n_classes: int) -> np.ndarray:
    """(clusters, classes) window counts."""
    table = np.zeros((n_clusters, n_classes), dtype=np.int64)
    np.add.at(table, (c, y), 1)
    return table


def matching(y: np.ndarray, c: np.ndarray, n_clusters: int, n_classes: int) -> dict[int, int]:
    """Cluster -> class of the best one-to-one matching (Hungarian); unmatched clusters absent."""
    table = contingency(y, c, n_clusters, n_classes)
    rows, cols = linear_sum_assignment(-table)
    return {int(r): int(k) for r, k in zip(rows, cols, strict=True)}


def scores(y: np.ndarray, c: np.ndarray, n_clusters: int, n_classes: int) -> dict:
    """acc, acc_many, nmi, ari, n for class indices y and cluster indices c (labelled windows only)."""
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    y, c = np.asarray(y, dtype=np.int64), np.asarray(c, dtype=np.int64)
    if len(y) == 0:
        return {"acc": None, "acc_many": None, "nmi": None, "ari": None, "n": 0}
    table = contingency(y, c, n_clusters, n_classes)
    rows, cols = linear_sum_assignment(-table)
    return {
        "acc": round(float(table[rows, cols].sum() / len(y)), 4),
        "acc_many": round(float(table.max(axis=1).sum() / len(y)), 4),
        "nmi": round(float(normalized_mutual_info_score(y, c)), 4),
        "ari": round(float(adjusted_rand_score(y, c)), 4),
        "n": int(len(y)),
    }


def scores_by_part(wins: Windows, clusters: np.ndarray, n_clusters: int) -> dict:
    """Scores over all labelled windows, plus per part when there are several parts."""
    lab = wins.labelled
    out = {"all": scores(wins.y[lab], clusters[lab], n_clusters, len(wins.classes))}
    parts = wins.parts()
    if len(parts) > 1:
        for name, idx in parts.items():
            idx = idx[lab[idx]]
            out[name] = scores(wins.y[idx], clusters[idx], n_clusters, len(wins.classes))
    return out


def flat_inputs(wins: Windows, card: ModelCard, idx: np.ndarray, batch: int = 256) -> np.ndarray:
    out = np.empty((len(idx), card.feature.subcarriers * int(card.input_shape[3])), dtype=np.float32)
    for a in range(0, len(idx), batch):
        out[a : a + batch] = prepare(wins.windows(idx[a : a + batch]), card).reshape(len(idx[a : a + batch]), -1)
    return out


def kmeans_clusters(wins: Windows, card: ModelCard, k: int, seed: int) -> np.ndarray:
    """k-means cluster of every window on the flattened model input."""
    return kmeans_distances(wins, card, k, seed).argmin(axis=1)


def kmeans_distances(wins: Windows, card: ModelCard, k: int, seed: int) -> np.ndarray:
    """(M, k) distance of every window's flattened model input to each k-means centre."""
    from sklearn.cluster import KMeans

    rng = np.random.default_rng(seed)
    fit_idx = np.sort(rng.choice(len(wins), size=min(KMEANS_FIT, len(wins)), replace=False))
    model = KMeans(n_clusters=k, n_init=KMEANS_INIT, random_state=seed).fit(flat_inputs(wins, card, fit_idx))
    out = np.empty((len(wins), k), dtype=np.float32)
    for a in range(0, len(wins), 1024):
        idx = np.arange(a, min(a + 1024, len(wins)))
        out[idx] = model.transform(flat_inputs(wins, card, idx))
    return out
