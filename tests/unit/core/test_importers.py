"""Importers (capture logs, the 3DO dataset layout) and the `decode` / `import` commands."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from csi_edge import protocol as p
from csi_edge.cli import main
from csi_edge.features import amplitude, amplitude_3do
from csi_edge.frames import FORMAT_3DO, FORMAT_CSI_TOOL, FORMAT_V1, SECONDARY_BELOW
from csi_edge.frames_npz import load_frames
from csi_edge.importers import find_3do, is_3do_csv, load_3do, load_log

REAL = Path(__file__).resolve().parents[3] / ".." / "shared" / "data" / "real"


def write_3do(path: Path, n: int = 50, seed: int = 0, bad_rows: tuple[int, ...] = (), sep: str = ",") -> dict:
    """A synthetic 3DO `csiposreg.csv` (their layout: quoted "[b0,b1,...]" then x,y,z,class)."""
    rng = np.random.default_rng(seed)
    csi = rng.integers(-60, 60, (n, 384)).astype(np.int8)
    xyz = rng.uniform(0, 4, (n, 3)).round(4)
    label = rng.integers(1, 4, n)
    lines = ["data,x,y,z,class"]
    for i in range(n):
        data = "[" + sep.join(map(str, csi[i].tolist())) + "]"
        if i in bad_rows:
            data = data.replace("]", ",oops]")
        lines.append(f'"{data}",{xyz[i, 0]},{xyz[i, 1]},{xyz[i, 2]},{label[i]}')
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    return {"csi": csi, "xyz": xyz, "label": label}


def test_3do_recording_becomes_frames_with_positions_and_labels(tmp_path):
    path = tmp_path / "3DO" / "d1" / "w1" / "csiposreg.csv"
    truth = write_3do(path)
    assert is_3do_csv(path)
    rec = load_3do(path)
    m = rec.frames.meta
    assert len(rec.frames) == 50 and rec.bad_rows == 0
    assert np.array_equal(rec.frames.csi, truth["csi"]) and (m["csi_len"] == 384).all()
    assert np.allclose(np.c_[rec.x_m, rec.y_m, rec.z_m], truth["xyz"]) and np.array_equal(rec.label, truth["label"])
    assert (m["format"] == FORMAT_3DO).all() and (m["secondary_channel"] == SECONDARY_BELOW).all()
    assert m["seq"].tolist() == list(range(50)) and m["timestamp_us"][:3].tolist() == [0, 10_000, 20_000]
    # the 3DO compatibility feature reproduces their loader: |complex(buf[2k], buf[2k-1])|
    a3, _ = amplitude_3do(rec.frames)
    buf = truth["csi"][7].astype(float)
    assert a3[7, 0] == pytest.approx(abs(complex(buf[12], buf[11])))
    assert amplitude(rec.frames)[0].shape == (50, 52)


def test_3do_bad_rows_are_skipped_and_counted(tmp_path):
    path = tmp_path / "csiposreg.csv"
    truth = write_3do(path, n=10, bad_rows=(3,), sep=" ")
    rec = load_3do(path)
    assert len(rec.frames) == 9 and rec.bad_rows == 1
    assert np.array_equal(rec.frames.csi, np.delete(truth["csi"], 3, axis=0))


def test_find_3do_walks_days_and_sequences(tmp_path):
    for day, seq in [(1, "w1"), (1, "s1"), (2, "l1")]:
        write_3do(tmp_path / f"d{day}" / seq / "csiposreg.csv", n=3)
    assert [(d, s) for d, s, _ in find_3do(tmp_path)] == [(1, "s1"), (1, "w1"), (2, "l1")]


def test_not_a_3do_file_is_one_clear_error(tmp_path):
    from csi_edge.errors import DataError

    path = tmp_path / "x.csv"
    path.write_text("a,b\n1,2\n")
    with pytest.raises(DataError, match="missing column data"):
        load_3do(path)


def test_load_log_reads_binary_in_chunks(tmp_path):
    frames = b"".join(p.encode_csi(bytes([i % 256]) * 128, seq=i, secondary_channel=2) for i in range(7000))
    path = tmp_path / "cap.bin"
    path.write_bytes(b"boot text\n" + frames)
    seen = []
    result = load_log(path, progress=seen.append)
    assert len(result.frames) == 7000 and sum(seen) == path.stat().st_size and len(seen) > 1
    assert result.frames.meta["seq"].tolist() == list(range(7000)) and (result.frames.meta["format"] == FORMAT_V1).all()


def run_cli(argv, capsys) -> tuple[int, dict | None, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, (json.loads(out) if out.strip() else None), err


def test_decode_command_prints_one_json_line_and_writes_npz(tmp_path, capsys):
    cap = tmp_path / "cap.txt"
    row = b'CSI_DATA,5,1a:00:00:00:00:00,-40,11,1,0,1,1,1,0,0,0,1,-95,0,11,2,777,0,44,0,128,0,"[' + b",".join(b"3" for _ in range(128)) + b']"'
    cap.write_bytes(b"I (1) boot\r\n" + row + b"\r\n" + row[:60] + b"\r\n" + row.replace(b",5,", b",6,") + b"\r\n")
    out = tmp_path / "f.npz"
    code, report, err = run_cli(["decode", str(cap), "--out", str(out)], capsys)
    assert code == 0 and err == ""
    assert report["rows"] == 2 and report["errors"] == {"truncated_line": 1} and report["ignored"] == {"text_line": 1}
    assert report["formats"] == {"esp-csi": 2} and report["stats"] == 0 and report["hellos"] == 0
    npz = np.load(out)
    assert npz["seq"].tolist() == [5, 6] and npz["timestamp_us"].tolist() == [777, 777] and npz["rssi"].tolist() == [-40, -40]
    assert npz["csi"].dtype == np.int8 and npz["csi"].shape == (2, 128) and npz["csi_len"].tolist() == [128, 128]
    assert npz["amplitude"].shape == (2, 52) and npz["amplitude"].dtype == np.float32
    assert npz["secondary_channel"].tolist() == [2, 2]
    frames, extra = load_frames(out)
    assert frames.csi.tolist() == [[3] * 128] * 2 and extra == {}


def test_decode_command_missing_file_is_one_line_exit_1(tmp_path, capsys):
    code, report, err = run_cli(["decode", str(tmp_path / "nope.bin")], capsys)
    assert code == 1 and report is None and err.count("\n") == 1 and "nope.bin" in err


def test_import_command_3do_and_log(tmp_path, capsys):
    src = tmp_path / "d1" / "w1" / "csiposreg.csv"
    truth = write_3do(src, n=20)
    out = tmp_path / "3do.npz"
    code, report, _ = run_cli(["import", str(src), "--out", str(out)], capsys)
    assert code == 0 and report["format"] == "3do" and report["rows"] == 20
    frames, extra = load_frames(out)
    assert np.array_equal(frames.csi, truth["csi"]) and np.array_equal(extra["label"], truth["label"])
    assert np.allclose(extra["x_m"], truth["xyz"][:, 0])


@pytest.mark.skipif(not REAL.is_dir(), reason=f"real recordings not found at {REAL}")
def test_decode_command_on_a_real_full_log(capsys):
    path = REAL / "esp32-csi-tool-s3" / "hand_01_full_log.txt"
    code, report, _ = run_cli(["decode", str(path)], capsys)
    assert code == 0 and report["rows"] == 142 and report["errors"] == {} and report["formats"] == {"csi-tool": 142}
    assert load_log(path).frames.meta["format"][0] == FORMAT_CSI_TOOL


def test_bench_decode_smoke(tmp_path, capsys):
    code, report, _ = run_cli(["bench", "decode", "--rows", "300", "--repeat", "1", "--json",
                               "--plot", str(tmp_path / "b.png")], capsys)  # fmt: skip
    assert code == 0 and (tmp_path / "b.png").stat().st_size > 0
    for name in ("v1", "esp-csi-384", "esp-csi-128", "csi-tool"):
        assert report[name]["rows"] == 300 and report[name]["errors"] == {}
    assert report["csiread"]["rows"] == 300 and report["ratio_vs_csiread"] > 0


@pytest.mark.parametrize("command", [["decode"], ["info"], ["import", "--out", "x.npz"]])
def test_an_empty_file_says_no_csi_packets_in_one_line_exit_1(tmp_path, capsys, command):
    empty = tmp_path / "empty.bin"
    empty.write_bytes(b"")
    code = main([command[0], str(empty), *[a if a != "x.npz" else str(tmp_path / a) for a in command[1:]]])
    out, err = capsys.readouterr()
    assert code == 1 and out == "" and err.count("\n") == 1
    assert f"{empty}: no CSI packets in this file (0 bytes)" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty.bin"]  # no NPZ, no temporary left


def test_decode_names_a_directory_as_a_directory(tmp_path, capsys):
    code, report, err = run_cli(["decode", str(tmp_path)], capsys)
    assert code == 1 and report is None and f"{tmp_path}: is a directory" in err and "no such file" not in err


def test_info_names_a_directory_that_is_not_a_session(tmp_path, capsys):
    assert main(["info", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert f"{tmp_path}: a directory without manifest.json, so not a capture session" in err and "no such" not in err


def test_decode_streams_the_file_and_writes_the_npz_as_it_goes(tmp_path, capsys, monkeypatch):
    from csi_edge.frames_npz import FramesWriter
    from csi_edge.importers import CHUNK_BYTES

    n = 3 * CHUNK_BYTES // 172 + 5  # three and a bit chunks of 172-byte frames
    header = np.zeros(n, dtype=p.CSI_HEADER_DTYPE)
    header["seq"], header["csi_len"] = np.arange(n), 128
    header["csi_len"][::7] = 384  # rows of two lengths: the NPZ pads to the longest
    csi = np.random.default_rng(0).integers(-100, 100, (n, 384)).astype(np.int8)
    path = tmp_path / "big.bin"
    path.write_bytes(p.encode_csi_batch(header, csi))
    batches: list[int] = []
    add = FramesWriter.add
    monkeypatch.setattr(FramesWriter, "add", lambda self, frames, extra=None: (batches.append(len(frames)), add(self, frames, extra)))
    out = tmp_path / "big.npz"
    code, report, _ = run_cli(["decode", str(path), "--out", str(out)], capsys)
    assert code == 0 and report["rows"] == n
    assert len(batches) >= 4 and max(batches) <= CHUNK_BYTES // 172 + 1  # never the whole file at once
    frames, _ = load_frames(out)
    assert frames.meta["seq"].tolist() == list(range(n)) and frames.csi.shape == (n, 384)
    assert np.array_equal(frames.csi[::7], csi[::7]) and np.array_equal(frames.csi[1:7, :128], csi[1:7, :128])
    assert not frames.csi[1:7, 128:].any()
    assert sorted(x.name for x in tmp_path.iterdir()) == ["big.bin", "big.npz"]
