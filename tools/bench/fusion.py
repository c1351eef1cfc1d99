"""`csi-edge bench fusion`: does fusing the links of one room beat the best single link?

One command, so the evaluation can be re-run with a new training recipe:

    csi-edge bench fusion --train --models build/fusion \
        --train-args "--data sim:days=1&sequences=6&mixed=2&link={link} --val sim:days=1&sequences=2&seed=7&link={link} \
                      --per-window divide-mean --epochs 25 --epoch-windows 2048 --threads 2"
    csi-edge bench fusion --models build/fusion          # models already trained

1. (`--train`) one model per receiver position: `csi-edge train --out MODELS/linkN` plus
   `--train-args` with `{link}` replaced by N (the recipe: data, validation, options), into
   `--models`/linkN;
2. test recordings: for every day (`--days`, default 2, 3) and seed (`--seeds`), `--seconds`
   of the mixed activity schedule seen by every link (one person, same sequence numbers);
3. each link's bytes through the daemon's own `Pipeline` (decoder, window ring, ONNX, smoothing)
   with its model: the states that link would publish;
4. the states aligned as `csi-edge fuse` aligns them (each link's latest, whenever every link has
   a new one) and fused by `csi_edge.fuse.fusion.fuse` with each pooling (`product`, `mean`);
5. weighted variants: each link's vote from its day-1 validation accuracy (`+weights`, what
   its card says), or from its accuracy on the other test day (`+xday`: a second session,
   recorded on another day, scores the links before the fusion is set up);
6. scored against the simulator's truth at each state's newest packet: activity accuracy,
   presence accuracy, and position RMSE (m) over windows with a person, against the mean
   window position. Positions are published only by models with measured skill; the trained
   heads are also scored raw (`rmse_raw_m`, forced on here only) to show what they would add,
   beside the constant baseline on the same windows (`rmse_constant_m`: the card's mean
   training position; for the fusion, the mean of the links' baselines). A fused position is
   published as `csi-edge fuse` would: fused from the links that publish one.

Writes a CSV (one row per day x seed x source) and, with `--plot`, a PNG of accuracy and RMSE
per source; prints the table averaged over seeds.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

from csi_edge.tools.bench.figure import save

WINDOW_TRUTH_PACKETS = 351


def add_arguments(p) -> None:
    p.add_argument("--models", default="build/fusion", help="directory of the per-link models linkN (default build/fusion)")
    p.add_argument("--train", action="store_true", help="train the per-link models first (csi-edge train, sim:days=1&link=N)")
    p.add_argument("--train-args", default="--data sim:days=1&link={link} --epochs 8 --epoch-windows 1024 --threads 2",
                   help="csi-edge train arguments, {link} = the receiver position (default: a short budget)")
    p.add_argument("--links", default="0,1,2", help="receiver positions (default 0,1,2)")
    p.add_argument("--days", default="2,3", help="test days (default 2,3)")
    p.add_argument("--seeds", default="101,102,103", help="test recording seeds (default 101,102,103)")
    p.add_argument("--seconds", type=float, default=240.0, help="seconds per test recording (default 240: mixed, every activity)")
    p.add_argument("--csv", default="bench_fusion.csv", help="CSV output (default bench_fusion.csv)")
    p.add_argument("--plot", default="docs/img/bench_fusion.png", help="PNG output ('' for none)")


def train_models(models: Path, links: list[int], extra: str) -> None:
    models.mkdir(parents=True, exist_ok=True)
    for link in links:
        cmd = [sys.executable, "-m", "csi_edge.cli", "train", "--out", str(models / f"link{link}"), "--no-progress",
               *extra.replace("{link}", str(link)).split()]  # fmt: skip
        print("+", " ".join(cmd), flush=True)
        subprocess.run(cmd, check=True, env={**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "2")})


def link_states(data: bytes, model_path: Path) -> list[dict]:
    """The states one link publishes for `data`, from the daemon's Pipeline (positions forced on)."""
    from csi_edge.config import load_config
    from csi_edge.daemon import load_model
    from csi_edge.pipeline import Pipeline
    from csi_edge.results import state_payload

    cfg = load_config(None, {"model.path": str(model_path), "mqtt.enabled": False})
    pipe = Pipeline(cfg, load_model(cfg), "eval")
    published = pipe.fields.position
    pipe.post.positions = True  # the raw head is scored too; `published` says whether the daemon would publish it
    out = []
    step = 64 * 1024
    for i in range(0, len(data), step):
        out += [state_payload(r, 0.0) | {"published_position": published} for r in pipe.feed(data[i : i + step], 0.0)]
    out += [state_payload(r, 0.0) | {"published_position": published} for r in pipe.finish(0.0)]
    return out


