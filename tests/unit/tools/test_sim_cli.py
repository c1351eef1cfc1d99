"""`csi-edge sim` to a file or stdout: decoded with zero errors, ground truth aligned by seq."""

from __future__ import annotations

import csv
import subprocess
import sys

import numpy as np
import pytest

from csi_edge.cli import main
from csi_edge.decoder import decode_bytes
from csi_edge.tools.sim import ACTIVITIES, simulate


def read_truth(path) -> list[dict]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


@pytest.mark.parametrize("fmt", ["v1", "esp-csi"])
def test_sim_file_decodes_with_zero_errors_and_exact_truth_alignment(tmp_path, fmt):
    out = tmp_path / f"rec.{fmt}"
    assert main(["sim", "--seconds", "12", "--day", "2", "--activity", "mixed", "--seed", "7", "--format", fmt, "--out", str(out)]) == 0
    decoded, decoder = decode_bytes(out.read_bytes())
    assert dict(decoder.errors) == {}
    rows = read_truth(f"{out}.truth.csv")
    assert list(rows[0]) == ["seq", "activity", "x", "y", "z"]
    seq = decoded.frames.meta["seq"]
    assert len(rows) == len(seq) > 1150
    assert [int(r["seq"]) for r in rows] == seq.tolist()
    assert {r["activity"] for r in rows} <= set(ACTIVITIES)
    ref = simulate(12, day=2, activity="mixed", seed=7)
    assert np.array_equal(decoded.frames.csi[:, :128], ref.csi)
    assert np.allclose([float(r["x"]) for r in rows], ref.truth["x"], atol=1e-3, equal_nan=True)
    assert [r["activity"] for r in rows] == [ACTIVITIES[c] for c in ref.truth["activity"]]
    if fmt == "v1":
        assert len(decoded.hellos) == 1 and len(decoded.stats) == 12


def test_sim_file_is_deterministic(tmp_path):
    args = ["sim", "--seconds", "3", "--activity", "lying", "--seed", "5", "--secondary", "none", "--first-word-invalid"]
    assert main([*args, "--out", str(tmp_path / "a.bin")]) == 0
    assert main([*args, "--out", str(tmp_path / "b.bin")]) == 0
    assert (tmp_path / "a.bin").read_bytes() == (tmp_path / "b.bin").read_bytes()
    assert (tmp_path / "a.bin.truth.csv").read_text() == (tmp_path / "b.bin.truth.csv").read_text()


def test_sim_to_stdout_through_the_real_entry_point():
    proc = subprocess.run([sys.executable, "-m", "csi_edge.cli", "sim", "--seconds", "2", "--activity", "empty", "--out", "-"],
                          capture_output=True, timeout=120)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    decoded, decoder = decode_bytes(proc.stdout)
    assert dict(decoder.errors) == {}
    assert len(decoded.frames) == len(simulate(2, activity="empty"))


@pytest.mark.parametrize(
    "argv, message",
    [
        (["sim", "--seconds", "1"], "exactly one of --out PATH or --pty"),
        (["sim", "--seconds", "0", "--out", "x"], "--seconds must be > 0"),
        (["sim", "--channel", "15", "--out", "x"], "--channel must be 1..14"),
        (["sim", "--fast", "--out", "x"], "--fast applies to --pty"),
    ],
)
def test_usage_errors_exit_2_with_one_line(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_unwritable_output_is_a_one_line_runtime_error(tmp_path, capsys):
    assert main(["sim", "--seconds", "1", "--out", str(tmp_path / "missing" / "rec.bin")]) == 1
    err = capsys.readouterr().err
    assert "rec.bin: cannot write" in err and err.count("\n") == 1


def test_help_documents_the_options(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["sim", "--help"])
    assert exc.value.code == 0
    text = capsys.readouterr().out
    for option in ("--seconds", "--day", "--activity", "--seed", "--format", "--out", "--pty", "--fast", "--truth"):
        assert option in text


def test_segment_seconds_option(tmp_path, capsys):
    out = tmp_path / "seg.bin"
    assert main(["sim", "--seconds", "30", "--segment-seconds", "10", "--seed", "2", "--out", str(out)]) == 0
    acts = [r["activity"] for r in read_truth(f"{out}.truth.csv")]
    assert len(set(acts)) >= 3
    assert main(["sim", "--seconds", "5", "--segment-seconds", "9,3", "--out", str(out)]) == 2
    assert "--segment-seconds" in capsys.readouterr().err
