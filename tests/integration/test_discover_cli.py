"""`csi-edge discover` end to end on tiny data: JSON interface, files, naming, export into the daemon."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("torch")

from csi_edge.cli import main  # noqa: E402
from csi_edge.model.card import load_card  # noqa: E402

FAST = ["--window", "32", "--hop", "8", "--steps", "8", "--batch", "16", "--heads", "2", "--threads", "1", "--no-progress"]


def _npz(path, labelled=True, n=1200, seed=0):
    """Two activities with different temporal texture, alternating every 300 packets, two groups."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    label = np.where((t // 300) % 2 == 0, "empty", "walking")
    amp = 10 + rng.normal(0, 0.3, (n, 52))
    amp[label == "walking"] += 3 * np.sin(t[label == "walking"] / 3.0)[:, None]
    np.savez(path, amplitude=amp.astype(np.float32), label=label if labelled else np.full(n, ""), group=t // 600)
    return path


def test_json_summary_with_labels_and_the_files(tmp_path, capsys):
    data = _npz(tmp_path / "tiny.npz")
    out = tmp_path / "run"
    code = main(["discover", "--data", f"amplitudes:{data}", "--clusters", "2", "--overclusters", "4", "--out", str(out), "--json", *FAST])
    assert code == 0
    summary = json.loads(capsys.readouterr().out)  # exactly one JSON object on stdout
    for key in ("acc", "nmi", "ari"):
        assert 0 <= summary[key] <= 1 or key == "ari"
        assert key in summary["kmeans"] and key in summary["kmeans_over"]
    assert summary["windows"] == summary["labelled_windows"] == 2 * ((600 - 32) // 8 + 1)
    assert sum(summary["sizes"]) == summary["windows"] and len(summary["over"]["sizes"]) == 4
    rows = (out / "assignments.csv").read_text().splitlines()
    assert rows[0].split(",") == ["recording", "source", "part", "window", "start_packet", "end_packet", "time_s",
                                  "cluster", "confidence", "overcluster", "over_confidence", "label"]
    assert len(rows) == summary["windows"] + 1
    assert rows[1].split(",")[6] == "0.31" and rows[1].split(",")[-1] == "empty"  # time of packet 31 at 100 Hz
    clusters = json.loads((out / "clusters.json").read_text())
    assert [c["windows"] for c in clusters["clusters"]] == summary["sizes"]
    for name in ("timeline.png", "sizes.png", "representatives.png", "overclusters_representatives.png", "timelines/000.png", "timelines/001.png"):
        assert (out / name).read_bytes()[:4] == b"\x89PNG", name


def test_unlabelled_data_is_clustered_without_scores(tmp_path, capsys):
    data = _npz(tmp_path / "raw.npz", labelled=False)
    assert main(["discover", "--data", f"amplitudes:{data}", "--clusters", "2", "--out", str(tmp_path / "run"), "--json", "--no-plots", *FAST]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["acc"] is None and summary["labelled_windows"] == 0 and "kmeans" not in summary
    assert summary["windows"] == 2 * ((600 - 32) // 8 + 1)


def test_named_export_runs_in_the_daemon_unchanged(tmp_path, capsys):
    from csi_edge.tools.sim import simulate

    data = _npz(tmp_path / "tiny.npz")
    run = tmp_path / "run"
    assert main(["discover", "--data", f"amplitudes:{data}", "--clusters", "3", "--out", str(run), "--no-plots", "--no-kmeans", *FAST]) == 0
    capsys.readouterr()
    model = tmp_path / "models" / "found"
    labels = tmp_path / "named.npz"
    code = main(["discover", "--name", str(run), "0=walking,*=empty", "--out", str(model), "--labels-out", str(labels),
                 "--test", f"amplitudes:{data}?part=again", "--json"])
    assert code == 0
    result = json.loads(capsys.readouterr().out)
    assert result["classes"] == ["empty", "walking"] and result["names"]["labels"] == ["walking", "empty", "empty"]
    assert result["test"]["again"]["n"] == result["discovery_data"]["n"]  # the same windows, through ONNX
    assert result["test"]["again"]["accuracy"] == pytest.approx(result["discovery_data"]["accuracy"], abs=1e-3)
    card, _ = load_card(model)
    assert card.classes == ("empty", "walking") and card.outputs == ("class_logits",) and card.window == 32
    named = np.load(labels)
    assert named["amplitude"].shape == (1200, 52) and set(named["label"]) <= {"", "empty", "walking"}
    assert (named["label"] != "").all()  # windows of 32 every 8 packets end on packet 599 of each 600-packet recording

    replay = tmp_path / "walk.bin"
    replay.write_bytes(simulate(3, day=1, activity="walking", seed=1).to_v1())
    proc = subprocess.run([sys.executable, "-m", "csi_edge.cli", "run", "--source", f"replay:{replay}", "--model", str(model),
                           "--no-mqtt", "--jsonl", "-"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    messages = [json.loads(line) for line in proc.stdout.splitlines()]
    states = [m for m in messages if m["topic"] == "state"]
    assert len(states) > 5
    assert all(s["model"] == card.model_id and s["activity"] in card.classes and s["position"] is None for s in states)
    assert all(sum(s["probabilities"].values()) == pytest.approx(1.0, abs=1e-3) for s in states)


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["discover", "0=walking"], "need --name DIR"),
        (["discover", "--data", "sim:days=1", "--clusters", "1", "--out", "x"], "--clusters must be >= 2"),
        (["discover", "--data", "sim:days=1", "--clusters", "4", "--overclusters", "3", "--out", "x"], "--overclusters must be greater"),
        (["discover", "--name", "RUN", "0=a", "--out", "m"], "no name; name them or add *=LABEL"),
        (["discover", "--name", "RUN", "0=a,0=b", "--out", "m"], "cluster 0 is named twice"),
        (["discover", "--name", "RUN", "7=a", "--out", "m"], "cluster must be 0..2"),
        (["discover", "--name", "RUN", "walking", "--out", "m"], "expected CLUSTER=LABEL"),
        (["discover", "--name", "RUN", "*=a"], "give --out models/NAME"),
    ],
)
def test_usage_errors_are_one_line_exit_2(tmp_path, capsys, argv, needle):
    if "RUN" in argv:
        data = _npz(tmp_path / "tiny.npz", n=400)
        assert main(["discover", "--data", f"amplitudes:{data}", "--clusters", "3", "--out", str(tmp_path / "run"), "--no-plots",
                     "--no-kmeans", "--steps", "1", *FAST[:4], "--threads", "1", "--no-progress"]) == 0
        argv = [str(tmp_path / "run") if a == "RUN" else a for a in argv]
        capsys.readouterr()
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert needle in err and len(err.splitlines()) == 1


def test_missing_run_directory_is_a_runtime_error(tmp_path, capsys):
    assert main(["discover", "--name", str(tmp_path / "nope"), "0=a,*=b", "--out", str(tmp_path / "m")]) == 1
    assert "discover.pt: not found" in capsys.readouterr().err


def test_an_unlabelled_capture_session_feeds_discover(tmp_path, capsys):
    from csi_edge.tools.sim import simulate

    replay = tmp_path / "mixed.bin"
    replay.write_bytes(simulate(4, day=1, activity="sitting", seed=2).to_v1())
    session = tmp_path / "session"
    proc = subprocess.run([sys.executable, "-m", "csi_edge.cli", "capture", "record", "--source", f"replay:{replay}", "--out", str(session)],
                          capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert main(["discover", "--data", f"session:{session}", "--clusters", "2", "--out", str(tmp_path / "run"), "--json", "--no-plots", *FAST]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["labelled_windows"] == 0 and summary["windows"] > 30 and summary["acc"] is None
