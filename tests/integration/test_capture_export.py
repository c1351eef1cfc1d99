"""A session recorded from a replayed simulator file: export, plot, trajectory, refusal.

Deterministic: `replay:` of a `sim --out` file, labelled by a packet-count protocol taken from
the simulator's ground truth, so every packet's label is known.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from capture_support import run_cli, sim_file, truth_segments

from csi_edge.decoder import decode_bytes
from csi_edge.features import amplitude
from csi_edge.frames import FrameBatch
from csi_edge.session import load_session, read_stream

SECONDS, SEED = 60, 15  # empty, walking, sitting


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("export")
    stream, truth = sim_file(tmp, "sim.bin", SECONDS, SEED)
    protocol = ",".join(f"{a}:{n}p" for a, n in truth_segments(truth))
    out = tmp / "session"
    run_cli("capture", "record", "--source", f"replay:{stream}", "--out", out, "--protocol", protocol,
            "--tag", "day=2", "--notes", "export test")  # fmt: skip
    return out, stream, truth


def test_raw_export_and_replay_give_back_the_exact_bytes(recorded, tmp_path):
    out, stream, _ = recorded
    path = run_cli("capture", "export", out, "--format", "raw", "--out", tmp_path / "raw.bin").stdout.strip()
    assert open(path, "rb").read() == stream.read_bytes() == read_stream(out)
    again = tmp_path / "again"
    run_cli("capture", "record", "--source", f"replay:{out}", "--out", again)  # a session replays
    assert read_stream(again) == stream.read_bytes()


def test_realtime_replay_records_every_packet_paced_by_the_recorders_own_decode(tmp_path):
    stream, truth = sim_file(tmp_path, "short.bin", 1.5, 3, activity="walking")
    out = tmp_path / "paced"
    run_cli("capture", "record", "--source", f"replay:{stream}", "--realtime", "--out", out, "--label", "walking")
    assert read_stream(out) == stream.read_bytes()
    sess = load_session(out)
    assert sess.frames.meta["seq"].tolist() == [int(r["seq"]) for r in truth]
    assert set(sess.labels.tolist()) == {"walking"}


def test_3do_csv_reads_back_through_the_3do_importer_with_identical_amplitudes_and_labels(tmp_path):
    """A person who sits, then lies (seed 17, no empty room: 3DO rows need a position): the
    truth positions become the session's trajectory (one track point per packet, on the
    session clock), and the exported CSV must import with the same amplitudes, classes and
    positions for every packet."""
    importers = pytest.importorskip("csi_edge.importers", reason="the 3DO importer is not built yet")
    stream, truth = sim_file(tmp_path, "sim.bin", 30, 17)
    segments = truth_segments(truth)
    assert len(segments) >= 2 and "empty" not in dict(segments), "seed 17 must give a person changing activity"
    out = tmp_path / "session"
    run_cli("capture", "record", "--source", f"replay:{stream}", "--out", out,
            "--protocol", ",".join(f"{a}:{n}p" for a, n in segments))  # fmt: skip
    decoded, _ = decode_bytes(stream.read_bytes())
    t_s = (decoded.frames.meta["timestamp_us"] - decoded.frames.meta["timestamp_us"][0]) / 1e6
    track = tmp_path / "track.csv"
    track.write_text("timestamp,x,y,z\n" + "".join(f"{t:.6f},{r['x']},{r['y']},{r['z']}\n" for t, r in zip(t_s, truth, strict=True)))
    run_cli("capture", "attach-trajectory", out, track)
    csv_path = tmp_path / "d1" / "w1" / "csiposreg.csv"
    run_cli("capture", "export", out, "--format", "3do-csv", "--out", csv_path)

    imported = importers.load_3do(csv_path)
    assert imported.bad_rows == 0 and len(imported.frames) == len(truth)
    ours, valid = amplitude(load_session(out).frames)
    theirs, valid_3do = amplitude(imported.frames)
    assert valid.all() and valid_3do.all()
    assert np.array_equal(ours, theirs)
    names = [importers.THREE_DO_CLASSES[int(c)] for c in imported.label]
    assert names == [r["activity"] for r in truth]
    assert np.allclose(imported.x_m, [float(r["x"]) for r in truth], atol=1e-5)
    assert np.allclose(imported.z_m, [float(r["z"]) for r in truth], atol=1e-5)


def test_npz_export_holds_meta_csi_amplitude_and_labels(recorded, tmp_path):
    out, stream, truth = recorded
    path = run_cli("capture", "export", out, "--format", "npz", "--out", tmp_path / "s.npz").stdout.strip()
    data = np.load(path)
    decoded, _ = decode_bytes(stream.read_bytes())
    assert np.array_equal(data["meta"]["seq"], decoded.frames.meta["seq"])
    assert np.array_equal(data["csi"], decoded.frames.csi)
    assert np.array_equal(data["amplitude"], amplitude(decoded.frames)[0])
    assert list(data["label"]) == [r["activity"] for r in truth]
    assert list(data["classes"]) == ["empty", "walking", "sitting", "lying"]
    assert np.array_equal(data["label_code"], [list(data["classes"]).index(r["activity"]) for r in truth])
    assert json.loads(str(data["manifest"]))["notes"] == "export test"
    back = FrameBatch(data["meta"], data["csi"])
    assert np.array_equal(amplitude(back)[0], data["amplitude"])


def test_plot_is_a_png_of_the_session(recorded, tmp_path):
    import matplotlib.image

    out, _, _ = recorded
    png = run_cli("capture", "plot", out, "--out", tmp_path / "s.png").stdout.strip()
    assert open(png, "rb").read(8) == b"\x89PNG\r\n\x1a\n"
    img = matplotlib.image.imread(png)
    assert img.shape[0] >= 600 and img.shape[1] >= 1000
    assert img[..., :3].std() > 0.1  # a picture, not a blank canvas


def test_attach_trajectory_interpolates_linearly_and_reports_coverage(recorded, tmp_path):
    """A straight-line track x = t, y = 2 t, z = 1.5 at 30 Hz from 10 s to 40 s of session time:
    linear interpolation must reproduce the line exactly at every covered packet."""
    out, _, _ = recorded
    t = np.arange(10.0, 40.0 + 1e-9, 1 / 30)
    track = tmp_path / "track.csv"
    track.write_text("timestamp,x,y,z\n" + "".join(f"{v:.9f},{v:.9f},{2 * v:.9f},1.5\n" for v in t))
    text = run_cli("capture", "attach-trajectory", out, track, "--offset", "-5").stdout
    sess = load_session(out)
    rows = np.genfromtxt(out / "trajectory.csv", delimiter=",", names=True)
    clock = rows["t_s"]
    inside = (clock >= 5.0) & (clock <= t[-1] - 5.0)
    assert np.allclose(sess.positions[inside, 0], clock[inside] + 5.0, atol=1e-5)
    assert np.allclose(sess.positions[inside, 1], 2 * (clock[inside] + 5.0), atol=1e-5)
    assert np.all(sess.positions[inside, 2] == 1.5)
    assert np.isnan(sess.positions[~inside]).all()
    coverage = 100.0 * inside.sum() / len(inside)
    assert f"({coverage:.1f} % coverage)" in text
    info = json.loads(run_cli("capture", "info", out, "--json").stdout)
    assert info["trajectory"]["packets_covered"] == int(inside.sum())
    assert run_cli("capture", "verify", out).returncode == 0


def test_recording_into_an_existing_session_refuses_with_one_line(recorded):
    out, stream, _ = recorded
    before = (out / "raw.bin").read_bytes()
    proc = run_cli("capture", "record", "--source", f"replay:{stream}", "--out", out, check=False)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "--append" in proc.stderr
    assert (out / "raw.bin").read_bytes() == before


def test_info_json_has_the_contract_fields(recorded):
    out, _, truth = recorded
    info = json.loads(run_cli("capture", "info", out, "--json").stdout)
    assert info["packets"] == len(truth) and info["lost"] >= 0 and info["recovered"] is False
    assert 59.0 < info["duration_s"] < 61.0
    counts = {}
    for r in truth:
        counts[r["activity"]] = counts.get(r["activity"], 0) + 1
    assert info["labels"] == counts
