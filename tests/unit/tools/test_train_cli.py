"""`csi-edge train` -> `csi-edge eval` on a tiny amplitudes NPZ, resume/export, and the error paths."""

from __future__ import annotations

import json

import numpy as np
import pytest

pytest.importorskip("torch")

from csi_edge.cli import main  # noqa: E402
from csi_edge.model.card import load_card  # noqa: E402


def _npz(path, n=1200, seed=0):
    """Two classes with different temporal texture, positions for one of them, two groups."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    label = np.where((t // 150) % 2 == 0, "empty", "walking")
    amp = 10 + rng.normal(0, 0.3, (n, 52))
    amp[label == "walking"] += 3 * np.sin(t[label == "walking"] / 3.0)[:, None]
    x = np.where(label == "walking", 1.0 + t / n, np.nan)
    np.savez(path, amplitude=amp.astype(np.float32), label=label, x=x, y=x * 0 + 2.0, z=x * 0 + 0.5, group=t // 600)
    return path


COMMON = ["--window", "32", "--hop", "8", "--epochs", "2", "--epoch-windows", "96", "--threads", "1", "--no-progress"]


def test_train_then_eval_json(tmp_path, capsys):
    data = _npz(tmp_path / "tiny.npz")
    test = _npz(tmp_path / "test.npz", seed=1)
    out = tmp_path / "models" / "tiny"
    code = main(["train", "--data", f"amplitudes:{data}", "--test", f"amplitudes:{test}?part=d2", "--out", str(out), *COMMON])
    assert code == 0
    card, onnx_path = load_card(out)
    assert onnx_path.exists() and (tmp_path / "models" / "tiny.pt").exists()
    assert card.window == 32 and card.hop == 8 and card.classes == ("empty", "walking")
    assert card.scaler.kind == "maxmin" and card.scaler.min is not None and card.scaler.per_window == "center-mean"
    assert set(card.metrics["d2"]) >= {"accuracy", "f1_macro", "precision", "recall", "rmse_m", "baseline_rmse_m", "class_recall", "n"}
    head = card.head("position")
    skill = head.skill
    assert skill.measured_on == "validation" and skill.rmse_m > 0 and skill.baseline_rmse_m > 0
    assert skill.details["ratio"] == pytest.approx(skill.rmse_m / skill.baseline_rmse_m, abs=1e-3)
    train_x = 1.0 + np.arange(1200)[(np.arange(1200) // 150) % 2 == 1] / 1200  # the walking windows' x in _npz
    assert head.baseline[1:] == (2.0, 0.5) and abs(head.baseline[0] - train_x.mean()) < 0.05
    assert card.outputs == ("class_logits", "position")
    assert card.training["config"]["augment"] == ["rotate:0.5:0.125"]
    capsys.readouterr()
    assert main(["eval", "--model", str(out), "--data", f"amplitudes:{test}?part=d2", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert set(result) == {"d2"}
    m = result["d2"]
    assert m["n"] == card.metrics["d2"]["n"] and 0 <= m["accuracy"] <= 1
    assert m["accuracy"] == pytest.approx(card.metrics["d2"]["accuracy"])  # ONNX == PyTorch metrics
    assert m["position_rmse_m"] == pytest.approx(card.metrics["d2"]["rmse_m"], rel=1e-3)
    assert m["position_baseline_rmse_m"] == pytest.approx(card.metrics["d2"]["baseline_rmse_m"], rel=1e-6)
    assert set(m["class_recall"]) == {"empty", "walking"}
    assert main(["eval", "--model", str(out), "--data", f"amplitudes:{test}?part=d2"]) == 0
    text = capsys.readouterr().out
    assert "constant baseline" in text and "position skill at training" in text
    assert main(["info", str(out), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["kind"] == "model" and info["model"] == card.model_id and info["onnx_matches_card"] is True
    # test-time adaptation is reported apart from the plain result
    assert main(["eval", "--model", str(out), "--data", f"amplitudes:{test}?part=d2", "--json", "--tta"]) == 0
    adapted = json.loads(capsys.readouterr().out)
    assert set(adapted) == {"d2", "d2+tta"} and adapted["d2"] == result["d2"]
    assert adapted["d2+tta"]["n"] == m["n"]


def test_resume_continues_and_export_reproduces(tmp_path, capsys):
    data = _npz(tmp_path / "tiny.npz")
    out = tmp_path / "r"
    base = ["train", "--data", f"amplitudes:{data}", "--out", str(out), "--window", "32", "--hop", "8", "--epoch-windows", "96", "--threads", "1", "--no-progress"]
    assert main([*base, "--epochs", "2"]) == 0
    first = load_card(out)[0]
    assert len(first.training["history"]) == 2
    assert main([*base, "--epochs", "3", "--resume", str(tmp_path / "r.pt")]) == 0
    resumed = load_card(out)[0]
    assert [h["epoch"] for h in resumed.training["history"]] == [1, 2, 3]
    assert resumed.training["history"][:2] == first.training["history"]
    assert main(["export", str(tmp_path / "r.pt"), "--out", str(tmp_path / "again")]) == 0
    again = load_card(tmp_path / "again")[0]
    assert again.scaler == resumed.scaler and again.classes == resumed.classes
    (tmp_path / "r.json").unlink()  # without the card beside it, the checkpoint still carries the skill
    assert main(["export", str(tmp_path / "r.pt"), "--out", str(tmp_path / "alone")]) == 0
    alone = load_card(tmp_path / "alone")[0]
    assert alone.head("position") == resumed.head("position") and alone.outputs == ("class_logits", "position")
    assert alone.head("position").skill is not None


@pytest.mark.parametrize(
    "argv, code, needle",
    [
        (["train", "--data", "bogus:x", "--out", "m"], 2, "KIND:TARGET"),
        (["train", "--data", "csi:*.nothing", "--out", "m"], 2, "--label-regex"),
        (["train", "--data", "amplitudes:/nonexistent.npz", "--out", "m"], 1, "not found"),
        (["train", "--data", "sim:days=9", "--out", "m"], 2, "days must be"),
        (["train", "--data", "amplitudes:x.npz", "--out", "m", "--augment", "spin"], 2, "unknown augmentation"),
        (["train", "--data", "amplitudes:x.npz", "--out", "m", "--window", "0"], 2, "--window"),
        (["eval", "--model", "/nonexistent/m", "--data", "sim:"], 1, "model card not found"),
    ],
)
def test_error_paths_are_one_line(argv, code, needle, capsys):
    assert main(argv) == code
    err = capsys.readouterr().err.strip()
    assert needle in err and "\n" not in err and "Traceback" not in err


def test_single_class_is_refused(tmp_path, capsys):
    np.savez(tmp_path / "one.npz", amplitude=np.ones((100, 52), np.float32), label=np.array(["empty"] * 100))
    assert main(["train", "--data", f"amplitudes:{tmp_path / 'one.npz'}", "--out", str(tmp_path / "m"), *COMMON]) == 1
    assert "need at least 2" in capsys.readouterr().err


def test_ablation_writes_tables_and_plots(tmp_path, capsys):
    data = _npz(tmp_path / "tiny.npz")
    test = _npz(tmp_path / "test.npz", seed=1)
    out = tmp_path / "abl"
    argv = ["train", "--ablation", "all", "--ablation-rows", "A,AΔ,ICA-4,mmAUG", "--dims", "2,4", "--seeds", "2",
            "--data", f"amplitudes:{data}", "--test", f"amplitudes:{test}?part=d2", "--out", str(out),
            "--window", "32", "--hop", "8", "--epochs", "1", "--epoch-windows", "64", "--threads", "1", "--no-progress"]
    assert main(argv) == 0
    rows = json.loads((out / "ablation.json").read_text())["rows"]
    assert [(r["table"], r["name"]) for r in rows] == [("table2", "A"), ("table2", "AΔ"), ("table3", "A"), ("table3", "ICA-4"), ("table3", "mmAUG")]
    assert all(len(r["parts"]["d2"]["accuracy"]["values"]) == 2 for r in rows)
    md = (out / "ablation.md").read_text()
    assert "| mmAUG |" in md and "d2 ACC %" in md
    for png in ("ablation_accuracy.png", "ablation_rmse.png", "fig3_amplitude_heatmap.png", "fig4_projections.png", "training_curves.png"):
        assert (out / png).stat().st_size > 1000
    assert list(out.glob("confusion_table3_mmAUG_d2.png"))
    assert not list(out.glob(".ckpt_*"))
    assert main([*argv[:4], "nope", *argv[5:]]) == 2


def test_without_positions_or_empty_class_train_warns_and_exports_no_position_head(tmp_path, capsys):
    rng = np.random.default_rng(0)
    n = 1200
    label = np.where((np.arange(n) // 150) % 2 == 0, "sitting", "walking")
    amp = (10 + rng.normal(0, 0.3, (n, 52))).astype(np.float32)
    data = tmp_path / "nopos.npz"
    np.savez(data, amplitude=amp, label=label)
    out = tmp_path / "nopos"
    assert main(["train", "--data", f"amplitudes:{data}", "--out", str(out), *COMMON]) == 0
    captured = capsys.readouterr()
    warnings = [line for line in captured.err.splitlines() if line.startswith("warning:")]
    assert any("no 'empty' class" in w and "presence" in w for w in warnings)
    assert any("no positions" in w for w in warnings)
    assert "{" not in captured.out  # readable text, no raw dicts
    card, onnx_path = load_card(out)
    assert card.head("position") is None and card.outputs == ("class_logits",)
    import onnxruntime as ort

    assert [o.name for o in ort.InferenceSession(str(onnx_path)).get_outputs()] == ["class_logits"]
    assert main(["eval", "--model", str(out), "--data", f"amplitudes:{data}", "--json"]) == 0
    m = json.loads(capsys.readouterr().out)["nopos"]
    assert "position_rmse_m" not in m and m["n"] > 0
    (tmp_path / "nopos.json").unlink()  # the checkpoint alone says so too
    assert main(["export", str(tmp_path / "nopos.pt"), "--out", str(tmp_path / "again")]) == 0
    assert load_card(tmp_path / "again")[0].outputs == ("class_logits",)


def test_train_help_shows_defaults(capsys):
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    text = " ".join(capsys.readouterr().out.split())  # argparse wraps lines
    assert "(default: 351)" in text and "(default: 0.4)" in text and "(default: center-mean)" in text
    assert "(default: None)" not in text
