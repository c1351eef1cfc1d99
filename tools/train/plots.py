"""PNG plots for training and evaluation (matplotlib, Agg backend)."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def confusion_png(confusion, classes, path: Path, title: str = "") -> None:
    plt = _plt()
    cm = np.asarray(confusion, dtype=float)
    norm = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1)
    fig, ax = plt.subplots(figsize=(1.2 * len(classes) + 2, 1.2 * len(classes) + 1.5))
    ax.imshow(norm, cmap="Blues", vmin=0, vmax=1)
    for i in range(len(classes)):
        for j in range(len(classes)):
            ax.text(j, i, f"{int(cm[i, j])}\n{norm[i, j]:.0%}", ha="center", va="center", fontsize=8, color="white" if norm[i, j] > 0.5 else "black")
    ax.set_xticks(range(len(classes)), classes, rotation=30)
    ax.set_yticks(range(len(classes)), classes)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)
    fig.tight_layout()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def curves_png(histories: dict[str, list[dict]], path: Path, title: str = "training curves") -> None:
    """Train/validation loss per epoch for several runs (name -> history rows)."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7, 4))
    for i, (name, rows) in enumerate(histories.items()):
        ep = [r["epoch"] for r in rows]
        color = f"C{i % 10}"
        ax.plot(ep, [r["train_loss"] for r in rows], color=color, ls="--", lw=1)
        ax.plot(ep, [r["val_loss"] for r in rows], color=color, lw=1.5, label=name)
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss (dashed: train, solid: validation)")
    ax.set_yscale("log")
    ax.set_title(title)
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def heatmap_png(features: np.ndarray, labels: np.ndarray, path: Path, rate_hz: float = 100.0, title: str = "amplitude") -> None:
    """Paper Fig. 3: per-packet amplitude (subcarrier x time) with the label timeline."""
    plt = _plt()
    n = len(features)
    fig, (ax, lab) = plt.subplots(2, 1, figsize=(10, 4.5), sharex=True, gridspec_kw={"height_ratios": [6, 1]})
    t = n / rate_hz
    ax.imshow(features.T, aspect="auto", origin="lower", extent=(0, t, 0, features.shape[1]), cmap="viridis")
    ax.set_ylabel("subcarrier")
    ax.set_title(title)
    names = sorted(set(map(str, labels)))
    codes = np.array([names.index(str(v)) for v in labels])
    lab.imshow(codes[None, :], aspect="auto", extent=(0, t, 0, 1), cmap="tab10", vmin=0, vmax=9)
    lab.set_yticks([])
    lab.set_xlabel("time (s)")
    for i, name in enumerate(names):
        lab.plot([], [], color=plt.cm.tab10(i), lw=6, label=name)
    lab.legend(ncol=len(names), fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.9))
    fig.tight_layout()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def projection_png(points: dict[str, np.ndarray], labels: np.ndarray, classes, path: Path) -> None:
    """Paper Fig. 4: 3D projections (method -> (n, 3)) coloured by class."""
    plt = _plt()
    fig = plt.figure(figsize=(4.2 * len(points), 4.2))
    for k, (name, pts) in enumerate(points.items()):
        ax = fig.add_subplot(1, len(points), k + 1, projection="3d")
        for c, cls in enumerate(classes):
            sel = labels == c
            ax.scatter(pts[sel, 0], pts[sel, 1], pts[sel, 2], s=2, color=f"C{c}", label=cls)
        ax.set_title(name)
        if k == 0:
            ax.legend(fontsize=7, markerscale=4)
    fig.tight_layout()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def bars_png(rows: list[dict], metric: str, path: Path, title: str) -> None:
    """Ablation bars: one group per configuration, one bar per part (mean, std as error)."""
    plt = _plt()
    parts = sorted({p for r in rows for p in r["parts"]})
    fig, ax = plt.subplots(figsize=(max(6, 0.9 * len(rows) + 2), 4))
    width = 0.8 / max(len(parts), 1)
    for j, part in enumerate(parts):
        means = [r["parts"].get(part, {}).get(metric, {}).get("mean", np.nan) for r in rows]
        stds = [r["parts"].get(part, {}).get(metric, {}).get("std", 0) for r in rows]
        ax.bar(np.arange(len(rows)) + j * width, means, width, yerr=stds, label=part, capsize=2)
    ax.set_xticks(np.arange(len(rows)) + 0.4 - width / 2, [r["name"] for r in rows], rotation=30)
    ax.set_ylabel(metric)
    ax.set_title(title)
    ax.legend(fontsize=8)
    fig.tight_layout()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def agreement_grid_png(rows: list[dict], path, title: str = "") -> None:
    """Live agreement (offline) per day over smoothing x hysteresis: one line per hysteresis."""
    plt = _plt()
    days = [k for k in rows[0] if k not in ("smoothing", "hysteresis")]
    fig, axes = plt.subplots(1, len(days), figsize=(3.2 * len(days), 3.2), sharey=True, squeeze=False)
    for ax, day in zip(axes[0], days, strict=True):
        for h in sorted({r["hysteresis"] for r in rows}):
            sel = sorted((r for r in rows if r["hysteresis"] == h), key=lambda r: r["smoothing"])
            ax.plot([r["smoothing"] for r in sel], [100 * r[day] for r in sel], marker="o", label=f"hysteresis {h}")
        ax.set_xscale("log")
        ax.set_xlabel("smoothing (EMA weight of the newest)")
        ax.set_title(day)
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("agreement with the truth (%)")
    axes[0][-1].legend(fontsize=7)
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
