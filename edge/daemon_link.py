"""One link as the daemon runs it: a source and the pipeline that reads it, with its health.

A link is one TX -> RX pair seen through one source (a receiver on a serial port, a replayed
recording, the simulator). `Link` owns the source and its `Pipeline` (decoder, link monitor,
window ring, model and smoothing state). The daemon holds a list of links (one today; several
receivers per daemon later) and drives each with `step`:

    read (bounded wait; short while the pipeline holds bytes) -> pipeline.feed -> pace
    (a real-time replay waits until its newest decoded packet is due) -> results

`step` returns [] and marks the link `ended` when the source has ended for good (after
flushing the pipeline: those last results are returned by that call). A daemon with several
links reads each source on its own thread (csi_edge.daemon_links) and hands the chunks to
`feed`, and the end of a source to `end`; `name` (set only then) goes into each result, which
is published on the link's own state topic.
"""

from __future__ import annotations

import dataclasses
import time

from csi_edge.calibration.controller import LinkCalibration
from csi_edge.config import Config
from csi_edge.model.runtime import LoadedModel
from csi_edge.pipeline import Pipeline
from csi_edge.results import WindowResult
from csi_edge.source import Source, SourceClosed, open_source

HOLDING_READ_S = 0.02  # read timeout while the pipeline holds bytes for a batched decode


class Link:
    def __init__(self, spec: str, cfg: Config, model: LoadedModel, node: str, seconds: float | None = None,
                 name: str | None = None, pipeline: type[Pipeline] = Pipeline, stamp: bool = True) -> None:  # fmt: skip
        self.spec = spec
        self.cfg = cfg
        self.seconds = seconds
        self.name = name  # the link's name (None: the daemon's only link)
        self.stamp = stamp and name is not None  # its results carry its name (published on its own topic)
        self.pipeline = pipeline(cfg, model, node)
        self.source: Source | None = None
        self.ended = False

    def open(self) -> None:
        self.source = open_source(self.spec, self.cfg, self.seconds)

    def step(self, timeout: float) -> list[WindowResult]:
        """Read what the source has within `timeout` and process it."""
        source, pipeline = self.source, self.pipeline
        assert source is not None, "Link.open() first"
        try:
            chunk = source.read(min(timeout, HOLDING_READ_S) if pipeline.holding else timeout)
        except SourceClosed:
            return self.end(time.monotonic())
        return self.feed(chunk, time.monotonic())

    def feed(self, chunk: bytes, arrival: float) -> list[WindowResult]:
        """Process bytes read at host monotonic time `arrival`."""
        return self._named(self._paced(self.pipeline.feed(chunk, arrival)))

    def end(self, arrival: float) -> list[WindowResult]:
        """The source ended for good: flush the pipeline."""
        self.ended = True
        return self._named(self._paced(self.pipeline.finish(arrival)))

    def _named(self, results: list[WindowResult]) -> list[WindowResult]:
        return results if not self.stamp or not results else [dataclasses.replace(r, link=self.name) for r in results]

    def _paced(self, results: list[WindowResult]) -> list[WindowResult]:
        """Let the source pace by what was decoded; a replayed packet 'arrives' when it is due."""
        assert self.source is not None
        if not len(self.pipeline.decoded_meta):
            return results
        due = self.source.pace(self.pipeline.decoded_meta)
        if due is None:
            return results
        return [r if r.arrival >= due else dataclasses.replace(r, arrival=due) for r in results]

    @property
    def calibration(self) -> LinkCalibration:
        """This link's baseline, drift monitor and recalibration (csi_edge.calibration)."""
        assert self.pipeline.calibration is not None
        return self.pipeline.calibration

    def set_model(self, model: LoadedModel) -> None:
        self.pipeline.set_model(model)

    def health(self) -> dict:
        """This link's health fields (docs/data-fields.md): source state and pipeline figures."""
        return {"source": self.source.status() if self.source else {}, **self.pipeline.snapshot()}

    def close(self) -> None:
        if self.source is not None:
            self.source.close()
