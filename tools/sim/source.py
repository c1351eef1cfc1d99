"""The simulated boards as a source (`--source sim`): the bytes of `csi_edge.tools.sim.stream`.

The simulator yields `(bytes, truth)` chunks (truth: per-packet ground truth, see
`csi_edge.tools.sim`); this source hands the bytes to the reader like a serial port would and
keeps the latest truth in `self.truth` so a demo can print it beside the model's output.
Configured by the [sim] section (`sim:N` picks receiver N, overriding `[sim] link`: several
`sim:N` sources in one daemon are the receivers of one simulated room); registered in `csi_edge.source.base.SOURCES` (the core
imports it only by name).
"""

from __future__ import annotations

from csi_edge.config import Config
from csi_edge.errors import UsageError
from csi_edge.source.base import Source, SourceClosed
from csi_edge.tools.sim.room import RX_POSITIONS
from csi_edge.tools.sim.streaming import stream


def link_of(target: str, default: int) -> int:
    """`sim` -> `default` ([sim] link); `sim:N` -> N."""
    if not target:
        return default
    if not target.isdigit() or int(target) >= len(RX_POSITIONS):
        raise UsageError(f"source sim:{target}: expected sim:N with N 0..{len(RX_POSITIONS) - 1} (the receiver position)")
    return int(target)


class SimSource(Source):
    kind = "sim"
    example = "sim:1"

    def __init__(self, day: int = 1, activity: str = "mixed", seed: int = 0, fmt: str = "v1",
                 realtime: bool = True, seconds: float | None = None, link: int = 0) -> None:
        self.name = "sim" if link == 0 else f"sim:{link}"
        self._chunks = stream(day=day, activity=activity, seed=seed, fmt=fmt, realtime=realtime, seconds=seconds, link=link)
        self.truth = None

    @classmethod
    def from_config(cls, target: str, cfg: Config, seconds: float | None) -> SimSource:
        sim = cfg.sim
        return cls(sim.day, sim.activity, sim.seed, sim.format, sim.realtime, seconds, link_of(target, sim.link))

    def read(self, timeout: float) -> bytes:
        try:
            data, truth = next(self._chunks)
        except StopIteration:
            raise SourceClosed(self.name) from None
        self.truth = truth
        return data

    def close(self) -> None:
        close = getattr(self._chunks, "close", None)  # a generator: stop the simulator's thread
        if close is not None:
            close()
