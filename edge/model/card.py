"""Model package: `NAME.onnx` + `NAME.json` (the model card). Schema in docs/model-card.md.

The card says exactly how the model's input is computed (feature, window, hop, transform,
per-window normalisation, scaler statistics fitted on training data), what each output head
means (`heads`: class probabilities or a vector with units, its constant baseline and its
measured skill), what it was trained on and how it scored per day, and the sha256 of the ONNX
file. Training writes cards with `ModelCard.save`; the daemon and `eval` read them with
`load_card`, which refuses a card that does not match its ONNX file.

Schema 2 (`csi-edge/model-card/2`) declares the heads, and `links`: how many links the model
reads together. 1 (the default, and every older card): the model reads one link, and a daemon
with several links runs it on each; N > 1: a joint model whose input stacks the windows of N
links (input_shape [batch, N, S, W]), in the order of the daemon's [source] specs.

Schema-1 cards (`classes` + `outputs` + `position_units`) are converted on load: a classes
head `activity` and, when the card named a second output, a vector head `position` (x, y, z in
its units) with no baseline and no measured skill, so such a model publishes no position
(`publishes_position`).
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

SCHEMA = "csi-edge/model-card/2"
SCHEMA_1 = "csi-edge/model-card/1"
HEAD_KINDS = ("classes", "vector")
ACTIVITY = "activity"  # the classes head the daemon reports as `activity`
POSITION = "position"  # the vector head the daemon reports as `position`
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
class Skill:
    """Measured error of a vector head beside the constant baseline's, on held-out data."""

    rmse_m: float
    baseline_rmse_m: float
    measured_on: str = ""  # e.g. "validation"
    details: dict = field(default_factory=dict)  # further keys of the card's `skill`, kept as they are

    def to_dict(self) -> dict:
        return {"rmse_m": self.rmse_m, "baseline_rmse_m": self.baseline_rmse_m, "measured_on": self.measured_on, **self.details}


@dataclass(frozen=True)
class Head:
    """One output of the model: class probabilities (`classes`) or a vector (`vector`)."""

    name: str  # e.g. "activity", "position"
    kind: str  # one of HEAD_KINDS
    output: str  # the ONNX output name
    labels: tuple[str, ...] = ()  # classes: class names in logit order
    components: tuple[str, ...] = ()  # vector: component names, e.g. ("x", "y", "z")
    units: str = ""  # vector: units of every component, e.g. "m"
    baseline: tuple[float, ...] | None = None  # vector: the constant baseline (mean training target)
    skill: Skill | None = None  # vector: measured skill; None = not measured

    @property
    def size(self) -> int:
        return len(self.labels) if self.kind == "classes" else len(self.components)

    def to_dict(self) -> dict:
        out: dict = {"name": self.name, "kind": self.kind, "output": self.output}
        if self.kind == "classes":
            out["labels"] = list(self.labels)
        else:
            out.update(components=list(self.components), units=self.units,
                       baseline=None if self.baseline is None else list(self.baseline),
                       skill=None if self.skill is None else self.skill.to_dict())
        return out


def activity_head(classes: tuple[str, ...] | list[str], output: str = "class_logits") -> Head:
    return Head(ACTIVITY, "classes", output, labels=tuple(classes))


def position_head(output: str = "position", units: str = "m", baseline=None, skill: Skill | None = None) -> Head:
    return Head(POSITION, "vector", output, components=("x", "y", "z"), units=units,
                baseline=None if baseline is None else tuple(float(v) for v in baseline), skill=skill)


def standard_heads(classes: tuple[str, ...] | list[str], position: bool = True) -> tuple[Head, ...]:
    """The heads of a joint activity + position network (position without baseline or skill)."""
    return (activity_head(classes),) + ((position_head(),) if position else ())


@dataclass(frozen=True)
class ModelCard:
    name: str
    onnx_file: str  # file name, relative to the card
    onnx_sha256: str
    window: int
    hop: int
    heads: tuple[Head, ...]  # the activity (classes) head first, then vector heads
    feature: FeatureSpec = field(default_factory=FeatureSpec)
    scaler: ScalerSpec = field(default_factory=ScalerSpec)
    input_name: str = "csi"
    input_shape: tuple = (None, 1, 52, 351)  # [batch, links, S, W']
    links: int = 1  # links read together: 1 = one link (run per link); N = joint over N links' windows
    rate_hz: float = 100.0
    architecture: str = ""
    created: str = ""
    training: dict = field(default_factory=dict)  # data summary, options, seed, timings
    metrics: dict = field(default_factory=dict)  # per dataset part / day: accuracy, f1, rmse_m ...
    notes: str = ""
    schema: str = SCHEMA

    @property
    def model_id(self) -> str:
        return f"{self.name}@{self.onnx_sha256[:12]}"

    def head(self, name: str) -> Head | None:
        return next((h for h in self.heads if h.name == name), None)

    @property
    def class_head(self) -> Head:
        return next(h for h in self.heads if h.kind == "classes")

    @property
    def classes(self) -> tuple[str, ...]:
        """Class names of the classes head, in logit order."""
        return self.class_head.labels

    @property
    def outputs(self) -> tuple[str, ...]:
        """ONNX output names, one per head, in head order."""
        return tuple(h.output for h in self.heads)

    def to_dict(self) -> dict:
        out = asdict(self)
        out["heads"] = [h.to_dict() for h in self.heads]
        return out

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=False) + "\n"

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


