"""Unknown activities: training on a subset of the labels, the card's novelty calibration, and
novelty AUROC on data that holds classes the model does not know (docs/calibration.md).

- `--classes a,b,c` (train): the model knows only these labels; windows of other labels are
  left out of training and validation, and counted as *unknown* in test data.
- `novelty_spec`: the score's percentiles on the validation windows (known classes only) ->
  the card's `novelty` (csi_edge.calibration.novelty), threshold 0.99 by default.
- `open_set_metrics`: per part, `novelty_auroc` (unknown vs known windows, by the card's
  score; `novelty_auroc_msp` / `_energy` for both scores), the share of known and unknown
  windows reported as `unknown` at the threshold, and `n_unknown`.
"""

from __future__ import annotations

import numpy as np

from csi_edge.calibration.novelty import auroc, fit_quantiles, novelty, novelty_from_scores, novelty_score
from csi_edge.errors import UsageError
from csi_edge.model.card import NOVELTY_SCORES, ModelCard, NoveltySpec
from csi_edge.tools.train.datasets import Recording, WindowSet, classes_of

DEFAULT_SCORE = "energy"
DEFAULT_THRESHOLD = 0.99


def select_classes(recordings: list[Recording], wanted: str | None) -> tuple[str, ...]:
    """The model's classes: all labels of the training data, or the `--classes` subset."""
    present = classes_of(recordings)
    if not wanted:
        return present
    chosen = tuple(c.strip() for c in wanted.split(",") if c.strip())
    missing = [c for c in chosen if c not in present]
    if missing or len(chosen) < 2 or len(set(chosen)) != len(chosen):
        raise UsageError(f"--classes {wanted!r}: needs >= 2 distinct labels of the training data "
                         f"({', '.join(present)}){'; not found: ' + ', '.join(missing) if missing else ''}")
    return tuple(c for c in present if c in chosen)  # the training order ("empty" first)


def novelty_spec(val_logits: np.ndarray, score: str = DEFAULT_SCORE, threshold: float = DEFAULT_THRESHOLD,
                 measured_on: str = "validation", tails: str = "both") -> NoveltySpec:  # fmt: skip
    if score not in NOVELTY_SCORES:
        raise UsageError(f"--novelty-score must be one of {', '.join(NOVELTY_SCORES)} (got {score!r})")
    scores = novelty_score(score, val_logits)
    return NoveltySpec(score, fit_quantiles(scores), threshold, measured_on, {"windows": int(len(scores))}, tails)


def open_set(recordings: list[Recording], ws: WindowSet) -> WindowSet | None:
    """All windows of the recordings, known and unknown labels; None when no label is unknown."""
    labels = classes_of(recordings)
    unknown = [c for c in labels if c not in ws.classes]
    if not unknown:
        return None
    return WindowSet(recordings, ws.window, ws.hop, tuple(ws.classes) + tuple(unknown))


def open_set_metrics(card: ModelCard, all_ws: WindowSet, logits: np.ndarray) -> dict[str, dict]:
    """Per part (+ `all`): novelty AUROC of unknown vs known windows, and rates at the threshold."""
    n_known = len(card.classes)
    unknown = all_ws.y >= n_known
    parts = dict(all_ws.parts())
    if len(parts) > 1:
        parts["all"] = np.arange(len(all_ws))
    out: dict[str, dict] = {}
    for name, idx in parts.items():
        k, u = idx[~unknown[idx]], idx[unknown[idx]]
        m: dict = {"n_unknown": int(len(u)), "unknown_classes": sorted({all_ws.classes[c] for c in all_ws.y[u]})}
        for score in NOVELTY_SCORES:
            s = novelty_score(score, logits)
            m[f"novelty_auroc_{score}"] = auroc(s[k], s[u])
        if card.novelty is not None:
            f = novelty_from_scores(novelty_score(card.novelty.score, logits), card.novelty.quantiles)
            both = np.abs(2.0 * f - 1.0)
            m["novelty_auroc_both"] = auroc(both[k], both[u])  # two-sided (tails "both")
            m["novelty_auroc"] = m["novelty_auroc_both"] if card.novelty.tails == "both" else m[f"novelty_auroc_{card.novelty.score}"]
            nov = novelty(card.novelty, logits[idx])
            flagged = nov > card.novelty.threshold
            m["unknown_rate_known"] = float(flagged[~unknown[idx]].mean()) if len(k) else float("nan")
            m["unknown_rate_unknown"] = float(flagged[unknown[idx]].mean()) if len(u) else float("nan")
        else:
            m["novelty_auroc"] = m[f"novelty_auroc_{DEFAULT_SCORE}"]
        out[name] = m
    return out
