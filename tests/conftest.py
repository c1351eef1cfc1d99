"""Shared fixtures: a real mosquitto broker on a free loopback port, and MQTT helpers.

`mosquitto` (module scope): a broker for the tests of one module. `mosquitto_factory`
(function scope): start brokers with options (persistence for restart tests) and stop, kill or
restart them. Readiness is awaited by connecting to the port (never by sleeping). Tests that
need a broker are skipped with a clear message when the `mosquitto` binary is missing
(Debian: `apt-get install mosquitto`).
"""

from __future__ import annotations

import os
import queue
import select
import shutil
import signal
import socket
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from csi_edge.tools.procs import free_port

MOSQUITTO = shutil.which("mosquitto") or next((p for p in ("/usr/sbin/mosquitto",) if os.path.exists(p)), None)


@dataclass
class Broker:
    """A mosquitto process on 127.0.0.1:`port`, configured in `workdir`."""

    workdir: Path
    port: int
    persistence: bool = False
    extra: list[str] = field(default_factory=list)  # more mosquitto.conf lines (for the listener)
    anonymous: bool = True
    proc: subprocess.Popen | None = None
    log: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def _write_conf(self) -> Path:
        conf = self.workdir / "mosquitto.conf"
        lines = [f"listener {self.port} 127.0.0.1", f"allow_anonymous {str(self.anonymous).lower()}", "log_dest stderr",
                 "log_type error", "log_type warning", "log_type notice", "max_queued_messages 100000"]
        lines[1:1] = self.extra
        if os.geteuid() == 0:
            lines.append("user root")  # else mosquitto drops to user mosquitto, which cannot read tmp_path
        if self.persistence:
            lines += ["persistence true", f"persistence_location {self.workdir}/", "persistence_file mosquitto.db"]
        conf.write_text("\n".join(lines) + "\n")
        return conf

    def start(self, timeout: float = 10.0) -> Broker:
        conf = self._write_conf()
        self.proc = subprocess.Popen([MOSQUITTO, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                err = self.proc.stderr.read().decode(errors="replace")
                raise RuntimeError(f"mosquitto exited with {self.proc.returncode}: {err.strip()[-500:]}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return self
            except OSError:
                # wait for the broker to say something (it logs when it opens the listener)
                select.select([self.proc.stderr], [], [], 0.05)
                if select.select([self.proc.stderr], [], [], 0)[0]:
                    self.log.append(os.read(self.proc.stderr.fileno(), 4096).decode(errors="replace"))
        raise RuntimeError(f"mosquitto did not accept connections on port {self.port} within {timeout} s")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 10.0) -> None:
        """Stop the broker (SIGTERM: it saves persistence; SIGKILL: abrupt)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(timeout)
        if self.proc is not None and self.proc.stderr:
            self.proc.stderr.close()
        self.proc = None

    def restart(self) -> Broker:
        self.stop()
        return self.start()


def _require_mosquitto() -> None:
    if MOSQUITTO is None:
        pytest.skip("mosquitto is not installed (Debian: apt-get install mosquitto); MQTT tests need a real broker")


@pytest.fixture(scope="module")
def mosquitto(tmp_path_factory):
    """A broker for the whole test module."""
    _require_mosquitto()
    broker = Broker(tmp_path_factory.mktemp("mosquitto"), free_port()).start()
    yield broker
    broker.stop()


@pytest.fixture
def mosquitto_factory(tmp_path):
    """Start brokers with options: `mosquitto_factory(persistence=True)`,
    `mosquitto_factory(extra=["cafile ...", "certfile ...", "keyfile ..."])` (TLS listener);
    all stopped at the end."""
    _require_mosquitto()
    brokers: list[Broker] = []

    def make(persistence: bool = False, extra: list[str] = (), anonymous: bool = True) -> Broker:
        d = tmp_path / f"mosquitto{len(brokers)}"
        d.mkdir()
        broker = Broker(d, free_port(), persistence=persistence, extra=list(extra), anonymous=anonymous).start()
        brokers.append(broker)
        return broker

    yield make
    for b in brokers:
        b.stop()


class Subscriber:
    """A paho subscriber that collects (topic, payload, retained) in a queue.

    `persistent=True` uses a fixed client id and clean_session=False so QoS 1 messages
    published while it is away (e.g. across a broker restart with persistence) reach it.
    """

    def __init__(self, broker: Broker, topics: list[str], client_id: str = "", persistent: bool = False, qos: int = 1):
        import paho.mqtt.client as mqtt

        self.messages: queue.Queue = queue.Queue()
        self.connected = threading.Event()
        self.connects = 0
        self._topics = topics
        self._qos = qos
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id or f"test-{os.getpid()}-{id(self)}",
                                  clean_session=not persistent)
        self.client.reconnect_delay_set(min_delay=1, max_delay=2)
        self.client.on_connect = self._on_connect
        self.client.on_message = lambda c, u, msg: self.messages.put((msg.topic, msg.payload, msg.retain))
        self.client.on_disconnect = lambda *a: self.connected.clear()
        self.client.connect("127.0.0.1", broker.port)
        self.client.loop_start()
        if not self.connected.wait(10):
            raise RuntimeError("test subscriber could not connect")

    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        if not reason_code.is_failure:
            for t in self._topics:
                client.subscribe(t, qos=self._qos)
            self.connects += 1
            self.connected.set()

    def get(self, timeout: float = 10.0):
        return self.messages.get(timeout=timeout)

    def wait_for(self, predicate, timeout: float = 20.0) -> list:
        """Collect messages until `predicate(all collected)` is true; fail after `timeout`."""
        got: list = []
        deadline = time.monotonic() + timeout
        while not predicate(got):
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"timed out after {timeout} s; got {len(got)} messages: {[m[0] for m in got[-5:]]}")
            try:
                got.append(self.messages.get(timeout=left))
            except queue.Empty:
                continue
        return got

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def subscriber_factory():
    subs: list[Subscriber] = []

    def make(broker: Broker, topics: list[str], **kw) -> Subscriber:
        s = Subscriber(broker, topics, **kw)
        subs.append(s)
        return s

    yield make
    for s in subs:
        s.close()


def pytest_addoption(parser):
    parser.addoption(
        "--port",
        default=None,
        help="serial port of a real csi-edge RX board (e.g. /dev/ttyACM0): enables tests/hardware",
    )


@pytest.fixture
def board_port(request) -> str:
    """The real board's serial port; hardware tests skip unless `--port` names one."""
    port = request.config.getoption("--port")
    if not port:
        pytest.skip("hardware test: give the RX board's serial port with --port /dev/ttyACM0")
    return port
