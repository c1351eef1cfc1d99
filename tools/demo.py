"""The end-to-end demo: simulated boards -> `csi-edge run` -> MQTT broker -> live results.

    csi-edge demo [--seconds 60] [--activity mixed] [--fast]     (python -m csi_edge.tools.demo)

1. starts mosquitto on a free loopback port (a private config in a temp dir, no root, no
   system service) if the `mosquitto` binary is installed; otherwise says how to install it and
   falls back to the daemon's JSON-lines output;
2. starts the simulated boards on a pseudo-terminal (`csi-edge sim --pty`, ground truth to a
   CSV as it streams);
3. starts the daemon on that serial port (`csi-edge run --source serial:/dev/pts/N --mqtt ...`),
   with models/default when shipped, else a tiny untrained model (said so on screen);
4. subscribes to `csi-edge/demo/#` and prints one line per result: the model's activity,
   confidence and position beside the simulator's ground truth; health lines as they come.
Everything is stopped after `--seconds` (or Ctrl-C), the daemon with SIGTERM (it flushes and
publishes `offline`, which the demo prints too).
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from csi_edge.errors import CsiEdgeError

NODE = "demo"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_broker(workdir: Path) -> tuple[subprocess.Popen | None, int]:
    exe = shutil.which("mosquitto") or ("/usr/sbin/mosquitto" if os.path.exists("/usr/sbin/mosquitto") else None)
    if exe is None:
        print("demo: mosquitto is not installed (Debian/Ubuntu: sudo apt-get install mosquitto);"
              " showing the daemon's JSON-lines output instead", flush=True)
        return None, 0
    port = free_port()
    conf = workdir / "mosquitto.conf"
    conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n")
    proc = subprocess.Popen([exe, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            print(f"demo: mosquitto listening on 127.0.0.1:{port}", flush=True)
            return proc, port
        except OSError:
            if proc.poll() is not None:
                break
            time.sleep(0.05)  # polling a process we just started; nothing to wait on
    proc.kill()
    print("demo: mosquitto did not start; showing JSON lines instead", flush=True)
    return None, 0


def pick_model(workdir: Path) -> Path:
    from csi_edge.model.runtime import default_model_path

    found = default_model_path()
    if found is not None:
        return found
    try:
        import onnx  # noqa: F401 - needed to build the stand-in model
    except ImportError:
        raise CsiEdgeError("no model: models/default.* is missing and `onnx` is not installed to build a stand-in "
                           "(pip install onnx, or install the [train] extra)") from None
    from csi_edge.tools.bench.tiny_model import build_tiny_model

    print("demo: models/default.* not found: using a tiny UNTRAINED model (activities are meaningless)", flush=True)
    return build_tiny_model(workdir)


class Truth:
    """Follows the simulator's ground-truth CSV: seq -> (activity, x, y, z)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fh = None
        self.rows: dict[int, tuple[str, str]] = {}

    def lookup(self, seq: int) -> str:
        if self._fh is None and self.path.exists():
            self._fh = open(self.path)
        if self._fh is not None:
            for line in self._fh.readlines():
                parts = line.strip().split(",")
                if len(parts) == 5 and parts[0].isdigit():
                    self.rows[int(parts[0])] = (parts[1], f"({parts[2]}, {parts[3]}, {parts[4]})")
        activity, xyz = self.rows.get(seq, ("?", ""))
        return f"truth {activity:<8} {xyz}"


def show_state(s: dict, truth: Truth) -> None:
    pos = s.get("position")
    where = f"({pos['x']:.2f}, {pos['y']:.2f}, {pos['z']:.2f}) m" if pos else "-"
    print(f"{s['time'][11:23]}  #{s['seq']:<5} {s['activity']:<8} p={s['confidence']:.2f}  at {where:<24} "
          f"latency {s['latency_ms']:5.1f} ms | {truth.lookup(s['packet_seq'])}", flush=True)


def show_health(h: dict) -> None:
    print(f"   health: {h['packet_rate_Hz']:.0f} pkt/s, loss {h['loss_percent']:.1f} %, window {h['window_fill_percent']:.0f} %,"
          f" inference p99 {h['inference_p99_ms']} ms, broker {h.get('broker_connected')}, queue {h.get('publish_queue_depth')}",
          flush=True)


def show_until(deadline: float, daemon, messages: queue.Queue, truth: Truth, stop_on: str = "") -> None:
    """Print results, health and availability as they arrive, until the deadline."""
    while time.monotonic() < deadline and (daemon is None or daemon.poll() is None):
        try:
            topic, body = messages.get(timeout=min(0.5, max(0.01, deadline - time.monotonic())))
        except queue.Empty:
            continue
        if topic == "state":
            show_state(json.loads(body), truth)
        elif topic == "health":
            show_health(json.loads(body))
        elif topic == "availability":
            print(f"   availability: {body}", flush=True)
        if topic == stop_on:
            return


