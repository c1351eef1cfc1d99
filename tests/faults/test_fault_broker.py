"""The broker goes away, never comes, refuses us, or cannot be verified: the operator is told
why, with host:port, at once and then on a schedule; health says why; nothing is lost that the
bounded queue can hold; the daemon never exits for it."""

from __future__ import annotations

import json
import signal
import subprocess

import pytest
from daemon_harness import DaemonProcess, PtyBoard
from fault_support import run_args, tls_listener

from csi_edge.tools.procs import free_port

pytestmark = pytest.mark.timeout(150)

IDLE_SOURCE = "udp:127.0.0.1:0"  # a source that never sends and never ends: only the broker matters here


def _health(daemon: DaemonProcess, predicate, timeout: float = 30.0) -> dict:
    return daemon.wait_json(lambda o: o["topic"] == "health" and predicate(o), timeout=timeout)


def test_broker_killed_and_restarted(tmp_path, mosquitto_factory, subscriber_factory, model):
    broker = mosquitto_factory()
    sub = subscriber_factory(broker, ["csi-edge/killed/state"])
    board = PtyBoard(tmp_path / "csi-edge-rx", speed=10.0)
    daemon = DaemonProcess(run_args(f"serial:{board.link}", "killed", model, broker=broker))
    try:
        sub.wait_for(lambda m: len(m) >= 2, timeout=60)
        broker.stop(signal.SIGKILL)
        lost = daemon.wait_log("mqtt_disconnected")
        failed = daemon.wait_log("mqtt_connect_failed")
        down = _health(daemon, lambda o: o["broker_connected"] is False and o["publish_queue_depth"] > 0)
        broker.start()  # the same port
        back = daemon.wait_log("mqtt_connected")
        up = _health(daemon, lambda o: o["broker_connected"] and o["results"] > down["results"] + 2)
        after = sub.wait_for(lambda m: any(json.loads(p)["seq"] > down["results"] for _, p, _ in m), timeout=60)
        code = daemon.terminate()
    finally:
        daemon.kill()
        board.close()
    assert code == 0
    assert "warning" in lost and "warning" in failed
    assert f"host=127.0.0.1 port={broker.port}" in failed and 'reason="connection refused (ECONNREFUSED)"' in failed
    assert down["broker_error"] == "connection refused (ECONNREFUSED)" and down["broker_connect_failures"] >= 1
    assert up["broker_error"] is None and up["publish_dropped"] == 0
    assert "failed_attempts=" in back and after


def test_broker_never_up_at_start_then_up_delivers_what_waited(tmp_path, mosquitto_factory, model):
    broker = mosquitto_factory()
    broker.stop()  # its port is closed when the daemon starts
    port = broker.port
    board = PtyBoard(tmp_path / "csi-edge-rx", speed=10.0)
    daemon = DaemonProcess(run_args(f"serial:{board.link}", "late", model, broker=broker))
    try:
        first = daemon.wait_log("mqtt_connect_failed")
        waiting = _health(daemon, lambda o: o["publish_queue_depth"] >= 3)
        broker.start()
        daemon.wait_log("mqtt_connected")
        done = _health(daemon, lambda o: o["broker_connected"] and o["publish_delivered"] >= waiting["results"], timeout=60)
        code = daemon.terminate()
    finally:
        daemon.kill()
        board.close()
    assert code == 0
    assert f"port={port}" in first and "connection refused" in first
    assert waiting["broker_connected"] is False and waiting["broker_error"].startswith("connection refused")
    assert done["publish_dropped"] == 0  # every result that waited for the broker reached it


def test_closed_port_is_reported_at_once_and_then_on_a_schedule(model):
    port = free_port()
    daemon = DaemonProcess(run_args(IDLE_SOURCE, "closed", model, "--set", "mqtt.warn_every_s=1", broker=f"mqtt://127.0.0.1:{port}"))
    try:
        first = daemon.wait_log("mqtt_connect_failed")
        again = daemon.wait_log("failures_since_last_report=")
        health = _health(daemon, lambda o: o["broker_connect_failures"] >= 3)
        code = daemon.terminate()
    finally:
        daemon.kill()
    assert code == 0
    assert f"host=127.0.0.1 port={port}" in first and "failures=1" in first and "connection refused" in first
    assert "mqtt_connect_failed" in again  # the same failure, repeated at most every warn_every_s with a count
    assert health["broker_connected"] is False and health["broker_error"] == "connection refused (ECONNREFUSED)"
    stopped = next(line for line in daemon.err_lines if "mqtt_stopped" in line)
    assert "broker_error=" in stopped


