"""MQTT publisher (paho-mqtt 2.x): state, health, availability, Home Assistant discovery.

Topics (`<prefix>` = [mqtt] topic_prefix, default `csi-edge`):
- `<prefix>/<node>/state`   one result per window (QoS [mqtt] qos, default 1); a daemon with
  several links and a per-link model publishes each link's on `<prefix>/<node>/<link>/state`
- `<prefix>/<node>/health`  every [health] interval_s
- `<prefix>/<node>/availability`  `online` / `offline`, retained; `offline` is the last will
- `<prefix>/<node>/command`  subscribed (QoS 1): a payload naming a daemon command, e.g.
  `recalibrate`, is queued on the daemon's `Commands` (run on its loop thread); retained
  messages are ignored (a stale retained command must not fire at every reconnect)
- `<discovery_prefix>/.../config`  Home Assistant discovery (retained), see discovery.py; an
  entity the current model does not publish gets an empty retained config (HA removes it)

The bounded offline buffer. Results wait in our own deque of at most `queue_size` messages
(oldest dropped first, counted in `dropped`) and are handed to paho only while connected and
only while fewer than `max_inflight` handed messages are unacknowledged. So paho's own queue
(which is unbounded when messages are published while disconnected) never holds more than
`max_inflight` messages: the bound is really `queue_size + max_inflight`, and both parts are
reported (`publish_queue_depth`). paho retransmits its unacknowledged QoS>0 messages after a
reconnect. Health reports are not results: while the broker is away only the latest is kept.

Connection failures (a closed port, an unknown host, a TLS certificate that does not verify or
does not name the host, credentials the broker refuses) are logged with host:port and the
reason (`mqtt_connect_failed`, `mqtt_refused`) at the first failure and then at most every
[mqtt] warn_every_s; health carries `broker_error` (why the broker is not connected, None
while it is) and `broker_connect_failures`. paho retries with exponential backoff from
[mqtt] reconnect_min_s doubling to reconnect_max_s (reset by every successful connection).

Threading: paho's network thread only sets flags and appends acknowledgements to a deque
(its on_publish runs under paho's own lock, so it must not call back into paho); the daemon
thread does all publishing in `pump()`, called on every loop iteration.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
from collections import deque

import paho.mqtt.client as mqtt

from csi_edge.commands import Commands
from csi_edge.config import Config, MqttConfig
from csi_edge.errors import ConfigError
from csi_edge.failures import Failures
from csi_edge.logs import event
from csi_edge.publish.base import Publisher
from csi_edge.publish.discovery import discovery_configs
from csi_edge.publish.mqtt_errors import ReasonedClient, describe
from csi_edge.results import StateFields

log = logging.getLogger("csi_edge.publish.mqtt")


def no_delay(client, userdata, sock) -> None:
    """Small MQTT packets leave at once. paho leaves Nagle's algorithm on, so a QoS 1 PUBLISH
    sent right after another small packet (a PUBACK, the previous PUBLISH) waited for the
    broker's delayed ACK: ~40 ms measured on loopback (docs/fleet.md)."""
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    except (OSError, AttributeError):  # not a TCP socket
        pass


