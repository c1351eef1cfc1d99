"""The simulator as a source (`--source sim`): registered by name, configured by [sim]."""

from __future__ import annotations

import pytest

from csi_edge import protocol as p
from csi_edge.config import load_config
from csi_edge.source import SourceClosed, open_source
from csi_edge.tools.sim.source import SimSource


def test_sim_source_yields_protocol_bytes_and_truth():
    cfg = load_config(None, {"sim.realtime": False, "sim.activity": "walking"})
    src = open_source("sim", cfg, seconds=1.0)
    assert isinstance(src, SimSource)
    data = src.read(1.0)
    assert data.startswith(p.SYNC) and len(src.truth) > 0
    with pytest.raises(SourceClosed):
        for _ in range(100):
            src.read(1.0)
    src.close()
