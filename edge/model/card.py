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
RELATIVE = ("none", "db")  # baseline-relative packet features (csi_edge.calibration.relative)
NOVELTY_SCORES = ("msp", "energy")  # csi_edge.calibration.novelty
BANDWIDTHS = (20, 40)
BANDWIDTH_MHZ = {0: 20, 1: 40}  # frame `bandwidth` (cwb) code -> MHz


@dataclass(frozen=True)
class FeatureSpec:
    name: str = "amplitude"  # a csi_edge.features.PACKET_FEATURES name
    transform: str = "none"  # window transform: none | diff | psd
    subcarriers: int = 52
    layouts: tuple[str, ...] = ("none", "below", "above")  # secondary-channel layouts accepted (when bandwidth is None)
    bandwidth: int | None = None  # 20 or 40 (MHz) the model was trained on; None: not checked (layouts are)
    csi_scale: str | None = None  # CSI scaling of the training boards ("manual:4", "auto"); None: not checked
    relative: str = "none"  # "none", or "db": each amplitude in dB relative to the link's baseline profile


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


@dataclass(frozen=True)
class NoveltySpec:
    """How novel a window is: a score of the activity logits, mapped onto the distribution of
    that score on held-out windows of the known classes (`quantiles`: its 0, 1, ..., 100th
    percentiles). novelty = the fraction of those windows scoring lower (0..1); above
    `threshold` the daemon reports the activity as `unknown` (csi_edge.calibration.novelty)."""

    score: str  # one of NOVELTY_SCORES
    quantiles: tuple[float, ...]  # increasing, >= 2 values
    threshold: float = 0.99
    measured_on: str = ""  # e.g. "validation"
    details: dict = field(default_factory=dict)  # e.g. AUROC measured at training time
    tails: str = "upper"  # "upper": only high scores are novel; "both": scores beyond either end of the held-out range


@dataclass(frozen=True)
class BatchNormLayer:
    """One BatchNorm of the adaptable graph: inputs `<name>_mean`/`_var`, outputs `<name>_m1`/`_m2`."""

    name: str
    channels: int
    mean: tuple[float, ...]  # training running statistics (the graph's defaults)
    var: tuple[float, ...]


