"""Interactive labelling in a real terminal: tmux runs the recorder, the test presses keys."""

from __future__ import annotations

import json
import subprocess
import uuid

from capture_support import CSI_EDGE, SimPty, label_events, need_tmux, read_json, run_cli, wait_for


def _tmux(tmux: str, *args) -> str:
    return subprocess.run([tmux, *args], capture_output=True, text=True, check=True, timeout=30).stdout


def test_keys_switch_labels_pause_and_mark_in_a_tmux_terminal(tmp_path):
    """Keys 2 (walking), 3 (sitting), space (pause), space (resume), m (mark), 1 (empty), q.

    After each key the test waits (bounded poll) for its event in labels.jsonl, then checks the
    screen and, at the end, that the timeline is ordered and the per-label counts add up.
    """
    tmux = need_tmux()
    sim = SimPty("--seconds", 600, "--activity", "walking", "--seed", 2)  # 100 Hz real time
    name = f"capture-{uuid.uuid4().hex[:8]}"
    out = tmp_path / "session"
    command = f"{CSI_EDGE} capture record --source serial:{sim.path} --out {out} --tag room=lab; echo EXITED $?; sleep 600"
    _tmux(tmux, "new-session", "-d", "-s", name, "-x", "120", "-y", "40", command)
    try:
        screen = lambda: _tmux(tmux, "capture-pane", "-p", "-t", name)  # noqa: E731
        wait_for(lambda: "pkt/s" in screen() and (read_json(out / "manifest.json") or {}).get("counts", {}).get("packets", 0) > 0,
                 what="the recorder screen and first packets")  # fmt: skip

        def press(key: str, event: str, **fields) -> dict:
            before = len(label_events(out))
            _tmux(tmux, "send-keys", "-t", name, key)
            return wait_for(lambda: next((e for e in label_events(out)[before:] if e["event"] == event
                                          and all(e.get(k) == v for k, v in fields.items())), None),
                            what=f"the {event} event after key {key!r}")  # fmt: skip

        walking = press("2", "label", label="walking")
        wait_for(lambda: "label: walking" in screen(), what="the screen to show walking")
        sitting = press("3", "label", label="sitting")
        pause = press("Space", "pause")
        wait_for(lambda: "PAUSED" in screen(), what="the screen to show PAUSED")
        resume = press("Space", "resume")
        mark = press("m", "mark")
        empty = press("1", "label", label="empty")
        wait_for(lambda: "label: empty" in screen(), what="the screen to show empty")
        shown = screen()
        _tmux(tmux, "send-keys", "-t", name, "q")
        wait_for(lambda: "EXITED 0" in screen(), what="the recorder to quit on q")
    finally:
        subprocess.run([tmux, "kill-session", "-t", name], capture_output=True, timeout=30)
        sim.stop()
    for needle in ("elapsed", "pkt/s", "lost", "RSSI", "AGC", "[1] empty", "[4] lying", "marks 1"):
        assert needle in shown, f"{needle!r} missing from the screen:\n{shown}"
    packets = [walking["packet"], sitting["packet"], pause["packet"], resume["packet"], mark["packet"], empty["packet"]]
    assert packets == sorted(packets) and walking["packet"] > 0
    info = json.loads(run_cli("capture", "info", out, "--json").stdout)
    assert info["labels"]["walking"] == sitting["packet"] - walking["packet"]
    assert info["labels"]["sitting"] == (pause["packet"] - sitting["packet"]) + (empty["packet"] - resume["packet"])
    assert info["labels"]["empty"] == info["packets"] - empty["packet"]
    assert info["unlabelled"] == walking["packet"] + (resume["packet"] - pause["packet"])
    assert info["marks"] == [{"packet": mark["packet"], "note": "key"}]
    assert info["tags"] == {"room": "lab"} and info["status"] == "closed" and info["recovered"] is False
    assert run_cli("capture", "verify", out).returncode == 0
