"""What a discovery run writes into its output directory.

- `assignments.csv`: one row per window: `recording` (index), `source`, `part`, `window`
  (index), `start_packet`, `end_packet` (in the recording), `time_s` (the window's last packet
  since the recording began, nominal 100 Hz), `cluster`, `confidence` (its soft assignment),
  `overcluster` and `over_confidence` (with over-clustering), `label` (its last packet's label,
  empty when unlabelled);
- `clusters.json`: per cluster its size, its representative windows and, with labels, its
  label counts; the same for over-clusters;
- `soft.npz`: the soft assignments of every window (`probs`, `over`), its class index `y` (-1 unlabelled)
  and the `classes`, for scoring a naming;
- `timeline.png` (all recordings) and `timelines/NNN.png` (one per recording), `sizes.png`,
  `representatives.png` (and `overclusters_representatives.png`).
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np

from csi_edge.tools.discover import plots
from csi_edge.tools.discover.windows import Windows

REPRESENTATIVES = 4
TIMELINE_FILES = 60  # at most this many per-recording timeline PNGs
OVERVIEW_ROWS = 40


def representatives(wins: Windows, probs: np.ndarray, k: int, n: int = REPRESENTATIVES) -> list[int]:
    """The `n` windows most confidently in cluster k, no two overlapping by half a window."""
    members = np.nonzero(probs.argmax(axis=1) == k)[0]
    order = members[np.argsort(-probs[members, k], kind="stable")]
    chosen: list[int] = []
    for i in order:
        if all(wins.rec[i] != wins.rec[j] or abs(int(wins.start[i]) - int(wins.start[j])) >= wins.window // 2 for j in chosen):
            chosen.append(int(i))
            if len(chosen) == n:
                break
    return chosen


def cluster_table(wins: Windows, clusters: np.ndarray, k: int) -> np.ndarray:
    """(k, classes + 1) window counts; the last column counts unlabelled windows."""
    table = np.zeros((k, len(wins.classes) + 1), dtype=np.int64)
    np.add.at(table, (clusters, np.where(wins.y >= 0, wins.y, len(wins.classes))), 1)
    return table


def describe_clusters(wins: Windows, probs: np.ndarray) -> list[dict]:
    k = probs.shape[1]
    clusters = probs.argmax(axis=1)
    table = cluster_table(wins, clusters, k)
    out = []
    for c in range(k):
        reps = representatives(wins, probs, c)
        row = {
            "cluster": c,
            "windows": int(table[c].sum()),
            "representatives": [{"window": i, "recording": int(wins.rec[i]), "source": wins.recordings[wins.rec[i]].source,
                                 "time_s": round(float(wins.time_s[i]), 2), "confidence": round(float(probs[i, c]), 4)} for i in reps],
        }
        if wins.classes:
            row["labels"] = {name: int(n) for name, n in zip(wins.classes, table[c, :-1], strict=True) if n}
        out.append(row)
    return out


def write_assignments(path: Path, wins: Windows, probs: np.ndarray, over: np.ndarray | None) -> None:
    clusters = probs.argmax(axis=1)
    with open(path, "w", newline="") as fh:
        writer = csv.writer(fh)
        header = ["recording", "source", "part", "window", "start_packet", "end_packet", "time_s", "cluster", "confidence"]
        writer.writerow(header + (["overcluster", "over_confidence"] if over is not None else []) + ["label"])
        for i in range(len(wins)):
            rec = wins.recordings[wins.rec[i]]
            row = [int(wins.rec[i]), rec.source, rec.part, i, int(wins.start[i]), int(wins.end[i]), f"{wins.time_s[i]:.2f}",
                   int(clusters[i]), f"{probs[i, clusters[i]]:.4f}"]
            if over is not None:
                o = int(over[i].argmax())
                row += [o, f"{over[i, o]:.4f}"]
            row.append(wins.classes[wins.y[i]] if wins.y[i] >= 0 else "")
            writer.writerow(row)


def write_clusters(out: Path, wins: Windows, probs: np.ndarray, over: np.ndarray | None) -> dict:
    info = {"clusters": describe_clusters(wins, probs)}
    if over is not None:
        info["overclusters"] = describe_clusters(wins, over)
    (out / "clusters.json").write_text(json.dumps(info, indent=1) + "\n")
    return info


def write_plots(out: Path, wins: Windows, probs: np.ndarray, over: np.ndarray | None, info: dict) -> None:
    k = probs.shape[1]
    clusters = probs.argmax(axis=1)
    has_labels = bool(wins.labelled.any())
    rows = []
    for r in np.unique(wins.rec):
        sel = np.nonzero(wins.rec == r)[0]
        labels = wins.y[sel] if has_labels else None
        rows.append({"name": f"{r}: {Path(wins.recordings[r].source).name}"[:40], "t": wins.time_s[sel], "clusters": clusters[sel], "labels": labels})
    for row in rows[:TIMELINE_FILES]:
        index = int(row["name"].split(":")[0])
        plots.timeline_png(row, k, wins.classes, out / "timelines" / f"{index:03d}.png")
    plots.overview_png(rows[:OVERVIEW_ROWS], k, wins.classes, out / "timeline.png", f"clusters over {min(len(rows), OVERVIEW_ROWS)} of {len(rows)} recordings")
    plots.sizes_png(cluster_table(wins, clusters, k), wins.classes, out / "sizes.png", f"{k} clusters: windows per cluster")
    for name, source, key in (("representatives.png", probs, "clusters"), ("overclusters_representatives.png", over, "overclusters")):
        if source is None:
            continue
        examples = [[wins.windows(np.array([rep["window"]]))[0] for rep in c["representatives"]] for c in info[key]]
        captions = [f"cluster {c['cluster']}\n{c['windows']} windows" + ("\n" + _majority(c) if c.get("labels") else "") for c in info[key]]
        plots.representatives_png(examples, captions, out / name)


def _majority(c: dict) -> str:
    name, n = max(c["labels"].items(), key=lambda kv: kv[1])
    return f"{n / max(sum(c['labels'].values()), 1):.0%} {name}"
