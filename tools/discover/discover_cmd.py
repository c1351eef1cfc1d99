"""`csi-edge discover --data SPEC --clusters K --out DIR`: the run and its files."""

from __future__ import annotations

import dataclasses
import json
import sys
import time

from csi_edge.tools.discover import report
from csi_edge.tools.discover.cli import out_dir
from csi_edge.tools.discover.iic import IICConfig
from csi_edge.tools.discover.run import InputDef, discover, input_card, load_windows
from csi_edge.tools.discover.store import save_run, save_soft


def discover_run(args) -> dict:
    from csi_edge.errors import UsageError
    from csi_edge.features import PACKET_FEATURES

    if args.feature not in PACKET_FEATURES:
        raise UsageError(f"--feature {args.feature!r} unknown (known: {', '.join(PACKET_FEATURES)})")
    out = out_dir(args.out)
    t0 = time.perf_counter()
    inp = InputDef(args.window, args.hop, args.feature, args.transform, args.scaler, args.scaler_stats, args.per_window)
    wins = load_windows(args.data, inp, args.label_regex)
    card = input_card(wins, inp, args.seed)
    log = sys.stderr if args.json else sys.stdout
    print(f"discover: {len(wins)} windows ({int(wins.labelled.sum())} labelled) from {len(wins.recordings)} recordings", file=log)
    cfg = IICConfig(args.clusters, args.overclusters, args.heads, args.pairs, args.steps, args.batch, args.lr,
                    seed=args.seed, threads=args.threads, progress=not args.no_progress, marginal_weight=args.marginal_weight)
    found = discover(wins, card, cfg, kmeans=not args.no_kmeans)
    summary = {**found.summary, "out": str(out), "total_seconds": round(time.perf_counter() - t0, 1)}
    meta = {"config": cfg.as_dict(), "specs": list(args.data), "label_regex": args.label_regex, "input": dataclasses.asdict(inp),
            "data": wins.summary(), "summary": summary, "history": found.result.history}
    save_run(out, found.result.net, found.result.head, found.result.over, card, meta)
    save_soft(out, found.probs, found.over_probs, wins.y, wins.classes)
    report.write_assignments(out / "assignments.csv", wins, found.probs, found.over_probs)
    info = report.write_clusters(out, wins, found.probs, found.over_probs)
    if not args.no_plots:
        report.write_plots(out, wins, found.probs, found.over_probs, info)
    (out / "summary.json").write_text(json.dumps(summary, indent=1) + "\n")
    return summary
