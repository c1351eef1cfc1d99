"""`capture plot`: one PNG per session (matplotlib, Agg).

Panels, sharing the time axis (seconds on the session's RX clock):
1. label bands (one colour per class, marks as ticks);
2. amplitude heatmap of the 52 L-LTF subcarriers (csi_edge.features.amplitude; columns are
   averaged down to at most MAX_COLUMNS), with the label boundaries as white lines;
3. packet rate (packets per second of RX time) and lost packets per second;
4. RSSI (dBm) per packet with its per-second median.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from csi_edge.features import amplitude
from csi_edge.layout import SUBCARRIER_INDEX
from csi_edge.session.labels import UNLABELLED, label_spans
from csi_edge.session.reader import load_session, session_clock

MAX_COLUMNS = 3000
COLOURS = ["#8c8c8c", "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2"]


def _downsample(amp: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    step = max(1, int(np.ceil(len(amp) / MAX_COLUMNS)))
    n = len(amp) // step * step
    if step == 1 or n == 0:
        return amp, t
    return amp[:n].reshape(-1, step, amp.shape[1]).mean(axis=1), t[:n].reshape(-1, step).mean(axis=1)


def plot_session(directory: str | Path, out: str | Path | None = None) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sess = load_session(directory)
    out = Path(out) if out is not None else Path(directory) / "session.png"
    t = session_clock(sess)
    amp, valid = amplitude(sess.frames)
    classes = list(sess.manifest.get("classes", []))
    colour = {name: COLOURS[i % len(COLOURS)] for i, name in enumerate(classes)}
    fig, axes = plt.subplots(4, 1, figsize=(13, 9), sharex=True,
                             gridspec_kw={"height_ratios": [0.5, 4, 1.4, 1.4]})  # fmt: skip
    title = f"{sess.directory.name}: {len(t)} packets, {sess.decoded.counters.lost} lost"
    if sess.manifest.get("tags"):
        title += "  " + " ".join(f"{k}={v}" for k, v in sess.manifest["tags"].items())
    if sess.manifest.get("recovered"):
        title += "  (recovered after a crash)"
    fig.suptitle(title)
    spans = label_spans(sess.events, len(t))
    _label_panel(axes[0], spans, t, colour, sess.events)
    if len(t) and valid.any():
        a, tt = _downsample(amp[valid], t[valid])
        im = axes[1].imshow(a.T, aspect="auto", origin="lower", interpolation="nearest", cmap="viridis",
                            extent=[tt[0], tt[-1] if tt[-1] > tt[0] else tt[0] + 1, -0.5, a.shape[1] - 0.5])  # fmt: skip
        fig.colorbar(im, ax=axes[1], pad=0.01, label="|H|")
        ticks = np.arange(0, 52, 6)
        axes[1].set_yticks(ticks, [str(SUBCARRIER_INDEX[i]) for i in ticks])
        for _, a0, _ in spans[1:]:
            axes[1].axvline(t[a0], color="white", lw=0.8, alpha=0.8)
    axes[1].set_ylabel("subcarrier")
    _rate_panel(axes[2], sess, t)
    _rssi_panel(axes[3], sess, t)
    axes[3].set_xlabel("time (s, RX clock)")
    if len(t) > 1 and t[-1] > t[0]:
        axes[3].set_xlim(t[0], t[-1])
    for ax in axes[[0, 2, 3]]:  # keep the panels aligned with the colour-barred heatmap
        fig.colorbar(plt.cm.ScalarMappable(), ax=ax, pad=0.01).ax.set_visible(False)
    fig.savefig(out, dpi=100)
    plt.close(fig)
    return out


def _label_panel(ax, spans, t, colour, events) -> None:
    seen = set()
    for label, a, b in spans:
        if label == UNLABELLED:
            continue
        end = t[b] if b < len(t) else t[-1]
        ax.axvspan(t[a], end, color=colour.get(label, "#444444"), label=None if label in seen else label)
        seen.add(label)
        ax.text((t[a] + end) / 2, 0.5, label, ha="center", va="center", fontsize=8, color="white", clip_on=True)
    for e in events:
        if e["event"] == "mark" and int(e["packet"]) < len(t):
            ax.axvline(t[int(e["packet"])], color="black", lw=1.5)
    ax.set_yticks([])
    ax.set_ylabel("label", rotation=0, ha="right", va="center")


def _second_edges(t: np.ndarray) -> np.ndarray:
    """Bin edges one second apart covering t."""
    return np.arange(np.floor(t[0]), np.floor(t[-1]) + 2.0)


def _rate_panel(ax, sess, t) -> None:
    if len(t) == 0:
        return
    edges = _second_edges(t)
    centres = edges[:-1] + 0.5
    received, _ = np.histogram(t, bins=edges)
    ax.plot(centres, received, color="tab:blue", lw=1, label="received")
    gaps = sess.decoded.counters.gaps  # (packet, missing before it); the first MAX_LISTED
    if gaps:
        rows = np.array([g[0] for g in gaps])
        lost, _ = np.histogram(t[rows], bins=edges, weights=np.array([g[1] for g in gaps], dtype=float))
        ax.bar(centres, lost, width=1.0, color="tab:red", alpha=0.6, label="lost")
    ax.set_ylabel("packets/s")
    ax.legend(loc="center right", fontsize=8)


def _rssi_panel(ax, sess, t) -> None:
    rssi = sess.frames.meta["rssi"].astype(float)
    ax.plot(t, rssi, ".", ms=1, color="tab:gray", alpha=0.4)
    if len(t):
        _, first = np.unique(np.floor(t - t[0]).astype(int), return_index=True)
        med = [np.median(chunk) for chunk in np.split(rssi, first[1:])]
        ax.plot(t[first], med, color="tab:purple", lw=1.2, label="median / s")
        ax.legend(loc="upper right", fontsize=8)
    ax.set_ylabel("RSSI (dBm)")
