"""Simulated boards: the Python API (csi_edge.tools.sim).

The recordings are decoded with the project's one decoder (StreamDecoder) and the one feature
implementation (features.amplitude), so these tests also pin that the simulator speaks exactly
the formats the rest of csi-edge reads.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from csi_edge import protocol as p
from csi_edge.decoder import decode_bytes
from csi_edge.features import amplitude
from csi_edge.layout import LAYOUTS, lltf_complex
from csi_edge.tools.sim import ACTIVITIES, TRUTH_DTYPE, benchmark_days, simulate, stream

REAL = Path(__file__).resolve().parents[3] / ".." / "shared" / "data" / "real"


@pytest.fixture(scope="module")
def mixed():
    return simulate(200, day=1, activity="mixed", seed=4)


def same_truth(a: np.ndarray, b: np.ndarray) -> bool:
    return len(a) == len(b) and all(np.array_equal(a[f], b[f], equal_nan=a[f].dtype.kind == "f") for f in a.dtype.names)


def decode(data: bytes):
    decoded, decoder = decode_bytes(data)
    return decoded, decoder


def test_same_arguments_give_identical_bytes():
    a = simulate(6, day=2, activity="walking", seed=11)
    b = simulate(6, day=2, activity="walking", seed=11)
    assert a.to_v1() == b.to_v1()
    assert a.to_esp_csi(True) == b.to_esp_csi(True)
    assert same_truth(a.truth, b.truth)
    c = simulate(6, day=2, activity="walking", seed=12)
    assert not np.array_equal(a.csi[: len(c)], c.csi[: len(a)])


def test_v1_bytes_decode_with_zero_errors_and_match(mixed):
    decoded, decoder = decode(mixed.to_v1())
    assert dict(decoder.errors) == {}
    frames = decoded.frames
    assert len(frames) == len(mixed)
    assert np.array_equal(frames.meta["seq"], mixed.truth["seq"])
    assert np.array_equal(frames.meta["timestamp_us"], mixed.truth["timestamp_us"])
    assert np.array_equal(frames.csi, mixed.csi)
    assert np.all(frames.meta["secondary_channel"] == 2) and np.all(frames.meta["channel"] == 11)


def test_esp_csi_text_decodes_to_the_same_frames(mixed):
    part = mixed[:800]
    text = part.to_esp_csi(header_line=True)
    assert text.startswith(b"type,id,mac,rssi,rate,sig_mode,mcs,bandwidth,smoothing,not_sounding,")
    assert text.splitlines()[1].startswith(b"CSI_DATA,")
    decoded, decoder = decode(text)
    assert dict(decoder.errors) == {}
    frames = decoded.frames
    assert len(frames) == len(part)
    assert np.array_equal(frames.meta["seq"], part.truth["seq"])
    assert np.array_equal(frames.csi[:, :128], part.csi)
    assert np.array_equal(frames.meta["rssi"], part.header["rssi"])
    assert np.array_equal(frames.meta["timestamp_us"] & 0xFFFFFFFF, part.header["timestamp_us"].astype(np.int64) & 0xFFFFFFFF)


def test_truth_is_per_received_packet_and_lost_packets_are_absent(mixed):
    truth = mixed.truth
    assert truth.dtype == TRUTH_DTYPE
    assert mixed.sent == 20000
    lost = mixed.sent - len(mixed)
    assert 0.002 * mixed.sent <= lost <= 0.03 * mixed.sent
    assert np.all(np.diff(truth["seq"]) >= 1) and truth["seq"][-1] < mixed.sent
    assert np.all(np.diff(truth["timestamp_us"]) > 0)
    present = set(np.unique(truth["activity"]).tolist())
    assert present == {0, 1, 2, 3}  # 200 s of "mixed" (seed 4) holds all four activities
    empty = truth["activity"] == ACTIVITIES.index("empty")
    assert np.all(np.isnan(truth["x"][empty])) and not np.any(np.isnan(truth["x"][~empty]))
    inside = ~empty
    assert np.all((truth["x"][inside] >= 0) & (truth["x"][inside] <= 4))
    assert np.all((truth["y"][inside] >= 0) & (truth["y"][inside] <= 2.5))


def test_packet_intervals_look_like_a_100_hz_esp_now_link(mixed):
    t = mixed.header["timestamp_us"].astype(np.int64)
    seq = mixed.header["seq"].astype(np.int64)
    consecutive = np.diff(seq) == 1
    interval_ms = np.diff(t)[consecutive] / 1000.0
    assert 9.9 < np.median(interval_ms) < 10.1
    assert 1.0 < interval_ms.std() < 4.0  # real boards: 2.9-3.3 ms (docs/simulator.md)


def test_bytes_follow_the_esp32_ht40_below_layout_and_zero_positions(mixed):
    valid = np.zeros(64, bool)
    valid[LAYOUTS["below"]] = True
    raw = mixed.csi.reshape(len(mixed), 64, 2)
    assert np.all(raw[:, ~valid] == 0)
    assert np.count_nonzero(raw[:, valid]) > 0.9 * raw[:, valid].size
    amp, ok = amplitude(mixed.to_frames())
    assert ok.all()
    assert 8 < amp.mean() < 25 and amp.max() < 127  # real S3 L-LTF amplitudes are ~10-20


def test_zero_positions_match_a_real_esp32_s3_ht40_recording(mixed):
    path = REAL / "esp-csi-s3" / "los_session01.csv"
    if not path.exists():
        pytest.skip(f"real recordings not found at {REAL}")
    decoded, _ = decode(path.read_bytes())
    real = decoded.frames.csi[:, :128].reshape(-1, 64, 2)
    real_zero = np.all(real == 0, axis=(0, 2))
    sim_zero = np.all(mixed.csi.reshape(-1, 64, 2) == 0, axis=(0, 2))
    assert np.array_equal(real_zero, sim_zero)


def test_none_layout_with_first_word_invalid():
    rec = simulate(3, activity="walking", seed=2, secondary="none", first_word_invalid=True)
    frames, decoder = decode(rec.to_v1())
    assert dict(decoder.errors) == {}
    meta = frames.frames.meta
    assert np.all(meta["secondary_channel"] == 0) and np.all(meta["first_word_invalid"] == 1)
    assert np.all(meta["bandwidth"] == 0)
    raw = rec.csi.reshape(len(rec), 64, 2)
    assert np.all(rec.csi[:, :4] == [84, -64, 4, 0])
    assert np.all(raw[:, 27:38] == 0)  # guard band of the 0..31, -32..-1 layout
    h, ok = lltf_complex(frames.frames)
    assert ok.all() and np.all(np.abs(h).mean(axis=1) > 5)
    assert np.array_equal(h[:, 26], h[:, 27])  # +1 sits in the invalid first word: taken from +2


def test_rssi_and_agc_gain_follow_the_received_power(mixed):
    h = mixed.header
    rssi, agc = h["rssi"].astype(float), h["agc_gain"].astype(float)
    assert -70 < rssi.mean() < -25 and np.all(h["noise_floor"] < -85)
    assert np.corrcoef(rssi, agc)[0, 1] < -0.8  # the AGC adds gain when the signal is weak
    walking = mixed.truth["activity"] == ACTIVITIES.index("walking")
    empty = mixed.truth["activity"] == ACTIVITIES.index("empty")
    assert rssi[walking].std() > 1.5 * rssi[empty].std()  # a body in the link moves the power


def test_gain_lock_freezes_the_gains_after_the_collection_window():
    rec = simulate(5, activity="walking", seed=3, gain_lock=True, loss=False)
    lock = (rec.header["flags"].astype(int) >> p.FLAG_GAIN_LOCK_SHIFT) & 3
    assert np.all(lock[:100] == 1) and np.all(lock[100:] == 2)
    assert len(np.unique(rec.header["agc_gain"][100:])) == 1
    assert len(np.unique(rec.header["fft_gain"][100:])) == 1
    free = simulate(5, activity="walking", seed=3, loss=False)
    assert len(np.unique(free.header["agc_gain"][100:])) > 3  # the AGC follows the walking person


def test_motion_raises_amplitude_temporal_variance():
    def cv(activity: str) -> float:
        amp, _ = amplitude(simulate(20, activity=activity, seed=5).to_frames())
        return float(np.mean(amp.std(axis=0) / amp.mean(axis=0)))

    empty = cv("empty")
    assert cv("walking") > 1.4 * empty
    assert cv("sitting") > 1.05 * empty
    assert cv("lying") > 1.05 * empty


def _static_profile(day: int, seed: int) -> np.ndarray:
    amp, _ = amplitude(simulate(10, day=day, activity="empty", seed=seed).to_frames())
    return (amp / amp.mean(axis=1, keepdims=True)).mean(axis=0)


def test_day3_static_channel_differs_more_than_day2():
    day1 = _static_profile(1, 1)
    d11 = np.linalg.norm(day1 - _static_profile(1, 2))
    d12 = np.linalg.norm(day1 - _static_profile(2, 3))
    d13 = np.linalg.norm(day1 - _static_profile(3, 4))
    assert d11 < d12 < d13
    assert d13 > 3 * d12


def test_stream_is_the_same_packets_with_hello_and_stats():
    chunks = list(stream(day=1, activity="mixed", seed=4, fmt="v1", realtime=False, seconds=5))
    data = b"".join(c for c, _ in chunks)
    truth = np.concatenate([t for _, t in chunks])
    decoded, decoder = decode(data)
    assert dict(decoder.errors) == {}
    assert data.startswith(p.SYNC + bytes([p.VERSION, p.TYPE_HELLO]))
    assert len(decoded.hellos) == 1 and decoded.hellos[0].role == 1
    assert len(decoded.stats) == 5
    assert decoded.stats[-1].seq_gaps == 500 - len(truth)
    ref = simulate(5, day=1, activity="mixed", seed=4)
    assert np.array_equal(decoded.frames.csi, ref.csi)
    assert same_truth(truth, ref.truth)
    assert all(len(t) <= 10 for _, t in chunks)


def test_realtime_stream_yields_the_same_bytes_as_fast():
    kwargs = dict(day=2, activity="sitting", seed=8, fmt="v1", seconds=0.5)
    fast = b"".join(c for c, _ in stream(realtime=False, **kwargs))
    paced = b"".join(c for c, _ in stream(realtime=True, **kwargs))  # background prefetch path
    assert paced == fast and len(fast) > 40 * 172


def test_stream_esp_csi_starts_with_the_header_line():
    chunks = stream(day=3, activity="lying", seed=1, fmt="esp-csi", realtime=False, seconds=1)
    first, _ = next(chunks)
    assert first.startswith(b"type,id,mac,")
    rest = b"".join(c for c, _ in chunks)
    assert b"type,id" not in rest
    decoded, decoder = decode(first + rest)
    assert dict(decoder.errors) == {} and len(decoded.frames) > 90


def test_benchmark_days_defines_labelled_sequences_per_day():
    seqs = benchmark_days(days=(1, 3), activities=("empty", "sitting"), sequences=2, seconds=2, progress=False)
    assert [(s.day, s.activity, s.index) for s in seqs] == [
        (d, a, i) for d in (1, 3) for a in ("empty", "sitting") for i in range(2)
    ]
    for s in seqs:
        assert len(s.frames) == len(s.labels) == len(s.positions) > 180
        assert np.all(s.labels == ACTIVITIES.index(s.activity))
        assert s.positions.shape[1] == 3 and s.positions.dtype == np.float32
        assert np.isnan(s.positions).all() == (s.activity == "empty")
    assert len({s.seed for s in seqs if s.day == 1}) == 4
    assert not np.array_equal(seqs[0].frames.csi[:100], seqs[4].frames.csi[:100])


def test_bad_arguments_are_rejected():
    with pytest.raises(ValueError, match="day"):
        simulate(1, day=4)
    with pytest.raises(ValueError, match="activity"):
        simulate(1, activity="dancing")
    with pytest.raises(ValueError, match="format"):
        next(stream(fmt="csv", realtime=False, seconds=1))


def test_body_shadows_the_static_paths_its_fresnel_zone_covers():
    from csi_edge.tools.sim.room import room_for_day
    from csi_edge.tools.sim.shadowing import shadowing, static_rays

    rays = static_rays(room_for_day(1))
    # standing on the link midpoint, 2 m to the side, lying on the link midpoint, 0.7 m off it
    xy = np.array([[2.0, 1.25], [0.2, 1.25], [2.0, 1.25], [2.7, 1.25]])
    top = np.array([1.75, 1.75, 0.3, 1.75])
    f = shadowing(rays, xy, top, wavelength=0.122)
    direct, floor, ceiling, wall_left = f[:, 0], f[:, 1], f[:, 2], f[:, 3]
    assert direct[0] == pytest.approx(0.3, abs=0.01)  # ~10 dB, counted once
    assert direct[1] > 0.99 and wall_left[1] < 0.8  # off the link: the side-wall ray instead
    assert direct[2] > 0.99 and floor[2] < 0.35  # lying: below the link, on the floor ray
    assert 0.3 < direct[3] < 0.95 and np.all(ceiling > 0.99)


def test_slow_motion_noise_keeps_its_size_on_short_segments():
    from csi_edge.tools.sim.person import smooth_noise

    rng = np.random.default_rng(0)
    short = smooth_noise(rng, 100, 0.05, 0.1, 2)  # 1 s of a 0.05 Hz process: a slow wander, not +-0.1 m
    assert np.abs(short).max() < 0.3 and short.std(axis=0).max() < 0.03
    long = np.concatenate([smooth_noise(rng, 6000, 0.5, 0.1, 1) for _ in range(20)])
    assert 0.08 < long.std() < 0.12


def test_a_lying_person_stays_near_one_place_and_sitting_sequences_take_both_chairs():
    from csi_edge.tools.sim.room import room_for_day

    lying = simulate(60, activity="lying", seed=3)
    xy = np.column_stack([lying.truth["x"], lying.truth["y"]])
    assert np.linalg.norm(xy - xy.mean(axis=0), axis=1).max() < 0.6  # shifts of ~0.1 m, no metres of sliding
    chairs = room_for_day(2).chairs
    seqs = [s for s in benchmark_days(days=[2], activities=["sitting"], sequences=2, seconds=5, progress=False)]
    seats = [int(np.argmin(np.linalg.norm(chairs - np.nanmean(s.positions[:, :2], axis=0), axis=1))) for s in seqs]
    assert seats == [0, 1]


def test_mixed_segments_can_be_fixed_length():
    rec = simulate(100, activity="mixed", seed=1, segment_s=(25, 25))
    codes = rec.truth["activity"]
    changes = np.flatnonzero(np.diff(codes)) + 1
    assert len(set(codes[np.r_[0, changes]].tolist())) == 4  # all four activities in 100 s
    gaps = np.diff(rec.truth["seq"][changes])
    assert np.all(np.abs(gaps - 2500) <= 1)
    with pytest.raises(ValueError, match="segment_s"):
        simulate(5, segment_s=(0.5, 2))
