"""Measurements for docs/discover.md: IIC against k-means, pairs, over-clustering, naming.

    python -m csi_edge.tools.discover.study --preset sim --out reports/discover-sim --seeds 0,1,2
    python -m csi_edge.tools.discover.study --preset real --out reports/discover-real --seeds 0,1,2

For every seed and every configuration (pairs augment / temporal / both, without and with
over-clustering K2 = 3K; `noisy` adds gain and noise jitter to `both`) it trains IIC on all windows of the preset (labels unused) and scores
the kept main sub-head against the labels (acc, nmi, ari), beside k-means on the same windows
(K clusters, and K2 for the over-clustering rows). Then it compares labelling by exception with
full supervision on the preset's split: each cluster (or over-cluster) is named by the true label
of ONE window, its most confident window in the labelled part (what a user clicking through
`representatives.png` does), and the named model is scored on the test part; the supervised
model (`csi-edge train`'s code, the same input definition) is trained on every label of the
labelled part. Every run appends one JSON line to OUT/runs.jsonl (a rerun skips what is there);
OUT/table.md and OUT/*.png summarise them.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from csi_edge.tools.discover.iic import IICConfig
from csi_edge.tools.discover.metrics import kmeans_distances, scores_by_part
from csi_edge.tools.discover.naming import class_order, class_scores, merge_matrix
from csi_edge.tools.discover.run import InputDef, discover, input_card, load_windows
from csi_edge.tools.discover.windows import Windows

REAL = "../shared/data/real/mendelas-hand"
PRESETS = {
    "sim": {
        "data": ["sim:days=1,2,3&seconds=20&sequences=2"],
        "label_regex": None, "clusters": 4, "labelled_part": "d1",
        "train": ["sim:days=1&seconds=20&sequences=2"], "test": ["sim:days=2,3&seconds=20&sequences=2"],
    },
    "real": {
        "data": [f"csi:{REAL}/*.csv?part=(trial0\\d)"],
        "label_regex": "(E0\\d)_", "clusters": 3, "labelled_part": "trial01",
        "train": [f"csi:{REAL}/*trial01.csv"], "test": [f"csi:{REAL}/*trial02.csv?part=(trial0\\d)"],
    },
}
PAIR_KINDS = ("augment", "temporal", "both", "noisy")
EQUAL_BUDGET = (25, 1024)  # supervised windows seen = IIC's 200 steps x 64 pairs x 2 windows (25,600)


def GRID(k: int) -> list[tuple[str, int, float]]:  # noqa: N802 - a constant that depends on K
    """(pairs, over-clusters, marginal weight): plain IIC for every pair kind with and without
    over-clustering, then the marginal weight 2 for every pair kind (and with over-clustering)."""
    plain = [(p, over, 1.0) for p in PAIR_KINDS for over in (0, 3 * k)]
    return plain + [(p, 0, 2.0) for p in PAIR_KINDS] + [("both", 3 * k, 2.0)]


@dataclass
class Setup:
    """The study's windows, which of them are the labelled part and which the test part, and OUT."""

    wins: Windows
    labelled: np.ndarray  # (M,) bool
    test: np.ndarray  # (M,) bool
    out: Path


def iic_row(key: str, cfg: IICConfig, setup: Setup, card) -> dict:
    wins, labelled, test = setup.wins, setup.labelled, setup.test
    found = discover(wins, card, cfg, kmeans=False)
    path = setup.out / "probs" / (key.replace("/", "_") + ".npz")
    path.parent.mkdir(exist_ok=True)
    np.savez_compressed(path, probs=found.probs, over=found.over_probs if found.over_probs is not None else np.zeros((len(wins), 0)))
    k, over = cfg.clusters, cfg.overclusters
    row = {"key": key, "kind": "iic", "pairs": cfg.pairs, "over": over, "weight": cfg.marginal_weight, "seed": cfg.seed,
           **scores_by_part(wins, found.probs.argmax(1), k)["all"], "sizes": found.summary["sizes"], "seconds": found.summary["seconds"],
           "head_losses": found.summary["head_losses"], "nmi_recording": _nmi(wins.rec, found.probs.argmax(1))}
    row["named_1perK"] = named_scores(wins, found.probs, one_window_names(wins, found.probs, labelled), test)
    if found.over_probs is not None:
        row["over_scores"] = scores_by_part(wins, found.over_probs.argmax(1), over)["all"]
        row["named_1perK2"] = named_scores(wins, found.over_probs, one_window_names(wins, found.over_probs, labelled), test)
    return row


def one_window_names(wins, probs: np.ndarray, labelled: np.ndarray) -> list[str]:
    """Each cluster named by the true label of its most confident window among `labelled`."""
    clusters = probs.argmax(axis=1)
    names = []
    for c in range(probs.shape[1]):
        cand = np.nonzero(labelled & (clusters == c) & (wins.y >= 0))[0]
        if len(cand) == 0:  # no window of the labelled part: the most confident one anywhere
            cand = np.nonzero(wins.y >= 0)[0]
        best = cand[np.argmax(probs[cand, c])]
        names.append(wins.classes[wins.y[best]])
    return names


def named_scores(wins, probs: np.ndarray, names: list[str], test: np.ndarray) -> dict:
    """Accuracy / macro-F1 of the named model (class_scores, as exported) on `test`."""
    from csi_edge.tools.train.evaluate import metrics

    classes = class_order(names)
    merged = class_scores(probs[test], merge_matrix(names, classes))
    pred = np.array([wins.classes.index(classes[i]) for i in merged.argmax(axis=1)])
    logits = np.full((len(pred), len(wins.classes)), -1e3, dtype=np.float32)
    logits[np.arange(len(pred)), pred] = 0.0
    nan = np.full((len(pred), 3), np.nan, dtype=np.float32)
    m = metrics(wins.y[test], logits, nan, nan, tuple(wins.classes))
    return {"accuracy": round(m["accuracy"], 4), "f1_macro": round(m["f1_macro"], 4), "n": m["n"], "labelled_windows": len(names),
            "classes_named": len(classes)}


