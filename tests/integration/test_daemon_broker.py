"""Broker outage: mosquitto is stopped mid-run and started again on the same port.

The daemon also writes every result as a JSON line (stdout), which is the ground truth of what
was produced. A persistent subscriber (fixed client id, clean_session False, QoS 1) and a
broker with persistence make delivery independent of who reconnects first. With a large
buffer every result arrives; with a small one exactly the counted drops are missing.
"""

from __future__ import annotations

import json

import pytest
from daemon_harness import DaemonProcess, PtyBoard
from test_daemon import _run_args, model_path  # noqa: F401 - fixture reuse

pytestmark = pytest.mark.timeout(150)


def _quiet_results(daemon: DaemonProcess, at_least: int) -> int:
    """Wait for two consecutive health reports with the same result count; return it."""
    last = None
    while True:
        health = daemon.wait_json(lambda o: o["topic"] == "health" and o["results"] >= at_least, timeout=30)
        if health["results"] == last:
            return last
        last = health["results"]


def _outage(tmp_path, mosquitto_factory, subscriber_factory, model, node: str, queue_size: int):
    broker = mosquitto_factory(persistence=True)
    sub = subscriber_factory(broker, [f"csi-edge/{node}/state"], client_id=f"{node}-sub", persistent=True)
    board = PtyBoard(tmp_path / "csi-edge-rx", speed=10.0)
    daemon = DaemonProcess(_run_args(board, broker, node, model, "--set", f"mqtt.queue_size={queue_size}"))
    try:
        before = sub.wait_for(lambda m: len(m) >= 3, timeout=60)
        # quiesce: no result may be in flight between daemon, broker and subscriber when the
        # broker goes away, so that everything missing later is the daemon's doing
        board.pause()
        results = _quiet_results(daemon, at_least=3)
        before += sub.wait_for(lambda m: results == 3 or any(json.loads(x[1])["seq"] == results for x in m), timeout=30)
        broker.stop()  # the broker goes away mid-run
        board.resume()
        daemon.wait_log("mqtt_disconnected")
        # results pile up while the broker is away (and, past the bound, the oldest are dropped)
        daemon.wait_json(lambda o: o["topic"] == "health" and not o["broker_connected"]
                         and o["publish_queue_depth"] + o["publish_dropped"] >= 20, timeout=60)
        broker.start()
        daemon.wait_log("mqtt_connected")
        board.pause()  # stop producing so the queue can be seen empty (not merely in flight)
        daemon.wait_json(lambda o: o["topic"] == "health" and o["broker_connected"] and o["publish_queue_depth"] == 0, timeout=30)
        produced = [o["seq"] for o in daemon.json_lines("state")]
        assert daemon.terminate() == 0
        stopped = daemon.wait_log("mqtt_stopped")
    finally:
        daemon.kill()
        board.close()
    dropped = int(stopped.split("dropped=")[1].split()[0])
    received = {json.loads(payload)["seq"] for _, payload, _ in before}
    # wait (bounded) until everything not counted as dropped has reached the subscriber
    def settled(msgs) -> bool:
        received.update(json.loads(x[1])["seq"] for x in msgs[-1:])
        return len(set(produced) - received) <= dropped

    try:
        sub.wait_for(settled, timeout=20)
    except AssertionError:
        pass  # the assertions below say what is missing
    while not sub.messages.empty():
        received.add(json.loads(sub.messages.get()[1])["seq"])
    return produced, received, dropped


def test_broker_restart_delivers_every_result_produced_during_the_outage(tmp_path, mosquitto_factory, subscriber_factory, model_path):  # noqa: F811
    produced, received, dropped = _outage(tmp_path, mosquitto_factory, subscriber_factory, model_path, "outage", 100_000)
    assert dropped == 0
    missing = sorted(set(produced) - received)
    assert missing == [], f"{len(missing)} results never arrived: {missing[:10]}"


def test_broker_outage_longer_than_the_buffer_drops_oldest_and_counts(tmp_path, mosquitto_factory, subscriber_factory, model_path):  # noqa: F811
    produced, received, dropped = _outage(tmp_path, mosquitto_factory, subscriber_factory, model_path, "small", 5)
    missing = sorted(set(produced) - received)
    assert dropped > 0
    assert len(missing) == dropped  # every missing result is a counted drop, nothing else is lost
    assert missing == list(range(missing[0], missing[0] + len(missing)))  # the oldest of the outage went first
    newest_queued = [s for s in produced if s > missing[-1]]
    assert set(newest_queued) <= received and len(newest_queued) >= 5
