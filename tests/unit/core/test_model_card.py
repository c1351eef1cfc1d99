"""Model card schema 2: declared heads, schema-1 cards converted on load, position skill."""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import pytest

from csi_edge.errors import DataError
from csi_edge.model.card import (
    SCHEMA,
    Skill,
    load_card,
    position_head,
    position_skill_text,
    publishes_position,
    standard_heads,
)

REPO = Path(__file__).resolve().parents[3]


def schema_1_copy(tmp_path) -> Path:
    """The shipped network with a schema-1 card (as models/default.json was written before heads)."""
    card, onnx = load_card(REPO / "models" / "default")
    shutil.copy(onnx, tmp_path / "old.onnx")
    data = {k: v for k, v in card.to_dict().items() if k != "heads"}
    data.update(schema="csi-edge/model-card/1", name="old", onnx_file="old.onnx", classes=list(card.classes),
                outputs=["class_logits", "position"], position_units="m")
    (tmp_path / "old.json").write_text(json.dumps(data))
    return tmp_path / "old"


def test_the_shipped_model_loads():
    card, _ = load_card(REPO / "models" / "default")
    assert card.schema == SCHEMA and card.head("activity") is not None


def test_schema_1_card_loads_as_two_heads_without_skill(tmp_path):
    card, _ = load_card(schema_1_copy(tmp_path))
    assert card.schema == SCHEMA
    assert [(h.name, h.kind, h.output) for h in card.heads] == [("activity", "classes", "class_logits"),
                                                                 ("position", "vector", "position")]
    assert card.classes == ("empty", "lying", "sitting", "walking") and card.outputs == ("class_logits", "position")
    pos = card.head("position")
    assert pos.components == ("x", "y", "z") and pos.units == "m" and pos.baseline is None and pos.skill is None
    assert not publishes_position(card, 0.8)
    assert position_skill_text(card, 0.8) == "no measured position skill: positions are not published"


def _copy_default(tmp_path, edit) -> Path:
    """models/default with its card rewritten as schema 2 by `edit(card dict)`."""
    card, onnx = load_card(REPO / "models" / "default")
    shutil.copy(onnx, tmp_path / "m.onnx")
    data = card.to_dict()
    data.update(name="m", onnx_file="m.onnx")
    edit(data)
    (tmp_path / "m.json").write_text(json.dumps(data))
    return tmp_path / "m"


def test_schema_2_json_contract_round_trips(tmp_path):
    def add_skill(d):
        d["heads"][1].update(baseline=[3.6, 2.0, 1.0],
                             skill={"rmse_m": 0.52, "baseline_rmse_m": 1.01, "measured_on": "validation", "per_day": {"d2": 0.6}})

    path = _copy_default(tmp_path, add_skill)
    data = json.loads(path.with_suffix(".json").read_text())
    assert data["schema"] == "csi-edge/model-card/2" and "classes" not in data and "outputs" not in data
    assert data["heads"][0] == {"name": "activity", "kind": "classes", "output": "class_logits",
                                "labels": ["empty", "lying", "sitting", "walking"]}
    card, _ = load_card(path)
    pos = card.head("position")
    assert pos.baseline == (3.6, 2.0, 1.0)
    assert pos.skill == Skill(0.52, 1.01, "validation", {"per_day": {"d2": 0.6}})
    assert json.loads(card.to_json()) == data  # written back exactly as read
    assert publishes_position(card, 0.8)  # 0.52 <= 0.8 * 1.01
    assert not publishes_position(card, 0.5)  # 0.52 > 0.505
    assert "rmse 0.520 m vs constant baseline 1.010 m on validation: positions published" == position_skill_text(card, 0.8)


def test_a_model_trained_without_positions_has_no_position_head():
    heads = standard_heads(("empty", "walking"), position=False)
    assert [h.name for h in heads] == ["activity"]


@pytest.mark.parametrize(("edit", "problem"), [
    (lambda d: d["heads"].reverse(), "the first head must be the classes head"),
    (lambda d: d["heads"][1].update(kind="scalar"), "kind must be one of"),
    (lambda d: d["heads"][1].update(baseline=[1.0]), "baseline has 1 values for 3 components"),
    (lambda d: d["heads"][1].update(name="activity"), "head names must be distinct"),
    (lambda d: d["heads"][1].update(skill={"rmse_m": 0.5}), "bad model card"),
    (lambda d: d.update(classes=["a"]), "bad model card"),
])
def test_bad_heads_are_refused_in_one_line(tmp_path, edit, problem):
    path = _copy_default(tmp_path, edit)
    with pytest.raises(DataError, match=problem):
        load_card(path)


