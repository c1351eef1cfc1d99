"""Home Assistant MQTT discovery: one device per node, its entities read the state/health topics.

Config topics (retained): `<discovery_prefix>/<component>/<node_id>/<object>/config` with
node_id = `csi_edge_<node>`. Entities:

| object | component | reads | notes |
|---|---|---|---|
| activity | sensor | state `activity` | device_class enum, options = the model's classes |
| position_x/y/z | sensor | state `position.x/y/z` | metres, device_class distance; only for a model that publishes positions |
| confidence | sensor | state `confidence` | 0..1 |
| presence | binary_sensor | state `presence` | device_class occupancy |
| link_quality | sensor | health `100 - loss_percent` | %, diagnostic |
| packet_rate | sensor | health `packet_rate_Hz` | Hz, diagnostic |
| recalibration_needed | binary_sensor | health `recalibrate` | device_class problem, diagnostic |
| drift | sensor | health `drift` | dB, diagnostic (unknown while no baseline is loaded) |
| recalibrate | button | -> `<prefix>/<node>/command` | presses publish `recalibrate` (the daemon records a new baseline) |
| novelty | sensor | state `novelty` | 0..1; only for a model with a novelty calibration (then `activity` may be `unknown`) |

A daemon with several links and a per-link model (`fields.links`) publishes each link's states
on `<prefix>/<node>/<link>/state`: the state entities are then announced once per link, with
object ids and names prefixed by the link (`north_activity`, "north Activity").

Every entity names the device (identifiers, name, model, sw_version) and the availability topic
(`online` / `offline`, the last will). Entities the current model does not publish (positions
from a model without measured position skill) map to None: the publisher sends an empty
retained config for them, which removes an entity a previous model created.
"""

from __future__ import annotations

from csi_edge import __version__
from csi_edge.model.postprocess import UNKNOWN
from csi_edge.results import StateFields

POSITION_OBJECTS = tuple(f"position_{axis}" for axis in "xyz")


def device_id(node: str) -> str:
    return f"csi_edge_{node}"


def discovery_configs(node: str, topic_prefix: str, discovery_prefix: str, fields: StateFields) -> dict[str, dict | None]:
    """config topic -> payload for every entity of this node (None: the entity is removed)."""
    classes, model_id = fields.classes, fields.model_id
    options = list(classes) + ([UNKNOWN] if fields.novelty else [])
    base = f"{topic_prefix}/{node}"
    uid = device_id(node)
    device = {
        "identifiers": [uid],
        "name": f"csi-edge {node}",
        "manufacturer": "csi-edge",
        "model": f"ESP32-S3 CSI sensor ({model_id})",
        "sw_version": __version__,
    }
    common: dict[str, object] = {
        "device": device,
        "availability_topic": f"{base}/availability",
        "payload_available": "online",
        "payload_not_available": "offline",
    }
    health = f"{base}/health"
    entities: dict[tuple[str, str], dict[str, object]] = {}
    for link in fields.links or (None,):  # per link, or the node's one state topic
        state = f"{base}/state" if link is None else f"{base}/{link}/state"
        pre, name = ("", "") if link is None else (f"{link}_", f"{link} ")
        entities.update({
            ("sensor", f"{pre}activity"): {"name": f"{name}Activity", "state_topic": state, "value_template": "{{ value_json.activity }}",
                                           "device_class": "enum", "options": options, "icon": "mdi:human"},
            ("sensor", f"{pre}confidence"): {"name": f"{name}Activity confidence", "state_topic": state,
                                             "value_template": "{{ value_json.confidence }}", "state_class": "measurement"},
            ("binary_sensor", f"{pre}presence"): {"name": f"{name}Presence", "state_topic": state, "device_class": "occupancy",
                                                  "value_template": "{{ 'ON' if value_json.presence else 'OFF' }}",
                                                  "payload_on": "ON", "payload_off": "OFF"},
        })  # fmt: skip
    entities.update({
        ("sensor", "link_quality"): {"name": "Link quality", "state_topic": health, "unit_of_measurement": "%",
                                     "value_template": "{{ (100 - value_json.loss_percent) | round(1) }}",
                                     "state_class": "measurement", "entity_category": "diagnostic", "icon": "mdi:wifi"},
        ("sensor", "packet_rate"): {"name": "Packet rate", "state_topic": health, "unit_of_measurement": "Hz",
                                    "value_template": "{{ value_json.packet_rate_Hz }}", "state_class": "measurement",
                                    "entity_category": "diagnostic", "icon": "mdi:speedometer"},
    })
    entities.update(_calibration_entities(base))
    out: dict[str, dict | None] = {}
    for (component, obj), body in entities.items():
        out[f"{discovery_prefix}/{component}/{uid}/{obj}/config"] = {**body, "unique_id": f"{uid}_{obj}", **common}
    for link in fields.links or (None,):
        state = f"{base}/state" if link is None else f"{base}/{link}/state"
        pre, name = ("", "") if link is None else (f"{link}_", f"{link} ")
        out[f"{discovery_prefix}/sensor/{uid}/{pre}novelty/config"] = None if not fields.novelty else {
            "name": f"{name}Novelty", "state_topic": state, "value_template": "{{ value_json.novelty }}", "state_class": "measurement",
            "icon": "mdi:help-circle-outline", "unique_id": f"{uid}_{pre}novelty", **common,
        }  # fmt: skip
        for axis, obj in zip("xyz", POSITION_OBJECTS, strict=True):
            topic = f"{discovery_prefix}/sensor/{uid}/{pre}{obj}/config"
            out[topic] = None if not fields.position else {
                "name": f"{name}Position {axis}", "state_topic": state, "unit_of_measurement": "m", "device_class": "distance",
                "state_class": "measurement", "unique_id": f"{uid}_{pre}{obj}", **common,
                "value_template": f"{{{{ value_json.position.{axis} if value_json.position else none }}}}",
            }  # fmt: skip
    return out


def _calibration_entities(base: str) -> dict[tuple[str, str], dict[str, object]]:
    """Site calibration (csi_edge.calibration): is recalibration needed, the drift, the button."""
    health = f"{base}/health"
    return {
        ("binary_sensor", "recalibration_needed"): {
            "name": "Recalibration needed", "state_topic": health, "device_class": "problem",
            "value_template": "{{ 'ON' if value_json.recalibrate else 'OFF' }}", "payload_on": "ON", "payload_off": "OFF",
            "entity_category": "diagnostic"},
        ("sensor", "drift"): {
            "name": "Drift from baseline", "state_topic": health, "unit_of_measurement": "dB", "state_class": "measurement",
            "value_template": "{{ value_json.drift if value_json.drift is not none else none }}",
            "entity_category": "diagnostic", "icon": "mdi:chart-bell-curve"},
        ("button", "recalibrate"): {
            "name": "Recalibrate (room empty)", "command_topic": f"{base}/command", "payload_press": "recalibrate",
            "entity_category": "config", "icon": "mdi:tune-vertical"},
    }  # fmt: skip
