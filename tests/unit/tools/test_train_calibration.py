"""Calibration-aware training: `--classes`, novelty in the card and `eval --json` novelty AUROC,
`--relative db` with per-part baselines, and the daemon's adaptation replayed by `eval --adapt`."""

from __future__ import annotations

import json

import numpy as np
import pytest

pytest.importorskip("torch")

from csi_edge.calibration.baseline import Baseline  # noqa: E402
from csi_edge.cli import main  # noqa: E402
from csi_edge.errors import UsageError  # noqa: E402
from csi_edge.model.card import load_card  # noqa: E402
from csi_edge.tools.train.calibration import relative_recordings  # noqa: E402
from csi_edge.tools.train.datasets import Recording  # noqa: E402

COMMON = ["--window", "32", "--hop", "8", "--epochs", "3", "--epoch-windows", "192", "--threads", "1", "--no-progress"]


def _npz(path, seed=0, classes=("empty", "walking", "waving"), n=1500):
    """Three labels of different temporal texture, in blocks of 150 packets."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    label = np.asarray(classes)[(t // 150) % len(classes)]
    amp = 10 + rng.normal(0, 0.3, (n, 52))
    walking, waving = label == "walking", label == "waving"
    amp[walking] += 3 * np.sin(t[walking] / 3.0)[:, None]
    amp[waving] += 2 * np.sign(np.sin(t[waving] / 1.3))[:, None] * np.linspace(-1, 1, 52)
    np.savez(path, amplitude=amp.astype(np.float32), label=label, group=t // 750)
    return path


def test_a_model_trained_on_some_classes_reports_novelty_auroc_on_the_others(tmp_path, capsys):
    data, test = _npz(tmp_path / "train.npz"), _npz(tmp_path / "test.npz", seed=1)
    out = tmp_path / "m"
    assert main(["train", "--data", f"amplitudes:{data}", "--test", f"amplitudes:{test}?part=t2", "--out", str(out),
                 "--classes", "empty,walking", *COMMON]) == 0  # fmt: skip
    card, _ = load_card(out)
    assert card.classes == ("empty", "walking") and card.novelty is not None and card.novelty.score == "energy"
    assert card.adapt is not None and len(card.adapt.std) == 52
    assert card.metrics["t2"]["n_unknown"] > 0 and card.metrics["t2"]["unknown_classes"] == ["waving"]
    capsys.readouterr()
    assert main(["eval", "--model", str(out), "--data", f"amplitudes:{test}?part=t2", "--json", "--adapt", "mean-std"]) == 0
    result = json.loads(capsys.readouterr().out)
    m = result["t2"]
    assert 0.0 <= m["novelty_auroc"] <= 1.0 and m["novelty_auroc"] == pytest.approx(card.metrics["t2"]["novelty_auroc"])
    assert m["n"] == card.metrics["t2"]["n"]  # accuracy is over the known classes only
    assert {"novelty_auroc_msp", "novelty_auroc_energy", "unknown_rate_known", "unknown_rate_unknown"} <= set(m)
    assert result["t2+adapt"]["n"] == m["n"]
    # the same data without unknown labels: no novelty keys
    known = _npz(tmp_path / "known.npz", seed=2, classes=("empty", "walking"))
    assert main(["eval", "--model", str(out), "--data", f"amplitudes:{known}?part=k", "--json"]) == 0
    assert "novelty_auroc" not in json.loads(capsys.readouterr().out)["k"]


def test_classes_must_be_labels_of_the_training_data(tmp_path, capsys):
    data = _npz(tmp_path / "train.npz")
    code = main(["train", "--data", f"amplitudes:{data}", "--out", str(tmp_path / "m"), "--classes", "empty,sitting", *COMMON])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "not found: sitting" in err[0]


def test_relative_features_need_a_baseline_for_every_part():
    rec = Recording(np.full((10, 4), 20.0, np.float32), np.array(["empty"] * 10), "d2", "x")
    base = Baseline(profile=(10.0,) * 4, spread=(1.0,) * 4)
    rel = relative_recordings([rec], "db", {"d2": base})[0]
    assert np.allclose(rel.features, 20 * np.log10(2.0), atol=1e-5)
    assert relative_recordings([rec], "none", {})[0] is rec
    with pytest.raises(UsageError, match=r"no --baseline for part 'd2'.*given: d1"):
        relative_recordings([rec], "db", {"d1": base})


def test_the_adaptable_graph_is_the_plain_model_until_fed_and_runs_in_the_daemon(tmp_path):
    import onnxruntime as ort
    import torch

    from csi_edge.calibration.adapt import AdaptableSession
    from csi_edge.config import load_config
    from csi_edge.daemon import load_model
    from csi_edge.pipeline import Pipeline
    from csi_edge.tools.sim import stream
    from csi_edge.tools.train.bn_adapt import AdaptableModel
    from csi_edge.tools.train.checkpoint import load_model as load_checkpoint

    data = _npz(tmp_path / "train.npz", classes=("empty", "walking"))
    out = tmp_path / "m"
    assert main(["train", "--data", f"amplitudes:{data}", "--out", str(out), *COMMON]) == 0
    card, onnx_path = load_card(out)
    assert card.adapt.onnx_file == "m.adapt.onnx" and len(card.adapt.batchnorm) == 4  # the compact CNN's four
    x = np.random.default_rng(0).standard_normal((3, 1, 52, 32)).astype(np.float32)
    plain = ort.InferenceSession(str(onnx_path)).run(None, {"csi": x})[0]
    adaptable = ort.InferenceSession(str(tmp_path / "m.adapt.onnx")).run(["class_logits"], {"csi": x})[0]
    assert np.allclose(plain, adaptable, atol=1e-5)  # fed nothing: the same model
    session = AdaptableSession(card, tmp_path, ["cpu"], windows=50)
    session.adapter.min_windows = 2
    for _ in range(3):
        session.run(x + 0.5)  # a shifted stream
    assert session.adapter.active
    feeds = session.adapter.feed_list()
    model, _, _ = load_checkpoint(tmp_path / "m.pt", card)
    with torch.no_grad():
        ref = AdaptableModel(model)(torch.from_numpy(x), *[torch.from_numpy(f) for f in feeds])[0].numpy()
    got = session.session.run(["class_logits"], {"csi": x, **session.adapter.feeds()})[0]
    assert np.allclose(ref, got, atol=1e-4) and not np.allclose(got, plain, atol=1e-3)  # adapted, as torch computes it
    cfg = load_config(None, {"model.path": str(out), "calibration.adapt": "batchnorm", "calibration.adapt_windows": 50,
                             "mqtt.enabled": False})
    pipe = Pipeline(cfg, load_model(cfg), "t")
    results = []
    for chunk, _ in stream(day=1, activity="walking", realtime=False, seconds=30):
        results += pipe.feed(chunk, 0.0)
    status = pipe.snapshot()["adaptation"]
    assert results and status["mode"] == "batchnorm" and status["windows"] == len(results) and status["active"]