def test_position_head_helper_matches_the_contract():
    h = position_head(baseline=[1, 2, 3], skill=Skill(0.4, 1.0, "validation"))
    assert h.to_dict() == {"name": "position", "kind": "vector", "output": "position", "components": ["x", "y", "z"],
                           "units": "m", "baseline": [1.0, 2.0, 3.0],
                           "skill": {"rmse_m": 0.4, "baseline_rmse_m": 1.0, "measured_on": "validation"}}
    assert dataclasses.replace(h, skill=None).to_dict()["skill"] is None


def test_card_written_by_dataclasses_asdict_reads_back_the_same(tmp_path):
    """Training checkpoints store dataclasses.asdict(card); it must load back unchanged."""
    from csi_edge.model.card import _from_dict

    card, _ = load_card(REPO / "models" / "default")
    pos = dataclasses.replace(card.head("position"), baseline=(1.0, 2.0, 3.0), skill=Skill(0.5, 1.0, "validation", {"per_day": {}}))
    card = dataclasses.replace(card, heads=(card.heads[0], pos))
    assert _from_dict(dataclasses.asdict(card), "checkpoint") == card
    assert _from_dict(json.loads(card.to_json()), "card") == card


def test_info_prints_the_heads_and_the_position_skill(tmp_path, capsys):
    from csi_edge.cli import main

    model = schema_1_copy(tmp_path)
    assert main(["info", str(model)]) == 0
    out = capsys.readouterr().out
    assert "position_skill: no measured position skill: positions are not published" in out
    assert "position (vector: x, y, z m) <- position" in out
    assert main(["info", str(model), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["publishes_position"] is False and info["classes"] == ["empty", "lying", "sitting", "walking"]


def _meta(bandwidth: list[int], secondary: int = 2):
    from csi_edge.frames import empty_meta

    meta = empty_meta(len(bandwidth))
    meta["bandwidth"], meta["secondary_channel"], meta["csi_len"] = bandwidth, secondary, 128
    return meta


def test_bandwidth_is_checked_per_frame_and_above_equals_below():
    from csi_edge.errors import ModelMismatchError
    from csi_edge.model.card import check_stream, other_bandwidth

    card, _ = load_card(REPO / "models" / "default")
    legacy = dataclasses.replace(card, feature=dataclasses.replace(card.feature, layouts=("below",), bandwidth=None))
    check_stream(legacy, _meta([1, 1], secondary=1))  # "above" is the same 52 subcarriers as "below"
    ht40 = dataclasses.replace(card, feature=dataclasses.replace(card.feature, bandwidth=40, layouts=()))
    check_stream(ht40, _meta([1] * 9 + [0], secondary=0))  # layout names are not checked any more; one stray frame
    assert other_bandwidth(ht40, _meta([1] * 9 + [0])).tolist() == [False] * 9 + [True]
    assert not other_bandwidth(legacy, _meta([0, 0])).any()  # no bandwidth in the card: nothing masked
    with pytest.raises(ModelMismatchError, match=r"trained on a 40 MHz link, but the stream's frames are 20 MHz"):
        check_stream(ht40, _meta([0] * 8 + [1] * 2))


def test_csi_scaling_is_compared_with_the_hello_when_both_are_known():
    from csi_edge.errors import ModelMismatchError
    from csi_edge.model.card import check_hello

    card, _ = load_card(REPO / "models" / "default")
    check_hello(card, "auto")  # the card does not say: not checked
    manual = dataclasses.replace(card, feature=dataclasses.replace(card.feature, csi_scale="manual:4"))
    check_hello(manual, "manual:4")
    check_hello(manual, None)  # a firmware 1.0 board cannot say
    with pytest.raises(ModelMismatchError, match=r"trained with CSI scaling manual:4, but the board's HELLO says auto"):
        check_hello(manual, "auto")


def test_novelty_and_adaptation_sections_round_trip(tmp_path):
    from csi_edge.model.card import AdaptSpec, NoveltySpec, _from_dict

    card, _ = load_card(REPO / "models" / "default")
    card = dataclasses.replace(card, novelty=None, adapt=None)  # a card from before novelty and adaptation
    assert "novelty" not in card.to_dict() and not card.needs_baseline
    card = dataclasses.replace(
        card, feature=dataclasses.replace(card.feature, bandwidth=40, csi_scale="manual:4", relative="db"),
        novelty=NoveltySpec("energy", (-3.0, -2.0, -1.0), 0.95, "validation", {"auroc": 0.8}),
        adapt=AdaptSpec(tuple(range(52)), tuple([1.0] * 52)))  # fmt: skip
    assert _from_dict(json.loads(card.to_json()), "card") == card
    assert _from_dict(dataclasses.asdict(card), "checkpoint") == card and card.needs_baseline
    data = json.loads(card.to_json())
    data["novelty"]["quantiles"] = [1.0, 0.0]
    data["feature"]["bandwidth"] = 30
    with pytest.raises(DataError, match=r"feature.bandwidth must be one of \(20, 40\).*novelty.quantiles must be"):
        _from_dict(data, "card")
