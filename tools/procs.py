"""Local processes the tools start and measure (the demo, the benchmarks): a free loopback
port, a private mosquitto on it, and a process's CPU time and resident memory from /proc.
Every server listens on 127.0.0.1 only."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

from csi_edge.errors import CsiEdgeError

CLK_TCK = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def mosquitto_binary() -> str | None:
    """The mosquitto executable, or None when it is not installed."""
    return shutil.which("mosquitto") or ("/usr/sbin/mosquitto" if os.path.exists("/usr/sbin/mosquitto") else None)


def start_mosquitto(workdir: Path, extra: str = "", log: Path | None = None, timeout_s: float = 10.0) -> tuple[subprocess.Popen, int]:
    """mosquitto on a free loopback port (config in `workdir`, output to `log` or discarded),
    accepting connections; CsiEdgeError naming the port otherwise."""
    exe = mosquitto_binary()
    if exe is None:
        raise CsiEdgeError("mosquitto is not installed (Debian/Ubuntu: sudo apt-get install mosquitto)")
    port = free_port()
    conf = workdir / "mosquitto.conf"
    conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\nmax_queued_messages 100000\n{extra}")
    out = open(log, "wb") if log is not None else subprocess.DEVNULL
    proc = subprocess.Popen([exe, "-c", str(conf)], stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return proc, port
        except OSError:
            time.sleep(0.05)  # polling a process we just started; there is nothing to wait on
    proc.kill()
    where = f" (see {log})" if log is not None else ""
    raise CsiEdgeError(f"mosquitto did not accept connections on 127.0.0.1:{port} within {timeout_s:g} s{where}")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of process `pid` (all its threads)."""
    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def rss_mb(pid: int | str = "self") -> float:
    """Resident memory of process `pid`, MB."""
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return float("nan")
