"""`csi-edge fuse` on real brokers: daemons fed by simulated links of one room, and a bridge.

1. Three daemons, each reading one receiver of one simulated room (recordings of `--link 0..2`
   with one seed, replayed at the recorded pace), publish to one broker; `csi-edge fuse`
   publishes the room's fused state, health, availability and discovery; when the daemons
   stop, the room's nodes are reported offline and the room goes offline.
2. Two brokers bridged with the shipped deploy/mosquitto/bridge.conf: a node on each, `fuse`
   on the site broker. Every state the remote node produced crosses the bridge; when that node
   goes silent (its board stops, the daemon stays connected) fuse reports it stale, then dropped.
Waits are bounded and event-driven (messages, log lines); no timing is asserted.
"""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from daemon_harness import REPO, DaemonProcess, PtyBoard
from rooms import write_room
from test_daemon import model_path  # noqa: F401 - fixture reuse

pytestmark = pytest.mark.timeout(180)
ROOM = 'fuse.rooms=[{name = "lab", nodes = ["a", "b", "c"]}]'


def fuse_args(broker, room: str, *extra: str) -> list[str]:
    return ["--mqtt", broker.url, "--set", "fuse.site=home", "--set", room, "--set", "health.interval_s=0.5", "--seconds", "150", *extra]


def payloads(messages, topic: str) -> list:
    out = []
    for t, body, _ in messages:
        if t == topic and body:
            out.append(json.loads(body) if body[:1] == b"{" else body.decode())
    return out


@pytest.fixture(scope="module")
def room_recordings(tmp_path_factory):
    """10 s of one walking person seen by receivers 0, 1 and 2 (v1 bytes, as a board sends them)."""
    return write_room(tmp_path_factory.mktemp("room"), 10, day=1, activity="walking", seed=21)[0]


def test_three_daemons_of_one_room_are_fused(mosquitto, subscriber_factory, room_recordings, model_path):  # noqa: F811
    sub = subscriber_factory(mosquitto, ["csi-edge/home/lab/#", "homeassistant/+/csi_edge_home_lab/+/config"])
    fuse = DaemonProcess(fuse_args(mosquitto, ROOM), command="fuse")
    fuse.wait_log("mqtt_connected")
    daemons = [DaemonProcess(["--source", f"replay:{path}", "--node", node, "--model", str(model_path), "--mqtt", mosquitto.url,
                              "--set", "source.replay_realtime=true", "--set", "health.interval_s=1"])
               for node, path in zip("abc", room_recordings, strict=True)]  # fmt: skip
    try:
        got = sub.wait_for(lambda m: any(len(s["nodes"]) == 3 for s in payloads(m, "csi-edge/home/lab/state")), timeout=90)
        got += sub.wait_for(lambda m: any(h["nodes_live"] == 3 for h in payloads(m, "csi-edge/home/lab/health")), timeout=30)
        states = payloads(got, "csi-edge/home/lab/state")
        full = next(s for s in states if len(s["nodes"]) == 3)
        assert {"time", "activity", "probabilities", "presence", "position", "nodes", "confidence"} <= set(full)
        assert full["site"] == "home" and full["room"] == "lab" and set(full["nodes"]) == {"a", "b", "c"}
        assert abs(sum(full["probabilities"].values()) - 1.0) < 1e-3
        assert full["activity"] == max(full["probabilities"], key=full["probabilities"].get)
        assert all(n["age_ms"] < 1000 for n in full["nodes"].values())  # aligned: each node's latest state is current
        with_position = [s for s in states if s["position"] is not None]
        assert all(any("position_weight" in n for n in s["nodes"].values()) for s in with_position)  # only from nodes with positions
        assert "online" in payloads(got, "csi-edge/home/lab/availability")
        configs = {t: json.loads(b) for t, b, _ in got if t.startswith("homeassistant/") and b}
        activity = configs["homeassistant/sensor/csi_edge_home_lab/activity/config"]
        assert activity["state_topic"] == "csi-edge/home/lab/state" and set(activity["options"]) == set(full["probabilities"])
        assert activity["availability_topic"] == "csi-edge/home/lab/availability"
        for daemon in daemons:
            assert daemon.terminate() == 0  # clean stop: each publishes `offline`
        gone = sub.wait_for(lambda m: any(h["nodes_missing"] == 3 for h in payloads(m, "csi-edge/home/lab/health")), timeout=30)
        health = next(h for h in payloads(gone, "csi-edge/home/lab/health") if h["nodes_missing"] == 3)
        assert {n["status"] for n in health["nodes"].values()} == {"offline"}
        assert all(n["states"] > 0 for n in health["nodes"].values())
        sub.wait_for(lambda m: "offline" in payloads(gone + m, "csi-edge/home/lab/availability"), timeout=30)
    finally:
        for daemon in daemons:
            daemon.kill()
        fuse.terminate()
        fuse.kill()


