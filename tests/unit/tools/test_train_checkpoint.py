"""Checkpoints load weights-only: a crafted `.pt` that would run code is refused, and nothing runs."""

from __future__ import annotations

import pickle

import pytest

torch = pytest.importorskip("torch")

from csi_edge.cli import main  # noqa: E402
from csi_edge.errors import DataError  # noqa: E402
from csi_edge.tools.train.checkpoint import read_checkpoint, save_checkpoint  # noqa: E402


class _Payload:
    """Unpickling this calls open(marker, "w"): code running at load time."""

    def __init__(self, marker) -> None:
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def _malicious(path, marker) -> None:
    state = {"format": "csi-edge/checkpoint/2", "last": {"w": torch.zeros(2)}, "meta_json": "{}", "x": _Payload(marker)}
    torch.save(state, path)
    with pytest.raises(pickle.UnpicklingError):  # the guard is what stops it, not a broken file
        torch.load(path, weights_only=True)


@pytest.mark.parametrize("command", [["export", "{pt}", "--out", "{out}"], ["train", "--data", "amplitudes:{npz}", "--out", "{out}", "--resume", "{pt}"]])
def test_a_malicious_checkpoint_is_refused_and_nothing_runs(tmp_path, capsys, command):
    import numpy as np

    pt, marker = tmp_path / "evil.pt", tmp_path / "pwned"
    _malicious(pt, marker)
    npz = tmp_path / "d.npz"
    np.savez(npz, amplitude=np.ones((200, 52), np.float32), label=np.array(["empty", "walking"] * 100))
    argv = [a.format(pt=pt, out=tmp_path / "m", npz=npz) for a in command]
    argv += ["--window", "32", "--epochs", "1", "--no-progress"] if argv[0] == "train" else []
    assert main(argv) == 1
    err = [line for line in capsys.readouterr().err.splitlines() if not line.startswith("warning:")]
    assert len(err) == 1 and "evil.pt: refused" in err[0] and "weights-only" in err[0]
    assert not marker.exists()


def test_round_trip_keeps_tensors_and_json_metadata(tmp_path):
    path = tmp_path / "ok.pt"
    save_checkpoint(path, {"last": {"w": torch.arange(3.0)}, "best": None, "torch_rng": torch.get_rng_state(), "reducer": None},
                    {"epoch": 4, "history": [{"epoch": 1, "val_loss": 0.5}], "numpy_rng": {"state": {"state": 2**100}}})
    state, meta = read_checkpoint(path)
    assert torch.equal(state["last"]["w"], torch.arange(3.0)) and meta["epoch"] == 4
    assert meta["numpy_rng"]["state"]["state"] == 2**100


def test_foreign_or_old_checkpoints_get_one_line(tmp_path):
    old = tmp_path / "old.pt"
    torch.save({"last": {"w": torch.zeros(1)}}, old)
    with pytest.raises(DataError, match="not a csi-edge/checkpoint/2 checkpoint"):
        read_checkpoint(old)
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"not a zip")
    with pytest.raises(DataError, match="junk.pt: not a readable training checkpoint"):
        read_checkpoint(junk)