def truth_at(truth: np.ndarray) -> tuple[dict[int, int], dict[int, np.ndarray | None]]:
    """seq -> activity code and seq -> mean position of the window ending there (None: nobody)."""
    seqs = truth["seq"].astype(np.int64)
    pos = np.column_stack([truth["x"], truth["y"], truth["z"]]).astype(np.float64)
    labels = dict(zip(seqs.tolist(), truth["activity"].astype(int).tolist(), strict=True))
    finite = np.isfinite(pos).all(axis=1)
    csum = np.cumsum(np.where(finite[:, None], pos, 0.0), axis=0)
    count = np.cumsum(finite)
    means: dict[int, np.ndarray | None] = {}
    for i, s in enumerate(seqs.tolist()):
        j = np.searchsorted(seqs, s - WINDOW_TRUTH_PACKETS + 1)
        n = count[i] - (count[j - 1] if j else 0)
        total = csum[i] - (csum[j - 1] if j else 0)
        means[s] = total / n if n > WINDOW_TRUTH_PACKETS // 2 else None
    return labels, means


def aligned(per_link: dict[str, list[dict]]) -> list[dict[str, dict]]:
    """Rounds as fuse forms them: whenever every link has a new state, each link's latest."""
    events = sorted(((s["packet_seq"], name, s) for name, states in per_link.items() for s in states), key=lambda e: e[:2])
    latest: dict[str, dict] = {}
    fresh: set[str] = set()
    rounds = []
    for _, name, state in events:
        latest[name] = state
        fresh.add(name)
        if fresh >= set(per_link):
            rounds.append(dict(latest))
            fresh.clear()
    return rounds


def score(pairs: list[tuple[dict, int, np.ndarray | None]], baseline: np.ndarray | None) -> dict:
    """Accuracy, presence accuracy and position RMSE of (state, true code, true position), and the
    RMSE of the constant `baseline` position over the windows the raw position is scored on."""
    from csi_edge.tools.sim.recording import ACTIVITIES

    correct = [s["activity"] == ACTIVITIES[c] for s, c, _ in pairs]
    presence = [bool(s["presence"]) == (ACTIVITIES[c] != "empty") for s, c, _ in pairs if s["presence"] is not None]
    raw = [np.sum((np.array([s["raw"][k] for k in "xyz"]) - p) ** 2) for s, c, p in pairs if p is not None and s.get("raw")]
    const = [np.sum((baseline - p) ** 2) for s, c, p in pairs if p is not None and s.get("raw") and baseline is not None]
    pub = [np.sum((np.array([s["position"][k] for k in "xyz"]) - p) ** 2) for s, c, p in pairs if p is not None and s.get("published")]
    return {"n": len(pairs), "accuracy": float(np.mean(correct)), "presence_accuracy": float(np.mean(presence)) if presence else float("nan"),
            "rmse_raw_m": float(np.sqrt(np.mean(raw))) if raw else float("nan"), "n_positions": len(raw),
            "rmse_constant_m": float(np.sqrt(np.mean(const))) if const else float("nan"),
            "rmse_published_m": float(np.sqrt(np.mean(pub))) if pub else float("nan"), "n_published": len(pub)}  # fmt: skip