def _first_connect_failure(model, node: str, *mqtt_args: str) -> tuple[str, dict, int]:
    """A daemon whose broker cannot be reached: its first `mqtt_connect_failed` log line, the
    first health report naming the broker error, and its exit code after SIGTERM."""
    daemon = DaemonProcess(["--source", IDLE_SOURCE, "--node", node, "--model", str(model), "--jsonl", "-", *mqtt_args,
                            "--set", "health.interval_s=1"])  # fmt: skip
    try:
        line = daemon.wait_log("mqtt_connect_failed")
        health = _health(daemon, lambda o: o["broker_error"] is not None)
        code = daemon.terminate()
    finally:
        daemon.kill()
    return line, health, code


def test_unknown_host_says_so(model):
    line, health, code = _first_connect_failure(model, "nohost", "--mqtt", "mqtt://no-such-host.invalid:1883")
    assert code == 0
    assert "host=no-such-host.invalid port=1883" in line and "unknown host" in line
    assert health["broker_error"].startswith("unknown host")


@pytest.mark.parametrize("case", ["wrong CA", "hostname mismatch"])
def test_tls_verification_failure_names_the_reason(tmp_path, mosquitto_factory, pki, model, case):
    broker = mosquitto_factory(extra=tls_listener(pki))
    ca, host = (pki / "other-ca.pem", "127.0.0.1") if case == "wrong CA" else (pki / "ca.pem", "localhost")
    line, health, code = _first_connect_failure(model, "tls", "--mqtt", f"mqtts://{host}:{broker.port}", "--set", f"mqtt.ca_file={ca}")
    assert code == 0
    assert f"port={broker.port}" in line and "TLS certificate verification failed" in line
    # OpenSSL's words: the broker's chain ends in a CA we do not trust / the name is not in the certificate
    expected = ("unable to get local issuer certificate", "self-signed certificate in certificate chain") \
        if case == "wrong CA" else ("Hostname mismatch",)
    assert any(e in line and e in health["broker_error"] for e in expected), line
    assert health["broker_connected"] is False


def test_refused_credentials_are_explained_and_the_password_never_shown(tmp_path, mosquitto_factory, model):
    subprocess.run(["mosquitto_passwd", "-c", "-b", str(tmp_path / "passwd"), "edge", "right-s3cret"], check=True,
                   capture_output=True, timeout=30)  # fmt: skip
    broker = mosquitto_factory(extra=[f"password_file {tmp_path / 'passwd'}"], anonymous=False)
    url = f"mqtt://edge@127.0.0.1:{broker.port}"
    wrong = DaemonProcess(run_args(IDLE_SOURCE, "auth", model, broker=url), env={"CSI_EDGE_MQTT_PASSWORD": "wrong-s3cret"})
    try:
        refused = wrong.wait_log("mqtt_refused")
        health = _health(wrong, lambda o: o["broker_error"] is not None)
        assert wrong.terminate() == 0
    finally:
        wrong.kill()
    (tmp_path / "password").write_text("right-s3cret\n")
    (tmp_path / "password").chmod(0o600)
    right = DaemonProcess(run_args(IDLE_SOURCE, "auth", model, "--set", f"mqtt.password_file={tmp_path / 'password'}", broker=url))
    try:
        right.wait_log("mqtt_connected")
        ok = _health(right, lambda o: o["broker_connected"])
        assert right.terminate() == 0
    finally:
        right.kill()
    assert f"port={broker.port}" in refused and "Not authorized" in refused
    assert health["broker_connected"] is False and health["broker_error"] == "refused by the broker: Not authorized"
    assert ok["broker_error"] is None
    everything = "\n".join(wrong.err_lines + wrong.out_lines + right.err_lines + right.out_lines)
    assert "s3cret" not in everything


def test_a_reload_does_not_pretend_to_reconnect(tmp_path, mosquitto_factory, model):
    """SIGHUP re-announces Home Assistant discovery; it is not a broker connection."""
    from csi_edge.tools.bench.tiny_model import build_tiny_model

    broker = mosquitto_factory()
    tiny = build_tiny_model(tmp_path / "m", name="live", seed=1)
    board = PtyBoard(tmp_path / "csi-edge-rx", speed=10.0)
    daemon = DaemonProcess(run_args(f"serial:{board.link}", "reload", tiny, broker=broker))
    try:
        daemon.wait_log("mqtt_connected")
        daemon.wait_json(lambda o: o["topic"] == "state", timeout=60)
        build_tiny_model(tmp_path / "m", name="live", seed=2)
        daemon.proc.send_signal(signal.SIGHUP)
        daemon.wait_log("model_reloaded")
        daemon.wait_json(lambda o: o["topic"] == "state" and o["model"].startswith("live@"), timeout=30)
        code = daemon.terminate()
    finally:
        daemon.kill()
        board.close()
    assert code == 0
    assert sum("mqtt_connected" in line for line in daemon.err_lines) == 1  # read after the daemon stopped