class MqttPublisher(Publisher):
    kind = "mqtt"

    def __init__(self, cfg: MqttConfig, node: str) -> None:
        self.cfg = cfg
        self.node = node
        base = f"{cfg.topic_prefix}/{node}"
        self.topics = {"state": f"{base}/state", "health": f"{base}/health", "availability": f"{base}/availability",
                       "command": f"{base}/command"}
        self._commands: Commands | None = None
        self.client_id = cfg.client_id or f"csi-edge-{node}"
        self.client = ReasonedClient(mqtt.CallbackAPIVersion.VERSION2, client_id=self.client_id,
                                     protocol=mqtt.MQTTv311, clean_session=True)
        self.client.will_set(self.topics["availability"], "offline", qos=1, retain=True)
        if cfg.username:
            self.client.username_pw_set(cfg.username, cfg.password or None)
        if cfg.tls:
            self._set_tls()
        self.client.max_inflight_messages_set(cfg.max_inflight)
        self.client.reconnect_delay_set(min_delay=cfg.reconnect_min_s, max_delay=cfg.reconnect_max_s)  # type: ignore[arg-type]
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_publish = self._on_publish
        self.client.on_connect_error = self._on_connect_error
        self._connect_failures = Failures(log, "mqtt_connect_failed", cfg.warn_every_s, None, host=cfg.host, port=cfg.port)
        self._refusals = Failures(log, "mqtt_refused", cfg.warn_every_s, None, host=cfg.host, port=cfg.port)
        self.broker_error: str | None = "not connected yet"
        self.client.on_socket_open = no_delay
        self.client.on_message = self._on_message
        self._pending: deque[tuple[str, bytes]] = deque()
        self._inflight: dict[int, tuple[str, bytes]] = {}
        self._acks: deque[int] = deque()
        self._latest_health: deque[bytes] = deque(maxlen=1)
        self._discovery: dict[str, dict | None] = {}
        self._retained: dict[str, bytes] = {}  # more retained messages, sent again after every reconnect
        self._connected = False
        self._just_connected = False  # set by on_connect: send availability, log mqtt_connected from pump()
        self._announce = False  # (re)send the discovery configs from pump()
        self._wake = threading.Event()
        self._stopping = False
        self.dropped = 0
        self.delivered = 0
        self.connects = 0

    @classmethod
    def enabled(cls, cfg: Config) -> bool:
        return cfg.mqtt.enabled

    @classmethod
    def from_config(cls, cfg: Config, node: str) -> MqttPublisher:
        return cls(cfg.mqtt, node)

    def _set_tls(self) -> None:
        cfg = self.cfg
        try:
            self.client.tls_set(ca_certs=cfg.ca_file or None, certfile=cfg.cert_file or None, keyfile=cfg.key_file or None)
        except (OSError, ValueError) as exc:  # checked at start (daemon_checks.tls_problems); a file changed since
            raise ConfigError(f"[mqtt] ca_file/cert_file/key_file: cannot set up TLS ({describe(exc)})") from None

    # paho network thread ------------------------------------------------------------------
    def _on_connect_error(self, exc: BaseException) -> None:
        self.broker_error = describe(exc)
        if not self._stopping:
            self._connect_failures.failed(self.broker_error, retry_max_s=self.cfg.reconnect_max_s)

    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        if reason_code.is_failure:
            self._connected = False
            self.broker_error = f"refused by the broker: {reason_code}"
            self._refusals.failed(str(reason_code), logging.ERROR)
            return
        self._connected = True
        self.broker_error = None
        self._connect_failures.succeeded()
        self._refusals.succeeded()
        self._just_connected = True
        self._announce = True
        if self._commands is not None:
            client.subscribe(self.topics["command"], qos=1)
        self.connects += 1
        self._wake.set()

    def _on_disconnect(self, client, userdata, flags, reason_code, properties) -> None:
        was = self._connected
        self._connected = False
        if was and not self._stopping:
            self.broker_error = f"disconnected: {reason_code}"
            event(log, "mqtt_disconnected", logging.WARNING, host=self.cfg.host, port=self.cfg.port, reason=str(reason_code))

    def _on_message(self, client, userdata, msg) -> None:
        name = msg.payload[:64].decode("utf-8", "replace").strip()
        if self._commands is None or msg.retain:
            event(log, "mqtt_command_ignored", logging.WARNING, topic=msg.topic, command=name, retained=msg.retain)
            return
        self._commands.put(name, "mqtt")

    def _on_publish(self, client, userdata, mid, reason_code, properties) -> None:
        self._acks.append(mid)
        self._wake.set()

    # daemon thread --------------------------------------------------------------------------
    def start(self) -> None:
        event(log, "mqtt_connecting", host=self.cfg.host, port=self.cfg.port, tls=self.cfg.tls, client_id=self.client_id)
        self.client.connect_async(self.cfg.host, self.cfg.port, keepalive=self.cfg.keepalive_s)
        self.client.loop_start()

    def accept_commands(self, commands: Commands) -> None:
        self._commands = commands  # subscribed on (re)connect

    def model_changed(self, fields: StateFields) -> None:
        self.set_discovery(discovery_configs(self.node, self.cfg.topic_prefix, self.cfg.discovery_prefix, fields))

    def set_discovery(self, configs: dict[str, dict | None]) -> None:
        """Home Assistant configs (topic -> payload, None removes), sent retained now and after every reconnect."""
        if self.cfg.discovery:
            self._discovery = configs
            self._announce = self._announce or self._connected

    def set_retained(self, topic: str, payload: bytes) -> None:
        """A retained message (QoS 1) sent now if connected and again after every reconnect
        (after `online`: the fusion service says a room is `offline` while it has no live node)."""
        self._retained[topic] = payload
        if self._connected:
            self.client.publish(topic, payload, qos=1, retain=True)

    def state(self, payload: dict) -> None:
        if len(self._pending) >= self.cfg.queue_size:
            self._pending.popleft()
            self.dropped += 1
        link = payload.get("link")
        topic = self.topics["state"] if link is None else f"{self.cfg.topic_prefix}/{self.node}/{link}/state"
        self._pending.append((topic, json.dumps(payload, separators=(",", ":")).encode()))
        self.pump()

    def health(self, payload: dict) -> None:
        self._latest_health.append(json.dumps(payload, separators=(",", ":")).encode())
        self.pump()

    def pump(self) -> None:
        """Collect acknowledgements and hand queued messages to paho while there is room."""
        while self._acks:
            if self._inflight.pop(self._acks.popleft(), None) is not None:
                self.delivered += 1
        if not self._connected:
            return
        if self._just_connected:
            self._just_connected = False
            self.client.publish(self.topics["availability"], "online", qos=1, retain=True)
            event(log, "mqtt_connected", host=self.cfg.host, port=self.cfg.port, queued=len(self._pending),
                  inflight=len(self._inflight), failed_attempts=self._connect_failures.count + self._refusals.count)
        if self._announce:
            self._announce = False
            for topic, config in self._discovery.items():  # None: an entity this model lacks, removed
                self.client.publish(topic, b"" if config is None else json.dumps(config), qos=1, retain=True)
            for topic, body in self._retained.items():
                self.client.publish(topic, body, qos=1, retain=True)
        qos = self.cfg.qos
        while self._pending and len(self._inflight) < self.cfg.max_inflight and self._connected:
            topic, body = self._pending[0]
            info = self.client.publish(topic, body, qos=qos)
            if qos == 0:
                if info.rc != mqtt.MQTT_ERR_SUCCESS:
                    break
                self.delivered += 1
            elif info.rc not in (mqtt.MQTT_ERR_SUCCESS, mqtt.MQTT_ERR_NO_CONN):
                break  # e.g. MQTT_ERR_QUEUE_SIZE: keep it in our queue
            else:
                self._inflight[info.mid] = (topic, body)  # paho resends it after a reconnect
            self._pending.popleft()
        while self._latest_health and self._connected:
            self.client.publish(self.topics["health"], self._latest_health.popleft(), qos=qos)

    def stop(self, flush_s: float) -> None:
        """Flush queued results within `flush_s`, publish `offline`, disconnect."""
        deadline = time.monotonic() + flush_s
        while (self._pending or self._inflight) and time.monotonic() < deadline:
            self._wake.clear()
            self.pump()
            if self._pending or self._inflight:
                self._wake.wait(min(0.1, max(0.0, deadline - time.monotonic())))
        self.pump()
        left = len(self._pending) + len(self._inflight)
        if self._connected:
            info = self.client.publish(self.topics["availability"], "offline", qos=1, retain=True)
            try:
                info.wait_for_publish(timeout=max(0.5, deadline - time.monotonic()))
            except (RuntimeError, ValueError):
                pass
        self._stopping = True
        why = {} if self._connected else {"broker_error": self.broker_error}
        event(log, "mqtt_stopped", delivered=self.delivered, dropped=self.dropped, undelivered=left,
              level=logging.WARNING if left else logging.INFO, **why)
        self.client.disconnect()
        self.client.loop_stop()

    def status(self) -> dict:
        return {
            "broker_connected": self._connected,
            "broker_error": None if self._connected else self.broker_error,
            "broker_connect_failures": self._connect_failures.count + self._refusals.count,
            "publish_queue_depth": len(self._pending) + len(self._inflight),
            "publish_dropped": self.dropped,
            "publish_delivered": self.delivered,
        }
