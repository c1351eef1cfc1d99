"""Reading a `NAME.pt` training checkpoint back into a model (for --tta and `csi-edge export`)."""

from __future__ import annotations

from pathlib import Path

from csi_edge.errors import DataError
from csi_edge.model.card import ModelCard


def load_model(pt: Path, card: ModelCard | None = None, which: str = "best"):
    """(JointModel with the `best` (or `last`) weights, Pipeline) from a checkpoint."""
    import torch

    from csi_edge.model.card import _from_dict
    from csi_edge.tools.train.loop import Pipeline, make_model

    try:
        state = torch.load(pt, weights_only=False)
    except (OSError, RuntimeError, EOFError) as exc:
        raise DataError(f"{pt}: not a readable training checkpoint ({exc})") from None
    if card is None:
        data = dict(state["card"])
        data.setdefault("schema", "csi-edge/model-card/1")
        card = _from_dict(data, str(pt))
    pipeline = Pipeline(card, reducer=state.get("reducer"))
    model = make_model(state["config"]["arch"], len(card.classes), pipeline)
    model.load_state_dict(state[which] if state.get(which) is not None else state["last"])
    model.eval()
    return model, pipeline, state