def subscribe(port: int, out: queue.Queue):
    import paho.mqtt.client as mqtt

    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"csi-edge-demo-viewer-{os.getpid()}")
    client.on_connect = lambda c, u, f, rc, p: c.subscribe(f"csi-edge/{NODE}/#", qos=1)
    client.on_message = lambda c, u, m: out.put((m.topic.rsplit("/", 1)[-1], m.payload.decode()))
    client.connect("127.0.0.1", port)
    client.loop_start()
    return client


def add_arguments(ap) -> None:
    ap.add_argument("--seconds", type=float, default=60.0, help="how long to run (default 60)")
    ap.add_argument("--activity", default="mixed", choices=("mixed", "empty", "walking", "sitting", "lying"),
                    help="what the simulated person does (default mixed)")
    ap.add_argument("--fast", action="store_true", help="simulate as fast as the daemon reads (not 100 Hz real time)")


def register(subparsers) -> None:
    """`csi-edge demo` (listed in csi_edge.cli.COMMANDS)."""
    p = subparsers.add_parser("demo", help="simulated boards -> csi-edge run -> MQTT broker -> live results",
                              description=(__doc__ or "").split("\n\n")[0])
    add_arguments(p)
    p.set_defaults(func=run)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m csi_edge.tools.demo", description=(__doc__ or "").split("\n\n")[0])
    add_arguments(ap)
    try:
        return run(ap.parse_args(argv))
    except CsiEdgeError as exc:
        print(f"demo: error: {exc}", file=sys.stderr)
        return exc.exit_code


def run(args) -> int:
    exe = [sys.executable, "-m", "csi_edge.cli"]
    with tempfile.TemporaryDirectory(prefix="csi-edge-demo-") as tmp:
        work = Path(tmp)
        broker, port = start_broker(work)
        procs: list[subprocess.Popen] = [broker] if broker else []
        viewer = None
        try:
            model = pick_model(work)
            truth = Truth(work / "truth.csv")
            sim_cmd = [*exe, "sim", "--pty", "--activity", args.activity, "--truth", str(truth.path)] + (["--fast"] if args.fast else [])
            sim = subprocess.Popen(sim_cmd, stdout=subprocess.PIPE, text=True)
            procs.append(sim)
            pty = sim.stdout.readline().strip()
            if not pty:
                print("demo: the simulator did not start", file=sys.stderr)
                return 1
            print(f"demo: simulated boards on {pty} ({args.activity})", flush=True)
            run_cmd = [*exe, "run", "--source", f"serial:{pty}", "--node", NODE, "--model", str(model),
                       "--set", "health.interval_s=5", "--set", "log.level=warning"]
            run_cmd += ["--mqtt", f"mqtt://127.0.0.1:{port}"] if broker else ["--no-mqtt", "--jsonl", "-"]
            print("demo: " + " ".join(["csi-edge", *run_cmd[3:]]), flush=True)
            messages: queue.Queue = queue.Queue()
            if broker:
                viewer = subscribe(port, messages)
            daemon = subprocess.Popen(run_cmd, stdout=subprocess.PIPE if not broker else subprocess.DEVNULL, text=True)
            procs.append(daemon)
            if not broker:
                def pump() -> None:
                    for line in daemon.stdout:
                        obj = json.loads(line)
                        messages.put((obj.pop("topic"), json.dumps(obj)))
                threading.Thread(target=pump, daemon=True).start()
            print("demo: the first result comes once a window of 351 packets (3.5 s) is full", flush=True)
            show_until(time.monotonic() + args.seconds, daemon, messages, truth)
            daemon.send_signal(signal.SIGTERM)
            daemon.wait(30)
            if broker:  # the daemon's goodbye: availability offline
                show_until(time.monotonic() + 3, None, messages, truth, stop_on="availability")
            print(f"demo: done (daemon exit code {daemon.returncode})", flush=True)
            return 0 if daemon.returncode == 0 else 1
        except KeyboardInterrupt:
            return 130
        finally:
            if viewer is not None:
                viewer.loop_stop()
            for proc in reversed(procs):
                if proc.poll() is None:
                    proc.terminate()
                    try:
                        proc.wait(10)
                    except subprocess.TimeoutExpired:
                        proc.kill()


if __name__ == "__main__":
    sys.exit(main())
