"""Site calibration: baseline files, the link check, drift with hysteresis, novelty, adaptation."""

from __future__ import annotations

import json

import numpy as np
import pytest

from csi_edge.calibration.adapt import StreamAdapter
from csi_edge.calibration.baseline import (
    Baseline,
    BaselineMismatchError,
    LinkIdentity,
    StreamIdentity,
    check_link,
    load_baseline,
)
from csi_edge.calibration.drift import DriftMonitor, DriftSettings
from csi_edge.calibration.novelty import auroc, fit_quantiles, novelty_from_scores, novelty_score
from csi_edge.calibration.relative import relative_dB
from csi_edge.calibration.stats import BaselineBuilder, WindowStats, shape_drift_dB, window_stats
from csi_edge.errors import DataError
from csi_edge.frames import empty_meta
from csi_edge.model.card import AdaptSpec
from csi_edge.model.postprocess import PostProcessor
from csi_edge.protocol import Hello

S = 52
PROFILE = np.linspace(10.0, 20.0, S)
LINK = LinkIdentity(channel=11, bandwidth_MHz=40, secondary="below", rx_mac="1a:00:00:00:00:01", tx_mac="1a:00:00:00:00:00")


def baseline(**kw) -> Baseline:
    return Baseline(profile=tuple(PROFILE), spread=tuple(np.full(S, 0.5)), link=kw.pop("link", LINK), **kw)


def windows(n: int, change_dB: np.ndarray | float = 0.0, flicker: float = 0.5, seed: int = 0) -> np.ndarray:
    """n windows of 40 packets around PROFILE changed by `change_dB`, with a given flicker (std)."""
    rng = np.random.default_rng(seed)
    level = PROFILE * 10 ** (np.asarray(change_dB) / 20)
    noise = rng.standard_normal((n, 40, S))
    noise = (noise - noise.mean(axis=1, keepdims=True)) / noise.std(axis=1, keepdims=True)
    return (level + flicker * noise).astype(np.float32)


def test_baseline_round_trips_and_bad_files_are_one_line(tmp_path):
    b = baseline(gains={"agc_gain": 34.0}, windows=10, seconds=12.5, source="sim")
    b.save(tmp_path / "b.json")
    back = load_baseline(tmp_path / "b.json")
    assert back.link == LINK and back.windows == 10 and np.allclose(back.profile, PROFILE, atol=1e-4)
    with pytest.raises(DataError, match="baseline not found .*csi-edge calibrate"):
        load_baseline(tmp_path / "missing.json")
    (tmp_path / "other.json").write_text(json.dumps({"schema": "csi-edge/model-card/2"}))
    with pytest.raises(DataError, match=r"other.json: schema is 'csi-edge/model-card/2'"):
        load_baseline(tmp_path / "other.json")
    data = b.to_dict()
    data["spread"] = data["spread"][:10]
    (tmp_path / "short.json").write_text(json.dumps(data))
    with pytest.raises(DataError, match=r"short.json: profile and spread need the same number"):
        load_baseline(tmp_path / "short.json")


def test_a_baseline_from_another_link_is_refused_naming_what_differs():
    b = baseline()
    check_link(b, LinkIdentity(channel=11, bandwidth_MHz=40, tx_mac=LINK.tx_mac), "b.json")  # unknown fields not compared
    with pytest.raises(BaselineMismatchError) as exc:
        check_link(b, LinkIdentity(channel=6, bandwidth_MHz=40, tx_mac="aa:bb:cc:dd:ee:ff"), "b.json")
    msg = str(exc.value)
    assert "\n" not in msg and msg.startswith("b.json: baseline recorded on another link")
    assert "channel 11 (stream: 6)" in msg and "tx_mac 1a:00:00:00:00:00 (stream: aa:bb:cc:dd:ee:ff)" in msg


def test_stream_identity_prefers_the_hello_and_ignores_a_stray_frame():
    meta = empty_meta(20)
    meta["channel"], meta["bandwidth"], meta["secondary_channel"], meta["mac"] = 6, 1, 1, 0x48E729893A50
    meta["bandwidth"][3], meta["mac"][3] = 0, 0xC0A5E8F3C118  # one frame of another device (as in the real recordings)
    acc = StreamIdentity()
    acc.add(meta)
    ident = acc.identity
    assert (ident.channel, ident.bandwidth_MHz, ident.secondary, ident.tx_mac) == (6, 40, "above", "48:e7:29:89:3a:50")
    hello = Hello(1, 1, 0, 1, "1a:00:00:00:00:01", "1a:00:00:00:00:00", 11, 2, 1, 0, 100, 0, 0, 921600, 1, 1, 100, "b",
                  status=0, csi_scale=1, csi_shift=4, country="01", error_code=0, error="")
    acc.add(empty_meta(0), [hello])
    ident = acc.identity
    assert (ident.channel, ident.rx_mac, ident.tx_mac, ident.csi_scale) == (11, "1a:00:00:00:00:01", "1a:00:00:00:00:00", "manual:4")


