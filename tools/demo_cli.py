"""The end-to-end demo: simulated boards -> `csi-edge run` -> MQTT broker -> live results.

    csi-edge demo [--seconds 126] [--activity mixed] [--day 1] [--fast]

1. starts mosquitto on a free loopback port (a private config in a temp dir, no root, no
   system service) if the `mosquitto` binary is installed; otherwise says how to install it and
   falls back to the daemon's JSON-lines output;
2. starts the simulated boards on a pseudo-terminal (`csi-edge sim --pty`, ground truth to a
   CSV as it streams);
3. starts the daemon on that serial port (`csi-edge run --source serial:/dev/pts/N --mqtt ...`),
   with models/default when shipped, else a tiny untrained model (said so on screen);
4. subscribes to `csi-edge/demo/#` and prints one line per result: the model's activity,
   confidence and position beside the simulator's ground truth at the window's last packet
   (`✗` marks a mismatch); health lines as they come;
5. ends with the agreement (results that match the truth) and a confusion table.
The default run shows every activity once (a shuffled `mixed` schedule of 30 s segments).
Everything is stopped after `--seconds` (or Ctrl-C), the daemon with SIGTERM (it flushes and
publishes `offline`, which the demo prints too).
"""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from csi_edge.errors import CsiEdgeError
from csi_edge.tools.procs import mosquitto_binary, start_mosquitto

NODE = "demo"
SEGMENT_S = 30.0  # mixed: every activity for 30 s, in a shuffled order
DEFAULT_SECONDS = 4 * SEGMENT_S + 6.0  # all four activities, plus the first window (3.5 s) and the last results


