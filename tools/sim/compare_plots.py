"""Plots of the simulator-vs-real comparison (see compare_real.py): PNGs in docs/img/."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from csi_edge.layout import SUBCARRIER_INDEX  # noqa: E402
from csi_edge.tools.sim.compare_real import MOTION_PAIRS, Series, autocorrelation, intervals_ms  # noqa: E402

PROFILE_REAL = ("mendelas 140cm static", "esp-csi-s3 los", "esp-csi-s3 nlos", "tool-s3 empty")
PROFILE_SIM = ("sim empty", "sim day3 empty", "sim walking")
AC_NAMES = ("mendelas 140cm static", "mendelas 140cm waving", "mendelas 60cm waving", "sim empty", "sim walking", "sim sitting", "sim lying")
INTERVAL_NAMES = ("mendelas 140cm static", "mendelas 60cm waving", "esp-csi-s3 los", "sim walking")
HEATMAPS = ("mendelas 140cm static", "mendelas 140cm waving", "sim empty", "sim walking")


def _by_name(series: list[Series]) -> dict[str, Series]:
    return {s.name: s for s in series}


def plot_profiles(series: list[Series], path: Path) -> None:
    named = _by_name(series)
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.2), sharey=True)
    for ax, names, title in ((axes[0], PROFILE_REAL, "real recordings"), (axes[1], PROFILE_SIM, "simulator")):
        for name in names:
            if name not in named:
                continue
            a = named[name].amp
            line = ax.plot(SUBCARRIER_INDEX, a.mean(axis=0), label=name)[0]
            lo, hi = np.percentile(a, [5, 95], axis=0)
            ax.fill_between(SUBCARRIER_INDEX, lo, hi, color=line.get_color(), alpha=0.15)
        ax.set_title(f"{title}: mean and 5-95 % per subcarrier")
        ax.set_xlabel("L-LTF subcarrier index")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    axes[0].set_ylabel("amplitude |H| (int8 units)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_autocorrelation(series: list[Series], path: Path) -> None:
    named = _by_name(series)
    fig, ax = plt.subplots(figsize=(8, 4.2))
    for name in AC_NAMES:
        if name not in named:
            continue
        s = named[name]
        ac = autocorrelation(s.amp, 150)
        dt = np.median(intervals_ms(s)) / 1000.0
        style = "-" if s.source == "sim" else "--"
        ax.plot(np.arange(len(ac)) * dt, ac, style, label=name)
    ax.axhline(0, color="k", lw=0.5)
    ax.set_xlabel("lag (s)")
    ax.set_ylabel("autocorrelation of |H| (mean over subcarriers)")
    ax.set_title("temporal autocorrelation: real (dashed) vs simulator (solid)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_intervals(series: list[Series], path: Path) -> None:
    named = _by_name(series)
    fig, ax = plt.subplots(figsize=(8, 4.2))
    bins = np.arange(0, 40.5, 0.5)
    for name in INTERVAL_NAMES:
        if name in named:
            iv = intervals_ms(named[name])
            ax.hist(iv, bins=bins, density=True, histtype="step", lw=1.5,
                    label=f"{name} (median {np.median(iv):.1f}, std {iv.std():.1f} ms)")  # fmt: skip
    ax.set_xlabel("interval between consecutive packets (ms)")
    ax.set_ylabel("density")
    ax.set_title("packet-interval jitter at 100 Hz")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _short(name: str) -> str:
    """Two-line tick label: 'mendelas 140cm waving' -> 'real 140cm\nhand waving'."""
    if name.startswith("sim "):
        return "sim\n" + name[4:]
    if name.startswith("mendelas "):
        return f"real {name.split()[1]}\nhand waving"
    return "real S3\nhand near link"


def plot_motion(table: dict[str, dict], path: Path) -> None:
    pairs = [(a, b) for a, b in MOTION_PAIRS if a in table and b in table]
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.2))
    for ax, key, title in ((axes[0], "temporal_cv", "temporal std/mean of |H|"), (axes[1], "shape_cv", "same, per-packet scale removed")):
        x = np.arange(len(pairs))
        ax.bar(x - 0.2, [table[a][key] for a, _ in pairs], 0.4, label="static / empty")
        ax.bar(x + 0.2, [table[b][key] for _, b in pairs], 0.4, label="motion")
        ax.set_xticks(x, [_short(b) for _, b in pairs], fontsize=8)
        ax.set_title(title)
        ax.grid(alpha=0.3, axis="y")
        ax.legend(fontsize=8)
    fig.suptitle("effect of motion on amplitude variation (pairs: static vs motion)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_heatmaps(series: list[Series], path: Path) -> None:
    named = _by_name(series)
    names = [n for n in HEATMAPS if n in named]
    fig, axes = plt.subplots(len(names), 1, figsize=(10, 2.2 * len(names)), sharex=True)
    for ax, name in zip(np.atleast_1d(axes), names, strict=True):
        s = named[name]
        a = s.amp[:1000]  # ~10 s
        t = (s.timestamp_us[: len(a)] - s.timestamp_us[0]) / 1e6
        im = ax.pcolormesh(t, SUBCARRIER_INDEX, a.T, shading="nearest", cmap="viridis")
        ax.set_ylabel("subcarrier")
        ax.set_title(name, fontsize=9)
        fig.colorbar(im, ax=ax, pad=0.01)
    np.atleast_1d(axes)[-1].set_xlabel("time (s)")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def plot_all(series: list[Series], table: dict[str, dict], out_dir: Path) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {name: out_dir / f"sim_{name}.png" for name in ("amplitude", "autocorrelation", "intervals", "motion", "heatmaps")}
    plot_profiles(series, paths["amplitude"])
    plot_autocorrelation(series, paths["autocorrelation"])
    plot_intervals(series, paths["intervals"])
    plot_motion(table, paths["motion"])
    plot_heatmaps(series, paths["heatmaps"])
    return list(paths.values())