def test_builder_takes_medians_so_a_person_leaving_does_not_spoil_the_profile():
    b = BaselineBuilder(40, 10)
    b.add_windows(windows(30, change_dB=np.where(np.arange(S) < 26, 3.0, -3.0), flicker=2.0, seed=1))  # someone walks out
    b.add_windows(windows(70, flicker=0.5, seed=2))
    built = b.build()
    assert np.allclose(built.profile, PROFILE, rtol=0.01) and np.allclose(built.spread, 0.5, rtol=0.05)
    assert built.null_drift_dB["p50"] < 0.05 and built.windows == 100


def _monitor(**kw) -> DriftMonitor:
    return DriftMonitor(baseline(), DriftSettings(alarm_dB=1.5, clear_dB=1.0, hold_s=3.0, tau_s=0.5, quiet_motion=1.5), 0.1)


SHAPE = np.where(np.arange(S) % 2 == 0, 2.5, -2.5)  # a 2.5 dB change of the room's frequency response


def test_drift_alarm_needs_the_hold_time_and_clears_with_hysteresis():
    m = _monitor()
    m.update(window_stats(windows(20, change_dB=SHAPE + 1.0)))  # + a common gain change, which is not drift
    assert m.drift_dB == pytest.approx(2.5, abs=0.05) and not m.alarm  # 2 s above: not yet
    m.update(window_stats(windows(15, change_dB=SHAPE)))
    assert m.alarm
    m.update(window_stats(windows(60, change_dB=SHAPE, flicker=2.0)))  # someone walks about: no evidence either way
    assert m.alarm
    m.update(window_stats(windows(25, change_dB=0.0)))
    assert m.drift_dB < 1.0 and m.alarm  # below the clear level for less than the hold time
    m.update(window_stats(windows(20, change_dB=0.0)))
    assert not m.alarm


def test_drift_between_the_two_levels_never_flaps():
    m = _monitor()
    m.update(window_stats(windows(100, change_dB=SHAPE)))
    assert m.alarm
    states = []
    for k in range(20):  # drift wanders between clear (1.0) and alarm (1.5) levels
        m.update(window_stats(windows(5, change_dB=SHAPE * (0.5 if k % 2 else 0.56), seed=k)))
        states.append(m.alarm)
    assert all(states)
    assert 1.0 < m.drift_dB < 1.5


def test_shape_drift_ignores_a_common_gain():
    change = np.full((1, S), 3.0)
    assert shape_drift_dB(change)[0] == pytest.approx(0.0)
    assert relative_dB(PROFILE * 2, PROFILE) == pytest.approx(np.full(S, 20 * np.log10(2)), abs=1e-4)


def test_novelty_is_the_fraction_of_held_out_scores_below():
    held_out = np.arange(1000, dtype=float)
    q = fit_quantiles(held_out)
    assert novelty_from_scores(np.array([-5.0, 0.0, 499.5, 999.0, 5000.0]), q) == pytest.approx([0, 0, 0.5, 1, 1], abs=0.002)
    plateau = fit_quantiles(np.r_[np.zeros(600), np.linspace(0.1, 1, 400)])
    assert novelty_from_scores(np.array([0.0]), plateau)[0] == 0.0  # a score as low as most held-out windows


def test_novelty_scores_and_auroc():
    logits = np.array([[10.0, 0.0, 0.0], [1.0, 1.0, 1.0]])
    msp, energy = novelty_score("msp", logits), novelty_score("energy", logits)
    assert msp[0] < 0.01 and msp[1] == pytest.approx(2 / 3) and energy[0] < energy[1]
    rng = np.random.default_rng(0)
    known, unknown = rng.normal(0, 1, 500), rng.normal(1, 1, 300)
    from sklearn.metrics import roc_auc_score

    expected = roc_auc_score(np.r_[np.zeros(500), np.ones(300)], np.r_[known, unknown])
    assert auroc(known, unknown) == pytest.approx(expected, abs=1e-9)
    assert auroc(np.array([1.0, 1.0]), np.array([1.0])) == 0.5 and np.isnan(auroc(known, np.zeros(0)))


