"""Recording from the simulated board on a real pty, with labels changing on a schedule."""

from __future__ import annotations

import json
import signal
import subprocess

import numpy as np
from capture_support import CSI_EDGE, SimPty, run_cli, sim_file, truth_segments

from csi_edge.session import load_session

SECONDS, SEED = 60, 15  # seed 15: the person is absent, then walks, then sits (two changes)


def test_protocol_labels_land_on_the_simulators_activity_boundaries(tmp_path):
    """Every recorded packet carries exactly the activity the simulator says it had.

    Design (exact, no timing): the simulator is deterministic, so a reference run written to a
    file (`sim --out`) tells, before recording, how many *received* packets each activity
    segment has. Those counts become a packet-count protocol (`empty:3646p,walking:2172p,...`).
    The same simulation is then served on a pty (`sim --pty --fast`, with its own ground
    truth file) and recorded with that protocol; when the simulator has drained the pty and
    exited, the recorder is stopped with SIGTERM. Labels switch at the first packet decoded
    after each segment, so packet i must carry truth activity i: checked for every packet by
    TX sequence number, which also proves no packet was lost between pty and session (up to
    the pty's hang-up at the end, which may discard bytes the recorder had not read yet).
    """
    _, ref_truth = sim_file(tmp_path, "ref.bin", SECONDS, SEED)
    segments = truth_segments(ref_truth)
    assert len(segments) >= 3, "the chosen seed must give at least two activity changes"
    protocol = ",".join(f"{activity}:{n}p" for activity, n in segments)
    truth_path = tmp_path / "pty.truth.csv"
    sim = SimPty("--fast", "--seconds", SECONDS, "--activity", "mixed", "--seed", SEED, "--truth", truth_path)
    out = tmp_path / "session"
    record = subprocess.Popen([CSI_EDGE, "capture", "record", "--source", f"serial:{sim.path}", "--out", str(out),
                               "--protocol", protocol, "--tag", "day=1", "--tag", "person=sim"],
                              stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        sim_log = sim.wait()  # the simulator drains the pty (the recorder read everything) and exits
        record.send_signal(signal.SIGTERM)  # a clean stop
        assert record.wait(timeout=60) == 0, record.stderr.read()
    finally:
        if record.poll() is None:
            record.kill()
            record.wait()
        record.stderr.close()
        sim.stop()
    assert "too slow" not in sim_log, sim_log
    sess = load_session(out)
    truth_seq = np.array([int(r["seq"]) for r in ref_truth])
    truth_activity = np.array([r["activity"] for r in ref_truth])
    seq = sess.frames.meta["seq"]
    # the pty may drop its last unread bytes when the simulator closes it: compare what arrived,
    # which must be a gap-free prefix of the simulation reaching past the last label change
    n = len(seq)
    last_change = sum(n_packets for _, n_packets in segments[:-1])
    assert last_change < n <= len(truth_seq), f"recorded {n} of {len(truth_seq)} packets"
    assert np.array_equal(seq, truth_seq[:n])
    assert np.array_equal(sess.labels, truth_activity[:n])
    boundaries = [e["packet"] for e in sess.events if e["event"] == "label"]
    assert boundaries == list(np.cumsum([0] + [n for _, n in segments[:-1]]))
    assert truth_path.read_text() == (tmp_path / "ref.bin.truth.csv").read_text()
    info = json.loads(run_cli("capture", "info", out, "--json").stdout)
    expected: dict[str, int] = {}
    for activity in truth_activity[:n]:
        expected[activity] = expected.get(activity, 0) + 1
    assert info["labels"] == expected
    assert info["tags"] == {"day": "1", "person": "sim"} and info["recovered"] is False
    assert run_cli("capture", "verify", out).returncode == 0
