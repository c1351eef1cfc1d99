"""`csi-edge bench soak --minutes N`: the whole system for a long time, and whether it holds.

Real parts, all on this machine: the simulated boards on a pseudo-terminal at 100 Hz (`csi-edge
sim --pty --no-loss`), the daemon (`csi-edge run --source serial:PTY --mqtt ...`, a subprocess),
a private mosquitto on a free loopback port, and an MQTT subscriber in this process. Every
`--interval` seconds (default 10) one CSV row: the daemon's RSS and CPU, the broker's RSS,
packet-to-publish latency (the daemon's `latency_ms`) and result-to-subscriber delivery p50/p99,
results produced (the daemon's health) and delivered (unique seqs at the subscriber), packets
written by the simulator and received / lost by the daemon.

At the end the simulator stops, the daemon is stopped with SIGTERM (it flushes its queue), and
the verdict compares:
- RSS slope (least squares over the samples after the warm-up, MB per hour) with --max-rss-slope;
- results lost = produced - delivered (QoS 1 on loopback: must be 0);
- packets lost on the host (sequence gaps the daemon counts; the simulator loses none itself);
- the daemon's exit code (0).
Writes OUT/soak.csv, OUT/soak.png, OUT/verdict.json and the processes' logs; exit 0 on PASS,
1 on FAIL. A 24-hour run on a Jetson: docs/benchmarks.md#soak-the-whole-system-for-hours.
"""

from __future__ import annotations

import csv
import json
import math
import signal
import sys
import time
from pathlib import Path

import numpy as np

from csi_edge.errors import UsageError
from csi_edge.tools.bench import soak_procs as procs

COLUMNS = ("t_s", "daemon_rss_MB", "daemon_cpu_percent", "broker_rss_MB", "latency_p50_ms", "latency_p99_ms",
           "delivery_p50_ms", "delivery_p99_ms", "results_produced", "results_delivered", "packets_sent",
           "packets_received", "packets_lost", "publish_queue_depth", "publish_dropped", "broker_connected")


def add_arguments(parser) -> None:
    parser.add_argument("--minutes", type=float, default=10.0, help="how long to run (default 10; 60 here, 1440 on a Jetson)")
    parser.add_argument("--interval", type=float, default=10.0, help="seconds between samples (default 10)")
    parser.add_argument("--out", type=Path, default=Path("soak"), help="folder for soak.csv, soak.png, verdict.json, logs (default ./soak)")
    parser.add_argument("--model", metavar="PATH", help="model package (default: models/default)")
    parser.add_argument("--activity", default="mixed", choices=("mixed", "empty", "walking", "sitting", "lying"),
                        help="what the simulated person does (default mixed)")
    parser.add_argument("--max-rss-slope", type=float, default=2.0, metavar="MB_PER_H",
                        help="PASS needs an RSS slope at most this, MB per hour after the warm-up (default 2)")


def _percentiles(values: list[float]) -> tuple[float, float]:
    if not values:
        return math.nan, math.nan
    p50, p99 = np.percentile(np.asarray(values), [50, 99])
    return round(float(p50), 2), round(float(p99), 2)