def as_scored(state: dict) -> dict:
    """A link's state with its raw position (when present) and whether it would be published."""
    return {**state, "raw": state["position"], "published": state["published_position"] and state["position"] is not None}


def fused_states(rounds: list[dict[str, dict]], pooling: str, geometry: dict | None, weights: dict | None = None) -> list[dict]:
    """The fused state of every round. `raw`: the position fused from every link's raw head;
    `position`: what `csi-edge fuse` would publish, fused from the links that publish one."""
    from dataclasses import replace

    from csi_edge.fuse.fusion import NodeEstimate, fuse

    out = []
    for r in rounds:
        ests = [NodeEstimate(n, s["probabilities"], s["confidence"], None if s["position"] is None else tuple(s["position"][k] for k in "xyz"),
                             None if geometry is None else geometry[n], 1.0 if weights is None else weights[n]) for n, s in r.items()]  # fmt: skip
        f = fuse(ests, pooling=pooling)
        served = fuse([e if r[e.node]["published_position"] else replace(e, position=None) for e in ests], pooling=pooling)
        assert f is not None and served is not None
        raw = None if f.position is None else dict(zip("xyz", f.position, strict=True))
        pub = None if served.position is None else dict(zip("xyz", served.position, strict=True))
        out.append({"activity": f.activity, "presence": f.presence, "raw": raw, "position": pub, "published": pub is not None,
                    "packet_seq": max(s["packet_seq"] for s in r.values())})  # fmt: skip
    return out


def card_baselines(models: Path, links: list[int]) -> dict[str, np.ndarray | None]:
    """Each link's constant position baseline (its card's mean training position; None: no head)."""
    from csi_edge.model.card import load_card

    out: dict[str, np.ndarray | None] = {}
    for k in links:
        card, _ = load_card(models / f"link{k}", verify_onnx=False)
        head = card.head("position")
        out[f"link{k}"] = None if head is None or head.baseline is None else np.asarray(head.baseline, dtype=np.float64)
    return out


def mean_baseline(baselines: dict[str, np.ndarray | None]) -> np.ndarray | None:
    known = [b for b in baselines.values() if b is not None]
    return np.mean(known, axis=0) if known else None


def card_weights(models: Path, links: list[int]) -> dict[str, float]:
    """[[fuse.links]] weight of each link from its card's validation accuracy: the log odds of
    being right against the uniform guess, log(acc (C - 1) / (1 - acc)), at least 0.05."""
    from csi_edge.model.card import load_card

    out = {}
    for k in links:
        card, _ = load_card(models / f"link{k}", verify_onnx=False)
        acc = next((m["accuracy"] for part, m in card.metrics.items() if part.startswith("val") and "accuracy" in m), None)
        out[f"link{k}"] = 1.0 if acc is None else log_odds_weight(acc, len(card.classes))
    return out


def link_geometry(links: list[int]) -> dict:
    from csi_edge.fuse.fusion import Geometry
    from csi_edge.tools.sim.room import RX_POSITIONS, TX_POS

    return {f"link{k}": Geometry(tuple(TX_POS), tuple(RX_POSITIONS[k])) for k in links}  # type: ignore[arg-type]


def log_odds_weight(accuracy: float, classes: int) -> float:
    """A link's vote from its accuracy: log odds of being right against a uniform guess, >= 0.05."""
    acc = min(max(accuracy, 1e-3), 0.999)
    return max(0.05, float(np.log(acc * (classes - 1) / (1 - acc))))


