"""The demo's truth follower and tally, and the offline live-agreement scorer."""

from __future__ import annotations

import numpy as np

from csi_edge.tools.demo_cli import Tally, Truth, show_health, show_state
from csi_edge.tools.train.agreement import Scored, agreement, reported


def test_tally_counts_agreement_and_prints_a_confusion_table():
    tally = Tally()
    for truth, said in [("sitting", "sitting")] * 3 + [("sitting", "lying"), ("lying", "lying"), (None, "empty")]:
        tally.add(truth, said)
    lines = tally.report()
    assert lines[0].startswith("demo: agreement with the truth 4/5 results (80.0 %); 1 without a truth row")
    assert "reported" in lines[1] and "sitting" in lines[1] and "lying" in lines[1]
    sitting = next(line for line in lines if line.strip().startswith("sitting"))
    assert sitting.split()[1:] == ["3", "1", "75.0", "%"]


def test_truth_rows_marks_and_health_words(tmp_path, capsys):
    path = tmp_path / "t.csv"
    path.write_text("seq,activity,x,y,z\n5,empty,nan,nan,nan\n6,walking,1.0,2.0,0.96\n")
    truth, tally = Truth(path), Tally()
    state = {"time": "2026-01-01T00:00:00.000000", "seq": 1, "activity": "empty", "confidence": 0.9, "latency_ms": 1.0, "position": None}
    show_state({**state, "packet_seq": 5}, truth, tally)
    show_state({**state, "packet_seq": 6}, truth, tally)
    show_state({**state, "packet_seq": 7}, truth, tally)  # lost on air: the last received packet stands in
    show_state({**state, "packet_seq": 99}, truth, tally)
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("  ") and "truth empty    -" in out[0] and "nan" not in out[0]
    assert out[1].startswith("✗ ") and "(1.00, 2.00, 0.96) m" in out[1]
    assert out[2].startswith("✗ ") and "truth walking" in out[2]
    assert "truth unknown" in out[3] and "?" not in out[3]
    show_health({"packet_rate_Hz": 100, "loss_percent": 0.5, "window_fill_percent": 100, "inference_p99_ms": 2, "broker_connected": False})
    assert "broker down" in capsys.readouterr().out
    truth.close()


def test_agreement_follows_the_daemons_post_processing():
    classes = ("empty", "walking")
    truth = np.array([0] * 10 + [1] * 10)
    logits = np.where(truth[:, None] == np.arange(2), 3.0, 0.0)
    logits[16] = [3.0, 0.0]  # one wrong window inside the walking segment
    run = Scored(1, 0, logits, truth, np.ones(20, bool))
    assert reported(run, classes, 1.0, 0.0)[16] == 0  # no smoothing: the blip shows
    assert reported(run, classes, 0.3, 0.0)[16] == 1  # smoothing absorbs one window
    res = agreement([run], classes, 1.0, 0.0)
    assert res["d1"]["agreement"] == 19 / 20 and res["all"]["class_recall"] == {"empty": 1.0, "walking": 0.9}
    assert res["d1"]["confusion"] == [[10, 0], [1, 9]]
