"""The ablation runner: the layout of the paper's Tables 2 and 3 on any dataset.

    csi-edge train --ablation all --data TRAIN [--val VAL] --test TEST --out reports/NAME --seeds 3 ...

Table 2 (features, no scaling, no augmentation): A, P, AΔ, PΔ, PSD.
Table 3 (amplitude): A, A_mm, A_z, PCA-d, ICA-d, UMAP-d, AUG, mmAUG, zAUG, plus rows beyond the
paper: mmAUG with per-window centring (mmAUG+pw) and, with --tta, every row's test-time
BatchNorm adaptation in extra `PART+tta` columns. AUG = the --augment option (default rotate).
Every row is trained with the same options otherwise, for --seeds seeds. Writes
`ablation.md`, `ablation.csv`, `ablation.json` and PNGs (accuracy / RMSE bars, training
curves, confusion matrices of seed 0, the amplitude heatmap of Fig. 3, 3D PCA/ICA/UMAP
projections of Fig. 4) into --out, with the wall time of every row.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import time
from pathlib import Path

import numpy as np
from tqdm import tqdm

from csi_edge.errors import UsageError
from csi_edge.tools.train import plots
from csi_edge.tools.train.run import Options, apply_umap, load_data, run_once
from csi_edge.tools.train.seeds import fmt, summarise

# name -> option overrides (feature, transform, scaler, reduce, augment, per_window)
TABLE2 = {
    "A": dict(feature="amplitude", transform="none"),
    "P": dict(feature="phase", transform="none"),
    "AΔ": dict(feature="amplitude", transform="diff"),
    "PΔ": dict(feature="phase", transform="diff"),
    "PSD": dict(feature="amplitude", transform="psd"),
}


def table3(dims: list[int]) -> dict:
    rows: dict = {"A": {}, "A_mm": dict(scaler="maxmin"), "A_z": dict(scaler="z")}
    for kind in ("pca", "ica", "umap"):
        for d in dims:  # d is searched over the --dims list
            rows[f"{kind.upper()}-{d}"] = dict(reduce=kind, dims=d)
    return {
        **rows,
        "AUG": dict(augment=True),
        "mmAUG": dict(scaler="maxmin", augment=True),
        "zAUG": dict(scaler="z", augment=True),
        "mmAUG+pw": dict(scaler="maxmin", augment=True, per_window="center-mean"),
    }


def rows_for(which: str, dims: list[int]) -> list[tuple[str, str, dict]]:
    rows = []
    if which in ("table2", "all"):
        rows += [("table2", k, v) for k, v in TABLE2.items()]
    if which in ("table3", "all"):
        rows += [("table3", k, v) for k, v in table3(dims).items()]
    return rows


def run_ablation(args, base_opts: Options, base_cfg) -> int:
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    base = dataclasses.replace(base_opts, scaler="none", transform="none", reduce="none", per_window="none", feature="amplitude")
    data_cache: dict[str, object] = {}
    results, histories, t_all = [], {}, time.perf_counter()
    rows = rows_for(args.ablation, getattr(args, "dims_list", [base_opts.dims]))
    if getattr(args, "ablation_rows", None):
        wanted = set(args.ablation_rows.split(","))
        unknown = wanted - {name for _, name, _ in rows}
        if unknown:
            raise UsageError(f"--ablation-rows: unknown row {sorted(unknown)[0]!r} (known: {', '.join(n for _, n, _ in rows)})")
        rows = [r for r in rows if r[1] in wanted]
    for table, name, over in tqdm(rows, desc="ablation", unit="row", disable=args.no_progress):
        over = dict(over)
        augment = base_cfg.augment if over.pop("augment", False) else ()
        opts = dataclasses.replace(base, **over)
        if opts.feature not in data_cache:
            data_cache[opts.feature] = load_data(args.data, args.val, args.test, dataclasses.replace(opts, reduce="none"), args.label_regex, base_cfg.seed)
        data = data_cache[opts.feature]
        t0, runs = time.perf_counter(), []  # a row's time includes fitting and applying UMAP
        if opts.reduce == "umap":
            data, opts = apply_umap(data, opts, base_cfg.seed), dataclasses.replace(opts, scaler="none", reduce="none")
        for k in range(args.seeds):
            cfg = dataclasses.replace(base_cfg, seed=base_cfg.seed + k, augment=augment, progress=False, log_epochs=False)
            run = run_once(data, opts, cfg, out / f".ckpt_{abs(hash(name)) % 10**8}.pt", None, name)
            result, parts = run.result, run.parts
            runs.append(parts)
            if k == 0:
                histories[f"{table}:{name}"] = result.history
                for part, m in parts.items():
                    if "confusion" in m:
                        plots.confusion_png(m["confusion"], data.train.classes, out / f"confusion_{table}_{_slug(name)}_{_slug(part)}.png", f"{name}: {part}")
        results.append({"table": table, "name": name, "seconds": round(time.perf_counter() - t0, 1), "parts": summarise(runs),
                        "windows_per_s": round(result.windows_per_s, 1)})
        _write(out, results, args, time.perf_counter() - t_all)
    plots.curves_png(histories, out / "training_curves.png", "ablation: loss per epoch (seed 0)")
    for f in out.glob(".ckpt_*.pt"):
        f.unlink()
    data = data_cache.get("amplitude") or next(iter(data_cache.values()))
    _figures(out, data, base_cfg.seed, with_umap=any(name.startswith("UMAP") for _, name, _ in rows))
    print(f"wrote {out / 'ablation.md'} ({time.perf_counter() - t_all:.0f} s)")
    print((out / "ablation.md").read_text())
    return 0


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in text.replace("Δ", "d"))


def _write(out: Path, results: list[dict], args, seconds: float) -> None:
    parts = [p for p in dict.fromkeys(p for r in results for p in r["parts"])]
    (out / "ablation.json").write_text(json.dumps({"args": {k: v for k, v in vars(args).items() if k != "func"}, "rows": results}, indent=1, default=str))
    with open(out / "ablation.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["table", "config", "part", "metric", "mean", "std", "seeds", "seconds"])
        for r in results:
            for part, ms in r["parts"].items():
                for metric, s in ms.items():
                    w.writerow([r["table"], r["name"], part, metric, f"{s['mean']:.5f}", f"{s['std']:.5f}", len(s["values"]), r["seconds"]])
    lines = [f"# Ablation ({args.seeds} seed(s); mean ± std; {seconds:.0f} s in total)", "",
             f"Train: `{' '.join(args.data)}`; validation: `{' '.join(args.val or []) or f'random {args.val_split:.0%} of train'}`; "
             f"test: `{' '.join(args.test or []) or '-'}`; epochs {args.epochs}, epoch windows {args.epoch_windows or 'all'}, "
             f"window {args.window}, hop {args.hop}, arch {args.arch}.", ""]
    for table in dict.fromkeys(r["table"] for r in results):
        head = ["config"] + [f"{p} ACC %" for p in parts] + [f"{p} F1 %" for p in parts] + [f"{p} RMSE m" for p in parts] + ["time s"]
        lines += [f"## {'Table 2: features' if table == 'table2' else 'Table 3: scaling, reduction, augmentation'}", "",
                  "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        for r in (x for x in results if x["table"] == table):
            cells = [fmt(r["parts"].get(p, {}).get("accuracy"), 100) for p in parts]
            cells += [fmt(r["parts"].get(p, {}).get("f1_macro"), 100) for p in parts]
            cells += [fmt(r["parts"].get(p, {}).get("rmse_m"), 1, 3) for p in parts]
            lines.append("| " + " | ".join([r["name"], *cells, f"{r['seconds']:.0f}"]) + " |")
        lines.append("")
    (out / "ablation.md").write_text("\n".join(lines))
    plots.bars_png(results, "accuracy", out / "ablation_accuracy.png", "accuracy per configuration (mean ± std over seeds)")
    if any("rmse_m" in m for r in results for m in r["parts"].values()):
        plots.bars_png(results, "rmse_m", out / "ablation_rmse.png", "position RMSE (m)")


def _figures(out: Path, data, seed: int, with_umap: bool) -> None:
    """Fig. 3 heatmap of a training stretch and Fig. 4 projections of training windows
    (UMAP only when the UMAP row ran: its first use compiles for a minute here)."""
    recs = data.train.recordings
    feats = np.concatenate([r.features for r in recs])[:6000]
    labels = np.concatenate([r.labels for r in recs])[:6000]
    if len(recs) > 1:  # one stretch per class, like the paper's figure
        per = [r for i, r in enumerate(recs) if r.labels[0] not in {x.labels[0] for x in recs[:i]}]
        feats = np.concatenate([r.features[:1500] for r in per])
        labels = np.concatenate([r.labels[:1500] for r in per])
    plots.heatmap_png(feats, labels, out / "fig3_amplitude_heatmap.png", title="amplitude (training data)")
    rng = np.random.default_rng(seed)
    idx = np.sort(rng.choice(len(data.train), min(1200, len(data.train)), replace=False))
    x = data.train.windows(idx).mean(axis=1)  # per-window mean amplitude per subcarrier
    x = (x - x.mean(0)) / (x.std(0) + 1e-6)
    from sklearn.decomposition import PCA, FastICA

    points = {"PCA": PCA(3, random_state=seed).fit_transform(x), "ICA": FastICA(3, random_state=seed, whiten="unit-variance").fit_transform(x)}
    if with_umap:
        import umap

        points["UMAP"] = umap.UMAP(n_components=3, random_state=seed).fit_transform(x)
    plots.projection_png(points, data.train.y[idx], data.train.classes, out / "fig4_projections.png")
