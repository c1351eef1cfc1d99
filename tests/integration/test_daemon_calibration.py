"""Site calibration end to end: `csi-edge calibrate` on the simulator, `csi-edge run --baseline`
with a real mosquitto, the drift alarm, recalibration over MQTT, refusal of another link.

The simulator's day 1 is the reference room and day 3 has the furniture moved (same boards,
same link). Baselines are recorded from a day-1 empty room with another seed than the stream.
The simulator runs as fast as it can (`sim.realtime=false`), so minutes of stream take seconds.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from daemon_harness import REPO, DaemonProcess
from test_daemon import model_path  # noqa: F401 - fixture reuse

pytestmark = pytest.mark.timeout(180)

FAST_SIM = ["--set", "sim.realtime=false", "--set", "sim.activity=empty"]


@pytest.fixture(scope="module")
def day1_baseline(tmp_path_factory):
    out = tmp_path_factory.mktemp("baseline") / "day1.json"
    cmd = [sys.executable, "-m", "csi_edge.cli", "calibrate", "--source", "sim", *FAST_SIM, "--set", "sim.seed=7",
           "--seconds", "20", "--out", str(out), "--no-progress"]
    done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert f"wrote {out}" in done.stderr
    return out


def _daemon(model, baseline, node: str, day: int, seconds: int, *extra: str, broker=None) -> DaemonProcess:
    args = ["--source", "sim", *FAST_SIM, "--set", f"sim.day={day}", "--model", str(model), "--baseline", str(baseline),
            "--node", node, "--jsonl", "-", "--set", "health.interval_s=0.5", "--seconds", str(seconds), *extra]
    args += ["--mqtt", broker.url] if broker is not None else ["--no-mqtt"]
    return DaemonProcess(args)


def test_the_baseline_file_holds_the_link_and_the_empty_room(day1_baseline):
    data = json.loads(day1_baseline.read_text())
    assert data["schema"] == "csi-edge/baseline/1" and len(data["profile"]) == 52 and len(data["spread"]) == 52
    assert data["link"]["channel"] == 11 and data["link"]["bandwidth_MHz"] == 40
    assert data["link"]["rx_mac"] and data["link"]["tx_mac"]  # from the simulated board's HELLO
    assert data["seconds"] >= 20 and data["motion"]["p50"] == pytest.approx(1.0, abs=0.1)


def test_same_day_stream_raises_no_alert(day1_baseline, model_path):  # noqa: F811
    daemon = _daemon(model_path, day1_baseline, "same", day=1, seconds=120)
    try:
        assert daemon.proc.wait(120) == 0, daemon.err_lines[-5:]
    finally:
        daemon.kill()
    health = daemon.json_lines("health")
    quiet = [h for h in health if h["calibration"]["quiet_s"] > 0]
    assert quiet and max(h["calibration"]["quiet_s"] for h in quiet) > 60  # the drift was watched for over a minute
    assert not any(h["recalibrate"] for h in health)
    assert max(h["drift"] for h in quiet) < 0.5


def test_furniture_moved_raises_the_alert_and_recalibration_over_mqtt_clears_it(
        day1_baseline, model_path, mosquitto, subscriber_factory):  # noqa: F811
    node = "moved"
    sub = subscriber_factory(mosquitto, [f"csi-edge/{node}/health", f"homeassistant/binary_sensor/csi_edge_{node}/#"])
    daemon = _daemon(model_path, day1_baseline, node, 3, 900, "--set", "calibration.seconds=10", broker=mosquitto)
    try:
        got = sub.wait_for(lambda m: any(t.endswith("/health") and json.loads(p)["recalibrate"] for t, p, _ in m), timeout=90)
        alarm = json.loads(next(p for t, p, _ in got if t.endswith("/health") and json.loads(p)["recalibrate"]))
        sub.client.publish(f"csi-edge/{node}/command", "recalibrate", qos=1)
        cleared = sub.wait_for(lambda m: any(t.endswith("/health") and json.loads(p)["calibration"]["recalibrations"] == 1
                                             for t, p, _ in m), timeout=90)
        after = [json.loads(p) for t, p, _ in cleared if t.endswith("/health")]
        daemon.wait_log("recalibrated origin=mqtt")
        assert daemon.terminate() == 0
    finally:
        daemon.kill()
    assert alarm["drift"] > 1.5 and alarm["calibration"]["state"] == "drift"
    assert alarm["calibration"]["quiet_s"] <= 60  # raised within 60 s of furniture-moved stream
    done = next(h for h in after if h["calibration"]["recalibrations"] == 1)
    assert done["recalibrate"] is False and done["commands"]["recalibrate"] == 1
    sensors = {t: json.loads(p) for t, p, _ in got if t.startswith("homeassistant/") and p}
    assert f"homeassistant/binary_sensor/csi_edge_{node}/recalibration_needed/config" in sensors


def test_a_baseline_from_another_link_is_refused(day1_baseline, model_path, tmp_path):  # noqa: F811
    data = json.loads(day1_baseline.read_text())
    data["link"]["channel"] = 6
    other = tmp_path / "other-link.json"
    other.write_text(json.dumps(data))
    daemon = _daemon(model_path, other, "refuse", day=1, seconds=30)
    try:
        code = daemon.proc.wait(60)
    finally:
        daemon.kill()
    errors = [line for line in daemon.err_lines if line.startswith("csi-edge run: error:")]
    assert code == 1 and len(errors) == 1 and "Traceback" not in "".join(daemon.err_lines)
    assert f"{other}: baseline recorded on another link (channel 6 (stream: 11))" in errors[0]


def test_sighup_with_the_request_file_recalibrates(day1_baseline, model_path, tmp_path):  # noqa: F811
    import signal

    request = tmp_path / "recalibrate"
    saved = tmp_path / "baseline.json"
    saved.write_bytes(day1_baseline.read_bytes())
    daemon = _daemon(model_path, saved, "hup", 3, 900, "--set", f"calibration.request_file={request}",
                     "--set", "calibration.seconds=5")
    try:
        daemon.wait_log("ready")
        daemon.proc.send_signal(signal.SIGHUP)  # without the file: only the model is reloaded
        daemon.wait_log("model_reloaded")
        request.touch()
        daemon.proc.send_signal(signal.SIGHUP)
        daemon.wait_log("recalibration_started origin=signal")
        daemon.wait_log("baseline_saved")
        assert daemon.terminate() == 0
    finally:
        daemon.kill()
    assert not request.exists()  # consumed
    assert sum("recalibration_started" in line for line in daemon.err_lines) == 1
    assert json.loads(saved.read_text())["created"] != json.loads(day1_baseline.read_text())["created"]


def test_automatic_recalibration_after_confident_emptiness_records_the_first_baseline(model_path, tmp_path):  # noqa: F811
    path = tmp_path / "first.json"  # a service's first start: no baseline yet
    daemon = _daemon(model_path, path, "auto", 1, 240, "--set", "calibration.auto_minutes=0.5",
                     "--set", "calibration.auto_confidence=0.5", "--set", "sim.seed=3")  # the model must call the room empty
    try:
        daemon.wait_log("baseline_missing")
        daemon.wait_log("recalibrated origin=auto")
        after = daemon.wait_json(lambda o: o["topic"] == "health" and o["calibration"]["recalibrations"] == 1)
        assert daemon.terminate() == 0
    finally:
        daemon.kill()
    baseline = json.loads(path.read_text())
    assert baseline["seconds"] >= 29 and baseline["link"]["channel"] == 11
    assert after["calibration"]["state"] in ("ok", "drift") and after["recalibrate"] is False
