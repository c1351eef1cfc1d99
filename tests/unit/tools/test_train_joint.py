"""Joint models over several links of one room: the data (links side by side, matched by
sequence number), the model input (links as channels), training, eval and the daemon."""

from __future__ import annotations

import json

import numpy as np
import pytest

from csi_edge.errors import UsageError
from csi_edge.tools.train.datasets import WindowSet
from csi_edge.tools.train.specs import load_spec

pytest.importorskip("torch", reason="training needs the [train] extra (torch)")
from csi_edge.cli import main  # noqa: E402
from csi_edge.model.card import load_card  # noqa: E402

SHORT = "days=1&sequences=1&seconds=6"


def test_links_side_by_side_hold_the_packets_every_link_received():
    joint = load_spec(f"sim:{SHORT}&links=0,2")
    alone = [load_spec(f"sim:{SHORT}&link={link}") for link in (0, 2)]
    assert len(joint) == len(alone[0]) == len(alone[1]) == 4  # one sequence per activity
    for j, a, b in zip(joint, *alone, strict=True):
        assert j.links == 2 and j.features.shape[1] == 104
        assert np.array_equal(j.seq, np.intersect1d(a.seq, b.seq)) and len(j.seq) < max(len(a.seq), len(b.seq))
        rows_a, rows_b = np.searchsorted(a.seq, j.seq), np.searchsorted(b.seq, j.seq)
        assert np.array_equal(j.features[:, :52], a.features[rows_a]) and np.array_equal(j.features[:, 52:], b.features[rows_b])
        assert np.array_equal(j.labels, a.labels[rows_a]) and np.allclose(j.positions, a.positions[rows_a], equal_nan=True)
    ws = WindowSet(joint, 100, 50, ("empty", "lying", "sitting", "walking"))
    assert ws.links == 2 and ws.subcarriers == 52 and ws.windows(np.arange(3)).shape == (3, 100, 104)


@pytest.mark.parametrize("spec, needle", [
    (f"sim:{SHORT}&link=0&links=0,1", "give link (one receiver) or links (several side by side), not both"),
    (f"sim:{SHORT}&links=1,1", "links must differ"),
])  # fmt: skip
def test_bad_links_options_are_refused(spec, needle):
    with pytest.raises(UsageError) as err:
        load_spec(spec)
    assert needle in str(err.value) and spec in str(err.value)


def test_a_joint_model_trains_evaluates_and_refuses_one_link_data(tmp_path, capsys):
    out = tmp_path / "joint"
    args = ["train", "--data", f"sim:{SHORT}&links=0,1", "--val", f"sim:{SHORT}&seed=7&links=0,1", "--out", str(out),
            "--window", "100", "--hop", "25", "--epochs", "1", "--epoch-windows", "64", "--threads", "1", "--no-progress"]  # fmt: skip
    assert main(args) == 0
    card, _ = load_card(out)
    assert card.links == 2 and card.input_shape == (None, 2, 52, 100) and card.feature.subcarriers == 52
    assert card.adapt is None and not out.with_name("joint.adapt.onnx").exists()  # no per-link adaptation statistics
    capsys.readouterr()
    assert main(["eval", "--model", str(out), "--data", f"sim:{SHORT}&days=2&links=0,1", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["d2"]["n"] > 0
    assert main(["eval", "--model", str(out), "--data", f"sim:{SHORT}&days=2"]) == 1
    err = capsys.readouterr().err.strip()
    assert f"data has 1 link(s) of 52 subcarriers per packet; model {card.model_id} reads 2 link(s) of 52" in err and "\n" not in err


def test_mixed_link_counts_and_per_link_options_are_refused(tmp_path, capsys):
    base = ["train", "--out", str(tmp_path / "m"), "--epochs", "1", "--epoch-windows", "32", "--window", "100", "--no-progress"]
    assert main([*base, "--data", f"sim:{SHORT}&links=0,1", "--val", f"sim:{SHORT}&seed=7"]) == 2
    assert "the data mixes recordings of 1 and 2 links side by side" in capsys.readouterr().err
    assert main([*base, "--data", f"sim:{SHORT}&links=0,1", "--val", f"sim:{SHORT}&seed=7&links=0,1", "--scaler-stats", "subcarrier"]) == 2
    assert "--scaler-stats subcarrier: not for a joint model" in capsys.readouterr().err
    assert not (tmp_path / "m.onnx").exists()
