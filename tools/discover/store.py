"""A discovery run on disk, for naming it later (`csi-edge discover --name DIR ...`).

`DIR/discover.pt` holds the IIC network's weights, the kept sub-heads and the run's metadata
(configuration, SPECs, data summary, metrics, and the input definition: feature, window, hop,
transform, per-window normalisation and the scaler statistics fitted on the run's windows).
Only tensors and plain values: it loads with `torch.load(weights_only=True)`.

The model card of a named model is drafted by the training code (`prep.draft_card`, so it
follows the card schema), given the stored input definition and the named classes, and keeps
only the classes output: a discovered model has no position head.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import torch

from csi_edge.errors import DataError
from csi_edge.model.card import ModelCard, ScalerSpec
from csi_edge.tools.discover.iic import IICNet
from csi_edge.tools.train.skill import declare_position

CHECKPOINT = "discover.pt"
SOFT = "soft.npz"  # soft assignments of every window (probs, over) and its class index y, classes


@dataclass
class Run:
    directory: Path
    net: IICNet
    head: int
    over: int | None
    meta: dict  # config, specs, label_regex, input, input_card, data summary, metrics

    def card_for(self, classes: tuple[str, ...], name: str = "discovered") -> ModelCard:
        """A card with the run's input definition and scaler statistics, and `classes` only."""
        from csi_edge.tools.train.prep import draft_card

        spec = self.meta["input_card"]
        shape = SimpleNamespace(window=spec["window"], hop=spec["hop"], classes=tuple(classes), subcarriers=spec["feature"]["subcarriers"],
                                links=1)
        feature = spec["feature"]
        card = draft_card(name, shape, feature["name"], feature["transform"], spec["scaler"]["kind"], spec["scaler"]["per_window"],
                          tuple(feature["layouts"]))
        # a discovered model has no positions: no position head
        return declare_position(dataclasses.replace(card, scaler=ScalerSpec(**spec["scaler"])), None, None)


def input_spec(card: ModelCard) -> dict:
    """The input definition of a card as plain values (stored in discover.pt)."""
    return {"window": card.window, "hop": card.hop, "feature": dataclasses.asdict(card.feature), "scaler": dataclasses.asdict(card.scaler)}


def save_soft(out: Path, probs, over, y, classes) -> None:
    import numpy as np

    np.savez_compressed(out / SOFT, probs=probs, over=over if over is not None else np.zeros((len(probs), 0), np.float32),
                        y=y, classes=np.asarray(classes, dtype=str))


def save_run(out: Path, net: IICNet, head: int, over: int | None, card: ModelCard, meta: dict) -> None:
    meta = {**meta, "input_card": input_spec(card)}
    state = {"weights": net.state_dict(), "head": head, "over": -1 if over is None else over, "meta": meta}
    tmp = out / (CHECKPOINT + ".tmp")
    torch.save(state, tmp)
    tmp.replace(out / CHECKPOINT)


def load_run(directory: str | Path) -> Run:
    d = Path(directory)
    path = d / CHECKPOINT
    if not path.exists():
        raise DataError(f"{path}: not found (DIR must be the --out directory of a csi-edge discover run)")
    try:
        state = torch.load(path, weights_only=True)
        cfg = state["meta"]["config"]
    except Exception as exc:  # noqa: BLE001 - torch raises several unrelated types for a bad file
        raise DataError(f"{path}: cannot read the discovery checkpoint ({str(exc).splitlines()[0]})") from None
    net = IICNet(cfg["clusters"], cfg["overclusters"], cfg["heads"])
    try:
        net.load_state_dict(state["weights"])
    except RuntimeError:
        raise DataError(f"{path}: weights do not match the configuration stored with them") from None
    over = int(state["over"])
    return Run(d, net.eval(), int(state["head"]), None if over < 0 else over, state["meta"])