def evaluate(models: Path, links: list[int], days: list[int], seeds: list[int], seconds: float) -> list[dict]:
    """Every (day, seed): each link's states, then the fused variants, scored. Weighted variants:
    `+weights`: from each card's day-1 validation accuracy; `+xday`: from each link's accuracy on
    the OTHER test day(s) (a session recorded on another day, as an installer could record one)."""
    from tqdm import tqdm

    from csi_edge.tools.sim import simulate

    weights = card_weights(models, links)
    print("link weights from validation accuracy:", json.dumps({k: round(v, 3) for k, v in weights.items()}))
    baselines = card_baselines(models, links)
    print("constant position baselines (m):", json.dumps({k: None if b is None else b.round(3).tolist() for k, b in baselines.items()}))
    recordings = {}
    for day, seed in tqdm([(d, s) for d in days for s in seeds], desc="fusion eval", unit="recording"):
        per_link, truth = {}, None
        for k in links:
            rec = simulate(seconds, day=day, activity="mixed", seed=seed, link=k)
            truth = rec.truth if truth is None else truth
            per_link[f"link{k}"] = link_states(rec.to_v1(), models / f"link{k}")
        assert truth is not None
        recordings[(day, seed)] = (per_link, truth_at(truth))
    rows = []
    for (day, seed), (per_link, (labels, means)) in recordings.items():
        for name, states in per_link.items():
            rows.append(_row(day, seed, name, [as_scored(s) for s in states], labels, means, baselines[name]))
    link_acc = {(r["day"], r["source"]): [] for r in rows}
    for r in rows:
        link_acc[(r["day"], r["source"])].append(r["accuracy"])
    classes = 4
    for day in days:
        others = [d for d in days if d != day]
        if others:
            w = {n: round(log_odds_weight(float(np.mean([a for d in others for a in link_acc[(d, n)]])), classes), 3) for n in per_link}
            print(f"day {day}: [[fuse.links]] weights from day(s) {others}: {json.dumps(w)}")
    for (day, seed), (per_link, (labels, means)) in recordings.items():
        rounds = aligned(per_link)
        variants = {f"fused-{pooling}": fused_states(rounds, pooling, None) for pooling in ("product", "mean")}
        variants["fused-product+geometry"] = fused_states(rounds, "product", link_geometry(links))
        variants["fused-product+weights"] = fused_states(rounds, "product", None, weights)
        others = [d for d in days if d != day]
        if others:
            xday = {n: log_odds_weight(float(np.mean([a for d in others for a in link_acc[(d, n)]])), classes) for n in per_link}
            variants["fused-mean+xday"] = fused_states(rounds, "mean", None, xday)
            variants["fused-product+xday"] = fused_states(rounds, "product", None, xday)
        for name, states in variants.items():
            rows.append(_row(day, seed, name, states, labels, means, mean_baseline(baselines)))
    return rows


def _row(day: int, seed: int, name: str, states: list[dict], labels: dict, means: dict, baseline: np.ndarray | None) -> dict:
    pairs = [(s, labels[s["packet_seq"]], means.get(s["packet_seq"])) for s in states if s["packet_seq"] in labels]
    return {"day": day, "seed": seed, "source": name, **score(pairs, baseline)}


def summary(rows: list[dict]) -> list[dict]:
    groups: dict[tuple[int, str], list[dict]] = defaultdict(list)
    for r in rows:
        groups[(r["day"], r["source"])].append(r)
    out = []
    for (day, source), rs in groups.items():
        out.append({"day": day, "source": source, "seeds": len(rs),
                    **{k: _nanmean([r[k] for r in rs]) for k in ("accuracy", "presence_accuracy", "rmse_raw_m", "rmse_constant_m", "rmse_published_m")},
                    "published_percent": 100.0 * sum(r["n_published"] for r in rs) / max(1, sum(r["n_positions"] for r in rs)),
                    "accuracy_std": float(np.std([r["accuracy"] for r in rs]))})  # fmt: skip
    return out


def _nanmean(values: list[float]) -> float:
    finite = [v for v in values if v == v]
    return float(np.mean(finite)) if finite else float("nan")