class Soak:
    def __init__(self, args) -> None:
        self.args = args
        self.out: Path = args.out
        self.rows: list[dict] = []
        self.sent = procs.LineCounter(self.out / "truth.csv")
        self.started = time.monotonic()

    def start(self) -> None:
        self.out.mkdir(parents=True, exist_ok=True)
        for name in ("truth.csv", "daemon.log", "sim.log", "mosquitto.log"):
            (self.out / name).unlink(missing_ok=True)
        self.broker, port = procs.start_broker(self.out)
        self.sim, pty = procs.start_simulator(self.out, self.args.activity)
        self.sub = procs.Subscriber(port)
        model = Path(self.args.model) if self.args.model else None
        self.daemon = procs.start_daemon(self.out, pty, port, model, self.args.interval)
        self.daemon_stats = procs.ProcStats(self.daemon.pid)
        self.broker_stats = procs.ProcStats(self.broker.pid)
        self.daemon_stats.cpu_percent()
        self.started = time.monotonic()

    def sample(self) -> dict:
        interval, delivered, health = self.sub.take_interval()
        lat = _percentiles(interval.latency_ms)
        dly = _percentiles(interval.delivery_ms)
        row = {
            "t_s": round(time.monotonic() - self.started, 1),
            "daemon_rss_MB": round(self.daemon_stats.rss_mb(), 2),
            "daemon_cpu_percent": round(self.daemon_stats.cpu_percent(), 2),
            "broker_rss_MB": round(self.broker_stats.rss_mb(), 2),
            "latency_p50_ms": lat[0], "latency_p99_ms": lat[1], "delivery_p50_ms": dly[0], "delivery_p99_ms": dly[1],
            "results_produced": health.get("results", 0), "results_delivered": delivered,
            "packets_sent": max(0, self.sent.count() - 1),  # minus the CSV header line
            "packets_received": health.get("packets_received", 0), "packets_lost": health.get("packets_lost", 0),
            "publish_queue_depth": health.get("publish_queue_depth"), "publish_dropped": health.get("publish_dropped", 0),
            "broker_connected": health.get("broker_connected"),
        }  # fmt: skip
        self.rows.append(row)
        return row

    def alive(self) -> str | None:
        """None while every part runs, else which one ended."""
        for name, proc in (("daemon", self.daemon), ("simulator", self.sim), ("mosquitto", self.broker)):
            if proc.poll() is not None:
                return f"{name} exited with {proc.returncode}"
        return None

    def finish(self) -> dict:
        """Stop the simulator, let the daemon take the rest, stop it (flush), count."""
        procs.stop_process(self.sim, signal.SIGINT, 30)
        sent = max(0, self.sent.count() - 1)
        deadline = time.monotonic() + 3 * self.args.interval + 10
        health: dict = {}
        while time.monotonic() < deadline:  # bounded: the last packets reach a health report
            _, _, health = self.sub.take_interval()
            if health.get("packets_received", 0) + health.get("packets_lost", 0) >= sent:
                break
            time.sleep(0.5)  # polling the subscriber's latest health report
        code = procs.stop_process(self.daemon, signal.SIGTERM, 60)
        produced = _results_at_stop(self.out / "daemon.log", health.get("results", 0))
        deadline = time.monotonic() + 15
        while len(self.sub.seqs) < produced and time.monotonic() < deadline:
            time.sleep(0.2)  # polling the subscriber for the flushed results
        self.sub.close()
        procs.stop_process(self.broker, signal.SIGTERM, 10)
        return {"daemon_exit_code": code, "results_produced": produced, "results_delivered": len(self.sub.seqs),
                "results_duplicated": self.sub.duplicates, "packets_sent": sent,
                "packets_received": health.get("packets_received", 0), "packets_lost": health.get("packets_lost", 0),
                "publish_dropped": health.get("publish_dropped", 0)}  # fmt: skip

    def kill_all(self) -> None:
        for name in ("sim", "daemon", "broker"):
            proc = getattr(self, name, None)
            if proc is not None and proc.poll() is None:
                proc.kill()
                proc.wait(10)


def _results_at_stop(log: Path, fallback: int) -> int:
    """The daemon's `stopping ... results=N` line (every result it produced)."""
    for line in reversed(log.read_text(errors="replace").splitlines()):
        if " stopping " in f" {line} " and "results=" in line:
            return int(line.split("results=")[1].split()[0])
    return fallback


