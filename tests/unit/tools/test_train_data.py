"""Training data: lazy windows, group boundaries, per-window targets, SPEC parsing."""

from __future__ import annotations

import numpy as np
import pytest

from csi_edge.errors import DataError, UsageError
from csi_edge.tools.train.datasets import Recording, WindowSet, classes_of, split_random
from csi_edge.tools.train.specs import load_spec, parse_spec


def _rec(n: int, label: str = "walking", part: str = "p", offset: float = 0.0, positions: bool = False) -> Recording:
    feats = (np.arange(n * 4, dtype=np.float32).reshape(n, 4) + offset)
    pos = np.column_stack([np.arange(n), np.zeros(n), np.ones(n)]).astype(np.float32) if positions else None
    return Recording(feats, np.array([label] * n), part, "test", pos)


def test_windows_are_index_arrays_gathered_on_demand():
    recs = [_rec(100), _rec(50, offset=1000.0)]
    ws = WindowSet(recs, window=10, hop=5, classes=("walking",))
    # 100 packets: starts 0..90 step 5 -> 19 windows; 50 packets: 0..40 -> 9 windows
    assert len(ws) == 28
    # only index arrays, nothing of size windows x W x S is held
    held = [v for v in vars(ws).values() if isinstance(v, np.ndarray)]
    assert all(a.ndim == 1 and a.size == len(ws) for a in held)
    x = ws.windows(np.array([0, 19, 27]))
    assert x.shape == (3, 10, 4)
    np.testing.assert_array_equal(x[0], recs[0].features[0:10])
    np.testing.assert_array_equal(x[1], recs[1].features[0:10])
    np.testing.assert_array_equal(x[2], recs[1].features[40:50])


def test_label_is_last_packet_and_position_is_mean():
    rec = _rec(20, positions=True)
    labels = np.array(["empty"] * 10 + ["walking"] * 10)
    rec = Recording(rec.features, labels, "p", "t", rec.positions)
    ws = WindowSet([rec], window=8, hop=1, classes=("empty", "walking"))
    # window starting at 2 ends at packet 9 (empty); starting at 3 ends at 10 (walking)
    assert ws.y[2] == 0 and ws.y[3] == 1
    np.testing.assert_allclose(ws.positions(np.array([3]))[0], [np.mean(np.arange(3, 11)), 0, 1])


def test_unknown_position_windows_are_nan():
    rec = _rec(20, positions=True)
    pos = rec.positions.copy()
    pos[:12] = np.nan
    ws = WindowSet([Recording(rec.features, rec.labels, "p", "t", pos)], window=8, hop=4, classes=("walking",))
    got = ws.positions(np.arange(len(ws)))
    assert np.isnan(got[0]).all()  # packets 0..7 all unknown
    assert np.isnan(got[1]).all()  # packets 4..11 all unknown
    np.testing.assert_allclose(got[2][0], np.mean(np.arange(12, 16)))  # start 8: known 12..15 only


def test_npz_groups_never_share_a_window(tmp_path):
    n = 60
    amp = np.arange(n, dtype=np.float32)[:, None].repeat(3, axis=1)
    group = np.r_[np.zeros(25), np.ones(20), np.zeros(15)].astype(int)  # group 0 comes back: 3 recordings
    label = np.where(np.arange(n) < 30, "empty", "walking")
    np.savez(tmp_path / "a.npz", amplitude=amp, label=label, group=group)
    recs = load_spec(f"amplitudes:{tmp_path / 'a.npz'}")
    assert [len(r) for r in recs] == [25, 20, 15]
    ws = WindowSet(recs, window=10, hop=1, classes=classes_of(recs))
    x = ws.windows(np.arange(len(ws)))[:, :, 0]
    # every window is consecutive packets: no jump across a group boundary
    assert np.all(np.diff(x, axis=1) == 1)
    assert len(ws) == 16 + 11 + 6
    assert classes_of(recs) == ("empty", "walking")


