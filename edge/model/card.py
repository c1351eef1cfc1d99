"""Model package: `NAME.onnx` + `NAME.json` (the model card). Schema in docs/model-card.md.

The card says exactly how the model's input is computed (feature, window, hop, transform,
per-window normalisation, scaler statistics fitted on training data), what the outputs mean
(classes, position in metres), what it was trained on and how it scored per day, and the
sha256 of the ONNX file. Training writes cards with `ModelCard.save`; the daemon and `eval`
read them with `load_card`, which refuses a card that does not match its ONNX file.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from csi_edge.errors import DataError, ModelMismatchError
from csi_edge.features import PACKET_FEATURES
from csi_edge.layout import layout_name

SCHEMA = "csi-edge/model-card/1"
TRANSFORMS = ("none", "diff", "psd")
PER_WINDOW = ("none", "center-median", "center-mean", "divide-median", "divide-mean")
SCALERS = ("none", "maxmin", "z")


@dataclass(frozen=True)
class FeatureSpec:
    name: str = "amplitude"  # a csi_edge.features.PACKET_FEATURES name
    transform: str = "none"  # window transform: none | diff | psd
    subcarriers: int = 52
    layouts: tuple[str, ...] = ("none", "below", "above")  # secondary-channel layouts accepted


@dataclass(frozen=True)
class ScalerSpec:
    kind: str = "none"  # none | maxmin | z
    per_window: str = "none"  # see PER_WINDOW
    # statistics fitted on training data only; each a scalar or one value per subcarrier
    min: float | list[float] | None = None
    max: float | list[float] | None = None
    mean: float | list[float] | None = None
    std: float | list[float] | None = None


@dataclass(frozen=True)
class ModelCard:
    name: str
    onnx_file: str  # file name, relative to the card
    onnx_sha256: str
    window: int
    hop: int
    classes: tuple[str, ...]
    feature: FeatureSpec = field(default_factory=FeatureSpec)
    scaler: ScalerSpec = field(default_factory=ScalerSpec)
    input_name: str = "csi"
    input_shape: tuple = (None, 1, 52, 351)  # [batch, 1, S, W']
    outputs: tuple[str, ...] = ("class_logits", "position")
    rate_hz: float = 100.0
    position_units: str = "m"
    architecture: str = ""
    created: str = ""
    training: dict = field(default_factory=dict)  # data summary, options, seed, timings
    metrics: dict = field(default_factory=dict)  # per dataset part / day: accuracy, f1, rmse_m ...
    notes: str = ""
    schema: str = SCHEMA

    @property
    def model_id(self) -> str:
        return f"{self.name}@{self.onnx_sha256[:12]}"

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=False) + "\n"

    def save(self, json_path: Path) -> None:
        json_path = Path(json_path)
        tmp = json_path.with_suffix(".json.tmp")
        tmp.write_text(self.to_json())
        tmp.replace(json_path)


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def card_paths(path: str | Path) -> tuple[Path, Path]:
    """`models/NAME`, `models/NAME.json` or `models/NAME.onnx` -> (card path, onnx path)."""
    path = Path(path)
    base = path.with_suffix("") if path.suffix in (".json", ".onnx") else path
    card = base.with_name(base.name + ".json")
    if not card.exists():
        raise DataError(f"{card}: model card not found (a model is NAME.onnx + NAME.json)")
    try:
        onnx_name = json.loads(card.read_text()).get("onnx_file") or base.name + ".onnx"
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DataError(f"{card}: not valid JSON ({exc})") from None
    return card, card.parent / onnx_name


def _from_dict(data: dict, where: str) -> ModelCard:
    if data.get("schema") != SCHEMA:
        raise DataError(f"{where}: schema is {data.get('schema')!r}, expected {SCHEMA!r}")
    data = dict(data)
    try:
        feature_fields = dict(data.pop("feature", {}))
        if "layouts" in feature_fields:
            feature_fields["layouts"] = tuple(feature_fields["layouts"])
        feature = FeatureSpec(**feature_fields)
        scaler = ScalerSpec(**data.pop("scaler", {}))
        data["classes"] = tuple(data["classes"])
        data["outputs"] = tuple(data.get("outputs", ("class_logits", "position")))
        data["input_shape"] = tuple(data.get("input_shape", ()))
        card = ModelCard(feature=feature, scaler=scaler, **data)
    except (TypeError, KeyError) as exc:
        raise DataError(f"{where}: bad model card ({exc})") from None
    _validate(card, where)
    return card


def _validate(card: ModelCard, where: str) -> None:
    problems = []
    if card.feature.name not in PACKET_FEATURES:
        problems.append(f"feature.name {card.feature.name!r} is not a known feature ({', '.join(PACKET_FEATURES)})")
    if card.feature.transform not in TRANSFORMS:
        problems.append(f"feature.transform must be one of {TRANSFORMS}")
    if card.scaler.kind not in SCALERS:
        problems.append(f"scaler.kind must be one of {SCALERS}")
    if card.scaler.per_window not in PER_WINDOW:
        problems.append(f"scaler.per_window must be one of {PER_WINDOW}")
    if card.window < 2 or card.hop < 1:
        problems.append("window must be >= 2 and hop >= 1")
    if len(card.input_shape) != 4 or card.input_shape[2] != card.feature.subcarriers:
        problems.append(f"input_shape {list(card.input_shape)} must be [batch, 1, {card.feature.subcarriers}, W]")
    if problems:
        raise DataError(f"{where}: " + "; ".join(problems))


def load_card(path: str | Path, verify_onnx: bool = True) -> tuple[ModelCard, Path]:
    """Read and validate a card; with `verify_onnx`, check the ONNX file's sha256."""
    card_path, onnx_path = card_paths(path)
    card = _from_dict(json.loads(card_path.read_text()), str(card_path))
    if verify_onnx:
        if not onnx_path.exists():
            raise DataError(f"{onnx_path}: ONNX file named by {card_path.name} not found")
        actual = sha256_file(onnx_path)
        if actual != card.onnx_sha256:
            raise ModelMismatchError(
                f"{onnx_path}: sha256 {actual[:12]}... does not match the card's {card.onnx_sha256[:12]}... "
                "(the model file was changed or the card belongs to another model)"
            )
    return card, onnx_path


def check_stream(card: ModelCard, meta: np.ndarray) -> None:
    """Refuse frames the model was not trained for (layout, CSI length); one clear message."""
    if len(meta) == 0:
        return
    layouts = {layout_name(s) for s in np.unique(meta["secondary_channel"])}
    foreign = layouts - set(card.feature.layouts)
    if foreign:
        raise ModelMismatchError(
            f"model {card.model_id} accepts subcarrier layouts {list(card.feature.layouts)}, "
            f"but the stream has secondary channel layout {sorted(foreign)}"
        )
    short = int(np.count_nonzero(meta["csi_len"] < 128))
    if short == len(meta):
        raise ModelMismatchError(
            f"model {card.model_id} needs the L-LTF (128 CSI bytes); the stream's frames carry {int(meta['csi_len'].max())}"
        )
