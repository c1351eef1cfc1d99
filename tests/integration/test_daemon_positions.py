"""Publish only what carries information: positions need measured skill and presence (issue 12).

- A model without measured position skill (e.g. the shipped schema-1 card, a tiny model) publishes
  `position: null` in every state message, and Home Assistant discovery has no position
  entity for it; one left by a previous model with skill is removed (real mosquitto).
- A model whose card declares position skill better than the constant baseline publishes a
  position exactly while presence is true (the shipped network, replaying a simulated room
  that is empty part of the time).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from daemon_harness import REPO
from rooms import write_room

from csi_edge.model.card import Skill, load_card
from csi_edge.tools.bench.tiny_model import build_tiny_model

pytestmark = pytest.mark.timeout(180)
DEFAULT = REPO / "models" / "default"
SKILL = Skill(rmse_m=0.5, baseline_rmse_m=1.0, measured_on="validation")


def run_daemon(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """`csi-edge run` to completion (a replay as fast as possible ends by itself)."""
    cmd = [sys.executable, "-m", "csi_edge.cli", "run", "--node", "pos", "--set", "source.replay_realtime=false", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=REPO)


@pytest.fixture(scope="module")
def mixed_room(tmp_path_factory) -> Path:
    """90 s of the simulated room, empty for about 40 % of it, as the RX board's bytes."""
    from csi_edge.tools.sim import simulate

    rec = simulate(90, activity="mixed", seed=1)
    assert {0, 1} <= set(rec.truth["activity"].tolist())  # empty and someone walking
    path = tmp_path_factory.mktemp("room") / "mixed.bin"
    path.write_bytes(rec.to_v1())
    return path


def with_skill(model: Path, out: Path, skill: Skill | None) -> Path:
    """A copy of `model` whose card (schema 2) declares `skill` for its position head."""
    import dataclasses

    card, onnx = load_card(model)
    out.mkdir(parents=True, exist_ok=True)
    shutil.copy(onnx, out / "m.onnx")
    pos = dataclasses.replace(card.head("position"), baseline=(3.6, 2.0, 1.0), skill=skill)
    heads = tuple(pos if h.name == "position" else h for h in card.heads)
    dataclasses.replace(card, name="m", onnx_file="m.onnx", heads=heads).save(out / "m.json")
    return out / "m"


def states(proc: subprocess.CompletedProcess) -> list[dict]:
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    return [o for o in out if o["topic"] == "state"]


@pytest.mark.skipif(not (REPO / "models" / "default.json").exists(), reason="needs the shipped model")
def test_positions_only_from_a_model_with_skill_and_only_while_someone_is_there(tmp_path, mixed_room):
    skilled = with_skill(DEFAULT, tmp_path / "skilled", SKILL)
    got = states(run_daemon("--source", f"replay:{mixed_room}", "--model", str(skilled), "--no-mqtt", "--jsonl", "-"))
    assert len(got) > 500
    present = [s for s in got if s["presence"]]
    empty = [s for s in got if s["presence"] is False]
    assert len(present) > 50 and len(empty) > 50  # the model saw both
    assert all(s["position"] is None for s in empty)
    assert all(set(s["position"]) == {"x", "y", "z"} for s in present)
    no_skill = with_skill(DEFAULT, tmp_path / "no-skill", None)  # the same network, skill not measured
    unskilled = states(run_daemon("--source", f"replay:{mixed_room}", "--model", str(no_skill), "--no-mqtt", "--jsonl", "-"))
    assert len(unskilled) == len(got) and all(s["position"] is None for s in unskilled)
    assert [s["presence"] for s in unskilled] == [s["presence"] for s in got]  # only the position differs


def retained_discovery(broker, subscriber_factory) -> dict[str, bytes]:
    """The retained discovery configs on the broker now (a fresh subscriber; a marker message
    published after subscribing arrives after every retained message)."""
    sub = subscriber_factory(broker, ["homeassistant/#", "test/marker"])
    sub.client.publish("test/marker", b"end", qos=1)
    got = sub.wait_for(lambda m: any(t == "test/marker" for t, _, _ in m))
    return {t: p for t, p, retained in got if t.startswith("homeassistant/") and retained}


def test_no_position_entity_without_skill_and_stale_ones_are_removed(tmp_path, mosquitto, subscriber_factory, mixed_room):
    source = ["--source", f"replay:{mixed_room}", "--mqtt", mosquitto.url, "--seconds", "30"]
    position_topics = {f"homeassistant/sensor/csi_edge_pos/position_{a}/config" for a in "xyz"}
    skilled = build_tiny_model(tmp_path / "a", name="skilled", position_skill=SKILL)
    states(run_daemon(*source, "--model", str(skilled), "--jsonl", "-"))
    first = retained_discovery(mosquitto, subscriber_factory)
    assert position_topics <= set(first)  # a model with skill: Position x/y/z entities
    assert json.loads(first[min(position_topics)])["unit_of_measurement"] == "m"
    unskilled = build_tiny_model(tmp_path / "b", name="unskilled")
    got = states(run_daemon(*source, "--model", str(unskilled), "--jsonl", "-"))
    assert got and all(s["position"] is None for s in got)
    second = retained_discovery(mosquitto, subscriber_factory)
    assert not position_topics & set(second)  # removed: no entity for what is not published
    assert "homeassistant/sensor/csi_edge_pos/activity/config" in second


ROOM3 = REPO / "models" / "room3"


@pytest.mark.skipif(not ROOM3.with_suffix(".json").exists(), reason="needs the shipped joint model")
def test_three_links_read_together_publish_positions_that_beat_the_constant(tmp_path):
    """The shipped joint model (three receivers of one room, `links: 3`) on a simulated day-2
    room it never saw: the daemon matches the links' windows, publishes a position while someone
    is there, and those positions are nearer the truth than the card's constant baseline."""
    import numpy as np

    paths, recordings = write_room(tmp_path, 120, day=2, activity="mixed", seed=11)
    sources = [arg for link, path in enumerate(paths) for arg in ("--source", f"l{link}=replay:{path}")]
    got = states(run_daemon(*sources, "--model", str(ROOM3), "--no-mqtt", "--jsonl", "-"))
    card, _ = load_card(ROOM3)
    assert card.links == 3 and len(got) > 500 and all("link" not in s for s in got)  # one joint state per window
    seqs = np.concatenate([rec.truth["seq"] for rec in recordings])  # the same person on every link
    xyz = np.concatenate([np.stack([rec.truth[a] for a in "xyz"], axis=1) for rec in recordings])
    placed = [s for s in got if s["position"] is not None]
    assert len(placed) > 300 and all(s["presence"] for s in placed)
    # what a window can tell, and what the model was trained on: the mean position over its packets
    def window_mean(end: int) -> np.ndarray:
        block = xyz[(seqs > end - card.window) & (seqs <= end)]
        block = block[np.isfinite(block).all(axis=1)]
        return block.mean(axis=0) if len(block) else np.full(3, np.nan)

    truth = np.array([window_mean(s["packet_seq"]) for s in placed])
    estimate = np.array([[s["position"][a] for a in "xyz"] for s in placed])
    known = np.isfinite(truth).all(axis=1)  # windows that end as the person enters are partly empty
    model_rmse = float(np.sqrt(((estimate - truth)[known] ** 2).sum(axis=1).mean()))
    constant_rmse = float(np.sqrt(((np.asarray(card.head("position").baseline) - truth[known]) ** 2).sum(axis=1).mean()))
    assert known.sum() > 300 and model_rmse < 0.9 * constant_rmse, (model_rmse, constant_rmse)
