"""One training run end to end: recordings -> windows -> fitted card -> trained net -> metrics.

Used by `csi-edge train`, the seed loop (`--seeds`) and the ablation runner, so they all train
the same way. Data is loaded once (`Data`) and shared between runs.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np

from csi_edge.errors import DataError, UsageError
from csi_edge.model.preprocess import prepare
from csi_edge.tools.train import prep
from csi_edge.tools.train.calibration import adapt_spec, relative_recordings
from csi_edge.tools.train.checkpoint import add_meta
from csi_edge.tools.train.datasets import WindowSet, split_random
from csi_edge.tools.train.evaluate import per_part
from csi_edge.tools.train.loop import Pipeline, TrainConfig, adapt_batchnorm, predict, train
from csi_edge.tools.train.novelty import novelty_spec, open_set, open_set_metrics, select_classes
from csi_edge.tools.train.skill import baseline_position, declare_position, position_skill
from csi_edge.tools.train.specs import load_specs


@dataclass(frozen=True)
class Options:
    """What a run needs beyond TrainConfig: data selection and the input definition."""

    window: int = 351
    hop: int = 10
    feature: str = "amplitude"
    transform: str = "none"
    scaler: str = "maxmin"
    scaler_stats: str = "global"  # global | subcarrier
    per_window: str = "none"
    reduce: str = "none"  # none | pca | ica | umap
    dims: int = 8
    val_split: float = 0.2
    tta: bool = False
    classes: str = ""  # --classes: the labels the model knows ("" all); others are unknown in test data
    relative: str = "none"  # --relative: baseline-relative features (needs --baseline PART=FILE)
    novelty_score: str = "energy"  # --novelty-score: msp | energy (the card's novelty calibration)


@dataclass
class Data:
    train: WindowSet
    val: WindowSet
    test: WindowSet | None
    summary: dict
    test_open: WindowSet | None = None  # test windows of known and unknown labels (novelty AUROC)


def load_data(train_specs, val_specs, test_specs, opts: Options, label_regex: str | None, seed: int,
              baselines: dict | None = None) -> Data:  # fmt: skip
    t0 = time.perf_counter()
    load = partial(_load_relative, opts=opts, label_regex=label_regex, baselines=baselines or {})
    train_recs = load(train_specs)
    val_recs = load(val_specs) if val_specs else []
    test_recs = load(test_specs) if test_specs else []
    links = sorted({r.links for r in [*train_recs, *val_recs, *test_recs]})
    if len(links) > 1:
        raise UsageError(f"the data mixes recordings of {' and '.join(map(str, links))} links side by side; a model reads one "
                         "number of links (give every SPEC the same sim links=...)")  # fmt: skip
    classes = select_classes(train_recs, opts.classes)
    if len(classes) < 2:
        raise DataError(f"training data has {len(classes)} class(es) {list(classes)}; need at least 2")
    ws = WindowSet(train_recs, opts.window, opts.hop, classes)
    if val_recs:
        val = WindowSet(val_recs, opts.window, opts.hop, classes)
    elif opts.val_split > 0:
        ws, val = split_random(ws, opts.val_split, seed)
    else:
        raise UsageError("no validation data: give --val SPEC or --val-split > 0")
    test = WindowSet(test_recs, opts.window, opts.hop, classes) if test_recs else None
    layouts = sorted({l for r in train_recs for l in r.layouts}) or ["none", "below", "above"]
    bandwidths = sorted({r.bandwidth for r in train_recs if r.bandwidth is not None})
    summary = {
        "train_specs": list(train_specs),
        "val_specs": list(val_specs or []) or [f"random {opts.val_split:.0%} of the training windows"],
        "test_specs": list(test_specs or []),
        "train": ws.summary(),
        "val": val.summary(),
        "test": test.summary() if test is not None else None,
        "layouts": layouts,
        "bandwidths_MHz": bandwidths,
        "baselines": {part: b.source or b.created for part, b in (baselines or {}).items()},
        "load_seconds": round(time.perf_counter() - t0, 2),
    }
    if any(spec.startswith("sim:") for spec in [*train_specs, *(val_specs or []), *(test_specs or [])]):
        summary["simulator_source_sha256"] = simulator_fingerprint()
    test_open = open_set(test_recs, test) if test is not None else None
    return Data(ws, val, test, summary, test_open)


def _load_relative(specs, opts: Options, label_regex: str | None, baselines: dict):
    return relative_recordings(load_specs(specs, opts.feature, label_regex), opts.relative, baselines)


def simulator_fingerprint() -> str:
    """sha256 over the simulator's source files: which simulator version made the data."""
    import hashlib

    import csi_edge.tools.sim as sim

    digest = hashlib.sha256()
    for path in sorted(Path(sim.__file__).parent.glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def build_pipeline(data: Data, opts: Options, seed: int, name: str = "model") -> Pipeline:
    card = prep.draft_card(name, data.train, opts.feature, opts.transform, opts.scaler, opts.per_window, data.summary["layouts"])
    bandwidths = data.summary.get("bandwidths_MHz") or []
    feature = dataclasses.replace(card.feature, relative=opts.relative, bandwidth=bandwidths[0] if len(bandwidths) == 1 else None)
    card = dataclasses.replace(card, feature=feature)
    sample = prep.fit_sample(data.train, seed)
    if card.links > 1:
        joint_only_options(opts)
    card = prep.fit_scaler(card, sample, per_subcarrier=opts.scaler_stats == "subcarrier")
    card = dataclasses.replace(card, adapt=adapt_spec(card, sample) if card.links == 1 else None)
    pipeline = Pipeline(card)
    if opts.reduce in ("pca", "ica"):
        if not 1 <= opts.dims <= card.feature.subcarriers:
            raise UsageError(f"--dims must be 1..{card.feature.subcarriers} (got {opts.dims})")
        pipeline.reducer = prep.fit_reducer(opts.reduce, opts.dims, card, sample, seed)
    elif opts.reduce == "umap":
        raise UsageError("--reduce umap is applied to the recordings by the ablation runner (apply_umap), not in the model")
    return pipeline


def joint_only_options(opts: Options) -> None:
    """What a joint model over several links does not support (each would mix the links)."""
    refused = {"--reduce": opts.reduce != "none", "--scaler-stats subcarrier": opts.scaler_stats == "subcarrier",
               "--relative": opts.relative != "none"}  # fmt: skip
    for flag, given in refused.items():
        if given:
            raise UsageError(f"{flag}: not for a joint model over several links (the data has links side by side)")


def apply_umap(data: Data, opts: Options, seed: int) -> Data:
    """UMAP-d over subcarriers, fitted on training packets only, applied to every packet.

    Non-linear, so it cannot live in the ONNX graph: the ablation runner replaces the
    recordings' features by their embedding (after the scaler; needs transform and per-window
    normalisation `none`, which act per packet) and trains with scaler `none`.
    """
    from csi_edge.tools.train.datasets import Recording

    card = prep.fit_scaler(prep.draft_card("umap", data.train, opts.feature, "none", opts.scaler, "none"), prep.fit_sample(data.train, seed))

    def scaled(r):
        return prepare(r.features[None], card)[0, 0].T  # (N, S)

    rng = np.random.default_rng(seed)
    rows = np.concatenate([scaled(r) for r in data.train.recordings])
    reducer = prep.fit_umap(opts.dims, rows[rng.choice(len(rows), min(len(rows), 4000), replace=False)], seed)
    cache: dict[int, Recording] = {}

    def embed(ws: WindowSet | None) -> WindowSet | None:
        if ws is None:
            return None
        recs = []
        for r in ws.recordings:
            if id(r) not in cache:
                emb = reducer.transform(scaled(r)[:: 1]).astype(np.float32)
                cache[id(r)] = dataclasses.replace(r, features=emb)
            recs.append(cache[id(r)])
        view = ws.subset(np.arange(len(ws)))
        view.recordings = recs
        return view

    return Data(embed(data.train), embed(data.val), embed(data.test), data.summary)


def evaluate_parts(model, pipeline: Pipeline, ws: WindowSet, tta: bool, baseline: np.ndarray | None = None) -> dict:
    logits, pos = predict(model, pipeline, ws)
    result = per_part(ws, logits, pos, baseline)
    if tta:  # adapt per part on that part's unlabelled windows; keys get a `+tta` suffix
        for name, idx in ws.parts().items():
            sub = ws.subset(idx)
            adapted = adapt_batchnorm(model, pipeline, sub)
            lg, ps = predict(adapted, pipeline, sub)
            result[f"{name}+tta"] = per_part(sub, lg, ps, baseline)[name]
    return result


@dataclass
class RunOutcome:
    model: object
    pipeline: Pipeline
    result: object  # loop.TrainResult
    parts: dict  # metrics per test part (or per validation part, `val:` prefixed, without test data)
    baseline: np.ndarray | None  # mean training position (the constant baseline); None: no positions
    skill: dict | None  # skill.position_skill on the validation windows; None without positions


def run_once(data: Data, opts: Options, cfg: TrainConfig, ckpt: Path, resume: Path | None = None, name: str = "model") -> RunOutcome:
    """Train one model, measure its position skill on validation and its metrics on test."""
    pipeline = build_pipeline(data, opts, cfg.seed, name)
    result = train(cfg, pipeline, data.train, data.val, ckpt, resume)
    baseline = baseline_position(data.train)
    val_logits, val_pos = predict(result.model, pipeline, data.val)
    pipeline.card = dataclasses.replace(pipeline.card, novelty=novelty_spec(val_logits, opts.novelty_score))
    skill = position_skill(val_pos, data.val.positions(np.arange(len(data.val))), baseline, "validation")
    if skill is not None:
        skill = {**skill, "validation": data.summary["val_specs"]}
    add_meta(ckpt, position_skill=skill, position_baseline_xyz=None if baseline is None else [float(v) for v in baseline])
    target = data.test if data.test is not None else data.val
    parts = evaluate_parts(result.model, pipeline, target, opts.tta, baseline)
    if data.test_open is not None:
        logits, _ = predict(result.model, pipeline, data.test_open)
        for name, m in open_set_metrics(pipeline.card, data.test_open, logits).items():
            parts.setdefault(name, {}).update(m)
    if data.test is None:
        parts = {f"val:{k}": v for k, v in parts.items()}
    return RunOutcome(result.model, pipeline, result, parts, baseline, skill)


def card_for(run: RunOutcome, opts: Options, cfg: TrainConfig, data: Data, arch: str, notes: str):
    from csi_edge.tools.train.evaluate import strip_confusion

    pipeline, result = run.pipeline, run.result
    training = {
        "data": data.summary,
        "options": dataclasses.asdict(opts),
        "config": cfg.as_dict(),
        "best_epoch": result.best_epoch,
        "history": result.history,
        "train_seconds": round(result.seconds, 1),
        "train_windows_per_s": round(result.windows_per_s, 1),
        "train_data_seconds": round(result.data_seconds, 1),
        "window_label": "label of the window's last packet",
        "window_position": "mean of the window's known per-packet positions",
        "reducer": None if pipeline.reducer is None else {"kind": opts.reduce, "dims": opts.dims, "folded_into_onnx": True},
    }
    card = dataclasses.replace(pipeline.card, architecture=arch, training=training, metrics=strip_confusion(run.parts), notes=notes)
    return declare_position(card, run.skill, run.baseline)  # no position head (or output) without positions
