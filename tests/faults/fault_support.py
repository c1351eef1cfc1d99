"""Helpers of the fault-injection suite (fixtures are in conftest.py)."""

from __future__ import annotations

import os
import select
import subprocess
import threading
from pathlib import Path

from daemon_harness import PtyBoard


def run_args(source: str, node: str, model: Path, *extra: str, broker=None, jsonl: str | None = "-") -> list[str]:
    """`csi-edge run` arguments: health every second, quick serial and broker retries;
    `broker`: a conftest Broker, an mqtt:// URL, or None (no MQTT)."""
    args = ["--source", source, "--node", node, "--model", str(model), "--set", "health.interval_s=1",
            "--set", "source.reconnect_min_s=0.1", "--set", "source.reconnect_max_s=0.5",
            "--set", "mqtt.reconnect_min_s=0.2", "--set", "mqtt.reconnect_max_s=1", "--set", "mqtt.shutdown_flush_s=2"]
    url = broker if isinstance(broker, str) or broker is None else broker.url  # a Broker, a URL or None
    args += ["--mqtt", url] if url is not None else ["--no-mqtt"]
    if jsonl is not None:
        args += ["--jsonl", jsonl]
    return args + list(extra)


class FaultBoard(PtyBoard):
    """A simulated RX board on a pty that can be unplugged (the device node disappears, writes
    are held back) and plugged in again under the same link, as udev does."""

    def __init__(self, *args, **kw) -> None:
        self.unplugged = threading.Event()
        super().__init__(*args, **kw)

    def _write_all(self, data: bytes) -> None:
        view = memoryview(data)
        while view and not self._stop.is_set():
            with self._lock:
                if self.unplugged.is_set():
                    return  # the board is off the bus: nothing reaches the host
                _, writable, _ = select.select([], [self.master], [], 0.05)
                if not writable:
                    continue
                try:
                    n = os.write(self.master, view[:4096])
                except BlockingIOError:
                    continue
                except OSError:
                    return  # EIO: the host side is closed
                view = view[n:]
                self.written += n

    def unplug(self) -> None:
        with self._lock:
            self.unplugged.set()
            os.close(self.master)
            os.close(self.slave)
            self.link.unlink()

    def plug(self) -> None:
        with self._lock:
            self._open_pty()
            self.unplugged.clear()

    def close(self) -> None:
        if self.unplugged.is_set():
            self.master, self.slave = os.open("/dev/null", os.O_RDONLY), os.open("/dev/null", os.O_RDONLY)
        super().close()


def grow(where: Path, size_kib: int) -> None:
    """Give a mounted tmpfs more room (the disk was cleaned up)."""
    subprocess.run(["mount", "-o", f"remount,size={size_kib}k", str(where)], check=True, capture_output=True, timeout=30)


def tls_listener(pki: Path) -> list[str]:
    return [f"cafile {pki / 'ca.pem'}", f"certfile {pki / 'server.pem'}", f"keyfile {pki / 'server.key'}"]
