"""`csi-edge bench fleet`: N simulated nodes -> a loopback broker -> `csi-edge fuse`, as N grows.

For each N (default 10, 50, 200): a private mosquitto on a free loopback port; N nodes, three
per room (N/3 rooms), each publishing realistic `state` messages at 10 Hz (the daemon's field
set, ~330 bytes, QoS 1) and a `health` message every 10 s, through one MQTT connection per 25
nodes; the real `csi-edge fuse` as a subprocess with those rooms; and a subscriber to every
fused state. After a warm-up, for `--seconds`:

- `fused_latency_p50_ms` / `p99`: a fused state's arrival at the subscriber minus the `time`
  of the newest node state it used (node publish -> broker -> fuse -> broker -> subscriber);
  `age_at_fusion_p50_ms`: the newest node state's age when fuse computed the fused state
  (node -> broker -> fuse, and the round's wait for the room's other nodes);
- `states_per_s` in, `fused_per_s` out; `fuse_cpu_percent` (of one core), `fuse_rss_mb`,
  `broker_cpu_percent`, and the nodes' own publisher CPU;
- `late` states and fuse `inbox_dropped` (from fuse's health).

Loopback only, bounded in time (about `warmup + seconds + 5` s per N). Writes a CSV and a PNG
(latency and CPU against N). The nodes, broker and fuse share this machine's cores: the load
average is printed with the figures.
"""

from __future__ import annotations

import csv
import json
import os
import queue
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from csi_edge.timefmt import parse_utc_iso, utc_iso
from csi_edge.tools.bench.figure import save
from csi_edge.tools.procs import cpu_seconds, mosquitto_binary, rss_mb, start_mosquitto

NODES_PER_ROOM = 3
NODES_PER_CONNECTION = 25
STATE_HZ = 10.0
CLASSES = ("empty", "lying", "sitting", "walking")


def add_arguments(p) -> None:
    p.add_argument("--nodes", default="10,50,200", help="comma-separated node counts (default 10,50,200)")
    p.add_argument("--seconds", type=float, default=15.0, help="measured seconds per node count (default 15)")
    p.add_argument("--warmup", type=float, default=5.0, help="seconds before measuring (default 5)")
    p.add_argument("--csv", default="bench_fleet.csv", help="CSV output (default bench_fleet.csv)")
    p.add_argument("--plot", default="docs/img/bench_fleet.png", help="PNG output (default docs/img/bench_fleet.png; '' for none)")


class Broker:
    def __init__(self, workdir: Path, extra: str = "") -> None:
        if mosquitto_binary() is None:
            from csi_edge.errors import UsageError

            raise UsageError("bench fleet needs mosquitto (Debian: apt-get install mosquitto)")
        self.proc, self.port = start_mosquitto(workdir, extra)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


def client(port: int, name: str):
    import paho.mqtt.client as mqtt

    from csi_edge.publish.mqtt import no_delay

    c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=name, clean_session=True)
    c.on_socket_open = no_delay  # as the daemon's publisher does
    c.max_inflight_messages_set(1000)
    c.max_queued_messages_set(0)
    c.connect("127.0.0.1", port)
    c.loop_start()
    return c


def state_message(node: str, seq: int, rng: np.random.Generator) -> bytes:
    """A state as the daemon publishes it (csi_edge.results.state_payload's fields)."""
    p = rng.dirichlet(np.ones(len(CLASSES)) * 0.7)
    probs = {c: round(float(v), 4) for c, v in zip(CLASSES, p, strict=True)}
    activity = max(probs, key=probs.__getitem__)
    present = activity != "empty"
    position = {"x": round(float(rng.uniform(0, 4)), 3), "y": round(float(rng.uniform(0, 2.5)), 3), "z": 0.9} if present else None
    return json.dumps({"time": utc_iso(), "seq": seq, "node": node, "model": "default@3e227ae9c83f", "activity": activity,
                       "probabilities": probs, "confidence": probs[activity], "presence": present, "position": position,
                       "packet_seq": seq * 10, "latency_ms": round(float(rng.uniform(2, 6)), 3)},
                      separators=(",", ":")).encode()  # fmt: skip


