"""How much position information does the simulated link carry? (docs/training.md, localisation)

    python -m csi_edge.tools.train.position_study [--samples 1500] [--out docs/img] [--json]

An upper bound that no network trained on the benchmark can beat: for each activity, a person
is placed at `--samples` random places of the monitored area (sitting: a chair put there) on
day 1, and the NOISE-FREE link response |H| (no AGC noise, no thermal noise, no int8; the
per-packet normalisation of the AGC kept) is averaged over 1 s of the activity's own motion.
Two estimators learn place -> position from these windows, with as many training places as
wanted (the benchmark has a handful per activity):

- `knn`: 5 nearest neighbours of the mean amplitude profile (log), and
- `trees`: extra trees on the mean and standard deviation profiles (log),

tested on new random places on day 1 (same room) and day 2 (items nudged by millimetres), beside
the constant baseline (the mean training place). The `shadow only` rows remove the body's own
scattering (radar cross-section 0) and keep its shadowing of the static paths: what the
geometry alone would tell. The `vs empty` columns divide each profile by the empty-room profile
of the same day (a calibration), so that a day's static change does not look like a move. A map shows, for a sitting person, the size of both effects on
the normalised profile over the area. Last, on the benchmark itself, the constant and the mean position of each window's
true activity (what knowing the activity alone is worth). Prints one table (or JSON) and writes
`train_position_oracle.png` and `train_position_map.png`.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path

import numpy as np
from tqdm import tqdm

ACTIVITIES = ("walking", "sitting", "lying")


@dataclasses.dataclass(frozen=True)
class Scaled:
    """A Motion whose body parts scatter `scale` times the normal radar cross-section."""

    parts: np.ndarray
    truth: np.ndarray
    top: np.ndarray
    scale: float

    @property
    def rcs(self) -> np.ndarray:
        from csi_edge.tools.sim.person import PART_RCS

        return PART_RCS * self.scale


def place_windows(day: int, activity: str, n: int, seed: int, rcs_scale: float = 1.0, places=None):
    """(features (n, 104): log mean and log std profile, positions (n, 3)) of 1-s noise-free windows."""
    from csi_edge.tools.sim.channel import link_response, subcarrier_frequencies
    from csi_edge.tools.sim.person import Person, lying, sitting, walking
    from csi_edge.tools.sim.radio import board_response_db
    from csi_edge.tools.sim.room import room_for_day

    rng = np.random.default_rng([seed, day, ACTIVITIES.index(activity)])
    room, freqs, t = room_for_day(day), subcarrier_frequencies(11), np.arange(100) / 100.0
    board = 10 ** (board_response_db() / 20)
    feats, pos = [], []
    for k in range(n):
        spot = places[k] if places is not None else np.array([rng.uniform(0.3, 3.7), rng.uniform(0.3, 2.2)])
        person = Person(height=1.75 + rng.normal(0, 0.04))
        if activity == "walking":
            m = walking(t, rng, person, spot)
        elif activity == "lying":
            m = lying(t, rng, person, spot)
        else:
            m = sitting(t, rng, person, dataclasses.replace(room, chairs=np.array([spot, spot])), spot)
        amp = np.abs(link_response(room, Scaled(m.parts, m.truth, m.top, rcs_scale), freqs) * board)
        amp /= np.sqrt(np.mean(amp**2, axis=1, keepdims=True))  # what the AGC does
        feats.append(np.log(np.r_[amp.mean(axis=0), amp.std(axis=0) + 1e-6]))
        pos.append(m.truth.mean(axis=0))
    return np.array(feats), np.array(pos)


def empty_profile(day: int) -> np.ndarray:
    """(52,) log of the normalised noise-free empty-room amplitude profile of `day`."""
    from csi_edge.tools.sim.channel import link_response, subcarrier_frequencies
    from csi_edge.tools.sim.person import Motion
    from csi_edge.tools.sim.radio import board_response_db
    from csi_edge.tools.sim.room import room_for_day

    amp = np.abs(link_response(room_for_day(day), Motion(None, np.full((1, 3), np.nan), np.zeros(1)), subcarrier_frequencies(11)))[0]
    amp *= 10 ** (board_response_db() / 20)
    return np.log(amp / np.sqrt(np.mean(amp**2)))


def _rmse(pred: np.ndarray, true: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.sum((pred - true) ** 2, axis=-1))))


def oracle(samples: int, seed: int = 0, progress: bool = True) -> list[dict]:
    """Rows {activity, variant, test day, constant, knn, trees, knn / trees vs empty} (RMSE in
    metres, x and y only)."""
    from sklearn.ensemble import ExtraTreesRegressor
    from sklearn.neighbors import KNeighborsRegressor

    def fit(x, y):
        return KNeighborsRegressor(5).fit(x[:, :52], y), ExtraTreesRegressor(200, min_samples_leaf=3, random_state=seed, n_jobs=1).fit(x, y)

    rows, empty = [], {d: empty_profile(d) for d in (1, 2)}
    jobs = [(a, v) for a in ACTIVITIES for v in ("full", "shadow only")]
    for activity, variant in tqdm(jobs, desc="oracle", unit="case", disable=not progress):
        scale = 0.0 if variant == "shadow only" else 1.0
        x_tr, y_tr = place_windows(1, activity, samples, seed, scale)
        y_tr = y_tr[:, :2]
        raw, cal = fit(x_tr, y_tr), fit(np.c_[x_tr[:, :52] - empty[1], x_tr[:, 52:]], y_tr)
        for day in (1, 2):
            x_te, y_te = place_windows(day, activity, max(200, samples // 5), seed + 100 + day, scale)
            x_cal, y_te = np.c_[x_te[:, :52] - empty[day], x_te[:, 52:]], y_te[:, :2]
            rows.append({
                "activity": activity, "variant": variant, "test_day": day, "constant_m": _rmse(y_tr.mean(axis=0), y_te),
                "knn_m": _rmse(raw[0].predict(x_te[:, :52]), y_te), "trees_m": _rmse(raw[1].predict(x_te), y_te),
                "knn_vs_empty_m": _rmse(cal[0].predict(x_cal[:, :52]), y_te), "trees_vs_empty_m": _rmse(cal[1].predict(x_cal), y_te),
            })  # fmt: skip
    return rows


def effect_map(step: float = 0.25, seed: int = 0) -> dict:
    """For a sitting person on a grid: relative change of the mean profile (vs the empty room)
    caused by shadowing alone and by the full body (shadowing + scattering), in dB."""
    xs, ys = np.arange(0.25, 3.8, step), np.arange(0.25, 2.3, step)
    places = np.array([(x, y) for y in ys for x in xs])
    empty = np.exp(empty_profile(1))
    out = {}
    for name, scale in (("shadowing", 0.0), ("shadowing + scattering", 1.0)):
        f, _ = place_windows(1, "sitting", len(places), seed, scale, places=places)
        prof = np.exp(f[:, :52])
        change = np.linalg.norm(prof - empty, axis=1) / np.linalg.norm(empty)
        out[name] = 20 * np.log10(np.maximum(change, 1e-4)).reshape(len(ys), len(xs))
    return {"x": xs, "y": ys, **out}


def benchmark_baselines(train_sequences: int = 6, test_sequences: int = 4, window: int = 351, hop: int = 10) -> dict:
    """On the benchmark itself (day-1 training sequences): RMSE per test day of the constant
    baseline and of the activity mean (the mean training position of the window's TRUE
    activity: what knowing the activity alone is worth), over windows with a position."""
    from csi_edge.tools.sim import benchmark_days

    def windows(seqs):
        pos, act = [], []
        for s in seqs:
            for a in range(0, len(s.positions) - window + 1, hop):
                block = s.positions[a : a + window]
                if np.isfinite(block).all():
                    pos.append(block.mean(axis=0))
                    act.append(s.activity)
        return np.array(pos), np.array(act)

    p_tr, a_tr = windows(benchmark_days(days=[1], sequences=train_sequences, progress=False))
    means = {a: p_tr[a_tr == a].mean(axis=0) for a in np.unique(a_tr)}
    out = {}
    for day in (2, 3):
        p, a = windows(benchmark_days(days=[day], sequences=test_sequences, progress=False))
        out[f"d{day}"] = {"constant_m": _rmse(p_tr.mean(axis=0), p), "activity_mean_m": _rmse(np.array([means[x] for x in a]), p)}
    return out


def plot(rows: list[dict], emap: dict, out: Path) -> None:
    from csi_edge.tools.train.plots import _plt

    plt = _plt()
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6), sharey=True)
    for ax, day in zip(axes, (1, 2), strict=True):
        sel = [r for r in rows if r["test_day"] == day]
        labels = [f"{r['activity']}\n{r['variant']}" for r in sel]
        x = np.arange(len(sel))
        keys = (("constant_m", "constant"), ("knn_m", "5-NN"), ("trees_m", "extra trees"), ("trees_vs_empty_m", "extra trees, vs empty room"))
        for k, (key, name) in enumerate(keys):
            ax.bar(x + (k - 1.5) * 0.2, [r[key] for r in sel], 0.2, label=name)
        ax.set_xticks(x, labels, fontsize=7)
        ax.set_title(f"noise-free 1-s windows, trained on day 1, tested on day {day}", fontsize=9)
        ax.grid(axis="y", alpha=0.3)
    axes[0].set_ylabel("horizontal RMSE (m)")
    axes[1].legend(fontsize=8)
    fig.tight_layout()
    out.mkdir(parents=True, exist_ok=True)
    fig.savefig(out / "train_position_oracle.png", dpi=110)
    plt.close(fig)
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.4))
    names = [k for k in emap if k not in ("x", "y")]
    for ax, name in zip(axes, names, strict=True):
        im = ax.imshow(emap[name], origin="lower", extent=(emap["x"][0], emap["x"][-1], emap["y"][0], emap["y"][-1]),
                       vmin=-45, vmax=-5, cmap="viridis", aspect="equal")  # fmt: skip
        ax.axvline(2.0, color="w", ls=":", lw=1)
        ax.set_title(f"sitting: profile change, {name} (dB)", fontsize=9)
        ax.set_xlabel("x (m)  (dotted: the TX-RX line of sight)")
        fig.colorbar(im, ax=ax, shrink=0.8)
    axes[0].set_ylabel("y (m)")
    fig.tight_layout()
    fig.savefig(out / "train_position_map.png", dpi=110)
    plt.close(fig)


def _cached_rows(path: Path, samples: int, seed: int, progress: bool) -> list[dict]:
    """The oracle rows, computed once per (samples, seed) and kept beside the plots."""
    if path.exists():
        saved = json.loads(path.read_text())
        if saved.get("samples") == samples and saved.get("seed") == seed:
            return saved["rows"]
    rows = oracle(samples, seed, progress)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"samples": samples, "seed": seed, "rows": rows}))
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m csi_edge.tools.train.position_study", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    ap.add_argument("--samples", type=int, default=1500, help="training places per activity (default 1500)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default="docs/img", help="directory for the PNGs (default docs/img)")
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    ap.add_argument("--cache", help="keep the oracle rows in this JSON file and reuse them (to redraw the plots)")
    args = ap.parse_args(argv)
    if args.cache:
        rows = _cached_rows(Path(args.cache), args.samples, args.seed, progress=not args.json)
    else:
        rows = oracle(args.samples, args.seed, progress=not args.json)
    emap = effect_map(seed=args.seed)
    bench = benchmark_baselines()
    plot(rows, emap, Path(args.out))
    summary = {name: {"median_dB": float(np.median(v)), "max_dB": float(np.max(v))} for name, v in emap.items() if name not in ("x", "y")}
    if args.json:
        print(json.dumps({"rows": rows, "profile_change": summary, "benchmark": bench}))
        return 0
    print("activity  variant      day  constant  5-NN   trees  5-NN vs empty  trees vs empty  (horizontal RMSE, m)")
    for r in rows:
        print(f"{r['activity']:<9} {r['variant']:<12} {r['test_day']:>3}  {r['constant_m']:8.2f}  {r['knn_m']:5.2f}  {r['trees_m']:5.2f}"
              f"  {r['knn_vs_empty_m']:13.2f}  {r['trees_vs_empty_m']:14.2f}")
    for name, v in summary.items():
        print(f"profile change of a sitting person, {name}: median {v['median_dB']:.1f} dB, max {v['max_dB']:.1f} dB")
    for day, v in bench.items():
        print(f"benchmark {day} (6 training sequences per activity): constant {v['constant_m']:.2f} m, "
              f"mean position of the true activity {v['activity_mean_m']:.2f} m")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
