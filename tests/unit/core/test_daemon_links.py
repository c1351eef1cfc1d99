"""Several receivers per daemon: per-link and joint models, reader threads, per-link health."""

from __future__ import annotations

import pytest

from csi_edge.config import load_config
from csi_edge.daemon_links import LinkSet, link_specs
from csi_edge.errors import ConfigError, ModelMismatchError
from csi_edge.model.runtime import LoadedModel
from csi_edge.results import state_payload

pytest.importorskip("onnx")
from rooms import write_room  # noqa: E402

from csi_edge.tools.bench.tiny_model import build_tiny_model  # noqa: E402


@pytest.fixture(scope="module")
def room(tmp_path_factory):
    """5 s of one room seen by receivers 0, 1 and 2 (protocol v1 files)."""
    return write_room(tmp_path_factory.mktemp("room"), 5, day=2, activity="sitting", seed=3)[0]


def run(links: LinkSet) -> list:
    links.open()
    results = []
    try:
        for _ in range(100_000):  # bounded: the replays end
            results += links.step(0.05)
            if links.ended:
                break
    finally:
        links.close()
    assert links.ended
    return results


def config(room, *sets: str, names="abc"):
    specs = [f"{n}=replay:{p}" for n, p in zip(names, room, strict=False)]
    return load_config(None, {"source.specs": specs, "source.replay_realtime": False}, sets)


def test_link_names_from_the_specs_and_bad_names_are_config_errors(room):
    cfg = load_config(None, {"source.specs": [f"north=replay:{room[0]}", f"replay:{room[1]}"]})
    assert link_specs(cfg) == [("north", f"replay:{room[0]}"), ("link1", f"replay:{room[1]}")]
    assert link_specs(load_config(None, {"source.spec": "sim"})) == [("link0", "sim")]
    with pytest.raises(ConfigError, match=r"\[source\] specs\[1\]: link name 'a' must be unique"):
        load_config(None, {"source.specs": ["a=sim", "a=sim:1"]})


def test_per_link_model_publishes_each_link_under_its_name(tmp_path, room):
    model = LoadedModel.load(build_tiny_model(tmp_path / "m", window=100, hop=10), warmup=0)
    links = LinkSet.build(config(room), model, "jetson")
    assert links.fields(links[0].cfg).links == ("a", "b", "c")
    results = run(links)
    by_link = {name: [r for r in results if r.link == name] for name in "abc"}
    assert all(len(rs) >= 30 for rs in by_link.values())
    for rs in by_link.values():
        assert [r.seq for r in rs] == list(range(1, len(rs) + 1))  # each link's own result counter, in order
    payload = state_payload(by_link["b"][0], 0.0)
    assert payload["link"] == "b" and payload["node"] == "jetson"
    health = links.health()
    assert set(health["links"]) == {"a", "b", "c"}
    assert health["packets_received"] == sum(h["packets_received"] for h in health["links"].values())
    assert health["results"] == len(results)
    assert health["links"]["a"]["source"]["name"] == f"replay:{room[0]}" and health["links"]["a"]["read_queue_dropped"] == 0
    for key in ("packet_rate_Hz", "loss_percent", "window_fill_percent", "source", "inference_p99_ms"):
        assert key in health  # the single-link fields stay, aggregated


def test_one_link_keeps_the_single_link_health_fields(tmp_path, room):
    model = LoadedModel.load(build_tiny_model(tmp_path / "m", window=100, hop=10), warmup=0)
    links = LinkSet.build(load_config(None, {"source.spec": f"replay:{room[0]}", "source.replay_realtime": False}), model, "n")
    results = run(links)
    assert results and all(r.link is None for r in results) and "link" not in state_payload(results[0], 0.0)
    health = links.health()
    assert "links" not in health and health["source"]["name"] == f"replay:{room[0]}"


def test_joint_model_reads_the_links_windows_of_the_same_packets(tmp_path, room):
    model = LoadedModel.load(build_tiny_model(tmp_path / "j", window=100, hop=10, links=3), warmup=0)
    links = LinkSet.build(config(room), model, "jetson")
    assert links.joint is not None and links.fields(links[0].cfg).links == ()
    results = run(links)
    assert len(results) >= 30 and all(r.link is None for r in results)
    assert [r.seq for r in results] == list(range(1, len(results) + 1))
    assert all(b.packet_seq > a.packet_seq for a, b in zip(results, results[1:], strict=False))
    health = links.health()
    assert health["results"] == len(results) and health["activity"] == results[-1].estimate.activity
    assert health["inference_p50_ms"] is not None


def test_joint_model_needs_as_many_links_as_it_reads(tmp_path, room):
    joint = LoadedModel.load(build_tiny_model(tmp_path / "j", window=100, hop=10, links=3), warmup=0)
    with pytest.raises(ModelMismatchError, match="reads 3 links together; the configuration has 2"):
        LinkSet.build(config(room[:2], names="ab"), joint, "n")
    per_link = LoadedModel.load(build_tiny_model(tmp_path / "p", window=100, hop=10), warmup=0)
    links = LinkSet.build(config(room), per_link, "n")
    with pytest.raises(ModelMismatchError, match="restart to switch"):
        links.set_model(joint)
    assert links[0].pipeline.model is per_link


def test_a_joint_model_with_a_novelty_calibration_reports_novelty(tmp_path, room):
    """Novelty is a score of the joint model's one set of logits: no per-link state needed."""
    import json

    path = build_tiny_model(tmp_path / "j", window=100, hop=10, links=3)
    card_path = path.with_name(path.name + ".json")
    card = json.loads(card_path.read_text())
    card["novelty"] = {"score": "msp", "quantiles": [i / 100 for i in range(101)], "threshold": 0.99}
    card_path.write_text(json.dumps(card))
    results = run(LinkSet.build(config(room), LoadedModel.load(path, warmup=0), "jetson"))
    assert results and all(r.estimate.novelty is not None and 0.0 <= r.estimate.novelty <= 1.0 for r in results)
