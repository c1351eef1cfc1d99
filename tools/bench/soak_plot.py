"""The soak's plot: memory, CPU, latency and counts over time (csi_edge.tools.bench.soak)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from csi_edge.tools.bench.figure import save


def plot_soak(path: Path, rows: list[dict], result: dict) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if not rows:
        return
    t = np.asarray([r["t_s"] for r in rows], dtype=float) / 60.0

    def col(name: str) -> np.ndarray:
        return np.asarray([np.nan if r[name] is None else r[name] for r in rows], dtype=float)

    fig, axes = plt.subplots(2, 2, figsize=(11, 6.4), sharex=True)
    (a, b), (c, d) = axes
    a.plot(t, col("daemon_rss_MB"), label="daemon")
    a.plot(t, col("broker_rss_MB"), label="mosquitto", alpha=0.7)
    a.set_ylabel("RSS (MB)")
    a.set_ylim(0, max(np.nanmax(col("daemon_rss_MB")), 1.0) * 1.3)
    a.set_title(f"RSS slope {result['rss_slope_MB_per_h']} MB/h after warm-up", fontsize=9)
    a.legend(fontsize=8)
    b.plot(t, col("daemon_cpu_percent"), color="tab:orange")
    b.set_ylabel("daemon CPU (% of one core)")
    b.set_ylim(bottom=0)
    c.plot(t, col("latency_p50_ms"), label="packet-to-publish p50")
    c.plot(t, col("latency_p99_ms"), label="packet-to-publish p99")
    c.plot(t, col("delivery_p99_ms"), label="publish-to-subscriber p99", alpha=0.7)
    c.set_ylabel("ms (per 10 s interval)")
    c.set_xlabel("minutes")
    c.set_ylim(bottom=0)
    c.legend(fontsize=8)
    d.plot(t, col("results_produced"), label="results produced")
    d.plot(t, col("results_delivered"), "--", label="results delivered")
    d.set_ylabel("results")
    d.set_xlabel("minutes")
    d2 = d.twinx()
    d2.plot(t, col("packets_lost"), color="tab:red", label="packets lost (host)")
    d2.set_ylabel("packets lost", color="tab:red")
    d2.set_ylim(bottom=0, top=max(1.0, float(np.nanmax(col("packets_lost"))) * 1.3))
    d.legend(fontsize=8, loc="upper left")
    fig.suptitle(f"csi-edge soak, {result['minutes']:.0f} min at 100 Hz: {result['verdict']} "
                 f"(results lost {result['results_lost']}, packets lost {result['packets_lost']}, "
                 f"CPU {result['cpu_percent_mean']} %)")  # fmt: skip
    save(fig, path)
