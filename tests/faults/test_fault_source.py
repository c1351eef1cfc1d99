"""The input side fails: the receiver vanishes and returns, a sync flood, a board that says it
has a problem, a model tampered with before a reload. The daemon stays up, says what happened,
and results resume."""

from __future__ import annotations

import signal
import socket

import pytest
from daemon_harness import DaemonProcess, PtyBoard
from fault_support import FaultBoard, run_args

from csi_edge import protocol as p

pytestmark = pytest.mark.timeout(150)


def test_receiver_vanishes_and_returns(tmp_path, model):
    board = FaultBoard(tmp_path / "csi-edge-rx", speed=10.0)
    daemon = DaemonProcess(run_args(f"serial:{board.link}", "vanish", model))
    try:
        first = daemon.wait_json(lambda o: o["topic"] == "state", timeout=60)
        board.unplug()
        lost = daemon.wait_log("serial_lost")
        away = daemon.wait_json(lambda o: o["topic"] == "health" and not o["source"]["connected"] and "error" in o["source"])
        board.plug()
        daemon.wait_log("serial_resumed")
        after = daemon.wait_json(lambda o: o["topic"] == "state" and o["seq"] > away["results"] + 3, timeout=60)
        back = daemon.wait_json(lambda o: o["topic"] == "health" and o["source"]["connected"])
        code = daemon.terminate()
    finally:
        daemon.kill()
        board.close()
    assert code == 0
    assert "warning" in lost and f"source=serial:{board.link}" in lost and "error=" in lost
    assert "No such file" in away["source"]["error"] or "could not open" in away["source"]["error"]
    assert back["source"]["losses"] == 1 and back["source"]["reconnects"] == 1 and "error" not in back["source"]
    assert after["packet_seq"] > first["packet_seq"]


def test_a_sync_flood_does_not_starve_the_watchdog(tmp_path, model):
    """1 MiB of sync bytes through `run --source replay:` as fast as possible: the processing loop
    keeps pinging the systemd watchdog (WatchdogSec as systemd would enforce it: 20 s, 20x the
    normal need) and results resume with the frames after the flood."""
    from csi_edge.tools.sim import simulate

    rec = simulate(8.0, activity="walking", seed=3, loss=False)
    flood = tmp_path / "flood.bin"
    flood.write_bytes(rec.to_v1()[: 172 * 100] + b"\xc5\xed" * (1 << 19) + rec.to_v1())
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(tmp_path / "notify"))
    watchdog_s = 20.0
    sock.settimeout(watchdog_s)
    env = {"NOTIFY_SOCKET": str(tmp_path / "notify"), "WATCHDOG_USEC": str(int(watchdog_s * 1e6))}
    daemon = DaemonProcess(run_args(f"replay:{flood}", "flood", model, "--set", "source.replay_realtime=false"), env=env)
    pings = 0
    try:
        while daemon.proc.poll() is None:
            try:
                message = sock.recv(4096)
            except TimeoutError:
                raise AssertionError(f"no WATCHDOG=1 for {watchdog_s} s: systemd would kill the daemon") from None
            pings += b"WATCHDOG=1" in message
            if b"STOPPING=1" in message:
                break
        code = daemon.proc.wait(60)
    finally:
        daemon.kill()
        sock.close()
    states = daemon.json_lines("state")
    assert code == 0 and pings >= 1
    assert states and states[-1]["packet_seq"] >= 700  # results from the frames after the flood


def test_a_board_that_reports_a_problem_is_heard(tmp_path, model):
    hello = p.Hello(1, 1, 0, role=1, mac="1a:00:00:00:00:09", peer_mac="1a:00:00:00:00:00", channel=11, secondary_channel=2,
                    bandwidth=1, phy_rate=0, send_rate_hz=100, transport=0, output_format=0, uart_baud=921600, gain_lock=0,
                    ltf_mask=1, gain_lock_packets=100, build="fault", status=p.STATUS_RETRYING, csi_scale=1, csi_shift=4,
                    country="DE", error_code=0x102, error="esp_wifi_set_channel: ESP_ERR_INVALID_ARG")  # fmt: skip
    board = PtyBoard(tmp_path / "csi-edge-rx", speed=10.0)
    daemon = DaemonProcess(run_args(f"serial:{board.link}", "problem", model))
    try:
        daemon.wait_json(lambda o: o["topic"] == "state", timeout=60)
        board.inject(p.encode_hello(hello))  # the board restarted and cannot start its radio
        line = daemon.wait_log("board_problem", timeout=60)
        health = daemon.wait_json(lambda o: o["topic"] == "health" and o.get("board_problem"), timeout=60)
        code = daemon.terminate()
    finally:
        daemon.kill()
        board.close()
    assert code == 0
    assert "error" in line and "start failed, retrying: esp_wifi_set_channel: ESP_ERR_INVALID_ARG" in line
    assert health["board_problem"] == "start failed, retrying: esp_wifi_set_channel: ESP_ERR_INVALID_ARG"
    assert health["csi_scaling"] == "manual:4" and health["country"] == "DE"


def test_the_simulated_board_says_it_runs(tmp_path, model):
    """The simulator's HELLO carries the firmware 1.1 fields (a recording starts with it: a pty
    opened after the board booted would have missed it, as with a real board)."""
    from csi_edge.tools.sim import simulate
    from csi_edge.tools.sim.radio import RadioConfig
    from csi_edge.tools.sim.streaming import hello_frame

    recording = tmp_path / "sim.bin"
    recording.write_bytes(hello_frame(RadioConfig(), "v1") + simulate(5.0, activity="walking", seed=1).to_v1())
    daemon = DaemonProcess(run_args(f"replay:{recording}", "simhello", model))  # replayed at the recorded pace
    try:
        health = daemon.wait_json(lambda o: o["topic"] == "health" and "csi_scaling" in o, timeout=60)
        code = daemon.proc.wait(60)
    finally:
        daemon.kill()
    assert code == 0
    assert health["board_problem"] is None and health["csi_scaling"] == "manual:4" and health["country"] == "01"


def test_sighup_with_a_tampered_model_keeps_the_running_one(tmp_path):
    from csi_edge.tools.bench.tiny_model import build_tiny_model

    model = build_tiny_model(tmp_path / "m", name="live", seed=1)
    board = PtyBoard(tmp_path / "csi-edge-rx", speed=10.0)
    daemon = DaemonProcess(run_args(f"serial:{board.link}", "tamper", model))
    try:
        first = daemon.wait_json(lambda o: o["topic"] == "state", timeout=60)
        onnx = model.with_suffix(".onnx")
        onnx.write_bytes(onnx.read_bytes() + b"\0")  # someone changed the model file under the daemon
        daemon.proc.send_signal(signal.SIGHUP)
        refused = daemon.wait_log("reload_failed")
        kept = daemon.wait_json(lambda o: o["topic"] == "state" and o["seq"] > first["seq"] + 3, timeout=60)
        code = daemon.terminate()
    finally:
        daemon.kill()
        board.close()
    assert code == 0
    assert "error" in refused and "sha256" in refused and f"kept={first['model']}" in refused
    assert kept["model"] == first["model"]