def start_broker(workdir: Path) -> tuple[subprocess.Popen | None, int]:
    if mosquitto_binary() is None:
        print("demo: mosquitto is not installed (Debian/Ubuntu: sudo apt-get install mosquitto);"
              " showing the daemon's JSON-lines output instead", flush=True)
        return None, 0
    try:
        proc, port = start_mosquitto(workdir)
    except CsiEdgeError as exc:
        print(f"demo: {exc}; showing JSON lines instead", flush=True)
        return None, 0
    print(f"demo: mosquitto listening on 127.0.0.1:{port}", flush=True)
    return proc, port


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
    """Follows the simulator's ground-truth CSV (seq, activity, x, y, z) as it is written."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fh = None
        self.rows: dict[int, tuple[str, str]] = {}

    def _read(self) -> None:
        if self._fh is None and self.path.exists():
            self._fh = open(self.path)
        if self._fh is not None:
            for line in self._fh.readlines():
                parts = line.strip().split(",")
                if len(parts) == 5 and parts[0].isdigit():
                    where = "" if parts[2] == "nan" else f"({float(parts[2]):.2f}, {float(parts[3]):.2f}, {float(parts[4]):.2f}) m"
                    self.rows[int(parts[0])] = (parts[1], where)

    def lookup(self, seq: int, wait_s: float = 1.0) -> tuple[str, str] | None:
        """(activity, position text) at packet `seq`; waits up to `wait_s` for the simulator to
        write it (the daemon can be faster than the truth file). A packet lost on air has no
        row (the daemon filled it in by interpolation): the last received packet before it, up
        to `GAP_FILL` back, stands in. None: nothing that close."""
        deadline = time.monotonic() + wait_s
        while True:
            self._read()
            if seq in self.rows or (self.rows and max(self.rows) > seq) or time.monotonic() >= deadline:
                break
            time.sleep(0.05)  # the truth file is written by another process; poll it briefly
        for s in range(seq, seq - GAP_FILL - 1, -1):
            if s in self.rows:
                return self.rows[s]
        return None

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()


class Tally:
    """Agreement between the reported activity and the truth, and a confusion table."""

    def __init__(self) -> None:
        self.pairs: dict[tuple[str, str], int] = {}
        self.unknown = 0

    def add(self, truth: str | None, reported: str) -> None:
        if truth is None:
            self.unknown += 1
        else:
            self.pairs[(truth, reported)] = self.pairs.get((truth, reported), 0) + 1

    def report(self) -> list[str]:
        total = sum(self.pairs.values())
        if total == 0:
            return ["demo: no result could be compared with the truth"]
        agree = sum(n for (t, r), n in self.pairs.items() if t == r)
        names = [a for a in ACTIVITY_ORDER if any(a in pair for pair in self.pairs)]
        names += sorted({a for pair in self.pairs for a in pair} - set(names))
        lines = [f"demo: agreement with the truth {agree}/{total} results ({100 * agree / total:.1f} %)"
                 + (f"; {self.unknown} without a truth row" if self.unknown else "")]  # fmt: skip
        lines.append("  truth \\ reported " + "".join(f"{n:>9}" for n in names) + "   recall")
        for t in names:
            row = [self.pairs.get((t, r), 0) for r in names]
            if sum(row):
                lines.append(f"  {t:<18}" + "".join(f"{v:>9}" for v in row) + f"   {100 * self.pairs.get((t, t), 0) / sum(row):5.1f} %")
        return lines


ACTIVITY_ORDER = ("empty", "walking", "sitting", "lying")
GAP_FILL = 20  # packets: the daemon's [window] max_gap_fill


def show_state(s: dict, truth: Truth, tally: Tally) -> None:
    pos = s.get("position")
    where = f"({pos['x']:.2f}, {pos['y']:.2f}, {pos['z']:.2f}) m" if pos else "-"
    row = truth.lookup(s["packet_seq"])
    tally.add(row[0] if row else None, s["activity"])
    if row is None:
        mark, said = "  ", "truth unknown (no packet of the simulator's log near the window's end)"
    else:
        mark = "  " if row[0] == s["activity"] else "✗ "
        said = f"truth {row[0]:<8} {row[1] or '-'}"
    print(f"{mark}{s['time'][11:23]}  #{s['seq']:<5} {s['activity']:<8} p={s['confidence']:.2f}  at {where:<24} "
          f"latency {s['latency_ms']:5.1f} ms | {said}", flush=True)


def show_health(h: dict) -> None:
    broker = h.get("broker_connected")
    state = "-" if broker is None else ("up" if broker else "down")
    print(f"   health: {h['packet_rate_Hz']:.0f} pkt/s, loss {h['loss_percent']:.1f} %, window {h['window_fill_percent']:.0f} %,"
          f" inference p99 {h['inference_p99_ms']} ms, broker {state}, queue {h.get('publish_queue_depth')}",
          flush=True)


def show_until(deadline: float, daemon, messages: queue.Queue, truth: Truth, tally: Tally, stop_on: str = "") -> None:
    """Print results, health and availability as they arrive, until the deadline."""
    while time.monotonic() < deadline and (daemon is None or daemon.poll() is None):
        try:
            topic, body = messages.get(timeout=min(0.5, max(0.01, deadline - time.monotonic())))
        except queue.Empty:
            continue
        if topic == "state":
            show_state(json.loads(body), truth, tally)
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
    ap.add_argument("--seconds", type=float, default=DEFAULT_SECONDS,
                    help=f"how long to run (default {DEFAULT_SECONDS:g}: every activity once, {SEGMENT_S:g} s each)")
    ap.add_argument("--activity", default="mixed", choices=("mixed", "empty", "walking", "sitting", "lying"),
                    help="what the simulated person does (default mixed: all four in turn, shuffled)")
    ap.add_argument("--segment-seconds", type=float, default=SEGMENT_S, help=f"mixed: seconds per activity (default {SEGMENT_S:g})")
    ap.add_argument("--day", type=int, choices=(1, 2, 3), default=1, help="simulated day: 1 the model's training day, 2 another day, 3 furniture moved (default 1)")
    ap.add_argument("--seed", type=int, default=0, help="simulator seed (default 0)")
    ap.add_argument("--fast", action="store_true", help="simulate as fast as the daemon reads (not 100 Hz real time)")


def register(subparsers) -> None:
    """`csi-edge demo` (listed in csi_edge.cli.COMMANDS)."""
    p = subparsers.add_parser("demo", help="simulated boards -> csi-edge run -> MQTT broker -> live results",
                              description=(__doc__ or "").split("\n\n")[0])
    add_arguments(p)
    p.set_defaults(func=run)


def run(args) -> int:
    exe = [sys.executable, "-m", "csi_edge.cli"]
    with tempfile.TemporaryDirectory(prefix="csi-edge-demo-") as tmp:
        work = Path(tmp)
        broker, port = start_broker(work)
        procs: list[subprocess.Popen] = [broker] if broker else []
        viewer = None
        try:
            model = pick_model(work)
            truth, tally = Truth(work / "truth.csv"), Tally()
            sim_cmd = [*exe, "sim", "--pty", "--activity", args.activity, "--truth", str(truth.path), "--day", str(args.day),
                       "--seed", str(args.seed), "--segment-seconds", f"{args.segment_seconds:g}"] + (["--fast"] if args.fast else [])
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
            print("demo: the first result comes once a window of 351 packets (3.5 s) is full; "
                  "✗ marks a result that differs from the simulator's truth at the window's last packet", flush=True)
            show_until(time.monotonic() + args.seconds, daemon, messages, truth, tally)
            daemon.send_signal(signal.SIGTERM)
            daemon.wait(30)
            if broker:  # the daemon's goodbye: availability offline
                show_until(time.monotonic() + 3, None, messages, truth, tally, stop_on="availability")
            truth.close()
            for line in tally.report():
                print(line, flush=True)
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