def _skill(data: dict | None) -> Skill | None:
    if data is None:
        return None
    rest = {k: v for k, v in data.items() if k not in ("rmse_m", "baseline_rmse_m", "measured_on", "details")}
    rest = {**(data.get("details") or {}), **rest}  # `details` as dataclasses.asdict writes it
    return Skill(float(data["rmse_m"]), float(data["baseline_rmse_m"]), str(data.get("measured_on") or ""), rest)


def _head(data: dict) -> Head:
    baseline = data.get("baseline")
    return Head(
        name=data["name"], kind=data["kind"], output=data["output"], labels=tuple(data.get("labels", ())),
        components=tuple(data.get("components", ())), units=data.get("units", ""),
        baseline=None if baseline is None else tuple(float(v) for v in baseline), skill=_skill(data.get("skill")),
    )


def _upgrade_schema_1(data: dict) -> dict:
    """A schema-1 card as schema 2: `classes`/`outputs`/`position_units` become heads."""
    data = dict(data)
    outputs = list(data.pop("outputs", ("class_logits", "position")))
    units = data.pop("position_units", "m")
    heads = [activity_head(data.pop("classes"), outputs[0])]
    if len(outputs) > 1:
        heads.append(position_head(outputs[1], units))
    data["heads"] = [h.to_dict() for h in heads]
    data["schema"] = SCHEMA
    return data


def _from_dict(data: dict, where: str) -> ModelCard:
    if data.get("schema") == SCHEMA_1:
        data = _upgrade_schema_1(data)
    if data.get("schema") != SCHEMA:
        raise DataError(f"{where}: schema is {data.get('schema')!r}, expected {SCHEMA!r} (or {SCHEMA_1!r})")
    data = dict(data)
    try:
        feature_fields = dict(data.pop("feature", {}))
        if "layouts" in feature_fields:
            feature_fields["layouts"] = tuple(feature_fields["layouts"])
        feature = FeatureSpec(**feature_fields)
        scaler = ScalerSpec(**data.pop("scaler", {}))
        data["heads"] = tuple(_head(h) for h in data["heads"])
        data["input_shape"] = tuple(data.get("input_shape", ()))
        card = ModelCard(feature=feature, scaler=scaler, **data)
    except (TypeError, KeyError, ValueError, AttributeError) as exc:
        raise DataError(f"{where}: bad model card ({type(exc).__name__}: {exc})") from None
    _validate(card, where)
    return card


def _head_problems(heads: tuple[Head, ...]) -> list[str]:
    problems = []
    names = [h.name for h in heads]
    if len(set(names)) != len(names):
        problems.append(f"head names must be distinct (got {names})")
    for h in heads:
        if h.kind not in HEAD_KINDS:
            problems.append(f"head {h.name!r}: kind must be one of {HEAD_KINDS} (got {h.kind!r})")
        elif h.size == 0:
            problems.append(f"head {h.name!r}: a {h.kind} head needs {'labels' if h.kind == 'classes' else 'components'}")
        elif h.baseline is not None and len(h.baseline) != h.size:
            problems.append(f"head {h.name!r}: baseline has {len(h.baseline)} values for {h.size} components")
    if not heads or heads[0].kind != "classes":
        problems.append("the first head must be the classes head (activity)")
    elif sum(h.kind == "classes" for h in heads) != 1:
        problems.append("exactly one classes head is supported")
    return problems


def publishes_position(card: ModelCard, skill_ratio: float) -> bool:
    """Positions carry information only from a model whose position head has measured skill
    clearly better than the constant baseline: rmse <= skill_ratio * baseline rmse."""
    head = card.head(POSITION)
    if head is None or head.skill is None:
        return False
    return head.skill.rmse_m <= skill_ratio * head.skill.baseline_rmse_m


def position_skill_text(card: ModelCard, skill_ratio: float) -> str:
    """One line on the position head's skill, for `csi-edge info MODEL`."""
    head = card.head(POSITION)
    if head is None:
        return "no position head: positions are not published"
    if head.skill is None:
        return "no measured position skill: positions are not published"
    sk = head.skill
    verdict = "published" if publishes_position(card, skill_ratio) else f"not published (needs <= {skill_ratio:g} x baseline)"
    on = f" on {sk.measured_on}" if sk.measured_on else ""
    return f"rmse {sk.rmse_m:.3f} {head.units} vs constant baseline {sk.baseline_rmse_m:.3f} {head.units}{on}: positions {verdict}"


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
    if len(card.input_shape) != 4 or card.input_shape[2] != card.feature.subcarriers or card.input_shape[1] != card.links:
        problems.append(f"input_shape {list(card.input_shape)} must be [batch, {card.links} (links), {card.feature.subcarriers}, W]")
    if not isinstance(card.links, int) or card.links < 1:
        problems.append(f"links must be an integer >= 1 (got {card.links!r})")
    problems += _head_problems(card.heads)
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
