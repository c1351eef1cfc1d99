"""One discovery run: windows -> input definition -> IIC -> assignments -> scores (+ k-means).

Used by `csi-edge discover` and by the measurement study (`study.py`), so both run the same way.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from csi_edge.errors import DataError, UsageError
from csi_edge.model.card import ModelCard
from csi_edge.tools.discover.iic import IICConfig, IICResult, assign, train_iic
from csi_edge.tools.discover.metrics import kmeans_clusters, scores_by_part
from csi_edge.tools.discover.windows import Windows
from csi_edge.tools.train import prep
from csi_edge.tools.train.specs import load_specs


@dataclass(frozen=True)
class InputDef:
    """The input definition (the same options and defaults as `csi-edge train`)."""

    window: int = 351
    hop: int = 10
    feature: str = "amplitude"
    transform: str = "none"
    scaler: str = "maxmin"
    scaler_stats: str = "global"
    per_window: str = "center-mean"


@dataclass
class Discovery:
    wins: Windows
    card: ModelCard
    result: IICResult
    probs: np.ndarray  # (M, K) soft assignments of the kept main sub-head
    over_probs: np.ndarray | None  # (M, K2) of the kept over-clustering sub-head
    summary: dict


def load_windows(specs: list[str], inp: InputDef, label_regex: str | None) -> Windows:
    recordings = load_specs(specs, inp.feature, label_regex)
    if any(r.links > 1 for r in recordings):
        raise UsageError(f"{', '.join(specs)}: discover reads one link at a time (give sim link=N, not links=...)")
    wins = Windows(recordings, inp.window, inp.hop)
    if len(wins) < 2:
        raise DataError(f"{', '.join(specs)}: {len(wins)} window(s) of {inp.window} packets; need more data or a shorter --window")
    return wins


def input_card(wins: Windows, inp: InputDef, seed: int) -> ModelCard:
    """Card draft with scaler statistics fitted on (a seeded sample of) the run's windows."""
    layouts = sorted({name for r in wins.recordings for name in r.layouts}) or ["none", "below", "above"]
    card = prep.draft_card("discovered", wins, inp.feature, inp.transform, inp.scaler, inp.per_window, layouts)
    return prep.fit_scaler(card, prep.fit_sample(wins, seed), per_subcarrier=inp.scaler_stats == "subcarrier")


def discover(wins: Windows, card: ModelCard, cfg: IICConfig, kmeans: bool = True) -> Discovery:
    if cfg.clusters < 2 or (cfg.overclusters and cfg.overclusters <= cfg.clusters):
        raise UsageError(f"--clusters must be >= 2 and --overclusters > --clusters (got {cfg.clusters}, {cfg.overclusters})")
    result = train_iic(cfg, wins, card)
    probs = assign(result.net, wins, card, result.head)
    over = assign(result.net, wins, card, result.over, over=True) if result.over is not None else None
    summary = summarise(wins, cfg, result, probs, over)
    if kmeans and wins.labelled.any():
        t0 = time.perf_counter()
        summary["kmeans"] = _flat(scores_by_part(wins, kmeans_clusters(wins, card, cfg.clusters, cfg.seed), cfg.clusters))
        if over is not None:
            summary["kmeans_over"] = _flat(scores_by_part(wins, kmeans_clusters(wins, card, cfg.overclusters, cfg.seed), cfg.overclusters))
        summary["kmeans_seconds"] = round(time.perf_counter() - t0, 1)
    return Discovery(wins, card, result, probs, over, summary)


def _flat(by_part: dict) -> dict:
    """{'all': s, 'd1': s1} -> s with a `parts` entry (when there are several parts)."""
    out = dict(by_part["all"])
    if len(by_part) > 1:
        out["parts"] = {k: v for k, v in by_part.items() if k != "all"}
    return out


def summarise(wins: Windows, cfg: IICConfig, result: IICResult, probs: np.ndarray, over: np.ndarray | None) -> dict:
    clusters = probs.argmax(axis=1)
    summary: dict = {}
    if wins.labelled.any():
        summary.update(_flat(scores_by_part(wins, clusters, cfg.clusters)))
    else:
        summary.update(acc=None, nmi=None, ari=None, n=0)
    summary.update(
        windows=int(len(wins)),
        labelled_windows=int(wins.labelled.sum()),
        classes=list(wins.classes),
        sizes=np.bincount(clusters, minlength=cfg.clusters).tolist(),
        head=result.head,
        head_losses=[round(v, 4) for v in result.head_losses],
        seconds=round(result.seconds, 1),
        pairs_per_s=round(result.pairs_per_s, 1),
        config=cfg.as_dict(),
    )
    if over is not None:
        oc = over.argmax(axis=1)
        summary["over"] = {
            **(_flat(scores_by_part(wins, oc, cfg.overclusters)) if wins.labelled.any() else {}),
            "sizes": np.bincount(oc, minlength=cfg.overclusters).tolist(),
            "head": result.over,
            "head_losses": [round(v, 4) for v in result.over_losses],
        }
    return summary
