"""The daemon's Link: a source and its pipeline; a real-time replay paced by the one decode."""

from __future__ import annotations

import numpy as np
import pytest

from csi_edge import protocol as p
from csi_edge.config import load_config
from csi_edge.daemon_link import Link
from csi_edge.model.runtime import LoadedModel
from csi_edge.source.replay import ReplaySource

pytest.importorskip("onnx")
from csi_edge.tools.bench.tiny_model import build_tiny_model  # noqa: E402


def recording(n: int) -> bytes:
    return b"".join(p.encode_csi(bytes(128), seq=1000 + i, timestamp_us=i * 10_000, secondary_channel=2) for i in range(n))


class PaceLog(ReplaySource):
    """A real replay that also keeps what its reader paced it with (to check who decoded)."""

    def __init__(self, target: str) -> None:
        super().__init__(target, realtime=True, rate_hz=100.0)
        self.paced_seqs: list[int] = []

    def pace(self, meta: np.ndarray) -> float | None:
        self.paced_seqs += meta["seq"].tolist()
        return super().pace(meta)


def test_realtime_replay_is_paced_from_the_pipelines_own_decode(tmp_path):
    (tmp_path / "r.bin").write_bytes(recording(60))
    model = LoadedModel.load(build_tiny_model(tmp_path / "m", window=20, hop=5), warmup=0)
    link = Link("replay:unused", load_config(None), model, "n")
    link.source = source = PaceLog(str(tmp_path / "r.bin"))
    results = []
    for _ in range(1000):  # bounded: the replay ends
        results += link.step(0.01)
        if link.ended:
            break
    assert link.ended
    assert source.paced_seqs == list(range(1000, 1060))  # every packet paced once, in order, from one decode
    assert link.pipeline.decoder.frames_decoded == 60  # and the source decoded nothing itself
    assert [r.packet_seq for r in results] == list(range(1019, 1060, 5))
    assert all(r.arrival > 0 for r in results)
    assert link.health()["source"]["name"].startswith("replay:")
