"""End-to-end: simulated board on a real pty -> `csi-edge run` (subprocess) -> real mosquitto.

Uses models/default.* when the training engineer has shipped it (then the published activity
must match the simulator's ground truth); otherwise a tiny ONNX model built here, which
exercises every stage but knows nothing about activities.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import jsonschema
import numpy as np
import pytest
from daemon_harness import REPO, DaemonProcess, PtyBoard

from csi_edge.model.card import load_card, publishes_position

pytestmark = pytest.mark.timeout(120)

STATE_SCHEMA = {
    "type": "object",
    "required": ["time", "activity", "probabilities", "position", "confidence", "model", "seq", "node", "latency_ms"],
    "properties": {
        "time": {"type": "string", "pattern": r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$"},
        "seq": {"type": "integer", "minimum": 1},
        "node": {"type": "string"},
        "model": {"type": "string", "pattern": r"^.+@[0-9a-f]{12}$"},
        "activity": {"type": "string"},
        "probabilities": {"type": "object", "additionalProperties": {"type": "number", "minimum": 0, "maximum": 1}, "minProperties": 2},
        "confidence": {"type": "number", "minimum": 0, "maximum": 1},
        "presence": {"type": ["boolean", "null"]},
        "position": {
            "oneOf": [
                {"type": "null"},
                {"type": "object", "required": ["x", "y", "z"], "properties": {a: {"type": "number"} for a in "xyz"}},
            ]
        },
        "packet_seq": {"type": "integer"},
        "latency_ms": {"type": "number", "minimum": 0},
    },
}
HA_REQUIRED = ("name", "unique_id", "state_topic", "device", "availability_topic")
DEFAULT_MODEL = REPO / "models" / "default"


@pytest.fixture(scope="module")
def model_path(tmp_path_factory) -> Path:
    if (REPO / "models" / "default.json").exists():
        return DEFAULT_MODEL
    from csi_edge.tools.bench.tiny_model import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("model"))


def _run_args(board: PtyBoard, broker, node: str, model: Path, *extra: str) -> list[str]:
    args = ["--source", f"serial:{board.link}", "--node", node, "--model", str(model), "--jsonl", "-",
            "--set", "health.interval_s=1", "--set", "source.reconnect_min_s=0.1", "--set", "source.reconnect_max_s=0.5"]
    args += ["--mqtt", broker.url] if broker is not None else ["--no-mqtt"]
    return args + list(extra)


def test_end_to_end_state_discovery_and_clean_shutdown(tmp_path, mosquitto, subscriber_factory, model_path):
    node = "e2e"
    sub = subscriber_factory(mosquitto, [f"csi-edge/{node}/#", "homeassistant/#"])
    board = PtyBoard(tmp_path / "csi-edge-rx", speed=10.0, activity="walking")
    daemon = DaemonProcess(_run_args(board, mosquitto, node, model_path))
    try:
        got = sub.wait_for(lambda m: sum(t.endswith("/state") for t, _, _ in m) >= 8, timeout=60)
        code = daemon.terminate()
        got += sub.wait_for(lambda m: any(t.endswith("/availability") and p == b"offline" for t, p, _ in m), timeout=20)
    finally:
        daemon.kill()
        board.close()
    assert code == 0, daemon.err_lines[-5:]
    states = [json.loads(p) for t, p, _ in got if t == f"csi-edge/{node}/state"]
    for s in states:
        jsonschema.validate(s, STATE_SCHEMA)
        assert abs(sum(s["probabilities"].values()) - 1.0) < 1e-3
        assert s["activity"] in s["probabilities"]
    assert [s["seq"] for s in states] == list(range(states[0]["seq"], states[0]["seq"] + len(states)))
    availability = [p for t, p, _ in got if t.endswith("/availability")]
    assert availability[0] == b"online" and availability[-1] == b"offline"
    discovery = [(t, p) for t, p, _ in got if t.startswith("homeassistant/") and t.endswith("/config")]
    configs = {t: json.loads(p) for t, p in discovery if p}
    removed = {t for t, p in discovery if not p}  # entities this model does not publish
    components = Counter(t.split("/")[1] for t in configs)
    position_topics = {f"homeassistant/sensor/csi_edge_{node}/position_{a}/config" for a in "xyz"}
    card = load_card(model_path)[0]
    novelty_topics = set() if card.novelty is not None else {f"homeassistant/sensor/csi_edge_{node}/novelty/config"}
    sensors = 5 + (card.novelty is not None)  # activity, confidence, link quality, packet rate, drift (+ novelty)
    if publishes_position(card, 0.8):  # measured skill: Position x/y/z sensors
        assert components["sensor"] == sensors + 3 and removed == novelty_topics
        assert {configs[t]["unit_of_measurement"] for t in position_topics} == {"m"}
    else:  # no measured position skill: no position in any message, no entity for it
        assert components["sensor"] == sensors and removed == position_topics | novelty_topics
        assert all(s["position"] is None for s in states)
    assert components["binary_sensor"] == 2 and components["button"] == 1  # presence, recalibration needed; recalibrate
    assert all(s["position"] is None for s in states if s["presence"] is False)
    for topic, cfg in configs.items():
        for field in HA_REQUIRED if "/button/" not in topic else ("command_topic", *HA_REQUIRED[:2], *HA_REQUIRED[3:]):
            assert cfg.get(field), f"{topic} lacks {field}"
        assert cfg["availability_topic"] == f"csi-edge/{node}/availability"
        assert cfg["device"]["identifiers"] == [f"csi_edge_{node}"]
    activity = next(c for t, c in configs.items() if t.endswith("/activity/config"))
    unknown = ["unknown"] if card.novelty is not None else []
    assert activity["device_class"] == "enum" and activity["options"] == list(states[0]["probabilities"]) + unknown
    diagnostic = [c for c in configs.values() if c.get("entity_category") == "diagnostic"]
    assert {c.get("unit_of_measurement") for c in diagnostic} == {"%", "Hz", "dB", None}  # None: recalibration needed
    if model_path == DEFAULT_MODEL:  # a model that knows the simulator: it must see what the simulator did
        from csi_edge.tools.sim import ACTIVITIES

        truth = ACTIVITIES[int(np.bincount(board.truth_activity_codes()).argmax())]
        assert truth == "walking"
        assert Counter(s["activity"] for s in states[2:]).most_common(1)[0][0] == truth


def test_serial_replug_is_survived(tmp_path, model_path):
    board = PtyBoard(tmp_path / "csi-edge-rx", speed=10.0)
    daemon = DaemonProcess(_run_args(board, None, "replug", model_path))
    try:
        first = daemon.wait_json(lambda o: o["topic"] == "state", timeout=60)
        board.replug()
        daemon.wait_log("serial_lost")
        daemon.wait_log("serial_resumed")
        after = daemon.wait_json(lambda o: o["topic"] == "state" and o["seq"] > first["seq"] + 3, timeout=60)
        health = daemon.wait_json(lambda o: o["topic"] == "health" and o["source"]["reconnects"] >= 1)
        assert daemon.proc.poll() is None
        assert daemon.terminate() == 0
    finally:
        daemon.kill()
        board.close()
    assert health["source"]["connected"] is True and health["source"]["losses"] >= 1
    assert after["packet_seq"] > first["packet_seq"]


def test_garbage_in_the_stream_is_counted_and_survived(tmp_path, model_path):
    board = PtyBoard(tmp_path / "csi-edge-rx", speed=10.0)
    daemon = DaemonProcess(_run_args(board, None, "garbage", model_path))
    rng = np.random.default_rng(7)
    try:
        first = daemon.wait_json(lambda o: o["topic"] == "state", timeout=60)
        for _ in range(20):
            junk = rng.integers(0, 256, size=int(rng.integers(1, 400)), dtype=np.uint8).tobytes()
            board.inject(junk + b"\xc5\xed\x01\x01\xff\x00")  # includes a fake sync with a bad frame
        health = daemon.wait_json(lambda o: o["topic"] == "health" and sum(o["decode_errors"].values()) >= 10, timeout=60)
        later = daemon.wait_json(lambda o: o["topic"] == "state" and o["seq"] > first["seq"] + 10, timeout=60)
        assert daemon.terminate() == 0
    finally:
        daemon.kill()
        board.close()
    from csi_edge.decoder import ERROR_REASONS

    assert set(health["decode_errors"]) <= set(ERROR_REASONS)  # every failure is classified
    assert later["confidence"] > 0


def test_sighup_reloads_the_model_without_dropping_the_stream(tmp_path):
    from csi_edge.tools.bench.tiny_model import build_tiny_model

    model = build_tiny_model(tmp_path / "m", name="live", seed=1)
    board = PtyBoard(tmp_path / "csi-edge-rx", speed=10.0)
    daemon = DaemonProcess(_run_args(board, None, "reload", model))
    try:
        first = daemon.wait_json(lambda o: o["topic"] == "state", timeout=60)
        build_tiny_model(tmp_path / "m", name="live", seed=1, layouts=("none",))  # does not fit the HT40 stream
        daemon.proc.send_signal(1)  # SIGHUP
        refused = daemon.wait_log("reload_failed")
        kept = daemon.wait_json(lambda o: o["topic"] == "state" and o["seq"] > first["seq"] + 2, timeout=60)
        build_tiny_model(tmp_path / "m", name="live", seed=2)  # a new model that fits
        daemon.proc.send_signal(1)
        daemon.wait_log("model_reloaded")
        new = daemon.wait_json(lambda o: o["topic"] == "state" and o["model"] != first["model"], timeout=60)
        assert daemon.terminate() == 0
    finally:
        daemon.kill()
        board.close()
    assert "subcarrier layouts" in refused and kept["model"] == first["model"]
    assert not any("serial_lost" in line for line in daemon.err_lines)  # the stream was never dropped
    states = daemon.json_lines("state")
    i = next(k for k, o in enumerate(states) if o["model"] == new["model"])
    assert states[i - 1]["model"] == first["model"] and states[i]["seq"] == states[i - 1]["seq"] + 1
    # same window and feature: the ring was kept, so the first result of the new model came a
    # hop after the last of the old one, not a whole window (351 packets) later
    assert states[i]["packet_seq"] - states[i - 1]["packet_seq"] < 351


def test_model_whose_card_does_not_match_the_stream_is_refused(tmp_path):
    from csi_edge.tools.bench.tiny_model import build_tiny_model

    model = build_tiny_model(tmp_path / "m", name="ht20only", layouts=("none",))  # the board sends HT40 below
    board = PtyBoard(tmp_path / "csi-edge-rx", speed=10.0)
    daemon = DaemonProcess(_run_args(board, None, "mismatch", model))
    try:
        code = daemon.proc.wait(60)
    finally:
        daemon.kill()
        board.close()
    errors = [line for line in daemon.err_lines if line.startswith("csi-edge run: error:")]
    assert code == 1
    assert len(errors) == 1 and "subcarrier layouts ['none']" in errors[0] and "below" in errors[0]
    assert not any("Traceback" in line for line in daemon.err_lines)


def test_model_whose_onnx_does_not_match_its_card_is_refused_in_one_line(tmp_path):
    from csi_edge.tools.bench.tiny_model import build_tiny_model

    model = build_tiny_model(tmp_path / "m", name="tampered")
    onnx_file = model.with_suffix(".onnx")
    onnx_file.write_bytes(onnx_file.read_bytes() + b"\0")
    daemon = DaemonProcess(["--source", "replay:/dev/null", "--no-mqtt", "--model", str(model)])
    code = daemon.proc.wait(60)
    daemon.wait_log("sha256")  # all of stderr has been read once the line is there
    assert code == 1
    assert len(daemon.err_lines) == 1 and daemon.err_lines[0].startswith("csi-edge run: error:")
