"""Publishers without a network: the bounded offline queue, discovery payloads, JSON lines."""

from __future__ import annotations

import json

from csi_edge.config import load_config
from csi_edge.publish.base import PUBLISHERS, build_publishers, publisher_class
from csi_edge.publish.discovery import discovery_configs
from csi_edge.publish.jsonl import JsonLinesPublisher
from csi_edge.publish.mqtt import MqttPublisher
from csi_edge.results import StateFields


def test_offline_queue_is_bounded_drops_oldest_and_counts():
    cfg = load_config(None, {"mqtt.host": "127.0.0.1", "mqtt.port": 1, "mqtt.queue_size": 10})
    pub = MqttPublisher(cfg.mqtt, "n1")  # never started: the broker is away
    for i in range(1, 51):
        pub.state({"seq": i})
    status = pub.status()
    assert status == {"broker_connected": False, "broker_error": "not connected yet", "broker_connect_failures": 0,
                      "publish_queue_depth": 10, "publish_dropped": 40, "publish_delivered": 0}
    assert [json.loads(body)["seq"] for _, body in pub._pending] == list(range(41, 51))  # the newest are kept
    assert len(pub.client._out_messages) == 0  # nothing piles up inside paho while disconnected


def test_will_and_topics():
    cfg = load_config(None, {"mqtt.topic_prefix": "lab"})
    pub = MqttPublisher(cfg.mqtt, "n2")
    assert pub.topics == {"state": "lab/n2/state", "health": "lab/n2/health", "availability": "lab/n2/availability",
                          "command": "lab/n2/command"}
    assert pub.client._will_topic == b"lab/n2/availability" and pub.client._will_payload == b"offline"
    assert pub.client._will_retain and pub.client._will_qos == 1


def test_discovery_payloads_group_entities_under_one_device():
    fields = StateFields("m@0123456789ab", ("empty", "walking"), position=True)
    configs = {t: c for t, c in discovery_configs("kitchen", "csi-edge", "homeassistant", fields).items() if c is not None}
    assert len(configs) == 11
    ids = {c["unique_id"] for c in configs.values()}
    assert len(ids) == 11
    for topic, c in configs.items():
        assert topic.startswith("homeassistant/") and topic.endswith("/config")
        assert c["device"]["identifiers"] == ["csi_edge_kitchen"]
        assert c["availability_topic"] == "csi-edge/kitchen/availability"
        if "/button/" in topic:
            assert c["command_topic"] == "csi-edge/kitchen/command" and c["payload_press"] == "recalibrate"
        else:
            assert c["state_topic"] in ("csi-edge/kitchen/state", "csi-edge/kitchen/health")
    activity = configs["homeassistant/sensor/csi_edge_kitchen/activity/config"]
    assert activity["options"] == ["empty", "walking"] and activity["device_class"] == "enum"
    presence = configs["homeassistant/binary_sensor/csi_edge_kitchen/presence/config"]
    assert presence["device_class"] == "occupancy"
    assert configs["homeassistant/sensor/csi_edge_kitchen/position_x/config"]["unit_of_measurement"] == "m"


def test_discovery_removes_position_entities_of_a_model_without_position_skill():
    configs = discovery_configs("kitchen", "csi-edge", "homeassistant", StateFields("m@0", ("empty", "walking"), position=False))
    removed = sorted(t for t, c in configs.items() if c is None)
    assert removed == ["homeassistant/sensor/csi_edge_kitchen/novelty/config"] + [
        f"homeassistant/sensor/csi_edge_kitchen/position_{a}/config" for a in "xyz"]
    assert len(configs) - len(removed) == 8


def test_discovery_has_recalibration_entities_and_novelty_only_for_a_calibrated_model():
    plain = discovery_configs("k", "csi-edge", "homeassistant", StateFields("m@0", ("empty", "walking"), position=False))
    needed = plain["homeassistant/binary_sensor/csi_edge_k/recalibration_needed/config"]
    assert needed["state_topic"] == "csi-edge/k/health" and needed["device_class"] == "problem"
    assert "value_json.recalibrate" in needed["value_template"]
    drift = plain["homeassistant/sensor/csi_edge_k/drift/config"]
    assert drift["unit_of_measurement"] == "dB" and drift["entity_category"] == "diagnostic"
    assert plain["homeassistant/sensor/csi_edge_k/activity/config"]["options"] == ["empty", "walking"]
    novel = discovery_configs("k", "csi-edge", "homeassistant", StateFields("m@0", ("empty", "walking"), False, novelty=True))
    assert novel["homeassistant/sensor/csi_edge_k/activity/config"]["options"] == ["empty", "walking", "unknown"]
    assert novel["homeassistant/sensor/csi_edge_k/novelty/config"]["value_template"] == "{{ value_json.novelty }}"


def test_publishers_are_built_from_the_registry_by_what_the_config_enables(tmp_path):
    assert set(PUBLISHERS) == {"mqtt", "jsonl", "web"}
    assert all(publisher_class(kind).kind == kind for kind in PUBLISHERS)
    both = build_publishers(load_config(None, {"publish.jsonl": str(tmp_path / "r.jsonl")}), "n")
    assert [p.kind for p in both.publishers] == ["mqtt", "jsonl"]
    none = build_publishers(load_config(None, {"mqtt.enabled": False}), "n")
    assert none.publishers == []


def test_json_lines_publisher_writes_one_object_per_line(tmp_path):
    out = tmp_path / "r.jsonl"
    pub = JsonLinesPublisher(str(out))
    pub.start()
    pub.state({"seq": 1, "activity": "walking"})
    pub.health({"packet_rate_Hz": 100.0})
    pub.stop(0)
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert lines == [{"topic": "state", "seq": 1, "activity": "walking"}, {"topic": "health", "packet_rate_Hz": 100.0}]
