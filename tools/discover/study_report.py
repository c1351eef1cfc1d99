"""OUT/runs.jsonl of the study -> OUT/table.md, OUT/table.json and bar plots (mean +- std over seeds)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np


def _ms(values: list[float]) -> dict:
    v = np.asarray([x for x in values if x is not None], dtype=float)
    return {"mean": float(v.mean()) if len(v) else float("nan"), "std": float(v.std()) if len(v) else float("nan"), "n": int(len(v))}


def _fmt(stat: dict, pct: bool = True, digits: int = 3) -> str:
    if stat["n"] == 0:
        return "-"
    if pct:
        return f"{stat['mean'] * 100:.1f} ± {stat['std'] * 100:.1f}"
    return f"{stat['mean']:.{digits}f} ± {stat['std']:.{digits}f}"


def cluster_rows(rows: list[dict]) -> list[dict]:
    """One row per configuration: IIC pairs x over-clustering, and k-means (K, K2)."""
    out = []
    groups: dict[str, list[dict]] = {}
    for r in rows:
        if r["kind"] == "iic":
            name = f"IIC {r['pairs']}" + (f" + over-clustering (K2={r['over']})" if r["over"] else "") + (f", w={r['weight']:g}" if r.get("weight", 1) != 1 else "")
        elif r["kind"] in ("kmeans", "kmeans_over"):
            name = "k-means, K clusters" if r["kind"] == "kmeans" else "k-means, K2 = 3K clusters"
        else:
            continue
        groups.setdefault(name, []).append(r)
    for name, rs in groups.items():
        row = {"name": name, "seeds": len(rs), **{m: _ms([r.get(m) for r in rs]) for m in ("acc", "nmi", "ari", "acc_many", "nmi_recording")}}
        if rs[0]["kind"] == "kmeans" and all("named" in r for r in rs):
            row["named_1perK"] = _ms([r["named"]["accuracy"] for r in rs])
        if rs[0]["kind"] == "kmeans_over" and all("named" in r for r in rs):
            row["named_1perK2"] = _ms([r["named"]["accuracy"] for r in rs])
        if rs[0]["kind"] == "iic":
            row["named_1perK"] = _ms([r["named_1perK"]["accuracy"] for r in rs])
            row["seconds"] = _ms([r["seconds"] for r in rs])
            if "named_1perK2" in rs[0]:
                row["named_1perK2"] = _ms([r["named_1perK2"]["accuracy"] for r in rs])
                row["over_acc_many"] = _ms([r["over_scores"]["acc_many"] for r in rs])
        out.append(row)
    return out


def write_report(out: Path, preset: str, inp: dict, steps: int) -> None:
    by_key = {}
    for line in (out / "runs.jsonl").read_text().splitlines():
        if line.strip():
            row = json.loads(line)
            by_key[row["key"]] = row  # a rerun's row replaces the earlier one
    rows = list(by_key.values())
    table = cluster_rows(rows)
    sup = [r for r in rows if r["kind"] == "supervised"]
    lines = [f"# discover study: {preset}", "", f"input: {inp}; IIC {steps} steps x 64 pairs, 5 sub-heads", "",
             "| method | seeds | acc % | NMI | ARI | NMI with the recording | best naming, many-to-one (of the over-clusters when trained) % | one window per cluster, test % | one window per over-cluster, test % | IIC s |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in table:
        lines.append(f"| {r['name']} | {r['seeds']} | {_fmt(r['acc'])} | {_fmt(r['nmi'], False)} | {_fmt(r['ari'], False)} | {_fmt(r['nmi_recording'], False)} | "
                     f"{_fmt(r.get('over_acc_many', r['acc_many']))} | {_fmt(r['named_1perK']) if 'named_1perK' in r else '-'} | "
                     f"{_fmt(r['named_1perK2']) if 'named_1perK2' in r else '-'} | {_fmt(r['seconds'], False, 0) if 'seconds' in r else '-'} |")
    budgets: dict[str, list[dict]] = {}
    for r in sup:
        budgets.setdefault(r.get("budget", "8 epochs x 512 windows"), []).append(r)
    for budget, rs in budgets.items():
        acc, f1 = _ms([r["accuracy"] for r in rs]), _ms([r["f1_macro"] for r in rs])
        lines += ["", f"full supervision (csi-edge train code, {rs[0]['labelled_windows']} labelled windows, {budget}): "
                      f"test accuracy {_fmt(acc)} %, macro-F1 {_fmt(f1)} % ({len(rs)} seeds)"]
    (out / "table.md").write_text("\n".join(lines) + "\n")
    (out / "table.json").write_text(json.dumps({"clusters": table, "supervised": sup}, indent=1) + "\n")
    _bars(table, sup, out / f"discover_{preset}_bars.png", preset)
    print("\n".join(lines))


def _bars(table: list[dict], sup: list[dict], path: Path, preset: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [r["name"].replace(" + over-clustering ", "\n+ over ") for r in table]
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.2))
    x = np.arange(len(table))
    for j, (metric, label) in enumerate((("acc", "acc"), ("nmi", "NMI"), ("ari", "ARI"))):
        axes[0].bar(x + (j - 1) * 0.27, [r[metric]["mean"] for r in table], 0.27, yerr=[r[metric]["std"] for r in table], capsize=2, label=label)
    axes[0].set_xticks(x, names, rotation=35, ha="right", fontsize=7)
    axes[0].set_title(f"{preset}: clusters against labels (all windows)", fontsize=9)
    axes[0].legend(fontsize=7)
    iic = [r for r in table if "named_1perK" in r or "named_1perK2" in r]
    xs = np.arange(len(iic))
    axes[1].bar(xs - 0.2, [r.get("named_1perK", {}).get("mean", np.nan) for r in iic], 0.4,
                yerr=[r.get("named_1perK", {}).get("std", 0) for r in iic], capsize=2, label="one window per cluster")
    axes[1].bar(xs + 0.2, [r.get("named_1perK2", {}).get("mean", np.nan) for r in iic], 0.4,
                yerr=[r.get("named_1perK2", {}).get("std", 0) for r in iic], capsize=2, label="one window per over-cluster")
    budgets: dict[str, list[float]] = {}
    for r in sup:
        budgets.setdefault(r.get("budget", "8 epochs x 512 windows"), []).append(r["accuracy"])
    for i, (budget, accs) in enumerate(budgets.items()):
        m = float(np.mean(accs))
        axes[1].axhline(m, color="k", ls=("--", ":")[i % 2], lw=1, label=f"full supervision, {budget} ({m:.0%})")
    axes[1].set_xticks(xs, [r["name"].replace(" + over-clustering ", "\n+ over ") for r in iic], rotation=35, ha="right", fontsize=7)
    axes[1].set_ylabel("test accuracy")
    axes[1].set_title(f"{preset}: labelling by exception vs full supervision", fontsize=9)
    axes[1].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