def health_message(node: str, uptime_s: float) -> bytes:
    return json.dumps({"time": utc_iso(), "node": node, "uptime_s": round(uptime_s, 1), "source": {"name": "serial:/dev/csi-edge-rx",
                       "connected": True, "losses": 0, "reconnects": 0}, "packet_rate_Hz": 99.6, "packets_received": 10_000,
                       "packets_lost": 80, "loss_percent": 0.79, "packets_reordered": 0, "seq_restarts": 0, "rssi_dBm": -41.0,
                       "noise_floor_dBm": -95.0, "agc_gain": 36, "fft_gain": 8, "gain_lock": 0, "decode_errors": {},
                       "window_fill_percent": 100.0, "window_resets": 0, "packets_filled": 80, "packets_dropped_order": 0,
                       "inference_p50_ms": 1.2, "inference_p99_ms": 2.5, "results": 1000, "activity": "walking",
                       "broker_connected": True, "publish_queue_depth": 0, "publish_dropped": 0, "publish_delivered": 1000,
                       "model": "default@3e227ae9c83f"}, separators=(",", ":")).encode()  # fmt: skip


class Nodes(threading.Thread):
    """N nodes publishing at STATE_HZ through connections of NODES_PER_CONNECTION nodes each."""

    def __init__(self, port: int, names: list[str]) -> None:
        super().__init__(daemon=True)
        self.names = names
        self.clients = [client(port, f"bench-nodes-{i}") for i in range(0, len(names), NODES_PER_CONNECTION)]
        for i, name in enumerate(names):
            self.clients[i // NODES_PER_CONNECTION].publish(f"csi-edge/{name}/availability", "online", qos=1, retain=True)
        self.stop = threading.Event()
        self.sent = 0

    def run(self) -> None:
        rng = np.random.default_rng(0)
        t0 = time.monotonic()
        tick = 0
        while not self.stop.is_set():
            tick += 1
            for i, name in enumerate(self.names):
                c = self.clients[i // NODES_PER_CONNECTION]
                c.publish(f"csi-edge/{name}/state", state_message(name, tick, rng), qos=1)
                if tick % int(10 * STATE_HZ) == i % int(10 * STATE_HZ):
                    c.publish(f"csi-edge/{name}/health", health_message(name, time.monotonic() - t0), qos=1)
            self.sent += len(self.names)
            delay = t0 + tick / STATE_HZ - time.monotonic()
            if delay > 0:
                self.stop.wait(delay)  # the nodes' 10 Hz pace

    def close(self) -> None:
        self.stop.set()
        self.join(5)
        for c in self.clients:
            c.disconnect()
            c.loop_stop()


class FusedWatcher:
    def __init__(self, port: int) -> None:
        self.q: queue.Queue = queue.Queue()
        self.c = client(port, "bench-watch")
        self.c.on_message = lambda c, u, msg: self.q.put((time.time(), msg.topic, msg.payload))
        self.c.subscribe([("csi-edge/bench/+/state", 1), ("csi-edge/bench/+/health", 1)])

    def drain(self) -> list:
        out = []
        while not self.q.empty():
            out.append(self.q.get())
        return out

    def close(self) -> None:
        self.c.disconnect()
        self.c.loop_stop()


def rooms_config(names: list[str]) -> str:
    rooms = ["[fuse]", 'site = "bench"', "[health]", "interval_s = 2.0"]
    for r in range(0, len(names), NODES_PER_ROOM):
        nodes = ", ".join(f'"{n}"' for n in names[r : r + NODES_PER_ROOM])
        rooms += ["[[fuse.rooms]]", f'name = "room{r // NODES_PER_ROOM}"', f"nodes = [{nodes}]"]
    return "\n".join(rooms) + "\n"


def measure(n: int, seconds: float, warmup: float, workdir: Path) -> dict:
    broker = Broker(workdir)
    names = [f"n{i:03d}" for i in range(n)]
    (workdir / "site.toml").write_text(rooms_config(names))
    fuse = subprocess.Popen([sys.executable, "-m", "csi_edge.cli", "fuse", "--mqtt", f"mqtt://127.0.0.1:{broker.port}", "--config",
                             str(workdir / "site.toml"), "--set", "log.level=warning"], stderr=subprocess.DEVNULL)  # fmt: skip
    watcher = FusedWatcher(broker.port)
    nodes = Nodes(broker.port, names)
    try:
        nodes.start()
        time.sleep(warmup)  # the benchmark's warm-up period
        watcher.drain()
        c_fuse, c_broker, c_self, sent0, t0 = cpu_seconds(fuse.pid), cpu_seconds(broker.proc.pid), time.process_time(), nodes.sent, time.monotonic()
        time.sleep(seconds)  # the measured period
        wall = time.monotonic() - t0
        c_fuse, c_broker = cpu_seconds(fuse.pid) - c_fuse, cpu_seconds(broker.proc.pid) - c_broker
        c_self, sent = time.process_time() - c_self, nodes.sent - sent0
        got = watcher.drain()
        rss = rss_mb(fuse.pid)
    finally:
        nodes.close()
        watcher.close()
        fuse.terminate()
        fuse.wait(30)
        broker.stop()
    latencies, at_fuse, fused, health = [], [], 0, {}
    for arrival, topic, payload in got:
        msg = json.loads(payload)
        if topic.endswith("/state"):
            fused += 1
            latencies.append((arrival - max(parse_utc_iso(v["time"]) for v in msg["nodes"].values())) * 1000.0)
            at_fuse.append(min(v["age_ms"] for v in msg["nodes"].values()))
        else:
            health[topic] = msg
    lat = np.array(latencies) if latencies else np.array([np.nan])
    return {
        "nodes": n, "rooms": (n + NODES_PER_ROOM - 1) // NODES_PER_ROOM, "seconds": round(wall, 1),
        "states_per_s": round(sent / wall, 1), "fused_per_s": round(fused / wall, 1),
        "fused_latency_p50_ms": round(float(np.nanpercentile(lat, 50)), 1), "fused_latency_p99_ms": round(float(np.nanpercentile(lat, 99)), 1),
        "age_at_fusion_p50_ms": round(float(np.percentile(at_fuse, 50)), 1) if at_fuse else float("nan"),
        "fuse_cpu_percent": round(100 * c_fuse / wall, 1), "fuse_rss_mb": round(rss, 1),
        "broker_cpu_percent": round(100 * c_broker / wall, 1), "nodes_cpu_percent": round(100 * c_self / wall, 1),
        "states_late": sum(h.get("states_late", 0) for h in health.values()),
        "inbox_dropped": max((h.get("inbox_dropped", 0) for h in health.values()), default=0),
        "load_average": round(os.getloadavg()[0], 2),
    }  # fmt: skip


def plot(rows: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = [r["nodes"] for r in rows]
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 4))
    a.plot(n, [r["fused_latency_p50_ms"] for r in rows], "o-", label="p50")
    a.plot(n, [r["fused_latency_p99_ms"] for r in rows], "s--", label="p99")
    a.set(xlabel="nodes (10 states/s each)", ylabel="node state -> fused state (ms)", title="fused-output latency")
    a.legend()
    b.plot(n, [r["fuse_cpu_percent"] for r in rows], "o-", label="csi-edge fuse")
    b.plot(n, [r["broker_cpu_percent"] for r in rows], "s--", label="mosquitto")
    b.plot(n, [r["nodes_cpu_percent"] for r in rows], "^:", label="simulated nodes")
    b.set(xlabel="nodes (10 states/s each)", ylabel="CPU (% of one core)", title="CPU on a shared 2-core machine")
    b.legend()
    for ax in (a, b):
        ax.grid(alpha=0.3)
    save(fig, path)


def run(args) -> int:
    from tqdm import tqdm

    from csi_edge.errors import UsageError

    try:
        counts = [int(v) for v in args.nodes.split(",") if v.strip()]
    except ValueError:
        raise UsageError(f"--nodes must be comma-separated integers (got {args.nodes!r})") from None
    if not counts or min(counts) < 1 or args.seconds <= 0 or args.warmup < 0:
        raise UsageError("--nodes must be >= 1, --seconds > 0, --warmup >= 0")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in tqdm(counts, desc="bench fleet", unit="N"):
            d = Path(tmp) / f"n{n}"
            d.mkdir()
            row = measure(n, args.seconds, args.warmup, d)
            rows.append(row)
            tqdm.write(json.dumps(row))
    with open(args.csv, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    if args.plot:
        plot(rows, Path(args.plot))
    print(f"wrote {args.csv}" + (f" and {args.plot}" if args.plot else ""))
    return 0
