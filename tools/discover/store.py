"""A discovery run on disk, for naming it later (`csi-edge discover --name DIR ...`).

- `DIR/input.json`: the input definition as a model card draft (feature, window, hop,
  transform, per-window normalisation, scaler statistics fitted on the run's windows), read
  back with the model card's own loader;
- `DIR/discover.pt`: the IIC network's weights, the kept sub-heads and the run's metadata
  (configuration, SPECs, data summary, metrics). Only tensors and plain values: it loads with
  `torch.load(weights_only=True)`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from csi_edge.errors import DataError
from csi_edge.model.card import ModelCard, load_card
from csi_edge.tools.discover.iic import IICNet

CHECKPOINT = "discover.pt"
INPUT = "input"  # input.json


@dataclass
class Run:
    directory: Path
    net: IICNet
    head: int
    over: int | None
    card: ModelCard
    meta: dict  # config, specs, label_regex, data summary, metrics


def save_run(out: Path, net: IICNet, head: int, over: int | None, card: ModelCard, meta: dict) -> None:
    card.save(out / f"{INPUT}.json")
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
    except Exception as exc:  # noqa: BLE001 - torch raises several unrelated types for a bad file
        raise DataError(f"{path}: cannot read the discovery checkpoint ({str(exc).splitlines()[0]})") from None
    card, _ = load_card(d / INPUT, verify_onnx=False)
    cfg = state["meta"]["config"]
    net = IICNet(cfg["clusters"], cfg["overclusters"], cfg["heads"])
    try:
        net.load_state_dict(state["weights"])
    except RuntimeError:
        raise DataError(f"{path}: weights do not match the configuration stored with them") from None
    over = int(state["over"])
    return Run(d, net.eval(), int(state["head"]), None if over < 0 else over, card, state["meta"])