def test_postprocessor_reports_unknown_above_the_threshold_and_resumes():
    post = PostProcessor(("empty", "walking"), smoothing=1.0, novelty_threshold=0.9)
    logits = {"activity": np.array([[0.0, 3.0]] * 3, dtype=np.float32)}
    out = post(logits, np.array([0.5, 0.95, 0.2]))
    assert [e.activity for e in out] == ["walking", "unknown", "walking"]
    assert out[1].confidence == 0.95 and out[1].novelty == 0.95 and set(out[1].probabilities) == {"empty", "walking"}
    assert PostProcessor(("empty", "walking"))(logits)[0].novelty is None


def test_adapter_is_bounded_reversible_and_freezes():
    spec = AdaptSpec(mean=tuple(np.zeros(S)), std=tuple(np.ones(S)))
    a = StreamAdapter(spec, windows=50, min_windows=10, max_gain=2.0, mode="mean-std")
    rng = np.random.default_rng(0)
    x = (3.0 * rng.standard_normal((5, 40, S))).astype(np.float32)
    assert a(x) is x  # identity before min_windows
    for _ in range(4):
        a.update(3.0 * rng.standard_normal((5, 40, S)))
    y = a(x)
    assert a.active and np.allclose(a.gain(), 1 / 2.0)  # 1/3 clipped to 1/2
    assert np.std(y) == pytest.approx(np.std(x) / 2, rel=0.1)
    a.frozen = True
    seen = a.seen
    a.update(x)
    assert a.seen == seen
    a.reset()
    assert not a.active and a(x) is x
    m = StreamAdapter(AdaptSpec(mean=tuple(np.ones(S)), std=tuple(np.ones(S))), min_windows=1)
    m.update(x + 5.0)
    assert np.allclose(m(x + 5.0).mean(axis=(0, 1)), 1.0, atol=0.3) and np.allclose(m.gain(), 1.0)  # mean only


def test_window_stats_shapes():
    stats = window_stats(windows(3))
    assert isinstance(stats, WindowStats) and stats.profile.shape == (3, S) and stats.flicker.shape == (3, S)


def test_two_sided_novelty_flags_scores_below_the_held_out_range():
    from csi_edge.calibration.novelty import novelty
    from csi_edge.model.card import NoveltySpec

    held = np.linspace(-5.0, -1.0, 1000)  # energy scores of validation windows
    spec = NoveltySpec("energy", fit_quantiles(held), 0.99, "validation", tails="both")
    confident = np.array([[30.0, 0.0]])  # far more confident than any validation window: energy -30
    usual = np.array([[3.0, 0.0]])
    assert novelty(spec, confident)[0] == 1.0 and novelty(spec, usual)[0] < 0.9
    upper = NoveltySpec("energy", spec.quantiles, 0.99)
    assert novelty(upper, confident)[0] == 0.0


def test_positions_are_withheld_while_the_room_has_changed(tmp_path):
    """A position head's skill was measured in the room as it was: while the drift alarm says the
    room changed (simulated day 3, furniture moved, against a day-1 baseline), the pipeline
    publishes no position; before the alarm it does (presence forced true)."""
    pytest.importorskip("onnx")
    from csi_edge.calibration.cli import record
    from csi_edge.config import load_config
    from csi_edge.daemon import load_model
    from csi_edge.model.card import Skill
    from csi_edge.pipeline import Pipeline
    from csi_edge.tools.bench.tiny_model import build_tiny_model
    from csi_edge.tools.sim import stream

    sim = {"sim.realtime": False, "sim.activity": "empty", "sim.seed": 7, "mqtt.enabled": False}
    record(load_config(None, sim), "sim", 20.0, 100, 10, progress=False).save(tmp_path / "day1.json")
    model = build_tiny_model(tmp_path / "m", window=100, hop=10, position_skill=Skill(rmse_m=0.5, baseline_rmse_m=1.0,
                                                                                         measured_on="validation"))  # fmt: skip
    cfg = load_config(None, {"calibration.baseline": str(tmp_path / "day1.json"), "model.path": str(model),
                             "model.presence_threshold": 0.0, "mqtt.enabled": False})  # fmt: skip
    pipe = Pipeline(cfg, load_model(cfg), "t")
    before, after = [], []
    for data, truth in stream(day=3, activity="lying", seed=1, realtime=False, seconds=90):
        results = pipe.feed(data, float(truth["timestamp_us"][-1]) / 1e6 if len(truth) else 0.0)
        assert pipe.calibration is not None
        (after if pipe.calibration.alarm else before).extend(results)
    assert before and after, "the alarm must come during the stream, not at its start"
    assert all(r.estimate.presence for r in before + after)
    assert any(r.estimate.position is not None for r in before)
    assert all(r.estimate.position is None for r in after)
