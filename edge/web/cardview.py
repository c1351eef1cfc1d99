"""The model card as the page shows it: what a person needs, without the training history.

Name, id, architecture, classes, window and hop, the feature, each head (with the position
head's measured skill and whether positions are published), the training data summary (which
data, how many windows and recordings per part) and the per-day metrics (accuracy, macro F1,
position RMSE) as the card states them.
"""

from __future__ import annotations

from csi_edge.model.card import ModelCard
from csi_edge.results import StateFields

METRIC_KEYS = ("n", "accuracy", "f1_macro", "rmse_m")
PART_KEYS = ("windows", "recordings", "packets", "parts")


def card_view(fields: StateFields) -> dict:
    view: dict = {"model_id": fields.model_id, "classes": list(fields.classes), "position_published": fields.position}
    card = fields.card
    if card is None:
        return view
    view.update(
        name=card.name, architecture=card.architecture, created=card.created, window=card.window, hop=card.hop,
        rate_Hz=card.rate_hz, feature=f"{card.feature.name} ({card.feature.transform}, {card.feature.subcarriers} subcarriers)",
        heads=[_head(h.to_dict()) for h in card.heads], training=_training(card), metrics=_metrics(card), notes=card.notes,
    )  # fmt: skip
    return view


def _head(head: dict) -> dict:
    return {k: head[k] for k in ("name", "kind", "labels", "components", "units", "baseline", "skill") if k in head}


def _training(card: ModelCard) -> dict:
    found = card.training.get("data")
    data: dict = found if isinstance(found, dict) else {}
    out: dict = {}
    for spec in ("train_specs", "val_specs", "test_specs"):
        if isinstance(data.get(spec), list):
            out[spec.removesuffix("_specs")] = ", ".join(str(s) for s in data[spec])
    parts = {}
    for part in ("train", "val", "test"):
        if isinstance(data.get(part), dict):
            parts[part] = {k: data[part][k] for k in PART_KEYS if k in data[part]}
    if parts:
        out["parts"] = parts
    return out


def _metrics(card: ModelCard) -> dict:
    out = {}
    for part, values in card.metrics.items():
        if isinstance(values, dict):
            picked = {k: values[k] for k in METRIC_KEYS if isinstance(values.get(k), (int, float))}
            if picked:
                out[str(part)] = picked
    return out
