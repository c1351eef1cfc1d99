"""The parts a soak runs, as real processes: a private mosquitto, the simulated boards on a pty,
the daemon, and an MQTT subscriber counting what arrives (csi_edge.tools.bench.soak).

Every server listens on 127.0.0.1 only. `ProcStats` reads a process's CPU time and resident
memory from /proc (Linux; a Jetson runs Linux too).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from csi_edge.errors import CsiEdgeError
from csi_edge.timefmt import parse_utc_iso
from csi_edge.tools.procs import cpu_seconds, rss_mb, start_mosquitto


def start_broker(workdir: Path) -> tuple[subprocess.Popen, int]:
    """mosquitto on a free loopback port, its log in workdir/mosquitto.log."""
    return start_mosquitto(workdir, log=workdir / "mosquitto.log")


def start_simulator(workdir: Path, activity: str) -> tuple[subprocess.Popen, str]:
    """`csi-edge sim --pty` at 100 Hz without simulated radio loss (any gap the daemon sees is
    then the host's); ground truth rows (one per packet written) in workdir/truth.csv."""
    cmd = [sys.executable, "-m", "csi_edge.cli", "sim", "--pty", "--no-loss", "--activity", activity,
           "--truth", str(workdir / "truth.csv")]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=open(workdir / "sim.log", "wb"), text=True)
    assert proc.stdout is not None
    path = proc.stdout.readline().strip()
    if not path:
        proc.kill()
        raise CsiEdgeError(f"the simulator did not start (see {workdir / 'sim.log'})")
    return proc, path


def start_daemon(workdir: Path, pty: str, port: int, model: Path | None, interval_s: float) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "csi_edge.cli", "run", "--source", f"serial:{pty}", "--node", "soak",
           "--mqtt", f"mqtt://127.0.0.1:{port}", "--set", f"health.interval_s={interval_s:g}"]
    if model is not None:
        cmd += ["--model", str(model)]
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=open(workdir / "daemon.log", "wb"))


class ProcStats:
    """CPU percent between calls and resident memory of one process (from /proc)."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self._last: tuple[float, float] | None = None

    def rss_mb(self) -> float:
        return rss_mb(self.pid)

    def cpu_percent(self) -> float:
        now, cpu = time.monotonic(), cpu_seconds(self.pid)
        last, self._last = self._last, (now, cpu)
        if last is None or now <= last[0]:
            return float("nan")
        return 100.0 * (cpu - last[1]) / (now - last[0])


@dataclass
class Interval:
    """What the subscriber saw since the last sample."""

    latency_ms: list[float] = field(default_factory=list)  # the daemon's packet-to-publish latency
    delivery_ms: list[float] = field(default_factory=list)  # result computed -> subscriber has it


class Subscriber:
    """Counts the state messages of node `soak` (unique seqs) and keeps the latest health."""

    def __init__(self, port: int, node: str = "soak") -> None:
        import paho.mqtt.client as mqtt

        self.seqs: set[int] = set()
        self.duplicates = 0
        self.health: dict = {}
        self._lock = threading.Lock()
        self._interval = Interval()
        self._node = node
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"csi-edge-soak-{os.getpid()}")
        self.client.on_connect = lambda c, u, f, rc, p: c.subscribe(f"csi-edge/{node}/+", qos=1)
        self.client.on_message = self._on_message
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()

    def _on_message(self, client, userdata, msg) -> None:
        now = time.time()
        kind = msg.topic.rsplit("/", 1)[-1]
        if kind not in ("state", "health"):
            return
        body = json.loads(msg.payload)
        with self._lock:
            if kind == "health":
                self.health = body
                return
            if body["seq"] in self.seqs:
                self.duplicates += 1
            self.seqs.add(body["seq"])
            self._interval.latency_ms.append(float(body["latency_ms"]))
            self._interval.delivery_ms.append(max(0.0, (now - parse_utc_iso(body["time"])) * 1000.0))

    def take_interval(self) -> tuple[Interval, int, dict]:
        """The latencies since the last call, the delivered count, the latest health."""
        with self._lock:
            interval, self._interval = self._interval, Interval()
            return interval, len(self.seqs), dict(self.health)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


class LineCounter:
    """Lines appended to a growing text file (the simulator's ground truth), read incrementally."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._offset = 0
        self.lines = 0

    def count(self) -> int:
        if self.path.exists():
            with open(self.path, "rb") as fh:
                fh.seek(self._offset)
                data = fh.read()
            self.lines += data.count(b"\n")
            self._offset += len(data)
        return self.lines


def stop_process(proc: subprocess.Popen, sig: int, timeout_s: float) -> int | None:
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
    return proc.returncode
