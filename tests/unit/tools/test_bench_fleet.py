"""`csi-edge bench fusion` and `csi-edge bench fleet` run end to end (small and bounded)."""

from __future__ import annotations

import csv
import shutil
import subprocess
import sys

import pytest

from csi_edge.tools.bench.fusion import aligned

pytest.importorskip("onnx")


def test_rounds_take_each_links_latest_once_every_link_has_a_new_state():
    per_link = {"a": [{"packet_seq": s} for s in (10, 20, 30)], "b": [{"packet_seq": s} for s in (12, 14, 33)]}
    rounds = aligned(per_link)
    assert [(r["a"]["packet_seq"], r["b"]["packet_seq"]) for r in rounds] == [(10, 12), (20, 14), (30, 33)]


def test_fusion_evaluation_scores_each_link_and_the_fusion(tmp_path):
    from csi_edge.tools.bench.tiny_model import build_tiny_model

    for link in (0, 1):
        build_tiny_model(tmp_path / "models", name=f"link{link}", seed=link)
    out = tmp_path / "eval.csv"
    res = subprocess.run([sys.executable, "-m", "csi_edge.cli", "bench", "fusion", "--models", str(tmp_path / "models"), "--links", "0,1",
                          "--days", "2", "--seeds", "5", "--seconds", "5", "--csv", str(out), "--plot", str(tmp_path / "eval.png")],
                         capture_output=True, text=True, timeout=300)  # fmt: skip
    assert res.returncode == 0, res.stderr[-2000:]
    rows = list(csv.DictReader(out.open()))
    assert {r["source"] for r in rows} >= {"link0", "link1", "fused-product", "fused-mean", "fused-product+weights"}
    assert all(0.0 <= float(r["accuracy"]) <= 1.0 and int(r["n"]) > 0 for r in rows)
    assert (tmp_path / "eval.png").stat().st_size > 0
    missing = subprocess.run([sys.executable, "-m", "csi_edge.cli", "bench", "fusion", "--models", str(tmp_path / "none")],
                             capture_output=True, text=True, timeout=60)  # fmt: skip
    assert missing.returncode == 2 and "--train" in missing.stderr


@pytest.mark.skipif(shutil.which("mosquitto") is None and not shutil.os.path.exists("/usr/sbin/mosquitto"), reason="needs mosquitto")
def test_fleet_bench_measures_fused_output(tmp_path):
    out = tmp_path / "fleet.csv"
    res = subprocess.run([sys.executable, "-m", "csi_edge.cli", "bench", "fleet", "--nodes", "3", "--seconds", "1", "--warmup", "1",
                          "--csv", str(out), "--plot", str(tmp_path / "fleet.png")], capture_output=True, text=True, timeout=120)  # fmt: skip
    assert res.returncode == 0, res.stderr[-2000:]
    rows = list(csv.DictReader(out.open()))
    assert [int(r["nodes"]) for r in rows] == [3] and [int(r["rooms"]) for r in rows] == [1]
    assert all(float(r["fused_per_s"]) > 0 and float(r["fuse_cpu_percent"]) >= 0 for r in rows)
    assert (tmp_path / "fleet.png").stat().st_size > 0
