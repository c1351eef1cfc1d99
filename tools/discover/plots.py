"""PNG plots of a discovery run (matplotlib, Agg backend).

- `timeline_png`: clusters over one recording (a colour band per window, at its time), with the
  labels beside them when the recording has labels;
- `overview_png`: the same for many recordings, one row each;
- `representatives_png`: for each cluster, a few representative windows as amplitude heatmaps
  (subcarrier x time), the per-packet feature before any normalisation;
- `sizes_png`: windows per cluster, stacked by label when there are labels.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path: Path) -> None:
    plt = _plt()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _band(ax, t: np.ndarray, codes: np.ndarray, n_colours: int, cmap: str) -> None:
    """Colour band of integer codes at times t (a code < 0 is left blank)."""
    if len(t) == 0:
        return
    step = float(np.median(np.diff(t))) if len(t) > 1 else 1.0
    edges = np.r_[t - step / 2, t[-1] + step / 2]
    masked = np.ma.masked_less(codes.astype(float), 0)[None, :]
    ax.pcolormesh(edges, [0, 1], masked, cmap=cmap, vmin=-0.5, vmax=max(n_colours, 1) - 0.5, shading="flat")
    ax.set_yticks([])


def _cmap(n: int) -> str:
    return "tab10" if n <= 10 else "tab20"


def _label_cmap(n: int) -> str:
    return "Dark2" if n <= 8 else "tab20b"  # labels get other colours than clusters


def _colour(cmap: str, i: int, n: int):
    """The colour `_band` gives code i of n (its normalisation: vmin -0.5, vmax n - 0.5)."""
    plt = _plt()
    return plt.get_cmap(cmap)((i + 0.5) / max(n, 1))


def _legend(ax, names, cmap: str, title: str) -> None:
    for i, name in enumerate(names):
        ax.plot([], [], lw=6, color=_colour(cmap, i, len(names)), label=str(name))
    ax.legend(ncol=1 if len(names) <= 6 else 2, fontsize=6, loc="center left", bbox_to_anchor=(1.01, 0.5), title=title, title_fontsize=6)


def timeline_png(row: dict, n_clusters: int, classes, path: Path) -> None:
    """One recording, row = {name, t, clusters, labels (class indices, -1 none; or None)}:
    the cluster band, and the label band beside it when the recording has labels."""
    plt = _plt()
    t, clusters, labels, title = row["t"], row["clusters"], row["labels"], row["name"]
    rows = 2 if labels is not None else 1
    fig, axes = plt.subplots(rows, 1, figsize=(9, 0.9 + 0.8 * rows), sharex=True, squeeze=False)
    _band(axes[0, 0], t, clusters, n_clusters, _cmap(n_clusters))
    axes[0, 0].set_ylabel("cluster", rotation=0, ha="right", va="center")
    axes[0, 0].set_title(title, fontsize=9)
    _legend(axes[0, 0], range(n_clusters), _cmap(n_clusters), "cluster")
    if labels is not None:
        _band(axes[1, 0], t, labels, len(classes), _label_cmap(len(classes)))
        axes[1, 0].set_ylabel("label", rotation=0, ha="right", va="center")
        _legend(axes[1, 0], classes, _label_cmap(len(classes)), "label")
    axes[-1, 0].set_xlabel("time (s)")
    fig.tight_layout()
    _save(fig, path)


def overview_png(rows: list[dict], n_clusters: int, classes, path: Path, title: str) -> None:
    """Many recordings in one axes, one row each (top: cluster band, bottom: label band when
    labelled): rows of {name, t, clusters, labels (or None)}."""
    plt = _plt()
    with_labels = any(r["labels"] is not None for r in rows)
    fig, ax = plt.subplots(figsize=(10, 1.2 + 0.28 * len(rows)))
    ccmap, lcmap = plt.get_cmap(_cmap(n_clusters)), plt.get_cmap(_label_cmap(len(classes)))
    for i, row in enumerate(rows):
        y = len(rows) - 1 - i
        t = row["t"]
        if len(t) == 0:
            continue
        step = float(np.median(np.diff(t))) if len(t) > 1 else 1.0
        edges = np.r_[t - step / 2, t[-1] + step / 2]
        top = (y + 0.45, y + 0.9) if with_labels else (y + 0.05, y + 0.9)
        ax.pcolormesh(edges, top, row["clusters"][None, :].astype(float), cmap=ccmap, vmin=-0.5, vmax=n_clusters - 0.5, shading="flat")
        if with_labels and row["labels"] is not None:
            codes = np.ma.masked_less(row["labels"].astype(float), 0)[None, :]
            ax.pcolormesh(edges, (y + 0.05, y + 0.45), codes, cmap=lcmap, vmin=-0.5, vmax=len(classes) - 0.5, shading="flat")
    ax.set_yticks(np.arange(len(rows)) + 0.5, [r["name"] for r in reversed(rows)], fontsize=6)
    ax.set_ylim(0, len(rows))
    ax.set_xlabel("time within the recording (s)")
    ax.set_title(title + (" (upper band: cluster, lower band: label)" if with_labels else ""), fontsize=9)
    _legend(ax, range(n_clusters), _cmap(n_clusters), "cluster")
    if with_labels:
        handles = [plt.Line2D([], [], lw=6, color=_colour(_label_cmap(len(classes)), i, len(classes)), label=c) for i, c in enumerate(classes)]
        fig.legend(handles=handles, title="label", fontsize=6, title_fontsize=6, loc="lower right")
    fig.tight_layout()
    _save(fig, path)


def representatives_png(examples: list[list[np.ndarray]], captions: list[str], path: Path, rate_hz: float = 100.0) -> None:
    """Rows = clusters, columns = representative windows (W, S) as amplitude heatmaps."""
    plt = _plt()
    n_rows = len(examples)
    n_cols = max((len(e) for e in examples), default=1) or 1
    fig, axes = plt.subplots(n_rows, n_cols, figsize=(2.4 * n_cols + 0.6, 1.7 * n_rows + 0.4), squeeze=False)
    for r, row in enumerate(examples):
        for c in range(n_cols):
            ax = axes[r, c]
            ax.set_xticks([])
            ax.set_yticks([])
            if c < len(row):
                w = row[c]
                ax.imshow(w.T, aspect="auto", origin="lower", cmap="viridis", extent=(0, len(w) / rate_hz, 0, w.shape[1]))
            elif c > 0:
                ax.axis("off")
        axes[r, 0].set_ylabel(captions[r], fontsize=7, rotation=0, ha="right", va="center")
    fig.suptitle("representative windows per cluster: amplitude, subcarrier (up) x time", fontsize=9)
    fig.tight_layout()
    _save(fig, path)


def sizes_png(table: np.ndarray, classes, path: Path, title: str) -> None:
    """Windows per cluster; table (clusters, classes + 1): last column = unlabelled windows."""
    plt = _plt()
    k = table.shape[0]
    names = [*classes, "unlabelled"]
    fig, ax = plt.subplots(figsize=(max(5, 0.5 * k + 2), 3.2))
    bottom = np.zeros(k)
    for j, name in enumerate(names):
        if table[:, j].sum() == 0:
            continue
        colour = "0.7" if name == "unlabelled" else _colour(_label_cmap(len(classes)), j, len(classes))
        ax.bar(np.arange(k), table[:, j], bottom=bottom, label=name, color=colour)
        bottom += table[:, j]
    ax.set_xticks(np.arange(k))
    ax.set_xlabel("cluster")
    ax.set_ylabel("windows")
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=7)
    fig.tight_layout()
    _save(fig, path)
