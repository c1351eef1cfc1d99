"""`csi-edge bench web`: what the web view costs the daemon at 100 Hz.

Runs the real daemon (`csi-edge run` in its own process, MQTT off, replaying a simulated
100 Hz recording in real time) three ways, interleaved `--repeats` times, and measures the
daemon process's CPU time (user + system, all its threads, from /proc/PID/stat) over
`--seconds` once it is warm:

- `off`:   no web view;
- `idle`:  `--web`, no page open;
- `pages`: `--web` with `--pages` pages open (default 2): real pages in Debian's headless
  chromium (`--client chromium`), or WebSocket clients in this process that receive what a
  page receives (`--client ws`, the default: the daemon does the same work for both, and the
  bench's own CPU stays out of the way).

Figures: `cpu_percent_<mode>` (median, % of one core), `web_cost_percent` = pages - off
(target < 2), `page_kB_per_s` (what one page receives), `web_dropped` (messages the pages did
not get). A bar chart goes to `--plot`.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

from csi_edge.errors import CsiEdgeError, UsageError
from csi_edge.tools.bench.figure import save
from csi_edge.tools.procs import cpu_seconds, free_port

MODES = ("off", "idle", "pages")
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--remote-debugging-port=0")  # fmt: skip


class Daemon:
    """`csi-edge run` replaying `recording`, optionally with the web view on `port`."""

    def __init__(self, recording: Path, port: int | None) -> None:
        cmd = [sys.executable, "-m", "csi_edge.cli", "run", "--source", f"replay:{recording}", "--no-mqtt", "--node", "bench",
               "--set", "health.interval_s=1", *(["--web", f"127.0.0.1:{port}"] if port else [])]  # fmt: skip
        self.port = port
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        self.ready = threading.Event()
        self.log: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.log.append(line.rstrip())
            if " ready " in line:
                self.ready.set()

    def wait_ready(self, timeout: float = 60.0) -> None:
        if not self.ready.wait(timeout) or self.proc.poll() is not None:
            raise CsiEdgeError(f"bench web: the daemon did not start: {' | '.join(self.log[-3:])}")

    def health(self) -> dict:
        """The latest health report ({} before the first)."""
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/api/health", timeout=5) as r:
                return json.loads(r.read())
        except urllib.error.HTTPError as exc:
            if exc.code == 503:
                return {}
            raise

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(30)


class WsPages:
    """`n` WebSocket clients that read everything, in a thread of their own."""

    def __init__(self, port: int, n: int) -> None:
        self.bytes = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._run(port, n)), daemon=True)
        self._thread.start()

    async def _run(self, port: int, n: int) -> None:
        import aiohttp

        async def page(session) -> None:
            async with session.ws_connect(f"http://127.0.0.1:{port}/ws") as ws:
                while not self._stop.is_set():
                    try:
                        msg = await ws.receive(timeout=0.5)
                    except asyncio.TimeoutError:
                        continue
                    if msg.type in (aiohttp.WSMsgType.TEXT, aiohttp.WSMsgType.BINARY):
                        self.bytes += len(msg.data)
                    else:
                        return

        async with aiohttp.ClientSession() as session:
            await asyncio.gather(*(page(session) for _ in range(n)))

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)


class ChromiumPages:
    """`n` headless chromium processes, each with the page open (their own profiles)."""

    def __init__(self, port: int, n: int) -> None:
        if not Path(CHROMIUM).exists():
            raise UsageError(f"--client chromium: {CHROMIUM} is missing (Debian: apt-get install chromium)")
        self.bytes = 0
        self._dirs = [tempfile.mkdtemp(prefix="csi-edge-bench-chromium-") for _ in range(n)]
        self._procs = [subprocess.Popen([CHROMIUM, *CHROMIUM_FLAGS, f"--user-data-dir={d}", f"http://127.0.0.1:{port}/"],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for d in self._dirs]  # fmt: skip

    def close(self) -> None:
        for p in self._procs:
            p.terminate()
        for p in self._procs:
            p.wait(10)
        for d in self._dirs:
            shutil.rmtree(d, ignore_errors=True)


def wait_pages(daemon: Daemon, n: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if daemon.health().get("web_clients") == n:
            return
        time.sleep(0.2)  # health comes every second
    raise CsiEdgeError(f"bench web: {n} pages did not connect within {timeout:g} s")


def measure(recording: Path, mode: str, args) -> dict:
    """One run of the daemon in `mode`; its CPU over `args.seconds` once warm."""
    port = free_port() if mode != "off" else None
    daemon = Daemon(recording, port)
    pages: WsPages | ChromiumPages | None = None
    try:
        daemon.wait_ready()
        if mode == "pages":
            assert port is not None
            pages = (ChromiumPages if args.client == "chromium" else WsPages)(port, args.pages)
            wait_pages(daemon, args.pages)
        time.sleep(args.warmup)  # results flow (one window) and the pages have their backlog
        b0, c0, t0 = pages.bytes if pages else 0, cpu_seconds(daemon.proc.pid), time.monotonic()
        time.sleep(args.seconds)  # the measured interval: the daemon runs at 100 Hz meanwhile
        c1, t1 = cpu_seconds(daemon.proc.pid), time.monotonic()
        out = {"mode": mode, "cpu_percent": round(100 * (c1 - c0) / (t1 - t0), 2)}
        if pages is not None:
            health = daemon.health()
            out["page_kB_per_s"] = round((pages.bytes - b0) / (t1 - t0) / 1000 / args.pages, 2) if pages.bytes else None
            out["web_dropped"] = health.get("web_dropped")
            out["packet_rate_Hz"] = health.get("packet_rate_Hz")  # the daemon really ran at 100 Hz
        return out
    finally:
        if pages is not None:
            pages.close()
        daemon.stop()


def record(path: Path, seconds: float) -> None:
    subprocess.run([sys.executable, "-m", "csi_edge.cli", "sim", "--seconds", str(seconds), "--activity", "mixed",
                    "--out", str(path)], check=True, stdout=subprocess.DEVNULL)  # fmt: skip


def plot(path: Path, runs: list[dict], figures: dict) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 3.6))
    labels = {"off": "no web view", "idle": "web view,\nno page", "pages": f"web view,\n{figures['pages']} pages open"}
    for i, mode in enumerate(MODES):
        values = [r["cpu_percent"] for r in runs if r["mode"] == mode]
        ax.bar(i, statistics.median(values), color=("tab:gray", "tab:blue", "tab:orange")[i], alpha=0.8)
        ax.plot([i] * len(values), values, "k.", label="each run" if i == 0 else None)
    ax.set_xticks(range(len(MODES)), [labels[m] for m in MODES])
    ax.set_ylabel("daemon CPU, % of one core")
    ax.set_title(f"web view cost at 100 Hz: {figures['web_cost_percent']:+.2f} % of a core (target < 2 %)")
    ax.legend(loc="lower right")
    save(fig, path)


def add_arguments(parser) -> None:
    parser.add_argument("--seconds", type=float, default=30.0, help="measured interval per run (default 30)")
    parser.add_argument("--warmup", type=float, default=5.0, help="seconds after the daemon is ready before measuring (default 5)")
    parser.add_argument("--repeats", type=int, default=3, help="runs of each mode, interleaved (default 3)")
    parser.add_argument("--pages", type=int, default=2, help="pages open in the `pages` mode (default 2)")
    parser.add_argument("--client", choices=("ws", "chromium"), default="ws", help="what the pages are (default ws)")
    parser.add_argument("--json", action="store_true", help="print one JSON object with the figures")
    parser.add_argument("--plot", metavar="PNG", default="bench-web.png", help="bar chart (default bench-web.png)")


def run(args) -> int:
    from tqdm import tqdm

    if args.seconds <= 0 or args.repeats < 1 or args.pages < 1:
        raise UsageError("--seconds must be > 0, --repeats and --pages >= 1")
    runs: list[dict] = []
    with tempfile.TemporaryDirectory() as tmp:
        recording = Path(tmp) / "bench-100hz.bin"
        record(recording, args.seconds + args.warmup + 30)
        plan = [mode for _ in range(args.repeats) for mode in MODES]
        for mode in tqdm(plan, desc="daemon runs", unit="run", disable=args.json):
            runs.append(measure(recording, mode, args))
    medians = {m: statistics.median(r["cpu_percent"] for r in runs if r["mode"] == m) for m in MODES}
    paged = [r for r in runs if r["mode"] == "pages"]
    figures = {
        **{f"cpu_percent_{m}": round(v, 2) for m, v in medians.items()},
        "web_cost_percent": round(medians["pages"] - medians["off"], 2),
        "web_idle_cost_percent": round(medians["idle"] - medians["off"], 2),
        "page_kB_per_s": paged[-1].get("page_kB_per_s"), "web_dropped": max(r.get("web_dropped") or 0 for r in paged),
        "packet_rate_Hz": paged[-1].get("packet_rate_Hz"),
        "pages": args.pages, "client": args.client, "seconds": args.seconds, "repeats": args.repeats,
        "cpu_count": os.cpu_count(), "load_average": [round(x, 2) for x in os.getloadavg()], "runs": runs,
    }  # fmt: skip
    figures["target_met"] = {"web_cost_percent<2": figures["web_cost_percent"] < 2}
    if args.plot:
        plot(Path(args.plot), runs, figures)
    if args.json:
        print(json.dumps(figures))
    else:
        for key, value in figures.items():
            if key != "runs":
                print(f"{key:>22}: {value}")
        print(f"{'runs':>22}: " + ", ".join(f"{r['mode']} {r['cpu_percent']}" for r in runs))
    return 0
