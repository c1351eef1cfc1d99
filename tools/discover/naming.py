"""Labelling by exception: name the clusters of a discovery run, merge them, export.

    csi-edge discover --name DIR 0=walking,1=sitting,2=walking,*=empty --out models/NAME
    csi-edge discover --name DIR --over 0=empty,1=walking,... --labels-out named.npz

`CLUSTER=LABEL` items (comma-separated or separate arguments) name the clusters of the kept
main sub-head (with `--over`: of the over-clustering sub-head); clusters given the same label
merge, and `*=LABEL` names every cluster not named otherwise. The exported network is the IIC
trunk and sub-head followed by a fixed (K x C) 0/1 merge matrix: a class's score is the
probability of its most probable cluster, and `class_logits` = log of it, so the daemon's
softmax reports the scores renormalised over the classes, and the reported class is always the
label of the most probable cluster. (Summing the clusters' probabilities instead would let the
class with the most clusters win whenever the sub-head is unsure: over-clustering heads are
often close to uniform, and that rule lost 16 points on the simulator, see docs/discover.md.) The card is the run's input definition (feature, window, scaler statistics) with the
named classes and a single output, `class_logits`: a discovered model has no position head.
`csi-edge run` loads it like any trained model.

`--labels-out FILE.npz` writes the run's data with per-packet labels from the named clusters
(`amplitude`, `label`, `group`: the `amplitudes:` SPEC), so `csi-edge train --data
amplitudes:FILE.npz` can refine a supervised model on them. A packet takes the label of the
first window that ends at or after it; packets after the last window's end stay unlabelled.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import torch
from torch import nn

from csi_edge.errors import DataError, UsageError
from csi_edge.model.card import ModelCard

FLOOR = 1e-6  # class probability floor before the log (an unnamed class never gets -inf)


def parse_names(items: list[str], k: int, where: str = "--name") -> list[str]:
    """['0=walking,1=sitting', '*=empty'] -> label of each of the k clusters."""
    named: dict[int, str] = {}
    rest = None
    for item in (t.strip() for token in items for t in token.split(",")):
        if not item:
            continue
        key, sep, label = (s.strip() for s in item.partition("="))
        if not sep or not key or not label:
            raise UsageError(f"{where}: {item!r}: expected CLUSTER=LABEL, e.g. 0=walking (or *=LABEL for the rest)")
        if key == "*":
            rest = label
            continue
        if not key.isdigit() or not 0 <= int(key) < k:
            raise UsageError(f"{where}: {item!r}: cluster must be 0..{k - 1}")
        if int(key) in named:
            raise UsageError(f"{where}: cluster {key} is named twice ({named[int(key)]!r} and {label!r})")
        named[int(key)] = label
    missing = [c for c in range(k) if c not in named]
    if missing and rest is None:
        raise UsageError(f"{where}: clusters {', '.join(map(str, missing))} have no name; name them or add *=LABEL for the rest")
    return [named.get(c, rest or "") for c in range(k)]


def class_order(labels: list[str]) -> tuple[str, ...]:
    """Sorted class names, "empty" first when present (the training convention)."""
    names = sorted(set(labels))
    if "empty" in names:
        names.remove("empty")
        names.insert(0, "empty")
    return tuple(names)


def merge_matrix(labels: list[str], classes: tuple[str, ...]) -> np.ndarray:
    m = np.zeros((len(labels), len(classes)), dtype=np.float32)
    for c, label in enumerate(labels):
        m[c, classes.index(label)] = 1.0
    return m


def class_scores(probs: np.ndarray, merge: np.ndarray) -> np.ndarray:
    """(M, K) cluster probabilities -> (M, C): each class's most probable cluster (numpy twin of NamedModel)."""
    return (probs[:, :, None] * merge[None, :, :]).max(axis=1)


class NamedModel(nn.Module):
    """(B, 1, S, W) -> class_logits (B, C) = log(probability of the class's most probable cluster)."""

    def __init__(self, trunk: nn.Module, head: nn.Linear, merge: np.ndarray) -> None:
        super().__init__()
        self.trunk = trunk
        self.head = head
        self.register_buffer("merge", torch.as_tensor(merge, dtype=torch.float32))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        probs = self.head(self.trunk(x)).softmax(dim=1)
        scores = (probs.unsqueeze(2) * self.merge.unsqueeze(0)).amax(dim=1)
        return scores.clamp_min(FLOOR).log()


def named_model(run, labels: list[str], over: bool) -> tuple[NamedModel, tuple[str, ...]]:
    """A NamedModel from a loaded run (`store.Run`) and the label of each cluster."""
    heads = run.net.over if over else run.net.heads
    index = run.over if over else run.head
    if index is None:
        raise UsageError(f"{run.directory}: this run has no over-clusters (it was made without --overclusters); drop --over")
    classes = class_order(labels)
    return NamedModel(run.net.trunk, heads[index], merge_matrix(labels, classes)).eval(), classes


def export_card(run, classes: tuple[str, ...], mapping: dict, metrics: dict) -> ModelCard:
    training = {
        "method": "IIC (invariant information clustering), clusters named by hand (csi-edge discover --name)",
        "discover": {k: v for k, v in run.meta.items() if k != "input_card"},
        "names": mapping,
    }
    notes = ("Discovered without labels (csi-edge discover), clusters named by hand. Metrics on the discovery data are "
             "transductive; judge the model by `csi-edge discover --name ... --test SPEC` on other sessions.")
    return dataclasses.replace(run.card_for(classes), architecture="compact-iic", training=training, metrics=metrics, notes=notes)


def packet_labels(ends: np.ndarray, window_labels: list[str], n: int) -> np.ndarray:
    """Per-packet labels of one recording from its windows' last packets `ends` (sorted)."""
    out = np.full(n, "", dtype=object)
    prev = -1
    for end, label in zip(ends, window_labels, strict=True):
        out[prev + 1 : end + 1] = label
        prev = int(end)
    return out


def write_labels_npz(path: Path, wins, window_labels: list[str]) -> dict:
    """amplitude / label / group NPZ (the `amplitudes:` SPEC) from per-window labels."""
    if wins.recordings and wins.recordings[0].features.dtype.kind != "f":
        raise DataError(f"{path}: the run's features are not amplitudes")
    amps, labels, groups = [], [], []
    for r, rec in enumerate(wins.recordings):
        sel = np.nonzero(wins.rec == r)[0]
        amps.append(rec.features)
        labels.append(packet_labels(wins.end[sel], [window_labels[i] for i in sel], len(rec)))
        groups.append(np.full(len(rec), r, dtype=np.int64))
    label = np.concatenate(labels).astype(str)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, amplitude=np.concatenate(amps).astype(np.float32), label=label, group=np.concatenate(groups))
    values, counts = np.unique(label, return_counts=True)
    return {str(v) or "(unlabelled)": int(c) for v, c in zip(values, counts, strict=True)}