def bridge_lines(site_port: int) -> list[str]:
    """The shipped bridge configuration, pointed at the site broker on this machine."""
    text = (REPO / "deploy" / "mosquitto" / "bridge.conf").read_text()
    text = text.replace("SITE_BROKER:1883", f"127.0.0.1:{site_port}").replace("LOCAL_NAME", f"test{site_port}")
    return [line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def _quiet_results(daemon: DaemonProcess) -> int:
    """After the board stopped: wait until two health reports agree on a (non-zero) result count
    and nothing waits for the broker; return the count. (The daemon reports health before its
    first result too: the broker's state from the start.)"""
    last = None
    while True:
        health = daemon.wait_json(lambda o: o["topic"] == "health" and o["results"] > 0 and o["publish_queue_depth"] == 0, timeout=30)
        if health["results"] == last:
            return last
        last = health["results"]


def test_bridged_brokers_lose_nothing_and_a_silent_node_goes_stale_then_dropped(tmp_path, mosquitto_factory, subscriber_factory, model_path):  # noqa: F811
    site = mosquitto_factory()
    local = mosquitto_factory(extra=bridge_lines(site.port))
    watch = subscriber_factory(site, ["$SYS/broker/connection/#", "csi-edge/b/state", "csi-edge/home/lab/health", "csi-edge/home/lab/state"])
    watch.wait_for(lambda m: any(t.startswith("$SYS/broker/connection/") and b == b"1" for t, b, _ in m), timeout=30)  # bridge up
    fuse = DaemonProcess(fuse_args(site, 'fuse.rooms=[{name = "lab", nodes = ["a", "b"]}]', "--set", "fuse.stale_s=1.5",
                                   "--set", "fuse.drop_s=3.5"), command="fuse")  # fmt: skip
    boards = {node: PtyBoard(tmp_path / f"rx-{node}", speed=2.0, seed=seed) for node, seed in (("a", 1), ("b", 2))}
    daemons = {node: DaemonProcess(["--source", f"serial:{boards[node].link}", "--node", node, "--model", str(model_path),
                                    "--mqtt", broker.url, "--jsonl", "-", "--set", "health.interval_s=0.5"])
               for node, broker in (("a", site), ("b", local))}  # fmt: skip
    try:
        seen = watch.wait_for(lambda m: any(set(s["nodes"]) == {"a", "b"} for s in payloads(m, "csi-edge/home/lab/state")), timeout=90)
        boards["b"].pause()  # node b goes silent; its daemon stays up and connected
        results = _quiet_results(daemons["b"])
        produced = [o["seq"] for o in daemons["b"].json_lines("state")]
        assert len(produced) == results > 0
        seen += watch.wait_for(lambda m: set(produced) <= {s["seq"] for s in payloads(seen + m, "csi-edge/b/state")}, timeout=60)
        received = [s["seq"] for s in payloads(seen, "csi-edge/b/state")]
        assert set(received) == set(produced)  # nothing lost across the bridge
        statuses: list[str] = []

        def b_status(messages) -> bool:
            statuses.extend(h["nodes"]["b"]["status"] for h in payloads(messages[len(statuses):], "csi-edge/home/lab/health"))
            return "dropped" in statuses

        more = watch.wait_for(b_status, timeout=60)
        b_seen = [s for s in statuses if s != "live"]
        assert b_seen[0] == "stale" and b_seen[-1] == "dropped"  # stale first, then dropped
        last = payloads(more, "csi-edge/home/lab/health")[-1]
        assert last["nodes"]["a"]["status"] == "live" and last["nodes_missing"] == 1
        b = last["nodes"]["b"]
        assert b["states"] + b["late"] + b["bad"] == len(produced)  # fuse got every one of them too
    finally:
        for daemon in daemons.values():
            daemon.kill()
        for board in boards.values():
            board.close()
        fuse.terminate()
        fuse.kill()


def test_one_daemon_with_two_receivers_publishes_per_link_and_fuse_takes_its_links(mosquitto, subscriber_factory, room_recordings, model_path):  # noqa: F811
    sub = subscriber_factory(mosquitto, ["csi-edge/j/#", "homeassistant/+/csi_edge_j/+/config", "csi-edge/house/den/state"])
    fuse = DaemonProcess(fuse_args(mosquitto, 'fuse.rooms=[{name = "den", nodes = ["j/north", "j/south"]}]', "--set", "fuse.site=house"),
                         command="fuse")  # fmt: skip
    daemon = DaemonProcess(["--source", f"north=replay:{room_recordings[0]}", "--source", f"south=replay:{room_recordings[2]}",
                            "--node", "j", "--model", str(model_path), "--mqtt", mosquitto.url, "--set", "source.replay_realtime=true",
                            "--set", "health.interval_s=1"])  # fmt: skip
    try:
        got = sub.wait_for(lambda m: any(len(s["nodes"]) == 2 for s in payloads(m, "csi-edge/house/den/state")), timeout=90)
        got += sub.wait_for(lambda m: payloads(got + m, "csi-edge/j/health"), timeout=30)
        north, south = payloads(got, "csi-edge/j/north/state"), payloads(got, "csi-edge/j/south/state")
        assert north and south and all(s["link"] == "north" and s["node"] == "j" for s in north)
        assert not payloads(got, "csi-edge/j/state")  # a per-link model: no node-level state
        health = payloads(got, "csi-edge/j/health")[-1]
        assert set(health["links"]) == {"north", "south"}
        assert health["packets_received"] == sum(v["packets_received"] for v in health["links"].values())
        configs = {t for t, b, _ in got if t.startswith("homeassistant/") and b}
        assert "homeassistant/sensor/csi_edge_j/north_activity/config" in configs
        assert "homeassistant/sensor/csi_edge_j/south_activity/config" in configs
        fused = next(s for s in payloads(got, "csi-edge/house/den/state") if len(s["nodes"]) == 2)
        assert set(fused["nodes"]) == {"j/north", "j/south"}
        assert daemon.terminate() == 0  # one daemon's `offline` covers both of its links
        health_sub = subscriber_factory(mosquitto, ["csi-edge/house/den/health"])
        gone = health_sub.wait_for(lambda m: any(h["nodes_missing"] == 2 for h in payloads(m, "csi-edge/house/den/health")), timeout=30)
        last = next(h for h in payloads(gone, "csi-edge/house/den/health") if h["nodes_missing"] == 2)
        assert {n["status"] for n in last["nodes"].values()} == {"offline"}
    finally:
        daemon.kill()
        fuse.terminate()
        fuse.kill()


def test_fuse_systemd_unit_verifies(tmp_path):
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed (Debian: apt-get install systemd)")
    unit = (REPO / "systemd" / "csi-edge-fuse.service").read_text()
    assert "csi-edge fuse --config /etc/csi-edge/config.toml" in unit and "ExecReload=/bin/kill -HUP $MAINPID" in unit
    tested = tmp_path / "csi-edge-fuse.service"
    tested.write_text(unit.replace("/opt/csi-edge/venv/bin/csi-edge", str(Path(sys.executable).parent / "csi-edge")))
    res = subprocess.run([analyze, "verify", str(tested)], capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    assert "csi-edge-fuse.service" not in res.stderr, res.stderr


def test_sighup_adds_and_removes_rooms_without_a_restart(tmp_path, mosquitto, subscriber_factory):
    conf = tmp_path / "site.toml"
    conf.write_text('[fuse]\nsite = "flat"\n[[fuse.rooms]]\nname = "kitchen"\nnodes = ["k1"]\n')
    sub = subscriber_factory(mosquitto, ["csi-edge/flat/+/availability"])
    fuse = DaemonProcess(["--mqtt", mosquitto.url, "--config", str(conf), "--seconds", "120"], command="fuse")
    try:
        sub.wait_for(lambda m: any(t == "csi-edge/flat/kitchen/availability" for t, _, _ in m), timeout=30)
        conf.write_text('[fuse]\nsite = "flat"\n[[fuse.rooms]]\nname = "hall"\nnodes = ["h1"]\n')
        fuse.proc.send_signal(signal.SIGHUP)
        assert "rooms=hall" in fuse.wait_log("fuse_reloaded", timeout=30)
        got = sub.wait_for(lambda m: any(t == "csi-edge/flat/hall/availability" for t, _, _ in m), timeout=30)
        assert ("csi-edge/flat/kitchen/availability", b"offline") in {(t, b) for t, b, _ in got}  # the removed room said goodbye
        conf.write_text("[fuse]\nsite = 3\n")  # a broken file is refused; the running rooms stay
        fuse.proc.send_signal(signal.SIGHUP)
        assert "[fuse] site must be a string" in fuse.wait_log("reload_failed", timeout=30)
        assert fuse.proc.poll() is None
    finally:
        fuse.terminate()
        fuse.kill()