@dataclass(frozen=True)
class AdaptSpec:
    """What test-time adaptation needs (csi_edge.calibration.adapt): per-subcarrier mean and std
    of the model's unscaled input (after transform and per-window normalisation) over training
    windows; optionally the adaptable graph `onnx_file` (BatchNorm statistics as inputs, their
    moments as outputs; tools/train/bn_adapt.py) with its sha256 and layers."""

    mean: tuple[float, ...]
    std: tuple[float, ...]
    onnx_file: str = ""
    onnx_sha256: str = ""
    batchnorm: tuple[BatchNormLayer, ...] = ()


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
    novelty: NoveltySpec | None = None  # None: no novelty calibration (state `novelty` is null)
    adapt: AdaptSpec | None = None  # None: no reference statistics (no test-time adaptation)
    schema: str = SCHEMA

    @property
    def needs_baseline(self) -> bool:
        """The model's input is relative to the link's empty-room baseline (csi-edge calibrate)."""
        return self.feature.relative != "none"

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
        for optional in ("novelty", "adapt"):  # absent rather than null: older readers ignore nothing new
            if out[optional] is None:
                del out[optional]
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
        data = json.loads(card.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DataError(f"{card}: not valid JSON ({exc})") from None
    onnx_name = (data.get("onnx_file") if isinstance(data, dict) else None) or base.name + ".onnx"
    if not _is_plain_file_name(onnx_name):
        raise DataError(f"{card}: onnx_file {onnx_name!r} must be a file name beside the card "
                        "(no directory, no '..', not absolute): a model package never points outside itself")
    return card, card.parent / onnx_name


def _is_plain_file_name(name: object) -> bool:
    return (isinstance(name, str) and name not in (".", "..") and "/" not in name and "\\" not in name
            and "\0" not in name and not Path(name).is_absolute())


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


def _novelty(data: dict | None) -> NoveltySpec | None:
    if data is None:
        return None
    return NoveltySpec(score=data["score"], quantiles=tuple(float(q) for q in data["quantiles"]),
                       threshold=float(data.get("threshold", 0.99)), measured_on=str(data.get("measured_on") or ""),
                       details=dict(data.get("details") or {}), tails=str(data.get("tails") or "upper"))


def _adapt(data: dict | None) -> AdaptSpec | None:
    if data is None:
        return None
    layers = tuple(BatchNormLayer(str(b["name"]), int(b["channels"]), tuple(float(v) for v in b["mean"]),
                                  tuple(float(v) for v in b["var"])) for b in data.get("batchnorm") or ())
    return AdaptSpec(mean=tuple(float(v) for v in data["mean"]), std=tuple(float(v) for v in data["std"]),
                     onnx_file=str(data.get("onnx_file") or ""), onnx_sha256=str(data.get("onnx_sha256") or ""), batchnorm=layers)


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
        data["novelty"] = _novelty(data.get("novelty"))
        data["adapt"] = _adapt(data.get("adapt"))
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
    problems += _calibration_problems(card)
    if card.window < 2 or card.hop < 1:
        problems.append("window must be >= 2 and hop >= 1")
    if len(card.input_shape) != 4 or card.input_shape[2] != card.feature.subcarriers or card.input_shape[1] != card.links:
        problems.append(f"input_shape {list(card.input_shape)} must be [batch, {card.links} (links), {card.feature.subcarriers}, W]")
    if not isinstance(card.links, int) or card.links < 1:
        problems.append(f"links must be an integer >= 1 (got {card.links!r})")
    problems += _head_problems(card.heads)
    if problems:
        raise DataError(f"{where}: " + "; ".join(problems))


def _calibration_problems(card: ModelCard) -> list[str]:
    f, problems = card.feature, []
    if f.bandwidth is not None and f.bandwidth not in BANDWIDTHS:
        problems.append(f"feature.bandwidth must be one of {BANDWIDTHS} (MHz) or null (got {f.bandwidth!r})")
    if f.relative not in RELATIVE:
        problems.append(f"feature.relative must be one of {RELATIVE}")
    if f.relative != "none" and f.name != "amplitude":
        problems.append("feature.relative needs feature.name 'amplitude'")
    nov = card.novelty
    if nov is not None:
        q = np.asarray(nov.quantiles)
        if nov.score not in NOVELTY_SCORES:
            problems.append(f"novelty.score must be one of {NOVELTY_SCORES}")
        if len(q) < 2 or not np.all(np.isfinite(q)) or np.any(np.diff(q) < 0):
            problems.append("novelty.quantiles must be >= 2 finite, non-decreasing values")
        if nov.tails not in ("upper", "both"):
            problems.append(f"novelty.tails must be 'upper' or 'both' (got {nov.tails!r})")
        if not 0.0 < nov.threshold <= 1.0:
            problems.append(f"novelty.threshold must be in (0, 1] (got {nov.threshold})")
    ad = card.adapt
    if ad is not None and not (len(ad.mean) == len(ad.std) == f.subcarriers):
        problems.append(f"adapt.mean and adapt.std need {f.subcarriers} values each")
    if ad is not None and any(not (len(b.mean) == len(b.var) == b.channels) for b in ad.batchnorm):
        problems.append("adapt.batchnorm: each layer needs `channels` mean and var values")
    return problems


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


def _bandwidth_problem(card: ModelCard, meta: np.ndarray) -> str | None:
    """The frames' bandwidth against the card's: refused when most frames of the batch differ
    (a stray frame of another bandwidth is masked by the pipeline, not refused)."""
    codes = meta["bandwidth"]
    known = codes[(codes == 0) | (codes == 1)]
    want = {20: 0, 40: 1}[int(card.feature.bandwidth or 20)]
    if len(known) == 0 or 2 * int(np.count_nonzero(known != want)) <= len(known):
        return None
    got = sorted({BANDWIDTH_MHZ[int(c)] for c in np.unique(known) if c != want})
    return (f"model {card.model_id} was trained on a {card.feature.bandwidth} MHz link, but the stream's frames are "
            f"{'/'.join(str(g) for g in got)} MHz (flash the boards with --bandwidth {card.feature.bandwidth})")


def _layout_problem(card: ModelCard, meta: np.ndarray) -> str | None:
    """Cards without a bandwidth: the secondary-channel layouts, with "above" and "below" alike
    (both are the primary channel's 52 L-LTF subcarriers; docs/firmware.md)."""
    accepted = set(card.feature.layouts)
    if accepted & {"above", "below"}:
        accepted |= {"above", "below"}
    layouts = {layout_name(s) for s in np.unique(meta["secondary_channel"])}
    foreign = layouts - accepted
    if not foreign:
        return None
    return (f"model {card.model_id} accepts subcarrier layouts {list(card.feature.layouts)}, "
            f"but the stream has secondary channel layout {sorted(foreign)}")


def check_stream(card: ModelCard, meta: np.ndarray) -> None:
    """Refuse frames the model was not trained for (bandwidth or layout, CSI length); one clear message."""
    if len(meta) == 0:
        return
    problem = _bandwidth_problem(card, meta) if card.feature.bandwidth is not None else _layout_problem(card, meta)
    if problem:
        raise ModelMismatchError(problem)
    short = int(np.count_nonzero(meta["csi_len"] < 128))
    if short == len(meta):
        raise ModelMismatchError(
            f"model {card.model_id} needs the L-LTF (128 CSI bytes); the stream's frames carry {int(meta['csi_len'].max())}"
        )


def other_bandwidth(card: ModelCard, meta: np.ndarray) -> np.ndarray:
    """(N,) bool: frames of another bandwidth than the card's (stray frames the pipeline masks)."""
    if card.feature.bandwidth is None:
        return np.zeros(len(meta), dtype=bool)
    want = {20: 0, 40: 1}[card.feature.bandwidth]
    codes = meta["bandwidth"]
    return ((codes == 0) | (codes == 1)) & (codes != want)


def check_hello(card: ModelCard, scaling: str | None) -> None:
    """The board's CSI scaling (its HELLO, e.g. "manual:4") against the card's; unknown on
    either side is not checked."""
    want = card.feature.csi_scale
    if want is None or scaling is None or scaling == want:
        return
    raise ModelMismatchError(f"model {card.model_id} was trained with CSI scaling {want}, but the board's HELLO says "
                             f"{scaling} (flash the receiver with the scaling the model was trained on)")
