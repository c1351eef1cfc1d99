"""Tables and plots of the calibration benchmark (tools/train/calibration_bench.py results.json).

    python -m csi_edge.tools.train.calibration_report reports/calibration/results.json --img docs/img
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path

import numpy as np

EVAL_ORDER = ("plain", "+adapt-mean", "+adapt-mean-std", "+adapt-batchnorm", "+tta", "stale")


def _ms(values: list[float]) -> str:
    v = np.asarray(values, dtype=float) * 100
    return f"{v.mean():.1f} ± {v.std():.1f}" if len(v) else "-"


def cross_table(rows: list[dict]) -> tuple[str, dict]:
    acc: dict = defaultdict(list)
    parts: list[str] = []
    for r in rows:
        for part, m in r["parts"].items():
            if "accuracy" in m:
                acc[(r["variant"], r["eval"], part)].append(m["accuracy"])
                if part not in parts:
                    parts.append(part)
    parts = [p for p in parts if p != "all"] + (["all"] if "all" in parts else [])
    lines = ["| variant | evaluation | " + " | ".join(f"{p} ACC %" for p in parts) + " |", "|---|---|" + "---|" * len(parts)]
    variants = list(dict.fromkeys(r["variant"] for r in rows))
    for v in variants:
        for e in EVAL_ORDER:
            if (v, e, parts[0]) in acc:
                lines.append(f"| {v} | {e} | " + " | ".join(_ms(acc.get((v, e, p), [])) for p in parts) + " |")
    return "\n".join(lines), acc


def novelty_table(rows: list[dict]) -> str:
    by: dict = defaultdict(lambda: defaultdict(list))
    for r in rows:
        m = r["parts"].get("all") or next(iter(r["parts"].values()))
        for k in ("novelty_auroc_msp", "novelty_auroc_energy", "novelty_auroc_both", "accuracy", "unknown_rate_known", "unknown_rate_unknown"):
            if k in m and m[k] == m[k]:
                by[r["heldout"]][k].append(m[k])
    lines = ["| held out | AUROC msp % | AUROC energy % | AUROC energy two-sided % | known-class ACC % | `unknown` rate, known windows % | `unknown` rate, unknown windows % |",
             "|---|---|---|---|---|---|---|"]
    for held, m in by.items():
        lines.append(f"| {held} | {_ms(m['novelty_auroc_msp'])} | {_ms(m['novelty_auroc_energy'])} | "
                     f"{_ms(m['novelty_auroc_both'])} | {_ms(m['accuracy'])} | "
                     f"{_ms(m['unknown_rate_known'])} | {_ms(m['unknown_rate_unknown'])} |")
    return "\n".join(lines)


def plot_cross(acc: dict, dataset: str, out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    variants = list(dict.fromkeys(v for v, _, _ in acc))
    evals = [e for e in EVAL_ORDER if any((v, e, "all") in acc for v in variants)]
    fig, ax = plt.subplots(figsize=(8, 3.6))
    width = 0.8 / len(evals)
    for j, e in enumerate(evals):
        means = [np.mean(acc.get((v, e, "all"), [np.nan])) * 100 for v in variants]
        stds = [np.std(acc.get((v, e, "all"), [np.nan])) * 100 for v in variants]
        ax.bar(np.arange(len(variants)) + j * width, means, width, yerr=stds, label=e, capsize=2)
    ax.set_xticks(np.arange(len(variants)) + 0.4 - width / 2, variants)
    ax.set(ylabel="accuracy %, all test parts", title=f"{dataset}: cross-session accuracy (mean ± std over seeds)")
    ax.legend(fontsize=7, ncol=3)
    fig.tight_layout()
    fig.savefig(out / f"calibration_cross_{dataset}.png", dpi=110)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("results")
    p.add_argument("--img", default="docs/img")
    args = p.parse_args(argv)
    results = json.loads(Path(args.results).read_text())
    out = Path(args.img)
    out.mkdir(parents=True, exist_ok=True)
    for key, rows in results.items():
        dataset, _, kind = key.partition(":")
        if kind == "cross":
            table, acc = cross_table(rows)
            plot_cross(acc, dataset, out)
            print(f"\n### {dataset}: cross-session accuracy\n\n{table}")
        elif kind == "novelty":
            print(f"\n### {dataset}: novelty, leave one class out\n\n{novelty_table(rows)}")
        elif kind == "baselines":
            print(f"\n{dataset} baselines: " + json.dumps(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
