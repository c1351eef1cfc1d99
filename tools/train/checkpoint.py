"""Training checkpoints (`NAME.pt`): tensors only, everything else as JSON, loaded weights-only.

A checkpoint is read with `torch.load(weights_only=True)`, which unpickles only tensors and
plain containers (dict, list, tuple, str, numbers) and refuses anything that could run code,
so a `.pt` that travels with a model package cannot execute anything on `csi-edge export`,
`eval --tta` or `train --resume`. Layout (a dict):

- `format`: `CHECKPOINT_FORMAT`;
- `last`, `best`: model state dicts (tensors); `optimizer`: AdamW state (tensors + numbers);
  `scheduler`: LR scheduler state (numbers); `torch_rng`: the torch RNG state (a uint8 tensor);
  `reducer`: the PCA/ICA reducer (weight, bias) as two tensors, or None;
- `meta_json`: one JSON string with the rest: epoch, best validation loss and epoch, history,
  the numpy RNG state, the training config and the model card.
"""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import numpy as np

from csi_edge.errors import DataError
from csi_edge.model.card import ModelCard

CHECKPOINT_FORMAT = "csi-edge/checkpoint/2"


def save_checkpoint(path: Path, tensors: dict, meta: dict) -> None:
    """Write `tensors` (state dicts, RNG tensor, reducer) plus `meta` (JSON-able) atomically."""
    import torch

    reducer = tensors.get("reducer")
    if reducer is not None:
        reducer = tuple(torch.as_tensor(np.asarray(a), dtype=torch.float32) for a in reducer)
    state = {**tensors, "reducer": reducer, "format": CHECKPOINT_FORMAT, "meta_json": json.dumps(meta)}
    tmp = Path(str(path) + ".tmp")
    torch.save(state, tmp)
    tmp.replace(path)


def read_checkpoint(path: Path) -> tuple[dict, dict]:
    """(tensors, meta) of a checkpoint written by `save_checkpoint`; refuses anything else.

    One clear line (DataError) for a missing or unreadable file, an old or foreign format, and
    a file holding objects other than tensors and plain containers (which may run code).
    """
    import torch

    try:
        state = torch.load(path, weights_only=True, map_location="cpu")
    except FileNotFoundError:
        raise DataError(f"{path}: checkpoint not found") from None
    except pickle.UnpicklingError as exc:
        if "unsupported global" in str(exc).lower():  # a class or function reference: code at load time
            raise DataError(f"{path}: refused: it holds objects other than tensors and plain data (pickled code?); "
                            "csi-edge loads checkpoints weights-only") from None  # fmt: skip
        raise DataError(f"{path}: not a readable training checkpoint ({str(exc).splitlines()[0]})") from None
    except (OSError, RuntimeError, EOFError, ValueError) as exc:
        raise DataError(f"{path}: not a readable training checkpoint ({str(exc).splitlines()[0]})") from None
    if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:
        found = state.get("format") if isinstance(state, dict) else type(state).__name__
        raise DataError(f"{path}: not a {CHECKPOINT_FORMAT} checkpoint (found {found!r}); retrain or re-export it with this version")
    try:
        meta = json.loads(state["meta_json"])
    except (KeyError, TypeError, json.JSONDecodeError) as exc:
        raise DataError(f"{path}: checkpoint metadata unreadable ({exc})") from None
    return state, meta


def add_meta(path: Path, **items) -> None:
    """Add JSON-able `items` to a checkpoint's metadata (e.g. the position skill measured after
    training), so that `csi-edge export` of it alone carries them into the card."""
    import torch

    state, meta = read_checkpoint(path)
    state["meta_json"] = json.dumps({**meta, **items})
    tmp = Path(str(path) + ".tmp")
    torch.save(state, tmp)
    tmp.replace(path)


def reducer_arrays(state: dict) -> tuple[np.ndarray, np.ndarray] | None:
    red = state.get("reducer")
    return None if red is None else (red[0].numpy(), red[1].numpy())


def load_model(pt: Path, card: ModelCard | None = None, which: str = "best"):
    """(JointModel with the `best` (or `last`) weights, Pipeline, meta) from a checkpoint."""
    from csi_edge.model.card import _from_dict
    from csi_edge.tools.train.loop import Pipeline, make_model

    state, meta = read_checkpoint(pt)
    if card is None:
        data = dict(meta["card"])
        data.setdefault("schema", "csi-edge/model-card/1")
        card = _from_dict(data, str(pt))
    pipeline = Pipeline(card, reducer=reducer_arrays(state))
    model = make_model(meta["config"]["arch"], len(card.classes), pipeline)
    weights = state.get(which) if state.get(which) is not None else state["last"]
    try:
        model.load_state_dict(weights)
    except (RuntimeError, TypeError):
        raise DataError(f"{pt}: weights do not fit a {meta['config']['arch']} network with {len(card.classes)} classes") from None
    model.eval()
    return model, pipeline, meta

