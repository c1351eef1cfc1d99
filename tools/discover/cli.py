"""`csi-edge discover`: find activities in unlabelled CSI, then name them with a few clicks.

    csi-edge discover --data SPEC --clusters K [--overclusters K2] --out DIR [--json]
    csi-edge discover --name DIR CLUSTER=LABEL[,...] [--over] [--out models/NAME] [--labels-out FILE.npz] [--test SPEC]

The first form trains Invariant Information Clustering on pairs of windows that share the
activity (--pairs: temporal, augment, both, noisy) and writes DIR/assignments.csv, clusters.json,
timeline.png, timelines/, sizes.png, representatives.png, summary.json and the run itself
(discover.pt). When the data has labels it scores the clusters against them
(acc: Hungarian matching, nmi, ari) beside k-means on the same windows.
The second form names the clusters of a run (clusters given the same label merge; *=LABEL
names the rest) and exports a model package (ONNX + card) that `csi-edge run` loads, and/or
the run's data with the named labels (an amplitudes NPZ for `csi-edge train`).
SPECs are those of `csi-edge train` (docs/training.md); method and results: docs/discover.md.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from csi_edge.errors import UsageError


def register(subparsers) -> None:
    from csi_edge.tools.train.cli import add_input_options

    p = subparsers.add_parser("discover", help="find activities in unlabelled CSI (IIC clustering) and name them",
                              description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("names", nargs="*", metavar="CLUSTER=LABEL", help="with --name: labels of the clusters (0=walking,1=sitting,*=empty)")
    p.add_argument("--data", action="append", metavar="SPEC", help="data to cluster (repeatable; labels are only used for scores)")
    p.add_argument("--label-regex", help="csi: SPECs: regex whose first group, matched on the file name, is the label")
    p.add_argument("--clusters", type=int, help="K, the number of clusters (e.g. the number of activities you expect)")
    p.add_argument("--overclusters", type=int, default=0, help="K2 > K: also train over-clustering sub-heads in alternation (default off)")
    p.add_argument("--out", help="output directory of a run; with --name: models/NAME for the exported model")
    p.add_argument("--json", action="store_true", help="print one JSON object (the summary) on stdout")
    add_input_options(p)
    g = p.add_argument_group("IIC training")
    g.add_argument("--pairs", default="temporal", choices=("augment", "temporal", "both", "noisy"), help="what a window is paired with (default temporal: the best measured, docs/discover.md)")
    g.add_argument("--heads", type=int, default=5, help="sub-heads per head kind; the one with the lowest loss is kept (default 5)")
    g.add_argument("--steps", type=int, default=400, help="training steps (default 400)")
    g.add_argument("--batch", type=int, default=64, help="pairs per step (default 64)")
    g.add_argument("--lr", type=float, default=5e-3, help="AdamW learning rate (default 5e-3)")
    g.add_argument("--marginal-weight", type=float, default=2.0, help="1 = plain IIC; 2 (default) also rewards balanced clusters (docs/discover.md)")
    g.add_argument("--seed", type=int, default=0)
    g.add_argument("--threads", type=int, default=2, help="torch threads (default 2)")
    g.add_argument("--no-kmeans", action="store_true", help="skip the k-means baseline")
    g.add_argument("--no-plots", action="store_true", help="skip the PNG plots")
    g.add_argument("--no-progress", action="store_true")
    n = p.add_argument_group("naming a run (labelling by exception)")
    n.add_argument("--name", metavar="DIR", help="name the clusters of the run in DIR (CLUSTER=LABEL arguments)")
    n.add_argument("--over", action="store_true", help="name the over-clusters instead of the clusters")
    n.add_argument("--labels-out", metavar="FILE.npz", help="write the run's data with the named labels (amplitudes: SPEC for train)")
    n.add_argument("--test", action="append", metavar="SPEC", help="score the exported model on labelled data (repeatable)")
    p.set_defaults(func=run)


def run(args) -> int:
    if args.name:
        from csi_edge.tools.discover.name_cmd import name_run

        return name_run(args)
    if args.names:
        raise UsageError(f"CLUSTER=LABEL arguments ({args.names[0]!r}) need --name DIR")
    if not args.data or args.clusters is None or not args.out:
        raise UsageError("give --data SPEC --clusters K --out DIR (or --name DIR CLUSTER=LABEL,... to name a run)")
    for name in ("window", "hop", "steps", "batch", "heads", "threads"):
        if getattr(args, name) < 1:
            raise UsageError(f"--{name} must be >= 1 (got {getattr(args, name)})")
    if args.reduce != "none":
        raise UsageError("--reduce: discover clusters the model input itself; PCA/ICA/UMAP are training options")
    if args.clusters < 2:
        raise UsageError(f"--clusters must be >= 2 (got {args.clusters})")
    if args.overclusters and args.overclusters <= args.clusters:
        raise UsageError(f"--overclusters must be greater than --clusters (got {args.overclusters} <= {args.clusters})")
    from csi_edge.tools.discover.discover_cmd import discover_run

    summary = discover_run(args)
    if args.json:
        print(json.dumps(summary))
    else:
        _print_summary(summary)
    return 0


def _print_summary(s: dict) -> None:
    out = sys.stdout
    print(f"{s['windows']} windows ({s['labelled_windows']} labelled), {len(s['sizes'])} clusters, sizes {s['sizes']}", file=out)
    if s.get("acc") is not None:
        print(f"IIC:     acc {s['acc']:.3f}  nmi {s['nmi']:.3f}  ari {s['ari']:.3f}", file=out)
        if "kmeans" in s:
            k = s["kmeans"]
            print(f"k-means: acc {k['acc']:.3f}  nmi {k['nmi']:.3f}  ari {k['ari']:.3f}  (same windows)", file=out)
    if "over" in s and s["over"].get("acc_many") is not None:
        o = s["over"]
        print(f"over-clusters ({len(o['sizes'])}): best naming reaches acc {o['acc_many']:.3f}, nmi {o['nmi']:.3f}", file=out)
    print(f"wrote {s['out']}: assignments.csv, clusters.json, plots; name clusters with: csi-edge discover --name {s['out']} 0=LABEL,1=LABEL,...", file=out)


def out_dir(path: str) -> Path:
    out = Path(path)
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out}: exists and is not a directory")
    out.mkdir(parents=True, exist_ok=True)
    return out
