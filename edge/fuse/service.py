"""`csi-edge fuse`: the fusion service, one loop over the site's rooms.

    start:  one MQTT connection per room (its availability topic is that connection's last
            will), subscribed to the state and availability topics of the room's nodes
    loop:   messages (paho's threads put them in one bounded inbox) -> the room's trackers ->
            a room whose round is due publishes its fused state -> health, availability and
            discovery every [health] interval_s -> pump the publishers
    stop:   SIGTERM/SIGINT/--seconds -> flush -> `offline` on every room
    reload: SIGHUP reads the configuration again; rooms whose definition changed are rebuilt,
            new rooms start, removed rooms say `offline` and stop (the others keep their state)

Topics (`<prefix>` = [mqtt] topic_prefix): subscribes `<prefix>/<node>/state` (a `NODE/LINK`
entry: `<prefix>/NODE/LINK/state`) and `<prefix>/<node>/availability`; publishes
`<prefix>/<site>/<room>/state`, `.../health`, `.../availability` and Home Assistant discovery.
"""

from __future__ import annotations

import dataclasses
import logging
import queue
import signal
import time
from collections.abc import Callable

from csi_edge.config import Config, FuseRoom
from csi_edge.fuse.discovery import room_discovery
from csi_edge.fuse.room import RoomFields, RoomFuser
from csi_edge.health import HealthClock
from csi_edge.logs import event
from csi_edge.publish.mqtt import MqttPublisher

log = logging.getLogger("csi_edge.fuse")
INBOX_SIZE = 100_000  # messages waiting for the loop (oldest kept; newer dropped and counted)
IDLE_WAIT_S = 0.2
AVAILABILITY_CHECK_S = 0.5  # how often rooms are checked for live nodes (availability, discovery)
BATCH = 256  # messages handled between two looks at the rooms' rounds (bounds the added latency under load)


class RoomConnection(MqttPublisher):
    """A room's MQTT connection: the daemon's publisher (bounded queue, QoS, TLS, last will on
    the room's availability) that also subscribes to the room's nodes."""

    def __init__(self, cfg: Config, room: FuseRoom, inbox: queue.Queue, counters: dict) -> None:
        site = cfg.fuse.site
        client_id = f"{cfg.mqtt.client_id or 'csi-edge-fuse'}-{site}-{room.name}"
        super().__init__(dataclasses.replace(cfg.mqtt, client_id=client_id), f"{site}/{room.name}")
        prefix = cfg.mqtt.topic_prefix
        self.routes: dict[str, list[tuple[str, str]]] = {}  # topic -> [(kind, node)]: a daemon's availability covers all its links
        for node in room.nodes:
            self.routes.setdefault(f"{prefix}/{node}/state", []).append(("state", node))
            self.routes.setdefault(f"{prefix}/{node.split('/')[0]}/availability", []).append(("availability", node))
        self.room = room.name
        self._inbox, self._counters = inbox, counters
        chained = self.client.on_connect
        assert chained is not None

        def on_connect(client, userdata, flags, reason_code, properties) -> None:
            chained(client, userdata, flags, reason_code, properties)  # type: ignore[call-arg]
            if not reason_code.is_failure:
                client.subscribe([(topic, cfg.mqtt.qos) for topic in sorted(set(self.routes))])

        self.client.on_connect = on_connect
        self.client.on_message = self._on_message

    def _on_message(self, client, userdata, msg) -> None:  # paho's network thread
        try:
            self._inbox.put_nowait((self.room, msg.topic, msg.payload, time.time()))
        except queue.Full:
            self._counters["inbox_dropped"] = self._counters.get("inbox_dropped", 0) + 1


