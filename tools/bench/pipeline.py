"""`csi-edge bench pipeline`: can the daemon's pipeline keep up, and at what cost?

Drives `csi_edge.pipeline.Pipeline` (the daemon's own code: decode -> link -> features ->
window -> preprocess -> ONNX -> post-processing) plus a publisher (JSON lines to /dev/null by
default, a real broker with `--mqtt URL`) on one thread with ONNX Runtime on one intra-op
thread, fed with protocol-v1 bytes (L-LTF frames, HT40 below, consecutive sequence numbers).

Figures (targets from the issue):
- `throughput_pps`: packets per CPU second of this (single-threaded) process when bytes arrive
  as fast as the pipeline takes them, in reads of `--chunk` frames (20 = one 10 ms serial read
  at 2,000 packets/s): what one dedicated core sustains; >= 2,000. `throughput_pps_wall` is
  the same per wall-clock second, lower when other processes share the core
  (`load_average` is reported with the figures);
- `latency_p50_ms` / `latency_p99_ms`: packet-to-publish latency at 100 Hz, one frame per
  read every 10 ms (the arrival of a window's newest packet -> the result handed to the
  publisher); p99 <= 25 ms;
- `cpu_percent_100hz`: CPU time / wall time of this process during the 100 Hz run; <= 10 %;
- `rss_mb_start` / `rss_mb_end` / `rss_mb_max`: resident memory during the 100 Hz run of
  `--minutes` (default 0.5; use 10 for the figure in docs/benchmarks.md); <= 200 MB, flat.
Uses models/default when present, else a tiny ONNX model built for the bench.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from csi_edge import protocol as p
from csi_edge.tools.bench.figure import save
from csi_edge.tools.procs import rss_mb

FRAME_RATE_HZ = 100.0


def frames_bytes(n: int, start_seq: int = 0, seed: int = 0) -> list[bytes]:
    """n encoded CSI frames (one bytes object per frame), consecutive seq, 10 ms apart."""
    rng = np.random.default_rng(seed)
    h = np.zeros(n, dtype=p.CSI_HEADER_DTYPE)
    h["seq"] = (np.arange(n) + start_seq) % (1 << 32)
    h["timestamp_us"] = (np.arange(n) + start_seq) * 10_000
    h["rssi"], h["noise_floor"], h["channel"], h["secondary_channel"], h["bandwidth"], h["csi_len"] = -55, -92, 11, 2, 1, 128
    csi = rng.integers(-40, 40, size=(n, 128)).astype(np.int8)
    blob = p.encode_csi_batch(h, csi)
    size = p.OVERHEAD + p.CSI_HEADER_SIZE + 128
    return [blob[i * size : (i + 1) * size] for i in range(n)]


class Bench:
    def __init__(self, model_path: Path | None, mqtt_url: str | None) -> None:
        from csi_edge.config import load_config, parse_mqtt_url
        from csi_edge.daemon import load_model
        from csi_edge.publish.base import build_publishers
        from csi_edge.results import StateFields

        overrides = {"mqtt.enabled": False, "publish.jsonl": "/dev/null", "publish.node": "bench"}
        if mqtt_url:
            overrides.update(parse_mqtt_url(mqtt_url))
        if model_path is not None:
            overrides["model.path"] = str(model_path)
        self.cfg = load_config(None, overrides)
        self.model = load_model(self.cfg)
        self.publishers = build_publishers(self.cfg, "bench")
        self.publishers.model_changed(StateFields.of(self.model.card, self.cfg.model.position_skill_ratio))
        self.publishers.start()

    def pipeline(self):
        from csi_edge.pipeline import Pipeline

        return Pipeline(self.cfg, self.model, "bench")

    def publish(self, results) -> list[float]:
        """Hand results to the publishers as the daemon does; their latencies (ms)."""
        from csi_edge.results import state_payload

        lat = []
        for result in results:
            now = time.monotonic()
            self.publishers.state(state_payload(result, now))
            lat.append((now - result.arrival) * 1000.0)
        self.publishers.pump()
        return lat

    def throughput(self, seconds: float, chunk: int) -> dict:
        pipe = self.pipeline()
        frames = frames_bytes(60_000)
        chunks = [b"".join(frames[i : i + chunk]) for i in range(0, len(frames), chunk)]
        done = results = 0
        t0 = time.monotonic()
        c0 = time.process_time()
        i = 0
        while time.monotonic() - t0 < seconds:
            if i == len(chunks):  # continue the sequence seamlessly
                frames = frames_bytes(60_000, start_seq=done)
                chunks = [b"".join(frames[j : j + chunk]) for j in range(0, len(frames), chunk)]
                i = 0
            res = pipe.feed(chunks[i], time.monotonic())
            results += len(self.publish(res))
            done += chunk
            i += 1
        wall = time.monotonic() - t0
        cpu = time.process_time() - c0
        return {"throughput_pps": round(done / cpu), "throughput_pps_wall": round(done / wall),
                "throughput_cpu_percent": round(100 * cpu / wall, 1), "throughput_results_per_cpu_s": round(results / cpu, 1),
                "chunk_frames": chunk}

    def paced(self, minutes: float, progress: bool) -> tuple[dict, list[float], list[tuple[float, float]]]:
        from tqdm import tqdm

        pipe = self.pipeline()
        n = max(int(minutes * 60 * FRAME_RATE_HZ), 400)
        frames = frames_bytes(n, start_seq=10_000_000)
        latencies: list[float] = []
        rss: list[tuple[float, float]] = [(0.0, rss_mb())]
        period = 1.0 / FRAME_RATE_HZ
        t0 = time.monotonic()
        c0 = time.process_time()
        bar = tqdm(total=n, unit="pkt", desc="100 Hz run", disable=not progress, mininterval=1.0)
        for k, frame in enumerate(frames):
            due = t0 + k * period
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)  # the benchmark plays a 100 Hz board
            latencies += self.publish(pipe.feed(frame, time.monotonic()))
            if k % 1000 == 0:
                rss.append((time.monotonic() - t0, rss_mb()))
                bar.update(1000 if k else 1)
        bar.close()
        wall = time.monotonic() - t0
        cpu = 100.0 * (time.process_time() - c0) / wall
        rss.append((wall, rss_mb()))
        lat = np.asarray(latencies)
        out = {
            "latency_p50_ms": round(float(np.percentile(lat, 50)), 3),
            "latency_p99_ms": round(float(np.percentile(lat, 99)), 3),
            "cpu_percent_100hz": round(cpu, 2),
            "rss_mb_start": round(rss[0][1], 1),
            "rss_mb_end": round(rss[-1][1], 1),
            "rss_mb_max": round(max(r for _, r in rss), 1),
            "minutes": round(wall / 60, 2),
            "results": len(latencies),
        }
        return out, latencies, rss

    def close(self) -> None:
        self.publishers.stop(2.0)


def plot(path: Path, latencies: list[float], rss: list[tuple[float, float]], figures: dict) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 3.6))
    a.hist(latencies, bins=50, color="tab:blue")
    a.axvline(figures["latency_p99_ms"], color="tab:red", label=f"p99 {figures['latency_p99_ms']} ms")
    a.set_xlabel("packet-to-publish latency (ms) at 100 Hz")
    a.set_ylabel("results")
    a.legend()
    t, r = zip(*rss, strict=True)
    b.plot(np.asarray(t) / 60, r, marker=".")
    b.set_xlabel("minutes at 100 Hz")
    b.set_ylabel("RSS (MB)")
    b.set_ylim(0, max(r) * 1.3)
    fig.suptitle(f"csi-edge pipeline: {figures['throughput_pps']} packets/s sustained, {figures['cpu_percent_100hz']} % CPU at 100 Hz")
    save(fig, path)


def add_arguments(parser) -> None:
    parser.add_argument("--json", action="store_true", help="print one JSON object with the figures")
    parser.add_argument("--model", metavar="PATH", help="model package (default: models/default, else a tiny bench model)")
    parser.add_argument("--mqtt", metavar="URL", help="publish to this broker instead of JSON lines to /dev/null")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of the throughput run (default 10)")
    parser.add_argument("--chunk", type=int, default=20, help="frames per read in the throughput run (default 20)")
    parser.add_argument("--minutes", type=float, default=0.5, help="length of the 100 Hz run (default 0.5; 10 for the docs figure)")
    parser.add_argument("--plot", metavar="PNG", default="bench-pipeline.png", help="latency/RSS plot (default bench-pipeline.png)")


def run(args) -> int:
    from csi_edge.logs import setup_logging
    from csi_edge.model.runtime import default_model_path

    setup_logging("warning")
    model = Path(args.model) if args.model else default_model_path()
    tmp = None
    if model is None:
        from csi_edge.tools.bench.tiny_model import build_tiny_model

        tmp = tempfile.TemporaryDirectory()
        model = build_tiny_model(Path(tmp.name))
    bench = Bench(model, args.mqtt)
    try:
        figures = {"model": bench.model.card.model_id, "providers": bench.model.providers, "intra_op_threads": 1,
                   "cpu_count": os.cpu_count(), "load_average": [round(x, 2) for x in os.getloadavg()]}
        figures.update(bench.throughput(args.seconds, args.chunk))
        paced, latencies, rss = bench.paced(args.minutes, progress=not args.json)
        figures.update(paced)
    finally:
        bench.close()
        if tmp is not None:
            tmp.cleanup()
    figures["targets_met"] = {
        "throughput_pps>=2000": figures["throughput_pps"] >= 2000,
        "latency_p99_ms<=25": figures["latency_p99_ms"] <= 25,
        "cpu_percent_100hz<=10": figures["cpu_percent_100hz"] <= 10,
        "rss_mb_max<=200": figures["rss_mb_max"] <= 200,
    }
    if args.plot:
        plot(Path(args.plot), latencies, rss, figures)
    if args.json:
        print(json.dumps(figures))
    else:
        for key, value in figures.items():
            print(f"{key:>24}: {value}")
        if args.plot:
            print(f"{'plot':>24}: {args.plot}")
    return 0


if __name__ == "__main__":  # python -m csi_edge.tools.bench.pipeline
    import argparse

    parser = argparse.ArgumentParser(prog="csi-edge bench pipeline")
    add_arguments(parser)
    sys.exit(run(parser.parse_args()))