def markdown(table: list[dict]) -> str:
    """The summary as a Markdown table: one row per source, columns per day."""
    days = sorted({r["day"] for r in table})
    head = ["source"] + [f"day {d} {k}" for d in days
                         for k in ("accuracy %", "presence %", "RMSE published m", "RMSE raw m", "RMSE constant m", "raw / constant")]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    by = {(r["source"], r["day"]): r for r in table}
    for source in dict.fromkeys(r["source"] for r in table):
        cells = [source]
        for d in days:
            r = by[(source, d)]
            pub = "-" if r["rmse_published_m"] != r["rmse_published_m"] else f"{r['rmse_published_m']:.2f}"
            cells += [f"{100 * r['accuracy']:.1f} +- {100 * r['accuracy_std']:.1f}", f"{100 * r['presence_accuracy']:.1f}",
                      pub, f"{r['rmse_raw_m']:.2f}", f"{r['rmse_constant_m']:.2f}", f"{r['rmse_raw_m'] / r['rmse_constant_m']:.3f}"]  # fmt: skip
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def plot(table: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    days = sorted({r["day"] for r in table})
    sources = list(dict.fromkeys(r["source"] for r in table))
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    width = 0.8 / len(days)
    for i, day in enumerate(days):
        rows = {r["source"]: r for r in table if r["day"] == day}
        x = np.arange(len(sources)) + i * width
        axes[0].bar(x, [rows[s]["accuracy"] * 100 for s in sources], width, yerr=[rows[s]["accuracy_std"] * 100 for s in sources],
                    label=f"day {day}")  # fmt: skip
        axes[1].bar(x, [rows[s]["rmse_raw_m"] for s in sources], width, label=f"day {day}")
        axes[1].scatter(x, [rows[s]["rmse_constant_m"] for s in sources], marker="_", s=300, color="black", zorder=3,
                        label="constant baseline" if i == 0 else None)  # fmt: skip
    for ax, label in ((axes[0], "activity accuracy (%)"), (axes[1], "position RMSE of the raw heads (m)")):
        ax.set_xticks(np.arange(len(sources)) + width * (len(days) - 1) / 2)
        ax.set_xticklabels(sources, rotation=30, ha="right")
        ax.set_ylabel(label)
        ax.grid(axis="y", alpha=0.3)
        ax.legend(loc="upper right", ncol=3)
    axes[0].set_ylim(0, 115)  # room for the legend above the bars
    rmse = [v for r in table for v in (r["rmse_raw_m"], r["rmse_constant_m"]) if v == v]  # no NaN (models without positions)
    axes[1].set_ylim(0, 1.25 * max(rmse, default=1.0))
    axes[0].set_title("each link alone vs fused (mean of seeds, +-std)")
    axes[1].set_title("positions of the heads (published only with skill)")
    save(fig, path)


def run(args) -> int:
    from csi_edge.errors import UsageError

    try:
        links, days, seeds = ([int(v) for v in text.split(",") if v.strip()] for text in (args.links, args.days, args.seeds))
    except ValueError:
        raise UsageError("--links, --days and --seeds are comma-separated integers") from None
    models = Path(args.models)
    if args.train:
        train_models(models, links, args.train_args)
    missing = [k for k in links if not (models / f"link{k}.json").exists()]
    if missing:
        raise UsageError(f"{models}: no model for link(s) {missing}; run with --train (or --models DIR with linkN.onnx + linkN.json)")
    rows = evaluate(models, links, days, seeds, args.seconds)
    with open(args.csv, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    table = summary(rows)
    for r in table:
        print(json.dumps({k: round(v, 4) if isinstance(v, float) else v for k, v in r.items()}))
    print(markdown(table))
    if args.plot:
        plot(table, Path(args.plot))
    print(f"wrote {args.csv}" + (f" and {args.plot}" if args.plot else ""))
    return 0
