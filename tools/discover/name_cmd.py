"""`csi-edge discover --name DIR CLUSTER=LABEL,...`: export the named run (see naming.py)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

from csi_edge.errors import DataError, UsageError
from csi_edge.tools.discover import naming
from csi_edge.tools.discover.store import SOFT, Run, load_run


def name_run(args) -> int:
    if not args.out and not args.labels_out:
        raise UsageError("--name DIR: give --out models/NAME (a model package) and/or --labels-out FILE.npz")
    if args.test and not args.out:
        raise UsageError("--test scores the exported model: give --out models/NAME too")
    run = load_run(args.name)
    cfg = run.meta["config"]
    k = cfg["overclusters"] if args.over else cfg["clusters"]
    if args.over and not k:
        raise UsageError(f"{args.name}: this run has no over-clusters (made without --overclusters); drop --over")
    labels = naming.parse_names(args.names, k)
    model, classes = naming.named_model(run, labels, args.over)
    mapping = {"level": "overclusters" if args.over else "clusters", "labels": labels}
    result: dict = {"classes": list(classes), "names": mapping}
    on_run = score_on_run(run, labels, args.over)
    if on_run is not None:
        result["discovery_data"] = on_run
    if args.out:
        result.update(export(run, model, classes, mapping, on_run, args))
    if args.labels_out:
        result["labels_out"] = str(args.labels_out)
        result["packets_per_label"] = write_labels(run, labels, args.over, Path(args.labels_out))
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key}: {json.dumps(value)}")
    return 0


def score_on_run(run: Run, labels: list[str], over: bool) -> dict | None:
    """Accuracy of the named model (as exported: class_scores) on the run's labelled windows."""
    path = run.directory / SOFT
    if not path.exists():
        return None
    soft = np.load(path, allow_pickle=False)
    probs = soft["over" if over else "probs"]
    known = soft["y"] >= 0
    if not known.any():
        return None
    classes = naming.class_order(labels)
    named = np.asarray(classes)[naming.class_scores(probs[known], naming.merge_matrix(labels, classes)).argmax(axis=1)]
    truth = np.asarray(soft["classes"])[soft["y"][known]]
    return {"accuracy": round(float(np.mean(named == truth)), 4), "n": int(known.sum()),
            "note": "transductive: the windows the clusters were found on"}


def export(run: Run, model, classes, mapping: dict, on_run: dict | None, args) -> dict:
    from csi_edge.tools.train.export import write_model

    out = Path(args.out)
    if out.suffix in (".onnx", ".json"):
        out = out.with_suffix("")
    metrics = {"discovery_data": on_run} if on_run else {}
    card = write_model(model, naming.export_card(run, classes, mapping, metrics), out)
    result = {"model": card.model_id, "onnx": str(out) + ".onnx", "card": str(out) + ".json"}
    if args.test:
        import dataclasses

        tested = score_model(out, args.test, run.meta.get("label_regex"))
        card = dataclasses.replace(card, metrics={**card.metrics, **tested})
        card.save(out.with_name(out.name + ".json"))
        result["test"] = tested
    return result


def score_model(model_path: Path, specs: list[str], label_regex: str | None) -> dict:
    """Per-part metrics of the exported ONNX model, run by the daemon's loader and preprocessing."""
    from csi_edge.model.card import ACTIVITY
    from csi_edge.model.preprocess import prepare
    from csi_edge.model.runtime import LoadedModel
    from csi_edge.tools.discover.windows import Windows
    from csi_edge.tools.train.evaluate import metrics
    from csi_edge.tools.train.specs import load_specs

    model = LoadedModel.load(model_path, providers=("cpu",))
    card = model.card
    wins = Windows(load_specs(specs, card.feature.name, label_regex), card.window, card.hop, card.classes)
    out = {}
    parts = wins.parts()
    groups = {**parts, **({"all": np.arange(len(wins))} if len(parts) > 1 else {})}
    for name, idx in groups.items():
        idx = idx[wins.labelled[idx]]
        if len(idx) == 0:
            continue
        logits = np.concatenate([model.run(prepare(wins.windows(idx[a : a + 256]), card))[ACTIVITY] for a in range(0, len(idx), 256)])
        nan = np.full((len(idx), 3), np.nan, dtype=np.float32)
        m = metrics(wins.y[idx], logits, nan, nan, card.classes)
        out[name] = {key: (round(v, 4) if isinstance(v, float) else v) for key, v in m.items() if key != "confusion"}
    if not out:
        raise DataError(f"--test {', '.join(specs)}: no window carries one of the model's classes {list(card.classes)}")
    return out


def write_labels(run: Run, labels: list[str], over: bool, path: Path) -> dict:
    from csi_edge.tools.discover.iic import assign
    from csi_edge.tools.discover.run import InputDef, load_windows

    inp = InputDef(**run.meta["input"])
    if inp.feature not in ("amplitude", "amplitude-3do"):
        raise UsageError(f"--labels-out writes amplitudes; the run used feature {inp.feature!r}")
    print(f"labelling the windows of {', '.join(run.meta['specs'])} ...", file=sys.stderr)
    wins = load_windows(run.meta["specs"], inp, run.meta.get("label_regex"))
    head = run.over if over else run.head
    clusters = assign(run.net, wins, run.card_for(("?",)), head, over=over).argmax(axis=1)
    return naming.write_labels_npz(path, wins, [labels[c] for c in clusters])