def test_npz_time_gaps_split_recordings(tmp_path):
    t = np.r_[np.arange(30) * 0.01, 5.0 + np.arange(20) * 0.01]  # a 4.7 s gap after row 29
    np.savez(tmp_path / "t.npz", amplitude=np.ones((50, 4), np.float32), label=np.array(["a"] * 50), timestamp_s=t)
    assert [len(r) for r in load_spec(f"amplitudes:{tmp_path / 't.npz'}")] == [30, 20]


def test_npz_positions_and_part(tmp_path):
    n = 30
    np.savez(tmp_path / "b.npz", amplitude=np.ones((n, 52), np.float32), label=np.array(["sitting"] * n),
             x=np.full(n, 1.0), y=np.full(n, 2.0), z=np.full(n, 0.5))
    (rec,) = load_spec(f"amplitudes:{tmp_path / 'b.npz'}?part=day7")
    assert rec.part == "day7"
    np.testing.assert_allclose(rec.positions[0], [1.0, 2.0, 0.5])


def test_random_split_is_seeded_and_disjoint():
    ws = WindowSet([_rec(200)], window=10, hop=2, classes=("walking",))
    a_train, a_val = split_random(ws, 0.2, seed=3)
    b_train, b_val = split_random(ws, 0.2, seed=3)
    np.testing.assert_array_equal(a_val.start, b_val.start)
    assert len(a_val) == round(0.2 * len(ws)) and len(a_train) + len(a_val) == len(ws)
    assert not set(a_train.start) & set(a_val.start)


@pytest.mark.parametrize(
    "spec, expected",
    [
        ("3do:/data/3do?days=1&seq=w1,w2", ("3do", "/data/3do", {"days": "1", "seq": "w1,w2"})),
        ("sim:days=1,2,3&seconds=30", ("sim", "", {"days": "1,2,3", "seconds": "30"})),
        ("sim:", ("sim", "", {})),
        ("csi:../x/*trial01.csv", ("csi", "../x/*trial01.csv", {})),
        ("amplitudes:a.npz?part=d2", ("amplitudes", "a.npz", {"part": "d2"})),
        ("session:runs/s1", ("session", "runs/s1", {})),
    ],
)
def test_parse_spec(spec, expected):
    assert parse_spec(spec) == expected


@pytest.mark.parametrize("spec", ["nope:x", "just-a-path", "csi:", "amplitudes:a.npz?broken"])
def test_parse_spec_rejects(spec):
    with pytest.raises(UsageError):
        parse_spec(spec)


def test_spec_errors_name_the_problem(tmp_path):
    with pytest.raises(DataError, match="not found"):
        load_spec(f"amplitudes:{tmp_path / 'missing.npz'}")
    np.savez(tmp_path / "bad.npz", amplitude=np.ones((3, 4)))
    with pytest.raises(DataError, match="missing array 'label'"):
        load_spec(f"amplitudes:{tmp_path / 'bad.npz'}")
    with pytest.raises(UsageError, match="unknown option 'dayz'"):
        load_spec("sim:dayz=1")
    with pytest.raises(UsageError, match="label-regex"):
        load_spec(f"csi:{tmp_path}/*.csv")
    with pytest.raises(UsageError, match="phase"):
        load_spec(f"amplitudes:{tmp_path / 'bad.npz'}", feature="phase")
    with pytest.raises(DataError, match="no file matches"):
        load_spec(f"csi:{tmp_path}/*.csv", label_regex="(E0\\d)_")


def test_threedo_split_selection():
    from csi_edge.tools.train.specs import _in_split

    assert _in_split(1, "w2", {"train"}) and not _in_split(1, "w4", {"train"})
    assert _in_split(1, "s4", {"val"}) and _in_split(1, "l5", {"test"})
    assert _in_split(2, "w1", {"test"}) and not _in_split(3, "w1", {"train"})


@pytest.mark.slow  # the simulator's first call warms up for ~15 s on this machine
def test_sim_spec_gives_days_as_parts_with_positions():
    recs = load_spec("sim:days=3&seconds=1&sequences=1")
    assert {r.part for r in recs} == {"d3"} and len(recs) == 4
    assert {str(r.labels[0]) for r in recs} == {"empty", "walking", "sitting", "lying"}
    walking = next(r for r in recs if r.labels[0] == "walking")
    assert walking.features.shape[1] == 52 and np.isfinite(walking.positions).all()
    empty = next(r for r in recs if r.labels[0] == "empty")
    assert np.isnan(empty.positions).all()