def supervised(preset: dict, inp: InputDef, seed: int, out: Path, budget: tuple[int, int], threads: int = 1) -> dict:
    """`csi-edge train`'s code on every label of the labelled part; accuracy on the test part."""
    from csi_edge.tools.train.augment import parse_augment
    from csi_edge.tools.train.loop import TrainConfig
    from csi_edge.tools.train.run import Options, load_data, run_once

    epochs, epoch_windows = budget
    opts = Options(window=inp.window, hop=inp.hop, per_window=inp.per_window)
    cfg = TrainConfig(epochs=epochs, epoch_windows=epoch_windows, seed=seed, threads=threads, augment=parse_augment("rotate"), progress=False, log_epochs=False)
    data = load_data(preset["train"], None, preset["test"], opts, preset["label_regex"], seed)
    _, _, result, parts = run_once(data, opts, cfg, out / f"supervised_seed{seed}.pt")
    key = "all" if "all" in parts else next(iter(parts))
    return {"accuracy": round(parts[key]["accuracy"], 4), "f1_macro": round(parts[key]["f1_macro"], 4), "n": parts[key]["n"],
            "labelled_windows": data.summary["train"]["windows"] + data.summary["val"]["windows"], "seconds": round(result.seconds, 1)}


def _nmi(a: np.ndarray, b: np.ndarray) -> float:
    """NMI of the clusters with another partition (e.g. the recording: do clusters follow sessions?)."""
    from sklearn.metrics import normalized_mutual_info_score

    return round(float(normalized_mutual_info_score(a, b)), 4)


def _done(path: Path) -> dict[str, dict]:
    if not path.exists():
        return {}
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return {r["key"]: r for r in rows}


def _append(path: Path, row: dict) -> None:
    with open(path, "a") as fh:
        fh.write(json.dumps(row) + "\n")
    print(json.dumps({k: row[k] for k in row if k in ("key", "acc", "nmi", "ari", "accuracy", "seconds")}), flush=True)


def run_study(args) -> None:
    preset = PRESETS[args.preset]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    log = out / "runs.jsonl"
    done = _done(log)
    inp = InputDef(hop=args.hop)
    wins = load_windows(preset["data"], inp, preset["label_regex"])
    parts = wins.parts()
    labelled = np.zeros(len(wins), dtype=bool)
    labelled[parts[preset["labelled_part"]]] = True
    setup = Setup(wins, labelled, ~labelled & (wins.y >= 0), out)
    k = preset["clusters"]
    print(f"{args.preset}: {len(wins)} windows, parts {[(p, len(i)) for p, i in parts.items()]}", flush=True)
    for seed in [int(s) for s in args.seeds.split(",")]:
        card = input_card(wins, inp, seed)
        for kk, name in ((k, "kmeans"), (3 * k, "kmeans_over")):
            key = f"{name}/seed{seed}"
            if key not in done or "named" not in done[key]:
                _append(log, kmeans_row(key, name, kk, seed, setup, card))
        for pairs, over, weight in GRID(k):
            key = f"iic/{pairs}/over{over}" + (f"/w{weight:g}" if weight != 1 else "") + f"/seed{seed}"
            if key not in done:
                cfg = IICConfig(k, over, 5, pairs, args.steps, 64, seed=seed, threads=args.threads, progress=False, marginal_weight=weight)
                _append(log, iic_row(key, cfg, setup, card))
        for budget in ((args.sup_epochs, args.sup_windows), EQUAL_BUDGET):
            key = f"supervised/seed{seed}" if budget == (8, 512) else f"supervised/{budget[0]}x{budget[1]}/seed{seed}"
            if key not in done:
                row = supervised(preset, inp, seed, out, budget, args.threads)
                _append(log, {"key": key, "kind": "supervised", "budget": f"{budget[0]} epochs x {budget[1]} windows", "seed": seed, **row})
    from csi_edge.tools.discover.study_report import write_report

    write_report(out, args.preset, dataclasses.asdict(inp), args.steps)


def kmeans_row(key: str, name: str, k: int, seed: int, setup: Setup, card) -> dict:
    """k-means on the study's windows, scored, and named by the window nearest each centre."""
    t0 = time.perf_counter()
    dist = kmeans_distances(setup.wins, card, k, seed)
    c = dist.argmin(axis=1)
    names = one_window_names(setup.wins, -dist, setup.labelled)
    return {"key": key, "kind": name, "seed": seed, **scores_by_part(setup.wins, c, k)["all"], "nmi_recording": _nmi(setup.wins.rec, c),
            "named": named_scores(setup.wins, np.eye(k, dtype=np.float32)[c], names, setup.test), "seconds": round(time.perf_counter() - t0, 1)}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m csi_edge.tools.discover.study", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--preset", choices=sorted(PRESETS), required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--seeds", default="0,1,2")
    p.add_argument("--steps", type=int, default=200)
    p.add_argument("--hop", type=int, default=20)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--sup-epochs", type=int, default=8)
    p.add_argument("--sup-windows", type=int, default=512)
    args = p.parse_args(argv)
    import torch

    torch.set_num_threads(args.threads)
    run_study(args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
