"""The simulator-vs-real comparison script (docs/simulator.md) runs and plots."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from csi_edge.tools.sim import compare_real

REAL = Path(__file__).resolve().parents[3] / ".." / "shared" / "data" / "real"


@pytest.fixture(scope="module")
def real_series():
    if not (REAL / "mendelas-hand").exists():
        pytest.skip(f"real recordings not found at {REAL}")
    return compare_real.load_real(REAL)


def test_metrics_of_real_and_simulated_recordings_are_in_the_same_regime(real_series):
    real = {s.name: compare_real.metrics(s) for s in real_series}
    sim = {s.name: compare_real.metrics(s) for s in compare_real.load_sim(20)}
    static = real["mendelas 140cm static"]
    assert 9.5 < static["interval_median_ms"] < 10.5
    for m in sim.values():
        assert 9.9 < m["interval_median_ms"] < 10.1
        assert 0.5 * static["interval_std_ms"] < m["interval_std_ms"] < 2 * static["interval_std_ms"]
        assert 0.1 < m["loss_seq_pct"] < 3  # ~0.8 % in bursts: short runs vary
    empty = sim["sim empty"]
    assert 0.5 * static["shape_cv"] < empty["shape_cv"] < 2 * static["shape_cv"]
    assert 0.5 * static["scale_cv"] < empty["scale_cv"] < 2 * static["scale_cv"]
    # motion raises variation on both sides
    assert real["mendelas 140cm waving"]["temporal_cv"] > static["temporal_cv"]
    assert sim["sim walking"]["temporal_cv"] > empty["temporal_cv"]


def test_autocorrelation_of_white_noise_is_near_zero_and_of_a_ramp_near_one():
    rng = np.random.default_rng(0)
    white = compare_real.autocorrelation(rng.normal(size=(2000, 4)) + 10, 5)
    assert white[0] == pytest.approx(1.0) and np.all(np.abs(white[1:]) < 0.1)
    slow = compare_real.autocorrelation(np.sin(np.linspace(0, 3, 2000))[:, None] + np.zeros((1, 3)), 5)
    assert np.all(slow[1:] > 0.95)


def test_main_prints_tables_and_writes_readable_pngs(real_series, tmp_path, capsys):
    assert compare_real.main(["--seconds", "3", "--img", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "| sim walking |" in out and "| mendelas 140cm waving |" in out
    pngs = sorted(tmp_path.glob("sim_*.png"))
    assert [p.name for p in pngs] == ["sim_amplitude.png", "sim_autocorrelation.png", "sim_heatmaps.png", "sim_intervals.png", "sim_motion.png"]
    for png in pngs:
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 20_000