class FuseService:
    def __init__(self, cfg: Config, seconds: float | None = None, reload_config: Callable[[], Config] | None = None) -> None:
        self.cfg = cfg
        self.seconds = seconds
        self.reload_config = reload_config  # SIGHUP: the configuration read again
        self.inbox: queue.Queue = queue.Queue(INBOX_SIZE)
        self.counters: dict[str, int] = {}
        self.rooms: dict[str, RoomFuser] = {}
        self.links: dict[str, RoomConnection] = {}
        self._fields: dict[str, RoomFields | None] = {}
        self._online: dict[str, bool] = {}
        self.stop_requested = self.reload_requested = False
        self.exit_reason = ""

    # lifecycle ------------------------------------------------------------------------------
    def run(self) -> int:
        for room in self.cfg.fuse.rooms:
            self._start_room(room)
        signal.signal(signal.SIGTERM, self._on_stop)
        signal.signal(signal.SIGINT, self._on_stop)
        signal.signal(signal.SIGHUP, lambda *_: setattr(self, "reload_requested", True))
        event(log, "fuse_started", site=self.cfg.fuse.site, rooms=",".join(self.rooms), host=self.cfg.mqtt.host,
              port=self.cfg.mqtt.port, config=self.cfg.origin)  # fmt: skip
        try:
            self._loop()
        finally:
            event(log, "fuse_stopping", reason=self.exit_reason or "error", fused=sum(r.fused for r in self.rooms.values()))
            for name in list(self.rooms):
                self._stop_room(name)
        return 0

    def _on_stop(self, signum, frame) -> None:
        self.stop_requested = True
        self.exit_reason = signal.Signals(signum).name

    def _start_room(self, room: FuseRoom) -> None:
        self.rooms[room.name] = RoomFuser(room, self.cfg.fuse)
        conn = RoomConnection(self.cfg, room, self.inbox, self.counters)
        self.links[room.name] = conn
        self._fields[room.name] = None
        self._online[room.name] = False  # until a node is live (the connection's `online` is corrected at once)
        conn.set_retained(conn.topics["availability"], b"offline")
        conn.start()

    def _stop_room(self, name: str) -> None:
        self.rooms.pop(name)
        self.links.pop(name).stop(self.cfg.mqtt.shutdown_flush_s)

    def reload(self, cfg: Config) -> None:
        """Use a new configuration: rebuild changed rooms, start new ones, stop removed ones."""
        old = {r.name: r for r in self.cfg.fuse.rooms}
        new = {r.name: r for r in cfg.fuse.rooms}
        same_settings = dataclasses.replace(cfg.fuse, rooms=[]) == dataclasses.replace(self.cfg.fuse, rooms=[]) and cfg.mqtt == self.cfg.mqtt
        self.cfg = cfg
        for name in old:
            if name not in new or old[name] != new[name] or not same_settings:
                self._stop_room(name)
        for name, room in new.items():
            if name not in self.rooms:
                self._start_room(room)
        event(log, "fuse_reloaded", rooms=",".join(self.rooms))

    # loop -----------------------------------------------------------------------------------
    def _loop(self) -> None:
        start = time.monotonic()
        deadline = start + self.seconds if self.seconds else None
        clock = HealthClock(self.cfg.health.interval_s, start)
        checks = HealthClock(AVAILABILITY_CHECK_S, start)
        while not self.stop_requested:
            if self.reload_requested:
                self._reload()
            touched = self._receive(self._wait_s())
            now = time.time()
            for name, room in self.rooms.items():
                if (name in touched or room.deadline is not None and room.deadline <= now) and room.due(now):
                    payload = room.fused_state(now)
                    if payload is not None:
                        self.links[name].state(payload)
            mono = time.monotonic()
            if checks.due(mono):
                self._check_rooms(now)
            if clock.due(mono):
                self._health(now)
            for conn in self.links.values():
                conn.pump()
            if deadline is not None and mono >= deadline:
                self.exit_reason = "--seconds reached"
                break

    def _wait_s(self) -> float:
        now = time.time()
        due = [r.deadline for r in self.rooms.values() if r.deadline is not None]
        return max(0.0, min(due) - now) if due else IDLE_WAIT_S

    def _receive(self, timeout: float) -> set[str]:
        """Hand up to BATCH waiting messages (waiting up to `timeout` for the first) to their
        rooms; the names of the rooms that got one."""
        touched: set[str] = set()
        try:
            item = self.inbox.get(timeout=timeout)
        except queue.Empty:
            return touched
        for i in range(BATCH):
            if self._dispatch(*item):
                touched.add(item[0])
            if i == BATCH - 1:
                break  # the rest waits for the next call (nothing taken out of the inbox is lost)
            try:
                item = self.inbox.get_nowait()
            except queue.Empty:
                break
        return touched

    def _dispatch(self, room_name: str, topic: str, payload: bytes, arrival: float) -> bool:
        """One message to its room (a room removed by a reload ignores it); True if it went there."""
        room, conn = self.rooms.get(room_name), self.links.get(room_name)
        if room is None or conn is None:
            return False
        routes = conn.routes.get(topic, [])
        for kind, node in routes:
            if kind == "state":
                room.state(node, payload, arrival)
            else:
                room.availability(node, payload)
        return bool(routes)

    def _check_rooms(self, now: float) -> None:
        """Availability (`online` while a node is live) and discovery (what the nodes carry)."""
        for name, room in self.rooms.items():
            conn = self.links[name]
            live = len(room.live(now))
            if (live > 0) != self._online[name]:
                self._online[name] = live > 0
                conn.set_retained(conn.topics["availability"], b"online" if live else b"offline")
                event(log, "room_online" if live else "room_offline", logging.INFO if live else logging.WARNING, room=name, live=live)
            fields = room.fields(now)
            if fields is not None and fields != self._fields[name]:
                self._fields[name] = fields
                m = self.cfg.mqtt
                conn.set_discovery(room_discovery(self.cfg.fuse.site, name, m.topic_prefix, m.discovery_prefix, fields))

    def _health(self, now: float) -> None:
        for name, room in self.rooms.items():
            conn = self.links[name]
            health = {**room.health(now), **conn.status(), **self.counters}
            conn.health(health)
            event(log, "room_health", room=name, live=health["nodes_live"], stale=health["nodes_stale"],
                  missing=health["nodes_missing"], late=health["states_late"], fused=health["fused"])  # fmt: skip

    def _reload(self) -> None:
        from csi_edge.errors import CsiEdgeError

        self.reload_requested = False
        if self.reload_config is None:
            return
        try:
            cfg = self.reload_config()
        except CsiEdgeError as exc:
            event(log, "reload_failed", logging.ERROR, error=str(exc))
            return
        self.reload(cfg)
