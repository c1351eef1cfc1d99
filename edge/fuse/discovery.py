"""Home Assistant discovery for the fused rooms: one device per room.

Config topics (retained): `<discovery_prefix>/<component>/csi_edge_<site>_<room>/<object>/config`.

| object | component | reads | notes |
|---|---|---|---|
| activity | sensor | state `activity` | device_class enum, options = the classes the room's nodes share |
| confidence | sensor | state `confidence` | 0..1 |
| presence | binary_sensor | state `presence` | device_class occupancy; only when the nodes' models have an `empty` class |
| position_x/y/z | sensor | state `position.x/y/z` | metres; only once a node of the room has published a position |
| links_live | sensor (diagnostic) | health `nodes_live` | |
| links_missing | sensor (diagnostic) | health `nodes_stale + nodes_missing` | |

Every entity names the room's availability topic (`online` while at least one node is live,
`offline` otherwise and as the fusion service's last will). Entities the room does not publish
map to None: an empty retained config removes them.
"""

from __future__ import annotations

from csi_edge import __version__
from csi_edge.fuse.room import RoomFields
from csi_edge.publish.discovery import POSITION_OBJECTS


def room_device_id(site: str, room: str) -> str:
    return f"csi_edge_{site}_{room}"


def room_discovery(site: str, room: str, topic_prefix: str, discovery_prefix: str, fields: RoomFields) -> dict[str, dict | None]:
    """config topic -> payload for every entity of the room (None: the entity is removed)."""
    base = f"{topic_prefix}/{site}/{room}"
    uid = room_device_id(site, room)
    common: dict[str, object] = {
        "device": {"identifiers": [uid], "name": f"csi-edge {site} {room}", "manufacturer": "csi-edge",
                   "model": "fused WiFi sensing links", "sw_version": __version__},
        "availability_topic": f"{base}/availability", "payload_available": "online", "payload_not_available": "offline",
    }  # fmt: skip
    state, health = f"{base}/state", f"{base}/health"
    entities: dict[tuple[str, str], dict | None] = {
        ("sensor", "activity"): {"name": "Activity", "state_topic": state, "value_template": "{{ value_json.activity }}",
                                 "device_class": "enum", "options": list(fields.classes), "icon": "mdi:human"},
        ("sensor", "confidence"): {"name": "Activity confidence", "state_topic": state,
                                   "value_template": "{{ value_json.confidence }}", "state_class": "measurement"},
        ("binary_sensor", "presence"): None if "empty" not in fields.classes else {
            "name": "Presence", "state_topic": state, "device_class": "occupancy", "payload_on": "ON", "payload_off": "OFF",
            "value_template": "{{ 'ON' if value_json.presence else 'OFF' }}"},
        ("sensor", "links_live"): {"name": "Links live", "state_topic": health, "value_template": "{{ value_json.nodes_live }}",
                                   "state_class": "measurement", "entity_category": "diagnostic", "icon": "mdi:access-point-network"},
        ("sensor", "links_missing"): {"name": "Links stale or missing", "state_topic": health,
                                      "value_template": "{{ value_json.nodes_stale + value_json.nodes_missing }}",
                                      "state_class": "measurement", "entity_category": "diagnostic", "icon": "mdi:access-point-network-off"},
    }  # fmt: skip
    for axis, obj in zip("xyz", POSITION_OBJECTS, strict=True):
        entities[("sensor", obj)] = None if not fields.position else {
            "name": f"Position {axis}", "state_topic": state, "unit_of_measurement": "m", "device_class": "distance",
            "state_class": "measurement", "value_template": f"{{{{ value_json.position.{axis} if value_json.position else none }}}}",
        }  # fmt: skip
    return {f"{discovery_prefix}/{component}/{uid}/{obj}/config": None if body is None else {**body, "unique_id": f"{uid}_{obj}", **common}
            for (component, obj), body in entities.items()}  # fmt: skip