def rss_slope(rows: list[dict], warmup_fraction: float = 0.1, warmup_min_s: float = 120.0) -> float:
    """Least-squares slope of the daemon's RSS after the warm-up, MB per hour."""
    t = np.asarray([r["t_s"] for r in rows], dtype=float)
    rss = np.asarray([r["daemon_rss_MB"] for r in rows], dtype=float)
    keep = t >= min(max(warmup_min_s, warmup_fraction * t[-1]), 0.5 * t[-1]) if len(t) else t.astype(bool)
    if np.count_nonzero(keep) < 3:
        return math.nan
    return float(np.polyfit(t[keep] / 3600.0, rss[keep], 1)[0])


def verdict(rows: list[dict], end: dict, max_slope: float, minutes: float) -> dict:
    slope = rss_slope(rows)
    rss = [r["daemon_rss_MB"] for r in rows]
    cpu = [r["daemon_cpu_percent"] for r in rows if not math.isnan(r["daemon_cpu_percent"])]
    lost_results = end["results_produced"] - end["results_delivered"]
    checks = {
        f"rss_slope_MB_per_h<={max_slope:g}": not math.isnan(slope) and slope <= max_slope,
        "results_lost==0": lost_results == 0,
        "packets_lost==0": end["packets_lost"] == 0,
        "daemon_exit_code==0": end["daemon_exit_code"] == 0,
    }
    p99 = [r["latency_p99_ms"] for r in rows if not math.isnan(r["latency_p99_ms"])]
    return {
        "verdict": "PASS" if all(checks.values()) else "FAIL", "checks": checks, "minutes": round(minutes, 2),
        "samples": len(rows), "rss_slope_MB_per_h": round(slope, 3), "rss_MB_first": rss[0] if rss else None,
        "rss_MB_last": rss[-1] if rss else None, "rss_MB_max": max(rss) if rss else None,
        "cpu_percent_mean": round(float(np.mean(cpu)), 2) if cpu else None,
        "latency_p99_ms_worst_interval": max(p99) if p99 else None,
        "latency_p99_ms_median_interval": round(float(np.median(p99)), 2) if p99 else None,
        "results_lost": lost_results, **end,
    }  # fmt: skip


def write_csv(path: Path, rows: list[dict]) -> None:
    with open(path, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=COLUMNS)
        w.writeheader()
        w.writerows(rows)


def run(args) -> int:
    from tqdm import tqdm

    from csi_edge.tools.bench.soak_plot import plot_soak

    if not args.minutes > 0 or not args.interval > 0:
        raise UsageError(f"--minutes and --interval must be > 0 (got {args.minutes}, {args.interval})")
    soak = Soak(args)
    total_s = args.minutes * 60.0
    ended = None
    try:
        soak.start()
        bar = tqdm(total=round(total_s), unit="s", desc="soak", mininterval=5.0, file=sys.stderr)
        next_at = soak.started + args.interval
        while time.monotonic() - soak.started < total_s:
            time.sleep(max(0.0, next_at - time.monotonic()))  # the sampling period of the soak
            next_at += args.interval
            row = soak.sample()
            write_csv(args.out / "soak.csv", soak.rows)
            bar.update(round(min(row["t_s"], total_s)) - bar.n)
            bar.set_postfix(rss=f"{row['daemon_rss_MB']:.0f}MB", cpu=f"{row['daemon_cpu_percent']:.0f}%",
                            results=f"{row['results_delivered']}/{row['results_produced']}")  # fmt: skip
            ended = soak.alive()
            if ended:
                break
        bar.close()
        end = soak.finish()
    finally:
        soak.kill_all()
    result = verdict(soak.rows, end, args.max_rss_slope, (soak.rows[-1]["t_s"] if soak.rows else 0) / 60)
    if ended:
        result["verdict"], result["ended_early"] = "FAIL", ended
    (args.out / "verdict.json").write_text(json.dumps(result, indent=2) + "\n")
    plot_soak(args.out / "soak.png", soak.rows, result)
    for key, value in result.items():
        print(f"{key:>32}: {value}")
    print(f"{'files':>32}: {args.out}/soak.csv, soak.png, verdict.json, daemon.log")
    return 0 if result["verdict"] == "PASS" else 1
