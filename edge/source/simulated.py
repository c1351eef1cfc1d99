"""The simulated boards as a source (`--source sim`): bytes from `csi_edge.tools.sim.stream`.

The simulator yields `(bytes, truth)` chunks (truth: per-packet ground truth, see
`csi_edge.tools.sim`); this source hands the bytes to the daemon like a serial port would and
keeps the latest truth in `self.truth` so a demo can print it beside the model's output.
"""

from __future__ import annotations

from csi_edge.errors import CsiEdgeError
from csi_edge.source.base import Source, SourceClosed


class SimSource(Source):
    def __init__(self, target: str = "", day: int = 1, activity: str = "mixed", seed: int = 0,
                 format: str = "v1", realtime: bool = True, seconds: float | None = None, **_options) -> None:  # noqa: A002
        self.name = "sim"
        try:
            from csi_edge.tools import sim
        except ImportError as exc:  # pragma: no cover - the simulator ships with the package
            raise CsiEdgeError(f"source sim: the simulator is not available ({exc})") from None
        if not hasattr(sim, "stream"):
            raise CsiEdgeError("source sim: this build's simulator has no stream() API yet")
        self._chunks = iter(sim.stream(day=day, activity=activity, seed=seed, fmt=format, realtime=realtime, seconds=seconds))
        self.truth = None

    def read(self, timeout: float) -> bytes:
        try:
            data, truth = next(self._chunks)
        except StopIteration:
            raise SourceClosed(self.name) from None
        self.truth = truth
        return data

    def close(self) -> None:
        close = getattr(self._chunks, "close", None)
        if close is not None:
            close()