def test_sim_spec_mixed_runs_hold_transitions():
    recs = load_spec("sim:days=1&seconds=20&sequences=0&mixed=1")
    assert len(recs) == 1 and recs[0].part == "d1" and recs[0].source == "sim day 1 mixed0"
    labels = recs[0].labels
    assert len(labels) > 7800 and len(set(labels.tolist())) >= 2 and np.any(labels[1:] != labels[:-1])


def _write_3do(root, day, seq, label, n=40):
    d = root / f"d{day}" / seq
    d.mkdir(parents=True)
    rng = np.random.default_rng(day)
    lines = ["data,x,y,z,class"]
    for i in range(n):
        arr = ",".join(str(v) for v in rng.integers(-20, 20, 128))
        lines.append(f'"[{arr}]",{i * 0.01:.2f},1.0,0.5,{label}')
    (d / "csiposreg.csv").write_text("\n".join(lines) + "\n")


def test_threedo_spec_reads_days_sequences_and_split(tmp_path):
    for day, seq, label in [(1, "w1", 1), (1, "w4", 1), (1, "s5", 2), (2, "l1", 3)]:
        _write_3do(tmp_path, day, seq, label)
    train = load_spec(f"3do:{tmp_path}?days=1&split=train")
    assert [r.source.split("/")[-1] for r in train] == ["w1"] and train[0].labels[0] == "walking"
    assert train[0].positions.shape == (40, 3) and train[0].layouts == ("below",)
    test = load_spec(f"3do:{tmp_path}?split=test")
    assert sorted((r.part, r.source.split("/")[-1]) for r in test) == [("d1", "s5"), ("d2", "l1")]
    assert [r.labels[0] for r in load_spec(f"3do:{tmp_path}?seq=l1")] == ["lying"]


def test_session_spec_reads_a_real_capture_session(tmp_path):
    """A session recorded by the capture tool (real Recorder, replay source) -> labelled recordings."""
    import io

    from csi_edge import protocol as p
    from csi_edge.source.replay import ReplaySource
    from csi_edge.tools.capture.labeller import Labeller, ProtocolState
    from csi_edge.tools.capture.labels import DEFAULT_CLASSES, parse_protocol
    from csi_edge.tools.capture.recorder import Recorder, RecordOptions
    from csi_edge.tools.capture.ui import PlainUI

    n = 600
    h = np.zeros(n, dtype=p.CSI_HEADER_DTYPE)
    h["seq"] = np.arange(n)
    h["timestamp_us"] = 1_000_000 + np.arange(n) * 10_000
    h["rssi"], h["noise_floor"], h["channel"], h["secondary_channel"], h["bandwidth"], h["csi_len"] = -50, -95, 11, 2, 1, 128
    csi = np.random.default_rng(0).integers(-40, 40, (n, 128)).astype(np.int8)
    src = tmp_path / "stream.bin"
    src.write_bytes(p.encode_csi_batch(h, csi))
    protocol = "empty:300p,walking:300p"
    opts = RecordOptions(out=tmp_path / "s1", source_spec=f"replay:{src}", classes=DEFAULT_CLASSES, tags={"day": "2"}, protocol_spec=protocol)

    def labeller(log):
        return Labeller(log, DEFAULT_CLASSES, ProtocolState(parse_protocol(protocol, DEFAULT_CLASSES)))

    Recorder(opts, ReplaySource(str(src), chunk_size=997), labeller).run(PlainUI(err=io.StringIO()))
    recs = load_spec(f"session:{tmp_path / 's1'}")
    assert {r.part for r in recs} == {"d2"}
    labels = np.concatenate([r.labels for r in recs])
    assert sum(len(r) for r in recs) == n and recs[0].features.shape[1] == 52
    assert set(labels) <= {"empty", "walking", ""} and {"empty", "walking"} <= set(labels)
    ws = WindowSet(recs, window=50, hop=25, classes=classes_of(recs))
    assert ws.classes == ("empty", "walking") and len(ws) > 0
