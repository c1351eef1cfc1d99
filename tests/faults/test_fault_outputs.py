"""A secondary output fails (a full disk, /dev/full, a closed stdout, a dead notify socket):
the daemon keeps running, MQTT keeps delivering, the failure is counted in health and logged
once, and the exit code stays 0. The broker is the witness: health arrives over MQTT."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from daemon_harness import REPO, DaemonProcess, PtyBoard
from fault_support import run_args

pytestmark = pytest.mark.timeout(150)


def _witness(subscriber_factory, broker, node: str):
    return subscriber_factory(broker, [f"csi-edge/{node}/state", f"csi-edge/{node}/health"])


def _health_over_mqtt(sub, predicate, timeout: float = 60.0) -> dict:
    got = sub.wait_for(lambda m: bool(m) and m[-1][0].endswith("/health") and predicate(json.loads(m[-1][1])), timeout=timeout)
    return json.loads(got[-1][1])


def _states_after(sub, results: int, timeout: float = 60.0) -> list:
    return sub.wait_for(lambda m: bool(m) and m[-1][0].endswith("/state") and json.loads(m[-1][1])["seq"] > results + 3,
                        timeout=timeout)  # fmt: skip


@pytest.mark.parametrize("target", ["tmpfs", "/dev/full"])
def test_jsonl_on_a_full_disk_never_stops_mqtt(tmp_path, tmpfs, mosquitto_factory, subscriber_factory, model, target):
    path = tmpfs(64) / "results.jsonl" if target == "tmpfs" else "/dev/full"
    broker = mosquitto_factory()
    sub = _witness(subscriber_factory, broker, "fulljsonl")
    board = PtyBoard(tmp_path / "csi-edge-rx", speed=10.0)
    daemon = DaemonProcess(run_args(f"serial:{board.link}", "fulljsonl", model, broker=broker, jsonl=str(path)))
    try:
        failed = daemon.wait_log("output_failed", timeout=90)
        health = _health_over_mqtt(sub, lambda h: h.get("output_errors", {}).get("jsonl", 0) >= 1)
        _states_after(sub, health["results"])
        later = _health_over_mqtt(sub, lambda h: h["output_errors"]["jsonl"] > health["output_errors"]["jsonl"])
        code = daemon.terminate()
    finally:
        daemon.kill()
        board.close()
    assert code == 0
    assert "output=jsonl" in failed and "No space left on device (ENOSPC)" in failed
    assert later["broker_connected"] and later["publish_dropped"] == 0
    assert sum("output_failed" in line for line in daemon.err_lines) == 1  # once, then at most every 60 s
    assert not any("Traceback" in line for line in daemon.err_lines)
    if target == "tmpfs":  # whatever reached the file is whole lines, and the torn one is alone on its line
        lines = path.read_text().splitlines()
        assert sum(1 for line in lines if not line.endswith("}")) <= 1 and len(lines) > 1


def _outlives_a_failed_output(proc, board, sub, output: str) -> tuple[int, dict]:
    """Wait for health (over MQTT) to count a failure of `output`, then for states published
    after that report; stop the daemon. Returns its exit code and that health report."""
    try:
        health = _health_over_mqtt(sub, lambda h: h.get("output_errors", {}).get(output, 0) >= 1)
        _states_after(sub, health["results"])
        proc.terminate()
        code = proc.wait(60)
    finally:
        if proc.poll() is None:
            proc.kill()
        board.close()
    return code, health


def test_a_closed_stdout_never_stops_mqtt(tmp_path, mosquitto_factory, subscriber_factory, model):
    broker = mosquitto_factory()
    sub = _witness(subscriber_factory, broker, "closedout")
    board = PtyBoard(tmp_path / "csi-edge-rx", speed=10.0)
    cmd = [sys.executable, "-m", "csi_edge.cli", "run", *run_args(f"serial:{board.link}", "closedout", model, broker=broker)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=open(tmp_path / "stderr", "wb"), cwd=REPO)
    proc.stdout.close()  # whoever read our stdout went away: writes fail with EPIPE
    code, _ = _outlives_a_failed_output(proc, board, sub, "jsonl")
    log = (tmp_path / "stderr").read_text()
    assert code == 0
    assert "output_failed output=jsonl" in log and "Broken pipe (EPIPE)" in log and "Traceback" not in log


def test_logs_to_a_full_disk_never_stop_the_daemon(tmp_path, mosquitto_factory, subscriber_factory, model):
    broker = mosquitto_factory()
    sub = _witness(subscriber_factory, broker, "fulllog")
    board = PtyBoard(tmp_path / "csi-edge-rx", speed=10.0)
    cmd = [sys.executable, "-m", "csi_edge.cli", "run", *run_args(f"serial:{board.link}", "fulllog", model, broker=broker, jsonl=None)]
    with open("/dev/full", "wb") as full:
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=full, cwd=REPO)
    code, health = _outlives_a_failed_output(proc, board, sub, "log")
    assert code == 0  # not 120 (Python's exit code when flushing stderr fails at exit)
    assert health["broker_connected"] and health["publish_dropped"] == 0


def test_a_dead_notify_socket_never_stops_the_daemon(tmp_path, mosquitto_factory, subscriber_factory, model):
    broker = mosquitto_factory()
    sub = _witness(subscriber_factory, broker, "nonotify")
    board = PtyBoard(tmp_path / "csi-edge-rx", speed=10.0)
    env = {"NOTIFY_SOCKET": str(tmp_path / "no-such-socket"), "WATCHDOG_USEC": "200000"}
    daemon = DaemonProcess(run_args(f"serial:{board.link}", "nonotify", model, broker=broker), env=env)
    try:
        health = _health_over_mqtt(sub, lambda h: h.get("output_errors", {}).get("sd_notify", 0) >= 3)
        _states_after(sub, health["results"])
        code = daemon.terminate()
    finally:
        daemon.kill()
        board.close()
    assert code == 0 and health["publish_dropped"] == 0
